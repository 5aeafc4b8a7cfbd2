//! The node configuration file (`canvass.toml` in the data dir), parsed into typed settings.
//!
//! Parsing only checks that the file means something; whether the set-up is *safe* is a
//! separate question ([`NodeConfig::exposure_problems`]) so that `canvass doctor` can load an
//! unsafe file and explain it, while `canvass serve` refuses to run it.

use std::{
    collections::BTreeMap,
    fmt,
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

use serde::Deserialize;

use crate::{CoreError, access::StaffRole, credential::EmailAddress};

pub const CONFIG_FILE_NAME: &str = "canvass.toml";
pub const SIGNING_KEY_FILE_NAME: &str = "node-signing.key";
pub const SQLITE_FILE_NAME: &str = "canvass.db";
pub const DEFAULT_PUBLIC_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:8081";
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_REQUEST_TIMEOUT_SECONDS: u64 = 30;
pub const DEFAULT_MAIL_FROM: &str = "canvass@localhost";
pub const DEFAULT_SESSION_IDLE_MINUTES: u32 = 15;
pub const DEFAULT_SESSION_ABSOLUTE_HOURS: u32 = 8;
pub const DEFAULT_FAILED_LOGINS_PER_ACCOUNT: u32 = 5;
pub const DEFAULT_FAILED_LOGINS_PER_ADDRESS: u32 = 20;
pub const DEFAULT_LOGIN_WINDOW_MINUTES: u32 = 15;
pub const DEFAULT_APPROVAL_HOURS: u32 = 24;
pub const DEFAULT_BREAK_GLASS_MAX_MINUTES: u32 = 240;
/// Confidential voter records each role may read per hour before the read-volume check
/// suspends the account; roles not listed have no limit of their own.
pub const DEFAULT_READ_LIMITS: [(StaffRole, u32); 3] = [
    (StaffRole::RegistrationClerk, 500),
    (StaffRole::CountyAdministrator, 1000),
    (StaffRole::StateAdministrator, 2000),
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    database_url: Option<String>,
    backup_destination: Option<String>,
    public: Option<RawListener>,
    admin: Option<RawListener>,
    tls: Option<RawTls>,
    limits: Option<RawLimits>,
    log: Option<RawLog>,
    ledger: Option<RawLedger>,
    mail: Option<RawMail>,
    access: Option<RawAccess>,
    lookup: Option<RawLookup>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLookup {
    per_address_per_minute: Option<u32>,
    per_identity_per_hour: Option<u32>,
}

/// Rate limits of the public "Am I registered?" lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupConfig {
    /// Lookups one client address may make in a minute.
    pub per_address_per_minute: u32,
    /// Lookups of one identity (name, date of birth, county) per hour, from anywhere.
    pub per_identity_per_hour: u32,
}

impl Default for LookupConfig {
    fn default() -> Self {
        Self {
            per_address_per_minute: DEFAULT_LOOKUPS_PER_ADDRESS_PER_MINUTE,
            per_identity_per_hour: DEFAULT_LOOKUPS_PER_IDENTITY_PER_HOUR,
        }
    }
}

/// A library or a county office behind one address may need more than one voter's lookups a
/// minute; ten keeps a single client from walking the roll.
const DEFAULT_LOOKUPS_PER_ADDRESS_PER_MINUTE: u32 = 10;
const DEFAULT_LOOKUPS_PER_IDENTITY_PER_HOUR: u32 = 5;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLedger {
    origin: Option<String>,
    #[serde(default)]
    witnesses: Vec<String>,
}

/// The audit ledger's public name and the witnesses whose cosignatures the node accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerConfig {
    /// The log's origin line, e.g. `elections.examplia.gov/canvass`; by default derived from
    /// the node's public key.
    pub origin: Option<String>,
    /// Witness cosignature keys (`name+id+base64`); checked when the node starts.
    pub witnesses: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMail {
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    security: Option<String>,
    from: Option<String>,
    username: Option<String>,
    password_file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccess {
    session_idle_minutes: Option<u32>,
    session_absolute_hours: Option<u32>,
    failed_logins_per_account: Option<u32>,
    failed_logins_per_address: Option<u32>,
    login_window_minutes: Option<u32>,
    approval_hours: Option<u32>,
    break_glass_max_minutes: Option<u32>,
    #[serde(default)]
    read_limits: BTreeMap<String, u32>,
}

/// How the node reaches its mail server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS before anything else is sent; refused if the
    /// server does not offer it.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption at all: only to a relay on this machine.
    None,
}

impl SmtpSecurity {
    pub fn parse(value: &str) -> Result<Self, CoreError> {
        match value {
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            "none" => Ok(Self::None),
            other => Err(CoreError::Config(format!("mail.security `{other}` is not `starttls`, `tls` or `none`"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StartTls => "starttls",
            Self::Tls => "tls",
            Self::None => "none",
        }
    }

    /// The port mail servers conventionally use for this kind of connection.
    pub fn default_port(self) -> u16 {
        match self {
            Self::StartTls => 587,
            Self::Tls => 465,
            Self::None => 25,
        }
    }
}

impl fmt::Display for SmtpSecurity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The SMTP server notifications are handed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServer {
    /// A host name or IP address (an IPv6 address without brackets).
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// A file holding the SMTP password; `CANVASS_SMTP_PASSWORD` in the environment is the
    /// other way to give it. Only the path is kept here.
    pub password_file: Option<PathBuf>,
}

impl SmtpServer {
    /// Whether the host is this machine: `localhost` or a loopback address. Mail to it never
    /// crosses a network, which is the one case where security `none` is acceptable.
    pub fn host_is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }
}

fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|address| address.is_loopback())
}

/// Outgoing mail. Without an SMTP server notifications stay queued in the outbox, which
/// `canvass doctor` and the admin pages report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    pub smtp: Option<SmtpServer>,
    pub from: EmailAddress,
}

