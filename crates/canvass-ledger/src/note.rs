//! C2SP signed notes, tlog-checkpoint bodies and tlog-cosignature/v1 cosignatures. A note is
//! text, a blank line, then one line per signature: `— <key name> <base64(key id || sig)>`.
//! Ed25519 note keys (type 0x01) sign the text; cosignature keys (type 0x04) sign
//! `cosignature/v1\ntime <t>\n` followed by the text, and carry the time `t` in the signature.

use std::fmt;

use base64::{Engine, engine::general_purpose::STANDARD};
use canvass_crypto::{NodeSigningKey, PublicKey};

use crate::{Hash, LedgerError};

const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// A note bigger than this is refused before parsing: checkpoints are a few hundred bytes.
const MAX_NOTE_BYTES: usize = 64 * 1024;
const MAX_SIGNATURES: usize = 100;
const ED25519_TYPE: u8 = 0x01;
const COSIGNATURE_TYPE: u8 = 0x04;

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: [u8; 4],
    /// The signature bytes after the key id (for a cosignature: timestamp then signature).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line as it appears in a note, with its newline.
    pub fn to_line(&self) -> String {
        let mut bytes = self.key_id.to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, STANDARD.encode(bytes))
    }

    /// Parses one signature line (with or without its newline).
    pub fn parse_line(line: &str) -> Result<Self, LedgerError> {
        let bad = |reason: &str| LedgerError::malformed("signature line", reason.to_owned());
        let line = line.strip_suffix('\n').unwrap_or(line);
        let rest =
            line.strip_prefix(SIGNATURE_PREFIX).ok_or_else(|| bad("does not start with an em dash and a space"))?;
        let (name, encoded) = rest.split_once(' ').ok_or_else(|| bad("no space between key name and signature"))?;
        check_key_name(name)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| bad("the signature is not base64"))?;
        if bytes.len() < 5 {
            return Err(bad("the signature is shorter than a key id"));
        }
        let (key_id, signature) = bytes.split_at(4);
        let mut id = [0u8; 4];
        id.copy_from_slice(key_id);
        Ok(Self { name: name.to_owned(), key_id: id, signature: signature.to_vec() })
    }
}

/// A signed note: the signed text and its signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending with a newline.
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    pub fn parse(bytes: &[u8]) -> Result<Self, LedgerError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(LedgerError::malformed("note", format!("{} bytes is more than {MAX_NOTE_BYTES}", bytes.len())));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| LedgerError::malformed("note", "not UTF-8"))?;
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(LedgerError::malformed("note", "holds control characters other than newlines"));
        }
        let split =
            text.rfind("\n\n").ok_or_else(|| LedgerError::malformed("note", "no blank line before the signatures"))?;
        let (body, signature_block) = (&text[..split + 1], &text[split + 2..]);
        if body.len() <= 1 {
            return Err(LedgerError::malformed("note", "the signed text is empty"));
        }
        if !signature_block.ends_with('\n') {
            return Err(LedgerError::malformed("note", "the last signature line has no newline"));
        }
        let signatures = signature_block.lines().map(NoteSignature::parse_line).collect::<Result<Vec<_>, _>>()?;
        if signatures.is_empty() || signatures.len() > MAX_SIGNATURES {
            return Err(LedgerError::malformed("note", format!("1-{MAX_SIGNATURES} signatures needed")));
        }
        Ok(Self { text: body.to_owned(), signatures })
    }

    pub fn to_text(&self) -> String {
        let mut text = self.text.clone();
        text.push('\n');
        for signature in &self.signatures {
            text.push_str(&signature.to_line());
        }
        text
    }

    /// Adds a signature, replacing an earlier one by the same key.
    pub fn add_signature(&mut self, signature: NoteSignature) {
        self.signatures.retain(|existing| !(existing.name == signature.name && existing.key_id == signature.key_id));
        self.signatures.push(signature);
    }
}

