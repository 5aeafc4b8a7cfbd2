//! The rules of `canvass doctor`: from facts gathered about a data dir (file modes, the parsed
//! config, the administrator accounts, the database), the findings to print, each with its
//! severity and the fix. Pure, so each insecure set-up is a one-line test case.

use std::fmt;

use crate::config::NodeConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One thing doctor found: a stable code for scripts, what is wrong, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub fix: String,
}

/// A file or directory doctor looked at; `mode` is `None` when it does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathFact {
    pub path: String,
    pub mode: Option<u32>,
}

/// What doctor learned about the administrator accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdministratorFact {
    /// At least one administrator, none with an empty or well-known password.
    Sound,
    /// No administrator account at all.
    Missing,
    /// These administrators have an empty or well-known password.
    WeakCredentials(Vec<String>),
    /// The accounts could not be read (the database finding says why).
    Unknown,
}

/// Everything doctor gathered about a node.
#[derive(Debug, Clone)]
pub struct NodeFacts {
    pub data_dir: PathFact,
    pub config_file: PathFact,
    pub config: NodeConfig,
    /// Files that hold secrets: the node signing key, the TLS private key.
    pub secret_files: Vec<PathFact>,
    /// Files that must exist but hold nothing secret: the TLS certificate.
    pub required_files: Vec<PathFact>,
    pub administrators: AdministratorFact,
    /// `Err` with the reason when the database could not be opened.
    pub database: Result<(), String>,
}

/// Passwords that are on every attacker's list; an administrator must not have one.
pub const WELL_KNOWN_PASSWORDS: [&str; 10] =
    ["", "admin", "administrator", "password", "changeme", "canvass", "letmein", "123456", "12345678", "election"];

const GROUP_OR_OTHERS: u32 = 0o077;
const WRITABLE_BY_GROUP_OR_OTHERS: u32 = 0o022;
const READABLE_BY_OTHERS: u32 = 0o004;

/// All findings for a node, highest severity first.
pub fn assess(facts: &NodeFacts) -> Vec<Finding> {
    let mut findings = Vec::new();
    check_data_dir(facts, &mut findings);
    check_secret_files(facts, &mut findings);
    check_config_file(facts, &mut findings);
    check_listeners(facts, &mut findings);
    check_administrators(facts, &mut findings);
    check_database(facts, &mut findings);
    check_backup(facts, &mut findings);
    findings.sort_by_key(|finding| std::cmp::Reverse(finding.severity));
    findings
}

/// True when a finding means the node must not run as it is.
pub fn any_high(findings: &[Finding]) -> bool {
    findings.iter().any(|finding| finding.severity == Severity::High)
}

fn check_data_dir(facts: &NodeFacts, findings: &mut Vec<Finding>) {
    let PathFact { path, mode } = &facts.data_dir;
    if let Some(mode) = mode
        && mode & GROUP_OR_OTHERS != 0
    {
        findings.push(Finding {
            severity: Severity::High,
            code: "data-dir-permissions",
            message: format!("data dir {path} is mode {mode:04o}: other users on this machine can open it"),
            fix: format!("chmod 700 {path}"),
        });
    }
}

fn check_secret_files(facts: &NodeFacts, findings: &mut Vec<Finding>) {
    for PathFact { path, mode } in &facts.secret_files {
        match mode {
            None => findings.push(Finding {
                severity: Severity::High,
                code: "secret-file-missing",
                message: format!("{path} is missing"),
                fix: format!("restore {path} from your backup, or point the config at the right file"),
            }),
            Some(mode) if mode & GROUP_OR_OTHERS != 0 => findings.push(Finding {
                severity: Severity::High,
                code: "secret-file-permissions",
                message: format!("{path} holds a secret key and is mode {mode:04o}: group or others can read it"),
                fix: format!("chmod 600 {path}"),
            }),
            Some(_) => {}
        }
    }
    for PathFact { path, mode } in &facts.required_files {
        if mode.is_none() {
            findings.push(Finding {
                severity: Severity::High,
                code: "file-missing",
                message: format!("{path} is named in the config but does not exist"),
                fix: format!("put the file at {path}, or correct the path in canvass.toml"),
            });
        }
    }
}

