//! Blind indexes: exact-match search on encrypted fields. HMAC-SHA256 of the normalised value
//! under a per-index key from the sealed key ring, truncated to a bit length chosen from the
//! projected row count.
//!
//! The length follows CipherSweet's rule: with R rows and L bits, each index value matches
//! about C = R / 2^L rows; requiring 2 <= C < sqrt(R) keeps every value ambiguous (an index
//! never singles out one row) while keeping searches selective. [`choose_index_bits`] picks the
//! longest L with C >= 2, which gives 2 <= C < 4, inside the rule for R >= 16.

use ring::hmac;

use crate::{CryptoError, SecretKey};

/// The key of one blind index.
pub struct IndexKey(hmac::Key);

impl std::fmt::Debug for IndexKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("IndexKey(..)")
    }
}

impl IndexKey {
    pub fn new(key: &SecretKey) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, key.expose()))
    }

    /// The index value of already-normalised parts (a compound index passes several; each is
    /// length-prefixed so part boundaries cannot shift), truncated to `bits` (1-63).
    pub fn compute(&self, parts: &[&[u8]], bits: u8) -> Result<i64, CryptoError> {
        if !(1..=63).contains(&bits) {
            return Err(CryptoError::InvalidIndexLength(bits));
        }
        let mut context = hmac::Context::with_key(&self.0);
        for part in parts {
            context.update(&(part.len() as u32).to_be_bytes());
            context.update(part);
        }
        let tag = context.sign();
        let mut first = [0u8; 8];
        first.copy_from_slice(&tag.as_ref()[..8]);
        let value = u64::from_be_bytes(first) >> (64 - u32::from(bits));
        // bits <= 63, so the value fits a signed 64-bit column.
        Ok(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

/// The bit length for a blind index over `projected_rows` rows (see the module comment).
pub fn choose_index_bits(projected_rows: u64) -> u8 {
    let rows = projected_rows.max(2);
    let log2 = 63 - rows.leading_zeros(); // floor(log2(rows))
    // floor(log2 R) - 1 bits leave at least two expected matches per value.
    u8::try_from(log2.saturating_sub(1).max(1)).unwrap_or(1)
}

/// Expected rows sharing one index value: R / 2^bits.
pub fn expected_matches(projected_rows: u64, bits: u8) -> f64 {
    projected_rows as f64 / 2f64.powi(i32::from(bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chooser_satisfies_the_ciphersweet_rule() {
        for rows in [16u64, 17, 100, 1_000, 50_000, 1_000_000, 7_500_000, 10_000_000, 200_000_000] {
            let bits = choose_index_bits(rows);
            let matches = expected_matches(rows, bits);
            assert!(matches >= 2.0, "{rows} rows, {bits} bits: {matches} matches per value");
            assert!(matches < (rows as f64).sqrt(), "{rows} rows, {bits} bits: {matches} >= sqrt(R)");
            // And it is the longest such length: one more bit would break C >= 2.
            assert!(expected_matches(rows, bits + 1) < 2.0);
        }
        assert_eq!(choose_index_bits(1_000_000), 18);
        assert_eq!(choose_index_bits(7_500_000), 21);
        assert_eq!(choose_index_bits(0), 1);
    }

    #[test]
    fn indexes_are_stable_truncated_and_keyed() {
        let key = IndexKey::new(&SecretKey::generate().unwrap());
        let first = key.compute(&[b"SMITH", b"19800101"], 20).unwrap();
        assert_eq!(first, key.compute(&[b"SMITH", b"19800101"], 20).unwrap());
        assert!((0..1 << 20).contains(&first));
        assert_ne!(
            key.compute(&[b"SMITH1", b"9800101"], 63).unwrap(),
            key.compute(&[b"SMITH", b"19800101"], 63).unwrap(),
            "part boundaries are bound"
        );
        let other = IndexKey::new(&SecretKey::generate().unwrap());
        assert_ne!(other.compute(&[b"SMITH"], 63).unwrap(), key.compute(&[b"SMITH"], 63).unwrap());
        assert!(key.compute(&[b"x"], 0).is_err());
        assert!(key.compute(&[b"x"], 64).is_err());
    }
}
