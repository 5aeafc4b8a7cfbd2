//! NIST SP 1500-102 (VRI) through the real binary: every example NIST ships imports (the Ohio
//! registrations add voters, a changed one updates its voter, the Virginia absentee requests are
//! recognized for the voters they name, the one response document is refused); an exported
//! voter validates against the XSD and re-imports as a no-op in both encodings; bad documents
//! are refused with the element named and write nothing; an export without `voters.read` or
//! without a reason is refused.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use canvass_formats::vri::{
    self, AdditionalInfo, Address, BallotPeriod, Place, PlaceNameType, RequestType, VoterRecordsRequest,
};
use sqlx::Connection;
use support::{enrol_second_factor, init_node, run, stderr, stdout};

const OHIO: &str = "ocd-division/country:us/state:oh";
const VIRGINIA: &str = "ocd-division/country:us/state:va";
const PASSPHRASE: &str = "the vri test key ring passphrase";
const CLERK_PASSWORD: &str = "a sound clerk password for vri";

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn nist(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/nist").join(path)
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A node with a state, its counties (one precinct each), a key ring, and staff who can sign
/// in: each account's second factor gives two sign-ins (this time step's code and the next's).
struct Node {
    directory: tempfile::TempDir,
    data: PathBuf,
    passphrase: PathBuf,
    accounts: Vec<(String, PathBuf, canvass_crypto::TotpSecret, u8)>,
}

impl Node {
    fn new(state: &str, state_name: &str, counties: &[(&str, &str)], clerks: usize) -> Self {
        let directory = tempfile::tempdir().unwrap();
        let data = init_node(directory.path(), &[]);
        let passphrase = directory.path().join("key-passphrase");
        fs::write(&passphrase, PASSPHRASE).unwrap();
        let clerk_password = directory.path().join("clerk-password");
        fs::write(&clerk_password, CLERK_PASSWORD).unwrap();
        let mut node = Self { data, passphrase, accounts: Vec::new(), directory };
        node.operator(&["jurisdiction", "add", "--id", state, "--name", state_name, "--kind", "state"]);
        for (segment, name) in counties {
            let county = format!("{state}/county:{segment}");
            node.operator(&[
                "jurisdiction",
                "add",
                "--id",
                &county,
                "--name",
                name,
                "--kind",
                "county",
                "--parent",
                state,
            ]);
            let precinct = format!("{county}/precinct:p1");
            node.operator(&["precinct", "add", "--id", &precinct, "--jurisdiction", &county, "--name", "Precinct 1"]);
        }
        node.operator(&["keys", "init", "--jurisdiction", state, "--passphrase-file", text(&node.passphrase)]);
        let admin_password = node.directory.path().join("admin-password");
        node.accounts.push(("admin".into(), admin_password, enrol_second_factor(&node.data, "admin"), 0));
        for number in 0..clerks {
            let name = format!("clerk-{number}");
            node.operator(&[
                "user",
                "add",
                "--username",
                &name,
                "--role",
                "registration_clerk",
                "--jurisdiction",
                state,
                "--password-file",
                text(&clerk_password),
            ]);
            let secret = enrol_second_factor(&node.data, &name);
            node.accounts.push((name, clerk_password.clone(), secret, 0));
        }
        node
    }

    fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    fn operator(&self, arguments: &[&str]) {
        let mut all = arguments.to_vec();
        all.extend(["--data", text(&self.data)]);
        let output = run(&all);
        assert!(output.status.success(), "{arguments:?}: {}", stderr(&output));
    }

    /// Sign-in flags of an account that has a sign-in left, and the unlock flag.
    fn signed(&mut self) -> Vec<String> {
        let data = text(&self.data).to_owned();
        let passphrase = text(&self.passphrase).to_owned();
        let (name, password, secret, uses) =
            self.accounts.iter_mut().find(|account| account.3 < 2).expect("the test ran out of sign-ins");
        let code = secret.code_at(unix_seconds() + 30 * u64::from(*uses));
        *uses += 1;
        [
            "--data",
            &data,
            "--user",
            name.as_str(),
            "--password-file",
            text(password.as_path()),
            "--totp-code",
            &code,
            "--passphrase-file",
            &passphrase,
        ]
        .map(str::to_owned)
        .to_vec()
    }

    fn import(&mut self, state: &str, format: &str, file: &Path) -> Output {
        let mut arguments: Vec<String> =
            ["voters", "import", "--jurisdiction", state, "--format", format, text(file)].map(str::to_owned).to_vec();
        arguments.extend(self.signed());
        run(&arguments.iter().map(String::as_str).collect::<Vec<_>>())
    }

    fn export(&mut self, state: &str, number: &str, format: &str, output: &Path) -> Output {
        let mut arguments: Vec<String> = [
            "voters",
            "export-vri",
            "--jurisdiction",
            state,
            "--registration-number",
            number,
            "--format",
            format,
            "--reason",
            "transfer to the county's system",
            "--output",
            text(output),
        ]
        .map(str::to_owned)
        .to_vec();
        arguments.extend(self.signed());
        run(&arguments.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// Stores an election of the state in 2018, directly (no command adds elections yet).
    fn add_election(&self, id: &str, month: time::Month, day: u8) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            use canvass_store::Store;
            let store = canvass_store_sqlite::SqliteStore::open(
                &self.data.join("canvass.db"),
                canvass_store_sqlite::OpenMode::Existing,
            )
            .await
            .unwrap();
            let election = canvass_core::election::Election {
                id: canvass_core::id::ElectionId::parse(id).unwrap(),
                jurisdiction: canvass_core::id::JurisdictionId::parse(VIRGINIA).unwrap(),
                name: canvass_core::name::Name::parse("2018 Primary Election").unwrap(),
                kind: canvass_core::election::ElectionKind::Primary,
                date: time::Date::from_calendar_date(2018, month, day).unwrap(),
            };
            store.insert_election(&election, &[]).await.unwrap();
            store.close().await;
        });
    }

    /// Rows of the roll's tables and ledger entries naming an action, read from the database.
    fn counts(&self, action: &str) -> [i64; 4] {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            use sqlx::ConnectOptions;
            let mut connection = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(self.data.join("canvass.db"))
                .connect()
                .await
                .unwrap();
            let mut counts = [0i64; 4];
            for (index, table) in ["voters", "voter_history", "voter_imports"].iter().enumerate() {
                counts[index] = sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
                    .fetch_one(&mut connection)
                    .await
                    .unwrap();
            }
            let bodies: Vec<Vec<u8>> =
                sqlx::query_scalar("SELECT body FROM ledger_entries").fetch_all(&mut connection).await.unwrap();
            counts[3] = bodies
                .iter()
                .filter(|body| body.windows(action.len()).any(|window| window == action.as_bytes()))
                .count() as i64;
            connection.close().await.unwrap();
            counts
        })
    }
}

