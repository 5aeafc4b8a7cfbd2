//! A minimal client for the node's own admin listener, for the commands that act on the
//! running process (unsealing holds keys in its memory). Plain HTTP/1.0 to the configured
//! admin address, authenticated with an API token; the admin listener is on loopback or a
//! private network by design.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use anyhow::{Context, bail};
use canvass_core::config::NodeConfig;
use canvass_crypto::{ExposeSecret, SecretString};

/// The variable holding the API token for scripts.
pub const TOKEN_VARIABLE: &str = "CANVASS_API_TOKEN";

/// Who signs in to the admin API, and where it is.
#[derive(Debug)]
pub struct AdminClient {
    address: SocketAddr,
    authorization: SecretString,
}

/// A reply: status and JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Reply {
    /// The API's error message, or the status. A refused token gets advice instead: the node
    /// says no more than "sign in first", whatever was wrong with it.
    pub fn error_message(&self) -> String {
        if self.status == 401 {
            return "the node refused the API token (unknown, expired or revoked, or its user is suspended): sign in with a current one from `canvass token add`".to_owned();
        }
        self.body["error"]["message"].as_str().map_or_else(|| format!("HTTP status {}", self.status), str::to_owned)
    }
}

impl AdminClient {
    pub fn new(config: &NodeConfig, address: Option<SocketAddr>, token: &SecretString) -> anyhow::Result<Self> {
        if config.tls.is_some() && address.is_none() {
            bail!(
                "the admin listener uses TLS; call the admin API with an HTTPS client (see /api/openapi.json), or pass --admin-address for a plain-HTTP loopback listener"
            );
        }
        let token = token.expose_secret().trim();
        if token.chars().any(|c| c.is_control() || c.is_whitespace()) {
            bail!(
                "the API token holds spaces or control characters: give the token exactly as `canvass token add` printed it"
            );
        }
        let authorization = SecretString::from(format!("Bearer {token}"));
        Ok(Self { address: address.unwrap_or(config.admin.listen), authorization })
    }

    pub fn post(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<Reply> {
        let mut stream = TcpStream::connect_timeout(&self.address, Duration::from_secs(10)).with_context(|| {
            format!("cannot reach the node's admin listener at {}: is `canvass serve` running?", self.address)
        })?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        let body = body.to_string();
        let request = format!(
            "POST {path} HTTP/1.0\r\nHost: {}\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.address,
            self.authorization.expose_secret(),
            body.len()
        );
        stream.write_all(request.as_bytes())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
        Ok(Reply { status, body: serde_json::from_str(body).unwrap_or(serde_json::Value::Null) })
    }
}
