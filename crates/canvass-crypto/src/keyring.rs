//! A jurisdiction's key ring: one root key, never stored in the clear, which wraps the
//! jurisdiction's data and index keys. The root is sealed at rest by one or more
//! [`RootSealer`]s (a passphrase today; an external KMS can implement the same trait) and can
//! also be split into k-of-n shares held by different officials.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ring::digest::{SHA256, digest};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::{
    CryptoError, SecretKey,
    field::{FieldCipher, FieldContext},
};

/// The root key of one jurisdiction, in memory only while the jurisdiction is unsealed.
#[derive(Debug)]
pub struct RootKey {
    jurisdiction: String,
    key: SecretKey,
}

/// What a wrapped key is for, bound into the wrapping so keys cannot be swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLabel<'a> {
    pub purpose: &'a str,
    pub version: u32,
}

const CHECK_PLAINTEXT: &[u8] = b"canvass root key check";

impl RootKey {
    pub fn generate(jurisdiction: &str) -> Result<Self, CryptoError> {
        Ok(Self { jurisdiction: jurisdiction.to_owned(), key: SecretKey::generate()? })
    }

    pub fn jurisdiction(&self) -> &str {
        &self.jurisdiction
    }

    /// A second copy, for a ring reopened after rotation; deliberately not `Clone`.
    pub fn try_clone(&self) -> Result<Self, CryptoError> {
        Ok(Self { jurisdiction: self.jurisdiction.clone(), key: SecretKey::from_slice(self.key.expose())? })
    }

    fn cipher(&self) -> Result<FieldCipher, CryptoError> {
        FieldCipher::new(&self.key, 0)
    }

    fn context<'a>(&'a self, table: &'a str, record: &'a str) -> FieldContext<'a> {
        FieldContext { jurisdiction: &self.jurisdiction, table, record, field: "root", key_version: 0 }
    }

    /// Wraps a data or index key for storage.
    pub fn wrap(&self, key: &SecretKey, label: KeyLabel<'_>) -> Result<Vec<u8>, CryptoError> {
        let record = format!("{}#{}", label.purpose, label.version);
        self.cipher()?.seal(&self.context("data_keys", &record), key.expose())
    }

    /// Unwraps a stored key; fails if it was wrapped by another root or for another label.
    pub fn unwrap(&self, wrapped: &[u8], label: KeyLabel<'_>) -> Result<SecretKey, CryptoError> {
        let record = format!("{}#{}", label.purpose, label.version);
        let bytes = self.cipher()?.open(&self.context("data_keys", &record), wrapped)?;
        SecretKey::from_slice(&bytes)
    }

    /// A value stored beside the ring that proves a reconstructed root is the right one.
    pub fn check_value(&self) -> Result<Vec<u8>, CryptoError> {
        self.cipher()?.seal(&self.context("key_rings", "check"), CHECK_PLAINTEXT)
    }

    /// True when this root produced `check`.
    pub fn matches(&self, check: &[u8]) -> bool {
        self.cipher()
            .and_then(|cipher| cipher.open(&self.context("key_rings", "check"), check))
            .is_ok_and(|plaintext| plaintext.as_slice() == CHECK_PLAINTEXT)
    }
}

/// Seals a root key at rest and opens it again. Implementations: [`PassphraseSealer`]; an
/// external KMS would implement this trait with its own sealed blob format.
pub trait RootSealer {
    /// Stored beside the sealed blob so the right sealer is chosen to open it.
    fn method(&self) -> &'static str;
    fn seal(&self, root: &RootKey) -> Result<Vec<u8>, CryptoError>;
    fn unseal(&self, jurisdiction: &str, sealed: &[u8]) -> Result<RootKey, CryptoError>;
}

/// Seals the root under a key derived from a passphrase with Argon2id.
pub struct PassphraseSealer {
    passphrase: SecretString,
    params: Params,
}

impl std::fmt::Debug for PassphraseSealer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("PassphraseSealer(..)")
    }
}

/// The shortest passphrase accepted for sealing a key ring.
pub const MINIMUM_PASSPHRASE_CHARACTERS: usize = 16;

