//! Staff sign-in at the node's shell, for the commands that decrypt voter records or destroy
//! them (`keys rotate`, `jurisdiction shred`): the staff member's password and, where the
//! account or its roles call for one, a TOTP code; then the policy table; then, for two-person
//! operations, the approved request being carried out. Every refusal is a ledger entry, as on
//! the admin listener, and the action itself is recorded under the staff member's name.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{anyhow, bail};
use canvass_core::{
    access::{Decision, Grant, Operation, RequestKind, decide, requires_second_factor},
    audit::{Action, Actor, AuditEntry, now_millis},
    credential::{StaffAccount, Username},
    id::JurisdictionId,
};
use canvass_server::{
    ServerError, access,
    ledger::{Audit, Ledger, did_not_happen, target},
    requests, staff,
};
use canvass_store::Store;

use crate::data_dir;

/// The variable holding the signing-in staff member's password for scripts.
pub const PASSWORD_VARIABLE: &str = "CANVASS_PASSWORD";
/// The variable holding their current authenticator code.
pub const TOTP_CODE_VARIABLE: &str = "CANVASS_TOTP_CODE";

#[derive(Debug, clap::Args)]
pub struct StaffSignIn {
    /// The staff member doing this: it is checked against their roles and recorded in the
    /// ledger under their name.
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// File holding their password (else CANVASS_PASSWORD).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// The current code of their authenticator app (else CANVASS_TOTP_CODE). Needed when the
    /// account has a second factor or its roles require one; each code works once.
    #[arg(long, value_name = "CODE")]
    pub totp_code: Option<String>,
}

/// A staff member whose password (and second factor) this process checked.
pub struct SignedIn {
    pub username: Username,
    pub grants: Vec<Grant>,
    /// Records entries under the staff member's name.
    pub audit: Audit,
}

/// Records `entry` as refused because of `error` and returns `message` as the error to show.
async fn refuse(audit: &Audit, entry: AuditEntry, error: &ServerError, message: String) -> anyhow::Error {
    match audit.record(&did_not_happen(entry, error)).await {
        Ok(_) => anyhow!(message),
        // Nothing is refused silently: if the refusal cannot be recorded, say that instead.
        Err(ledger_error) => anyhow!(ledger_error).context(message),
    }
}

/// Checks the staff member's password and second factor. Failures are `auth.login` entries
/// refused in the ledger, under the account's name when it exists (a name that matches no
/// account is never recorded: people type passwords into name fields).
pub async fn sign_in(data: &Path, store: &Arc<dyn Store>, arguments: &StaffSignIn) -> anyhow::Result<SignedIn> {
    let Some(password) = data_dir::secret_from(arguments.password_file.as_deref(), PASSWORD_VARIABLE, "password")?
    else {
        bail!("give the password of {} with --password-file FILE or {PASSWORD_VARIABLE}", arguments.user);
    };
    let code = match &arguments.totp_code {
        Some(code) => Some(code.clone()),
        None => std::env::var(TOTP_CODE_VARIABLE).ok().filter(|value| !value.is_empty()),
    };
    let known = match Username::parse(&arguments.user) {
        Ok(username) => store.staff_account(&username).await?.map(|account| account.username),
        Err(_) => None,
    };
    let ledger = Ledger::direct(store.clone());
    let attempt_audit =
        Audit { ledger: ledger.clone(), actor: known.clone().map_or(Actor::Anonymous, Actor::User), request_id: None };
    let attempt = match &known {
        Some(username) => target(attempt_audit.entry(Action::AdministratorLogin), format!("staff:{username}"))?,
        None => attempt_audit.entry(Action::AdministratorLogin),
    };
    let account = match staff::check_password(store.as_ref(), &arguments.user, password).await {
        Ok(account) => account,
        Err(error @ ServerError::Unauthorized) => {
            let message = "sign-in refused: the username or password is wrong, or the account is suspended".to_owned();
            return Err(refuse(&attempt_audit, attempt, &error, message).await);
        }
        Err(error) => return Err(error.into()),
    };
    let grants = staff::current_grants(store.as_ref(), &account.username).await?;
    let needs_second_factor = account.totp_secret.is_some() || requires_second_factor(&grants, now_millis());
    if needs_second_factor && let Err(message) = second_factor(data, store.as_ref(), &account, code.as_deref()).await? {
        return Err(refuse(&attempt_audit, attempt, &ServerError::Unauthorized, message).await);
    }
    attempt_audit.record(&attempt).await?;
    let username = account.username;
    let audit = Audit { ledger, actor: Actor::User(username.clone()), request_id: None };
    Ok(SignedIn { username, grants, audit })
}

