//! The admin pages (issue 5) in Debian's headless Chromium, used the way a person would: a
//! second state administrator signs in with a password, is sent to enrol an authenticator,
//! enrols with a code computed from the key the page shows, signs out, signs in again with
//! password and a fresh code, and on the dashboard approves a two-person request that the
//! first administrator made through the API. The API and the ledger then name the browser's
//! user as the approver. The pages have no JavaScript, so the test drives the browser itself
//! over the DevTools protocol: real key input and real mouse clicks on the server's forms.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    collections::VecDeque,
    fs::File,
    io::ErrorKind,
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use base64::Engine;
use canvass_crypto::TotpSecret;
use data_encoding::BASE32_NOPAD;
use serde_json::{Value, json};
use support::{PASSWORD, Served, admin_bearer, init_node, request, run, run_with, stderr};
use tungstenite::{Message, WebSocket};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The second state administrator, who signs in through the browser.
const APPROVER: &str = "approver";
const APPROVER_PASSWORD: &str = "the approver's own long password";
const STATE: &str = "browser-state";
/// How long one step (a page load, a DevTools answer) may take before the test fails.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
const TOTP_STEP_SECONDS: u64 = 30;

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Headless Chromium with a DevTools connection to one page. Dropping it closes the browser,
/// and kills it if it does not go.
struct Chromium {
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
    fn launch() -> Self {
        assert!(
            Path::new(CHROMIUM).exists(),
            "Chromium is missing ({CHROMIUM}): this test needs Debian's chromium package, which scripts/test installs"
        );
        let profile = tempfile::tempdir().unwrap();
        let port_file = profile.path().join("DevToolsActivePort");
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("admin-browser-chromium.log");
        let log_file = File::create(&log).unwrap();
        let child = Command::new(CHROMIUM)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
            .args([
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--window-size=1200,1400",
            ])
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

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(3000);
        text.get(start..).unwrap_or_default().to_owned()
    }

