// The ballot marking page (ballot_marking.rs): counts the marks in each contest and stops a
// voter from marking more than the contest allows. It reads and changes this page only: it
// makes no request, stores nothing and sends nothing (the page's policy forbids it anyway).
"use strict";
(function () {
  function boxes(contest) {
    return Array.prototype.slice.call(contest.querySelectorAll("input[type=checkbox]"));
  }

  function update(contest) {
    var limit = parseInt(contest.getAttribute("data-vote-for"), 10) || 1;
    var all = boxes(contest);
    var marked = all.filter(function (box) { return box.checked; }).length;
    all.forEach(function (box) { box.disabled = !box.checked && marked >= limit; });
    Array.prototype.forEach.call(contest.querySelectorAll("input.write-in-name"), function (field) {
      var box = document.getElementById(field.getAttribute("data-box"));
      field.disabled = Boolean(box && box.disabled && field.value.trim() === "");
    });
    var status = contest.querySelector(".marked");
    if (status) {
      status.textContent = "Vote for " + limit + ": " + marked + " marked." +
        (marked >= limit ? " To change a choice, unmark one first." : "");
    }
  }

  function writeIn(contest, field) {
    var box = document.getElementById(field.getAttribute("data-box"));
    if (!box) { return; }
    var named = field.value.trim() !== "";
    if (named && !box.checked && !box.disabled) { box.checked = true; }
    if (!named && box.checked) { box.checked = false; }
    update(contest);
  }

  Array.prototype.forEach.call(document.querySelectorAll("fieldset.contest"), function (contest) {
    contest.addEventListener("change", function () { update(contest); });
    Array.prototype.forEach.call(contest.querySelectorAll("input.write-in-name"), function (field) {
      field.addEventListener("input", function () { writeIn(contest, field); });
    });
    update(contest);
  });

  var print = document.getElementById("print-ballot");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();
