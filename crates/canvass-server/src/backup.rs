//! `canvass backup`: one age-encrypted file holding the whole node (config, signing key and a
//! consistent database snapshot) and a manifest signed by the node key, so a verifier can tell
//! a damaged file, a modified one, and one from another node apart.
//!
//! Inside the encryption: a tar archive of `manifest.json`, `manifest.sig` (hex Ed25519
//! signature of manifest.json) and the files the manifest lists with their SHA-256.

use std::{
    fs,
    io::{BufReader, BufWriter, Seek, SeekFrom, Write},
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

use canvass_core::config::{CONFIG_FILE_NAME, SIGNING_KEY_FILE_NAME, SQLITE_FILE_NAME};
use canvass_crypto::{NodeSigningKey, PublicKey, SecretString, decrypt_backup, encrypt_backup, sha256_hex};
use canvass_store::Store;
use serde::{Deserialize, Serialize};

use crate::ServerError;

const FORMAT: &str = "canvass-backup-1";
/// The snapshot of a PostgreSQL node: a plain pg_dump, loaded by `canvass backup restore`.
pub const POSTGRES_SNAPSHOT_NAME: &str = "database.sql";

/// The snapshot file for the store's backend.
fn snapshot_name(store: &dyn Store) -> &'static str {
    if store.backend() == "postgres" { POSTGRES_SNAPSHOT_NAME } else { SQLITE_FILE_NAME }
}

/// One file in the backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What a backup holds, signed by the node that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub created_at: String,
    /// Hex Ed25519 public key of the node that made the backup.
    pub node_public_key: String,
    pub files: Vec<ManifestFile>,
}

fn io(context: &str) -> impl Fn(std::io::Error) -> ServerError + '_ {
    move |error| ServerError::Invalid(format!("{context}: {error}"))
}

fn crypto(error: canvass_crypto::CryptoError) -> ServerError {
    match error {
        canvass_crypto::CryptoError::WrongPassphrase => {
            ServerError::WrongSecret("the backup passphrase is wrong".into())
        }
        other => ServerError::Invalid(other.to_string()),
    }
}

/// A private scratch directory beside `near`, removed when dropped.
fn scratch(near: &Path) -> Result<tempfile::TempDir, ServerError> {
    tempfile::Builder::new()
        .prefix(".canvass-backup-")
        .tempdir_in(near)
        .map_err(io("cannot create a scratch directory"))
}

fn file_entry(directory: &Path, name: &str) -> Result<ManifestFile, ServerError> {
    let path = directory.join(name);
    let bytes = fs::metadata(&path).map_err(io(name))?.len();
    let sha256 = sha256_hex(&mut fs::File::open(&path).map_err(io(name))?).map_err(io(name))?;
    Ok(ManifestFile { name: name.to_owned(), bytes, sha256 })
}

/// Writes an encrypted backup of the node at `data` to `destination` (a new file, 0600).
pub async fn create(
    store: &dyn Store,
    data: &Path,
    signing_key: &NodeSigningKey,
    passphrase: &SecretString,
    destination: &Path,
) -> Result<Manifest, ServerError> {
    if destination.exists() {
        return Err(ServerError::Conflict(format!("{} already exists; choose a new file name", destination.display())));
    }
    let work = scratch(data)?;
    let snapshot = snapshot_name(store);
    store.snapshot_into(&work.path().join(snapshot)).await?;
    for name in [CONFIG_FILE_NAME, SIGNING_KEY_FILE_NAME] {
        fs::copy(data.join(name), work.path().join(name)).map_err(io(name))?;
    }
    let files = [CONFIG_FILE_NAME, SIGNING_KEY_FILE_NAME, snapshot]
        .iter()
        .map(|name| file_entry(work.path(), name))
        .collect::<Result<Vec<_>, _>>()?;
    let created_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|error| ServerError::Internal(error.to_string()))?;
    let manifest =
        Manifest { format: FORMAT.into(), created_at, node_public_key: signing_key.public_key().to_hex(), files };
    let manifest_bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|error| ServerError::Internal(error.to_string()))?;
    let signature = crate::results_publish::hex(&signing_key.sign(&manifest_bytes));

    let archive_path = work.path().join("backup.tar");
    let mut archive = tar::Builder::new(BufWriter::new(fs::File::create(&archive_path).map_err(io("archive"))?));
    let mut append_bytes = |name: &str, bytes: &[u8]| -> Result<(), ServerError> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        header.set_cksum();
        archive.append_data(&mut header, name, bytes).map_err(io("archive"))
    };
    append_bytes("manifest.json", &manifest_bytes)?;
    append_bytes("manifest.sig", signature.as_bytes())?;
    for file in &manifest.files {
        archive.append_path_with_name(work.path().join(&file.name), &file.name).map_err(io("archive"))?;
    }
    archive.into_inner().map_err(io("archive"))?.flush().map_err(io("archive"))?;

    let output = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(destination)
        .map_err(io("cannot create the backup file"))?;
    let mut input = BufReader::new(fs::File::open(&archive_path).map_err(io("archive"))?);
    let written = encrypt_backup(passphrase, &mut input, BufWriter::new(output)).map_err(crypto);
    if written.is_err() {
        let _removed = fs::remove_file(destination);
    }
    written?;
    Ok(manifest)
}

