//! `canvass user`, `canvass token` and `canvass policy`: staff accounts, their roles and API
//! tokens, managed from the node's shell through the same services as the admin API, each
//! change a ledger entry under the operator. Administrator roles follow the two-person rule:
//! the shell may only grant the first administrator of a jurisdiction (bootstrap); after that
//! a second administrator approves in the admin pages.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
};

use anyhow::{anyhow, bail};
use canvass_core::{
    access::{Grant, StaffRole, policy_markdown},
    audit::now_millis,
    credential::{EmailAddress, Username, check_new_password},
    id::JurisdictionId,
};
use canvass_crypto::ExposeSecret;
use canvass_server::{access, ledger::Audit, service, staff};
use canvass_store::Store;

use crate::data_dir;

/// The variable holding a new account's password for scripts.
pub const USER_PASSWORD_VARIABLE: &str = "CANVASS_USER_PASSWORD";

/// One line of help shared by the role flags.
const ROLES: &str =
    "state_administrator, county_administrator, registration_clerk, results_reporter, auditor, observer";

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a staff account and grant it one role, on a jurisdiction (and everything below
    /// it) or on the whole node. An administrator role is granted here only to the first
    /// administrator of a jurisdiction; later ones need a second administrator's approval in the
    /// admin pages. Node-wide administrators come from `canvass init` and `canvass admin`.
    Add {
        /// Login name: lowercase letters, digits, '.', '_' or '-', starting with a letter.
        #[arg(long, value_name = "NAME")]
        username: String,
        /// One of: state_administrator, county_administrator, registration_clerk,
        /// results_reporter, auditor, observer (`canvass policy` shows what each may do).
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// Where the role applies (and every jurisdiction below it); without it, the whole node.
        #[arg(long, value_name = "ID")]
        jurisdiction: Option<String>,
        /// Where notices for this person are sent.
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
        /// File holding the account's first password, at least 12 characters (else
        /// CANVASS_USER_PASSWORD).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// List staff accounts: roles and where they apply, second factor, suspension.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Suspend an account at once (its sessions end and its API tokens stop working), or with
    /// --reinstate let it sign in again.
    Suspend {
        #[arg(long, value_name = "NAME")]
        username: String,
        /// Lift a suspension instead.
        #[arg(long)]
        reinstate: bool,
    },
    /// Forget an account's second factor (a lost phone): its next sign-in enrols a new one.
    ResetMfa {
        #[arg(long, value_name = "NAME")]
        username: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Issue an API token that acts as USER with one of their roles, for a machine. Only the
    /// token is printed on standard output, once; only its hash is kept. Send it as
    /// `Authorization: Bearer TOKEN`. It stops working when it expires, when the user loses the
    /// role, or while the user is suspended.
    Add {
        /// The staff member the token acts for.
        #[arg(long, value_name = "NAME")]
        user: String,
        /// A role the user holds there.
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// Where the token acts (the user must hold the role there); without it, the whole node
        /// (the user must hold the role node-wide).
        #[arg(long, value_name = "ID")]
        jurisdiction: Option<String>,
        /// What the token is for, shown in listings: "results upload from the county office".
        #[arg(long, value_name = "TEXT")]
        label: String,
        /// Days until the token expires, 1 to 366.
        #[arg(long, default_value_t = 30, value_name = "N")]
        days: u32,
    },
}

fn parse_role(value: &str) -> anyhow::Result<StaffRole> {
    StaffRole::parse(value).map_err(|_| anyhow!("unknown role `{value}`; the roles are {ROLES}"))
}

fn scope(jurisdiction: Option<&JurisdictionId>) -> String {
    jurisdiction.map_or_else(|| "the whole node".to_owned(), |id| id.to_string())
}

/// Runs `work` on the data dir's store and closes it whatever happened.
async fn with_store<T>(data: &Path, work: impl AsyncFnOnce(&Arc<dyn Store>) -> anyhow::Result<T>) -> anyhow::Result<T> {
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = work(&store).await;
    store.close().await;
    outcome
}

pub async fn user(data: &Path, command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add { username, role, jurisdiction, email, password_file } => {
            let username = Username::parse(&username)?;
            let role = parse_role(&role)?;
            let jurisdiction = jurisdiction.as_deref().map(JurisdictionId::parse).transpose()?;
            let email = email.as_deref().map(EmailAddress::parse).transpose()?;
            let Some(password) = data_dir::secret_from(password_file.as_deref(), USER_PASSWORD_VARIABLE, "password")?
            else {
                bail!("give the new account's password with --password-file FILE or {USER_PASSWORD_VARIABLE}");
            };
            check_new_password(password.expose_secret())
                .map_err(|error| anyhow!("{error}; nothing was written, choose a stronger password"))?;
            if role.is_administrator() && jurisdiction.is_none() {
                bail!(
                    "node-wide administrators come from `canvass init` and `canvass admin set-password`; give --jurisdiction for a {role}"
                );
            }
            with_store(data, async |store| {
                let audit = Audit::operator(store.clone());
                if let Some(jurisdiction) = &jurisdiction {
                    service::require_jurisdiction(store.as_ref(), jurisdiction).await?;
                }
                if store.staff_account(&username).await?.is_some() {
                    bail!("the staff account {username} already exists");
                }
                if let Some(jurisdiction) = jurisdiction.as_ref().filter(|_| role.is_administrator()) {
                    let present = administrators_over(store.as_ref(), jurisdiction).await?;
                    if !present.is_empty() {
                        bail!(
                            "{jurisdiction} already has an administrator ({}): a new {role} there needs a second administrator's approval; add the account in the admin pages (Users) or with POST /api/users and have another administrator approve it",
                            present.join(", ")
                        );
                    }
                }
                staff::add_account(store.as_ref(), &audit, &username, email, password).await?;
                let grant = Grant::permanent(role, jurisdiction.clone());
                staff::grant(store.as_ref(), &audit, &username, &grant).await?;
                println!("Added {username} as {role} on {}.", scope(jurisdiction.as_ref()));
                if role.requires_second_factor() {
                    println!("  Their role requires a second factor: they enrol one (TOTP) at their first sign-in to the admin pages.");
                }
                Ok(())
            })
            .await?;
        }
        UserCommand::List { json } => with_store(data, async |store| list(store.as_ref(), json).await).await?,
        UserCommand::Suspend { username, reinstate } => {
            let username = Username::parse(&username)?;
            with_store(data, async |store| {
                require_account(store.as_ref(), &username).await?;
                let audit = Audit::operator(store.clone());
                if reinstate {
                    staff::reinstate(store.as_ref(), &audit, &username).await?;
                    println!("Reinstated {username}: they can sign in again.");
                } else {
                    staff::suspend(store.as_ref(), &audit, &username, "operator").await?;
                    println!("Suspended {username}: their sessions ended and their API tokens no longer work.");
                }
                Ok(())
            })
            .await?;
        }
        UserCommand::ResetMfa { username } => {
            let username = Username::parse(&username)?;
            with_store(data, async |store| {
                require_account(store.as_ref(), &username).await?;
                staff::reset_second_factor(store.as_ref(), &Audit::operator(store.clone()), &username).await?;
                println!("Reset the second factor of {username}: they enrol a new one at their next sign-in.");
                Ok(())
            })
            .await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn require_account(store: &dyn Store, username: &Username) -> anyhow::Result<()> {
    if store.staff_account(username).await?.is_none() {
        bail!("there is no staff account {username}; see `canvass user list`");
    }
    Ok(())
}

/// The accounts holding a current administrator grant on the jurisdiction or one above it.
/// Node-wide administrators (`canvass init`, `canvass admin`) are the operator's own and do not
/// count: otherwise no jurisdiction could ever get its first administrator.
async fn administrators_over(store: &dyn Store, jurisdiction: &JurisdictionId) -> anyhow::Result<Vec<String>> {
    let lineage = access::lineage(store, jurisdiction).await?;
    let now = now_millis();
    let mut names: Vec<String> = store
        .all_grants()
        .await?
        .into_iter()
        .filter(|(_, grant)| grant.role.is_administrator() && grant.is_current(now))
        .filter(|(_, grant)| grant.jurisdiction.as_ref().is_some_and(|granted| lineage.contains(granted)))
        .map(|(username, _)| username.to_string())
        .collect();
    names.dedup();
    Ok(names)
}

fn grant_text(grant: &Grant) -> String {
    let mut text = format!("{} on {}", grant.role, grant.scope_text());
    if grant.emergency {
        text.push_str(" (emergency)");
    }
    text
}

async fn list(store: &dyn Store, json: bool) -> anyhow::Result<()> {
    let now = now_millis();
    let grants: Vec<(Username, Grant)> =
        store.all_grants().await?.into_iter().filter(|(_, grant)| grant.is_current(now)).collect();
    let accounts = store.staff_accounts().await?;
    let held = |username: &Username| -> Vec<&Grant> {
        grants.iter().filter(|(name, _)| name == username).map(|(_, grant)| grant).collect()
    };
    if json {
        let items: Vec<serde_json::Value> = accounts
            .iter()
            .map(|account| {
                let grants: Vec<serde_json::Value> = held(&account.username)
                    .into_iter()
                    .map(|grant| {
                        serde_json::json!({
                            "role": grant.role.as_str(),
                            "jurisdiction": grant.jurisdiction.as_ref().map(JurisdictionId::as_str),
                            "expires_at": grant.expires_at,
                            "emergency": grant.emergency,
                        })
                    })
                    .collect();
                serde_json::json!({
                    "username": account.username.as_str(),
                    "email": account.email.as_ref().map(EmailAddress::as_str),
                    "grants": grants,
                    "second_factor": account.totp_secret.is_some(),
                    "suspended": account.suspended,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(items));
        return Ok(());
    }
    if accounts.is_empty() {
        println!("No staff accounts yet. Add one with `canvass user add`.");
        return Ok(());
    }
    let yes_no = |value: bool| if value { "yes" } else { "no" };
    let rows: Vec<[String; 5]> = accounts
        .iter()
        .map(|account| {
            let roles: Vec<String> = held(&account.username).into_iter().map(grant_text).collect();
            [
                account.username.to_string(),
                account.email.as_ref().map_or("-", EmailAddress::as_str).to_owned(),
                if roles.is_empty() { "-".to_owned() } else { roles.join(", ") },
                yes_no(account.totp_secret.is_some()).to_owned(),
                yes_no(account.suspended).to_owned(),
            ]
        })
        .collect();
    let header = ["USERNAME", "EMAIL", "ROLES", "SECOND FACTOR", "SUSPENDED"].map(str::to_owned);
    let widths: Vec<usize> = (0..header.len())
        .map(|column| std::iter::once(&header).chain(&rows).map(|row| row[column].chars().count()).max().unwrap_or(0))
        .collect();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> =
            row.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}", width = *width)).collect();
        println!("{}", cells.join("  ").trim_end());
    }
    Ok(())
}

pub async fn token(data: &Path, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let TokenCommand::Add { user, role, jurisdiction, label, days } = command;
    let username = Username::parse(&user)?;
    let role = parse_role(&role)?;
    let jurisdiction = jurisdiction.as_deref().map(JurisdictionId::parse).transpose()?;
    if !(1..=366).contains(&days) {
        bail!("a token lasts 1 to 366 days (--days)");
    }
    let label = label.trim().to_owned();
    if label.is_empty() || label.len() > 100 || label.chars().any(char::is_control) {
        bail!("give the token a --label of 1-100 characters on one line");
    }
    let (id, text, expires_at) = with_store(data, async |store| {
        let Some(account) = store.staff_account(&username).await? else {
            bail!("there is no staff account {username}; see `canvass user list`");
        };
        if account.suspended {
            bail!("{username} is suspended: a token of theirs would not work (reinstate them first)");
        }
        if let Some(jurisdiction) = &jurisdiction {
            service::require_jurisdiction(store.as_ref(), jurisdiction).await?;
        }
        // The rule the admin API applies (a permanent grant of the role there).
        let grants = staff::current_grants(store.as_ref(), &username).await?;
        let holds = access::holds_for_token(store.as_ref(), &grants, role, jurisdiction.as_ref()).await?;
        if !holds {
            bail!(
                "{username} does not hold {role} on {}: a token can only carry a role its user holds there",
                scope(jurisdiction.as_ref())
            );
        }
        let grant = Grant::permanent(role, jurisdiction.clone());
        let audit = Audit::operator(store.clone());
        let (stored, text) = access::issue_token(store.as_ref(), &audit, &username, &grant, &label, days).await?;
        Ok((stored.id, text, stored.expires_at))
    })
    .await?;
    println!("{text}");
    let expires = time::OffsetDateTime::from_unix_timestamp(expires_at / 1000)
        .map(|time| time.date().to_string())
        .unwrap_or_else(|_| format!("{days} days from now"));
    eprintln!(
        "Issued API token {id} for {username} as {role} on {} (\"{label}\"), valid until {expires}.",
        scope(jurisdiction.as_ref())
    );
    eprintln!(
        "It is printed once, above; only its hash is kept. Send it as `Authorization: Bearer TOKEN`; the ledger names it token:{id}."
    );
    Ok(ExitCode::SUCCESS)
}

/// `canvass policy`: the policy table the node enforces, as Markdown.
pub fn policy() -> ExitCode {
    print!("{}", policy_markdown());
    ExitCode::SUCCESS
}
