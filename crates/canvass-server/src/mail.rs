//! Sending notification mail through the SMTP server named in `[mail]`, with lettre.
//!
//! The connection is encrypted unless the server is on this machine: `starttls` insists on
//! STARTTLS (it never falls back to plain text), `tls` is TLS from the first byte, and `none`
//! is accepted only for a loopback host, here as well as when the configuration is parsed,
//! because [`SmtpServer`]'s fields are public. Certificates are checked against the operating
//! system's trust store, so a county's own mail relay with an internal CA works once that CA is
//! installed on the host.

use std::{fmt, path::PathBuf, time::Duration};

use canvass_core::config::{MailConfig, SmtpSecurity, SmtpServer};
use canvass_crypto::{ExposeSecret, SecretString};
use lettre::{
    Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
    },
};

use crate::ServerError;

/// The environment variable that can hold the SMTP password instead of `mail.password_file`.
pub const PASSWORD_VARIABLE: &str = "CANVASS_SMTP_PASSWORD";

/// How long one delivery (connect, greet, authenticate, send) may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a message could not be handed to the mail server.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail configuration: {0}")]
    Config(String),
    #[error("cannot read the SMTP password file {}: {reason}", path.display())]
    PasswordFile { path: PathBuf, reason: String },
    #[error("cannot build the message: {0}")]
    Message(String),
    /// The server answered with a permanent (5xx) refusal: sending again will not help.
    #[error("the mail server refused the message: {0}")]
    Rejected(String),
    /// The server was unreachable, failed the TLS handshake, timed out or answered 4xx.
    #[error("the mail server is unavailable: {0}")]
    Unavailable(String),
}

impl MailError {
    /// Whether the same message may go through later (the outbox keeps it and tries again).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

impl From<MailError> for ServerError {
    /// Mail trouble is the operator's, not the client's: the detail goes to the log.
    fn from(error: MailError) -> Self {
        Self::Internal(error.to_string())
    }
}

/// A configured SMTP sender; cheap to share behind an `Arc`.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The part after `@` of the sender address, for Message-IDs.
    domain: String,
    server: SmtpServer,
}