fn check_key_name(name: &str) -> Result<(), LedgerError> {
    if name.is_empty() || name.len() > 255 || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(LedgerError::malformed("key name", "must be 1-255 characters without spaces or '+'"));
    }
    Ok(())
}

fn key_id(name: &str, key_type: u8, public: &PublicKey) -> [u8; 4] {
    let hash = canvass_crypto::sha256(&[name.as_bytes(), b"\n", &[key_type], public.as_bytes()]);
    [hash[0], hash[1], hash[2], hash[3]]
}

/// A checkpoint's text: origin, tree size, root hash, optional extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

impl Checkpoint {
    pub fn to_text(&self) -> String {
        let mut text = format!("{}\n{}\n{}\n", self.origin, self.size, self.root.to_base64());
        for extension in &self.extensions {
            text.push_str(extension);
            text.push('\n');
        }
        text
    }

    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        let bad = |reason: &str| LedgerError::malformed("checkpoint", reason.to_owned());
        let body = text.strip_suffix('\n').ok_or_else(|| bad("does not end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().filter(|origin| !origin.is_empty()).ok_or_else(|| bad("no origin line"))?;
        let size_text = lines.next().ok_or_else(|| bad("no tree size line"))?;
        let size: u64 = size_text.parse().map_err(|_| bad("the tree size is not a number"))?;
        if size.to_string() != size_text {
            return Err(bad("the tree size has a sign or leading zeros"));
        }
        let root = Hash::from_base64(lines.next().ok_or_else(|| bad("no root hash line"))?)
            .map_err(|_| bad("the root hash is not 32 bytes of base64"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("an empty extension line"));
        }
        Ok(Self { origin: origin.to_owned(), size, root, extensions })
    }
}

/// What can check a note signature.
pub trait NoteVerifier {
    /// Ok when `note` carries a valid signature by this key.
    fn verify(&self, note: &Note) -> Result<(), LedgerError>;
}

/// A public note key in the `<name>+<hex id>+<base64(type || key)>` form, either the log's
/// Ed25519 key or a witness's cosignature/v1 key.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    pub key_id: [u8; 4],
    cosignature: bool,
    public: PublicKey,
}

impl VerifierKey {
    pub fn ed25519(name: &str, public: PublicKey) -> Result<Self, LedgerError> {
        check_key_name(name)?;
        Ok(Self { name: name.to_owned(), key_id: key_id(name, ED25519_TYPE, &public), cosignature: false, public })
    }

    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        let bad = |reason: &str| LedgerError::malformed("verifier key", reason.to_owned());
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected name+hexid+base64key"));
        };
        check_key_name(name)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| bad("the key is not base64"))?;
        let (key_type, key) = bytes.split_first().ok_or_else(|| bad("empty key"))?;
        let key: [u8; 32] = key.try_into().map_err(|_| bad("not a 32-byte Ed25519 key"))?;
        let public = PublicKey::from_bytes(key);
        let cosignature = match *key_type {
            ED25519_TYPE => false,
            COSIGNATURE_TYPE => true,
            _ => return Err(bad("unknown key type (expected Ed25519 0x01 or cosignature/v1 0x04)")),
        };
        let key_type = if cosignature { COSIGNATURE_TYPE } else { ED25519_TYPE };
        let expected = key_id(name, key_type, &public);
        if id_hex != hex4(&expected) {
            return Err(bad("the key id does not match the key"));
        }
        Ok(Self { name: name.to_owned(), key_id: expected, cosignature, public })
    }

    pub fn is_cosignature_key(&self) -> bool {
        self.cosignature
    }

    /// The Ed25519 public key, for the other statements a witness signs (`refusal`).
    pub(crate) fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The signature lines naming this key.
    pub(crate) fn signatures_in<'a>(&self, note: &'a Note) -> impl Iterator<Item = &'a NoteSignature> + use<'a, '_> {
        self.matching(note)
    }

    fn matching<'a>(&self, note: &'a Note) -> impl Iterator<Item = &'a NoteSignature> + use<'a, '_> {
        note.signatures.iter().filter(move |signature| signature.name == self.name && signature.key_id == self.key_id)
    }

    /// For a cosignature key: the time (seconds since the epoch) of a valid cosignature.
    pub fn verify_cosignature(&self, note: &Note) -> Result<u64, LedgerError> {
        if !self.cosignature {
            return Err(LedgerError::Signature(format!("{} is not a cosignature key", self.name)));
        }
        for signature in self.matching(note) {
            let Some((time, signature_bytes)) = signature.signature.split_first_chunk::<8>() else {
                continue;
            };
            let time = u64::from_be_bytes(*time);
            if self.public.verify(&cosigned_message(time, &note.text), signature_bytes) {
                return Ok(time);
            }
        }
        Err(LedgerError::Signature(format!("no valid cosignature by {}", self.name)))
    }
}

