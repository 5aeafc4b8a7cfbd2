//! Where `audit verify` and `witness` read a log from: an HTTP(S) base URL (the node's public
//! `/log` or any static host) or a directory written by `canvass audit publish`.

use std::{
    io::Read,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, bail};
use canvass_ledger::{LedgerError, TileSource, VerifierKey};

/// The largest file a log serves: an entry bundle of 256 entries of at most 64 KiB each.
const MAX_FILE_BYTES: u64 = 256 * 65_538;

#[derive(Debug)]
pub enum LogSource {
    Http { base: String, agent: ureq::Agent },
    Directory(PathBuf),
}

impl LogSource {
    pub fn open(location: &str) -> Self {
        if location.starts_with("http://") || location.starts_with("https://") {
            let agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(30)))
                .http_status_as_error(false)
                .user_agent(concat!("canvass/", env!("CARGO_PKG_VERSION")))
                .build()
                .new_agent();
            Self::Http { base: location.trim_end_matches('/').to_owned(), agent }
        } else {
            Self::Directory(PathBuf::from(location))
        }
    }

    /// POSTs `body` to `path` under the log's URL; the reply text, or why it failed.
    pub fn post(&self, path: &str, body: &[u8]) -> Result<String, String> {
        let Self::Http { base, agent } = self else {
            return Err("a directory cannot take a cosignature; give the node's URL".to_owned());
        };
        let url = format!("{base}/{path}");
        let mut response = agent
            .post(&url)
            .header("content-type", "text/plain; charset=utf-8")
            .send(body)
            .map_err(|error| format!("{url}: {error}"))?;
        let status = response.status();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        if status.is_success() { Ok(text) } else { Err(format!("{url} answered {status}: {}", text.trim())) }
    }
}

impl TileSource for LogSource {
    fn fetch(&mut self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        let failed = |reason: String| LedgerError::Fetch { path: path.to_owned(), reason };
        match self {
            Self::Directory(directory) => match std::fs::read(directory.join(path)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(failed(error.to_string())),
            },
            Self::Http { base, agent } => {
                let url = format!("{base}/{path}");
                let mut response = agent.get(&url).call().map_err(|error| failed(error.to_string()))?;
                match response.status().as_u16() {
                    200 => {}
                    404 => return Ok(None),
                    status => return Err(failed(format!("{url} answered HTTP {status}"))),
                }
                let mut bytes = Vec::new();
                response
                    .body_mut()
                    .as_reader()
                    .take(MAX_FILE_BYTES + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|error| failed(error.to_string()))?;
                if bytes.len() as u64 > MAX_FILE_BYTES {
                    return Err(failed(format!("{url} is larger than any log file can be")));
                }
                Ok(Some(bytes))
            }
        }
    }
}

/// Reads a JSON state file (`audit verify --state`, the witness's state); `None` when it does
/// not exist yet. `what` names it in the error for a file that is not one.
pub fn read_state<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            Ok(Some(serde_json::from_slice(&bytes).with_context(|| format!("{} is not {what}", path.display()))?))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Replaces a JSON state file whole: written beside it, then renamed over it, so a crash
/// leaves the old state or the new one, never half of either.
pub fn write_state<T: serde::Serialize>(path: &Path, state: &T) -> anyhow::Result<()> {
    let staging = path.with_extension("partial-write");
    std::fs::write(&staging, serde_json::to_vec_pretty(state)?)
        .with_context(|| format!("cannot write {}", staging.display()))?;
    std::fs::rename(&staging, path).with_context(|| format!("cannot replace {}", path.display()))
}

/// The log key to trust: the one given (which must agree with one pinned in a state file),
/// else the pinned one, else, on first use, the one the log publishes, with a warning.
pub fn trusted_log_key(
    given: Option<&str>,
    pinned: Option<&str>,
    source: &mut LogSource,
) -> anyhow::Result<VerifierKey> {
    let pinned = pinned.map(VerifierKey::parse).transpose().context("the pinned log key")?;
    if let Some(given) = given {
        let given = VerifierKey::parse(given).context("--log-key")?;
        if let Some(pinned) = pinned
            && pinned != given
        {
            bail!("--log-key differs from the key pinned in the state file ({pinned}); refusing to switch keys");
        }
        return Ok(given);
    }
    if let Some(pinned) = pinned {
        return Ok(pinned);
    }
    let fetched = source.fetch("key")?.context("the log publishes no key: give --log-key")?;
    let key = VerifierKey::parse(String::from_utf8_lossy(&fetched).trim())?;
    eprintln!(
        "warning: trusting the key the log itself published ({key}); compare it with the one the office announced, \
         and pass --log-key or keep the state file so later runs hold it fixed"
    );
    Ok(key)
}
