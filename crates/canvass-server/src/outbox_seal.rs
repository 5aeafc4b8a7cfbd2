//! Messages to voters sealed at rest in the outbox. A message addressed to `voter:NUMBER` may
//! carry a credential (a UOCAVA ballot link) or say what a voter asked for, so its body is
//! sealed under the voter's roll's key ring when it is queued and opened by the sender only at
//! send time, with the same ring it opens the voter's address with. A database read before the
//! message is sent yields ciphertext.
//!
//! The body is stored as `sealed-v1:NONCE:BASE64`: the ciphertext is bound (through the voters'
//! [`Sealer`], field `outbox_body`) to the jurisdiction, the recipient and a random per-message
//! nonce, so a sealed body copied to another voter's message, or another jurisdiction's, fails
//! to open.

use base64::{Engine, engine::general_purpose::STANDARD};
use canvass_core::id::JurisdictionId;
use canvass_store::Store;

use crate::{ServerError, keys::UnsealedRing, voters::Sealer};

const PREFIX: &str = "sealed-v1:";
const FIELD: &str = "outbox_body";

fn record(recipient: &str, nonce: &str) -> String {
    format!("outbox:{recipient}:{nonce}")
}

/// The body as stored: sealed for the recipient under the ring's active key.
pub fn seal_body(ring: &UnsealedRing, recipient: &str, body: &str) -> Result<String, ServerError> {
    let nonce = canvass_crypto::random_hex(16)?;
    let record = record(recipient, &nonce);
    let sealer = Sealer { ring, record: &record, version: ring.active_version() };
    let sealed = sealer.seal(FIELD, body)?;
    Ok(format!("{PREFIX}{nonce}:{}", STANDARD.encode(sealed)))
}

/// Whether a stored body is sealed (it then needs the recipient's ring to be read).
pub fn is_sealed(body: &str) -> bool {
    body.starts_with(PREFIX)
}

/// The body to send: a sealed body opened with the ring, any other as it is.
pub fn open_body(ring: &UnsealedRing, recipient: &str, body: &str) -> Result<String, ServerError> {
    let Some(rest) = body.strip_prefix(PREFIX) else { return Ok(body.to_owned()) };
    let malformed = || ServerError::Internal("a sealed outbox message is malformed".into());
    let (nonce, encoded) = rest.split_once(':').ok_or_else(malformed)?;
    let sealed = STANDARD.decode(encoded).map_err(|_| malformed())?;
    let version = canvass_crypto::sealed_key_version(&sealed).ok_or_else(malformed)?;
    let record = record(recipient, nonce);
    Sealer { ring, record: &record, version }.open(FIELD, &sealed)
}

/// Queues a message to a voter, by number, its body sealed under `ring` (the voter's roll's).
pub async fn queue_voter_message(
    store: &dyn Store,
    ring: &UnsealedRing,
    registration_number: &str,
    subject: &str,
    body: &str,
    at: i64,
) -> Result<i64, ServerError> {
    let recipient = format!("voter:{registration_number}");
    let sealed = seal_body(ring, &recipient, body)?;
    Ok(store.enqueue_mail(&recipient, subject, &sealed, at).await?)
}

/// The key version a sealed body is under; None for a body that is not sealed (or malformed).
fn sealed_version(body: &str) -> Option<u32> {
    let (_, encoded) = body.strip_prefix(PREFIX)?.split_once(':')?;
    canvass_crypto::sealed_key_version(&STANDARD.decode(encoded).ok()?)
}

/// The most queued messages looked at when deciding whether a key version is still needed.
const QUEUE_SCAN: u32 = 100_000;

/// Whether a field key version of the jurisdiction still seals something kept outside the roll
/// that must stay readable: a message to one of its voters not sent yet (a ballot link), or a
/// held FPCA not decided yet. Key rotation does not retire such a version: the rows are
/// append-only, so they are not resealed; the version retires once they are sent or decided.
pub async fn version_in_use(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    version: u32,
) -> Result<bool, ServerError> {
    for pending in store.pending_fpcas(true).await? {
        if pending.jurisdiction == *jurisdiction
            && canvass_crypto::sealed_key_version(&pending.sealed_request) == Some(version)
        {
            return Ok(true);
        }
    }
    for message in store.pending_mail(QUEUE_SCAN).await? {
        let Some(number) = message.recipient.strip_prefix("voter:") else { continue };
        // The sender gives a message up after ten attempts: it will never be opened.
        if message.attempts >= 10 || sealed_version(&message.body) != Some(version) {
            continue;
        }
        if store.voter(number).await?.is_some_and(|voter| voter.jurisdiction == *jurisdiction) {
            return Ok(true);
        }
    }
    Ok(false)
}
