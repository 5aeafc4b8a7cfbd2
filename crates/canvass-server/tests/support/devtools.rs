//! Headless Chromium driven over the DevTools protocol (a websocket, through tungstenite): the
//! browser tests of both crates share it. canvass-server's tests mount it as
//! `#[path = "support/devtools.rs"] mod devtools;`, canvass-cli's as
//! `#[path = "../../canvass-server/tests/support/devtools.rs"] mod devtools;`; each needs the
//! dev-dependencies tungstenite, serde_json, base64 and tempfile.
// Test code: a failed unwrap is a failed test. Each crate uses part of it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::VecDeque,
    fs::File,
    io::ErrorKind,
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use base64::Engine;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

pub const CHROMIUM: &str = "/usr/bin/chromium";
/// How long one step (a page load, a DevTools answer) may take before the test fails.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Headless Chromium with a DevTools connection to one page. Dropping it closes the browser,
/// and kills it if it does not go.
pub struct Chromium {
    child: Child,
    socket: Option<WebSocket<TcpStream>>,
    /// The page's DevTools session.
    session: String,
    next_id: u64,
    /// Events that arrived while waiting for a command's answer.
    events: VecDeque<Value>,
    log: PathBuf,
    // Dropped after the browser is gone (fields drop in order, after `Drop::drop`).
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Starts Chromium with a window of `width` x `height` (a phone is 390 x 844), logging to
    /// `{name}-chromium.log` under the target's test directory.
    pub fn launch(name: &str, width: u32, height: u32) -> Self {
        assert!(
            Path::new(CHROMIUM).exists(),
            "Chromium is missing ({CHROMIUM}): this test needs Debian's chromium package, which scripts/test installs"
        );
        let profile = tempfile::tempdir().unwrap();
        let port_file = profile.path().join("DevToolsActivePort");
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-chromium.log"));
        let log_file = File::create(&log).unwrap();
        let child = Command::new(CHROMIUM)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
            .args(["--disable-component-update", "--disable-sync", "--remote-debugging-port=0"])
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {CHROMIUM}: {error}"));
        let mut browser = Self {
            child,
            socket: None,
            session: String::new(),
            next_id: 1,
            events: VecDeque::new(),
            log,
            _profile: profile,
        };
        // Chromium writes the port it picked, and the browser endpoint's path, into the profile.
        let deadline = Instant::now() + STEP_TIMEOUT;
        let (port, path) = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next().and_then(|port| port.parse::<u16>().ok()), lines.next())
                {
                    break (port, path.to_owned());
                }
            }
            if let Ok(Some(status)) = browser.child.try_wait() {
                panic!("Chromium exited ({status}) before opening its DevTools port; its log: {}", browser.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "Chromium did not open its DevTools port within {STEP_TIMEOUT:?}; its log: {}",
                browser.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (socket, _) = tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), stream)
            .unwrap_or_else(|error| panic!("DevTools websocket handshake failed: {error}"));
        // Reads wake up regularly so every wait can keep to its deadline.
        socket.get_ref().set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        browser.socket = Some(socket);
        let target = browser.call("Target.createTarget", json!({ "url": "about:blank" }), false);
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = browser.call("Target.attachToTarget", json!({ "targetId": target_id, "flatten": true }), false);
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.call("Page.enable", json!({}), true);
        browser
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(3000);
        text.get(start..).unwrap_or_default().to_owned()
    }

    /// The next message from Chromium, or a clear failure once `deadline` passes.
    pub fn receive(&mut self, deadline: Instant, waiting_for: &str) -> Value {
        loop {
            assert!(
                Instant::now() < deadline,
                "timed out after {STEP_TIMEOUT:?} waiting for {waiting_for}; Chromium's log: {}",
                self.log_tail()
            );
            let socket = self.socket.as_mut().expect("connected");
            match socket.read() {
                Ok(Message::Text(text)) => return serde_json::from_str(text.as_str()).unwrap(),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(error))
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    continue;
                }
                Err(error) => panic!("the DevTools connection failed waiting for {waiting_for}: {error}"),
            }
        }
    }

    /// The next message before `deadline`, or `None` once it has passed.
    pub fn receive_until(&mut self, deadline: Instant) -> Option<Value> {
        let socket = self.socket.as_mut().expect("connected");
        while Instant::now() < deadline {
            match socket.read() {
                Ok(Message::Text(text)) => return Some(serde_json::from_str(text.as_str()).unwrap()),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(error))
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    continue;
                }
                Err(error) => panic!("the DevTools connection failed: {error}"),
            }
        }
        None
    }

    /// Takes the events named `method` that arrived while waiting for answers.
    pub fn drain_events(&mut self, method: &str) -> Vec<Value> {
        let (taken, kept): (VecDeque<Value>, VecDeque<Value>) =
            self.events.drain(..).partition(|event| event["method"] == method);
        self.events = kept;
        taken.into()
    }

    /// Sends a DevTools command (to the page's session, or to the browser) and returns its result.
    pub fn try_call(&mut self, method: &str, params: Value, on_page: bool) -> Result<Value, Value> {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if on_page {
            message["sessionId"] = json!(self.session);
        }
        let socket = self.socket.as_mut().expect("connected");
        socket
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|error| panic!("cannot send {method} to Chromium: {error}"));
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let reply = self.receive(deadline, &format!("Chromium's answer to {method}"));
            if reply["id"] == json!(id) {
                return match reply.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(reply["result"].clone()),
                };
            }
            if reply.get("method").is_some() {
                self.events.push_back(reply);
            }
        }
    }

    pub fn call(&mut self, method: &str, params: Value, on_page: bool) -> Value {
        self.try_call(method, params, on_page).unwrap_or_else(|error| panic!("{method} failed: {error}"))
    }

    /// Evaluates a script in the page (DevTools' own evaluation: the page's CSP does not apply).
    pub fn evaluate(&mut self, expression: &str) -> Value {
        let result = self.call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true }), true);
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("script `{expression}` threw: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Where the page is and what it says, for failure messages.
    pub fn describe(&mut self) -> String {
        let state = self
            .evaluate("JSON.stringify([location.href, document.body ? document.body.innerText.slice(0, 2000) : ''])");
        state.as_str().unwrap_or_default().to_owned()
    }

    pub fn path(&mut self) -> String {
        self.evaluate("location.pathname").as_str().unwrap_or_default().to_owned()
    }

    /// The text of the first element matching `selector`; fails naming the page if none does.
    pub fn text(&mut self, selector: &str) -> String {
        let quoted = json!(selector);
        let text = self.evaluate(&format!(
            "(() => {{ const e = document.querySelector({quoted}); return e ? e.textContent : null; }})()"
        ));
        match text.as_str() {
            Some(text) => text.to_owned(),
            None => panic!("no element `{selector}` on the page: {}", self.describe()),
        }
    }

    /// Focuses a field and types into it, as keyboard input.
    pub fn type_into(&mut self, selector: &str, text: &str) {
        let quoted = json!(selector);
        let focused = self.evaluate(&format!(
            "(() => {{ const e = document.querySelector({quoted}); if (!e) return false; e.focus(); e.value = ''; return document.activeElement === e; }})()"
        ));
        if focused != json!(true) {
            panic!("no field `{selector}` to type into: {}", self.describe());
        }
        self.call("Input.insertText", json!({ "text": text }), true);
        let value = self.evaluate(&format!("document.querySelector({quoted}).value"));
        assert_eq!(value, json!(text), "typing into `{selector}` did not take");
    }

    /// A left click in the middle of the element, with the mouse.
    pub fn click(&mut self, selector: &str) {
        let quoted = json!(selector);
        let point = self.evaluate(&format!(
            "(() => {{ const e = document.querySelector({quoted}); if (!e) return null; e.scrollIntoView({{ block: 'center' }}); \
             const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; }})()"
        ));
        let (Some(x), Some(y)) = (point[0].as_f64(), point[1].as_f64()) else {
            panic!("nothing to click at `{selector}`: {}", self.describe());
        };
        for (kind, button) in [("mouseMoved", "none"), ("mousePressed", "left"), ("mouseReleased", "left")] {
            let event = json!({ "type": kind, "x": x, "y": y, "button": button, "clickCount": 1 });
            self.call("Input.dispatchMouseEvent", event, true);
        }
    }

    /// Runs `action` (a navigation or a click) and waits until a new document has loaded;
    /// fails at once if it is not at `expected_path`, and after the timeout if none loads.
    pub fn expect_page(&mut self, expected_path: &str, what: &str, action: impl FnOnce(&mut Self)) {
        // The old document carries a mark; a load event counts only once the mark is gone,
        // so a late event from the page before cannot be mistaken for the new one.
        self.evaluate("window.__canvassTestOldDocument = true");
        self.events.clear();
        action(self);
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let position = self.events.iter().position(|event| {
                event["method"] == "Page.loadEventFired" && event["sessionId"] == json!(self.session)
            });
            let loaded = match position {
                Some(position) => self.events.remove(position),
                None => {
                    let event = self.receive(deadline, &format!("the page after {what}"));
                    if event["method"] == "Page.loadEventFired" && event["sessionId"] == json!(self.session) {
                        Some(event)
                    } else {
                        // Kept for `problems`: what the new page logs while it loads.
                        self.events.push_back(event);
                        None
                    }
                }
            };
            if loaded.is_none() {
                continue;
            }
            let fresh = self.try_call(
                "Runtime.evaluate",
                json!({ "expression": "window.__canvassTestOldDocument === undefined && document.readyState === 'complete'", "returnByValue": true }),
                true,
            );
            if fresh.is_ok_and(|result| result["result"]["value"] == json!(true)) {
                break;
            }
        }
        let path = self.path();
        if path != expected_path {
            panic!("after {what} the browser should be at {expected_path}, but it shows: {}", self.describe());
        }
    }

    pub fn open(&mut self, url: &str, expected_path: &str) {
        let target = url.to_owned();
        self.expect_page(expected_path, &format!("opening {url}"), move |browser| {
            let navigated = browser.call("Page.navigate", json!({ "url": target }), true);
            if let Some(error) = navigated.get("errorText") {
                panic!("Chromium could not open {target}: {error}");
            }
        });
    }

    /// Clicks a form's button and waits for the page the server answers with.
    pub fn submit(&mut self, button: &str, expected_path: &str, what: &str) {
        let button = button.to_owned();
        self.expect_page(expected_path, what, move |browser| browser.click(&button));
    }

    /// Saves a picture of the page under the target's test directory, for a person to look at,
    /// and returns where.
    pub fn screenshot(&mut self, name: &str) -> PathBuf {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }), true);
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Evaluates a script whose value is a promise and returns what it resolves to.
    pub fn evaluate_async(&mut self, expression: &str) -> Value {
        let params = json!({ "expression": expression, "returnByValue": true, "awaitPromise": true });
        let result = self.call("Runtime.evaluate", params, true);
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("script threw or its promise was rejected: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Turns on the page's log (console errors, CSP violations, failed loads) and uncaught
    /// exceptions, which then arrive as events for [`Self::problems`].
    pub fn watch_problems(&mut self) {
        self.call("Log.enable", json!({}), true);
        self.call("Runtime.enable", json!({}), true);
    }

    /// The errors and warnings the page logged since the last call (after [`Self::watch_problems`]).
    pub fn problems(&mut self) -> Vec<String> {
        // A round trip first, so events sent before it have arrived.
        self.evaluate("0");
        let session = json!(self.session);
        let mut problems = Vec::new();
        for event in self.events.drain(..) {
            if event["sessionId"] != session {
                continue;
            }
            match event["method"].as_str() {
                Some("Log.entryAdded")
                    if matches!(event["params"]["entry"]["level"].as_str(), Some("error" | "warning")) =>
                {
                    problems.push(event["params"]["entry"]["text"].as_str().unwrap_or_default().to_owned());
                }
                Some("Runtime.exceptionThrown") => problems.push(event["params"]["exceptionDetails"].to_string()),
                _ => {}
            }
        }
        problems
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let close = json!({ "id": 0, "method": "Browser.close", "params": {} });
            let _sent = socket.send(Message::text(close.to_string()));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _killed = self.child.kill();
        let _reaped = self.child.wait();
    }
}
