//! Voters' signature images: confidential (G.S. 163-82.10), so each is sealed under the
//! jurisdiction's field key, bound to (jurisdiction, `voter_signatures`, voter, `signature`,
//! key version), before the store sees it. Only PNG and JPEG images up to 1 MiB are accepted
//! (by their first bytes, not a name or a declared type). Setting one is a ledger entry without
//! the image; every opening is a `voter.read` entry naming the field, recorded before the bytes
//! leave. No export includes them: the public extract and the bulk export read voter rows only.

use canvass_core::{
    audit::{Action, now_millis},
    id::JurisdictionId,
};
use canvass_crypto::FieldContext;
use canvass_store::{Store, StoredSignature};
use zeroize::Zeroizing;

use crate::{
    ServerError,
    keys::UnsealedRing,
    ledger::{Audit, target},
};

/// The largest image accepted, in bytes (1 MiB): a scanned signature is a few dozen KiB.
pub const MAX_SIGNATURE_BYTES: usize = 1024 * 1024;

/// The table named in the sealed value's context.
const TABLE: &str = "voter_signatures";
/// The field named in the sealed value's context and in read entries.
pub const FIELD: &str = "signature";

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];

/// The image's media type from its first bytes, or why it is refused.
pub fn media_type_of(image: &[u8]) -> Result<&'static str, ServerError> {
    if image.is_empty() {
        return Err(ServerError::Invalid("signature: the file is empty".into()));
    }
    if image.len() > MAX_SIGNATURE_BYTES {
        return Err(ServerError::Invalid(format!(
            "signature: the image is {} bytes; at most {MAX_SIGNATURE_BYTES} (1 MiB) are accepted",
            image.len()
        )));
    }
    if image.starts_with(PNG_MAGIC) {
        Ok("image/png")
    } else if image.starts_with(JPEG_MAGIC) {
        Ok("image/jpeg")
    } else {
        Err(ServerError::Invalid("signature: only PNG or JPEG images are accepted (the file is neither)".into()))
    }
}

fn context<'a>(ring: &'a UnsealedRing, record: &'a str, key_version: u32) -> FieldContext<'a> {
    FieldContext { jurisdiction: ring.jurisdiction(), table: TABLE, record, field: FIELD, key_version }
}

fn ring_jurisdiction(ring: &UnsealedRing, jurisdiction: &JurisdictionId) -> Result<(), ServerError> {
    if ring.jurisdiction() == jurisdiction.as_str() {
        Ok(())
    } else {
        Err(ServerError::Internal(format!(
            "the ring of {} cannot seal {jurisdiction}'s signatures",
            ring.jurisdiction()
        )))
    }
}

/// What is shown about a stored signature without opening it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignatureFacts {
    pub media_type: String,
    pub size: u64,
    pub added_at: i64,
    pub added_by: String,
}

impl From<&StoredSignature> for SignatureFacts {
    fn from(signature: &StoredSignature) -> Self {
        Self {
            media_type: signature.media_type.clone(),
            size: signature.size,
            added_at: signature.added_at,
            added_by: signature.added_by.clone(),
        }
    }
}

/// Seals and stores the voter's signature image, replacing an earlier one. Refused (and
/// nothing written) unless it is a PNG or JPEG of at most 1 MiB and the voter is on the roll.
pub async fn set_signature(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    jurisdiction: &JurisdictionId,
    registration_number: &str,
    image: &[u8],
) -> Result<SignatureFacts, ServerError> {
    ring_jurisdiction(ring, jurisdiction)?;
    let media_type = media_type_of(image)?;
    if store.voter(registration_number).await?.filter(|voter| voter.jurisdiction == *jurisdiction).is_none() {
        return Err(ServerError::NotFound(format!(
            "no voter with registration number {registration_number} in {jurisdiction}"
        )));
    }
    let version = ring.active_version();
    let sealed_image = ring.cipher(version)?.seal(&context(ring, registration_number, version), image)?;
    let signature = StoredSignature {
        jurisdiction: jurisdiction.clone(),
        registration_number: registration_number.to_owned(),
        key_version: version,
        sealed_image,
        media_type: media_type.to_owned(),
        size: image.len() as u64,
        added_at: now_millis(),
        added_by: audit.actor.to_string(),
    };
    let entry = audit.entry(Action::VoterSignatureSet).with_jurisdiction(jurisdiction);
    let entry = target(entry, format!("voter:{registration_number}"))?;
    let entry = target(entry, format!("field:{FIELD}"))?;
    audit.run(entry, async { Ok(store.put_voter_signature(&signature).await?) }).await?;
    Ok(SignatureFacts::from(&signature))
}

