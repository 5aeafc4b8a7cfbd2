//! Helpers for tests of the real `canvass` binary: running it, a node with an API token for its
//! first administrator, a served node that is killed on drop, a minimal HTTP/1.0 client (so
//! responses arrive whole, never chunked), and second factors and two-person requests.
// Test helpers: a failed unwrap is a failed test, which is what they are for.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::mpsc,
    time::Duration,
};

pub const PASSWORD: &str = "a sound test password";

/// The binary with no CANVASS_* settings leaking in from the environment.
pub fn canvass() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_canvass"));
    for (name, _) in std::env::vars() {
        if name.starts_with("CANVASS_") {
            command.env_remove(name);
        }
    }
    command.env("CANVASS_LOG", "warn");
    command
}

pub fn run(arguments: &[&str]) -> Output {
    canvass().args(arguments).output().unwrap()
}

/// Runs the binary with one extra environment variable (a password, a database URL).
pub fn run_with(arguments: &[&str], variable: &str, value: &str) -> Output {
    canvass().args(arguments).env(variable, value).output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Checks a refusal: non-zero exit, exactly one line on stderr containing `fragment`, no panic.
pub fn assert_refused(output: &Output, fragment: &str) {
    let error = stderr(output);
    assert!(!output.status.success(), "expected failure, got success: {}", stdout(output));
    assert!(!error.contains("panicked"), "panic: {error}");
    assert_eq!(error.trim().lines().count(), 1, "one clear line, got: {error}");
    assert!(error.contains(fragment), "expected `{fragment}` in: {error}");
}

/// `canvass init` into `directory/data` with the test password, then `canvass token add` for
/// its administrator into `directory/admin-token` (see [`admin_bearer`]); returns the data dir.
pub fn init_node(directory: &Path, extra: &[&str]) -> PathBuf {
    let data = directory.join("data");
    let password_file = directory.join("admin-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let mut arguments =
        vec!["init", "--data", data.to_str().unwrap(), "--admin-password-file", password_file.to_str().unwrap()];
    arguments.extend_from_slice(extra);
    let output = run(&arguments);
    assert!(output.status.success(), "init failed: {}", stderr(&output));
    let token = mint_token(&data, "admin", "state_administrator", None);
    std::fs::write(directory.join("admin-token"), format!("{token}\n")).unwrap();
    data
}

/// An API token from `canvass token add`, which prints only the token on stdout.
pub fn mint_token(data: &Path, user: &str, role: &str, jurisdiction: Option<&str>) -> String {
    let mut arguments =
        vec!["token", "add", "--data", data.to_str().unwrap(), "--user", user, "--role", role, "--label", "tests"];
    if let Some(jurisdiction) = jurisdiction {
        arguments.extend(["--jurisdiction", jurisdiction]);
    }
    let output = run(&arguments);
    assert!(output.status.success(), "token add failed: {}", stderr(&output));
    let token = stdout(&output).trim().to_owned();
    assert!(token.starts_with("canvass.") && !token.contains(char::is_whitespace), "only the token: {token:?}");
    token
}

/// The first administrator's token that [`init_node`] wrote beside the data dir.
pub fn admin_token(data: &Path) -> String {
    let file = data.parent().unwrap().join("admin-token");
    std::fs::read_to_string(file).unwrap().trim().to_owned()
}

/// `Authorization` header value for the first administrator's token.
pub fn admin_bearer(data: &Path) -> String {
    format!("Bearer {}", admin_token(data))
}

/// How the ledger names the actor of requests made with a token: `token:<id>`.
pub fn token_actor(token: &str) -> String {
    let id = token.strip_prefix("canvass.").and_then(|rest| rest.split('.').next()).unwrap();
    format!("token:{id}")
}

/// A running `canvass serve`, killed when dropped.
pub struct Served {
    child: Child,
    /// Everything the server wrote to stderr, read as it comes so the pipe never fills.
    logged: std::sync::Arc<std::sync::Mutex<String>>,
    pub public: SocketAddr,
    pub admin: SocketAddr,
    pub printed: String,
    pub password: Option<String>,
    /// The demo's administrator API token.
    pub token: Option<String>,
}

impl Served {
    /// Starts `canvass serve` with the arguments (listeners on port 0) and waits until it
    /// prints its addresses.
    pub fn start(arguments: &[&str], environment: &[(&str, &str)]) -> Result<Self, String> {
        let mut command = canvass();
        command
            .arg("serve")
            .args(arguments)
            .args(["--public-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in environment {
            command.env(name, value);
        }
        let mut child = command.spawn().map_err(|error| error.to_string())?;
        let logged = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        if let Some(stderr) = child.stderr.take() {
            let sink = logged.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut text = sink.lock().unwrap();
                    text.push_str(&line);
                    text.push('\n');
                }
            });
        }
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut printed = String::new();
        loop {
            match receiver.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    printed.push_str(&line);
                    printed.push('\n');
                    if line.starts_with("Stop with Ctrl-C") {
                        break;
                    }
                }
                Err(_) => {
                    let _killed = child.kill();
                    let _reaped = child.wait();
                    std::thread::sleep(Duration::from_millis(200));
                    let error = logged.lock().unwrap().clone();
                    return Err(format!("serve did not start; printed {printed:?}; stderr: {error}"));
                }
            }
        }
        let address = |label: &str| -> Result<SocketAddr, String> {
            let line =
                printed.lines().find(|line| line.trim_start().starts_with(label)).ok_or(format!("no {label} line"))?;
            let url = line.split_whitespace().find(|word| word.starts_with("http")).ok_or("no URL")?;
            url.split("://")
                .nth(1)
                .unwrap_or_default()
                .trim_end_matches('/')
                .parse()
                .map_err(|_| format!("bad URL {url}"))
        };
        let password = printed
            .lines()
            .find_map(|line| line.split("password ").nth(1))
            .map(|rest| rest.split_whitespace().next().unwrap_or_default().to_owned());
        let token = printed
            .lines()
            .find_map(|line| line.split("API token, shown once: ").nth(1))
            .map(|rest| rest.trim().to_owned());
        Ok(Self {
            public: address("Public site:")?,
            admin: address("Admin:")?,
            printed,
            password,
            token,
            child,
            logged,
        })
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        terminate(&mut self.child)
    }

    /// SIGKILL (`Child::kill` on Unix): a crash, with no chance to flush or clean up.
    pub fn kill(mut self) -> std::process::ExitStatus {
        self.child.kill().unwrap();
        self.child.wait().unwrap()
    }

    /// What the server has logged to stderr so far.
    pub fn logged(&self) -> String {
        self.logged.lock().unwrap().clone()
    }

    /// Stops the server and returns everything it printed (stdout) and logged (stderr).
    pub fn stop_and_collect(mut self) -> (String, String) {
        let status = terminate(&mut self.child);
        assert!(status.success(), "{status:?}");
        // The reader thread sees end-of-file once the process has exited; give it a moment.
        std::thread::sleep(Duration::from_millis(200));
        let logged = self.logged.lock().unwrap().clone();
        (self.printed.clone(), logged)
    }
}

