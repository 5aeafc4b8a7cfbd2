//! `canvass transparency publish --to DIR`: the public transparency report written as static
//! files (`index.html`, a page per jurisdiction, `feed.json` with its detached signature
//! `feed.json.sig`, `feed.atom`, `node_key.txt`, `canvass.css`), the same pages and feeds the
//! public listener serves under `/transparency`. Calls `canvass_server::transparency`.

use std::{path::PathBuf, process::ExitCode};

use canvass_server::{ledger, transparency};
use clap::{Args, Subcommand};

use crate::data_dir;

#[derive(Debug, Subcommand)]
pub enum TransparencyCommand {
    /// Write the transparency report as static files any web server can serve: every incident
    /// (public fields only), each jurisdiction's ledger statistics, the audit log's signed
    /// checkpoint, the signed JSON feed and the Atom feed. Reads the store; needs no running node.
    Publish(PublishArguments),
}

#[derive(Debug, Args)]
pub struct PublishArguments {
    /// The directory to write (created if missing; files are replaced).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
}

pub async fn run(data: &std::path::Path, command: TransparencyCommand) -> anyhow::Result<ExitCode> {
    let TransparencyCommand::Publish(arguments) = command;
    let signing_key = std::sync::Arc::new(data_dir::load_signing_key(data)?);
    let key = signing_key.public_key();
    let (config, store) = data_dir::open_existing(data).await?;
    // The report shows the log's current checkpoint: sign the newest entries first, as
    // `results publish` does (safe beside a running node).
    let identity = ledger::LogIdentity::new(config.ledger.origin.as_deref(), &signing_key, &config.ledger.witnesses)?;
    if let Err(error) = ledger::Ledger::integrate_once(store.clone(), signing_key.clone(), identity).await {
        let detail = crate::operator_message(&anyhow::Error::from(error));
        eprintln!("warning: could not sign the newest ledger entries ({detail})");
    }
    let written =
        transparency::write_report(store.as_ref(), &key, |bytes| signing_key.sign(bytes), &arguments.to).await;
    store.close().await;
    let written = written?;
    println!(
        "Wrote the transparency report ({} incidents, {} jurisdictions, {} files) to {}",
        written.incidents,
        written.jurisdictions,
        written.files,
        arguments.to.display()
    );
    println!(
        "Serve that directory on any web server; feed.json.sig is its Ed25519 signature by the key in node_key.txt."
    );
    Ok(ExitCode::SUCCESS)
}