impl fmt::Debug for Mailer {
    // By hand, so the transport's credentials can never end up in a log line.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Mailer")
            .field("host", &self.server.host)
            .field("port", &self.server.port)
            .field("security", &self.server.security)
            .field("username", &self.server.username)
            .field("from", &self.from.email.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for the configured SMTP server, or None when `[mail]` names none (mail then
    /// stays in the outbox). The password comes from `CANVASS_SMTP_PASSWORD`, else from
    /// `mail.password_file`.
    pub fn new(config: &MailConfig) -> Result<Option<Mailer>, MailError> {
        let environment_password = std::env::var(PASSWORD_VARIABLE).ok().filter(|value| !value.is_empty());
        Self::with_environment_password(config, environment_password.map(SecretString::from))
    }

    /// [`Mailer::new`] with the environment's password passed in, so tests need not change
    /// the process environment.
    pub fn with_environment_password(
        config: &MailConfig,
        environment_password: Option<SecretString>,
    ) -> Result<Option<Mailer>, MailError> {
        let Some(server) = &config.smtp else { return Ok(None) };
        if server.security == SmtpSecurity::None && !server.host_is_loopback() {
            return Err(MailError::Config(format!(
                "security \"none\" is only allowed for a relay on this machine, not {}",
                server.host
            )));
        }
        let from_address: Address = config
            .from
            .as_str()
            .parse()
            .map_err(|error| MailError::Config(format!("mail.from `{}`: {error}", config.from)))?;
        let domain = from_address.domain().to_owned();
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host.as_str()).port(server.port);
        builder = match server.security {
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls_parameters(&server.host)?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls_parameters(&server.host)?)),
            SmtpSecurity::None => builder.tls(Tls::None),
        };
        if let Some(credentials) = credentials(server, environment_password)? {
            builder = builder.credentials(credentials);
        }
        let transport = builder.timeout(Some(SEND_TIMEOUT)).build();
        Ok(Some(Mailer { transport, from: Mailbox::new(None, from_address), domain, server: server.clone() }))
    }

    /// Sends one plain-text UTF-8 message from the configured address, with a fresh
    /// Message-ID and the current Date.
    pub async fn send(&self, recipient: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let recipient: Address =
            recipient.parse().map_err(|error| MailError::Message(format!("recipient `{recipient}`: {error}")))?;
        // A line break in a subject would start a new header; nothing Canvass sends needs one.
        if subject.chars().any(char::is_control) {
            return Err(MailError::Message("the subject holds a line break or other control character".into()));
        }
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, recipient))
            .subject(subject)
            .message_id(Some(format!("<{}@{}>", uuid::Uuid::new_v4(), self.domain)))
            .date_now()
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|error| MailError::Message(error.to_string()))?;
        self.transport.send(message).await.map_err(|error| {
            if error.is_permanent() {
                MailError::Rejected(error.to_string())
            } else {
                MailError::Unavailable(error.to_string())
            }
        })?;
        Ok(())
    }

    /// The server this mailer sends through.
    pub fn server(&self) -> &SmtpServer {
        &self.server
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, MailError> {
    TlsParameters::new(host.to_owned())
        .map_err(|error| MailError::Config(format!("TLS set-up for the mail server {host}: {error}")))
}

/// The username with its password, which must come from somewhere when there is a username.
fn credentials(
    server: &SmtpServer,
    environment_password: Option<SecretString>,
) -> Result<Option<Credentials>, MailError> {
    let Some(username) = &server.username else {
        if environment_password.is_some() {
            return Err(MailError::Config(format!(
                "{PASSWORD_VARIABLE} is set but mail.username is not; set both, or neither"
            )));
        }
        return Ok(None);
    };
    let password = match (environment_password, &server.password_file) {
        (Some(password), _) => password,
        (None, Some(path)) => read_password_file(path)?,
        (None, None) => {
            return Err(MailError::Config(format!(
                "mail.username is set but there is no password: set {PASSWORD_VARIABLE} or mail.password_file"
            )));
        }
    };
    Ok(Some(Credentials::new(username.clone(), password.expose_secret().to_owned())))
}

fn read_password_file(path: &PathBuf) -> Result<SecretString, MailError> {
    let failure = |reason: String| MailError::PasswordFile { path: path.clone(), reason };
    let text = SecretString::from(std::fs::read_to_string(path).map_err(|error| failure(error.to_string()))?);
    // Editors end the file with a newline that is not part of the password.
    let password = text.expose_secret().trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(failure("the file is empty".into()));
    }
    Ok(SecretString::from(password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use canvass_core::credential::EmailAddress;

    fn config(security: SmtpSecurity, host: &str, username: Option<&str>) -> MailConfig {
        MailConfig {
            smtp: Some(SmtpServer {
                host: host.into(),
                port: 2525,
                security,
                username: username.map(str::to_owned),
                password_file: None,
            }),
            from: EmailAddress::parse("canvass@wake.example.gov").unwrap(),
        }
    }

    #[test]
    fn no_smtp_host_means_no_mailer() {
        let unconfigured = MailConfig { smtp: None, from: EmailAddress::parse("canvass@localhost").unwrap() };
        assert!(Mailer::with_environment_password(&unconfigured, None).unwrap().is_none());
    }

    #[test]
    fn unencrypted_mail_to_another_machine_is_refused_even_if_built_by_hand() {
        let error =
            Mailer::with_environment_password(&config(SmtpSecurity::None, "mail.example.gov", None), None).unwrap_err();
        assert!(error.to_string().contains("only allowed for a relay on this machine"), "{error}");
    }

    #[test]
    fn a_username_needs_a_password_and_a_password_needs_a_username() {
        let missing =
            Mailer::with_environment_password(&config(SmtpSecurity::StartTls, "mail.example.gov", Some("u")), None)
                .unwrap_err();
        assert!(missing.to_string().contains("no password"), "{missing}");
        let orphan = Mailer::with_environment_password(
            &config(SmtpSecurity::StartTls, "mail.example.gov", None),
            Some(SecretString::from("s3cret")),
        )
        .unwrap_err();
        assert!(orphan.to_string().contains("mail.username is not"), "{orphan}");
    }

    #[test]
    fn the_password_file_is_read_without_its_newline_and_never_shown() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("smtp-password");
        std::fs::write(&path, "s3cret pass\n").unwrap();
        let mut with_file = config(SmtpSecurity::Tls, "mail.example.gov", Some("canvass"));
        if let Some(server) = &mut with_file.smtp {
            server.password_file = Some(path.clone());
        }
        let mailer = Mailer::with_environment_password(&with_file, None).unwrap().unwrap();
        assert!(!format!("{mailer:?}").contains("s3cret"));

        std::fs::write(&path, "\n").unwrap();
        let empty = Mailer::with_environment_password(&with_file, None).unwrap_err();
        assert!(empty.to_string().contains("is empty"), "{empty}");
        std::fs::remove_file(&path).unwrap();
        let missing = Mailer::with_environment_password(&with_file, None).unwrap_err();
        assert!(matches!(missing, MailError::PasswordFile { .. }), "{missing}");
        let from_environment =
            Mailer::with_environment_password(&with_file, Some(SecretString::from("from env"))).unwrap();
        assert!(from_environment.is_some(), "the environment's password wins over the file");
    }

    #[tokio::test]
    async fn bad_recipients_and_subjects_are_refused_before_connecting() {
        let mailer =
            Mailer::with_environment_password(&config(SmtpSecurity::None, "127.0.0.1", None), None).unwrap().unwrap();
        let recipient = mailer.send("not an address", "Subject", "Body").await.unwrap_err();
        assert!(matches!(recipient, MailError::Message(_)), "{recipient}");
        let injected = mailer.send("clerk@wake.example.gov", "Hi\r\nBcc: x@y.gov", "Body").await.unwrap_err();
        assert!(matches!(injected, MailError::Message(_)), "{injected}");
        assert!(!injected.is_transient());
    }
}