/// SIGTERM, so the server removes its temporary demo dir; SIGKILL if it lingers.
fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let _signalled = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    for _ in 0..200 {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _killed = child.kill();
    child.wait().unwrap()
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            terminate(&mut self.child);
        }
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

/// One HTTP/1.0 request to a loopback address.
pub fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Response {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut text = format!("{method} {path} HTTP/1.0\r\nHost: {address}\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        text.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    text.push_str(body.unwrap_or_default());
    stream.write_all(text.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse(&String::from_utf8_lossy(&raw))
}

pub fn get(address: SocketAddr, path: &str) -> Response {
    request(address, "GET", path, &[], None)
}

/// A form post (`application/x-www-form-urlencoded`), as a browser sends `POST /login`.
pub fn post_form(address: SocketAddr, path: &str, fields: &[(&str, &str)]) -> Response {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let body: Vec<String> =
        fields.iter().map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, NON_ALPHANUMERIC))).collect();
    let body = body.join("&");
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let text = format!(
        "POST {path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(text.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse(&String::from_utf8_lossy(&raw))
}

fn parse(raw: &str) -> Response {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let mut lines = head.lines();
    let status =
        lines.next().and_then(|line| line.split_whitespace().nth(1)).and_then(|code| code.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Response { status, headers, body: body.to_owned() }
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Enrols a TOTP second factor for `username` on a SQLite node, through the same service as
/// the account page, and returns the secret (the test's authenticator app). Enrolment claims
/// the previous time step, so the current code still works once afterwards.
pub fn enrol_second_factor(data: &Path, username: &str) -> canvass_crypto::TotpSecret {
    use canvass_server::{ledger::Audit, staff};
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store: std::sync::Arc<dyn canvass_store::Store> = std::sync::Arc::new(
            canvass_store_sqlite::SqliteStore::open(&data.join("canvass.db"), canvass_store_sqlite::OpenMode::Existing)
                .await
                .unwrap(),
        );
        let pem = std::fs::read_to_string(data.join("node-signing.key")).unwrap();
        let key = staff::totp_key(&canvass_crypto::NodeSigningKey::from_pem(&pem).unwrap()).unwrap();
        let username = canvass_core::credential::Username::parse(username).unwrap();
        let secret = staff::new_second_factor().unwrap();
        let audit = Audit::operator(store.clone());
        // A step boundary between computing the code and checking it can refuse it: try again.
        let mut enrolled = Err(canvass_server::ServerError::Unauthorized);
        for _ in 0..3 {
            let code = secret.code_at(unix_seconds() - 30);
            enrolled = staff::enrol_second_factor(store.as_ref(), &audit, &key, &username, &secret, &code).await;
            if enrolled.is_ok() {
                break;
            }
        }
        enrolled.unwrap();
        store.close().await;
        secret
    })
}

/// The code the authenticator app shows now.
pub fn totp_code(secret: &canvass_crypto::TotpSecret) -> String {
    secret.code_at(unix_seconds())
}

/// A two-person request made with `requester`'s token and approved with `approver`'s (each a
/// full `Bearer ...` header value); returns its id.
pub fn approved_request(served: &Served, requester: &str, approver: &str, kind: &str, jurisdiction: &str) -> String {
    let asked =
        serde_json::json!({ "kind": kind, "jurisdiction": jurisdiction, "justification": "scheduled by the test" });
    let made =
        request(served.admin, "POST", "/api/requests", &[("Authorization", requester)], Some(&asked.to_string()));
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.json()["id"].as_str().unwrap().to_owned();
    let approved =
        request(served.admin, "POST", &format!("/api/requests/{id}/approve"), &[("Authorization", approver)], None);
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.json()["status"], "approved");
    id
}

pub fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