/// Session lifetimes, sign-in throttling, approvals and read-volume limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessConfig {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute: Duration,
    /// Failed sign-ins to one account within [`Self::login_window`] before it is locked.
    pub failed_logins_per_account: u32,
    /// Failed sign-ins from one client address within [`Self::login_window`] before it is
    /// refused.
    pub failed_logins_per_address: u32,
    pub login_window: Duration,
    /// How long a two-person request waits for its second approver.
    pub approval_lifetime: Duration,
    /// The longest break-glass access an administrator can open.
    pub break_glass_max: Duration,
    /// Confidential voter records per hour, by role.
    pub read_limits: BTreeMap<StaffRole, u32>,
}

impl Default for AccessConfig {
    fn default() -> Self {
        Self {
            session_idle: minutes(DEFAULT_SESSION_IDLE_MINUTES),
            session_absolute: hours(DEFAULT_SESSION_ABSOLUTE_HOURS),
            failed_logins_per_account: DEFAULT_FAILED_LOGINS_PER_ACCOUNT,
            failed_logins_per_address: DEFAULT_FAILED_LOGINS_PER_ADDRESS,
            login_window: minutes(DEFAULT_LOGIN_WINDOW_MINUTES),
            approval_lifetime: hours(DEFAULT_APPROVAL_HOURS),
            break_glass_max: minutes(DEFAULT_BREAK_GLASS_MAX_MINUTES),
            read_limits: DEFAULT_READ_LIMITS.into_iter().collect(),
        }
    }
}

impl AccessConfig {
    /// Confidential voter records the role may read per hour; None when it has no limit.
    pub fn read_limit(&self, role: StaffRole) -> Option<u32> {
        self.read_limits.get(&role).copied()
    }
}

fn minutes(count: u32) -> Duration {
    Duration::from_secs(u64::from(count) * 60)
}

fn hours(count: u32) -> Duration {
    Duration::from_secs(u64::from(count) * 3600)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListener {
    listen: Option<String>,
    behind_proxy: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    certificate: String,
    private_key: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_body_bytes: Option<usize>,
    request_timeout_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    format: Option<String>,
}

/// Where the node keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file; a relative path is relative to the data dir.
    Sqlite { path: PathBuf },
    /// A PostgreSQL connection URL, kept whole for the driver.
    Postgres { url: String },
}

impl DatabaseUrl {
    pub fn parse(value: &str) -> Result<Self, CoreError> {
        let value = value.trim();
        if let Some(path) = value.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(CoreError::Config(
                    "database_url `sqlite://` names no file; use sqlite://canvass.db".into(),
                ));
            }
            return Ok(Self::Sqlite { path: PathBuf::from(path) });
        }
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(Self::Postgres { url: value.to_owned() });
        }
        Err(CoreError::Config(
            "database_url must start with sqlite:// or postgres:// (for example sqlite://canvass.db)".into(),
        ))
    }

    /// True when the URL itself carries a password (in the user-info or as a parameter).
    pub fn has_password(&self) -> bool {
        match self {
            Self::Sqlite { .. } => false,
            Self::Postgres { url } => password_span(url).is_some() || url.contains("password="),
        }
    }

    /// For PostgreSQL, the URL without the password in its user-info, and that password: so a
    /// tool such as pg_dump gets the password in its environment, never on its command line.
    pub fn split_password(&self) -> Option<(String, Option<String>)> {
        let Self::Postgres { url } = self else { return None };
        Some(match password_span(url) {
            Some((start, end)) => (format!("{}{}", &url[..start - 1], &url[end..]), Some(url[start..end].to_owned())),
            None => (url.clone(), None),
        })
    }

    /// The URL with any password replaced by `***`, safe for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite { path } => format!("sqlite://{}", path.display()),
            Self::Postgres { url } => {
                let mut shown = match password_span(url) {
                    Some((start, end)) => format!("{}***{}", &url[..start], &url[end..]),
                    None => url.clone(),
                };
                if let Some(position) = shown.find("password=") {
                    let end = shown[position..].find('&').map_or(shown.len(), |offset| position + offset);
                    shown.replace_range(position..end, "password=***");
                }
                shown
            }
        }
    }
}