/// The registration numbers the import printed for added or updated voters, by file name.
fn registered(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter_map(|line| {
            let (file, rest) = line.split_once(": registration of voter ")?;
            let number = rest.split_whitespace().next()?;
            let name = Path::new(file).file_name()?.to_str()?.to_owned();
            Some((name, number.to_owned()))
        })
        .collect()
}

fn number_of(output: &str, file: &str) -> String {
    registered(output).into_iter().find(|(name, _)| name == file).unwrap_or_else(|| panic!("{file} in {output}")).1
}

/// Validates XML against the 1500-102 XSD with xmllint, resolving the address schemas it
/// imports offline the way canvass-formats' schema test does (NIST's FGDC schemas; empty
/// stand-ins for the GML and XML signature namespaces VRI never uses).
fn xmllint(directory: &Path, file: &Path) {
    if Command::new("xmllint").arg("--version").output().is_err() {
        eprintln!("xmllint is not installed: the export is NOT checked against the XSD; scripts/test installs it");
        return;
    }
    let gml = directory.join("gml-stand-in.xsd");
    fs::write(
        &gml,
        r#"<?xml version="1.0"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.opengis.net/gml">
  <xsd:complexType name="MultiCurveType"/><xsd:complexType name="MultiSurfaceType"/><xsd:complexType name="PointType"/>
</xsd:schema>
"#,
    )
    .unwrap();
    let signature = directory.join("xmldsig-stand-in.xsd");
    fs::write(
        &signature,
        r#"<?xml version="1.0"?><xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.w3.org/2000/09/xmldsig#"/>"#,
    )
    .unwrap();
    let address = nist("cdf-test-method/catalog_documents/addr.xsd").canonicalize().unwrap();
    let catalog = directory.join("catalog.xml");
    fs::write(
        &catalog,
        format!(
            r#"<?xml version="1.0"?>
<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">
  <uri name="https://www.fgdc.gov/schemas/address/addr.xsd" uri="file://{}"/>
  <uri name="http://schemas.opengis.net/gml/3.1.1/base/gml.xsd" uri="file://{}"/>
  <uri name="http://www.w3.org/2000/09/xmldsig#" uri="file://{}"/>
</catalog>
"#,
            address.display(),
            gml.display(),
            signature.display()
        ),
    )
    .unwrap();
    let output = Command::new("xmllint")
        .env("XML_CATALOG_FILES", &catalog)
        .args(["--noout", "--nonet", "--schema"])
        .arg(nist("1500-102/NIST_V0_voter_records_interchange.xsd"))
        .arg(file)
        .output()
        .unwrap();
    assert!(output.status.success(), "xmllint: {}", String::from_utf8_lossy(&output.stderr));
}

