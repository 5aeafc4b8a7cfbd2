//! Key rings in use: creating a jurisdiction's ring, unsealing it (passphrase, or k-of-n shares
//! given one official at a time), holding unsealed rings in memory only, rotating the field
//! key and moving rows forward, and shredding. A sealed jurisdiction's PII operations are
//! refused with [`ServerError::Sealed`].

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, RwLock},
};

use canvass_core::id::JurisdictionId;
use canvass_crypto::{
    FieldCipher, IndexKey, KeyLabel, PassphraseSealer, RootKey, RootSealer, SecretKey, SecretString, Share,
    choose_index_bits, combine_shares, split_root,
};
use canvass_store::{KeyState, Store, StoreError, StoredDataKey, StoredKeyRing};

use canvass_core::audit::{Action, AuditEntry};

use crate::{
    ServerError,
    ledger::{Audit, did_not_happen, target},
    staff::blocking,
};

/// The purpose of the key that seals voter fields.
pub const FIELD_PURPOSE: &str = "field";

/// The blind indexes every key ring has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexKind {
    /// Last name + first name.
    Name,
    /// Last name + date of birth + SSN last four: the low-entropy fields only ever in compound.
    Identity,
    DriversLicense,
}

impl IndexKind {
    pub const ALL: [IndexKind; 3] = [Self::Name, Self::Identity, Self::DriversLicense];

    pub fn purpose(self) -> &'static str {
        match self {
            Self::Name => "index:name",
            Self::Identity => "index:identity",
            Self::DriversLicense => "index:drivers_license",
        }
    }
}

/// A jurisdiction's keys, unwrapped: exists only in this process's memory.
#[derive(Debug)]
pub struct UnsealedRing {
    root: RootKey,
    ciphers: BTreeMap<u32, FieldCipher>,
    active: u32,
    indexes: BTreeMap<IndexKind, (IndexKey, u8)>,
}

impl UnsealedRing {
    pub fn jurisdiction(&self) -> &str {
        self.root.jurisdiction()
    }

    pub fn active_version(&self) -> u32 {
        self.active
    }

    /// The cipher new writes use.
    pub fn active_cipher(&self) -> Result<&FieldCipher, ServerError> {
        self.cipher(self.active)
    }

    pub fn cipher(&self, version: u32) -> Result<&FieldCipher, ServerError> {
        self.ciphers.get(&version).ok_or_else(|| {
            ServerError::Internal(format!(
                "key version {version} of {} is not in the ring (retired?)",
                self.jurisdiction()
            ))
        })
    }

    pub fn index(&self, kind: IndexKind) -> Result<(&IndexKey, u8), ServerError> {
        self.indexes
            .get(&kind)
            .map(|(key, bits)| (key, *bits))
            .ok_or_else(|| ServerError::Internal(format!("the {} index key is missing", kind.purpose())))
    }
}

/// Progress of an unseal by shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsealProgress {
    Unsealed,
    NeedMoreShares { have: usize, need: usize },
}

/// The unsealed rings of this node and shares waiting for more officials.
#[derive(Debug, Default)]
pub struct KeyRings {
    unsealed: RwLock<HashMap<JurisdictionId, Arc<UnsealedRing>>>,
    pending_shares: Mutex<HashMap<JurisdictionId, Vec<Share>>>,
}

fn poisoned<T>(_: T) -> ServerError {
    ServerError::Internal("key ring lock poisoned".into())
}

impl KeyRings {
    pub fn is_unsealed(&self, jurisdiction: &JurisdictionId) -> bool {
        self.unsealed.read().map(|rings| rings.contains_key(jurisdiction)).unwrap_or(false)
    }

    pub fn insert(&self, jurisdiction: JurisdictionId, ring: UnsealedRing) -> Result<(), ServerError> {
        self.unsealed.write().map_err(poisoned)?.insert(jurisdiction, Arc::new(ring));
        crate::lookup_cache::note_change();
        Ok(())
    }

    /// Drops the jurisdiction's keys from memory.
    pub fn seal(&self, jurisdiction: &JurisdictionId) -> Result<bool, ServerError> {
        self.pending_shares.lock().map_err(poisoned)?.remove(jurisdiction);
        let removed = self.unsealed.write().map_err(poisoned)?.remove(jurisdiction).is_some();
        crate::lookup_cache::note_change();
        Ok(removed)
    }

