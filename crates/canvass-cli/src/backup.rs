//! `canvass backup create|verify|restore`: one encrypted file of the whole node.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::bail;
use canvass_core::audit::Action;
use canvass_crypto::SecretString;
use canvass_server::backup::{self, Manifest};
use canvass_server::ledger::Audit;

use crate::data_dir;

/// The variable holding the backup passphrase for scripts.
pub const BACKUP_PASSPHRASE_VARIABLE: &str = "CANVASS_BACKUP_PASSPHRASE";

#[derive(Debug, clap::Subcommand)]
pub enum BackupCommand {
    /// Write an encrypted backup of this node (config, signing key, database) to a new file.
    Create {
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// File holding the backup passphrase (else CANVASS_BACKUP_PASSPHRASE).
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// Check a backup: decryption, integrity, the manifest signature, every file's hash, and
    /// (when --data names an existing node) that it was made by that node.
    Verify {
        file: PathBuf,
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// Restore a backup into a new data dir (given with --data).
    Restore {
        file: PathBuf,
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
}

fn passphrase(file: Option<&Path>) -> anyhow::Result<SecretString> {
    match data_dir::secret_from(file, BACKUP_PASSPHRASE_VARIABLE, "backup passphrase")? {
        Some(passphrase) => Ok(passphrase),
        None => bail!("give the backup passphrase with --passphrase-file FILE or {BACKUP_PASSPHRASE_VARIABLE}"),
    }
}

fn describe(manifest: &Manifest) {
    println!("  made {} by node {}", manifest.created_at, manifest.node_public_key);
    for file in &manifest.files {
        println!("  {} ({} bytes, sha256 {})", file.name, file.bytes, &file.sha256[..16]);
    }
}

pub async fn run(data: &Path, command: BackupCommand) -> anyhow::Result<ExitCode> {
    match command {
        BackupCommand::Create { to, passphrase_file } => {
            let passphrase = passphrase(passphrase_file.as_deref())?;
            if canvass_crypto::ExposeSecret::expose_secret(&passphrase).chars().count()
                < canvass_crypto::MINIMUM_PASSPHRASE_CHARACTERS
            {
                bail!("the backup passphrase is too short: use at least 16 characters");
            }
            let (_, store) = data_dir::open_existing(data).await?;
            let key = data_dir::load_signing_key(data)?;
            let audit = Audit::operator(store.clone());
            let entry = audit.entry(Action::BackupCreate);
            let outcome = audit.run(entry, backup::create(store.as_ref(), data, &key, &passphrase, &to)).await;
            store.close().await;
            let manifest = outcome?;
            println!("Wrote the encrypted backup {}", to.display());
            describe(&manifest);
        }
        BackupCommand::Verify { file, passphrase_file } => {
            let passphrase = passphrase(passphrase_file.as_deref())?;
            let expected = data_dir::signing_key_path(data)
                .exists()
                .then(|| data_dir::load_signing_key(data))
                .transpose()?
                .map(|key| key.public_key());
            let verified = backup::verify(&file, &passphrase, expected);
            if let Err(error) = &verified {
                record_failed_verification(data, &file, error).await;
            }
            let manifest = verified?;
            println!(
                "The backup {} is intact{}.",
                file.display(),
                if expected.is_some() { " and was made by this node" } else { "" }
            );
            describe(&manifest);
        }
        BackupCommand::Restore { file, passphrase_file } => {
            let passphrase = passphrase(passphrase_file.as_deref())?;
            let manifest = backup::restore(&file, &passphrase, data)?;
            let snapshot = data.join(backup::POSTGRES_SNAPSHOT_NAME);
            if snapshot.exists() {
                if let Err(error) = load_postgres_snapshot(data, &snapshot).await {
                    // The restore is all or nothing: remove what was written.
                    let _removed = std::fs::remove_dir_all(data);
                    return Err(error);
                }
                println!("Loaded the PostgreSQL snapshot into the configured database.");
            }
            // The restored ledger ends where the backup was made: the restore itself is its next
            // entry, and verifiers that saw the later entries will report the truncation.
            let (_, store) = data_dir::open_existing(data).await?;
            let entry = Audit::operator(store.clone()).entry(Action::BackupRestore);
            let recorded = Audit::operator(store.clone()).record(&entry).await;
            store.close().await;
            recorded?;
            println!("Restored {} into {}", file.display(), data.display());
            describe(&manifest);
            println!(
                "Next: `canvass doctor --data {0}`, then `canvass serve --data {0}` and unseal each jurisdiction.",
                data.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A PostgreSQL node's backup: loads its pg_dump into the database the restored config (or
/// CANVASS_DATABASE_URL) names, which must be empty, then removes the dump file.
async fn load_postgres_snapshot(data: &Path, snapshot: &Path) -> anyhow::Result<()> {
    let config = data_dir::load_config(data)?;
    let canvass_core::config::DatabaseUrl::Postgres { url } = &config.database else {
        bail!(
            "this backup is of a PostgreSQL node: set CANVASS_DATABASE_URL to an empty PostgreSQL database to restore into"
        );
    };
    canvass_store_postgres::restore_snapshot(url, snapshot).await?;
    std::fs::remove_file(snapshot)?;
    Ok(())
}

/// A backup that exists but fails verification (altered, truncated, not made by this node) is
/// an incident on the node whose data dir `--data` names; a wrong passphrase or a missing file
/// is the operator's typo, not an incident. A detector failure is reported, never fatal.
async fn record_failed_verification(data: &Path, file: &Path, error: &canvass_server::ServerError) {
    if matches!(error, canvass_server::ServerError::WrongSecret(_))
        || !file.is_file()
        || !data_dir::config_path(data).exists()
    {
        return;
    }
    let name = file.file_name().map_or_else(|| "backup".to_owned(), |name| name.to_string_lossy().into_owned());
    let recorded = async {
        let (_, store) = data_dir::open_existing(data).await?;
        let audit = Audit::operator(store.clone());
        let register = canvass_server::incidents::Register::beside(store.as_ref(), &audit);
        let detected =
            canvass_server::incident_detectors::backup_verification_failed(&register, &name, &error.to_string()).await;
        store.close().await;
        detected.map_err(anyhow::Error::from)
    }
    .await;
    match recorded {
        Ok(()) => println!("An incident was opened for this backup's failed verification."),
        Err(detector_error) => eprintln!("warning: could not open an incident for this failure: {detector_error:#}"),
    }
}