/// Byte range of the password in `scheme://user:password@host`, if there is one.
fn password_span(url: &str) -> Option<(usize, usize)> {
    let authority_start = url.find("://")? + 3;
    let authority_end = url[authority_start..].find('/').map_or(url.len(), |offset| authority_start + offset);
    let at = url[authority_start..authority_end].rfind('@')? + authority_start;
    let colon = url[authority_start..at].find(':')? + authority_start;
    (colon + 1 < at).then_some((colon + 1, at))
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.redacted())
    }
}

/// One listener's address and, when it sits behind a reverse proxy, the proxy's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerConfig {
    pub listen: SocketAddr,
    pub behind_proxy: Option<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    pub certificate: PathBuf,
    pub private_key: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(value: &str) -> Result<Self, CoreError> {
        match value {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(CoreError::Config(format!("log format `{other}` is not `text` or `json`"))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
}

/// The parsed configuration of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    pub database: DatabaseUrl,
    pub backup_destination: Option<String>,
    pub public: ListenerConfig,
    pub admin: ListenerConfig,
    pub tls: Option<TlsConfig>,
    pub limits: Limits,
    pub log_format: LogFormat,
    pub ledger: LedgerConfig,
    pub mail: MailConfig,
    pub access: AccessConfig,
    pub lookup: LookupConfig,
}

/// Which of the node's two listeners a setting or finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerName {
    Public,
    Admin,
}

impl ListenerName {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Admin => "admin",
        }
    }
}

/// A listener that would be reachable from other machines over plain HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposureProblem {
    pub listener: ListenerName,
    pub address: SocketAddr,
}

impl fmt::Display for ExposureProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let section = self.listener.as_str();
        write!(
            formatter,
            "the {section} listener binds {address}, which other machines can reach, without TLS; \
             set [tls] certificate and private_key in canvass.toml, or set behind_proxy = \"PROXY-IP\" \
             under [{section}] when a TLS-terminating reverse proxy is in front",
            address = self.address
        )
    }
}

