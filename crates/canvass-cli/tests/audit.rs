//! The audit ledger through the real binary (issue 4): an honest node verifies from outside and
//! records every change and refused sign-in (never a typed unknown user name); an altered entry
//! or stored hash is found and named by index, and a node whose stored tree no longer matches
//! its signed checkpoint refuses to start; forks, truncations and rewrites are told apart; every
//! change acknowledged before a SIGKILL is in the ledger after it; a witness cosigns a
//! consistent log and refuses a forked one; exports hold the entries; bad input is a clear
//! failure, exit 1, never a panic.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    fs,
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::Value;
use sqlx::Connection;
use support::{
    Served, admin_bearer, admin_token, assert_refused, get, init_node, post_form, request, run, stderr, stdout,
    token_actor,
};

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `canvass jurisdiction add` straight into the store (node stopped or running).
fn add_jurisdiction(data: &Path, id: &str) {
    let name = format!("Jurisdiction {id}");
    let output = run(&["jurisdiction", "add", "--data", text(data), "--id", id, "--name", &name, "--kind", "state"]);
    assert!(output.status.success(), "{id}: {}", stderr(&output));
}

fn jurisdiction_body(id: &str) -> String {
    serde_json::json!({ "id": id, "name": format!("Jurisdiction {id}"), "kind": "state" }).to_string()
}

/// `POST /api/jurisdictions` with the administrator's token (`data`'s, or its copy's).
fn post_jurisdiction(admin: SocketAddr, data: &Path, id: &str) -> support::Response {
    let authorization = admin_bearer(data);
    request(admin, "POST", "/api/jurisdictions", &[("Authorization", &authorization)], Some(&jurisdiction_body(id)))
}

/// `canvass audit search --json` with the filters given, newest first.
fn search(data: &Path, filters: &[&str]) -> Vec<Value> {
    let mut arguments = vec!["audit", "search", "--data", text(data), "--json", "--limit", "1000"];
    arguments.extend_from_slice(filters);
    let output = run(&arguments);
    assert!(output.status.success(), "search {filters:?}: {}", stderr(&output));
    match serde_json::from_str(&stdout(&output)).unwrap() {
        Value::Array(entries) => entries,
        other => panic!("search printed {other}"),
    }
}

