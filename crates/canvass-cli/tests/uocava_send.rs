//! `canvass uocava send` through the real binary, as a canary of the ballot link: an overseas
//! voter registered through the public FPCA form is sent their ballot as a link; the command
//! refuses to queue a link while the voter's roll's key ring is not given (the message is sealed
//! under it), and with `--passphrase-file` queues it; before the outbox sends it (no mail server
//! here), no link is in the SQLite file or its WAL.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{collections::BTreeMap, fs, path::Path};

use canvass_core::{
    election::{Choice, Contest, ContestKind, Election, ElectionKind, VoteFor},
    id::{ContestId, ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
    results::ElectionDefinition,
};
use canvass_store::Store;
use support::{Served, admin_bearer, enrol_second_factor, init_node, post_form, request, run, stderr, stdout};

const STATE: &str = "ocd-division/country:us/state:qz";
const COUNTY: &str = "ocd-division/country:us/state:qz/county:harbor";
const ELECTION: &str = "qz-general";
const PASSPHRASE: &str = "the uocava send test key ring passphrase";
const STAFF_PASSWORD: &str = "a sound staff password";

fn succeed(arguments: &[&str]) -> String {
    let output = run(arguments);
    assert!(output.status.success(), "{arguments:?}: {}", stderr(&output));
    stdout(&output)
}

fn id(value: &str) -> JurisdictionId {
    JurisdictionId::parse(value).unwrap()
}

/// The state, the county with one precinct and a one-contest election on December 31 of this
/// year, stored straight into the node's database (the election importers are another
/// command's job).
fn add_places_and_election(data: &Path) {
    let precinct = Precinct {
        id: PrecinctId::parse(&format!("{COUNTY}/precinct:01")).unwrap(),
        jurisdiction: id(COUNTY),
        name: Name::parse("Harbor 01").unwrap(),
    };
    let county = Jurisdiction {
        id: id(COUNTY),
        name: Name::parse("Harbor County").unwrap(),
        kind: JurisdictionKind::County,
        parent: Some(id(STATE)),
    };
    let today = time::OffsetDateTime::now_utc().date();
    let election = Election {
        id: ElectionId::parse(ELECTION).unwrap(),
        jurisdiction: id(STATE),
        name: Name::parse("General Election").unwrap(),
        date: time::Date::from_calendar_date(today.year(), time::Month::December, 31).unwrap(),
        kind: ElectionKind::General,
    };
    let contest = Contest {
        id: ContestId::parse("qz-general-harbor-mayor").unwrap(),
        election: election.id.clone(),
        district: id(COUNTY),
        name: Name::parse("Mayor of Harbor").unwrap(),
        kind: ContestKind::Candidate,
        vote_for: VoteFor::ONE,
        choices: ["Ada Quay", "Ben Jetty"]
            .into_iter()
            .map(|name| Choice { name: Name::parse(name).unwrap(), party: None })
            .collect(),
    };
    let coverage = BTreeMap::from([(contest.id.clone(), [precinct.id.clone()].into_iter().collect())]);
    let definition = ElectionDefinition {
        election,
        contests: vec![contest],
        counties: vec![county],
        precincts: vec![precinct],
        coverage,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store =
            canvass_store_sqlite::SqliteStore::open(&data.join("canvass.db"), canvass_store_sqlite::OpenMode::Existing)
                .await
                .unwrap();
        let state = Jurisdiction {
            id: id(STATE),
            name: Name::parse("Qz State").unwrap(),
            kind: JurisdictionKind::State,
            parent: None,
        };
        store.insert_jurisdiction(&state).await.unwrap();
        store.insert_election_definition(&definition).await.unwrap();
        store.close().await;
    });
}

fn at_rest(data: &Path) -> Vec<u8> {
    ["canvass.db", "canvass.db-wal"].iter().filter_map(|name| fs::read(data.join(name)).ok()).flatten().collect()
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|window| window == text.as_bytes())
}