/// What NIST's 1500-102 JSON schema (draft-04, formats checked) finds wrong with a document.
fn json_schema_errors(path: &Path) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_slice(&fs::read(nist("1500-102/NIST_V0_voter_records_interchange.json")).unwrap()).unwrap();
    let validator = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
    let document: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    validator.iter_errors(&document).map(|error| format!("{error} at {}", error.instance_path())).collect()
}

fn write_request(request: &VoterRecordsRequest, path: &Path) {
    let mut bytes = Vec::new();
    vri::write_xml(request, &mut bytes).unwrap();
    fs::write(path, bytes).unwrap();
}

fn read_example(path: &Path) -> VoterRecordsRequest {
    vri::read_xml(fs::read(path).unwrap().as_slice()).unwrap()
}

#[test]
fn ohio_registrations_import_update_export_and_round_trip() {
    let counties = [
        ("summit", "Summit County"),
        ("delaware", "Delaware County"),
        ("stark", "Stark County"),
        ("78", "Trumbull County"),
    ];
    let mut node = Node::new(OHIO, "Ohio", &counties, 3);

    // Every NIST Ohio example: the four registrations are added, the acknowledgement (a
    // response, not a request) is refused and writes nothing.
    let examples = nist("1500-102/NVRA-examples");
    let output = node.import(OHIO, "vri-xml", &examples);
    assert_eq!(output.status.code(), Some(1), "{}{}", stdout(&output), stderr(&output));
    let added = registered(&stdout(&output));
    assert_eq!(added.len(), 4, "{}{}", stdout(&output), stderr(&output));
    assert!(stdout(&output).matches(" added.").count() == 4, "{}", stdout(&output));
    assert!(
        stderr(&output).contains("ohio_registration_acknowledgement.xml: refused, nothing written"),
        "{}",
        stderr(&output)
    );
    let json = node.import(OHIO, "vri-json", &examples.join("ohio_registration.json"));
    assert!(json.status.success(), "{}", stderr(&json));
    assert!(stdout(&json).contains(" added."), "{}", stdout(&json));
    assert_eq!(node.counts("voter.import")[0], 5);

    // A change of address of a voter on the roll (matched by name and date of birth) is a new
    // revision; an unchanged request changes nothing.
    let jenny = number_of(&stdout(&output), "ohio_registration_in_state_mailing.xml");
    let changes = node.path("changes");
    fs::create_dir(&changes).unwrap();
    let moved = fs::read_to_string(examples.join("ohio_registration_in_state_mailing.xml"))
        .unwrap()
        .replace("3273 MANCHESTER RD", "12 NEW STREET");
    fs::write(changes.join("moved.xml"), moved).unwrap();
    fs::copy(examples.join("ohio_registration_no_mailing2.xml"), changes.join("same.xml")).unwrap();
    let before = node.counts("voter.import");
    let output = node.import(OHIO, "vri-xml", &changes);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!("moved.xml: registration of voter {jenny} updated")),
        "{}",
        stdout(&output)
    );
    assert!(stdout(&output).contains("same.xml: registration of voter") && stdout(&output).contains("unchanged."));
    let after = node.counts("voter.import");
    assert_eq!((after[0], after[1]), (before[0], before[1] + 1), "one new revision, no new voter");

    // The export carries the confidential fields, is a voter.read entry, validates against the
    // XSD, and re-imports as a no-op in both encodings.
    let reads = node.counts("voter.read")[3];
    let xml = node.path("jenny.xml");
    let exported = node.export(OHIO, &jenny, "xml", &xml);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let json = node.path("jenny.json");
    let exported = node.export(OHIO, &jenny, "json", &json);
    assert!(exported.status.success(), "{}", stderr(&exported));
    assert_eq!(node.counts("voter.read")[3], reads + 2, "each export is a voter.read entry");
    let document = fs::read_to_string(&xml).unwrap();
    for expected in ["1985-11-05", "12 NEW STREET", "AB321345", "JDAVIS@GMAIL.COM", jenny.as_str(), "precinct"] {
        assert!(document.contains(expected), "{expected} missing from {document}");
    }
    assert!(!document.contains("<Signature"), "never a signature");
    xmllint(node.directory.path(), &xml);
    assert_eq!(json_schema_errors(&json), Vec::<String>::new());
    let before = node.counts("voter.import");
    for (format, file) in [("vri-xml", &xml), ("vri-json", &json)] {
        let output = node.import(OHIO, format, file);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).contains(&format!("registration of voter {jenny} unchanged.")), "{}", stdout(&output));
    }
    assert_eq!(node.counts("voter.import"), before, "a round trip writes nothing");

    // Bad documents: each refused with the element named; nothing written.
    let bad = node.path("bad");
    fs::create_dir(&bad).unwrap();
    let original = fs::read_to_string(examples.join("ohio_registration_no_mailing2.xml")).unwrap();
    let newcomer = original.replace("<FirstName>JASON</FirstName>", "<FirstName>NEWCOMER</FirstName>");
    let cases = [
        ("no-birth-date.xml", strip_element(&newcomer, "DateOfBirth"), "Subject/DateOfBirth"),
        ("unknown-county.xml", newcomer.replace(">SUMMIT <", ">NOWHERE<"), "PlaceName[County]"),
        ("other-state.xml", newcomer.replace("<addr_type:StateName>OH<", "<addr_type:StateName>VA<"), "StateName"),
        (
            "unknown-number.xml",
            newcomer.replace(
                "<VoterId>",
                "<VoterId><StringValue>NOSUCH1</StringValue><Type>state-voter-registration-id</Type></VoterId><VoterId>",
            ),
            "state-voter-registration-id",
        ),
        (
            "unknown-precinct.xml",
            newcomer.replace(
                "<GeneratedDate>",
                "<AdditionalInfo><Name>precinct</Name><StringValue>nope</StringValue></AdditionalInfo><GeneratedDate>",
            ),
            "AdditionalInfo[precinct]",
        ),
        ("truncated.xml", newcomer[..newcomer.len() / 2].to_owned(), "refused"),
    ];
    for (name, document, _) in &cases {
        assert_ne!(document, &newcomer, "{name} changed nothing");
        fs::write(bad.join(name), document).unwrap();
    }
    let before = node.counts("voter.import");
    let output = node.import(OHIO, "vri-xml", &bad);
    assert_eq!(output.status.code(), Some(1));
    for (name, _, element) in &cases {
        let line = stderr(&output).lines().find(|line| line.contains(name)).map(str::to_owned).unwrap_or_default();
        assert!(line.contains("refused, nothing written") && line.contains(element), "{name}: {}", stderr(&output));
        assert!(!line.contains("NEWCOMER") && !line.contains("1959"), "a value in {line}");
    }
    assert_eq!(node.counts("voter.import"), before, "refusals write nothing");

    // Without voters.read, or without a reason, no export.
    let observer_password = node.path("observer-password");
    fs::write(&observer_password, CLERK_PASSWORD).unwrap();
    node.operator(&[
        "user",
        "add",
        "--username",
        "watcher",
        "--role",
        "observer",
        "--jurisdiction",
        OHIO,
        "--password-file",
        text(&observer_password),
    ]);
    let denied_file = node.path("denied.xml");
    let denied = run(&[
        "voters",
        "export-vri",
        "--jurisdiction",
        OHIO,
        "--registration-number",
        &jenny,
        "--reason",
        "curious",
        "--output",
        text(&denied_file),
        "--data",
        text(&node.data),
        "--user",
        "watcher",
        "--password-file",
        text(&observer_password),
        "--passphrase-file",
        text(&node.passphrase),
    ]);
    assert!(!denied.status.success());
    assert!(stderr(&denied).contains("do not allow"), "{}", stderr(&denied));
    assert!(fs::metadata(&denied_file).map(|metadata| metadata.len()).unwrap_or(0) == 0, "nothing exported");
    let no_reason = run(&[
        "voters",
        "export-vri",
        "--jurisdiction",
        OHIO,
        "--registration-number",
        &jenny,
        "--data",
        text(&node.data),
        "--user",
        "admin",
    ]);
    assert!(!no_reason.status.success());
    assert!(stderr(&no_reason).contains("--reason"), "{}", stderr(&no_reason));
    assert!(!stdout(&no_reason).contains("1985"), "no value printed");
    assert_eq!(node.counts("voter.read")[3], reads + 2, "refused exports read nothing");
}