impl NoteVerifier for VerifierKey {
    fn verify(&self, note: &Note) -> Result<(), LedgerError> {
        if self.cosignature {
            return self.verify_cosignature(note).map(|_| ());
        }
        if self.matching(note).any(|signature| self.public.verify(note.text.as_bytes(), &signature.signature)) {
            Ok(())
        } else {
            Err(LedgerError::Signature(format!("no valid signature by {}", self.name)))
        }
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = vec![if self.cosignature { COSIGNATURE_TYPE } else { ED25519_TYPE }];
        bytes.extend_from_slice(self.public.as_bytes());
        write!(formatter, "{}+{}+{}", self.name, hex4(&self.key_id), STANDARD.encode(bytes))
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "VerifierKey({self})")
    }
}

fn hex4(bytes: &[u8; 4]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn cosigned_message(time: u64, text: &str) -> Vec<u8> {
    let mut message = format!("cosignature/v1\ntime {time}\n").into_bytes();
    message.extend_from_slice(text.as_bytes());
    message
}

/// A named Ed25519 key that signs notes.
#[derive(Debug, Clone)]
pub struct NoteSigner<'a> {
    name: String,
    key: &'a NodeSigningKey,
}

impl<'a> NoteSigner<'a> {
    pub fn new(name: &str, key: &'a NodeSigningKey) -> Result<Self, LedgerError> {
        check_key_name(name)?;
        Ok(Self { name: name.to_owned(), key })
    }

    pub fn verifier_key(&self) -> VerifierKey {
        let public = self.key.public_key();
        VerifierKey {
            name: self.name.clone(),
            key_id: key_id(&self.name, ED25519_TYPE, &public),
            cosignature: false,
            public,
        }
    }

    /// The cosignature/v1 key of the same key pair under this name, for a witness.
    pub fn cosignature_key(&self) -> CosignatureKey {
        let public = self.key.public_key();
        CosignatureKey(VerifierKey {
            name: self.name.clone(),
            key_id: key_id(&self.name, COSIGNATURE_TYPE, &public),
            cosignature: true,
            public,
        })
    }

    /// The key pair, for the other statements a witness signs (`refusal`).
    pub(crate) fn key(&self) -> &NodeSigningKey {
        self.key
    }

    pub fn sign(&self, text: &str) -> NoteSignature {
        let key_id = key_id(&self.name, ED25519_TYPE, &self.key.public_key());
        NoteSignature { name: self.name.clone(), key_id, signature: self.key.sign(text.as_bytes()).to_vec() }
    }
}

/// A witness's public cosignature key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureKey(pub VerifierKey);

/// Signs a checkpoint with the log's key.
pub fn sign_checkpoint(checkpoint: &Checkpoint, signer: &NoteSigner<'_>) -> Note {
    let text = checkpoint.to_text();
    let signature = signer.sign(&text);
    Note { text, signatures: vec![signature] }
}