/// How many entries the node's store holds: the newest index plus one.
fn ledger_size(data: &Path) -> u64 {
    let output = run(&["audit", "search", "--data", text(data), "--json", "--limit", "1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let newest: Value = serde_json::from_str(&stdout(&output)).unwrap();
    newest[0]["index"].as_u64().map_or(0, |index| index + 1)
}

/// The tree size on a checkpoint note's second line.
fn note_size(note: &str) -> u64 {
    note.lines().nth(1).and_then(|line| line.parse().ok()).unwrap_or_else(|| panic!("not a checkpoint: {note}"))
}

/// Polls the node's `/log/checkpoint` until it signs at least `size` entries; returns the note.
fn wait_for_checkpoint(public: SocketAddr, size: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::from("nothing");
    while Instant::now() < deadline {
        let response = get(public, "/log/checkpoint");
        if response.status == 200 && note_size(&response.body) >= size {
            return response.body;
        }
        last = format!("HTTP {}: {}", response.status, response.body);
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no checkpoint of {size} entries within 30 s; last: {last}");
}

/// Waits until the node has signed every entry in its store, and returns that size.
fn wait_until_signed(served: &Served, data: &Path) -> u64 {
    let size = ledger_size(data);
    let note = wait_for_checkpoint(served.public, size);
    assert_eq!(note_size(&note), size, "the checkpoint ran ahead of the store: {note}");
    size
}

fn log_url(served: &Served) -> String {
    format!("http://{}/log", served.public)
}

fn verify(log: &str, extra: &[&str]) -> Output {
    let mut arguments = vec!["audit", "verify", "--log", log];
    arguments.extend_from_slice(extra);
    run(&arguments)
}

fn assert_verified(output: &Output, size: u64) {
    assert!(output.status.success(), "verify failed: {} {}", stdout(output), stderr(output));
    assert!(stdout(output).contains(&format!("Verified {size} entries of ")), "{}", stdout(output));
}

/// The log contradicts itself: exit 2 and one FAILED line containing `fragment`, no panic.
fn assert_discrepancy(output: &Output, fragment: &str) {
    let error = stderr(output);
    assert_eq!(output.status.code(), Some(2), "expected a discrepancy; stdout {} stderr {error}", stdout(output));
    assert!(!error.contains("panicked"), "{error}");
    let failed: Vec<&str> = error.lines().filter(|line| line.starts_with("audit verify: FAILED: ")).collect();
    assert_eq!(failed.len(), 1, "{error}");
    assert!(failed[0].contains(fragment), "expected `{fragment}` in: {error}");
}

/// Any other failure of `audit verify`: exit 1 naming the problem on the last line, no panic.
fn assert_verify_failed(output: &Output, fragment: &str) {
    let error = stderr(output);
    assert_eq!(output.status.code(), Some(1), "expected exit 1; stdout {} stderr {error}", stdout(output));
    assert!(!error.contains("panicked"), "{error}");
    let last = error.trim().lines().last().unwrap_or_default();
    assert!(last.starts_with("audit verify: FAILED: ") && last.contains(fragment), "expected `{fragment}` in: {error}");
}

/// `canvass audit publish --to DIR`; returns the size it signed.
fn publish(data: &Path, to: &Path) -> u64 {
    let output = run(&["audit", "publish", "--data", text(data), "--to", text(to)]);
    assert!(output.status.success(), "publish: {}", stderr(&output));
    let printed = stdout(&output);
    printed
        .strip_prefix("Wrote the signed log of ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|size| size.parse().ok())
        .unwrap_or_else(|| panic!("publish printed {printed}"))
}

/// `cp -a`: a copy with modes kept.
fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(status.success());
}

/// A stopped node's data dir, copied as an insider would (serve refuses a readable one).
fn copy_data_dir(from: &Path, to: &Path) {
    copy_tree(from, to);
    assert_eq!(support::file_mode(to), 0o700);
}

/// Runs the binary to its end, killing it after a minute (a node that should have refused to
/// start but serves instead).
fn run_bounded(arguments: &[&str]) -> Output {
    let mut child = support::canvass().args(arguments).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _killed = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

/// The node's SQLite file opened directly, as an insider with the file would.
async fn open_database(data: &Path) -> sqlx::SqliteConnection {
    use sqlx::ConnectOptions;
    sqlx::sqlite::SqliteConnectOptions::new().filename(data.join("canvass.db")).connect().await.unwrap()
}

/// Replaces `from` with `to` in the stored body of ledger entry `index`, dropping the trigger
/// that forbids it first. The node must be stopped.
fn alter_entry(data: &Path, index: u64, from: &str, to: &str) {
    block_on(async {
        let mut database = open_database(data).await;
        let body: Vec<u8> = sqlx::query_scalar("SELECT body FROM ledger_entries WHERE idx = ?")
            .bind(index as i64)
            .fetch_one(&mut database)
            .await
            .unwrap();
        let body = String::from_utf8(body).unwrap();
        assert!(body.contains(from), "entry {index} lacks {from}: {body}");
        let refused = sqlx::query("UPDATE ledger_entries SET body = ? WHERE idx = ?")
            .bind(body.replace(from, to).into_bytes())
            .bind(index as i64)
            .execute(&mut database)
            .await;
        assert!(refused.is_err(), "the append-only trigger let an entry be rewritten");
        sqlx::query("DROP TRIGGER ledger_entries_no_update").execute(&mut database).await.unwrap();
        sqlx::query("UPDATE ledger_entries SET body = ? WHERE idx = ?")
            .bind(body.replace(from, to).into_bytes())
            .bind(index as i64)
            .execute(&mut database)
            .await
            .unwrap();
        database.close().await.unwrap();
    });
}

/// Flips one bit of byte `byte` of a stored hash tile, dropping the trigger that only lets
/// tiles grow. The node must be stopped.
fn alter_tile(data: &Path, level: u8, index: u64, byte: usize) {
    block_on(async {
        let mut database = open_database(data).await;
        let mut hashes: Vec<u8> = sqlx::query_scalar("SELECT hashes FROM ledger_tiles WHERE level = ? AND idx = ?")
            .bind(i64::from(level))
            .bind(index as i64)
            .fetch_one(&mut database)
            .await
            .unwrap();
        hashes[byte] ^= 0x01;
        sqlx::query("DROP TRIGGER IF EXISTS ledger_tiles_only_grow").execute(&mut database).await.unwrap();
        sqlx::query("UPDATE ledger_tiles SET hashes = ? WHERE level = ? AND idx = ?")
            .bind(hashes)
            .bind(i64::from(level))
            .bind(index as i64)
            .execute(&mut database)
            .await
            .unwrap();
        database.close().await.unwrap();
    });
}

/// Appends copies of entry `of` until the store holds `size` entries, as another process
/// appending through the store would (the table takes inserts; only rewrites are refused).
fn append_copies(data: &Path, of: u64, size: u64) {
    block_on(async {
        let mut database = open_database(data).await;
        let mut transaction = database.begin().await.unwrap();
        let first: i64 =
            sqlx::query_scalar("SELECT max(idx) + 1 FROM ledger_entries").fetch_one(&mut *transaction).await.unwrap();
        for index in first..size as i64 {
            sqlx::query(
                "INSERT INTO ledger_entries (idx, body, time_millis, actor, action, jurisdiction, outcome) \
                 SELECT ?, body, time_millis, actor, action, jurisdiction, outcome FROM ledger_entries WHERE idx = ?",
            )
            .bind(index)
            .bind(of as i64)
            .execute(&mut *transaction)
            .await
            .unwrap();
        }
        transaction.commit().await.unwrap();
        database.close().await.unwrap();
    });
}

fn flip_byte(path: &Path, offset: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

fn replace_in_file(path: &Path, from: &str, to: &str) {
    let bytes = fs::read(path).unwrap();
    let position = bytes.windows(from.len()).position(|window| window == from.as_bytes()).unwrap();
    let mut altered = bytes.clone();
    altered[position..position + from.len()].copy_from_slice(to.as_bytes());
    fs::write(path, altered).unwrap();
}

/// The only file in `directory` (a partial tile's path ends in its width).
fn only_file(directory: &Path) -> PathBuf {
    let mut files: Vec<PathBuf> = fs::read_dir(directory).unwrap().map(|entry| entry.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.remove(0)
}

/// Every file under `directory`, recursively.
fn files_under(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

/// The index of the one entry naming `record`.
fn index_of(data: &Path, record: &str) -> u64 {
    let found = search(data, &["--record", record]);
    assert_eq!(found.len(), 1, "{record}: {found:?}");
    found[0]["index"].as_u64().unwrap()
}

#[test]
fn an_honest_node_verifies_and_records_changes_and_refused_sign_ins_but_no_typed_name() {
    // A user name that names no account may be a password typed into the wrong field.
    const TYPED_NAME: &str = "clerk-typo-7f3a91";
    const ODD_NAME: &str = "Hunter2!Secret";
    const WRONG_PASSWORD: &str = "not-the-admin-password-5c1e";
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let served = Served::start(&["--data", text(&data)], &[]).unwrap();
    for id in ["honest-1", "honest-2"] {
        let created = post_jurisdiction(served.admin, &data, id);
        assert_eq!(created.status, 201, "{}", created.body);
    }
    // Beside the running node, straight into the store: the node's integrator signs it too.
    add_jurisdiction(&data, "honest-cli");
    for (username, password) in [(TYPED_NAME, WRONG_PASSWORD), (ODD_NAME, WRONG_PASSWORD), ("admin", WRONG_PASSWORD)] {
        let refused =
            post_form(served.admin, "/login", &[("username", username), ("password", password), ("code", "")]);
        assert_eq!(refused.status, 401, "{username}");
        assert!(refused.header("set-cookie").is_none(), "{username}");
    }
    // A forged token: the real token's id with a guessed secret. Refused without detail.
    let token = admin_token(&data);
    let forged = format!("Bearer {}.{WRONG_PASSWORD}", token.rsplit_once('.').unwrap().0);
    let refused = request(served.admin, "GET", "/api/jurisdictions", &[("Authorization", &forged)], None);
    assert_eq!(refused.status, 401);
    assert!(!refused.body.contains("honest-1"), "{}", refused.body);

    let size = wait_until_signed(&served, &data);
    assert_eq!(size, 11, "ledger start, set password, token issued, node start, three additions, four refusals");
    let log = log_url(&served);
    let state = directory.path().join("verifier-state.json");
    let verified = verify(&log, &["--state", text(&state)]);
    assert_verified(&verified, size);
    assert!(stderr(&verified).contains("trusting the key the log itself published"), "{}", stderr(&verified));
    let saved: Value = serde_json::from_slice(&fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["trusted"]["size"], size);
    let again = verify(&log, &["--state", text(&state)]);
    assert_verified(&again, size);
    assert!(stdout(&again).contains(&format!("consistent with the {size} entries seen before")), "{}", stdout(&again));
    let json = verify(&log, &["--state", text(&state), "--json"]);
    assert!(json.status.success(), "{}", stderr(&json));
    let report: Value = serde_json::from_str(stdout(&json).trim()).unwrap();
    assert_eq!((report["verified"].as_bool(), report["size"].as_u64()), (Some(true), Some(size)));
    // The key the node serves matches the one pinned; a different key is refused, not trusted.
    let key = get(served.public, "/log/key").body.trim().to_owned();
    assert_eq!(saved["log_key"], key.as_str());
    assert_verified(&verify(&log, &["--log-key", &key]), size);
    let witness_key = directory.path().join("witness.pem");
    let keygen = run(&["witness", "keygen", "--key", text(&witness_key)]);
    let other_key = stdout(&keygen).lines().nth(2).unwrap().to_owned();
    assert_verify_failed(&verify(&log, &["--state", text(&state), "--log-key", &other_key]), "refusing to switch keys");

    let found = search(&data, &["--record", "jurisdiction:honest-2"]);
    assert_eq!(found.len(), 1, "{found:?}");
    let entry = &found[0];
    let actor = token_actor(&token);
    assert_eq!(
        (&entry["action"], &entry["actor"], &entry["outcome"], &entry["jurisdiction"]),
        (
            &Value::from("jurisdiction.add"),
            &Value::from(actor.as_str()),
            &Value::from("allowed"),
            &Value::from("honest-2")
        )
    );
    assert_eq!(entry["targets"], serde_json::json!(["jurisdiction:honest-2"]));
    assert!(entry["index"].as_u64().unwrap() < size);
    assert_eq!(search(&data, &["--record", "jurisdiction:honest-cli"])[0]["actor"], "operator");
    let listed = run(&["audit", "search", "--data", text(&data), "--record", "jurisdiction:honest-1"]);
    assert!(stdout(&listed).contains(&actor) && stdout(&listed).contains("jurisdiction.add"), "{listed:?}");
    assert!(search(&data, &["--record", "jurisdiction:never-added"]).is_empty());

    let denied = search(&data, &["--action", "auth.login", "--outcome", "denied"]);
    let mut actors: Vec<&str> = denied.iter().map(|entry| entry["actor"].as_str().unwrap()).collect();
    actors.sort_unstable();
    assert_eq!(actors, ["anonymous", "anonymous", "anonymous", "user:admin"], "{denied:?}");
    assert!(denied.iter().all(|entry| entry["reason"] == "unauthorized"), "{denied:?}");
    let authorization = admin_bearer(&data);
    let page = request(
        served.admin,
        "GET",
        "/api/audit?action=auth.login&outcome=denied",
        &[("Authorization", &authorization)],
        None,
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.json()["entries"].as_array().unwrap().len(), 4, "{}", page.body);
    let page = request(
        served.admin,
        "GET",
        "/api/audit?record=jurisdiction:honest-1",
        &[("Authorization", &authorization)],
        None,
    );
    assert_eq!(page.json()["entries"][0]["actor"], actor.as_str(), "{}", page.body);
    let audit_page = get(served.public, "/audit");
    assert_eq!(audit_page.status, 200);
    assert!(audit_page.body.contains(&key), "the public page shows the log key");

    // Exports (schema validity is tested in canvass-formats): every entry, in order.
    let json_file = directory.path().join("ledger.json");
    let exported = run(&["audit", "export", "--data", text(&data), "--format", "nist-json", "--out", text(&json_file)]);
    assert!(stderr(&exported).contains(&format!("Exported {size} ledger entries")), "{}", stderr(&exported));
    let document: Value = serde_json::from_slice(&fs::read(&json_file).unwrap()).unwrap();
    let events = document["Device"][0]["Event"].as_array().unwrap();
    let sequences: Vec<&str> = events.iter().map(|event| event["Sequence"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..size).map(|index| index.to_string()).collect();
    assert_eq!(sequences, expected);
    let honest_2 = &events[entry["index"].as_u64().unwrap() as usize];
    assert_eq!(
        (&honest_2["Id"], &honest_2["UserId"]),
        (&Value::from("jurisdiction.add"), &Value::from(actor.as_str()))
    );
    assert!(honest_2["Details"].as_str().unwrap().contains("jurisdiction:honest-2"), "{honest_2}");
    let xml = run(&["audit", "export", "--data", text(&data), "--format", "nist-xml"]);
    assert!(xml.status.success(), "{}", stderr(&xml));
    let xml_text = stdout(&xml);
    assert!(xml_text.starts_with("<?xml"), "{xml_text}");
    assert_eq!(xml_text.matches("<Event>").count() as u64, size, "{xml_text}");
    assert!(xml_text.contains("jurisdiction:honest-cli") && xml_text.contains("auth.login"), "{xml_text}");

    let published = directory.path().join("published");
    assert_eq!(publish(&data, &published), size);
    assert_verified(&verify(text(&published), &["--log-key", &key]), size);

    let (_, logged) = served.stop_and_collect();
    let mut places: Vec<(String, Vec<u8>)> = vec![
        ("the JSON export".into(), fs::read(&json_file).unwrap()),
        ("the XML export".into(), xml.stdout.clone()),
        ("the server's log".into(), logged.into_bytes()),
    ];
    for file in files_under(&published) {
        places.push((file.display().to_string(), fs::read(&file).unwrap()));
    }
    for file in ["canvass.db", "canvass.db-wal"] {
        if let Ok(bytes) = fs::read(data.join(file)) {
            places.push((file.into(), bytes));
        }
    }
    for (place, bytes) in &places {
        for secret in [TYPED_NAME, ODD_NAME, WRONG_PASSWORD, token.as_str()] {
            assert!(!contains(bytes, secret), "{place} holds the typed `{secret}`");
        }
    }
}

#[test]
fn an_altered_entry_or_published_hash_is_named_by_index() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    for id in ["tamper-1", "tamper-2", "tamper-3"] {
        add_jurisdiction(&data, id);
    }
    let honest = directory.path().join("honest");
    let size = publish(&data, &honest);
    assert_eq!(size, ledger_size(&data));
    let state = directory.path().join("state.json");
    assert_verified(&verify(text(&honest), &["--state", text(&state)]), size);

    // A byte of a published hash tile: the entry it no longer matches is named.
    let hashes = directory.path().join("hashes");
    copy_tree(&honest, &hashes);
    let tile = only_file(&hashes.join("tile/0/000.p"));
    assert_eq!(tile.file_name().unwrap().to_str().unwrap(), size.to_string());
    flip_byte(&tile, 2 * 32 + 7);
    assert_discrepancy(&verify(text(&hashes), &[]), &format!("entry 2 does not match its hash in tile/0/000.p/{size}"));
    // An entry of a published bundle, rewritten in place.
    let bundle = directory.path().join("bundle");
    copy_tree(&honest, &bundle);
    replace_in_file(&only_file(&bundle.join("tile/entries/000.p")), "tamper-3", "tamper-8");
    let tamper_3 = index_of(&data, "jurisdiction:tamper-3");
    assert_discrepancy(&verify(text(&bundle), &["--state", text(&state)]), &format!("entry {tamper_3} does not"));

    // An entry rewritten in the node's database, behind the triggers' back.
    let tamper_2 = index_of(&data, "jurisdiction:tamper-2");
    alter_entry(&data, tamper_2, "tamper-2", "tamper-9");
    let served = Served::start(&["--data", text(&data)], &[]).unwrap();
    wait_until_signed(&served, &data);
    let found = verify(&log_url(&served), &["--state", text(&state)]);
    assert_discrepancy(&found, &format!("entry {tamper_2} does not match its hash"));
    assert_eq!(served.stop().code(), Some(0));
    let republished = directory.path().join("republished");
    publish(&data, &republished);
    assert_discrepancy(&verify(text(&republished), &[]), &format!("entry {tamper_2} does not match its hash"));
    let saved: Value = serde_json::from_slice(&fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["trusted"]["size"], size, "a failed check does not move the state on");
}

#[test]
fn an_altered_stored_hash_is_named_and_an_altered_right_edge_stops_the_node() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    add_jurisdiction(&data, "tiles-1");
    // More than one tile of entries, so the first level-0 tile is full and off the right edge.
    append_copies(&data, index_of(&data, "jurisdiction:tiles-1"), 300);
    let honest = directory.path().join("honest");
    assert_eq!(publish(&data, &honest), 300);
    assert_verified(&verify(text(&honest), &[]), 300);

    alter_tile(&data, 0, 0, 17 * 32 + 31);
    let served = Served::start(&["--data", text(&data)], &[]).unwrap();
    let size = wait_until_signed(&served, &data);
    assert_eq!(size, 301, "the node started and signed its start");
    assert_discrepancy(&verify(&log_url(&served), &[]), "entry 17 does not match its hash in tile/0/000");
    assert_eq!(served.stop().code(), Some(0));

    // The level-1 tile is on the right edge: the tree the node would grow no longer gives
    // the root it signed, so it refuses to start rather than sign on top; publishing still
    // writes what was signed, with a warning, so an outside verify can name the damage.
    alter_tile(&data, 1, 0, 5);
    let refused = run_bounded(&[
        "serve",
        "--data",
        text(&data),
        "--public-listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
    ]);
    // The error is the last line; the log lines before it say the refusal opened an incident.
    assert!(!refused.status.success());
    let said = stderr(&refused);
    assert!(said.trim().lines().last().unwrap().contains("does not match its last signed checkpoint"), "{said}");
    assert!(said.contains("incident opened by a detector") && !said.contains("panicked"), "{said}");
    assert!(stdout(&refused).is_empty(), "it never served: {}", stdout(&refused));
    let again = directory.path().join("again");
    let republish = run(&["audit", "publish", "--data", text(&data), "--to", text(&again)]);
    assert!(republish.status.success(), "{}", stderr(&republish));
    assert!(stderr(&republish).contains("does not match its last signed checkpoint"), "{}", stderr(&republish));
    let checked = run(&["audit", "verify", "--log", text(&again)]);
    assert_eq!(checked.status.code(), Some(2), "{}", stderr(&checked));
    // The first damage in log order is reported: the level-0 hash altered above.
    assert!(stderr(&checked).contains("entry 17 does not match"), "{}", stderr(&checked));

    // Both failures are one ledger incident on the node: the refused start opened it, and a
    // verify run with the node's data dir adds an update to it.
    let with_data = run(&["audit", "verify", "--data", text(&data), "--log", text(&again)]);
    assert_eq!(with_data.status.code(), Some(2), "{}", stderr(&with_data));
    assert!(stdout(&with_data).contains("An incident was opened"), "{}", stdout(&with_data));
    let incidents = block_on(async {
        use canvass_store::Store;
        let store =
            canvass_store_sqlite::SqliteStore::open(&data.join("canvass.db"), canvass_store_sqlite::OpenMode::Existing)
                .await
                .unwrap();
        let found = store.incidents(10).await.unwrap();
        store.close().await;
        found
    });
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!((incidents[0].kind.as_str(), incidents[0].severity.as_str()), ("ledger_verification", "critical"));
    assert_eq!(incidents[0].jurisdiction, None);
    assert_eq!(incidents[0].revision, 1, "the verify's detection is an update of the open incident");
}

#[test]
fn forks_truncations_and_rewrites_are_told_apart() {
    let directory = tempfile::tempdir().unwrap();
    let data_a = init_node(directory.path(), &[]);
    add_jurisdiction(&data_a, "fork-common");
    let data_b = directory.path().join("data-b");
    copy_data_dir(&data_a, &data_b);
    add_jurisdiction(&data_a, "fork-a");
    add_jurisdiction(&data_b, "fork-b");
    let (log_a, log_b) = (directory.path().join("log-a"), directory.path().join("log-b"));
    let size = publish(&data_a, &log_a);
    assert_eq!(publish(&data_b, &log_b), size);
    assert_eq!(fs::read(log_a.join("key")).unwrap(), fs::read(log_b.join("key")).unwrap(), "one key, two histories");

    // Each log is sound by itself: only a verifier that remembers catches the fork.
    assert_verified(&verify(text(&log_b), &[]), size);
    let state = directory.path().join("state.json");
    assert_verified(&verify(text(&log_a), &["--state", text(&state)]), size);
    let at_size = fs::read(&state).unwrap();
    assert_discrepancy(
        &verify(text(&log_b), &["--state", text(&state)]),
        &format!("fork: two signed checkpoints of size {size}"),
    );
    assert_eq!(fs::read(&state).unwrap(), at_size, "a refused log is not remembered");

    // A grows; the state moves on; B, now smaller, is a truncation.
    add_jurisdiction(&data_a, "fork-a2");
    assert_eq!(publish(&data_a, &log_a), size + 1);
    let grown = verify(text(&log_a), &["--state", text(&state)]);
    assert_verified(&grown, size + 1);
    assert!(stdout(&grown).contains(&format!("consistent with the {size} entries seen before")), "{}", stdout(&grown));
    assert_discrepancy(
        &verify(text(&log_b), &["--state", text(&state)]),
        &format!("truncation: the log had {} entries and now has {size}", size + 1),
    );

    // B grows past what was seen of A, on a different prefix: a rewrite.
    add_jurisdiction(&data_b, "fork-b2");
    add_jurisdiction(&data_b, "fork-b3");
    assert_eq!(publish(&data_b, &log_b), size + 2);
    assert_discrepancy(
        &verify(text(&log_b), &["--state", text(&state)]),
        &format!("rewrite: the first {} entries no longer match", size + 1),
    );
    let older = directory.path().join("older-state.json");
    fs::write(&older, &at_size).unwrap();
    assert_discrepancy(
        &verify(text(&log_b), &["--state", text(&older)]),
        &format!("rewrite: the first {size} entries"),
    );
}

/// One `POST /api/jurisdictions` that tolerates the server dying under it: the status, or
/// `None` when no answer came.
fn try_post_jurisdiction(admin: SocketAddr, authorization: &str, id: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&admin, Duration::from_secs(5)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let body = jurisdiction_body(id);
    let head = format!(
        "POST /api/jurisdictions HTTP/1.0\r\nHost: {admin}\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        authorization,
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body.as_bytes()).ok()?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).ok()?;
    String::from_utf8_lossy(&reply).split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn every_change_acknowledged_before_a_sigkill_is_in_the_ledger_after_it() {
    const CLIENTS: usize = 4;
    const MOST_PER_CLIENT: usize = 500;
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let served = Served::start(&["--data", text(&data)], &[]).unwrap();
    let admin = served.admin;
    let authorization = admin_bearer(&data);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let unexpected = Arc::new(Mutex::new(Vec::<(String, u16)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (acknowledged, unexpected, stop) = (acknowledged.clone(), unexpected.clone(), stop.clone());
            let authorization = authorization.clone();
            std::thread::spawn(move || {
                for number in 0..MOST_PER_CLIENT {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let id = format!("crash-{client}-{number}");
                    match try_post_jurisdiction(admin, &authorization, &id) {
                        Some(201) => acknowledged.lock().unwrap().push(id),
                        Some(status) => unexpected.lock().unwrap().push((id, status)),
                        None => break,
                    }
                }
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 10 {
        assert!(Instant::now() < deadline, "the clients made no progress: {}", served.logged());
        std::thread::sleep(Duration::from_millis(20));
    }
    // A verifier checks the log mid-load; after the crash the log must extend what it saw.
    let state = directory.path().join("state.json");
    let log = log_url(&served);
    // The first checkpoint may still be on its way on a loaded machine: retry while absent.
    let mut before = verify(&log, &["--state", text(&state)]);
    while !before.status.success() && stderr(&before).contains("not found") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        before = verify(&log, &["--state", text(&state)]);
    }
    assert!(before.status.success(), "{}", stderr(&before));
    std::thread::sleep(Duration::from_millis(700));
    let killed = served.kill();
    assert!(!killed.success(), "{killed:?}");
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(unexpected.lock().unwrap().is_empty(), "{:?}", unexpected.lock().unwrap());
    assert!(acknowledged.len() >= 10, "{acknowledged:?}");

    let served = Served::start(&["--data", text(&data)], &[]).unwrap();
    let recorded: Vec<String> = search(&data, &["--action", "jurisdiction.add"])
        .iter()
        .filter(|entry| entry["outcome"] == "allowed")
        .map(|entry| entry["targets"][0].as_str().unwrap().to_owned())
        .collect();
    for id in &acknowledged {
        assert!(recorded.contains(&format!("jurisdiction:{id}")), "{id} was acknowledged but is not in the ledger");
    }
    let last = acknowledged.last().unwrap();
    assert_eq!(search(&data, &["--record", &format!("jurisdiction:{last}")]).len(), 1);
    let listed = run(&["jurisdiction", "list", "--data", text(&data), "--json"]);
    let listed = stdout(&listed);
    for id in &acknowledged {
        assert!(listed.contains(&format!("\"{id}\"")), "{id} was acknowledged but is not stored");
    }
    let size = wait_until_signed(&served, &data);
    // The restarted node listens on new ports; the state file is what carries over.
    let after = verify(&log_url(&served), &["--state", text(&state)]);
    assert_verified(&after, size);
    assert!(stdout(&after).contains("consistent with the"), "{}", stdout(&after));
}

#[test]
fn a_witness_cosigns_a_growing_log_and_refuses_a_forked_one() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    add_jurisdiction(&data, "witnessed-common");
    let fork = directory.path().join("fork");
    copy_data_dir(&data, &fork);
    add_jurisdiction(&data, "witnessed-a");
    add_jurisdiction(&fork, "forked-b");

    let key_file = directory.path().join("witness.pem");
    let keygen = run(&["witness", "keygen", "--key", text(&key_file)]);
    assert!(keygen.status.success(), "{}", stderr(&keygen));
    assert_eq!(support::file_mode(&key_file), 0o600);
    let printed = stdout(&keygen);
    let lines: Vec<&str> = printed.lines().collect();
    let position = lines.iter().position(|line| line.contains("ledger.witnesses")).unwrap();
    let witness_key = lines[position + 1].trim().to_owned();
    let witness_name = witness_key.split('+').next().unwrap().to_owned();
    assert!(witness_name.starts_with("witness-"), "{printed}");
    assert_refused(&run(&["witness", "keygen", "--key", text(&key_file)]), "never overwritten");
    let config = data.join("canvass.toml");
    let original = fs::read_to_string(&config).unwrap();
    assert!(original.contains("witnesses = []"), "{original}");
    fs::write(&config, original.replace("witnesses = []", &format!("witnesses = [\"{witness_key}\"]"))).unwrap();

    let served = Served::start(&["--data", text(&data)], &[]).unwrap();
    let size = wait_until_signed(&served, &data);
    let witness_state = directory.path().join("witness-state.json");
    let witness = |served: &Served| {
        run(&[
            "witness",
            "--log",
            &log_url(served),
            "--key",
            text(&key_file),
            "--state",
            text(&witness_state),
            "--once",
        ])
    };
    let cosigned = witness(&served);
    assert!(cosigned.status.success(), "{}", stderr(&cosigned));
    assert!(stdout(&cosigned).contains(&format!("at size {size}")), "{}", stdout(&cosigned));
    let note = get(served.public, "/log/checkpoint").body;
    assert_eq!(note_size(&note), size, "taking a cosignature does not grow the log: {note}");
    assert!(note.lines().any(|line| line.starts_with(&format!("— {witness_name} "))), "{note}");
    let verified = verify(&log_url(&served), &["--witness-key", &witness_key]);
    assert_verified(&verified, size);
    assert!(stdout(&verified).contains(&format!("Cosigned by: {witness_name}")), "{}", stdout(&verified));
    assert!(get(served.public, "/audit").body.contains(&witness_name), "the public page names the witness");
    // Again at the same size: the same checkpoint is cosigned again, nothing else happens.
    assert!(witness(&served).status.success());
    // Growth: the witness proves consistency from the tiles and cosigns the bigger log.
    assert_eq!(post_jurisdiction(served.admin, &data, "witnessed-grown").status, 201);
    let grown = wait_until_signed(&served, &data);
    assert_eq!(grown, size + 1);
    let cosigned = witness(&served);
    assert!(stdout(&cosigned).contains(&format!("at size {grown}")), "{}", stderr(&cosigned));
    assert_eq!(served.stop().code(), Some(0));
    let remembered = fs::read(&witness_state).unwrap();

    // The fork has the same key and origin and its own history of the same length.
    let served = Served::start(&["--data", text(&fork)], &[]).unwrap();
    add_jurisdiction(&fork, "forked-b2");
    let forked_size = wait_until_signed(&served, &fork);
    assert_eq!(forked_size, grown, "a fork of the same size");
    let refused = witness(&served);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("REFUSED"), "{}", stderr(&refused));
    assert!(!stderr(&refused).contains("panicked"));
    // The fork was copied before the witness was trusted: it refuses the witness's refusal.
    assert!(stderr(&refused).contains("the node was not told"), "{}", stderr(&refused));
    assert_eq!(fs::read(&witness_state).unwrap(), remembered, "a refusal leaves the witness's state alone");
    assert!(!get(served.public, "/log/checkpoint").body.contains(&witness_name));

    // Bigger than what the witness saw, but not an extension of it.
    assert_eq!(post_jurisdiction(served.admin, &data, "forked-b3").status, 201);
    assert_eq!(wait_until_signed(&served, &fork), grown + 1);
    let refused = witness(&served);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("REFUSED"), "{}", stderr(&refused));
    assert_eq!(fs::read(&witness_state).unwrap(), remembered);
}

#[test]
fn bad_logs_and_state_files_are_clear_failures_not_discrepancies() {
    let directory = tempfile::tempdir().unwrap();
    let empty = directory.path().join("empty");
    fs::create_dir(&empty).unwrap();
    assert_verify_failed(&verify(text(&empty), &[]), "publishes no key");
    let data = init_node(directory.path(), &[]);
    let published = directory.path().join("published");
    publish(&data, &published);
    let key = fs::read_to_string(published.join("key")).unwrap().trim().to_owned();
    assert_verify_failed(&verify(text(&empty), &["--log-key", &key]), "checkpoint");

    let garbage = directory.path().join("garbage");
    fs::create_dir(&garbage).unwrap();
    fs::write(garbage.join("key"), "not a key\n").unwrap();
    assert_verify_failed(&verify(text(&garbage), &[]), "verifier key");
    fs::write(garbage.join("checkpoint"), b"\x00\xffnot a checkpoint at all").unwrap();
    assert_verify_failed(&verify(text(&garbage), &["--log-key", &key]), "malformed");
    fs::write(garbage.join("checkpoint"), fs::read(published.join("checkpoint")).unwrap()).unwrap();
    assert_verify_failed(&verify(text(&garbage), &["--log-key", &key]), "could not fetch tile/");
    assert_verify_failed(&verify(text(&published), &["--log-key", "nonsense"]), "--log-key");

    let state = directory.path().join("state.json");
    fs::write(&state, "{ not json").unwrap();
    assert_verify_failed(&verify(text(&published), &["--state", text(&state)]), "not a verifier state file");
    assert_verify_failed(&verify("http://127.0.0.1:1/log", &["--log-key", &key]), "checkpoint");
    assert_verify_failed(&verify("http://127.0.0.1:1/log", &[]), "key");
}

/// `--watch` keeps checking while the log grows honestly, and stops with exit 2 as soon as the
/// log it watches is swapped for a fork.
#[test]
fn watch_keeps_monitoring_until_the_log_forks() {
    let directory = tempfile::tempdir().unwrap();
    let data_a = init_node(directory.path(), &[]);
    add_jurisdiction(&data_a, "watch-common");
    let data_b = directory.path().join("data-b");
    copy_data_dir(&data_a, &data_b);
    let watched = directory.path().join("watched");
    let size = publish(&data_a, &watched);
    let state = directory.path().join("state.json");
    let mut watcher = support::canvass()
        .args(["audit", "verify", "--log", text(&watched), "--state", text(&state), "--watch", "--interval", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let saved_size = |wanted: u64| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(bytes) = fs::read(&state)
                && serde_json::from_slice::<Value>(&bytes).is_ok_and(|saved| saved["trusted"]["size"] == wanted)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    };
    assert!(saved_size(size), "the watcher never verified the first log");
    // The log grows: the watcher follows.
    add_jurisdiction(&data_a, "watch-a");
    assert_eq!(publish(&data_a, &watched), size + 1);
    assert!(saved_size(size + 1), "the watcher did not follow the grown log");
    assert!(watcher.try_wait().unwrap().is_none(), "the watcher stopped on an honest log");
    // The same URL now serves a fork: one signed history replaced by another of the same size.
    add_jurisdiction(&data_b, "watch-b2");
    let forked = directory.path().join("forked");
    assert_eq!(publish(&data_b, &forked), size + 1);
    fs::remove_dir_all(&watched).unwrap();
    fs::rename(&forked, &watched).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = watcher.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            watcher.kill().unwrap();
            panic!("the watcher did not notice the fork");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut error = String::new();
    watcher.stderr.take().unwrap().read_to_string(&mut error).unwrap();
    assert_eq!(status.code(), Some(2), "{error}");
    assert!(error.contains(&format!("fork: two signed checkpoints of size {}", size + 1)), "{error}");
}