impl PassphraseSealer {
    /// Argon2id at 64 MiB, 3 passes: stronger than staff passwords, since this passphrase
    /// guards every confidential field of a jurisdiction.
    pub fn new(passphrase: SecretString) -> Result<Self, CryptoError> {
        let params =
            Params::new(64 * 1024, 3, 1, Some(32)).map_err(|error| CryptoError::PasswordHashing(error.to_string()))?;
        Ok(Self { passphrase, params })
    }

    /// Checks strength before a new seal is made with this passphrase.
    pub fn check_strength(&self) -> Result<(), CryptoError> {
        if self.passphrase.expose_secret().chars().count() < MINIMUM_PASSPHRASE_CHARACTERS {
            return Err(CryptoError::WeakPassphrase);
        }
        Ok(())
    }

    fn derive(&self, salt: &[u8], params: Params) -> Result<SecretKey, CryptoError> {
        let mut output = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(self.passphrase.expose_secret().as_bytes(), salt, output.as_mut())
            .map_err(|error| CryptoError::PasswordHashing(error.to_string()))?;
        SecretKey::from_slice(output.as_ref())
    }
}

// Sealed blob: salt (16) | m_cost, t_cost, p_cost (u32 BE each) | wrapped root.
const SALT_LEN: usize = 16;

impl RootSealer for PassphraseSealer {
    fn method(&self) -> &'static str {
        "passphrase"
    }

    fn seal(&self, root: &RootKey) -> Result<Vec<u8>, CryptoError> {
        let mut salt = [0u8; SALT_LEN];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt).map_err(|_| CryptoError::Random)?;
        let kek = FieldCipher::new(&self.derive(&salt, self.params.clone())?, 0)?;
        let context = FieldContext {
            jurisdiction: &root.jurisdiction,
            table: "root_seals",
            record: "passphrase",
            field: "root",
            key_version: 0,
        };
        let wrapped = kek.seal(&context, root.key.expose())?;
        let mut blob = salt.to_vec();
        for value in [self.params.m_cost(), self.params.t_cost(), self.params.p_cost()] {
            blob.extend_from_slice(&value.to_be_bytes());
        }
        blob.extend_from_slice(&wrapped);
        Ok(blob)
    }

    fn unseal(&self, jurisdiction: &str, sealed: &[u8]) -> Result<RootKey, CryptoError> {
        if sealed.len() < SALT_LEN + 12 {
            return Err(CryptoError::Tampered);
        }
        let number = |offset: usize| {
            u32::from_be_bytes([sealed[offset], sealed[offset + 1], sealed[offset + 2], sealed[offset + 3]])
        };
        let (m_cost, t_cost, p_cost) = (number(SALT_LEN), number(SALT_LEN + 4), number(SALT_LEN + 8));
        // Bounds keep a tampered blob from asking for gigabytes or hours.
        if !(8 * 1024..=1024 * 1024).contains(&m_cost) || !(1..=16).contains(&t_cost) || !(1..=8).contains(&p_cost) {
            return Err(CryptoError::Tampered);
        }
        let params = Params::new(m_cost, t_cost, p_cost, Some(32)).map_err(|_| CryptoError::Tampered)?;
        let kek = FieldCipher::new(&self.derive(&sealed[..SALT_LEN], params)?, 0)?;
        let context =
            FieldContext { jurisdiction, table: "root_seals", record: "passphrase", field: "root", key_version: 0 };
        let key = kek.open(&context, &sealed[SALT_LEN + 12..]).map_err(|_| CryptoError::WrongPassphrase)?;
        Ok(RootKey { jurisdiction: jurisdiction.to_owned(), key: SecretKey::from_slice(&key)? })
    }
}

/// One official's share of a root key, as text they can keep in a file or on paper:
/// `canvass-share-v1.<threshold>.<jurisdiction tag>.<share>.<checksum>`.
pub struct Share {
    threshold: u8,
    jurisdiction_tag: String,
    bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Share {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Share").field("threshold", &self.threshold).finish_non_exhaustive()
    }
}

fn jurisdiction_tag(jurisdiction: &str) -> String {
    URL_SAFE_NO_PAD.encode(&digest(&SHA256, jurisdiction.as_bytes()).as_ref()[..6])
}

