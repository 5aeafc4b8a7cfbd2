//! A small real SMTP server for tests: it listens on 127.0.0.1, speaks enough of RFC 5321 for
//! a client with security `none`, and keeps every message it accepts so a test can look at it.
//!
//! Standard library only, on plain threads, so both async and blocking tests can use it and
//! other crates' tests can include it by path:
//! `#[path = "../../canvass-server/tests/support/smtp.rs"] mod smtp;`
// Test helper: a failed unwrap is a failed test, and not every test uses every helper.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::{BufRead, BufReader, Write},
    net::{Ipv4Addr, TcpListener, TcpStream},
    sync::{
        Arc, Condvar, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

const SERVER_NAME: &str = "canvass-test-smtp";

/// One message as the listener received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), without angle brackets, in order.
    pub recipients: Vec<String>,
    /// The message after `DATA`, un-dot-stuffed, with its CRLF line endings, without the
    /// final `.` line.
    pub data: String,
    /// The username and password of an `AUTH PLAIN` in the same session, if there was one.
    pub credentials: Option<(String, String)>,
}

impl ReceivedMail {
    /// The first header of that name (case-insensitive), unfolded, without surrounding spaces.
    pub fn header(&self, name: &str) -> Option<String> {
        let mut found: Option<String> = None;
        for line in self.head().split("\r\n") {
            match &mut found {
                Some(value) if line.starts_with([' ', '\t']) => value.push_str(line),
                Some(_) => break,
                None => {
                    if let Some((key, value)) = line.split_once(':')
                        && key.eq_ignore_ascii_case(name)
                    {
                        found = Some(value.to_owned());
                    }
                }
            }
        }
        found.map(|value| value.trim().to_owned())
    }

    /// The header section, up to the blank line.
    pub fn head(&self) -> &str {
        self.data.split_once("\r\n\r\n").map_or(self.data.as_str(), |(head, _)| head)
    }

    /// Everything after the blank line that ends the headers, as sent (still transfer-encoded).
    pub fn body(&self) -> &str {
        self.data.split_once("\r\n\r\n").map_or("", |(_, body)| body)
    }
}

#[derive(Debug, Default)]
struct Inbox {
    messages: Mutex<Vec<ReceivedMail>>,
    arrived: Condvar,
}

/// The running server; it stops accepting connections when dropped.
#[derive(Debug)]
pub struct SmtpListener {
    port: u16,
    inbox: Arc<Inbox>,
    stopping: Arc<AtomicBool>,
}

impl SmtpListener {
    /// Binds 127.0.0.1 on a free port and starts answering in the background.
    pub fn start() -> SmtpListener {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the test SMTP listener");
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Inbox::default());
        let stopping = Arc::new(AtomicBool::new(false));
        let (accept_inbox, accept_stopping) = (inbox.clone(), stopping.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let inbox = accept_inbox.clone();
                thread::spawn(move || {
                    // A client that hangs up mid-session is the client's business, not a test failure.
                    let _ = serve(stream, &inbox);
                });
            }
        });
        SmtpListener { port, inbox, stopping }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The messages received so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.inbox.messages.lock().unwrap().clone()
    }

    /// Waits until at least `count` messages have arrived, and returns them all; panics after
    /// `timeout` with what did arrive.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        let mut messages = self.inbox.messages.lock().unwrap();
        while messages.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!("expected {count} messages within {timeout:?}, got {}: {messages:#?}", messages.len());
            }
            messages = self.inbox.arrived.wait_timeout(messages, left).unwrap().0;
        }
        messages.clone()
    }
}

impl Drop for SmtpListener {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag and the port is released.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
    }
}

/// The state of one session's current mail transaction.
#[derive(Debug, Default)]
struct Transaction {
    from: Option<String>,
    recipients: Vec<String>,
}