impl NodeConfig {
    /// Parses the text of `canvass.toml`. Unknown keys are errors, so a typo such as `tsl`
    /// cannot silently disable a setting.
    pub fn parse(text: &str) -> Result<Self, CoreError> {
        let raw: RawConfig = toml::from_str(text).map_err(|error| {
            // The line, because serde's message for a value out of range does not name the key.
            let message = error.message();
            CoreError::Config(match error.span() {
                Some(span) => format!("{message} (line {})", text[..span.start.min(text.len())].lines().count().max(1)),
                None => message.to_owned(),
            })
        })?;
        let database = DatabaseUrl::parse(raw.database_url.as_deref().unwrap_or("sqlite://canvass.db"))?;
        let limits = raw.limits.unwrap_or_default();
        let max_body_bytes = limits.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes == 0 || max_body_bytes > 1024 * 1024 * 1024 {
            return Err(CoreError::Config("limits.max_body_bytes must be between 1 and 1073741824".into()));
        }
        let timeout_seconds = limits.request_timeout_seconds.unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECONDS);
        if !(1..=3600).contains(&timeout_seconds) {
            return Err(CoreError::Config("limits.request_timeout_seconds must be between 1 and 3600".into()));
        }
        Ok(Self {
            database,
            backup_destination: raw.backup_destination.filter(|value| !value.trim().is_empty()),
            public: parse_listener("public", raw.public.unwrap_or_default(), DEFAULT_PUBLIC_LISTEN)?,
            admin: parse_listener("admin", raw.admin.unwrap_or_default(), DEFAULT_ADMIN_LISTEN)?,
            tls: raw.tls.map(|tls| TlsConfig {
                certificate: PathBuf::from(tls.certificate),
                private_key: PathBuf::from(tls.private_key),
            }),
            limits: Limits { max_body_bytes, request_timeout: Duration::from_secs(timeout_seconds) },
            log_format: LogFormat::parse(raw.log.unwrap_or_default().format.as_deref().unwrap_or("text"))?,
            ledger: parse_ledger(raw.ledger.unwrap_or_default())?,
            mail: parse_mail(raw.mail.unwrap_or_default())?,
            access: parse_access(raw.access.unwrap_or_default())?,
            lookup: parse_lookup(raw.lookup.unwrap_or_default())?,
        })
    }

    /// Listeners that other machines could reach over plain HTTP: a non-loopback address with
    /// neither TLS nor a named reverse proxy.
    pub fn exposure_problems(&self) -> Vec<ExposureProblem> {
        [(ListenerName::Public, self.public), (ListenerName::Admin, self.admin)]
            .into_iter()
            .filter(|(_, listener)| {
                !listener.listen.ip().is_loopback() && self.tls.is_none() && listener.behind_proxy.is_none()
            })
            .map(|(listener, config)| ExposureProblem { listener, address: config.listen })
            .collect()
    }

    /// The file `canvass init` writes: every setting shown with its default and a comment.
    pub fn default_file_text() -> String {
        Self::file_text(&format!("sqlite://{SQLITE_FILE_NAME}"))
    }

    /// The same file naming another database URL, quoted by the TOML serializer.
    pub fn file_text(database_url: &str) -> String {
        let database_url = toml::Value::String(database_url.to_owned());
        format!(
            r#"# Canvass node configuration. `canvass doctor` checks this file; see README.md.

# Where the data lives: an SQLite file in this directory (the default), or PostgreSQL.
# Keep a PostgreSQL password out of this file: put the URL in CANVASS_DATABASE_URL instead.
database_url = {database_url}

# Where encrypted backups go: a directory on another disk or a mounted remote share.
# backup_destination = "/mnt/offsite/canvass"

[public]
# Public pages and published results. Binding a non-loopback address needs [tls] or
# behind_proxy = "PROXY-IP" naming the TLS-terminating reverse proxy in front.
listen = "{DEFAULT_PUBLIC_LISTEN}"

[admin]
# Staff pages and the admin API. Keep it on loopback or a private network.
listen = "{DEFAULT_ADMIN_LISTEN}"

# [tls]
# certificate = "/etc/canvass/tls/fullchain.pem"
# private_key = "/etc/canvass/tls/privkey.pem"

[limits]
max_body_bytes = {DEFAULT_MAX_BODY_BYTES}
request_timeout_seconds = {DEFAULT_REQUEST_TIMEOUT_SECONDS}

[log]
# "text" for people, "json" for log collectors.
format = "text"

[ledger]
# The audit log's public name (its checkpoints' origin line). By default it is derived from
# the node's key; set it once, before the first entry: changing it starts a different log.
# origin = "elections.examplia.gov/canvass"
# Witnesses whose cosignatures of the log's checkpoints this node accepts and serves
# (their keys, as `canvass witness keygen` prints them).
witnesses = []

[mail]
# Notifications (approval requests, suspensions, incidents) go out through this SMTP server.
# Without smtp_host they stay queued in the outbox, and `canvass doctor` says so.
# smtp_host = "mail.examplia.gov"
# "starttls" (the default, port 587), "tls" (port 465), or "none" (port 25), which is only
# allowed for a relay on this machine (smtp_host = "localhost" or a loopback address).
# security = "starttls"
# smtp_port = 587
# from = "{DEFAULT_MAIL_FROM}"
# username = "canvass"
# A file holding the SMTP password; or set CANVASS_SMTP_PASSWORD in the node's environment.
# Never put the password itself in this file.
# password_file = "/etc/canvass/smtp-password"

[access]
# Staff sessions end after this much idleness, and this long after sign-in in any case.
# session_idle_minutes = {DEFAULT_SESSION_IDLE_MINUTES}
# session_absolute_hours = {DEFAULT_SESSION_ABSOLUTE_HOURS}
# Failed sign-ins allowed per account, and per client address, within the window.
# failed_logins_per_account = {DEFAULT_FAILED_LOGINS_PER_ACCOUNT}
# failed_logins_per_address = {DEFAULT_FAILED_LOGINS_PER_ADDRESS}
# login_window_minutes = {DEFAULT_LOGIN_WINDOW_MINUTES}
# How long a request waits for its second approver (bulk export, key operations).
# approval_hours = {DEFAULT_APPROVAL_HOURS}
# The longest break-glass access an administrator can open.
# break_glass_max_minutes = {DEFAULT_BREAK_GLASS_MAX_MINUTES}

# Confidential voter records each role may read per hour; more suspends the account and opens
# an incident. Roles listed here replace their default; roles left out keep it.
# [access.read_limits]
# registration_clerk = 500
# county_administrator = 1000
# state_administrator = 2000

[lookup]
# The public "Am I registered?" page: lookups one client address may make a minute, and
# lookups of one person (name, date of birth, county) an hour from anywhere. Each is a 429
# with Retry-After past its limit.
# per_address_per_minute = {DEFAULT_LOOKUPS_PER_ADDRESS_PER_MINUTE}
# per_identity_per_hour = {DEFAULT_LOOKUPS_PER_IDENTITY_PER_HOUR}
"#
        )
    }
}