#[test]
fn a_sent_ballot_link_is_not_at_rest_before_the_outbox_sends_it() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap().to_owned();
    add_places_and_election(&data);
    let passphrase = directory.path().join("key-passphrase");
    fs::write(&passphrase, PASSPHRASE).unwrap();
    let passphrase_text = passphrase.to_str().unwrap().to_owned();
    succeed(&[
        "keys",
        "init",
        "--data",
        &data_text,
        "--jurisdiction",
        COUNTY,
        "--passphrase-file",
        &passphrase_text,
        "--projected-voters",
        "10000",
    ]);

    let served = Served::start(&["--data", &data_text], &[]).unwrap();
    let unseal = serde_json::json!({ "passphrase": PASSPHRASE }).to_string();
    let path = format!("/api/jurisdictions/{}/unseal", COUNTY.replace('/', "%2F"));
    let unsealed = request(served.admin, "POST", &path, &[("Authorization", &admin_bearer(&data))], Some(&unseal));
    assert_eq!(unsealed.status, 200, "{}", unsealed.body);
    let precinct = format!("{COUNTY}/precinct:01");
    let fields = [
        ("first_name", "Wilhelmina"),
        ("last_name", "Seaward"),
        ("birth_date", "1982-03-04"),
        ("county", COUNTY),
        ("precinct", precinct.as_str()),
        ("street", "3 Quay Road"),
        ("city", "Harbor"),
        ("zip", "99501"),
        ("email", "wilhelmina@examplia.invalid"),
        ("classification", "overseas"),
        ("delivery", "email"),
    ];
    let reply = post_form(served.public, "/uocava/fpca", &fields);
    assert_eq!(reply.status, 200, "{}", reply.body);

    let password = directory.path().join("staff-password");
    fs::write(&password, format!("{STAFF_PASSWORD}\n")).unwrap();
    let password_text = password.to_str().unwrap().to_owned();
    succeed(&[
        "user",
        "add",
        "--data",
        &data_text,
        "--username",
        "clerk",
        "--role",
        "registration_clerk",
        "--jurisdiction",
        STATE,
        "--password-file",
        &password_text,
    ]);
    let secret = enrol_second_factor(&data, "clerk");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let send = |code: String, unlock: &[&str]| {
        let mut arguments = vec![
            "uocava",
            "send",
            "--election",
            ELECTION,
            "--public-url",
            "https://vote.qz.example",
            "--data",
            &data_text,
            "--user",
            "clerk",
            "--password-file",
            &password_text,
            "--totp-code",
            &code,
        ];
        arguments.extend_from_slice(unlock);
        run(&arguments)
    };

    // Without the roll's ring the link would go out unsealed: refused, nothing queued.
    let refused = send(secret.code_at(now), &[]);
    assert!(!refused.status.success(), "{}", stdout(&refused));
    assert!(stderr(&refused).contains("must be unsealed to send ballot links"), "{}", stderr(&refused));

    let sent = send(secret.code_at(now + 30), &["--roll", COUNTY, "--passphrase-file", &passphrase_text]);
    assert!(sent.status.success(), "{}", stderr(&sent));
    let printed = stdout(&sent);
    assert!(printed.contains("link queued in the outbox") && printed.contains("1 ballot(s) sent"), "{printed}");
    let number = printed.split(':').next().unwrap().trim().to_owned();
    assert!(number.starts_with("VRI"), "{printed}");

    // No mail server: the message waits in the outbox, sealed.
    let stored = at_rest(&data);
    assert!(holds(&stored, &number) && holds(&stored, "Your blank ballot"), "the scan sees the outbox row");
    assert!(!holds(&stored, "/uocava/ballot/") && !holds(&stored, "vote.qz.example"), "a link is at rest");
    assert!(served.stop().success());
    assert!(!holds(&at_rest(&data), "/uocava/ballot/"), "nor after the WAL is checkpointed");
}
