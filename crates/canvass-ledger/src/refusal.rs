//! A witness's signed refusal: the statement a witness sends a log when it will not cosign a
//! checkpoint (the log shrank, forked, or did not prove it extends what the witness cosigned),
//! so the log's office learns of it. It is a signed note whose text is
//!
//! ```text
//! canvass witness refusal v1
//! origin <log origin>
//! time <seconds since the epoch>
//! refused <checkpoint size> <base64 root hash>
//! cosigned <size the witness last cosigned>
//! reason <one line>
//! ```
//!
//! signed by the witness's key under its cosignature key's name and key id (the key a log
//! lists in `ledger.witnesses`). The signature is over `canvass witness refusal v1\0` followed
//! by the text: no note text or cosignature/v1 message can hold a NUL byte ([`Note::parse`]
//! refuses control characters), so a refusal signature never verifies as a checkpoint
//! signature or a cosignature, and neither verifies as a refusal.

use crate::{Hash, LedgerError, Note, NoteSignature, NoteSigner, VerifierKey};

const FIRST_LINE: &str = "canvass witness refusal v1";
const SIGNING_CONTEXT: &[u8] = b"canvass witness refusal v1\0";
/// The longest reason a refusal carries: enough for any of the witness's messages, short
/// enough that a refusal stays a small note.
pub const MAX_REASON_CHARS: usize = 300;
const MAX_ORIGIN_CHARS: usize = 255;

/// What a witness refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub origin: String,
    /// When the witness refused, in seconds since the epoch: the receiver's replay window.
    pub time: u64,
    pub refused_size: u64,
    pub refused_root: Hash,
    pub cosigned_size: u64,
    /// One line of at most [`MAX_REASON_CHARS`] characters.
    pub reason: String,
}

impl Refusal {
    /// A refusal with `reason` made one line (control characters become spaces) and cut to
    /// [`MAX_REASON_CHARS`].
    pub fn new(origin: &str, time: u64, refused: (u64, Hash), cosigned_size: u64, reason: &str) -> Self {
        let one_line: String = reason.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let mut reason: String = one_line.trim().chars().take(MAX_REASON_CHARS).collect();
        if reason.is_empty() {
            reason = "no reason given".to_owned();
        }
        Self {
            origin: origin.to_owned(),
            time,
            refused_size: refused.0,
            refused_root: refused.1,
            cosigned_size,
            reason,
        }
    }

    pub fn to_text(&self) -> String {
        format!(
            "{FIRST_LINE}\norigin {}\ntime {}\nrefused {} {}\ncosigned {}\nreason {}\n",
            self.origin,
            self.time,
            self.refused_size,
            self.refused_root.to_base64(),
            self.cosigned_size,
            self.reason
        )
    }

    /// Reads a refusal's text: exactly the six lines, in order.
    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        let bad = |reason: &str| LedgerError::malformed("witness refusal", reason.to_owned());
        let body = text.strip_suffix('\n').ok_or_else(|| bad("does not end with a newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        let &[first, origin, time, refused, cosigned, reason] = lines.as_slice() else {
            return Err(bad("expected six lines: the version, origin, time, refused, cosigned and reason"));
        };
        if first != FIRST_LINE {
            return Err(bad("the first line is not `canvass witness refusal v1`"));
        }
        let origin = field(origin, "origin").ok_or_else(|| bad("no `origin` line"))?;
        if origin.is_empty() || origin.chars().count() > MAX_ORIGIN_CHARS {
            return Err(bad("the origin must be 1-255 characters"));
        }
        let time = number(field(time, "time").ok_or_else(|| bad("no `time` line"))?, "time")?;
        let (size, root) = field(refused, "refused")
            .and_then(|rest| rest.split_once(' '))
            .ok_or_else(|| bad("no `refused <size> <root>` line"))?;
        let refused_size = number(size, "refused size")?;
        let refused_root = Hash::from_base64(root).map_err(|_| bad("the refused root is not 32 bytes of base64"))?;
        let cosigned_size = number(field(cosigned, "cosigned").ok_or_else(|| bad("no `cosigned` line"))?, "cosigned")?;
        let reason = field(reason, "reason").ok_or_else(|| bad("no `reason` line"))?;
        if reason.trim().is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(bad("the reason must be 1-300 characters"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            time,
            refused_size,
            refused_root,
            cosigned_size,
            reason: reason.to_owned(),
        })
    }
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.strip_prefix(name)?.strip_prefix(' ')
}

fn number(text: &str, what: &str) -> Result<u64, LedgerError> {
    let value: u64 =
        text.parse().map_err(|_| LedgerError::malformed("witness refusal", format!("the {what} is not a number")))?;
    if value.to_string() != text {
        return Err(LedgerError::malformed("witness refusal", format!("the {what} has a sign or leading zeros")));
    }
    Ok(value)
}

fn signed_message(text: &str) -> Vec<u8> {
    let mut message = SIGNING_CONTEXT.to_vec();
    message.extend_from_slice(text.as_bytes());
    message
}