fn strip_element(document: &str, element: &str) -> String {
    let open = format!("<{element}>");
    let close = format!("</{element}>");
    match (document.find(&open), document.find(&close)) {
        (Some(start), Some(end)) => format!("{}{}", &document[..start], &document[end + close.len()..]),
        _ => document.to_owned(),
    }
}

fn county_of(request: &VoterRecordsRequest) -> Option<String> {
    let place = match &request.subject.residence_address {
        Address::NumberedThoroughfare(address) => address.place.as_ref(),
        Address::DeliveryPoint { place, .. } => Some(place),
        Address::PostalDeliveryRoute(address) => Some(&address.place),
        Address::Line(_) => None,
    }?;
    match place {
        Place::Parts { names, .. } => names
            .iter()
            .find(|name| name.kind == Some(PlaceNameType::County))
            .map(|name| name.name.trim().to_owned())
            .filter(|name| !name.is_empty()),
        Place::Lines(_) => None,
    }
}

fn slug(name: &str) -> String {
    name.to_ascii_lowercase().replace(' ', "_")
}

#[test]
fn virginia_absentee_requests_record_ballots_for_the_elections_on_file() {
    let examples: Vec<PathBuf> = {
        let mut files: Vec<PathBuf> = fs::read_dir(nist("1500-102/VA-examples"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "xml"))
            .collect();
        files.sort();
        files
    };
    assert!(examples.len() >= 20, "NIST's Virginia examples are missing");
    let requests: Vec<VoterRecordsRequest> = examples.iter().map(|path| read_example(path)).collect();
    let mut names: BTreeSet<String> = requests.iter().filter_map(county_of).collect();
    names.insert("Orange".into());
    let counties: Vec<(String, String)> = names.iter().map(|name| (slug(name), name.clone())).collect();
    let borrowed: Vec<(&str, &str)> = counties.iter().map(|(id, name)| (id.as_str(), name.as_str())).collect();
    let mut node = Node::new(VIRGINIA, "Virginia", &borrowed, 1);

    // The voters first: each request turned into a registration (a birth date added where the
    // request has none; a precinct where its address names no county).
    let registrations = node.path("registrations");
    fs::create_dir(&registrations).unwrap();
    for (path, request) in examples.iter().zip(&requests) {
        let mut registration = request.clone();
        registration.request_types = vec![RequestType::Registration];
        registration.ballot_request = None;
        if registration.subject.date_of_birth.is_none() {
            registration.subject.date_of_birth =
                Some(time::Date::from_calendar_date(1970, time::Month::January, 1).unwrap());
        }
        if county_of(request).is_none() {
            registration.additional_info.push(AdditionalInfo {
                name: "precinct".into(),
                value: Some(format!("{VIRGINIA}/county:orange/precinct:p1")),
                file: None,
            });
        }
        write_request(&registration, &registrations.join(path.file_name().unwrap()));
    }
    let output = node.import(VIRGINIA, "vri-xml", &registrations);
    assert!(output.status.success(), "{}{}", stdout(&output), stderr(&output));
    let voters = registered(&stdout(&output));
    assert_eq!(voters.len(), examples.len(), "{}", stdout(&output));

    // With no election on file, every NIST absentee request is recognized for its voter and
    // nothing is written (exit status 3: nothing refused, something not recorded).
    let before = node.counts("voter.import");
    let output = node.import(VIRGINIA, "vri-xml", &nist("1500-102/VA-examples"));
    assert_eq!(output.status.code(), Some(3), "{}{}", stdout(&output), stderr(&output));
    for (file, number) in &voters {
        let line = line_of(&output, file);
        assert!(
            line.contains(&format!("absentee request for voter {number} recognized"))
                && line.contains("no election on file is covered by it yet: nothing recorded"),
            "{file}: {}",
            stdout(&output)
        );
    }
    assert!(line_of(&output, "va_absentee_annual.xml").contains("from 2018-01-01 to 2018-12-31"));
    assert_eq!(node.counts("voter.import"), before, "absentee requests wrote nothing");
    assert_eq!(node.counts("ballot.record")[3], 0);

    // Once the June 12, 2018 primary is on file, the requests for it (and the annual request,
    // which covers all of 2018) each record a requested absentee ballot; the rest still cover no
    // election on file.
    node.add_election("2018-06-12-primary", time::Month::June, 12);
    let output = node.import(VIRGINIA, "vri-xml", &nist("1500-102/VA-examples"));
    assert_eq!(output.status.code(), Some(3), "{}{}", stdout(&output), stderr(&output));
    let printed = stdout(&output);
    let requested: Vec<&str> = printed.lines().filter(|line| line.contains("absentee ballot requested for")).collect();
    let covering: Vec<&String> = voters
        .iter()
        .filter(|(file, _)| {
            let request = &requests
                [examples.iter().position(|path| path.file_name().unwrap().to_str() == Some(file.as_str())).unwrap()];
            covers_june_primary(request)
        })
        .map(|(file, _)| file)
        .collect();
    assert!(covering.len() >= 10, "NIST's examples request the June primary's ballots: {covering:?}");
    assert_eq!(requested.len(), covering.len(), "{}", stdout(&output));
    for file in &covering {
        assert!(line_of(&output, file).contains("absentee ballot requested for"), "{file}: {}", stdout(&output));
    }
    assert_eq!(node.counts("ballot.record")[3], covering.len() as i64);

    // Importing the same requests again changes nothing.
    let output = node.import(VIRGINIA, "vri-xml", &nist("1500-102/VA-examples"));
    assert_eq!(output.status.code(), Some(3), "{}{}", stdout(&output), stderr(&output));
    assert_eq!(stdout(&output).matches("already has an absentee ballot").count(), covering.len());
    assert_eq!(node.counts("ballot.record")[3], covering.len() as i64);
    assert_eq!(node.counts("voter.import"), before);
}