/// What is stored of the voter's signature, without opening it (`None` if there is none).
pub async fn signature_facts(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    registration_number: &str,
) -> Result<Option<SignatureFacts>, ServerError> {
    Ok(store.voter_signature(jurisdiction, registration_number).await?.as_ref().map(SignatureFacts::from))
}

/// An opened signature image: its media type and bytes (wiped when dropped).
pub struct OpenedSignature {
    pub media_type: String,
    pub image: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for OpenedSignature {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("OpenedSignature").field("media_type", &self.media_type).finish_non_exhaustive()
    }
}

/// Opens the voter's signature for a reader the caller has authorized: the `voter.read` entry
/// naming the field (with the reason, if given) is recorded first. `NotFound` if there is none.
pub async fn open_signature(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    jurisdiction: &JurisdictionId,
    registration_number: &str,
    reason: Option<&str>,
) -> Result<OpenedSignature, ServerError> {
    ring_jurisdiction(ring, jurisdiction)?;
    let Some(stored) = store.voter_signature(jurisdiction, registration_number).await? else {
        return Err(ServerError::NotFound(format!(
            "no signature is stored for {registration_number} in {jurisdiction}"
        )));
    };
    let mut entry = audit.entry(Action::VoterRead).with_jurisdiction(jurisdiction);
    if let Some(text) = reason.map(str::trim).filter(|text| !text.is_empty()) {
        entry = entry.with_justification(text)?;
    }
    let entry = target(entry, format!("voter:{registration_number}"))?;
    let entry = target(entry, format!("field:{FIELD}"))?;
    audit.record(&entry).await?;
    let image = ring
        .cipher(stored.key_version)?
        .open(&context(ring, registration_number, stored.key_version), &stored.sealed_image)
        .map_err(|error| ServerError::Internal(format!("voter {registration_number} field {FIELD}: {error}")))?;
    Ok(OpenedSignature { media_type: stored.media_type, image })
}

/// Moves up to `batch` signatures sealed under `from_version` to the ring's active version;
/// returns how many moved (0 when none are left).
pub async fn reseal_batch(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    from_version: u32,
    batch: u32,
) -> Result<u64, ServerError> {
    let jurisdiction = JurisdictionId::parse(ring.jurisdiction())?;
    let stored = store.signatures_sealed_with(&jurisdiction, from_version, batch).await?;
    if stored.is_empty() {
        return Ok(0);
    }
    let entry = audit.entry(Action::KeysReseal).with_jurisdiction(&jurisdiction);
    let entry = target(entry, format!("key_version:{from_version}"))?;
    let entry = target(entry, format!("key_version:{}", ring.active_version()))?;
    let entry = target(entry, format!("field:{FIELD}"))?;
    audit.record(&entry).await?;
    let version = ring.active_version();
    let mut moved = Vec::with_capacity(stored.len());
    for signature in &stored {
        let number = signature.registration_number.as_str();
        let image = ring
            .cipher(signature.key_version)?
            .open(&context(ring, number, signature.key_version), &signature.sealed_image)
            .map_err(|error| ServerError::Internal(format!("voter {number} field {FIELD}: {error}")))?;
        let sealed_image = ring.cipher(version)?.seal(&context(ring, number, version), &image)?;
        moved.push(StoredSignature { key_version: version, sealed_image, ..signature.clone() });
    }
    Ok(store.reseal_signatures(&moved, from_version).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_png_and_jpeg_up_to_one_mebibyte_pass() {
        assert_eq!(media_type_of(b"\x89PNG\r\n\x1a\nrest").ok(), Some("image/png"));
        assert_eq!(media_type_of(&[0xFF, 0xD8, 0xFF, 0xE0, 0]).ok(), Some("image/jpeg"));
        for refused in [&b""[..], b"GIF89a....", b"%PDF-1.7", b"\x89PNG but not"] {
            assert!(matches!(media_type_of(refused), Err(ServerError::Invalid(_))), "{refused:?}");
        }
        let mut large = PNG_MAGIC.to_vec();
        large.resize(MAX_SIGNATURE_BYTES, 0);
        assert!(media_type_of(&large).is_ok(), "exactly 1 MiB passes");
        large.push(0);
        assert!(matches!(media_type_of(&large), Err(ServerError::Invalid(_))), "one byte more does not");
    }
}
