//! `canvass init`: creates a data directory in one step. Everything is built in a private
//! staging directory next to the target and renamed into place at the end, so a failure
//! leaves no half-initialised data dir behind.

use std::{
    fs,
    os::unix::fs::{DirBuilderExt, PermissionsExt},
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{Context, bail};
use canvass_core::audit::{Action, Actor, AuditEntry, Outcome};
use canvass_core::{
    config::{DatabaseUrl, NodeConfig},
    credential::Username,
};
use canvass_crypto::{ExposeSecret, NodeSigningKey, SecretString, generate_password};
use canvass_server::ledger::Audit;
use canvass_server::staff;
use canvass_store_sqlite::OpenMode;

use crate::data_dir::{self, config_path, open_store, signing_key_path, write_private_file};

/// The variable `init` and `admin set-password` read the administrator password from.
pub const ADMIN_PASSWORD_VARIABLE: &str = "CANVASS_ADMIN_PASSWORD";

#[derive(Debug, clap::Args)]
pub struct InitArguments {
    /// Username of the first administrator.
    #[arg(long, default_value = "admin", value_name = "NAME")]
    pub admin_user: String,
    /// File holding the first administrator's password (at least 12 characters). Without it,
    /// CANVASS_ADMIN_PASSWORD is used, or a strong password is generated and printed once.
    #[arg(long, value_name = "FILE")]
    pub admin_password_file: Option<PathBuf>,
    /// Use this database instead of the embedded SQLite file (postgres://user@host/db). Keep
    /// passwords out of it: set CANVASS_DATABASE_URL when serving instead.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// What `init` made, for the caller to report.
#[derive(Debug)]
pub struct Initialised {
    pub administrator: Username,
    /// Set when the password was generated here and must be shown once.
    pub generated_password: Option<SecretString>,
    pub public_key: String,
}

pub async fn run(data: &Path, arguments: InitArguments) -> anyhow::Result<ExitCode> {
    let username = Username::parse(&arguments.admin_user)?;
    let password = data_dir::secret_from(
        arguments.admin_password_file.as_deref(),
        ADMIN_PASSWORD_VARIABLE,
        "administrator password",
    )?;
    let initialised = create(data, &username, password, arguments.database_url.as_deref()).await?;
    println!("Created data dir {}", data.display());
    println!("  node signing key: {} (public {})", signing_key_path(data).display(), initialised.public_key);
    println!("  administrator:    {}", initialised.administrator);
    if let Some(password) = &initialised.generated_password {
        println!("  password (shown once, store it safely): {}", password.expose_secret());
    }
    println!("Next: `canvass doctor --data {0}`, then `canvass serve --data {0}`", data.display());
    Ok(ExitCode::SUCCESS)
}

/// Refuses a target that exists and holds anything.
fn check_target(data: &Path) -> anyhow::Result<()> {
    match fs::read_dir(data) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "{} is not empty; canvass init only creates new data dirs (choose another --data)",
                    data.display()
                );
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotADirectory => {
            bail!("{} exists and is not a directory", data.display())
        }
        Err(error) => bail!("cannot inspect {}: {error}", data.display()),
    }
}

fn staging_path(data: &Path) -> anyhow::Result<PathBuf> {
    let name = data.file_name().with_context(|| format!("{} does not name a directory", data.display()))?;
    let parent = match data.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        bail!("the parent directory {} does not exist", parent.display());
    }
    Ok(parent.join(format!(".{}.canvass-init-{}", name.to_string_lossy(), std::process::id())))
}

/// Builds a complete data dir at `data`. Used by `init` and by `serve --demo`.
pub async fn create(
    data: &Path,
    username: &Username,
    password: Option<SecretString>,
    database_url: Option<&str>,
) -> anyhow::Result<Initialised> {
    check_target(data)?;
    if let Some(password) = &password {
        canvass_core::credential::check_new_password(password.expose_secret())
            .context("the administrator password is too weak")?;
    }
    let database = database_url.map(DatabaseUrl::parse).transpose()?;
    let staging = staging_path(data)?;
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    let result = populate(&staging, username, password, database.as_ref()).await;
    let finished = result.and_then(|initialised| {
        // An existing empty target is replaced; rename is atomic on one filesystem.
        fs::rename(&staging, data).with_context(|| format!("cannot move the new data dir into {}", data.display()))?;
        fs::set_permissions(data, fs::Permissions::from_mode(0o700))?;
        Ok(initialised)
    });
    if finished.is_err() {
        let _removed = fs::remove_dir_all(&staging);
    }
    finished
}

async fn populate(
    staging: &Path,
    username: &Username,
    password: Option<SecretString>,
    database: Option<&DatabaseUrl>,
) -> anyhow::Result<Initialised> {
    let config_text = match database {
        Some(DatabaseUrl::Postgres { url }) => NodeConfig::file_text(url),
        _ => NodeConfig::default_file_text(),
    };
    let config = NodeConfig::parse(&config_text)?;
    write_private_file(&config_path(staging), config_text.as_bytes())?;

    let key = NodeSigningKey::generate()?;
    write_private_file(&signing_key_path(staging), key.to_pem()?.as_bytes())?;

    let store = open_store(staging, &config.database, OpenMode::Create).await?;
    let generated_password = match password {
        Some(_) => None,
        None => Some(generate_password(4)?),
    };
    let password = password.or_else(|| generated_password.clone()).context("no administrator password")?;
    let audit = Audit::operator(store.clone());
    audit.record(&AuditEntry::new(Actor::System, Action::LedgerStart, Outcome::Allowed)).await?;
    staff::set_administrator_password(store.as_ref(), &audit, username, password).await?;
    store.close().await;
    Ok(Initialised { administrator: username.clone(), generated_password, public_key: key.public_key().to_hex() })
}
