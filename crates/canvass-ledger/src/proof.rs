//! Inclusion and consistency proofs (RFC 6962 §2.1, verification as in RFC 9162 §2.1.3-2.1.4).
//! Generation works in two steps so storage can be asynchronous: a plan names the perfect
//! subtrees whose hashes the proof needs, the caller reads them however it reads, and the plan
//! folds them into proof hashes. [`HashReader`] joins the two steps for synchronous sources.

use crate::{Hash, LedgerError, node_hash};

/// A perfect subtree: the node at `level` (0 = leaves) and `index` covers leaves
/// `index * 2^level .. (index + 1) * 2^level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeIndex {
    pub level: u8,
    pub index: u64,
}

impl NodeIndex {
    pub fn first_leaf(&self) -> u64 {
        self.index << self.level
    }

    pub fn leaf_count(&self) -> u64 {
        1 << self.level
    }
}

/// Something that can give the hashes of perfect subtrees of one tree.
pub trait HashReader {
    /// The hashes of `nodes`, in the same order.
    fn read_hashes(&mut self, nodes: &[NodeIndex]) -> Result<Vec<Hash>, LedgerError>;
}

/// The subtrees a proof needs and how to fold them into the proof's hashes: each proof hash
/// is the Merkle hash of one run of consecutive subtrees (a range that is not a power of two
/// is several perfect subtrees).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProofPlan {
    pub nodes: Vec<NodeIndex>,
    runs: Vec<std::ops::Range<usize>>,
}

impl ProofPlan {
    fn push_range(&mut self, start: u64, end: u64) -> Result<(), LedgerError> {
        let first = self.nodes.len();
        perfect_subtrees(start, end, &mut self.nodes)?;
        self.runs.push(first..self.nodes.len());
        Ok(())
    }

    /// Folds the hashes of [`ProofPlan::nodes`] (same order) into the proof.
    pub fn assemble(&self, hashes: &[Hash]) -> Result<Vec<Hash>, LedgerError> {
        if hashes.len() != self.nodes.len() {
            return Err(LedgerError::Range(format!("{} hashes for {} subtrees", hashes.len(), self.nodes.len())));
        }
        Ok(self.runs.iter().map(|run| fold_subtree_hashes(&hashes[run.clone()])).collect())
    }

    fn read(self, reader: &mut dyn HashReader) -> Result<Vec<Hash>, LedgerError> {
        let hashes = reader.read_hashes(&self.nodes)?;
        self.assemble(&hashes)
    }
}

/// The largest power of two strictly below `size` (for `size` >= 2): RFC 6962's split point.
fn split_point(size: u64) -> u64 {
    1 << (63 - (size - 1).leading_zeros())
}

/// Splits `start..end` the way RFC 6962 splits a tree: a perfect left subtree as large as
/// possible, then the rest. Only ranges a Merkle tree can have (aligned starts) are accepted.
fn perfect_subtrees(mut start: u64, end: u64, out: &mut Vec<NodeIndex>) -> Result<(), LedgerError> {
    if start >= end {
        return Err(LedgerError::Range(format!("empty range {start}..{end}")));
    }
    while start < end {
        let size = end - start;
        let width = if size.is_power_of_two() { size } else { split_point(size) };
        if !start.is_multiple_of(width) {
            return Err(LedgerError::Range(format!("range {start}..{end} is not a subtree of a Merkle tree")));
        }
        let level = width.trailing_zeros() as u8;
        out.push(NodeIndex { level, index: start >> level });
        start += width;
    }
    Ok(())
}

/// The Merkle hash of consecutive perfect subtrees, largest first: right to left, each joins
/// the hash of everything after it.
pub(crate) fn fold_subtree_hashes(hashes: &[Hash]) -> Hash {
    let mut iterator = hashes.iter().rev();
    let Some(last) = iterator.next() else {
        return crate::EMPTY_ROOT;
    };
    iterator.fold(*last, |right, left| node_hash(left, &right))
}

/// The Merkle hash of leaves `start..end`: the tree root when `start` is 0 and `end` the size.
pub fn range_hash(start: u64, end: u64, reader: &mut dyn HashReader) -> Result<Hash, LedgerError> {
    if start == end && start == 0 {
        return Ok(crate::EMPTY_ROOT);
    }
    let mut nodes = Vec::new();
    perfect_subtrees(start, end, &mut nodes)?;
    Ok(fold_subtree_hashes(&reader.read_hashes(&nodes)?))
}

/// Which subtrees the inclusion proof of leaf `index` in a tree of `size` leaves needs.
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, LedgerError> {
    if index >= size {
        return Err(LedgerError::Range(format!("leaf {index} is not in a tree of {size}")));
    }
    let mut plan = ProofPlan::default();
    inclusion_path(index, 0, size, &mut plan)?;
    Ok(plan)
}