fn checksum(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(&digest(&SHA256, text.as_bytes()).as_ref()[..3])
}

const SHARE_PREFIX: &str = "canvass-share-v1";

impl Share {
    /// The text to hand to an official. Holds a secret: print or write it only for them.
    pub fn to_text(&self) -> Zeroizing<String> {
        let body = format!(
            "{SHARE_PREFIX}.{}.{}.{}",
            self.threshold,
            self.jurisdiction_tag,
            URL_SAFE_NO_PAD.encode(&*self.bytes)
        );
        let sum = checksum(&body);
        Zeroizing::new(format!("{body}.{sum}"))
    }

    /// Parses share text, catching typos with the checksum.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        let (body, sum) = text.rsplit_once('.').ok_or(CryptoError::MalformedShare("it is not a canvass share"))?;
        let parts: Vec<&str> = body.split('.').collect();
        let [prefix, threshold, tag, share] = parts.as_slice() else {
            return Err(CryptoError::MalformedShare("it is not a canvass share"));
        };
        if *prefix != SHARE_PREFIX {
            return Err(CryptoError::MalformedShare("it is not a canvass share"));
        }
        if checksum(body) != sum {
            return Err(CryptoError::MalformedShare(
                "its checksum does not match: a character was changed or mistyped",
            ));
        }
        let threshold = threshold.parse().map_err(|_| CryptoError::MalformedShare("its threshold is not a number"))?;
        let bytes =
            URL_SAFE_NO_PAD.decode(share).map_err(|_| CryptoError::MalformedShare("its share part is not base64"))?;
        Ok(Self { threshold, jurisdiction_tag: (*tag).to_owned(), bytes: Zeroizing::new(bytes) })
    }

    pub fn threshold(&self) -> u8 {
        self.threshold
    }

    /// True when the share was issued for this jurisdiction.
    pub fn is_for(&self, jurisdiction: &str) -> bool {
        self.jurisdiction_tag == jurisdiction_tag(jurisdiction)
    }

    /// The share's x-coordinate: two shares with the same one are the same official's.
    pub fn index(&self) -> Option<u8> {
        self.bytes.first().copied()
    }
}

/// Splits a root into `count` shares, any `threshold` of which rebuild it (2 <= k <= n <= 255).
pub fn split_root(root: &RootKey, threshold: u8, count: u8) -> Result<Vec<Share>, CryptoError> {
    if threshold < 2 || count < threshold {
        return Err(CryptoError::InvalidSharing { threshold, count });
    }
    let dealer = blahaj::Sharks(threshold).dealer(root.key.expose());
    Ok(dealer
        .take(usize::from(count))
        .map(|share| Share {
            threshold,
            jurisdiction_tag: jurisdiction_tag(&root.jurisdiction),
            bytes: Zeroizing::new(Vec::from(&share)),
        })
        .collect())
}

