//! `canvass incidents affected INCIDENT`: the voter records an incident's subject read in a
//! window (by default the 24 hours before it was opened), for breach notification. The list is
//! confidential: the staff member signs in, needs `voters.read` on the incident's jurisdiction
//! and gives a reason; the read is an `incident.affected_voters` entry. `--export FILE` writes
//! the list as CSV (registration number, last and first name) and is a two-person operation:
//! an `export_affected_voters` request naming the incident, approved by a second person.

use std::{collections::BTreeMap, path::PathBuf, process::ExitCode, sync::Arc};

use anyhow::{Context, bail};
use canvass_core::access::{Operation, RequestKind};
use canvass_server::affected_voters::{self, Window};
use clap::Args;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    data_dir,
    keys::{Unlock, unseal_here},
    sign_in::{self, StaffSignIn},
};

#[derive(Debug, Args)]
pub struct AffectedArguments {
    /// The incident's id (`inc-...`).
    #[arg(value_name = "INCIDENT")]
    pub incident: String,
    /// Start of the window, RFC 3339 (default: 24 hours before the incident was opened).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// End of the window, RFC 3339, exclusive (default: when the incident was opened, included).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Why the list is read (kept in the ledger entry).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Write the list as CSV to this new file (mode 0600) instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,
    /// The approved export_affected_voters request this export carries out.
    #[arg(long, value_name = "ID", requires = "export")]
    pub request: Option<String>,
    #[command(flatten)]
    pub unlock: Unlock,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

fn millis(text: Option<&str>, flag: &str) -> anyhow::Result<Option<i64>> {
    text.map(|text| {
        let time = OffsetDateTime::parse(text, &Rfc3339).with_context(|| format!("{flag} is not an RFC 3339 time"))?;
        Ok(i64::try_from(time.unix_timestamp_nanos() / 1_000_000)?)
    })
    .transpose()
}

/// `canvass incidents affected`.
pub async fn run(data: &std::path::Path, arguments: AffectedArguments) -> anyhow::Result<ExitCode> {
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = affected(data, &store, &arguments).await;
    store.close().await;
    outcome
}

async fn affected(
    data: &std::path::Path,
    store: &Arc<dyn canvass_store::Store>,
    arguments: &AffectedArguments,
) -> anyhow::Result<ExitCode> {
    let reason = arguments.reason.trim();
    if reason.is_empty() {
        bail!("--reason must say why the list is read");
    }
    let since = millis(arguments.since.as_deref(), "--since")?;
    let until = millis(arguments.until.as_deref(), "--until")?;
    let signed_in = sign_in::sign_in(data, store, &arguments.staff).await?;
    let incident = affected_voters::incident(store.as_ref(), &arguments.incident).await?;
    let Some(jurisdiction) = incident.jurisdiction.clone() else {
        bail!("incident {} names no jurisdiction: list its affected voters through the admin API", incident.id);
    };
    signed_in.authorize(store.as_ref(), Operation::ReadVoters, &jurisdiction).await?;
    let mut window = Window::for_incident(&incident, since, until)?;
    if arguments.export.is_some() {
        if let Some(id) = &arguments.request {
            let Some(request) = store.request(id).await? else { bail!("there is no request {id}") };
            let (named, requested) = affected_voters::parse_subject(&request.subject)?;
            if named != incident.id {
                bail!("request {id} is for incident {named}, not {}", incident.id);
            }
            if since.is_some() || until.is_some() {
                bail!("an export covers the window its request names: leave out --since and --until");
            }
            window =
                Window::for_incident(&incident, requested.map(|(since, _)| since), requested.map(|(_, until)| until))?;
        }
        if signed_in.authorize(store.as_ref(), Operation::ExportVoters, &jurisdiction).await? {
            let request = arguments.request.as_deref();
            signed_in.carry_out(store.as_ref(), request, RequestKind::ExportAffectedVoters, &jurisdiction).await?;
        }
    }
    let numbers = affected_voters::registration_numbers_read(store.as_ref(), &incident, window).await?;
    let mut rings = BTreeMap::new();
    for roll in affected_voters::rolls_of(store.as_ref(), &numbers).await? {
        let ring = unseal_here(store.as_ref(), &signed_in.audit, &roll, &arguments.unlock).await?;
        rings.insert(roll, Arc::new(ring));
    }
    let voters = affected_voters::open_names(store.as_ref(), &rings, &numbers).await?;
    let export = arguments.export.is_some();
    let entry = affected_voters::entry(&signed_in.audit, &incident, window, voters.len(), Some(reason), export)?;
    signed_in.audit.record(&entry).await?;
    match &arguments.export {
        Some(path) => {
            data_dir::write_private_file(path, affected_voters::to_csv(&voters).as_bytes())?;
            println!("Wrote {} affected voters of incident {} to {}", voters.len(), incident.id, path.display());
        }
        None => {
            println!("{} voter records read by the incident's subject in the window:", voters.len());
            for voter in &voters {
                println!("{}\t{}\t{}", voter.registration_number, voter.last_name, voter.first_name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