fn inclusion_path(index: u64, start: u64, end: u64, plan: &mut ProofPlan) -> Result<(), LedgerError> {
    if end - start == 1 {
        return Ok(());
    }
    let middle = start + split_point(end - start);
    if index < middle {
        inclusion_path(index, start, middle, plan)?;
        plan.push_range(middle, end)
    } else {
        inclusion_path(index, middle, end, plan)?;
        plan.push_range(start, middle)
    }
}

/// Which subtrees the proof that the tree of `old_size` is a prefix of the tree of `new_size`
/// needs (empty when the sizes are equal or the old tree is empty).
pub fn consistency_plan(old_size: u64, new_size: u64) -> Result<ProofPlan, LedgerError> {
    if old_size > new_size {
        return Err(LedgerError::Range(format!("a tree of {old_size} cannot be a prefix of one of {new_size}")));
    }
    let mut plan = ProofPlan::default();
    if old_size > 0 && old_size < new_size {
        consistency_path(old_size, 0, new_size, true, &mut plan)?;
    }
    Ok(plan)
}

fn consistency_path(old_end: u64, start: u64, end: u64, whole: bool, plan: &mut ProofPlan) -> Result<(), LedgerError> {
    if old_end == end {
        return if whole { Ok(()) } else { plan.push_range(start, end) };
    }
    let middle = start + split_point(end - start);
    if old_end <= middle {
        consistency_path(old_end, start, middle, whole, plan)?;
        plan.push_range(middle, end)
    } else {
        consistency_path(old_end, middle, end, false, plan)?;
        plan.push_range(start, middle)
    }
}

pub fn inclusion_proof(index: u64, size: u64, reader: &mut dyn HashReader) -> Result<Vec<Hash>, LedgerError> {
    inclusion_plan(index, size)?.read(reader)
}

pub fn consistency_proof(old_size: u64, new_size: u64, reader: &mut dyn HashReader) -> Result<Vec<Hash>, LedgerError> {
    consistency_plan(old_size, new_size)?.read(reader)
}

/// Checks that the leaf with hash `leaf` is at `index` in the tree of `size` with `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> Result<(), LedgerError> {
    if index >= size {
        return Err(LedgerError::Proof(format!("leaf index {index} is not below the tree size {size}")));
    }
    let (mut first, mut second) = (index, size - 1);
    let mut hash = *leaf;
    for element in proof {
        if second == 0 {
            return Err(LedgerError::Proof("the inclusion proof is longer than the tree is deep".to_owned()));
        }
        if first & 1 == 1 || first == second {
            hash = node_hash(element, &hash);
            while first & 1 == 0 && first != 0 {
                first >>= 1;
                second >>= 1;
            }
        } else {
            hash = node_hash(&hash, element);
        }
        first >>= 1;
        second >>= 1;
    }
    if second != 0 {
        return Err(LedgerError::Proof("the inclusion proof is too short for the tree size".to_owned()));
    }
    if hash != *root {
        return Err(LedgerError::Proof(format!("the inclusion proof leads to root {hash}, not {root}")));
    }
    Ok(())
}

/// Checks that the tree of `old_size` with `old_root` is a prefix of the tree of `new_size`
/// with `new_root` (RFC 9162 §2.1.4.2; equal sizes need equal roots and an empty proof).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), LedgerError> {
    if new_size < old_size {
        return Err(LedgerError::Proof(format!("the tree shrank from {old_size} to {new_size} entries")));
    }
    if old_size == 0 {
        // As in transparency-dev/merkle: everything extends the empty tree, so such a proof
        // proves nothing; callers that start from nothing (a new witness) say so themselves.
        return Err(LedgerError::Proof("a consistency proof from the empty tree proves nothing".to_owned()));
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(LedgerError::Proof("equal sizes need an empty consistency proof".to_owned()));
        }
        if old_root != new_root {
            return Err(LedgerError::Proof(format!(
                "two different roots for the same size {old_size}: {old_root} and {new_root}"
            )));
        }
        return Ok(());
    }
    let Some((first_element, rest)) = proof.split_first() else {
        return Err(LedgerError::Proof("the consistency proof is empty".to_owned()));
    };
    let mut elements: Vec<&Hash> = Vec::with_capacity(proof.len() + 1);
    let seed = if old_size.is_power_of_two() {
        elements.extend(proof.iter());
        old_root
    } else {
        elements.extend(rest.iter());
        first_element
    };
    let (mut first, mut second) = (old_size - 1, new_size - 1);
    while first & 1 == 1 {
        first >>= 1;
        second >>= 1;
    }
    let (mut old_hash, mut new_hash) = (*seed, *seed);
    for element in elements {
        if second == 0 {
            return Err(LedgerError::Proof("the consistency proof is too long".to_owned()));
        }
        if first & 1 == 1 || first == second {
            old_hash = node_hash(element, &old_hash);
            new_hash = node_hash(element, &new_hash);
            while first & 1 == 0 && first != 0 {
                first >>= 1;
                second >>= 1;
            }
        } else {
            new_hash = node_hash(&new_hash, element);
        }
        first >>= 1;
        second >>= 1;
    }
    if second != 0 {
        return Err(LedgerError::Proof("the consistency proof is too short".to_owned()));
    }
    if old_hash != *old_root {
        return Err(LedgerError::Proof(format!("the proof does not lead to the old root {old_root}")));
    }
    if new_hash != *new_root {
        return Err(LedgerError::Proof(format!("the proof does not lead to the new root {new_root}")));
    }
    Ok(())
}

