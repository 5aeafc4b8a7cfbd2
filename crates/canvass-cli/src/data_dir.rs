//! The data directory on disk: where each file lives, its permissions, reading secrets from
//! files, and opening the configured store. Every failure is one line saying what is wrong and
//! how to fix it.

use std::{
    fs,
    io::Write,
    os::unix::fs::{MetadataExt, OpenOptionsExt},
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, anyhow, bail};
use canvass_core::config::{CONFIG_FILE_NAME, DatabaseUrl, NodeConfig, SIGNING_KEY_FILE_NAME};
use canvass_crypto::{NodeSigningKey, SecretString};
use canvass_store::Store;
use canvass_store_postgres::PostgresStore;
use canvass_store_sqlite::{OpenMode, SqliteStore};

/// The variable that overrides `database_url`, so a password need not sit in the config file.
pub const DATABASE_URL_VARIABLE: &str = "CANVASS_DATABASE_URL";

pub fn config_path(data: &Path) -> PathBuf {
    data.join(CONFIG_FILE_NAME)
}

pub fn signing_key_path(data: &Path) -> PathBuf {
    data.join(SIGNING_KEY_FILE_NAME)
}

/// Permission bits of a path, or `None` if it does not exist.
pub fn mode(path: &Path) -> Option<u32> {
    fs::metadata(path).ok().map(|metadata| metadata.mode() & 0o7777)
}

/// Writes a new file that only the owner can read; refuses to overwrite.
pub fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents).and_then(|()| file.sync_all()).with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a secret (password, passphrase) from a file: the first line, without its newline.
pub fn read_secret_file(path: &Path, what: &str) -> anyhow::Result<SecretString> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read the {what} file {}", path.display()))?;
    let secret = text.lines().next().unwrap_or_default().to_owned();
    if secret.is_empty() {
        bail!("the {what} file {} is empty", path.display());
    }
    Ok(SecretString::from(secret))
}

/// A secret from `--*-file`, else from the named variable, else `None`.
pub fn secret_from(file: Option<&Path>, variable: &str, what: &str) -> anyhow::Result<Option<SecretString>> {
    if let Some(file) = file {
        return read_secret_file(file, what).map(Some);
    }
    match std::env::var(variable) {
        Ok(value) if !value.is_empty() => Ok(Some(SecretString::from(value))),
        _ => Ok(None),
    }
}

/// Checks that the data dir exists and is a directory.
pub fn require_data_dir(data: &Path) -> anyhow::Result<()> {
    match fs::metadata(data) {
        Ok(metadata) if metadata.is_dir() => Ok(()),
        Ok(_) => bail!("{} is not a directory", data.display()),
        Err(_) => bail!(
            "there is no data dir at {path}; create one with `canvass init --data {path}` or pass --data",
            path = data.display()
        ),
    }
}

/// Reads and parses `canvass.toml`, applying `CANVASS_DATABASE_URL` when set.
pub fn load_config(data: &Path) -> anyhow::Result<NodeConfig> {
    require_data_dir(data)?;
    let path = config_path(data);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => bail!(
            "{} is missing: this data dir is incomplete; restore the file from a backup or run `canvass init` into a new dir",
            path.display()
        ),
        Err(error) => bail!("cannot read {}: {error} (run canvass as the user that owns the data dir)", path.display()),
    };
    let mut config = NodeConfig::parse(&text).map_err(|error| anyhow!("{}: {error}", path.display()))?;
    if let Ok(url) = std::env::var(DATABASE_URL_VARIABLE)
        && !url.is_empty()
    {
        config.database = DatabaseUrl::parse(&url).map_err(|error| anyhow!("{DATABASE_URL_VARIABLE}: {error}"))?;
    }
    Ok(config)
}

/// Where an SQLite database file lives: relative paths are inside the data dir.
pub fn sqlite_path(data: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_owned() } else { data.join(path) }
}

/// Opens the configured database, running pending migrations.
pub async fn open_store(data: &Path, database: &DatabaseUrl, mode: OpenMode) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match database {
        DatabaseUrl::Sqlite { path } => Arc::new(SqliteStore::open(&sqlite_path(data, path), mode).await?),
        DatabaseUrl::Postgres { url } => Arc::new(PostgresStore::open(url).await?),
    };
    Ok(store)
}

/// Loads the node's signing key.
pub fn load_signing_key(data: &Path) -> anyhow::Result<NodeSigningKey> {
    let path = signing_key_path(data);
    let pem = fs::read_to_string(&path)
        .with_context(|| format!("cannot read the node signing key {}: restore it from your backup", path.display()))?;
    NodeSigningKey::from_pem(&pem).map_err(|error| anyhow!("{}: {error}", path.display()))
}

/// Refuses to run with a data dir or key file other users could read.
pub fn require_private(data: &Path) -> anyhow::Result<()> {
    let checks = [(data.to_owned(), "700"), (signing_key_path(data), "600")];
    for (path, fix) in checks {
        if let Some(mode) = mode(&path)
            && mode & 0o077 != 0
        {
            bail!(
                "{} is mode {mode:04o}, so other users on this machine can read it; fix with `chmod {fix} {}`",
                path.display(),
                path.display()
            );
        }
    }
    Ok(())
}

/// Opens everything a command that works on an existing node needs.
pub async fn open_existing(data: &Path) -> anyhow::Result<(NodeConfig, Arc<dyn Store>)> {
    let config = load_config(data)?;
    let store = open_store(data, &config.database, OpenMode::Existing).await?;
    Ok((config, store))
}