fn check_config_file(facts: &NodeFacts, findings: &mut Vec<Finding>) {
    let PathFact { path, mode } = &facts.config_file;
    let Some(mode) = *mode else { return };
    if facts.config.database.has_password() && mode & READABLE_BY_OTHERS != 0 {
        findings.push(Finding {
            severity: Severity::High,
            code: "database-password-exposed",
            message: format!(
                "{path} is readable by every user on this machine (mode {mode:04o}) and its database_url holds a password"
            ),
            fix: format!(
                "remove the password from database_url and set CANVASS_DATABASE_URL in the service's environment, or chmod 600 {path}"
            ),
        });
    } else if facts.config.database.has_password() {
        findings.push(Finding {
            severity: Severity::Low,
            code: "database-password-in-config",
            message: format!("{path} holds the database password"),
            fix: "prefer CANVASS_DATABASE_URL in the service's environment, so the file can be shared safely".into(),
        });
    }
    if mode & WRITABLE_BY_GROUP_OR_OTHERS != 0 {
        findings.push(Finding {
            severity: Severity::High,
            code: "config-writable",
            message: format!(
                "{path} is mode {mode:04o}: other users can change where the node listens and stores data"
            ),
            fix: format!("chmod 600 {path}"),
        });
    }
}

fn check_listeners(facts: &NodeFacts, findings: &mut Vec<Finding>) {
    for problem in facts.config.exposure_problems() {
        findings.push(Finding {
            severity: Severity::High,
            code: "listener-without-tls",
            message: format!(
                "the {} listener binds {}, reachable from other machines, over plain HTTP",
                problem.listener.as_str(),
                problem.address
            ),
            fix: format!(
                "set [tls] certificate and private_key in canvass.toml, set behind_proxy = \"PROXY-IP\" under [{}] if a TLS proxy is in front, or listen on 127.0.0.1",
                problem.listener.as_str()
            ),
        });
    }
}

fn check_administrators(facts: &NodeFacts, findings: &mut Vec<Finding>) {
    match &facts.administrators {
        AdministratorFact::Sound | AdministratorFact::Unknown => {}
        AdministratorFact::Missing => findings.push(Finding {
            severity: Severity::High,
            code: "no-administrator",
            message: "the node has no administrator account".into(),
            fix: "canvass admin set-password --user admin --password-file FILE".into(),
        }),
        AdministratorFact::WeakCredentials(users) => findings.push(Finding {
            severity: Severity::High,
            code: "default-admin-credentials",
            message: format!("administrator {} has an empty or well-known password", users.join(", ")),
            fix: format!("canvass admin set-password --user {} --password-file FILE", users[0]),
        }),
    }
}

fn check_database(facts: &NodeFacts, findings: &mut Vec<Finding>) {
    if let Err(reason) = &facts.database {
        findings.push(Finding {
            severity: Severity::High,
            code: "database-unavailable",
            message: format!("the database {} cannot be used: {reason}", facts.config.database.redacted()),
            fix: "check database_url (or CANVASS_DATABASE_URL) and that the database server is running".into(),
        });
    }
}

