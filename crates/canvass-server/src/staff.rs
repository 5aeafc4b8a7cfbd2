//! Staff account services: creating accounts, checking passwords and second factors, grants,
//! suspension. The admin API, the admin pages and the CLI all call these, so each rule (strong
//! passwords, a code used once, administrator grants only through two people) holds whichever
//! way a change arrives. Authorization is the caller's: these run once the policy allowed them.

use canvass_core::{
    access::{Grant, StaffRole},
    audit::Action,
    credential::{EmailAddress, StaffAccount, Username, check_new_password},
    doctor::{AdministratorFact, WELL_KNOWN_PASSWORDS},
};
use canvass_crypto::{
    ExposeSecret, NodeSigningKey, PasswordHash, SecretKey, SecretString, TotpSecret, hash_password, verify_password,
};
use canvass_store::Store;

use crate::{
    ServerError,
    ledger::{Audit, target},
};

/// The purpose string of the key that seals TOTP secrets, derived from the node's key.
const TOTP_KEY_PURPOSE: &str = "canvass staff totp secrets v1";

/// The key sealing TOTP secrets at rest: derived from the node key, so a copied database alone
/// does not yield anyone's second factor.
pub fn totp_key(node_key: &NodeSigningKey) -> Result<SecretKey, ServerError> {
    Ok(node_key.derive_secret(TOTP_KEY_PURPOSE)?)
}

/// Runs Argon2 off the async threads: each hash or check takes tens of milliseconds of CPU.
pub(crate) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ServerError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| ServerError::Internal(error.to_string()))
}

async fn hash(password: SecretString) -> Result<String, ServerError> {
    check_new_password(password.expose_secret())?;
    let hashed = blocking(move || hash_password(&password)).await?;
    Ok(hashed?.as_str().to_owned())
}

/// Creates a staff account with no roles yet (grants follow, each in the ledger).
pub async fn add_account(
    store: &dyn Store,
    audit: &Audit,
    username: &Username,
    email: Option<EmailAddress>,
    password: SecretString,
) -> Result<(), ServerError> {
    if store.staff_account(username).await?.is_some() {
        return Err(ServerError::Conflict(format!("staff account {username} already exists")));
    }
    let account = StaffAccount::new(username.clone(), hash(password).await?, email);
    let entry = target(audit.entry(Action::StaffAdd), format!("staff:{username}"))?;
    audit.run(entry, async { Ok(store.upsert_staff_account(&account).await?) }).await
}

/// Grants a role. Administrator roles reach here only through an approved two-person request
/// (or `canvass init`'s first administrator).
pub async fn grant(store: &dyn Store, audit: &Audit, username: &Username, grant: &Grant) -> Result<(), ServerError> {
    let mut entry = target(audit.entry(Action::StaffGrant), format!("staff:{username}"))?;
    entry = target(entry, format!("role:{}", grant.role))?;
    if let Some(jurisdiction) = &grant.jurisdiction {
        entry = entry.with_jurisdiction(jurisdiction);
    }
    audit.run(entry, async { Ok(store.add_grant(username, grant).await?) }).await
}

/// Creates or resets the first administrator's password (`canvass init`, `canvass admin`):
/// the account holds the state administrator role on the whole node.
pub async fn set_administrator_password(
    store: &dyn Store,
    audit: &Audit,
    username: &Username,
    password: SecretString,
) -> Result<(), ServerError> {
    let password_hash = hash(password).await?;
    let entry = target(audit.entry(Action::AdministratorPassword), format!("staff:{username}"))?;
    audit
        .run(entry, async {
            let account = match store.staff_account(username).await? {
                Some(existing) => StaffAccount { password_hash, ..existing },
                None => StaffAccount::new(username.clone(), password_hash, None),
            };
            store.upsert_staff_account(&account).await?;
            let node_wide = Grant::permanent(StaffRole::StateAdministrator, None);
            if !store.grants(username).await?.contains(&node_wide) {
                store.add_grant(username, &node_wide).await?;
            }
            Ok(())
        })
        .await
}

/// A fixed hash to check against when the account does not exist, so a wrong username takes
/// as long as a wrong password and the response does not reveal which accounts exist.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Rb8U3FGrFbKzA9Cu3SMpHrfDOkvW6nSb3Sn+cYRI7Hw";

/// Checks a username and password. Unknown accounts, wrong passwords and suspended accounts
/// all get the same `Unauthorized`, after the same Argon2 work.
pub async fn check_password(
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
        Some(account) if matches && !account.suspended => Ok(account),
        _ => Err(ServerError::Unauthorized),
    }
}

/// Checks a TOTP code against the account's enrolled secret and claims its time step, so the
/// same code (or an older one) never works twice.
pub async fn check_second_factor(
    store: &dyn Store,
    key: &SecretKey,
    account: &StaffAccount,
    code: &str,
) -> Result<(), ServerError> {
    let sealed = account.totp_secret.as_deref().ok_or(ServerError::Unauthorized)?;
    let secret = TotpSecret::open(sealed, key, account.username.as_str()).map_err(|_| ServerError::Unauthorized)?;
    let step = secret.verify(code, unix_seconds()).ok_or(ServerError::Unauthorized)?;
    if store.claim_totp_step(&account.username, step).await? { Ok(()) } else { Err(ServerError::Unauthorized) }
}

