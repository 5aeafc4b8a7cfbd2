// Live results: every 30 s (and when a hidden tab is shown again) read the election's pointer,
// ../../current.json from the snapshot's root; when it names a newer snapshot, fetch this same
// page of it, swap the <main> content in place and move the address to it. The pages work
// without this file; it only saves a reload.
(function () {
  "use strict";
  var body = document.body;
  if (!body || !window.fetch || !window.DOMParser || !window.URL || !window.history || !history.replaceState) {
    return;
  }
  // Set by the page: the way up to the snapshot's root and the page's path below it. The
  // snapshot's number is the root's last segment (s/{sequence}/); the page does not carry it, so
  // a page whose numbers did not change is the same bytes in the next snapshot.
  var root = body.getAttribute("data-root") || "";
  var page = body.getAttribute("data-page") || "index.html";
  var numbered = /\/s\/(\d+)\/$/.exec(new URL(root || "./", location.href).pathname);
  if (!numbered) {
    return;
  }
  var sequence = Number(numbered[1]);
  var pointer = root + "../../current.json";
  var busy = false;

  function twoDigits(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function announce() {
    var note = document.getElementById("live-note");
    if (note) {
      var now = new Date();
      note.textContent = "Updated " + twoDigits(now.getHours()) + ":" + twoDigits(now.getMinutes());
    }
  }

  function swap(html, newer, address) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var incoming = fresh.querySelector("main");
    var current = document.querySelector("main");
    if (!incoming || !current) {
      return;
    }
    current.replaceWith(document.adoptNode(incoming));
    if (fresh.title) {
      document.title = fresh.title;
    }
    sequence = newer;
    history.replaceState(null, "", address);
    announce();
  }

  function check() {
    if (busy) {
      return;
    }
    busy = true;
    fetch(pointer, { cache: "no-cache" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (current) {
        if (!current || typeof current.sequence !== "number" || current.sequence <= sequence) {
          return null;
        }
        // Snapshots sit side by side under s/: this page's root is s/{sequence}/.
        var address = root + "../" + current.sequence + "/" + page;
        return fetch(address).then(function (response) {
          if (!response.ok) {
            return null;
          }
          return response.text().then(function (html) {
            swap(html, current.sequence, address);
          });
        });
      })
      .catch(function () {
        // Offline or a half-published snapshot: the page keeps its numbers and tries again.
      })
      .then(function () {
        busy = false;
      });
  }

  window.setInterval(check, 30000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      check();
    }
  });
})();