    /// The jurisdiction's ring, current with the store: a rotation done by another process is
    /// picked up, and a shredded ring is dropped. Refused while sealed.
    pub async fn current(
        &self,
        store: &dyn Store,
        jurisdiction: &JurisdictionId,
    ) -> Result<Arc<UnsealedRing>, ServerError> {
        let ring = self
            .unsealed
            .read()
            .map_err(poisoned)?
            .get(jurisdiction)
            .cloned()
            .ok_or_else(|| ServerError::Sealed(jurisdiction.to_string()))?;
        let Some(stored) = store.key_ring(jurisdiction).await? else {
            self.seal(jurisdiction)?;
            return Err(ServerError::NoKeyRing(jurisdiction.to_string()));
        };
        let stored_active = active_field_version(&stored)?;
        let retired_in_memory = stored.keys.iter().any(|key| {
            key.purpose == FIELD_PURPOSE && key.state == KeyState::Retired && ring.ciphers.contains_key(&key.version)
        });
        if stored_active == ring.active && !retired_in_memory {
            return Ok(ring);
        }
        let refreshed = Arc::new(open_ring(&stored, ring.root.try_clone().map_err(ServerError::from)?)?);
        self.unsealed.write().map_err(poisoned)?.insert(jurisdiction.clone(), refreshed.clone());
        crate::lookup_cache::note_change();
        Ok(refreshed)
    }

    /// Adds one official's share; unseals once enough distinct shares are in.
    pub async fn add_share(
        &self,
        store: &dyn Store,
        jurisdiction: &JurisdictionId,
        share: Share,
    ) -> Result<UnsealProgress, ServerError> {
        if !share.is_for(jurisdiction.as_str()) {
            return Err(ServerError::Invalid("this share was issued for another jurisdiction".into()));
        }
        let stored = require_ring(store, jurisdiction).await?;
        let Some((threshold, _)) = stored.shares else {
            return Err(ServerError::Invalid(format!("the key ring of {jurisdiction} was never split into shares")));
        };
        let shares = {
            let mut pending = self.pending_shares.lock().map_err(poisoned)?;
            let entry = pending.entry(jurisdiction.clone()).or_default();
            if entry.iter().all(|held| held.index() != share.index()) {
                entry.push(share);
            }
            let have = entry.len();
            if have < usize::from(threshold) {
                return Ok(UnsealProgress::NeedMoreShares { have, need: usize::from(threshold) });
            }
            pending.remove(jurisdiction).unwrap_or_default()
        };
        let root =
            combine_shares(jurisdiction.as_str(), &shares).map_err(|error| ServerError::Invalid(error.to_string()))?;
        if !root.matches(&stored.root_check) {
            return Err(ServerError::Invalid(canvass_crypto::CryptoError::SharesDoNotMatch.to_string()));
        }
        self.insert(jurisdiction.clone(), open_ring(&stored, root)?)?;
        Ok(UnsealProgress::Unsealed)
    }
}

fn active_field_version(stored: &StoredKeyRing) -> Result<u32, ServerError> {
    stored
        .keys
        .iter()
        .find(|key| key.purpose == FIELD_PURPOSE && key.state == KeyState::Active)
        .map(|key| key.version)
        .ok_or_else(|| {
            ServerError::Internal(format!("the key ring of {} has no active field key", stored.jurisdiction))
        })
}

async fn require_ring(store: &dyn Store, jurisdiction: &JurisdictionId) -> Result<StoredKeyRing, ServerError> {
    store.key_ring(jurisdiction).await?.ok_or_else(|| ServerError::NoKeyRing(jurisdiction.to_string()))
}