fn serve(stream: TcpStream, inbox: &Inbox) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut reply = |text: &str| writer.write_all(format!("{text}\r\n").as_bytes());
    reply(&format!("220 {SERVER_NAME} ESMTP ready"))?;
    let mut transaction = Transaction::default();
    let mut credentials = None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let (verb, argument) = command.split_once(' ').unwrap_or((command, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => reply(&format!("250-{SERVER_NAME} greets {argument}\r\n250-8BITMIME\r\n250 AUTH PLAIN"))?,
            "HELO" => reply(&format!("250 {SERVER_NAME}"))?,
            "AUTH" => {
                let mut words = argument.split_whitespace();
                if !words.next().is_some_and(|mechanism| mechanism.eq_ignore_ascii_case("PLAIN")) {
                    reply("504 only AUTH PLAIN")?;
                    continue;
                }
                let encoded = match words.next() {
                    Some(initial) => initial.to_owned(),
                    None => {
                        reply("334 ")?;
                        let mut response = String::new();
                        reader.read_line(&mut response)?;
                        response.trim_end().to_owned()
                    }
                };
                match decode_plain(&encoded) {
                    Some(pair) => {
                        credentials = Some(pair);
                        reply("235 authenticated")?;
                    }
                    None => reply("501 malformed AUTH PLAIN response")?,
                }
            }
            "MAIL" => match path_argument(argument, "FROM:") {
                Some(from) => {
                    transaction = Transaction { from: Some(from), recipients: Vec::new() };
                    reply("250 sender ok")?;
                }
                None => reply("501 syntax: MAIL FROM:<address>")?,
            },
            "RCPT" => match (&transaction.from, path_argument(argument, "TO:")) {
                (None, _) => reply("503 MAIL FROM first")?,
                (Some(_), Some(recipient)) => {
                    transaction.recipients.push(recipient);
                    reply("250 recipient ok")?;
                }
                (Some(_), None) => reply("501 syntax: RCPT TO:<address>")?,
            },
            "DATA" => {
                if transaction.recipients.is_empty() {
                    reply("503 RCPT TO first")?;
                    continue;
                }
                reply("354 end data with <CR><LF>.<CR><LF>")?;
                let data = read_data(&mut reader)?;
                let Transaction { from, recipients } = std::mem::take(&mut transaction);
                let mail =
                    ReceivedMail { from: from.unwrap_or_default(), recipients, data, credentials: credentials.clone() };
                inbox.messages.lock().unwrap().push(mail);
                inbox.arrived.notify_all();
                reply("250 queued")?;
            }
            "RSET" => {
                transaction = Transaction::default();
                reply("250 ok")?;
            }
            "NOOP" => reply("250 ok")?,
            "QUIT" => {
                reply(&format!("221 {SERVER_NAME} closing"))?;
                return Ok(());
            }
            _ => reply("502 command not implemented")?,
        }
    }
}

/// `FROM:<a@b> SIZE=10` with prefix `FROM:` gives `a@b`.
fn path_argument(argument: &str, prefix: &str) -> Option<String> {
    let head = argument.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = argument[prefix.len()..].trim_start();
    let path = rest.strip_prefix('<')?.split_once('>')?.0;
    Some(path.to_owned())
}

/// Reads DATA lines up to the lone `.`, removing the dot-stuffing of RFC 5321 section 4.5.2.
fn read_data(reader: &mut impl BufRead) -> std::io::Result<String> {
    let mut data = String::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim_end_matches(['\r', '\n']) == "." {
            return Ok(data);
        }
        data.push_str(text.strip_prefix('.').unwrap_or(&text));
    }
}

/// `base64(authzid \0 username \0 password)` to the username and password.
fn decode_plain(encoded: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(decode_base64(encoded)?).ok()?;
    let mut parts = decoded.split('\0');
    let (_authorization, username, password) = (parts.next()?, parts.next()?, parts.next()?);
    Some((username.to_owned(), password.to_owned()))
}

fn decode_base64(encoded: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut output = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in encoded.trim_end_matches('=').bytes() {
        let value = ALPHABET.iter().position(|&symbol| symbol == byte)? as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            output.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(output)
}