    /// The next message from Chromium, or a clear failure once `deadline` passes.
    fn receive(&mut self, deadline: Instant, waiting_for: &str) -> Value {
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

    /// Sends a DevTools command (to the page's session, or to the browser) and returns its result.
    fn try_call(&mut self, method: &str, params: Value, on_page: bool) -> Result<Value, Value> {
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

    fn call(&mut self, method: &str, params: Value, on_page: bool) -> Value {
        self.try_call(method, params, on_page).unwrap_or_else(|error| panic!("{method} failed: {error}"))
    }

    /// Evaluates a script in the page (DevTools' own evaluation: the page's CSP does not apply).
    fn evaluate(&mut self, expression: &str) -> Value {
        let result = self.call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true }), true);
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("script `{expression}` threw: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Where the page is and what it says, for failure messages.
    fn describe(&mut self) -> String {
        let state = self
            .evaluate("JSON.stringify([location.href, document.body ? document.body.innerText.slice(0, 2000) : ''])");
        state.as_str().unwrap_or_default().to_owned()
    }

    fn path(&mut self) -> String {
        self.evaluate("location.pathname").as_str().unwrap_or_default().to_owned()
    }

    /// The text of the first element matching `selector`; fails naming the page if none does.
    fn text(&mut self, selector: &str) -> String {
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
    fn type_into(&mut self, selector: &str, text: &str) {
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
    fn click(&mut self, selector: &str) {
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
    fn expect_page(&mut self, expected_path: &str, what: &str, action: impl FnOnce(&mut Self)) {
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
                    (event["method"] == "Page.loadEventFired" && event["sessionId"] == json!(self.session))
                        .then_some(event)
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

    fn open(&mut self, url: &str, expected_path: &str) {
        let target = url.to_owned();
        self.expect_page(expected_path, &format!("opening {url}"), move |browser| {
            let navigated = browser.call("Page.navigate", json!({ "url": target }), true);
            if let Some(error) = navigated.get("errorText") {
                panic!("Chromium could not open {target}: {error}");
            }
        });
    }

    /// Clicks a form's button and waits for the page the server answers with.
    fn submit(&mut self, button: &str, expected_path: &str, what: &str) {
        let button = button.to_owned();
        self.expect_page(expected_path, what, move |browser| browser.click(&button));
    }

    /// Saves a picture of the page under the target's test directory, for a person to look at.
    fn screenshot(&mut self, name: &str) {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }), true);
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        std::fs::write(Path::new(env!("CARGO_TARGET_TMPDIR")).join(name), png).unwrap();
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

/// The code an authenticator app would show for `step`.
fn code_for_step(secret: &TotpSecret, step: u64) -> String {
    secret.code_at(step * TOTP_STEP_SECONDS)
}

#[test]
fn a_second_administrator_signs_in_with_password_and_totp_in_chromium_and_approves_a_request() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap().to_owned();
    // `canvass init` made `admin`; `canvass admin set-password` adds a second node-wide
    // state administrator, the bootstrap path that needs no two-person request.
    let added = run_with(
        &["admin", "set-password", "--data", &data_text, "--user", APPROVER],
        "CANVASS_ADMIN_PASSWORD",
        APPROVER_PASSWORD,
    );
    assert!(added.status.success(), "adding the second administrator failed: {}", stderr(&added));
    let state = run(&[
        "jurisdiction",
        "add",
        "--data",
        &data_text,
        "--id",
        STATE,
        "--name",
        "Browser State",
        "--kind",
        "state",
    ]);
    assert!(state.status.success(), "{}", stderr(&state));
    // `init_node` also issued the first administrator an API token (`canvass token add`).
    let bearer = admin_bearer(&data);

    let served = Served::start(&["--data", &data_text], &[]).unwrap();
    let asked = json!({
        "kind": "export_voters", "jurisdiction": STATE, "subject": "",
        "justification": "The list-maintenance vendor needs this month's file"
    });
    let created =
        request(served.admin, "POST", "/api/requests", &[("Authorization", &bearer)], Some(&asked.to_string()));
    assert_eq!(created.status, 201, "the first administrator's request: {}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let base = format!("http://{}", served.admin);

    let mut browser = Chromium::launch();

    // 1. Password only: the role reads PII, so the session may only enrol a second factor.
    browser.open(&format!("{base}/login"), "/login");
    browser.type_into("#username", APPROVER);
    browser.type_into("#password", APPROVER_PASSWORD);
    browser.submit("form[action='/login'] button[type=submit]", "/account", "signing in without a second factor");

    // 2. Enrolment: the key the page shows, typed into an "app" (computed here), its code sent back.
    let key = browser.text("#totp-key");
    let secret = TotpSecret::from_bytes(&BASE32_NOPAD.decode(key.trim().as_bytes()).unwrap()).unwrap();
    let qr = browser.evaluate("document.querySelector('figure.qr svg') !== null");
    assert_eq!(qr, json!(true), "the enrolment page shows no QR code: {}", browser.describe());
    let enrolled_step = unix_seconds() / TOTP_STEP_SECONDS;
    browser.type_into("form[action='/account/second-factor'] #code", &code_for_step(&secret, enrolled_step));
    browser.screenshot("admin-enrolment.png");
    browser.submit("form[action='/account/second-factor'] button[type=submit]", "/", "enrolling the authenticator");
    let dashboard = browser.text("main");
    assert!(dashboard.contains(&format!("Signed in as {APPROVER}")), "dashboard: {dashboard}");

    // 3. Sign out, and in again with password and code. Enrolment used its step; the next
    // code is for the following 30-s step, which the node accepts a step early for drift.
    browser.submit("form[action='/logout'] button[type=submit]", "/login", "signing out");
    let step = (enrolled_step + 1).max(unix_seconds() / TOTP_STEP_SECONDS);
    browser.type_into("#username", APPROVER);
    browser.type_into("#password", APPROVER_PASSWORD);
    browser.type_into("#code", &code_for_step(&secret, step));
    browser.submit("form[action='/login'] button[type=submit]", "/", "signing in with password and code");

    // 4. The dashboard lists the first administrator's request; approve it with the mouse.
    let row = format!("#request-{id}");
    let pending = browser.text(&row);
    assert!(pending.contains("Export the voter file") && pending.contains("admin"), "request row: {pending}");
    assert!(pending.contains("pending"), "request row: {pending}");
    browser.screenshot("admin-dashboard.png");
    browser.submit(&format!("{row} form[action='/approvals/{id}/approve'] button"), "/approvals", "approving");
    let decided = browser.text(&row);
    assert!(decided.contains(&format!("approved by {APPROVER}")), "request row after approval: {decided}");
    browser.screenshot("admin-approved.png");
    drop(browser);

    // 5. The API and the ledger agree: approved, by the browser's user.
    let listed = request(served.admin, "GET", "/api/requests", &[("Authorization", &bearer)], None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let requests = listed.json();
    let approved = requests.as_array().unwrap().iter().find(|request| request["id"] == json!(id)).unwrap();
    assert_eq!(approved["status"], "approved", "{approved}");
    assert_eq!(approved["approver"], APPROVER, "{approved}");
    assert_eq!(approved["requester"], "admin", "{approved}");

    let search = format!("/api/audit?action=request.approve&actor=user:{APPROVER}");
    let ledger = request(served.admin, "GET", &search, &[("Authorization", &bearer)], None);
    assert_eq!(ledger.status, 200, "{}", ledger.body);
    let entries = ledger.json()["entries"].as_array().unwrap().clone();
    let entry = entries
        .iter()
        .find(|entry| entry["targets"].as_array().unwrap().contains(&json!(format!("request:{id}"))))
        .unwrap_or_else(|| panic!("no request.approve entry for {id} under user:{APPROVER}: {entries:?}"));
    assert_eq!(entry["outcome"], "allowed", "{entry}");
    assert_eq!(entry["jurisdiction"], STATE, "{entry}");

    let enrolment = request(
        served.admin,
        "GET",
        &format!("/api/audit?action=auth.second_factor&actor=user:{APPROVER}"),
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(enrolment.json()["entries"].as_array().map(Vec::len), Some(1), "{}", enrolment.body);
    let (_, logged) = served.stop_and_collect();
    assert!(!logged.contains("panicked"), "{logged}");
    assert!(!logged.contains(PASSWORD) && !logged.contains(APPROVER_PASSWORD), "a password reached the log");
}