/// Checks the TOTP code; the inner error is the refusal to show (the outer one a failure).
async fn second_factor(
    data: &Path,
    store: &dyn Store,
    account: &StaffAccount,
    code: Option<&str>,
) -> anyhow::Result<Result<(), String>> {
    let username = &account.username;
    if account.totp_secret.is_none() {
        return Ok(Err(format!(
            "the roles of {username} require a second factor and none is enrolled: sign in to the admin pages once to enrol one"
        )));
    }
    let Some(code) = code else {
        return Ok(Err(format!(
            "{username} has a second factor: give the current code of their authenticator app with --totp-code CODE or {TOTP_CODE_VARIABLE}"
        )));
    };
    let key = staff::totp_key(&data_dir::load_signing_key(data)?)?;
    match staff::check_second_factor(store, &key, account, code).await {
        Ok(()) => Ok(Ok(())),
        Err(ServerError::Unauthorized) => Ok(Err(
            "the authenticator code is wrong or was already used: wait for the next code and try again".to_owned(),
        )),
        Err(error) => Err(error.into()),
    }
}

impl SignedIn {
    /// Asks the policy table about `operation` on `jurisdiction`; a refusal is an
    /// `access.denied` entry. Returns whether the operation needs a second person's approval.
    pub async fn authorize(
        &self,
        store: &dyn Store,
        operation: Operation,
        jurisdiction: &JurisdictionId,
    ) -> anyhow::Result<bool> {
        let lineage = access::lineage(store, jurisdiction).await?;
        match decide(&self.grants, operation, &lineage, now_millis()) {
            Decision::Allowed { rule, .. } => Ok(rule.second_approver),
            Decision::Denied => {
                let entry = self.denial(operation, jurisdiction)?;
                let message = format!("the roles of {} do not allow {operation} on {jurisdiction}", self.username);
                Err(refuse(&self.audit, entry, &ServerError::Forbidden, message).await)
            }
        }
    }

    fn denial(&self, operation: Operation, jurisdiction: &JurisdictionId) -> anyhow::Result<AuditEntry> {
        let entry = self.audit.entry(Action::AccessDenied).with_jurisdiction(jurisdiction);
        Ok(target(entry, format!("operation:{operation}"))?)
    }

    /// Carries out an approved two-person request: it must be of `kind`, for `jurisdiction`,
    /// made by this staff member, approved by someone else and not expired. It is marked
    /// executed here, once (a compare-and-set), so it cannot also run in the admin pages.
    pub async fn carry_out(
        &self,
        store: &dyn Store,
        request: Option<&str>,
        kind: RequestKind,
        jurisdiction: &JurisdictionId,
    ) -> anyhow::Result<()> {
        let Some(id) = request else {
            let entry = self.denial(kind.operation(), jurisdiction)?;
            let error = ServerError::ApprovalRequired(kind.operation().as_str().to_owned());
            let message = format!(
                "{} needs a second administrator's approval: make a {} request for {jurisdiction} in the admin pages \
                 (Approvals) or with POST /api/requests; once another administrator approves it, run it there or \
                 run this again with --request ID",
                kind.title(),
                kind.as_str()
            );
            return Err(refuse(&self.audit, entry, &error, message).await);
        };
        let Some(stored) = store.request(id).await? else {
            bail!("there is no request {id}: see the admin pages (Approvals) or GET /api/requests");
        };
        let entry = requests::execute_entry(&self.audit, &stored)?;
        let refusal = if stored.kind != kind || stored.jurisdiction != *jurisdiction {
            Some(ServerError::Refused(format!(
                "request {id} is to {} in {}, not to {} in {jurisdiction}",
                stored.kind.title().to_lowercase(),
                stored.jurisdiction,
                kind.title().to_lowercase()
            )))
        } else {
            requests::run_refusal(&stored, &self.username, now_millis())
        };
        if let Some(error) = refusal {
            let message = error.to_string();
            return Err(refuse(&self.audit, entry, &error, message).await);
        }
        requests::mark_executed(store, &self.audit, entry, id).await?;
        Ok(())
    }
}
