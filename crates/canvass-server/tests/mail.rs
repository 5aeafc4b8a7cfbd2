//! Notification mail over a real SMTP conversation: the [`Mailer`] against the test listener in
//! `support/smtp.rs`, which records what arrives.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/smtp.rs"]
mod smtp;

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpStream,
    time::Duration,
};

use canvass_core::{
    config::{MailConfig, NodeConfig, SmtpSecurity, SmtpServer},
    credential::EmailAddress,
};
use canvass_crypto::SecretString;
use canvass_server::mail::{MailError, Mailer};
use smtp::SmtpListener;

const WAIT: Duration = Duration::from_secs(10);

fn local_config(port: u16, username: Option<&str>) -> MailConfig {
    MailConfig {
        smtp: Some(SmtpServer {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            username: username.map(str::to_owned),
            password_file: None,
        }),
        from: EmailAddress::parse("elections@wake.example.gov").unwrap(),
    }
}

#[tokio::test]
async fn a_notification_arrives_as_plain_text_from_the_configured_address() {
    let listener = SmtpListener::start();
    let mailer = Mailer::new(&local_config(listener.port(), None)).unwrap().expect("a host is configured");
    let body = "Jordan asked to export the Wake County voter file.\nApprove or reject it on the admin page.\n";
    mailer.send("clerk@wake.example.gov", "Approval needed: voter file export", body).await.unwrap();

    let messages = listener.wait_for(1, WAIT);
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert_eq!(mail.from, "elections@wake.example.gov");
    assert_eq!(mail.recipients, ["clerk@wake.example.gov"]);
    assert_eq!(mail.header("Subject").as_deref(), Some("Approval needed: voter file export"));
    assert_eq!(mail.header("From").as_deref(), Some("elections@wake.example.gov"));
    assert_eq!(mail.header("To").as_deref(), Some("clerk@wake.example.gov"));
    assert_eq!(mail.header("Content-Type").as_deref(), Some("text/plain; charset=utf-8"));
    let message_id = mail.header("Message-ID").unwrap();
    assert!(message_id.starts_with('<') && message_id.ends_with("@wake.example.gov>"), "{message_id}");
    assert!(mail.header("Date").is_some());
    // SMTP carries lines ending in CRLF; lettre also ends the data with one more line break.
    assert_eq!(mail.body().trim_end(), body.trim_end().replace('\n', "\r\n"));
    assert_eq!(mail.credentials, None);
}

#[tokio::test]
async fn each_message_gets_its_own_message_id() {
    let listener = SmtpListener::start();
    let mailer = Mailer::new(&local_config(listener.port(), None)).unwrap().unwrap();
    for number in 1..=2 {
        mailer.send("clerk@wake.example.gov", &format!("Notice {number}"), "Body.").await.unwrap();
    }
    let messages = listener.wait_for(2, WAIT);
    assert_eq!(messages[0].header("Subject").as_deref(), Some("Notice 1"));
    assert_ne!(messages[0].header("Message-ID"), messages[1].header("Message-ID"));
}

#[tokio::test]
async fn the_configured_username_and_password_are_used() {
    let listener = SmtpListener::start();
    let directory = tempfile::tempdir().unwrap();
    let password_file = directory.path().join("smtp-password");
    std::fs::write(&password_file, "relay password\n").unwrap();
    let mut config = local_config(listener.port(), Some("canvass"));
    if let Some(server) = &mut config.smtp {
        server.password_file = Some(password_file);
    }
    let mailer = Mailer::with_environment_password(&config, None).unwrap().unwrap();
    mailer.send("clerk@wake.example.gov", "Subject", "Body.").await.unwrap();
    let from_environment =
        Mailer::with_environment_password(&config, Some(SecretString::from("from the environment"))).unwrap().unwrap();
    from_environment.send("clerk@wake.example.gov", "Subject", "Body.").await.unwrap();

    let messages = listener.wait_for(2, WAIT);
    assert_eq!(messages[0].credentials, Some(("canvass".into(), "relay password".into())));
    assert_eq!(messages[1].credentials, Some(("canvass".into(), "from the environment".into())));
}