/// The line of a command's output about one file.
fn line_of(output: &std::process::Output, file: &str) -> String {
    stdout(output).lines().find(|line| line.contains(file)).map(str::to_owned).unwrap_or_default()
}

/// Whether a request asks for the ballot of the election of June 12, 2018 (the only one on
/// file), read from the document independently of the import's own logic: one naming that
/// election, one for a span of days including it, a permanent one, or one naming no election
/// (the next after it was made).
fn covers_june_primary(request: &VoterRecordsRequest) -> bool {
    let day = time::Date::from_calendar_date(2018, time::Month::June, 12).unwrap();
    match request.ballot_request.as_ref().map(|ballot| &ballot.period) {
        Some(BallotPeriod::ElectionBased(election)) => election.start_date == day,
        Some(BallotPeriod::Temporal { start_date, end_date }) => *start_date <= day && day <= *end_date,
        Some(BallotPeriod::Permanent) | None => true,
    }
}

#[test]
fn a_voter_from_a_north_carolina_voter_file_exports_and_reimports_unchanged() {
    const NORTH_CAROLINA: &str = "ocd-division/country:us/state:nc";
    let mut node = Node::new(NORTH_CAROLINA, "North Carolina", &[], 1);
    let file = node.path("voters.tsv");
    let generated = run(&["voters", "generate", "--out", text(&file), "--rows", "5", "--confidential"]);
    assert!(generated.status.success(), "{}", stderr(&generated));
    let mut import: Vec<String> =
        ["voters", "import", "--jurisdiction", NORTH_CAROLINA, "--format", "ncvoter", "--add-places", text(&file)]
            .map(str::to_owned)
            .to_vec();
    import.extend(node.signed());
    let output = run(&import.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(output.status.success(), "{}", stderr(&output));

    let json = node.path("voter.json");
    let exported = node.export(NORTH_CAROLINA, "GN0000000001", "json", &json);
    assert!(exported.status.success(), "{}", stderr(&exported));
    assert!(fs::read_to_string(&json).unwrap().contains("1975-10-09"));
    let before = node.counts("voter.import");
    let output = node.import(NORTH_CAROLINA, "vri-json", &json);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("registration of voter GN0000000001 unchanged."), "{}", stdout(&output));
    assert_eq!(node.counts("voter.import"), before, "the voter file's row is kept as it was");
}
