//! `canvass serve` through the real binary: the demo, a node from a data dir, TLS, refusing
//! plain HTTP on a reachable address, the reverse-proxy peer check, and a busy port.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{fs, path::Path, process::Command};

use support::{PASSWORD, Served, admin_bearer, assert_refused, get, init_node, post_form, request, run};

#[test]
fn the_demo_serves_pages_health_and_the_admin_api_with_the_printed_credential() {
    let served = Served::start(&["--demo"], &[]).unwrap();
    assert!(served.printed.contains("fictional"), "{}", served.printed);
    let health = get(served.public, "/healthz");
    assert_eq!((health.status, health.json()["status"].as_str()), (200, Some("ok")));
    let home = get(served.public, "/");
    for expected in ["State of Examplia (demo)", "Alder County", "Registered voters by county", "General Election"] {
        assert!(home.body.contains(expected), "home page lacks {expected}");
    }
    let password = served.password.clone().unwrap();
    let token = served.token.clone().unwrap();
    let listed =
        request(served.admin, "GET", "/api/jurisdictions", &[("Authorization", &format!("Bearer {token}"))], None);
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json().as_array().unwrap().len(), 4);
    // A forged token (the real id, a guessed secret) and garbage are both refused, saying nothing.
    let id = token.split('.').nth(1).unwrap();
    for forged in [format!("Bearer canvass.{id}.guessed"), "Bearer guess".to_owned()] {
        let refused = request(served.admin, "GET", "/api/jurisdictions", &[("Authorization", &forged)], None);
        assert_eq!(refused.status, 401, "{forged}");
        assert!(!refused.body.contains("Alder"), "no detail for a refused token: {}", refused.body);
    }
    // The printed password signs in to the admin pages; a wrong one does not.
    let wrong = post_form(served.admin, "/login", &[("username", "admin"), ("password", "guess"), ("code", "")]);
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none(), "no session for a wrong password");
    let right = post_form(served.admin, "/login", &[("username", "admin"), ("password", &password), ("code", "")]);
    assert!(right.header("set-cookie").is_some_and(|cookie| cookie.starts_with("canvass_session=")), "{right:?}");
    // Metrics are staff-only now: a scraper uses a token (auditors may read them).
    assert_eq!(get(served.admin, "/metrics").status, 303, "sent to sign in");
    let bearer = format!("Bearer {token}");
    assert_eq!(request(served.admin, "GET", "/metrics", &[("Authorization", &bearer)], None).status, 200);
    assert_eq!(get(served.public, "/metrics").status, 404);
    let status = served.stop();
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
}

#[test]
fn a_node_serves_its_data_dir_while_the_cli_writes_to_it() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let served = Served::start(&["--data", data.to_str().unwrap()], &[]).unwrap();
    assert_eq!(get(served.public, "/readyz").json()["database"], "sqlite");
    let body = r#"{"id":"ocd-division/country:us/state:nc","name":"North Carolina","kind":"state"}"#;
    let created =
        request(served.admin, "POST", "/api/jurisdictions", &[("Authorization", &admin_bearer(&data))], Some(body));
    assert_eq!(created.status, 201, "{}", created.body);
    let added = run(&[
        "jurisdiction",
        "add",
        "--data",
        data.to_str().unwrap(),
        "--id",
        "wake",
        "--name",
        "Wake County",
        "--kind",
        "county",
        "--parent",
        "ocd-division/country:us/state:nc",
    ]);
    assert!(added.status.success(), "{}", support::stderr(&added));
    let home = get(served.public, "/");
    assert!(home.body.contains("North Carolina") && home.body.contains("Wake County"));
    assert!(!served.printed.contains("password"), "a real node prints no credential");
    assert!(!served.printed.contains("token"), "a real node prints no credential");
    let wrong =
        post_form(served.admin, "/login", &[("username", "admin"), ("password", "not the password"), ("code", "")]);
    assert_eq!(wrong.status, 401);
    let right = post_form(served.admin, "/login", &[("username", "admin"), ("password", PASSWORD), ("code", "")]);
    assert_eq!(right.status, 303, "a right password opens a session (to enrol a second factor first)");
}