/// Decrypts and checks a backup into a scratch directory: the age integrity check, the
/// manifest's signature, every file's size and hash, and (given) the node it must come from.
fn unpack_checked(
    file: &Path,
    passphrase: &SecretString,
    expected_node: Option<PublicKey>,
    near: &Path,
) -> Result<(Manifest, tempfile::TempDir), ServerError> {
    let work = scratch(near)?;
    let mut archive_file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(work.path().join("backup.tar"))
        .map_err(io("scratch"))?;
    let input = fs::File::open(file).map_err(io(&format!("cannot read {}", file.display())))?;
    decrypt_backup(passphrase, input, &mut archive_file).map_err(crypto)?;
    archive_file.seek(SeekFrom::Start(0)).map_err(io("scratch"))?;
    let unpacked = work.path().join("files");
    fs::create_dir(&unpacked).map_err(io("scratch"))?;
    let mut archive = tar::Archive::new(BufReader::new(archive_file));
    for entry in archive.entries().map_err(io("the backup archive is malformed"))? {
        let mut entry = entry.map_err(io("the backup archive is malformed"))?;
        let name = entry.path().map_err(io("the backup archive is malformed"))?.to_string_lossy().into_owned();
        let allowed = [
            "manifest.json",
            "manifest.sig",
            CONFIG_FILE_NAME,
            SIGNING_KEY_FILE_NAME,
            SQLITE_FILE_NAME,
            POSTGRES_SNAPSHOT_NAME,
        ];
        if !allowed.contains(&name.as_str()) {
            return Err(ServerError::Invalid(format!("the backup holds an unexpected entry `{name}`")));
        }
        entry.unpack(unpacked.join(&name)).map_err(io("the backup archive is malformed"))?;
    }
    let manifest_bytes = fs::read(unpacked.join("manifest.json")).map_err(io("the backup has no manifest"))?;
    let signature_hex =
        fs::read_to_string(unpacked.join("manifest.sig")).map_err(io("the backup's manifest is not signed"))?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|error| ServerError::Invalid(format!("the backup manifest is malformed: {error}")))?;
    if manifest.format != FORMAT {
        return Err(ServerError::Invalid(format!("unknown backup format `{}`", manifest.format)));
    }
    let key = PublicKey::from_hex(&manifest.node_public_key)
        .ok_or_else(|| ServerError::Invalid("the manifest names no valid node key".into()))?;
    let signature: Vec<u8> = (0..signature_hex.trim().len())
        .step_by(2)
        .filter_map(|start| {
            signature_hex.trim().get(start..start + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect();
    if !key.verify(&manifest_bytes, &signature) {
        return Err(ServerError::Invalid("the backup manifest's signature does not verify: it was modified".into()));
    }
    if let Some(expected) = expected_node
        && expected != key
    {
        return Err(ServerError::Invalid(format!(
            "this backup was made by another node (key {}), not by this one (key {})",
            key.to_hex(),
            expected.to_hex()
        )));
    }
    for file in &manifest.files {
        let actual = file_entry(&unpacked, &file.name)
            .map_err(|_| ServerError::Invalid(format!("the backup lacks {}", file.name)))?;
        if actual != *file {
            return Err(ServerError::Invalid(format!("{} in the backup does not match its manifest", file.name)));
        }
    }
    Ok((manifest, work))
}

/// Checks a backup without restoring it.
pub fn verify(
    file: &Path,
    passphrase: &SecretString,
    expected_node: Option<PublicKey>,
) -> Result<Manifest, ServerError> {
    let near = std::env::temp_dir();
    unpack_checked(file, passphrase, expected_node, &near).map(|(manifest, _work)| manifest)
}

/// Restores a checked backup into a new data dir (which must not exist or be empty). A
/// PostgreSQL node's snapshot is left as [`POSTGRES_SNAPSHOT_NAME`] in the data dir for the
/// caller to load into the database the restored node will use.
pub fn restore(file: &Path, passphrase: &SecretString, data: &Path) -> Result<Manifest, ServerError> {
    if fs::read_dir(data).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(ServerError::Conflict(format!("{} is not empty; restore into a new data dir", data.display())));
    }
    let parent: PathBuf = match data.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let (manifest, work) = unpack_checked(file, passphrase, None, &parent)?;
    let unpacked = work.path().join("files");
    for name in ["manifest.json", "manifest.sig"] {
        fs::remove_file(unpacked.join(name)).map_err(io("scratch"))?;
    }
    use std::os::unix::fs::PermissionsExt;
    for file in &manifest.files {
        fs::set_permissions(unpacked.join(&file.name), fs::Permissions::from_mode(0o600)).map_err(io("scratch"))?;
    }
    fs::set_permissions(&unpacked, fs::Permissions::from_mode(0o700)).map_err(io("scratch"))?;
    fs::rename(&unpacked, data).map_err(io(&format!("cannot move the restored files into {}", data.display())))?;
    Ok(manifest)
}
