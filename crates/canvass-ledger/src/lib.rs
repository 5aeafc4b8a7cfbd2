//! The audit ledger's transparency log, without I/O: RFC 6962/9162 Merkle hashing with inclusion
//! and consistency proofs, C2SP tlog-tiles paths and entry bundles, C2SP signed notes,
//! checkpoints and cosignatures, the witness's rules, and a verifier that recomputes a whole log
//! from what any static host serves. Storage and HTTP reach this crate only through the
//! [`HashReader`] and [`TileSource`] traits.

mod error;
mod hash;
mod memory;
mod note;
mod proof;
mod refusal;
mod tile;
mod tree;
mod verify;
mod witness;

pub use error::LedgerError;
pub use hash::{EMPTY_ROOT, Hash, leaf_hash, node_hash};
pub use memory::{FileMap, MemoryLog};
pub use note::{
    Checkpoint, CosignatureKey, Note, NoteSignature, NoteSigner, NoteVerifier, VerifierKey, cosign_checkpoint,
    sign_checkpoint,
};
pub use proof::{
    HashReader, NodeIndex, ProofPlan, consistency_plan, consistency_proof, inclusion_plan, inclusion_proof, is_subtree,
    range_hash, verify_consistency, verify_inclusion, verify_subtree_consistency, verify_subtree_inclusion,
};
pub use refusal::{MAX_REASON_CHARS, Refusal, sign_refusal};
pub use tile::{
    MAX_TILE_LEVEL, TILE_HEIGHT, TILE_WIDTH, TilePath, TileReader, TileSource, decode_entry_bundle,
    encode_entry_bundle, tile_node_hash,
};
pub use tree::{MemoryTree, TileWrite, TreeBuilder};
pub use verify::{Discrepancy, LogVerifier, TrustedState, VerifyProgress, VerifyReport};
pub use witness::{AddCheckpoint, Witness, WitnessRefusal, WitnessState};