fn parse_lookup(raw: RawLookup) -> Result<LookupConfig, CoreError> {
    let default = LookupConfig::default();
    let limit = |name: &str, value: Option<u32>, default: u32| {
        let value = value.unwrap_or(default);
        if (1..=1_000_000).contains(&value) {
            Ok(value)
        } else {
            Err(CoreError::Config(format!("lookup.{name} must be between 1 and 1000000")))
        }
    };
    Ok(LookupConfig {
        per_address_per_minute: limit(
            "per_address_per_minute",
            raw.per_address_per_minute,
            default.per_address_per_minute,
        )?,
        per_identity_per_hour: limit(
            "per_identity_per_hour",
            raw.per_identity_per_hour,
            default.per_identity_per_hour,
        )?,
    })
}

fn parse_listener(section: &str, raw: RawListener, default: &str) -> Result<ListenerConfig, CoreError> {
    let listen_text = raw.listen.as_deref().unwrap_or(default);
    let listen = listen_text.parse::<SocketAddr>().map_err(|_| {
        CoreError::Config(format!("[{section}] listen `{listen_text}` is not an IP:port such as {default}"))
    })?;
    let behind_proxy = raw
        .behind_proxy
        .map(|text| {
            text.parse::<IpAddr>().map_err(|_| {
                CoreError::Config(format!("[{section}] behind_proxy `{text}` is not the proxy's IP address"))
            })
        })
        .transpose()?;
    Ok(ListenerConfig { listen, behind_proxy })
}

fn parse_ledger(raw: RawLedger) -> Result<LedgerConfig, CoreError> {
    if let Some(origin) = &raw.origin {
        let valid = !origin.is_empty()
            && origin.len() <= 255
            && !origin.contains('+')
            && !origin.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            return Err(CoreError::Config(
                "ledger.origin must be 1-255 characters without spaces or '+', e.g. elections.examplia.gov/canvass"
                    .into(),
            ));
        }
    }
    if raw.witnesses.iter().any(|key| key.split('+').count() < 3) {
        return Err(CoreError::Config("ledger.witnesses holds keys of the form name+keyid+base64".into()));
    }
    Ok(LedgerConfig { origin: raw.origin, witnesses: raw.witnesses })
}

fn parse_mail(raw: RawMail) -> Result<MailConfig, CoreError> {
    let from_text = raw.from.as_deref().unwrap_or(DEFAULT_MAIL_FROM);
    let from = EmailAddress::parse(from_text).map_err(|_| {
        CoreError::Config(format!("mail.from `{from_text}` is not a single email address such as canvass@county.gov"))
    })?;
    let Some(host) = raw.smtp_host else {
        let orphans: Vec<&str> = [
            ("smtp_port", raw.smtp_port.is_some()),
            ("security", raw.security.is_some()),
            ("username", raw.username.is_some()),
            ("password_file", raw.password_file.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, present)| present.then_some(key))
        .collect();
        if !orphans.is_empty() {
            return Err(CoreError::Config(format!(
                "mail.{} set without mail.smtp_host; set smtp_host, or remove them to keep notifications queued",
                orphans.join(", mail.")
            )));
        }
        return Ok(MailConfig { smtp: None, from });
    };
    let host = host.trim();
    // An IPv6 address may be written as in a URL; the connection wants it bare.
    let host = host.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).unwrap_or(host);
    if host.is_empty()
        || host.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '@' | '[' | ']'))
    {
        return Err(CoreError::Config(format!(
            "mail.smtp_host `{host}` is not a host name or IP address such as mail.county.gov"
        )));
    }
    let security = SmtpSecurity::parse(raw.security.as_deref().unwrap_or("starttls"))?;
    if security == SmtpSecurity::None && !is_loopback_host(host) {
        return Err(CoreError::Config(format!(
            "mail.security = \"none\" would send mail and the SMTP password unencrypted to {host}; \
             it is allowed only for a relay on this machine (smtp_host = \"localhost\" or a loopback address). \
             Use \"starttls\" (port 587) or \"tls\" (port 465)"
        )));
    }
    let port = raw.smtp_port.unwrap_or(security.default_port());
    if port == 0 {
        return Err(CoreError::Config("mail.smtp_port must be between 1 and 65535".into()));
    }
    let username = raw.username.map(|name| name.trim().to_owned());
    if username.as_deref().is_some_and(|name| name.is_empty() || name.chars().any(char::is_control)) {
        return Err(CoreError::Config("mail.username must not be empty or hold control characters".into()));
    }
    let password_file = raw.password_file.filter(|path| !path.trim().is_empty()).map(PathBuf::from);
    if password_file.is_some() && username.is_none() {
        return Err(CoreError::Config(
            "mail.password_file is set but mail.username is not; the server needs both".into(),
        ));
    }
    Ok(MailConfig { smtp: Some(SmtpServer { host: host.to_owned(), port, security, username, password_file }), from })
}