/// A witness's cosignature of the note text at `time` (seconds since the epoch).
pub fn cosign_checkpoint(text: &str, signer: &NoteSigner<'_>, time: u64) -> NoteSignature {
    let key = signer.cosignature_key();
    let mut signature = time.to_be_bytes().to_vec();
    signature.extend_from_slice(&signer.key.sign(&cosigned_message(time, text)));
    NoteSignature { name: key.0.name, key_id: key.0.key_id, signature }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn checkpoint() -> Checkpoint {
        Checkpoint { origin: "example.gov/log".to_owned(), size: 42, root: crate::leaf_hash(b"x"), extensions: vec![] }
    }

    #[test]
    fn a_signed_checkpoint_round_trips_and_verifies() {
        let key = NodeSigningKey::generate().unwrap();
        let signer = NoteSigner::new("example.gov/log", &key).unwrap();
        let note = sign_checkpoint(&checkpoint(), &signer);
        let text = note.to_text();
        assert!(text.starts_with("example.gov/log\n42\n"));
        assert!(text.contains("\n\n\u{2014} example.gov/log "));
        let parsed = Note::parse(text.as_bytes()).unwrap();
        assert_eq!(parsed, note);
        assert_eq!(Checkpoint::parse(&parsed.text).unwrap(), checkpoint());
        let verifier = VerifierKey::parse(&signer.verifier_key().to_string()).unwrap();
        verifier.verify(&parsed).unwrap();
        let mut forged = parsed.clone();
        forged.text = forged.text.replace("42", "43");
        assert!(verifier.verify(&forged).is_err());
    }

    #[test]
    fn cosignatures_verify_only_for_their_text_and_key() {
        let log_key = NodeSigningKey::generate().unwrap();
        let witness_key = NodeSigningKey::generate().unwrap();
        let log = NoteSigner::new("example.gov/log", &log_key).unwrap();
        let witness = NoteSigner::new("witness.example", &witness_key).unwrap();
        let mut note = sign_checkpoint(&checkpoint(), &log);
        note.add_signature(cosign_checkpoint(&note.text, &witness, 1_700_000_000));
        let parsed = Note::parse(note.to_text().as_bytes()).unwrap();
        let cosigner = VerifierKey::parse(&witness.cosignature_key().0.to_string()).unwrap();
        assert_eq!(cosigner.verify_cosignature(&parsed).unwrap(), 1_700_000_000);
        log.verifier_key().verify(&parsed).unwrap();
        // The same key pair as an Ed25519 note key is a different key id: no confusion.
        assert!(witness.verifier_key().verify(&parsed).is_err());
        let mut moved = parsed.clone();
        moved.text = sign_checkpoint(&Checkpoint { size: 43, ..checkpoint() }, &log).text;
        assert!(cosigner.verify_cosignature(&moved).is_err());
    }

    #[test]
    fn malformed_notes_and_checkpoints_are_refused() {
        for bad in [
            &b"no blank line\n\xe2\x80\x94 a AAAAAAAA\n"[..],
            b"text\n\n",
            b"text\n\nnot a signature\n",
            b"text\n\n\xe2\x80\x94 a AAAA\n",
            b"text\n\n\xe2\x80\x94 a AAAAAAAA",
            b"\xff\n\n\xe2\x80\x94 a AAAAAAAA\n",
            b"a\x07b\n\n\xe2\x80\x94 a AAAAAAAA\n",
        ] {
            assert!(Note::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let root = crate::EMPTY_ROOT.to_base64();
        for bad in [
            format!("origin\n042\n{root}\n"),
            format!("origin\n-1\n{root}\n"),
            format!("\n1\n{root}\n"),
            "origin\n1\nAAAA\n".to_owned(),
            format!("origin\n1\n{root}"),
            format!("origin\n1\n{root}\n\n"),
        ] {
            assert!(Checkpoint::parse(&bad).is_err(), "{bad}");
        }
        assert!(VerifierKey::parse("name+00000000+AQ==").is_err());
    }
}