#[test]
fn plain_http_on_a_reachable_address_is_refused_before_binding() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap();
    let refused = run(&["serve", "--data", data_text, "--public-listen", "0.0.0.0:0", "--admin-listen", "127.0.0.1:0"]);
    assert_refused(&refused, "the public listener binds 0.0.0.0:0, which other machines can reach, without TLS");
    let config = data.join("canvass.toml");
    let text = fs::read_to_string(&config).unwrap().replace("listen = \"127.0.0.1:8081\"", "listen = \"[::]:0\"");
    fs::write(&config, text).unwrap();
    assert_refused(&run(&["serve", "--data", data_text]), "the admin listener binds [::]:0");
}

fn add_tls(data: &Path, certificate: &Path, key: &Path) {
    let config = data.join("canvass.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        format!("{text}\n[tls]\ncertificate = \"{}\"\nprivate_key = \"{}\"\n", certificate.display(), key.display()),
    )
    .unwrap();
}

#[test]
fn tls_listeners_serve_https_with_strict_transport_security() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let certificate = directory.path().join("cert.pem");
    let key = directory.path().join("key.pem");
    fs::write(&certificate, generated.cert.pem()).unwrap();
    fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    support::chmod(&key, 0o600);
    add_tls(&data, &certificate, &key);

    let served = Served::start(&["--data", data.to_str().unwrap()], &[]).unwrap();
    assert!(served.printed.contains("https://"), "{}", served.printed);
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--include", "--cacert"])
        .arg(&certificate)
        .arg(format!("https://127.0.0.1:{}/healthz", served.public.port()))
        .output()
        .expect("curl is installed by scripts/test");
    let response = String::from_utf8_lossy(&output.stdout).to_lowercase();
    assert!(
        response.starts_with("http/2 200") || response.starts_with("http/1.1 200"),
        "{response} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(response.contains("strict-transport-security: max-age="), "{response}");
    // Plain HTTP to the TLS port gets no page.
    let stream_reply = std::panic::catch_unwind(|| get(served.public, "/healthz"));
    assert!(stream_reply.map_or(true, |reply| reply.status != 200));
}

#[test]
fn a_broken_certificate_is_one_clear_line() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let certificate = directory.path().join("cert.pem");
    let key = directory.path().join("key.pem");
    fs::write(&certificate, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
    fs::write(&key, "garbage").unwrap();
    add_tls(&data, &certificate, &key);
    let refused = run(&[
        "serve",
        "--data",
        data.to_str().unwrap(),
        "--public-listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
    ]);
    assert_refused(&refused, "TLS set-up failed");
}

#[test]
fn behind_a_proxy_only_the_proxy_may_connect() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let config = data.join("canvass.toml");
    let text = fs::read_to_string(&config)
        .unwrap()
        .replace("listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:8080\"\nbehind_proxy = \"127.0.0.9\"");
    fs::write(&config, text).unwrap();
    let served = Served::start(&["--data", data.to_str().unwrap()], &[]).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status_from = |source: [u8; 4]| {
        runtime.block_on(async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind((std::net::Ipv4Addr::from(source), 0).into()).unwrap();
            let mut stream = socket.connect(served.public).await.unwrap();
            stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").await.unwrap();
            let mut reply = String::new();
            stream.read_to_string(&mut reply).await.unwrap();
            reply.split_whitespace().nth(1).unwrap_or_default().to_owned()
        })
    };
    assert_eq!(status_from([127, 0, 0, 9]), "200", "the proxy");
    assert_eq!(status_from([127, 0, 0, 1]), "200", "a local health probe");
    assert_eq!(status_from([127, 0, 0, 5]), "403", "anyone else");
    assert_eq!(get(served.admin, "/healthz").status, 200, "the admin listener names no proxy");
}

#[test]
fn a_busy_port_is_one_clear_line() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let refused =
        run(&["serve", "--data", data.to_str().unwrap(), "--public-listen", &port, "--admin-listen", "127.0.0.1:0"]);
    assert_refused(&refused, "the address is in use");
}

#[test]
fn stopping_the_demo_removes_its_temporary_data_dir() {
    let temporary = tempfile::tempdir().unwrap();
    let served = Served::start(&["--demo"], &[("TMPDIR", temporary.path().to_str().unwrap())]).unwrap();
    let demo_dirs = || fs::read_dir(temporary.path()).unwrap().count();
    assert_eq!(demo_dirs(), 1, "the demo runs in a temporary data dir");
    assert!(served.stop().success());
    assert_eq!(demo_dirs(), 0, "and removes it when stopped");
}