/// Unwraps every usable key of a stored ring with its root.
fn open_ring(stored: &StoredKeyRing, root: RootKey) -> Result<UnsealedRing, ServerError> {
    if !root.matches(&stored.root_check) {
        return Err(ServerError::Invalid("this key does not open the jurisdiction's key ring".into()));
    }
    let mut ciphers = BTreeMap::new();
    let mut indexes = BTreeMap::new();
    for key in stored.keys.iter().filter(|key| key.state != KeyState::Retired) {
        let label = KeyLabel { purpose: &key.purpose, version: key.version };
        let secret = root.unwrap(&key.wrapped, label).map_err(ServerError::from)?;
        if key.purpose == FIELD_PURPOSE {
            ciphers.insert(key.version, FieldCipher::new(&secret, key.version).map_err(ServerError::from)?);
        } else if let Some(kind) = IndexKind::ALL.into_iter().find(|kind| kind.purpose() == key.purpose) {
            indexes.insert(kind, (IndexKey::new(&secret), key.index_bits.unwrap_or(16)));
        }
    }
    Ok(UnsealedRing { active: active_field_version(stored)?, root, ciphers, indexes })
}

fn new_key(root: &RootKey, purpose: &str, version: u32, index_bits: Option<u8>) -> Result<StoredDataKey, ServerError> {
    let secret = SecretKey::generate().map_err(ServerError::from)?;
    let wrapped = root.wrap(&secret, KeyLabel { purpose, version }).map_err(ServerError::from)?;
    Ok(StoredDataKey { purpose: purpose.to_owned(), version, wrapped, index_bits, state: KeyState::Active })
}

/// Creates a jurisdiction's key ring sealed by a passphrase, with index lengths chosen for
/// `projected_rows` voters. Returns it unsealed.
pub async fn create_key_ring(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    passphrase: SecretString,
    projected_rows: u64,
) -> Result<UnsealedRing, ServerError> {
    let entry = ring_entry(audit, Action::KeysInit, jurisdiction)?;
    audit.run(entry, create_key_ring_unrecorded(store, jurisdiction, passphrase, projected_rows)).await
}

/// The entry for a key operation on a jurisdiction's ring.
fn ring_entry(audit: &Audit, action: Action, jurisdiction: &JurisdictionId) -> Result<AuditEntry, ServerError> {
    target(audit.entry(action).with_jurisdiction(jurisdiction), format!("key_ring:{jurisdiction}"))
}

/// Records an attempt whose outcome is known (an unseal): allowed, or denied with the code.
/// The caller uses the result only if this succeeds.
pub async fn record_attempt<T>(
    audit: &Audit,
    action: Action,
    jurisdiction: &JurisdictionId,
    result: &Result<T, ServerError>,
) -> Result<(), ServerError> {
    let entry = ring_entry(audit, action, jurisdiction)?;
    let entry = match result {
        Ok(_) => entry,
        Err(error) => did_not_happen(entry, error),
    };
    audit.record(&entry).await.map(|_| ())
}

async fn create_key_ring_unrecorded(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    passphrase: SecretString,
    projected_rows: u64,
) -> Result<UnsealedRing, ServerError> {
    crate::service::require_jurisdiction(store, jurisdiction).await?;
    if store.key_ring(jurisdiction).await?.is_some() {
        return Err(ServerError::Conflict(format!("{jurisdiction} already has a key ring")));
    }
    let sealer = PassphraseSealer::new(passphrase).map_err(ServerError::from)?;
    sealer.check_strength().map_err(|error| ServerError::Invalid(error.to_string()))?;
    let root = RootKey::generate(jurisdiction.as_str()).map_err(ServerError::from)?;
    let (sealer, root, sealed) = blocking(move || {
        let sealed = sealer.seal(&root);
        (sealer, root, sealed)
    })
    .await?;
    let sealed = sealed.map_err(ServerError::from)?;
    let bits = choose_index_bits(projected_rows);
    let mut keys = vec![new_key(&root, FIELD_PURPOSE, 1, None)?];
    for kind in IndexKind::ALL {
        keys.push(new_key(&root, kind.purpose(), 1, Some(bits))?);
    }
    let stored = StoredKeyRing {
        jurisdiction: jurisdiction.clone(),
        root_check: root.check_value().map_err(ServerError::from)?,
        shares: None,
        projected_rows,
        seals: vec![(sealer.method().to_owned(), sealed)],
        keys,
    };
    store.create_key_ring(&stored).await?;
    open_ring(&stored, root)
}

/// Unseals with the passphrase. Argon2id at 64 MiB runs off the async threads.
pub async fn unseal_with_passphrase(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    passphrase: SecretString,
) -> Result<UnsealedRing, ServerError> {
    let result = unseal_with_passphrase_unrecorded(store, jurisdiction, passphrase).await;
    record_attempt(audit, Action::KeysUnseal, jurisdiction, &result).await?;
    detect_repeated_failures(store, audit, jurisdiction, &result).await;
    result
}

