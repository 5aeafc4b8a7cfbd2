//! The node configuration file (`canvass.toml` in the data dir), parsed into typed settings.
//!
//! Parsing only checks that the file means something; whether the set-up is *safe* is a
//! separate question ([`NodeConfig::exposure_problems`]) so that `canvass doctor` can load an
//! unsafe file and explain it, while `canvass serve` refuses to run it.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

use serde::Deserialize;

use crate::CoreError;

pub const CONFIG_FILE_NAME: &str = "canvass.toml";
pub const SIGNING_KEY_FILE_NAME: &str = "node-signing.key";
pub const SQLITE_FILE_NAME: &str = "canvass.db";
pub const DEFAULT_PUBLIC_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:8081";
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_REQUEST_TIMEOUT_SECONDS: u64 = 30;

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
}

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
        let raw: RawConfig = toml::from_str(text).map_err(|error| CoreError::Config(error.message().to_owned()))?;
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
"#
        )
    }
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
}