/// Whether `start..end` is a subtree in the sense of the Merkle Tree Certificates draft: a
/// non-empty range whose start is a multiple of the next power of two of its width, so it has
/// the shape of a whole tree of `end - start` leaves.
pub fn is_subtree(start: u64, end: u64) -> bool {
    end > start && (end - start).checked_next_power_of_two().is_some_and(|width| start.is_multiple_of(width))
}

/// Checks that `leaf` is at `index` in the subtree `start..end` whose hash is `subtree_root`.
pub fn verify_subtree_inclusion(
    start: u64,
    end: u64,
    index: u64,
    leaf: &Hash,
    proof: &[Hash],
    subtree_root: &Hash,
) -> Result<(), LedgerError> {
    if !is_subtree(start, end) || index < start || index >= end {
        return Err(LedgerError::Proof(format!("{start}..{end} is not a subtree holding leaf {index}")));
    }
    verify_inclusion(index - start, end - start, leaf, proof, subtree_root)
}

/// Checks that the subtree `start..end` with hash `subtree_root` sits at those leaves of the
/// tree of `size` with `root` (Merkle Tree Certificates draft, subtree consistency proofs).
pub fn verify_subtree_consistency(
    start: u64,
    end: u64,
    size: u64,
    proof: &[Hash],
    subtree_root: &Hash,
    root: &Hash,
) -> Result<(), LedgerError> {
    if start == end && end <= size {
        // Every tree holds the empty subtree, whose hash is the empty root; there is nothing
        // to prove.
        return if proof.is_empty() && *subtree_root == crate::EMPTY_ROOT {
            Ok(())
        } else {
            Err(LedgerError::Proof("an empty subtree needs the empty root and no proof".to_owned()))
        };
    }
    if !is_subtree(start, end) || end > size {
        return Err(LedgerError::Proof(format!("{start}..{end} is not a subtree of a tree of {size}")));
    }
    // first, last: the subtree's first and last leaf; tree_last: the tree's last leaf. Each
    // shift climbs one level.
    let (mut first, mut last, mut tree_last) = (start, end - 1, size - 1);
    let climb = |first: &mut u64, last: &mut u64, tree_last: &mut u64| {
        *first >>= 1;
        *last >>= 1;
        *tree_last >>= 1;
    };
    if last == tree_last {
        while first != last {
            climb(&mut first, &mut last, &mut tree_last);
        }
    } else {
        while first != last && last & 1 == 1 {
            climb(&mut first, &mut last, &mut tree_last);
        }
    }
    let (seed, rest) = if first == last {
        (*subtree_root, proof)
    } else {
        let (head, rest) =
            proof.split_first().ok_or_else(|| LedgerError::Proof("the subtree proof is empty".to_owned()))?;
        (*head, rest)
    };
    let (mut subtree_hash, mut tree_hash) = (seed, seed);
    for element in rest {
        if tree_last == 0 {
            return Err(LedgerError::Proof("the subtree proof is too long".to_owned()));
        }
        if last & 1 == 1 || last == tree_last {
            if first < last {
                subtree_hash = node_hash(element, &subtree_hash);
            }
            tree_hash = node_hash(element, &tree_hash);
            while last & 1 == 0 {
                climb(&mut first, &mut last, &mut tree_last);
            }
        } else {
            tree_hash = node_hash(&tree_hash, element);
        }
        climb(&mut first, &mut last, &mut tree_last);
    }
    if tree_last != 0 {
        return Err(LedgerError::Proof("the subtree proof is too short".to_owned()));
    }
    if subtree_hash != *subtree_root || tree_hash != *root {
        return Err(LedgerError::Proof("the subtree proof does not lead to the given hashes".to_owned()));
    }
    Ok(())
}
