//! The witness's rules (C2SP tlog-witness): cosign a checkpoint only if the log signed it and
//! it extends, by a valid consistency proof, the last checkpoint this witness cosigned for that
//! log. A log that forks, rewrites or shrinks gets a refusal, never a cosignature.

use serde::{Deserialize, Serialize};

use crate::{Checkpoint, EMPTY_ROOT, Hash, LedgerError, Note, NoteSignature, NoteSigner, NoteVerifier, VerifierKey};

/// What a witness remembers of one log, saved between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessState {
    pub origin: String,
    /// The log's verifier key, pinned at first contact.
    pub log_key: String,
    pub size: u64,
    /// Base64 root of the last cosigned checkpoint.
    pub root: String,
}

/// A tlog-witness `add-checkpoint` request: the size the log believes the witness is at, a
/// consistency proof from there, and the new checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    pub checkpoint: Note,
}

const MAX_PROOF_HASHES: usize = 63;

impl AddCheckpoint {
    pub fn to_text(&self) -> String {
        let mut text = format!("old {}\n", self.old_size);
        for hash in &self.proof {
            text.push_str(&hash.to_base64());
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&self.checkpoint.to_text());
        text
    }

    pub fn parse(body: &[u8]) -> Result<Self, LedgerError> {
        let bad = |reason: &str| LedgerError::malformed("add-checkpoint request", reason.to_owned());
        let text = std::str::from_utf8(body).map_err(|_| bad("not UTF-8"))?;
        let (head, note) = text.split_once("\n\n").ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines.next().and_then(|line| line.strip_prefix("old ")).ok_or_else(|| bad("no `old <size>` line"))?;
        let old_size: u64 = old.parse().map_err(|_| bad("the old size is not a number"))?;
        if old_size.to_string() != old {
            return Err(bad("the old size has a sign or leading zeros"));
        }
        let proof = lines
            .map(Hash::from_base64)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| bad("a proof line is not a hash"))?;
        if proof.len() > MAX_PROOF_HASHES {
            return Err(bad("the proof has more than 63 hashes"));
        }
        Ok(Self { old_size, proof, checkpoint: Note::parse(note.as_bytes())? })
    }
}

/// Why a witness did not cosign, with the HTTP status tlog-witness gives each reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessRefusal {
    #[error("bad request: {0}")]
    Malformed(String),
    #[error("unknown log origin `{0}`")]
    UnknownLog(String),
    #[error("the checkpoint is not signed by the log's key: {0}")]
    Signature(String),
    /// The log's idea of the witness's state is stale, or the log forked at the same size.
    #[error("conflict: this witness last cosigned size {known_size}; {reason}")]
    Conflict { known_size: u64, reason: String },
    #[error("the consistency proof does not verify: {0}")]
    Proof(String),
}

impl WitnessRefusal {
    pub fn status(&self) -> u16 {
        match self {
            Self::Malformed(_) => 400,
            Self::UnknownLog(_) => 404,
            Self::Signature(_) => 403,
            Self::Conflict { .. } => 409,
            Self::Proof(_) => 422,
        }
    }
}

/// A witness of one log.
#[derive(Debug)]
pub struct Witness<'a> {
    signer: NoteSigner<'a>,
    log_key: VerifierKey,
    origin: String,
    size: u64,
    root: Hash,
}

impl<'a> Witness<'a> {
    /// A witness that has cosigned nothing of this log yet.
    pub fn new(signer: NoteSigner<'a>, log_key: VerifierKey, origin: &str) -> Self {
        Self { signer, log_key, origin: origin.to_owned(), size: 0, root: EMPTY_ROOT }
    }

    pub fn resume(signer: NoteSigner<'a>, state: &WitnessState) -> Result<Self, LedgerError> {
        Ok(Self {
            signer,
            log_key: VerifierKey::parse(&state.log_key)?,
            origin: state.origin.clone(),
            size: state.size,
            root: Hash::from_base64(&state.root)?,
        })
    }

    pub fn state(&self) -> WitnessState {
        WitnessState {
            origin: self.origin.clone(),
            log_key: self.log_key.to_string(),
            size: self.size,
            root: self.root.to_base64(),
        }
    }

    /// Checks the request and, if it holds, records the new checkpoint and returns the
    /// cosignature made at `now` (seconds since the epoch).
    pub fn add_checkpoint(&mut self, request: &AddCheckpoint, now: u64) -> Result<NoteSignature, WitnessRefusal> {
        let checkpoint = Checkpoint::parse(&request.checkpoint.text)
            .map_err(|error| WitnessRefusal::Malformed(error.to_string()))?;
        if checkpoint.origin != self.origin {
            return Err(WitnessRefusal::UnknownLog(checkpoint.origin));
        }
        self.log_key.verify(&request.checkpoint).map_err(|error| WitnessRefusal::Signature(error.to_string()))?;
        if request.old_size > checkpoint.size {
            return Err(WitnessRefusal::Malformed(format!(
                "old size {} is larger than the checkpoint's {}",
                request.old_size, checkpoint.size
            )));
        }
        if request.old_size != self.size {
            return Err(WitnessRefusal::Conflict {
                known_size: self.size,
                reason: format!("the request starts from size {}", request.old_size),
            });
        }
        if checkpoint.size == self.size && checkpoint.root != self.root {
            return Err(WitnessRefusal::Conflict {
                known_size: self.size,
                reason: format!(
                    "fork: two checkpoints of size {} with roots {} and {}",
                    self.size, self.root, checkpoint.root
                ),
            });
        }
        if self.size == 0 {
            if !request.proof.is_empty() {
                return Err(WitnessRefusal::Proof("a proof from the empty tree must be empty".to_owned()));
            }
        } else {
            crate::verify_consistency(self.size, checkpoint.size, &request.proof, &self.root, &checkpoint.root)
                .map_err(|error| WitnessRefusal::Proof(error.to_string()))?;
        }
        self.size = checkpoint.size;
        self.root = checkpoint.root;
        Ok(crate::cosign_checkpoint(&request.checkpoint.text, &self.signer, now))
    }
}