/// A new TOTP secret for enrolment: shown to the user (QR code and text), stored sealed only
/// once they prove their app holds it with a first code.
pub fn new_second_factor() -> Result<TotpSecret, ServerError> {
    Ok(TotpSecret::generate()?)
}

/// Completes enrolment: the code must match the offered secret; then the sealed secret is
/// stored and the code's step claimed.
pub async fn enrol_second_factor(
    store: &dyn Store,
    audit: &Audit,
    key: &SecretKey,
    username: &Username,
    secret: &TotpSecret,
    code: &str,
) -> Result<(), ServerError> {
    let step = secret.verify(code, unix_seconds()).ok_or(ServerError::Unauthorized)?;
    let sealed = secret.seal(key, username.as_str())?;
    let entry = target(audit.entry(Action::SecondFactorEnrol), format!("staff:{username}"))?;
    audit
        .run(entry, async {
            let account = store
                .staff_account(username)
                .await?
                .ok_or_else(|| ServerError::NotFound(format!("no staff account {username}")))?;
            // Replacing a second factor goes through an administrator's reset, never a form.
            if account.totp_secret.is_some() {
                return Err(ServerError::Conflict("a second factor is already set up for this account".into()));
            }
            let account = StaffAccount { totp_secret: Some(sealed), totp_last_step: step, ..account };
            Ok(store.upsert_staff_account(&account).await?)
        })
        .await
}

/// Suspends an account and ends its sessions at once. `reason` is a code for the ledger.
pub async fn suspend(store: &dyn Store, audit: &Audit, username: &Username, reason: &str) -> Result<(), ServerError> {
    let mut entry = target(audit.entry(Action::StaffSuspend), format!("staff:{username}"))?;
    entry.reason = Some(reason.to_owned());
    audit
        .run(entry, async {
            store.set_staff_suspended(username, true).await?;
            Ok(store.delete_sessions_of(username).await?)
        })
        .await
}

pub async fn reinstate(store: &dyn Store, audit: &Audit, username: &Username) -> Result<(), ServerError> {
    let entry = target(audit.entry(Action::StaffReinstate), format!("staff:{username}"))?;
    audit.run(entry, async { Ok(store.set_staff_suspended(username, false).await?) }).await
}

/// Forgets the account's second factor (a lost phone) and ends its sessions: the next sign-in
/// enrols a new one.
pub async fn reset_second_factor(store: &dyn Store, audit: &Audit, username: &Username) -> Result<(), ServerError> {
    let entry = target(audit.entry(Action::StaffResetSecondFactor), format!("staff:{username}"))?;
    audit
        .run(entry, async {
            let account = store
                .staff_account(username)
                .await?
                .ok_or_else(|| ServerError::NotFound(format!("no staff account {username}")))?;
            store.upsert_staff_account(&StaffAccount { totp_secret: None, ..account }).await?;
            Ok(store.delete_sessions_of(username).await?)
        })
        .await
}

/// The current grants of an account.
pub async fn current_grants(store: &dyn Store, username: &Username) -> Result<Vec<Grant>, ServerError> {
    let now = canvass_core::audit::now_millis();
    Ok(store.grants(username).await?.into_iter().filter(|grant| grant.is_current(now)).collect())
}

/// Whether the node has an administrator and none of them uses a well-known password.
pub async fn administrator_fact(store: &dyn Store) -> AdministratorFact {
    let Ok(grants) = store.all_grants().await else {
        return AdministratorFact::Unknown;
    };
    let mut administrators: Vec<Username> =
        grants.into_iter().filter(|(_, grant)| grant.role.is_administrator()).map(|(name, _)| name).collect();
    administrators.dedup();
    if administrators.is_empty() {
        return AdministratorFact::Missing;
    }
    let mut weak = Vec::new();
    for username in administrators {
        let Ok(Some(account)) = store.staff_account(&username).await else { continue };
        let stored = account.password_hash.clone();
        let is_weak = blocking(move || {
            let Ok(hash) = PasswordHash::parse(&stored) else { return true };
            WELL_KNOWN_PASSWORDS.iter().any(|known| verify_password(&hash, &SecretString::from(*known)))
        })
        .await
        .unwrap_or(false);
        if is_weak {
            weak.push(username.to_string());
        }
    }
    if weak.is_empty() { AdministratorFact::Sound } else { AdministratorFact::WeakCredentials(weak) }
}

pub(crate) fn unix_seconds() -> u64 {
    u64::try_from(canvass_core::audit::now_millis() / 1000).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_hash_is_a_real_argon2id_hash_so_it_costs_a_full_check() {
        let decoy = PasswordHash::parse(DECOY_HASH).unwrap_or_else(|error| panic!("{error}"));
        assert!(decoy.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!verify_password(&decoy, &SecretString::from("")));
    }
}