async fn unseal_with_passphrase_unrecorded(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    passphrase: SecretString,
) -> Result<UnsealedRing, ServerError> {
    let stored = require_ring(store, jurisdiction).await?;
    let sealed = stored
        .seals
        .iter()
        .find(|(method, _)| method == "passphrase")
        .map(|(_, sealed)| sealed.clone())
        .ok_or_else(|| ServerError::Invalid(format!("the key ring of {jurisdiction} has no passphrase seal")))?;
    let name = jurisdiction.to_string();
    let root = blocking(move || PassphraseSealer::new(passphrase).and_then(|sealer| sealer.unseal(&name, &sealed)))
        .await?
        .map_err(|error| match error {
            canvass_crypto::CryptoError::WrongPassphrase => ServerError::WrongSecret("the passphrase is wrong".into()),
            other => ServerError::Invalid(other.to_string()),
        })?;
    open_ring(&stored, root)
}

/// Unseals from enough shares given at once (scripts; the server takes them one at a time).
pub async fn unseal_with_shares(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    shares: &[Share],
) -> Result<UnsealedRing, ServerError> {
    let result = unseal_with_shares_unrecorded(store, jurisdiction, shares).await;
    record_attempt(audit, Action::KeysUnseal, jurisdiction, &result).await?;
    detect_repeated_failures(store, audit, jurisdiction, &result).await;
    result
}

async fn unseal_with_shares_unrecorded(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    shares: &[Share],
) -> Result<UnsealedRing, ServerError> {
    let stored = require_ring(store, jurisdiction).await?;
    if shares.iter().any(|share| !share.is_for(jurisdiction.as_str())) {
        return Err(ServerError::Invalid("a share was issued for another jurisdiction".into()));
    }
    let root =
        combine_shares(jurisdiction.as_str(), shares).map_err(|error| ServerError::Invalid(error.to_string()))?;
    if !root.matches(&stored.root_check) {
        return Err(ServerError::WrongSecret(canvass_crypto::CryptoError::SharesDoNotMatch.to_string()));
    }
    open_ring(&stored, root)
}

/// After a wrong passphrase or wrong shares: the failed-unseal detector counts this ring's
/// recent failures in the ledger. Its own failure is logged, not returned: the attempt's answer
/// stays the same.
pub(crate) async fn detect_repeated_failures<T>(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    result: &Result<T, ServerError>,
) {
    if matches!(result, Err(ServerError::WrongSecret(_) | ServerError::Invalid(_))) {
        let register = crate::incidents::Register::beside(store, audit);
        let detected = crate::incident_detectors::failed_unseal(&register, jurisdiction).await;
        crate::incident_detectors::report_failure(detected, "failed_unseal").await;
    }
}

/// Splits the root into `count` shares, `threshold` of which unseal, and records the policy.
pub async fn split(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    threshold: u8,
    count: u8,
) -> Result<Vec<Share>, ServerError> {
    let shares = split_root(&ring.root, threshold, count).map_err(|error| ServerError::Invalid(error.to_string()))?;
    let jurisdiction = JurisdictionId::parse(ring.jurisdiction())?;
    let entry = ring_entry(audit, Action::KeysSplit, &jurisdiction)?;
    audit.run(entry, async { Ok(store.set_share_policy(&jurisdiction, threshold, count).await?) }).await?;
    Ok(shares)
}

/// Makes a new field key version; new writes use it from now on. Returns the new version.
pub async fn rotate(store: &dyn Store, audit: &Audit, ring: &UnsealedRing) -> Result<u32, ServerError> {
    let jurisdiction = JurisdictionId::parse(ring.jurisdiction())?;
    let entry = ring_entry(audit, Action::KeysRotate, &jurisdiction)?;
    audit
        .run(entry, async {
            let stored = require_ring(store, &jurisdiction).await?;
            let next = stored.keys.iter().filter(|key| key.purpose == FIELD_PURPOSE).map(|key| key.version).max();
            let next = next.unwrap_or(0) + 1;
            store.add_data_key(&jurisdiction, &new_key(&ring.root, FIELD_PURPOSE, next, None)?).await?;
            crate::lookup_cache::note_change();
            Ok(next)
        })
        .await
}