fn parse_access(raw: RawAccess) -> Result<AccessConfig, CoreError> {
    let count = |key: &str, value: Option<u32>, default: u32| -> Result<u32, CoreError> {
        match value.unwrap_or(default) {
            0 => Err(CoreError::Config(format!("access.{key} must be at least 1"))),
            value => Ok(value),
        }
    };
    let mut read_limits: BTreeMap<StaffRole, u32> = DEFAULT_READ_LIMITS.into_iter().collect();
    for (name, limit) in raw.read_limits {
        let role =
            StaffRole::parse(&name).map_err(|error| CoreError::Config(format!("access.read_limits: {error}")))?;
        read_limits.insert(role, count(&format!("read_limits.{name}"), Some(limit), limit)?);
    }
    Ok(AccessConfig {
        session_idle: minutes(count("session_idle_minutes", raw.session_idle_minutes, DEFAULT_SESSION_IDLE_MINUTES)?),
        session_absolute: hours(count(
            "session_absolute_hours",
            raw.session_absolute_hours,
            DEFAULT_SESSION_ABSOLUTE_HOURS,
        )?),
        failed_logins_per_account: count(
            "failed_logins_per_account",
            raw.failed_logins_per_account,
            DEFAULT_FAILED_LOGINS_PER_ACCOUNT,
        )?,
        failed_logins_per_address: count(
            "failed_logins_per_address",
            raw.failed_logins_per_address,
            DEFAULT_FAILED_LOGINS_PER_ADDRESS,
        )?,
        login_window: minutes(count("login_window_minutes", raw.login_window_minutes, DEFAULT_LOGIN_WINDOW_MINUTES)?),
        approval_lifetime: hours(count("approval_hours", raw.approval_hours, DEFAULT_APPROVAL_HOURS)?),
        break_glass_max: minutes(count(
            "break_glass_max_minutes",
            raw.break_glass_max_minutes,
            DEFAULT_BREAK_GLASS_MAX_MINUTES,
        )?),
        read_limits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_parses_to_safe_defaults() {
        let config = NodeConfig::parse(&NodeConfig::default_file_text()).unwrap();
        assert_eq!(config.database, DatabaseUrl::Sqlite { path: PathBuf::from("canvass.db") });
        assert_eq!(config.public.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.admin.listen.to_string(), "127.0.0.1:8081");
        assert!(config.exposure_problems().is_empty());
        assert_eq!(config.backup_destination, None);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.mail.smtp, None);
        assert_eq!(config.mail.from.as_str(), "canvass@localhost");
        assert_eq!(config.access, AccessConfig::default());
        assert_eq!(NodeConfig::parse("").unwrap().access, AccessConfig::default());

        let quoted = NodeConfig::parse(&NodeConfig::file_text("postgres://db/canvass?application_name=\"x\"")).unwrap();
        assert_eq!(
            quoted.database,
            DatabaseUrl::Postgres { url: "postgres://db/canvass?application_name=\"x\"".into() }
        );
    }

    fn check_error(text: &str, fragment: &str) {
        let error = NodeConfig::parse(text).unwrap_err().to_string();
        assert!(error.contains(fragment), "{text:?}: {error}");
    }

    #[test]
    fn malformed_files_say_what_is_wrong() {
        check_error("database_url = ", "");
        check_error("tsl = 1", "unknown field `tsl`");
        check_error("[public]\nlisten = \"localhost\"", "[public] listen `localhost` is not an IP:port");
        check_error("[admin]\nbehind_proxy = \"proxy\"", "behind_proxy `proxy`");
        check_error("database_url = \"mysql://x\"", "sqlite:// or postgres://");
        check_error("database_url = \"sqlite://\"", "names no file");
        check_error("[log]\nformat = \"xml\"", "`xml`");
        check_error("[limits]\nmax_body_bytes = 0", "max_body_bytes");
        check_error("[tls]\ncertificate = \"c.pem\"", "private_key");
    }

    #[test]
    fn exposure_needs_tls_or_a_named_proxy() {
        let exposed = NodeConfig::parse("[public]\nlisten = \"0.0.0.0:80\"").unwrap();
        let problems = exposed.exposure_problems();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].listener, ListenerName::Public);
        assert!(problems[0].to_string().contains("without TLS"));

        let admin_exposed = NodeConfig::parse("[admin]\nlisten = \"[::]:8081\"").unwrap();
        assert_eq!(admin_exposed.exposure_problems()[0].listener, ListenerName::Admin);

        let proxied = NodeConfig::parse("[public]\nlisten = \"0.0.0.0:80\"\nbehind_proxy = \"10.0.0.2\"").unwrap();
        assert!(proxied.exposure_problems().is_empty());

        let tls = NodeConfig::parse(
            "[public]\nlisten = \"0.0.0.0:443\"\n[tls]\ncertificate = \"c.pem\"\nprivate_key = \"k.pem\"",
        )
        .unwrap();
        assert!(tls.exposure_problems().is_empty());

        let loopback_v6 = NodeConfig::parse("[public]\nlisten = \"[::1]:8080\"").unwrap();
        assert!(loopback_v6.exposure_problems().is_empty());
    }

    #[test]
    fn database_passwords_are_detected_and_redacted() {
        let cases = [
            (
                "postgres://canvass:s3cret@db.example:5432/canvass",
                true,
                "postgres://canvass:***@db.example:5432/canvass",
            ),
            ("postgres://canvass@db/canvass", false, "postgres://canvass@db/canvass"),
            (
                "postgresql://db/canvass?user=c&password=s3cret&sslmode=require",
                true,
                "postgresql://db/canvass?user=c&password=***&sslmode=require",
            ),
            ("postgres://canvass:@db/canvass", false, "postgres://canvass:@db/canvass"),
            ("sqlite://canvass.db", false, "sqlite://canvass.db"),
        ];
        for (url, has_password, redacted) in cases {
            let parsed = DatabaseUrl::parse(url).unwrap();
            assert_eq!(parsed.has_password(), has_password, "{url}");
            assert_eq!(parsed.redacted(), redacted);
            assert!(!format!("{parsed:?}").contains("s3cret"));
        }
        let (bare, password) =
            DatabaseUrl::parse("postgres://canvass:s3cret@db:5432/canvass").unwrap().split_password().unwrap();
        assert_eq!((bare.as_str(), password.as_deref()), ("postgres://canvass@db:5432/canvass", Some("s3cret")));
    }

    #[test]
    fn the_default_files_commented_samples_parse_to_the_documented_values() {
        let uncommented: String = NodeConfig::default_file_text()
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                // Prose lines are not TOML; sample settings and section headers are.
                Some(setting) if toml::from_str::<toml::Table>(setting).is_ok() => setting,
                _ => line,
            })
            .map(|line| format!("{line}\n"))
            .collect();
        let config = NodeConfig::parse(&uncommented).unwrap();
        assert_eq!(config.access, AccessConfig::default());
        let server = config.mail.smtp.unwrap();
        assert_eq!((server.security, server.port), (SmtpSecurity::StartTls, 587));
        assert_eq!(config.mail.from.as_str(), DEFAULT_MAIL_FROM);
        assert!(config.tls.is_some() && config.ledger.origin.is_some());
    }

    fn smtp(text: &str) -> SmtpServer {
        NodeConfig::parse(text).unwrap().mail.smtp.unwrap()
    }

    #[test]
    fn mail_defaults_to_starttls_on_the_submission_port() {
        let server = smtp("[mail]\nsmtp_host = \"mail.examplia.gov\"");
        assert_eq!(server.host, "mail.examplia.gov");
        assert_eq!((server.security, server.port), (SmtpSecurity::StartTls, 587));
        assert!(!server.host_is_loopback());
        assert_eq!((server.username, server.password_file), (None, None));
    }

    #[test]
    fn mail_port_follows_security_unless_set() {
        assert_eq!(smtp("[mail]\nsmtp_host = \"mail.examplia.gov\"\nsecurity = \"tls\"").port, 465);
        assert_eq!(smtp("[mail]\nsmtp_host = \"localhost\"\nsecurity = \"none\"").port, 25);
        assert_eq!(smtp("[mail]\nsmtp_host = \"mail.examplia.gov\"\nsmtp_port = 2525").port, 2525);
    }

    #[test]
    fn mail_settings_override_the_defaults() {
        let config = NodeConfig::parse(
            "[mail]\nsmtp_host = \"[::1]\"\nsmtp_port = 1025\nsecurity = \"none\"\nfrom = \"elections@wake.example.gov\"\n\
             username = \"canvass\"\npassword_file = \"/etc/canvass/smtp-password\"",
        )
        .unwrap();
        assert_eq!(config.mail.from.as_str(), "elections@wake.example.gov");
        assert_eq!(
            config.mail.smtp,
            Some(SmtpServer {
                host: "::1".into(),
                port: 1025,
                security: SmtpSecurity::None,
                username: Some("canvass".into()),
                password_file: Some(PathBuf::from("/etc/canvass/smtp-password")),
            })
        );
        assert_eq!(NodeConfig::parse("[mail]\nfrom = \"a@b.gov\"").unwrap().mail.smtp, None);
    }

    #[test]
    fn unencrypted_mail_is_only_for_a_relay_on_this_machine() {
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.0.0.53", "::1", "[::1]"] {
            let server = smtp(&format!("[mail]\nsmtp_host = \"{host}\"\nsecurity = \"none\""));
            assert!(server.host_is_loopback(), "{host}");
        }
        for host in ["mail.examplia.gov", "10.0.0.5", "0.0.0.0", "localhost.examplia.gov", "::"] {
            check_error(&format!("[mail]\nsmtp_host = \"{host}\"\nsecurity = \"none\""), "allowed only for a relay");
        }
    }

    #[test]
    fn mail_refusals_say_what_is_wrong() {
        check_error("[mail]\nsmtp_host = \"mail.examplia.gov\"\nsecurity = \"ssl\"", "`ssl` is not `starttls`");
        check_error("[mail]\nfrom = \"not an address\"", "mail.from `not an address`");
        check_error("[mail]\nsmtp_host = \"\"", "mail.smtp_host");
        check_error("[mail]\nsmtp_host = \"smtp://mail.examplia.gov\"", "mail.smtp_host");
        check_error("[mail]\nsmtp_host = \"mail.examplia.gov\"\nsmtp_port = 0", "mail.smtp_port");
        check_error("[mail]\nsmtp_host = \"mail.examplia.gov\"\nsmtp_port = 70000", "line 3");
        check_error("[mail]\nsmtp_port = 25\nusername = \"u\"", "mail.smtp_port, mail.username set without");
        check_error("[mail]\nsmtp_host = \"mail.examplia.gov\"\npassword_file = \"p\"", "mail.username is not");
        check_error("[mail]\npassword = \"s3cret\"", "unknown field `password`");
    }

    #[test]
    fn access_settings_override_the_defaults() {
        let defaults = AccessConfig::default();
        assert_eq!(defaults.session_idle, Duration::from_secs(15 * 60));
        assert_eq!(defaults.session_absolute, Duration::from_secs(8 * 3600));
        assert_eq!((defaults.failed_logins_per_account, defaults.failed_logins_per_address), (5, 20));
        assert_eq!(defaults.login_window, Duration::from_secs(15 * 60));
        assert_eq!(defaults.approval_lifetime, Duration::from_secs(24 * 3600));
        assert_eq!(defaults.break_glass_max, Duration::from_secs(240 * 60));
        assert_eq!(defaults.read_limit(StaffRole::RegistrationClerk), Some(500));
        assert_eq!(defaults.read_limit(StaffRole::CountyAdministrator), Some(1000));
        assert_eq!(defaults.read_limit(StaffRole::StateAdministrator), Some(2000));
        assert_eq!(defaults.read_limit(StaffRole::Auditor), None);

        let access = NodeConfig::parse(
            "[access]\nsession_idle_minutes = 5\nsession_absolute_hours = 12\nfailed_logins_per_account = 3\n\
             failed_logins_per_address = 50\nlogin_window_minutes = 30\napproval_hours = 2\nbreak_glass_max_minutes = 60\n\
             [access.read_limits]\nregistration_clerk = 100\nauditor = 10",
        )
        .unwrap()
        .access;
        assert_eq!(access.session_idle, Duration::from_secs(5 * 60));
        assert_eq!(access.session_absolute, Duration::from_secs(12 * 3600));
        assert_eq!((access.failed_logins_per_account, access.failed_logins_per_address), (3, 50));
        assert_eq!(access.login_window, Duration::from_secs(30 * 60));
        assert_eq!(access.approval_lifetime, Duration::from_secs(2 * 3600));
        assert_eq!(access.break_glass_max, Duration::from_secs(60 * 60));
        assert_eq!(access.read_limit(StaffRole::RegistrationClerk), Some(100));
        assert_eq!(access.read_limit(StaffRole::Auditor), Some(10));
        assert_eq!(access.read_limit(StaffRole::CountyAdministrator), Some(1000), "unlisted roles keep the default");
    }

    #[test]
    fn lookup_limits_default_and_override() {
        let defaults = NodeConfig::parse("").unwrap().lookup;
        assert_eq!((defaults.per_address_per_minute, defaults.per_identity_per_hour), (10, 5));
        let lookup = NodeConfig::parse("[lookup]\nper_address_per_minute = 600").unwrap().lookup;
        assert_eq!((lookup.per_address_per_minute, lookup.per_identity_per_hour), (600, 5));
        assert_eq!(NodeConfig::parse(&NodeConfig::default_file_text()).unwrap().lookup, defaults);
    }

    #[test]
    fn access_refuses_zero_and_unknown_roles() {
        for key in [
            "session_idle_minutes",
            "session_absolute_hours",
            "failed_logins_per_account",
            "failed_logins_per_address",
            "login_window_minutes",
            "approval_hours",
            "break_glass_max_minutes",
        ] {
            check_error(&format!("[access]\n{key} = 0"), &format!("access.{key} must be at least 1"));
        }
        check_error("[access.read_limits]\nregistration_clerk = 0", "access.read_limits.registration_clerk must be");
        check_error("[access.read_limits]\nclerk = 10", "unknown staff role `clerk`");
        check_error("[lookup]\nper_address_per_minute = 0", "lookup.per_address_per_minute must be");
        check_error("[lookup]\nper_identity_per_hour = 2000000", "lookup.per_identity_per_hour must be");
        check_error("[lookup]\nper_hour = 3", "unknown field");
        check_error("[access]\nsession_idle_minutes = -1", "");
        check_error("[access]\nidle_minutes = 5", "unknown field `idle_minutes`");
        check_error("[access]\nsession_idle_minutes = -1", "line 2");
    }
}
