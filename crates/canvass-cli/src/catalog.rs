//! `canvass jurisdiction`, `canvass precinct` and `canvass admin`: the node's catalogue of
//! places and its node-wide administrator accounts, through the same services as the admin
//! API. Shredding a key ring is a staff member's two-person operation, not the operator's.

use std::{path::Path, path::PathBuf, process::ExitCode};

use anyhow::bail;
use canvass_core::access::{Operation, RequestKind};
use canvass_core::{
    credential::Username,
    id::{JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct, tree_order},
    name::Name,
};
use canvass_server::{ledger::Audit, service, staff};

use crate::{
    data_dir,
    init::ADMIN_PASSWORD_VARIABLE,
    sign_in::{self, StaffSignIn},
};

#[derive(Debug, clap::Subcommand)]
pub enum JurisdictionCommand {
    /// Add a state, county or municipality.
    Add {
        /// Stable id: an OCD-ID (ocd-division/country:us/state:nc/county:wake) or a slug.
        #[arg(long)]
        id: String,
        /// Display name, for example "Wake County".
        #[arg(long)]
        name: String,
        /// state, county or municipality.
        #[arg(long, value_parser = ["state", "county", "municipality"])]
        kind: String,
        /// The parent jurisdiction's id (a county's state; a municipality's county or state).
        #[arg(long)]
        parent: Option<String>,
    },
    /// Destroy a jurisdiction's key ring (crypto-shredding): its sealed voter data becomes
    /// unrecoverable, here and in every backup taken after this. Cannot be undone. A staff
    /// member allowed `keys.shred` there carries out their approved two-person request
    /// (kind shred_keys, made and approved in the admin pages or the API).
    Shred {
        /// The jurisdiction whose keys are destroyed.
        id: String,
        /// The same id typed again, to confirm (asked for on a terminal when absent).
        #[arg(long, value_name = "ID")]
        confirm: Option<String>,
        #[command(flatten)]
        staff: StaffSignIn,
        /// The approved shred_keys request this carries out.
        #[arg(long, value_name = "REQUEST")]
        request: Option<String>,
    },
    /// List jurisdictions as a tree.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum PrecinctCommand {
    /// Add a precinct to a jurisdiction.
    Add {
        #[arg(long)]
        id: String,
        /// The id of the county or municipality holding the precinct.
        #[arg(long)]
        jurisdiction: String,
        #[arg(long)]
        name: String,
    },
    /// List precincts.
    List {
        /// Only this jurisdiction's precincts.
        #[arg(long)]
        jurisdiction: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Create a node-wide administrator (state administrator on every jurisdiction) or replace
    /// an administrator's password. Other staff: `canvass user add`.
    SetPassword {
        #[arg(long, default_value = "admin")]
        user: String,
        /// File holding the new password; else CANVASS_ADMIN_PASSWORD.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
}

fn jurisdiction_json(jurisdiction: &Jurisdiction) -> serde_json::Value {
    serde_json::json!({
        "id": jurisdiction.id.as_str(),
        "name": jurisdiction.name.as_str(),
        "kind": jurisdiction.kind.as_str(),
        "parent": jurisdiction.parent.as_ref().map(JurisdictionId::as_str),
    })
}

fn precinct_json(precinct: &Precinct) -> serde_json::Value {
    serde_json::json!({
        "id": precinct.id.as_str(),
        "jurisdiction": precinct.jurisdiction.as_str(),
        "name": precinct.name.as_str(),
    })
}

pub async fn jurisdiction(data: &Path, command: JurisdictionCommand) -> anyhow::Result<ExitCode> {
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = match command {
        JurisdictionCommand::Add { id, name, kind, parent } => {
            let jurisdiction = Jurisdiction {
                id: JurisdictionId::parse(&id)?,
                name: Name::parse(&name)?,
                kind: JurisdictionKind::parse(&kind)?,
                parent: parent.as_deref().map(JurisdictionId::parse).transpose()?,
            };
            let added = service::add_jurisdiction(store.as_ref(), &Audit::operator(store.clone()), &jurisdiction).await;
            added.map(|()| println!("Added {} {} ({})", jurisdiction.kind, jurisdiction.id, jurisdiction.name))
        }
        JurisdictionCommand::Shred { id, confirm, staff, request } => {
            let shredded = shred(data, &store, &id, confirm, &staff, request.as_deref()).await;
            store.close().await;
            shredded?;
            return Ok(ExitCode::SUCCESS);
        }
        JurisdictionCommand::List { json } => {
            let all = store.jurisdictions().await.map_err(Into::into);
            all.map(|all| {
                if json {
                    println!("{}", serde_json::Value::Array(all.iter().map(jurisdiction_json).collect()));
                } else if all.is_empty() {
                    println!("No jurisdictions yet. Add one with `canvass jurisdiction add`.");
                } else {
                    for (depth, jurisdiction) in tree_order(&all) {
                        let indent = "  ".repeat(depth);
                        println!("{indent}{} [{}] {}", jurisdiction.name, jurisdiction.kind, jurisdiction.id);
                    }
                }
            })
        }
    };
    store.close().await;
    outcome?;
    Ok(ExitCode::SUCCESS)
}

pub async fn precinct(data: &Path, command: PrecinctCommand) -> anyhow::Result<ExitCode> {
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = match command {
        PrecinctCommand::Add { id, jurisdiction, name } => {
            let precinct = Precinct {
                id: PrecinctId::parse(&id)?,
                jurisdiction: JurisdictionId::parse(&jurisdiction)?,
                name: Name::parse(&name)?,
            };
            let added = service::add_precinct(store.as_ref(), &Audit::operator(store.clone()), &precinct).await;
            added.map(|()| println!("Added precinct {} ({}) to {}", precinct.id, precinct.name, precinct.jurisdiction))
        }
        PrecinctCommand::List { jurisdiction, json } => {
            let filter = jurisdiction.as_deref().map(JurisdictionId::parse).transpose()?;
            let all = store.precincts(filter.as_ref()).await.map_err(Into::into);
            all.map(|all| {
                if json {
                    println!("{}", serde_json::Value::Array(all.iter().map(precinct_json).collect()));
                } else if all.is_empty() {
                    println!("No precincts yet. Add one with `canvass precinct add`.");
                } else {
                    for precinct in &all {
                        println!("{}  {}  ({})", precinct.id, precinct.name, precinct.jurisdiction);
                    }
                }
            })
        }
    };
    store.close().await;
    outcome?;
    Ok(ExitCode::SUCCESS)
}

pub async fn admin(data: &Path, command: AdminCommand) -> anyhow::Result<ExitCode> {
    let AdminCommand::SetPassword { user, password_file } = command;
    let username = Username::parse(&user)?;
    let Some(password) = data_dir::secret_from(password_file.as_deref(), ADMIN_PASSWORD_VARIABLE, "password")? else {
        bail!("give the new password with --password-file FILE or {ADMIN_PASSWORD_VARIABLE}");
    };
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome =
        staff::set_administrator_password(store.as_ref(), &Audit::operator(store.clone()), &username, password).await;
    store.close().await;
    outcome?;
    println!("Password set for administrator {username}");
    Ok(ExitCode::SUCCESS)
}

/// The operator's confirmation: `--confirm ID`, or typed at a prompt on a terminal.
fn confirmation(id: &str, given: Option<String>) -> anyhow::Result<String> {
    if let Some(given) = given {
        return Ok(given);
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        bail!("shredding cannot be undone: confirm by passing --confirm {id}");
    }
    eprint!("This destroys the keys of {id}: its voter data becomes unrecoverable. Type the id to confirm: ");
    let mut typed = String::new();
    std::io::stdin().read_line(&mut typed)?;
    Ok(typed.trim().to_owned())
}

/// Checks the confirmation, signs the staff member in, checks the policy, claims the approved
/// request, then shreds under the staff member's name.
async fn shred(
    data: &Path,
    store: &std::sync::Arc<dyn canvass_store::Store>,
    id: &str,
    confirm: Option<String>,
    staff: &StaffSignIn,
    request: Option<&str>,
) -> anyhow::Result<()> {
    let jurisdiction = JurisdictionId::parse(id)?;
    // Confirmed first: a typo should not use up the authenticator code.
    let typed = confirmation(id, confirm)?;
    if typed != id {
        bail!("the confirmation `{typed}` does not match `{id}`; nothing was shredded");
    }
    let signed_in = sign_in::sign_in(data, store, staff).await?;
    let two_person = signed_in.authorize(store.as_ref(), Operation::ShredKeys, &jurisdiction).await?;
    if two_person {
        signed_in.carry_out(store.as_ref(), request, RequestKind::ShredKeys, &jurisdiction).await?;
    }
    let rings = canvass_server::keys::KeyRings::default();
    canvass_server::keys::shred(store.as_ref(), &signed_in.audit, &rings, &jurisdiction).await?;
    println!("Shredded the key ring of {jurisdiction}: its sealed voter data can no longer be decrypted.");
    println!(
        "A running node drops the keys from memory at its next use of them; backups made before now still hold the old keys."
    );
    Ok(())
}
