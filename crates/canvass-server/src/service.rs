//! Application services: the rules that need the store (a county's parent must exist and be a
//! state, the administrator's password must not be a default one). The admin API and the CLI
//! both call these, so a rule holds whichever way a change arrives.

use canvass_core::{
    credential::{StaffAccount, StaffRole, Username, check_new_password},
    demo,
    doctor::{AdministratorFact, WELL_KNOWN_PASSWORDS},
    id::JurisdictionId,
    jurisdiction::{Jurisdiction, Precinct},
};
use canvass_crypto::{PasswordHash, SecretString, Share, generate_password, hash_password, verify_password};
use canvass_store::Store;
use time::Date;

use canvass_core::audit::Action;

use crate::{
    ServerError, keys,
    keys::KeyRings,
    ledger::{Audit, target},
    voters,
};

/// Adds a jurisdiction after checking that its parent exists and may hold it.
pub async fn add_jurisdiction(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &Jurisdiction,
) -> Result<(), ServerError> {
    let entry = audit.entry(Action::JurisdictionAdd).with_jurisdiction(&jurisdiction.id);
    let entry = target(entry, format!("jurisdiction:{}", jurisdiction.id))?;
    audit.run(entry, add_jurisdiction_unrecorded(store, jurisdiction)).await
}

async fn add_jurisdiction_unrecorded(store: &dyn Store, jurisdiction: &Jurisdiction) -> Result<(), ServerError> {
    let parent_kind = match &jurisdiction.parent {
        None => None,
        Some(parent) => Some(
            store
                .jurisdiction(parent)
                .await?
                .ok_or_else(|| ServerError::UnknownReference(format!("parent jurisdiction `{parent}` does not exist")))?
                .kind,
        ),
    };
    jurisdiction.kind.check_parent(parent_kind)?;
    store.insert_jurisdiction(jurisdiction).await?;
    Ok(())
}

/// Adds a precinct to an existing jurisdiction.
pub async fn add_precinct(store: &dyn Store, audit: &Audit, precinct: &Precinct) -> Result<(), ServerError> {
    let entry = audit.entry(Action::PrecinctAdd).with_jurisdiction(&precinct.jurisdiction);
    let entry = target(entry, format!("precinct:{}", precinct.id))?;
    audit
        .run(entry, async {
            require_jurisdiction(store, &precinct.jurisdiction).await?;
            store.insert_precinct(precinct).await?;
            Ok(())
        })
        .await
}

/// The jurisdiction, or a clear "does not exist" naming it.
pub async fn require_jurisdiction(store: &dyn Store, id: &JurisdictionId) -> Result<Jurisdiction, ServerError> {
    store
        .jurisdiction(id)
        .await?
        .ok_or_else(|| ServerError::UnknownReference(format!("jurisdiction `{id}` does not exist")))
}

/// What loading the demo made, including the secrets a newcomer needs to try the key
/// commands: each jurisdiction's passphrase and one county's 2-of-3 shares.
#[derive(Debug)]
pub struct DemoLoaded {
    pub content: demo::DemoContent,
    pub passphrases: Vec<(JurisdictionId, SecretString)>,
    pub shares: (JurisdictionId, Vec<Share>),
}

/// The row count the demo's blind indexes are sized for: a small county.
const DEMO_PROJECTED_VOTERS: u64 = 50_000;