#[tokio::test]
async fn a_lone_dot_and_non_ascii_text_survive_the_trip() {
    let listener = SmtpListener::start();
    let mailer = Mailer::new(&local_config(listener.port(), None)).unwrap().unwrap();
    mailer.send("clerk@wake.example.gov", "Résultats certifiés", "Line one\n.\nLine three\n").await.unwrap();
    let mail = &listener.wait_for(1, WAIT)[0];
    assert!(mail.body().contains("Line one\r\n.\r\nLine three"), "{}", mail.body());
    let subject = mail.header("Subject").unwrap();
    assert!(subject.starts_with("=?utf-8?"), "non-ASCII subjects are RFC 2047 encoded: {subject}");
}

#[tokio::test]
async fn a_config_file_section_drives_the_mailer() {
    let listener = SmtpListener::start();
    let config = NodeConfig::parse(&format!(
        "[mail]\nsmtp_host = \"localhost\"\nsmtp_port = {}\nsecurity = \"none\"\nfrom = \"canvass@durham.example.gov\"",
        listener.port()
    ))
    .unwrap();
    let mailer = Mailer::new(&config.mail).unwrap().unwrap();
    mailer.send("admin@durham.example.gov", "Incident opened", "Read volume exceeded.").await.unwrap();
    assert_eq!(listener.wait_for(1, WAIT)[0].from, "canvass@durham.example.gov");
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_failure() {
    let port = {
        let listener = SmtpListener::start();
        listener.port()
    };
    // The listener is gone; give its accept loop a moment to let go of the port.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mailer = Mailer::new(&local_config(port, None)).unwrap().unwrap();
    let error = mailer.send("clerk@wake.example.gov", "Subject", "Body.").await.unwrap_err();
    assert!(matches!(error, MailError::Unavailable(_)), "{error}");
    assert!(error.is_transient());
}

#[test]
fn the_listener_speaks_smtp_to_a_hand_written_client() {
    let listener = SmtpListener::start();
    let stream = TcpStream::connect(("127.0.0.1", listener.port())).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut expect = |send: Option<&str>, code: &str| {
        if let Some(send) = send {
            writer.write_all(send.as_bytes()).unwrap();
        }
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert!(line.starts_with(code), "{send:?} answered {line:?}");
            assert!(!line.contains("STARTTLS"));
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
    };
    expect(None, "220");
    expect(Some("EHLO client.example\r\n"), "250");
    expect(Some("RCPT TO:<early@x.gov>\r\n"), "503");
    expect(Some("MAIL FROM:<a@x.gov> BODY=8BITMIME\r\n"), "250");
    expect(Some("RCPT TO:<b@x.gov>\r\n"), "250");
    expect(Some("RSET\r\n"), "250");
    expect(Some("DATA\r\n"), "503");
    expect(Some("MAIL FROM:<a@x.gov>\r\n"), "250");
    expect(Some("RCPT TO:<b@x.gov>\r\n"), "250");
    expect(Some("RCPT TO:<c@x.gov>\r\n"), "250");
    expect(Some("DATA\r\n"), "354");
    expect(Some("Subject: hi\r\n folded\r\n\r\n..leading dot\r\n.\r\n"), "250");
    expect(Some("NOOP\r\n"), "250");
    expect(Some("HELO again\r\n"), "250");
    expect(Some("VRFY b\r\n"), "502");
    expect(Some("QUIT\r\n"), "221");
    let messages = listener.wait_for(1, WAIT);
    assert_eq!(messages, listener.messages());
    assert_eq!(messages[0].from, "a@x.gov");
    assert_eq!(messages[0].recipients, ["b@x.gov", "c@x.gov"]);
    assert_eq!(messages[0].header("subject").as_deref(), Some("hi folded"));
    assert_eq!(messages[0].body(), ".leading dot\r\n");
}