fn check_backup(facts: &NodeFacts, findings: &mut Vec<Finding>) {
    if facts.config.backup_destination.is_none() {
        findings.push(Finding {
            severity: Severity::Medium,
            code: "no-backup-destination",
            message: "no backup destination is set: a lost disk loses the voter roll and the audit log".into(),
            fix: "set backup_destination = \"/mnt/offsite/canvass\" (another disk or a mounted remote) in canvass.toml"
                .into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sound_facts() -> NodeFacts {
        let config = NodeConfig::parse("backup_destination = \"/mnt/backup\"").unwrap();
        NodeFacts {
            data_dir: PathFact { path: "/srv/canvass".into(), mode: Some(0o700) },
            config_file: PathFact { path: "/srv/canvass/canvass.toml".into(), mode: Some(0o600) },
            config,
            secret_files: vec![PathFact { path: "/srv/canvass/node-signing.key".into(), mode: Some(0o600) }],
            required_files: vec![],
            administrators: AdministratorFact::Sound,
            database: Ok(()),
        }
    }

    /// Applies `change` to a sound node and checks the codes doctor reports, in order.
    fn check(change: impl FnOnce(&mut NodeFacts), expected: &[(&str, Severity)]) {
        let mut facts = sound_facts();
        change(&mut facts);
        let findings = assess(&facts);
        let actual: Vec<(&str, Severity)> = findings.iter().map(|f| (f.code, f.severity)).collect();
        assert_eq!(actual, expected, "{findings:#?}");
        for finding in &findings {
            assert!(!finding.fix.is_empty() && !finding.message.is_empty());
        }
    }

    #[test]
    fn a_sound_node_has_no_findings() {
        check(|_| {}, &[]);
    }

    #[test]
    fn each_insecure_setup_is_flagged() {
        check(|f| f.data_dir.mode = Some(0o755), &[("data-dir-permissions", Severity::High)]);
        check(|f| f.data_dir.mode = Some(0o750), &[("data-dir-permissions", Severity::High)]);
        check(|f| f.secret_files[0].mode = Some(0o644), &[("secret-file-permissions", Severity::High)]);
        check(|f| f.secret_files[0].mode = Some(0o640), &[("secret-file-permissions", Severity::High)]);
        check(|f| f.secret_files[0].mode = None, &[("secret-file-missing", Severity::High)]);
        check(|f| f.config_file.mode = Some(0o666), &[("config-writable", Severity::High)]);
        check(|f| f.administrators = AdministratorFact::Missing, &[("no-administrator", Severity::High)]);
        check(
            |f| f.administrators = AdministratorFact::WeakCredentials(vec!["admin".into()]),
            &[("default-admin-credentials", Severity::High)],
        );
        check(|f| f.database = Err("connection refused".into()), &[("database-unavailable", Severity::High)]);
        check(|f| f.config.backup_destination = None, &[("no-backup-destination", Severity::Medium)]);
        check(
            |f| f.required_files.push(PathFact { path: "/etc/tls/cert.pem".into(), mode: None }),
            &[("file-missing", Severity::High)],
        );
    }

    #[test]
    fn plain_http_on_a_public_address_is_flagged_unless_tls_or_proxy() {
        let exposed = |f: &mut NodeFacts| {
            f.config = NodeConfig::parse("backup_destination = \"/b\"\n[admin]\nlisten = \"0.0.0.0:8081\"").unwrap()
        };
        check(exposed, &[("listener-without-tls", Severity::High)]);
        let proxied = |f: &mut NodeFacts| {
            f.config = NodeConfig::parse(
                "backup_destination = \"/b\"\n[admin]\nlisten = \"0.0.0.0:8081\"\nbehind_proxy = \"10.1.1.1\"",
            )
            .unwrap()
        };
        check(proxied, &[]);
    }

    #[test]
    fn a_database_password_in_a_world_readable_config_is_high() {
        let with_password = |mode| {
            move |f: &mut NodeFacts| {
                f.config = NodeConfig::parse(
                    "backup_destination = \"/b\"\ndatabase_url = \"postgres://canvass:hunter22@db/canvass\"",
                )
                .unwrap();
                f.config_file.mode = Some(mode);
            }
        };
        check(with_password(0o644), &[("database-password-exposed", Severity::High)]);
        check(with_password(0o600), &[("database-password-in-config", Severity::Low)]);
        let mut facts = sound_facts();
        with_password(0o644)(&mut facts);
        facts.database = Err("refused".into());
        for finding in assess(&facts) {
            assert!(!finding.message.contains("hunter22"), "{}", finding.message);
        }
    }

    #[test]
    fn findings_are_sorted_by_severity() {
        let mut facts = sound_facts();
        facts.config.backup_destination = None;
        facts.data_dir.mode = Some(0o777);
        let findings = assess(&facts);
        assert_eq!(findings[0].severity, Severity::High);
        assert!(any_high(&findings));
        assert!(!any_high(&findings[1..]));
    }
}
