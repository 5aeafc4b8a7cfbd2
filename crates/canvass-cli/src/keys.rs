//! `canvass keys`: a jurisdiction's key ring. `init`, `split`, `status` and `rotate` work on
//! the store directly; `unseal` and `seal` act on the running node, where unsealed keys live,
//! through its admin API with an API token. `rotate` decrypts every voter record, so a staff
//! member signs in for it and carries out an approved two-person request.

use std::{
    net::SocketAddr,
    os::unix::fs::DirBuilderExt,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{Context, bail};
use canvass_core::{
    access::{Operation, RequestKind},
    id::JurisdictionId,
};
use canvass_crypto::{ExposeSecret, SecretString, Share};
use canvass_server::keys::{self as key_rings, FIELD_PURPOSE, UnsealedRing};
use canvass_server::ledger::Audit;
use canvass_store::{KeyState, Store};
use indicatif::{ProgressBar, ProgressStyle};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::{
    admin_client::{AdminClient, TOKEN_VARIABLE},
    data_dir,
    sign_in::{self, StaffSignIn},
};

/// The variable holding a key ring passphrase for scripts.
pub const PASSPHRASE_VARIABLE: &str = "CANVASS_KEY_PASSPHRASE";

#[derive(Debug, clap::Args)]
pub struct Unlock {
    /// File holding the jurisdiction's key passphrase (else CANVASS_KEY_PASSPHRASE).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Files holding officials' shares; give enough of them (repeat the flag).
    #[arg(long, value_name = "FILE")]
    share_file: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct AdminSignIn {
    /// File holding an API token for the running node, from `canvass token add` with a role
    /// allowed to operate keys there (else CANVASS_API_TOKEN).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The admin listener's address, when it is not the one in canvass.toml.
    #[arg(long, value_name = "IP:PORT")]
    admin_address: Option<SocketAddr>,
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a jurisdiction's key ring, sealed by a passphrase.
    Init {
        #[arg(long, value_name = "ID")]
        jurisdiction: String,
        /// File holding the new passphrase, at least 16 characters (else CANVASS_KEY_PASSPHRASE).
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// How many voters the jurisdiction expects: sizes the blind indexes.
        #[arg(long, default_value_t = 1_000_000, value_name = "N")]
        projected_voters: u64,
    },
    /// Split the key into shares for officials: any THRESHOLD of them unseal it.
    Split {
        #[arg(long, value_name = "ID")]
        jurisdiction: String,
        #[arg(long, value_name = "K")]
        threshold: u8,
        #[arg(long, value_name = "N")]
        shares: u8,
        /// Directory to write one share file per official into (created, owner-only).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        unlock: Unlock,
    },
    /// Show every key ring: seal methods, share policy, key versions and rows per version.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Unseal a jurisdiction on the running node, by passphrase or one official's share.
    Unseal {
        #[arg(long, value_name = "ID")]
        jurisdiction: String,
        #[command(flatten)]
        unlock: Unlock,
        #[command(flatten)]
        sign_in: AdminSignIn,
    },
    /// Seal a jurisdiction on the running node: its keys leave memory.
    Seal {
        #[arg(long, value_name = "ID")]
        jurisdiction: String,
        #[command(flatten)]
        sign_in: AdminSignIn,
    },
    /// Make a new field key version and move every row to it (safe while the node serves).
    /// A staff member allowed `keys.rotate` there carries out their approved two-person
    /// request (kind rotate_keys, made and approved in the admin pages or the API).
    Rotate {
        #[arg(long, value_name = "ID")]
        jurisdiction: String,
        #[command(flatten)]
        unlock: Unlock,
        #[command(flatten)]
        staff: StaffSignIn,
        /// The approved rotate_keys request this carries out.
        #[arg(long, value_name = "REQUEST")]
        request: Option<String>,
        /// Rows re-encrypted per transaction.
        #[arg(long, default_value_t = 500, value_name = "N")]
        batch: u32,
    },
}

fn passphrase(file: Option<&Path>) -> anyhow::Result<Option<SecretString>> {
    data_dir::secret_from(file, PASSPHRASE_VARIABLE, "passphrase")
}

fn read_shares(files: &[PathBuf]) -> anyhow::Result<Vec<Share>> {
    files
        .iter()
        .map(|file| {
            let text = data_dir::read_secret_file(file, "share")?;
            Share::parse(text.expose_secret()).with_context(|| format!("{}", file.display()))
        })
        .collect()
}

impl Unlock {
    /// Whether a way to unseal was given (a flag, or the passphrase variable): commands for
    /// which a ring is optional unseal only then.
    pub(crate) fn is_given(&self) -> bool {
        self.passphrase_file.is_some()
            || !self.share_file.is_empty()
            || std::env::var(PASSPHRASE_VARIABLE).is_ok_and(|value| !value.is_empty())
    }
}

pub(crate) async fn unseal_here(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    unlock: &Unlock,
) -> anyhow::Result<UnsealedRing> {
    if !unlock.share_file.is_empty() {
        return Ok(key_rings::unseal_with_shares(store, audit, jurisdiction, &read_shares(&unlock.share_file)?).await?);
    }
    let Some(passphrase) = passphrase(unlock.passphrase_file.as_deref())? else {
        bail!("give the passphrase with --passphrase-file FILE or {PASSPHRASE_VARIABLE}, or shares with --share-file");
    };
    Ok(key_rings::unseal_with_passphrase(store, audit, jurisdiction, passphrase).await?)
}

pub async fn run(data: &Path, command: KeysCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::Unseal { jurisdiction, unlock, sign_in } => unseal_remote(data, &jurisdiction, &unlock, &sign_in),
        KeysCommand::Seal { jurisdiction, sign_in } => {
            let reply = client(data, &sign_in)?
                .post(&format!("/api/jurisdictions/{}/seal", encode(&jurisdiction)), &serde_json::json!({}))?;
            if reply.status != 200 {
                bail!("{}", reply.error_message());
            }
            println!("{jurisdiction} is sealed on the running node: its voter data is refused until unsealed");
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Rotate { jurisdiction, unlock, staff, request, batch } => {
            let jurisdiction = JurisdictionId::parse(&jurisdiction)?;
            let (_, store) = data_dir::open_existing(data).await?;
            let outcome = async {
                let signed_in = sign_in::sign_in(data, &store, &staff).await?;
                let two_person = signed_in.authorize(store.as_ref(), Operation::RotateKeys, &jurisdiction).await?;
                // The key ring opens first, so a wrong passphrase does not use up the approval.
                let ring = unseal_here(store.as_ref(), &signed_in.audit, &jurisdiction, &unlock).await?;
                if two_person {
                    let request = request.as_deref();
                    signed_in.carry_out(store.as_ref(), request, RequestKind::RotateKeys, &jurisdiction).await?;
                }
                rotate(store.as_ref(), &signed_in.audit, &jurisdiction, ring, batch).await
            }
            .await;
            store.close().await;
            outcome.map(|()| ExitCode::SUCCESS)
        }
        other => {
            let (_, store) = data_dir::open_existing(data).await?;
            let audit = Audit::operator(store.clone());
            let outcome = run_on_store(store.as_ref(), &audit, other).await;
            store.close().await;
            outcome
        }
    }
}

async fn run_on_store(store: &dyn Store, audit: &Audit, command: KeysCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::Init { jurisdiction, passphrase_file, projected_voters } => {
            let jurisdiction = JurisdictionId::parse(&jurisdiction)?;
            let Some(passphrase) = passphrase(passphrase_file.as_deref())? else {
                bail!("give the new passphrase with --passphrase-file FILE or {PASSPHRASE_VARIABLE}");
            };
            let ring = key_rings::create_key_ring(store, audit, &jurisdiction, passphrase, projected_voters).await?;
            let bits = canvass_crypto::choose_index_bits(projected_voters);
            println!("Created the key ring of {jurisdiction} (field key version {}).", ring.active_version());
            println!(
                "  Blind indexes: {bits} bits for {projected_voters} projected voters (about {:.1} voters share each index value).",
                canvass_crypto::expected_matches(projected_voters, bits)
            );
            println!("  Keep the passphrase safe; consider `canvass keys split` so several officials hold the key.");
        }
        KeysCommand::Split { jurisdiction, threshold, shares, out, unlock } => {
            let jurisdiction = JurisdictionId::parse(&jurisdiction)?;
            let ring = unseal_here(store, audit, &jurisdiction, &unlock).await?;
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&out)
                .with_context(|| format!("cannot create {} (it must not exist yet)", out.display()))?;
            let issued = key_rings::split(store, audit, &ring, threshold, shares).await?;
            for (number, share) in issued.iter().enumerate() {
                let file = out.join(format!("share-{}-of-{}.txt", number + 1, issued.len()));
                data_dir::write_private_file(&file, format!("{}\n", share.to_text().as_str()).as_bytes())?;
                println!("  {}", file.display());
            }
            println!(
                "Split the key of {jurisdiction}: any {threshold} of these {shares} shares unseal it. Give each file to a different official."
            );
        }
        KeysCommand::Status { json } => status(store, json).await?,
        // Dispatched in `run`: these act on the running node or as a signed-in staff member.
        KeysCommand::Unseal { .. } | KeysCommand::Seal { .. } | KeysCommand::Rotate { .. } => {
            bail!("this command does not run as the operator")
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn status(store: &dyn Store, json: bool) -> anyhow::Result<()> {
    // This process holds no unsealed ring; the running node's state is on /api/keys.
    let statuses = key_rings::ring_statuses(store, &key_rings::KeyRings::default()).await?;
    let rings: Vec<serde_json::Value> = statuses
        .iter()
        .map(|status| {
            let versions: Vec<serde_json::Value> = status
                .field_key_versions
                .iter()
                .map(|key| serde_json::json!({ "version": key.version, "state": key.state.as_str(), "rows": key.rows }))
                .collect();
            serde_json::json!({
                "jurisdiction": status.jurisdiction.as_str(),
                "seal_methods": status.seal_methods,
                "shares": status.shares.map(|(k, n)| format!("{k} of {n}")),
                "projected_voters": status.projected_rows,
                "field_key_versions": versions,
            })
        })
        .collect();
    if json {
        println!("{}", serde_json::Value::Array(rings));
        return Ok(());
    }
    if statuses.is_empty() {
        println!("No key rings yet. Create one with `canvass keys init --jurisdiction ID --passphrase-file FILE`.");
    }
    for status in &statuses {
        println!("{}", status.jurisdiction);
        let shares = status.shares.map(|(k, n)| format!(", shares ({k} of {n})")).unwrap_or_default();
        println!("  sealed by: {}{shares}", status.seal_methods.join(", "));
        for key in &status.field_key_versions {
            println!("  field key v{}: {} ({} rows)", key.version, key.state.as_str(), key.rows);
        }
    }
    Ok(())
}

/// Rotates the unsealed ring and re-encrypts every row, recording each step under `audit`.
async fn rotate(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    ring: UnsealedRing,
    batch: u32,
) -> anyhow::Result<()> {
    let version = key_rings::rotate(store, audit, &ring).await?;
    let ring = key_rings::reload(store, &ring).await?;
    println!("New field key version {version} of {jurisdiction}: new writes use it now.");
    let stale = |usage: &[canvass_store::KeyVersionUsage]| {
        usage.iter().filter(|u| u.version != version).map(|u| u.rows).sum::<u64>()
    };
    let progress = ProgressBar::new(stale(&store.key_version_usage(jurisdiction).await?));
    progress.set_style(
        ProgressStyle::with_template("re-encrypting {bar:30} {pos}/{len} rows, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    loop {
        let usage = store.key_version_usage(jurisdiction).await?;
        let Some(old) = usage.iter().find(|u| u.version != version).map(|u| u.version) else { break };
        let moved = canvass_server::voters::reseal_batch(store, audit, &ring, old, batch.max(1)).await?;
        progress.inc(moved);
    }
    progress.finish_and_clear();
    let retired = key_rings::retire_unused(store, audit, jurisdiction).await?;
    let remaining = store.key_ring(jurisdiction).await?.map(|ring| {
        ring.keys.iter().filter(|key| key.purpose == FIELD_PURPOSE && key.state == KeyState::Previous).count()
    });
    println!(
        "Every row of {jurisdiction} is sealed under version {version}; retired version(s) {:?}{}.",
        retired,
        if remaining.unwrap_or(0) > 0 {
            " (some previous versions are still in use; run rotate again later)"
        } else {
            ""
        }
    );
    Ok(())
}

fn encode(id: &str) -> String {
    utf8_percent_encode(id, NON_ALPHANUMERIC).to_string()
}

fn client(data: &Path, sign_in: &AdminSignIn) -> anyhow::Result<AdminClient> {
    let config = data_dir::load_config(data)?;
    let Some(token) = data_dir::secret_from(sign_in.token_file.as_deref(), TOKEN_VARIABLE, "API token")? else {
        bail!(
            "sign in to the node with an API token: --token-file FILE or {TOKEN_VARIABLE} (issue one with `canvass token add`)"
        );
    };
    AdminClient::new(&config, sign_in.admin_address, &token)
}

fn unseal_remote(data: &Path, jurisdiction: &str, unlock: &Unlock, sign_in: &AdminSignIn) -> anyhow::Result<ExitCode> {
    let body = match (unlock.passphrase_file.as_deref(), unlock.share_file.as_slice()) {
        (None, [share]) => serde_json::json!({ "share": data_dir::read_secret_file(share, "share")?.expose_secret() }),
        (None, []) | (Some(_), []) => match passphrase(unlock.passphrase_file.as_deref())? {
            Some(passphrase) => serde_json::json!({ "passphrase": passphrase.expose_secret() }),
            None => bail!("give --passphrase-file FILE (or {PASSPHRASE_VARIABLE}) or one official's --share-file FILE"),
        },
        _ => bail!("each official unseals with one --share-file; give exactly one share or a passphrase"),
    };
    let reply = client(data, sign_in)?.post(&format!("/api/jurisdictions/{}/unseal", encode(jurisdiction)), &body)?;
    match reply.status {
        200 => println!("{jurisdiction} is unsealed on the running node."),
        202 => println!(
            "Share accepted for {jurisdiction}: {} of {} needed. The next official runs the same command with their share.",
            reply.body["shares_received"], reply.body["shares_needed"]
        ),
        _ => bail!("{}", reply.error_message()),
    }
    Ok(ExitCode::SUCCESS)
}