/// Loads the built-in demo (see `canvass_core::demo`) into an empty store: every jurisdiction
/// gets a key ring (left unsealed in `rings`) and each county's voters are sealed under its own.
pub async fn load_demo(
    store: &dyn Store,
    audit: &Audit,
    rings: &KeyRings,
    today: Date,
    seed: u64,
) -> Result<DemoLoaded, ServerError> {
    let content = demo::content(today, seed)?;
    audit.record(&audit.entry(Action::DemoLoad)).await?;
    for jurisdiction in &content.jurisdictions {
        add_jurisdiction(store, audit, jurisdiction).await?;
    }
    for precinct in &content.precincts {
        add_precinct(store, audit, precinct).await?;
    }
    let entry = audit.entry(Action::ElectionAdd).with_jurisdiction(&content.election.jurisdiction);
    let entry = target(entry, format!("election:{}", content.election.id))?;
    audit.run(entry, async { Ok(store.insert_election(&content.election, &content.contests).await?) }).await?;
    let mut passphrases = Vec::new();
    let mut shares = None;
    for jurisdiction in &content.jurisdictions {
        let passphrase = generate_password(4).map_err(|error| ServerError::Internal(error.to_string()))?;
        let ring =
            keys::create_key_ring(store, audit, &jurisdiction.id, passphrase.clone(), DEMO_PROJECTED_VOTERS).await?;
        if shares.is_none() && jurisdiction.kind == canvass_core::jurisdiction::JurisdictionKind::County {
            shares = Some((jurisdiction.id.clone(), keys::split(store, audit, &ring, 2, 3).await?));
        }
        rings.insert(jurisdiction.id.clone(), ring)?;
        passphrases.push((jurisdiction.id.clone(), passphrase));
    }
    for county in
        content.jurisdictions.iter().filter(|j| j.kind == canvass_core::jurisdiction::JurisdictionKind::County)
    {
        let roll: Vec<_> = content.voters.iter().filter(|voter| voter.county == county.id).cloned().collect();
        voters::add_voters(store, audit, rings, &county.id, &roll).await?;
    }
    let shares = shares.ok_or_else(|| ServerError::Internal("the demo has no county".into()))?;
    Ok(DemoLoaded { content, passphrases, shares })
}

/// Runs Argon2 off the async threads: each hash or check takes tens of milliseconds of CPU.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ServerError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| ServerError::Internal(error.to_string()))
}

/// Creates or resets an administrator account, refusing weak passwords.
pub async fn set_administrator_password(
    store: &dyn Store,
    audit: &Audit,
    username: &Username,
    password: SecretString,
) -> Result<(), ServerError> {
    use canvass_crypto::ExposeSecret;
    check_new_password(password.expose_secret())?;
    let entry = target(audit.entry(Action::AdministratorPassword), format!("staff:{}", username.as_str()))?;
    audit.run(entry, store_administrator_password(store, username, password)).await
}

async fn store_administrator_password(
    store: &dyn Store,
    username: &Username,
    password: SecretString,
) -> Result<(), ServerError> {
    let hash =
        blocking(move || hash_password(&password)).await?.map_err(|error| ServerError::Internal(error.to_string()))?;
    let account = StaffAccount {
        username: username.clone(),
        password_hash: hash.as_str().to_owned(),
        role: StaffRole::Administrator,
    };
    store.upsert_staff_account(&account).await?;
    Ok(())
}

/// A fixed hash to check against when the account does not exist, so a wrong username takes
/// as long as a wrong password and the response does not reveal which accounts exist.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Rb8U3FGrFbKzA9Cu3SMpHrfDOkvW6nSb3Sn+cYRI7Hw";

/// Checks an administrator's username and password.
pub async fn authenticate_administrator(
    store: &dyn Store,
    username: &str,
    password: SecretString,
) -> Result<StaffAccount, ServerError> {
    let account = match Username::parse(username) {
        Ok(username) => store.staff_account(&username).await?,
        Err(_) => None,
    };
    let stored = account.as_ref().map_or(DECOY_HASH, |account| account.password_hash.as_str()).to_owned();
    let matches =
        blocking(move || PasswordHash::parse(&stored).is_ok_and(|hash| verify_password(&hash, &password))).await?;
    match account {
        Some(account) if matches && account.role == StaffRole::Administrator => Ok(account),
        _ => Err(ServerError::Unauthorized),
    }
}

/// Whether the node has an administrator and none of them uses a well-known password.
pub async fn administrator_fact(store: &dyn Store) -> AdministratorFact {
    let Ok(administrators) = store.administrators().await else {
        return AdministratorFact::Unknown;
    };
    if administrators.is_empty() {
        return AdministratorFact::Missing;
    }
    let mut weak = Vec::new();
    for account in administrators {
        let stored = account.password_hash.clone();
        let is_weak = blocking(move || {
            let Ok(hash) = PasswordHash::parse(&stored) else { return true };
            WELL_KNOWN_PASSWORDS.iter().any(|known| verify_password(&hash, &SecretString::from(*known)))
        })
        .await
        .unwrap_or(false);
        if is_weak {
            weak.push(account.username.to_string());
        }
    }
    if weak.is_empty() { AdministratorFact::Sound } else { AdministratorFact::WeakCredentials(weak) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_hash_is_a_real_argon2id_hash_so_it_costs_a_full_check() {
        let decoy = PasswordHash::parse(DECOY_HASH).unwrap();
        assert!(decoy.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!verify_password(&decoy, &SecretString::from("")));
    }
}
