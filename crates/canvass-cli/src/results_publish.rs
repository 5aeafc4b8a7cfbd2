//! `canvass results publish` and `canvass results verify` (subcommands of `results`): the published results snapshots
//! written out as a static site, and any published site (a directory or a node's `/results/`)
//! checked from the outside. Both call `canvass_server::results_verify`.

use std::{io::Read, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use canvass_core::id::ElectionId;
use canvass_crypto::PublicKey;
use canvass_server::{
    ledger,
    results_verify::{self, DirSource, SiteSource, VerifyReport},
};
use clap::Args;

use crate::data_dir;

#[derive(Debug, Args)]
pub struct PublishArguments {
    /// The election's id, as in the snapshots' URLs.
    #[arg(long, value_name = "ELECTION")]
    pub election: String,
    /// The directory to write (created if missing; files are replaced). Serve it as
    /// `/results/`.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct VerifyArguments {
    /// The site: a node's `http(s)://HOST/results/` or a directory from `results publish`.
    #[arg(value_name = "URL|DIR")]
    pub site: String,
    /// The node's Ed25519 public key in hex, pinned: the site's own `node_key.txt` is then
    /// only compared with it, never trusted.
    #[arg(long, value_name = "HEX")]
    pub key: Option<String>,
}

pub async fn publish(data: &std::path::Path, arguments: &PublishArguments) -> anyhow::Result<ExitCode> {
    let election = ElectionId::parse(&arguments.election).context("--election")?;
    let signing_key = std::sync::Arc::new(data_dir::load_signing_key(data)?);
    let key = signing_key.public_key();
    let (config, store) = data_dir::open_existing(data).await?;
    // Each snapshot's ledger.json proves its entry against a signed checkpoint: sign the
    // newest entries first, as `audit publish` does (safe beside a running node).
    let identity = ledger::LogIdentity::new(config.ledger.origin.as_deref(), &signing_key, &config.ledger.witnesses)?;
    if let Err(error) = ledger::Ledger::integrate_once(store.clone(), signing_key, identity).await {
        let detail = crate::operator_message(&anyhow::Error::from(error));
        eprintln!("warning: could not sign the newest ledger entries ({detail})");
    }
    let written = results_verify::write_site(store.as_ref(), &election, &key, &arguments.to).await;
    store.close().await;
    let written = written?;
    println!(
        "Wrote {} snapshots ({} files, each with .gz and .br) of {} to {}",
        written.snapshots,
        written.files,
        election.as_str(),
        arguments.to.display()
    );
    if written.without_ledger_proof > 0 {
        eprintln!(
            "warning: {} snapshots have no ledger.json yet (their ledger entry is not in a signed checkpoint); run this again",
            written.without_ledger_proof
        );
    }
    println!("Serve that directory as /results/ on any web server; `canvass results verify DIR` checks it.");
    Ok(ExitCode::SUCCESS)
}

pub fn verify(arguments: &VerifyArguments) -> anyhow::Result<ExitCode> {
    let pinned = match &arguments.key {
        Some(text) => {
            Some(PublicKey::from_hex(text.trim()).context("--key is not a hex Ed25519 public key (64 hex digits)")?)
        }
        None => None,
    };
    let report = if arguments.site.starts_with("http://") || arguments.site.starts_with("https://") {
        results_verify::verify_site(&HttpSource::new(&arguments.site), pinned.as_ref())
    } else {
        let dir = PathBuf::from(&arguments.site);
        if !dir.is_dir() {
            bail!("{} is not a directory (or give an http(s):// URL)", dir.display());
        }
        results_verify::verify_site(&DirSource(dir), pinned.as_ref())
    };
    Ok(print_report(&arguments.site, &report))
}

fn print_report(site: &str, report: &VerifyReport) -> ExitCode {
    if report.failures.is_empty() {
        println!(
            "OK: {site}: {} elections, {} snapshots, {} files: signatures, hashes, pointers and totals hold",
            report.elections, report.snapshots, report.files
        );
        return ExitCode::SUCCESS;
    }
    for failure in &report.failures {
        println!("FAIL: {failure}");
    }
    println!(
        "{} failures in {site} ({} elections, {} snapshots, {} files checked)",
        report.failures.len(),
        report.elections,
        report.snapshots,
        report.files
    );
    ExitCode::FAILURE
}

/// The largest file read from a site: a county's precinct-level NIST XML is a few megabytes.
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// A node's (or any web server's) `/results/` over HTTP(S), identity encoding.
struct HttpSource {
    base: String,
    agent: ureq::Agent,
}

impl HttpSource {
    fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .user_agent(concat!("canvass/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Self { base: base.trim_end_matches('/').to_owned(), agent }
    }
}

impl SiteSource for HttpSource {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        let url = format!("{}/{path}", self.base);
        let mut response = self
            .agent
            .get(&url)
            .header("accept-encoding", "identity")
            .call()
            .map_err(|error| format!("{url}: {error}"))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            status => return Err(format!("{url} answered HTTP {status}")),
        }
        let mut bytes = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| format!("{url}: {error}"))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(format!("{url} is larger than any published file can be"));
        }
        Ok(Some(bytes))
    }

    fn describe(&self) -> String {
        self.base.clone()
    }
}