/// The refusal as a note signed by the witness, under its cosignature key's name and id.
pub fn sign_refusal(refusal: &Refusal, signer: &NoteSigner<'_>) -> Note {
    let text = refusal.to_text();
    let key = signer.cosignature_key().0;
    let signature = signer.key().sign(&signed_message(&text)).to_vec();
    Note { text, signatures: vec![NoteSignature { name: key.name, key_id: key.key_id, signature }] }
}

impl VerifierKey {
    /// For a witness's cosignature key: the refusal `note` states, when this key signed it.
    pub fn verify_refusal(&self, note: &Note) -> Result<Refusal, LedgerError> {
        if !self.is_cosignature_key() {
            return Err(LedgerError::Signature(format!("{} is not a witness's cosignature key", self.name)));
        }
        let message = signed_message(&note.text);
        if !self.signatures_in(note).any(|signature| self.public().verify(&message, &signature.signature)) {
            return Err(LedgerError::Signature(format!("no valid refusal signature by {}", self.name)));
        }
        Refusal::parse(&note.text)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use canvass_crypto::NodeSigningKey;

    use super::*;
    use crate::{Checkpoint, NoteVerifier, cosign_checkpoint, sign_checkpoint};

    fn refusal() -> Refusal {
        Refusal::new("example.gov/log", 1_700_000_000, (41, crate::leaf_hash(b"x")), 42, "the log shrank\nfrom 42")
    }

    #[test]
    fn a_signed_refusal_round_trips_and_verifies_only_with_its_key_and_text() {
        let key = NodeSigningKey::generate().unwrap();
        let witness = NoteSigner::new("witness.example", &key).unwrap();
        let note = sign_refusal(&refusal(), &witness);
        assert!(note.text.starts_with("canvass witness refusal v1\norigin example.gov/log\n"));
        assert!(note.text.ends_with("reason the log shrank from 42\n"), "one line: {}", note.text);
        let parsed = Note::parse(note.to_text().as_bytes()).unwrap();
        let verifier = VerifierKey::parse(&witness.cosignature_key().0.to_string()).unwrap();
        assert_eq!(verifier.verify_refusal(&parsed).unwrap(), refusal());
        let mut altered = parsed.clone();
        altered.text = altered.text.replace("refused 41", "refused 40");
        assert!(verifier.verify_refusal(&altered).is_err());
        let other_key = NodeSigningKey::generate().unwrap();
        let other = NoteSigner::new("witness.example", &other_key).unwrap();
        let other_verifier = other.cosignature_key().0;
        assert!(other_verifier.verify_refusal(&parsed).is_err());
        // Only a witness key verifies refusals.
        assert!(witness.verifier_key().verify_refusal(&parsed).is_err());
        let long = Refusal::new("o", 1, (1, crate::EMPTY_ROOT), 2, &"x".repeat(1000));
        assert_eq!(long.reason.chars().count(), MAX_REASON_CHARS);
        assert_eq!(Refusal::parse(&long.to_text()).unwrap(), long);
    }

    #[test]
    fn refusals_cosignatures_and_checkpoint_signatures_never_stand_for_each_other() {
        let key = NodeSigningKey::generate().unwrap();
        let witness = NoteSigner::new("witness.example", &key).unwrap();
        let cosigner = witness.cosignature_key().0;
        // A refusal is neither a cosignature nor an Ed25519 note signature by the same key pair.
        let refused = sign_refusal(&refusal(), &witness);
        assert!(cosigner.verify_cosignature(&refused).is_err());
        assert!(witness.verifier_key().verify(&refused).is_err());
        let plain = Note { text: refused.text.clone(), signatures: vec![witness.sign(&refused.text)] };
        assert!(cosigner.verify_refusal(&plain).is_err());
        // A cosignature of a text shaped like a refusal is not a refusal either.
        let cosigned =
            Note { text: refused.text.clone(), signatures: vec![cosign_checkpoint(&refused.text, &witness, 5)] };
        assert!(cosigner.verify_refusal(&cosigned).is_err());
        // And a checkpoint signed by the same key pair is not one.
        let checkpoint =
            Checkpoint { origin: "example.gov/log".into(), size: 1, root: crate::EMPTY_ROOT, extensions: vec![] };
        assert!(cosigner.verify_refusal(&sign_checkpoint(&checkpoint, &witness)).is_err());
    }

    #[test]
    fn malformed_refusals_are_refused() {
        let good = refusal().to_text();
        for bad in [
            good.replace("canvass witness refusal v1", "canvass witness refusal v2"),
            good.replace("origin example.gov/log", "origin "),
            good.replace("time 1700000000", "time -1"),
            good.replace("time 1700000000", "time 01700000000"),
            good.replace("refused 41 ", "refused 41"),
            good.replace("cosigned 42\n", ""),
            good.replace("reason the log shrank from 42", "reason  "),
            good.replace("reason the log shrank from 42", &format!("reason {}", "y".repeat(301))),
            format!("{good}extra\n"),
            good.trim_end().to_owned(),
        ] {
            assert!(Refusal::parse(&bad).is_err(), "{bad}");
        }
    }
}
