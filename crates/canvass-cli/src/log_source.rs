//! Where `audit verify` and `witness` read a log from: an HTTP(S) base URL (the node's public
//! `/log` or any static host) or a directory written by `canvass audit publish`.

use std::{io::Read, path::PathBuf, time::Duration};

use canvass_ledger::{LedgerError, TileSource};

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