/// Reopens a ring from the store with the same root (after a rotation).
pub async fn reload(store: &dyn Store, ring: &UnsealedRing) -> Result<UnsealedRing, ServerError> {
    let jurisdiction = JurisdictionId::parse(ring.jurisdiction())?;
    let stored = require_ring(store, &jurisdiction).await?;
    open_ring(&stored, ring.root.try_clone().map_err(ServerError::from)?)
}

/// Retires every previous field key version no row uses any more (nor a held FPCA or a queued
/// voter message, sealed outside the roll: `outbox_seal::version_in_use`); returns them.
pub async fn retire_unused(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
) -> Result<Vec<u32>, ServerError> {
    let stored = require_ring(store, jurisdiction).await?;
    let mut retired = Vec::new();
    for key in stored.keys.iter().filter(|key| key.purpose == FIELD_PURPOSE && key.state == KeyState::Previous) {
        if store
            .key_version_usage(jurisdiction)
            .await?
            .iter()
            .any(|usage| usage.version == key.version && usage.rows > 0)
            || crate::outbox_seal::version_in_use(store, jurisdiction, key.version).await?
        {
            continue;
        }
        let entry =
            target(ring_entry(audit, Action::KeysRotate, jurisdiction)?, format!("key_version:{}", key.version))?
                .with_reason("retire_unused_version")
                .map_err(|error| ServerError::Internal(error.to_string()))?;
        audit.record(&entry).await?;
        match store.retire_data_key(jurisdiction, FIELD_PURPOSE, key.version).await {
            Ok(()) => {
                crate::lookup_cache::note_change();
                retired.push(key.version);
            }
            Err(StoreError::InUse { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(retired)
}

/// One field key version of a ring and the voter rows sealed under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldKeyVersion {
    pub version: u32,
    pub state: KeyState,
    pub rows: u64,
}

/// What may be shown about a key ring: no key material, no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingStatus {
    pub jurisdiction: JurisdictionId,
    /// Whether `rings` (this process) holds the keys in memory.
    pub unsealed: bool,
    pub seal_methods: Vec<String>,
    /// `(k, n)` once split into shares.
    pub shares: Option<(u8, u8)>,
    pub projected_rows: u64,
    pub index_bits: Option<u8>,
    pub field_key_versions: Vec<FieldKeyVersion>,
}

/// The status of every key ring on the node, by jurisdiction id.
pub async fn ring_statuses(store: &dyn Store, rings: &KeyRings) -> Result<Vec<RingStatus>, ServerError> {
    let mut statuses = Vec::new();
    for jurisdiction in store.key_ring_jurisdictions().await? {
        let Some(stored) = store.key_ring(&jurisdiction).await? else { continue };
        let usage = store.key_version_usage(&jurisdiction).await?;
        let rows_of = |version| usage.iter().find(|u| u.version == version).map_or(0, |u| u.rows);
        statuses.push(RingStatus {
            unsealed: rings.is_unsealed(&jurisdiction),
            seal_methods: stored.seals.iter().map(|(method, _)| method.clone()).collect(),
            shares: stored.shares,
            projected_rows: stored.projected_rows,
            index_bits: stored.keys.iter().find_map(|key| key.index_bits),
            field_key_versions: stored
                .keys
                .iter()
                .filter(|key| key.purpose == FIELD_PURPOSE)
                .map(|key| FieldKeyVersion { version: key.version, state: key.state, rows: rows_of(key.version) })
                .collect(),
            jurisdiction,
        });
    }
    Ok(statuses)
}

/// Destroys the jurisdiction's key ring: everything sealed under it becomes unreadable.
pub async fn shred(
    store: &dyn Store,
    audit: &Audit,
    rings: &KeyRings,
    jurisdiction: &JurisdictionId,
) -> Result<(), ServerError> {
    let entry = ring_entry(audit, Action::KeysShred, jurisdiction)?;
    audit
        .run(entry, async {
            store.shred_key_ring(jurisdiction).await?;
            rings.seal(jurisdiction)?;
            Ok(())
        })
        .await
}