/// Rebuilds a root from shares. The caller checks the result against the ring's check value:
/// Shamir sharing itself cannot tell a forged share from a good one.
pub fn combine_shares(jurisdiction: &str, shares: &[Share]) -> Result<RootKey, CryptoError> {
    let threshold = shares.first().map(Share::threshold).ok_or(CryptoError::NotEnoughShares { have: 0, need: 2 })?;
    if shares.iter().any(|share| !share.is_for(jurisdiction)) {
        return Err(CryptoError::MalformedShare("it was issued for another jurisdiction"));
    }
    let mut parsed = Vec::with_capacity(shares.len());
    for share in shares {
        parsed.push(
            blahaj::Share::try_from(share.bytes.as_slice())
                .map_err(|_| CryptoError::MalformedShare("its share part is damaged"))?,
        );
    }
    let distinct: std::collections::BTreeSet<Option<u8>> = shares.iter().map(Share::index).collect();
    if distinct.len() < usize::from(threshold) {
        return Err(CryptoError::NotEnoughShares { have: distinct.len(), need: usize::from(threshold) });
    }
    let secret = Zeroizing::new(
        blahaj::Sharks(threshold)
            .recover(parsed.as_slice())
            .map_err(|_| CryptoError::NotEnoughShares { have: distinct.len(), need: usize::from(threshold) })?,
    );
    Ok(RootKey {
        jurisdiction: jurisdiction.to_owned(),
        key: SecretKey::from_slice(&secret).map_err(|_| CryptoError::SharesDoNotMatch)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_keys_are_bound_to_their_root_jurisdiction_and_label() {
        let root = RootKey::generate("wake").unwrap();
        let data = SecretKey::generate().unwrap();
        let label = KeyLabel { purpose: "field", version: 1 };
        let wrapped = root.wrap(&data, label).unwrap();
        assert_eq!(root.unwrap(&wrapped, label).unwrap().expose(), data.expose());
        assert!(root.unwrap(&wrapped, KeyLabel { purpose: "field", version: 2 }).is_err());
        assert!(root.unwrap(&wrapped, KeyLabel { purpose: "index:name", version: 1 }).is_err());
        assert!(RootKey::generate("wake").unwrap().unwrap(&wrapped, label).is_err());
        let check = root.check_value().unwrap();
        assert!(root.matches(&check));
        assert!(!RootKey::generate("wake").unwrap().matches(&check));
    }

    #[test]
    fn a_passphrase_seals_and_only_the_right_one_unseals() {
        let root = RootKey::generate("wake").unwrap();
        let sealer = PassphraseSealer::new(SecretString::from("correct horse battery staple")).unwrap();
        sealer.check_strength().unwrap();
        let blob = sealer.seal(&root).unwrap();
        let opened = sealer.unseal("wake", &blob).unwrap();
        assert!(opened.matches(&root.check_value().unwrap()));
        let wrong = PassphraseSealer::new(SecretString::from("correct horse battery stapler")).unwrap();
        assert!(matches!(wrong.unseal("wake", &blob), Err(CryptoError::WrongPassphrase)));
        assert!(sealer.unseal("durham", &blob).is_err(), "a seal moved to another jurisdiction");
        let mut tampered = blob.clone();
        tampered[SALT_LEN] = 0xff; // m_cost absurd
        assert!(matches!(sealer.unseal("wake", &tampered), Err(CryptoError::Tampered)));
        assert!(PassphraseSealer::new(SecretString::from("short")).unwrap().check_strength().is_err());
    }

    #[test]
    fn k_of_n_shares_rebuild_the_root_and_fewer_or_forged_do_not() {
        let root = RootKey::generate("wake").unwrap();
        let check = root.check_value().unwrap();
        let shares = split_root(&root, 3, 5).unwrap();
        let texts: Vec<String> = shares.iter().map(|share| share.to_text().to_string()).collect();
        let parse =
            |indexes: &[usize]| -> Vec<Share> { indexes.iter().map(|&i| Share::parse(&texts[i]).unwrap()).collect() };

        assert!(combine_shares("wake", &parse(&[0, 2, 4])).unwrap().matches(&check));
        assert!(combine_shares("wake", &parse(&[4, 1, 3])).unwrap().matches(&check));
        assert!(matches!(
            combine_shares("wake", &parse(&[0, 1])),
            Err(CryptoError::NotEnoughShares { have: 2, need: 3 })
        ));
        assert!(matches!(combine_shares("wake", &parse(&[0, 0, 1])), Err(CryptoError::NotEnoughShares { .. })));
        assert!(combine_shares("durham", &parse(&[0, 1, 2])).is_err());

        // A forged share (valid format, wrong numbers) rebuilds a key that fails the check.
        let other = split_root(&RootKey::generate("wake").unwrap(), 3, 5).unwrap();
        let mut mixed = parse(&[0, 1]);
        mixed.push(Share::parse(&other[2].to_text()).unwrap());
        assert!(!combine_shares("wake", &mixed).unwrap().matches(&check));

        // A typo is caught by the checksum.
        let mut typo = texts[0].clone();
        let position = typo.len() - 10;
        let replacement = if &typo[position..=position] == "A" { "B" } else { "A" };
        typo.replace_range(position..=position, replacement);
        assert!(matches!(Share::parse(&typo), Err(CryptoError::MalformedShare(_))));
        assert!(Share::parse("hello").is_err());
        assert!(split_root(&root, 1, 3).is_err());
        assert!(split_root(&root, 4, 3).is_err());
    }
}
