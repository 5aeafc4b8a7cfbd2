//! The audit ledger's NIST SP 1500-101 export, checked against NIST's own XSD (with xmllint)
//! and JSON schema (with the jsonschema crate), read from shared/data beside the repository,
//! then parsed back: every event must give back exactly the ledger entry it came from.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        LazyLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use canvass_core::{
    audit::{Action, Actor, AuditEntry, Outcome},
    credential::Username,
    id::JurisdictionId,
};
use canvass_formats::{
    DeviceType, EventLogFormat, EventLogSource, EventLogWriter, EventType, FormatsError, event_log::XML_NAMESPACE,
    nist_event_documentation_json, nist_event_documentation_xml, nist_event_log_json, nist_event_log_xml,
    write_nist_event_log_json,
};
use proptest::prelude::*;
use serde_json::Value;
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339, macros::datetime};

/// Tests run in the crate's directory; the repository's parent holds shared/.
const NIST: &str = "../../../shared/data/nist";

fn nist_file(path: &str) -> PathBuf {
    let path = Path::new(NIST).join(path);
    assert!(
        path.is_file(),
        "{} is missing: these tests read NIST's files from shared/data beside the repository",
        path.display()
    );
    path
}

/// Validates with xmllint against the 1500-101 XSD. A missing xmllint fails the test: the
/// package is libxml2-utils, which scripts/test installs.
fn xmllint(xml: &str) -> Result<(), String> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nist_1500_101");
    std::fs::create_dir_all(&directory).unwrap();
    let file = directory.join(format!("{}-{}.xml", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&file, xml).unwrap();
    let result = xmllint_file(&file);
    if result.is_ok() {
        std::fs::remove_file(&file).unwrap();
    }
    result
}

fn xmllint_file(file: &Path) -> Result<(), String> {
    let output = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(nist_file("1500-101/NIST_V1_election_event_logging.xsd"))
        .arg(file)
        .output()
        .unwrap_or_else(|error| panic!("cannot run xmllint ({error}): install libxml2-utils, as scripts/test does"));
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{}: {}", file.display(), String::from_utf8_lossy(&output.stderr)))
    }
}

/// NIST publishes the JSON schema twice, as draft-04 beside the XSD and as draft-07 in the CDF
/// test method; an export must pass both. Formats (date-time, date) are checked too.
static JSON_SCHEMAS: LazyLock<Vec<(&'static str, jsonschema::Validator)>> = LazyLock::new(|| {
    [
        "1500-101/NIST_V1_election_event_logging.json",
        "cdf-test-method/catalog_documents/NIST_V1_election_event_logging.json",
    ]
    .into_iter()
    .map(|path| {
        let schema: Value = serde_json::from_slice(&std::fs::read(nist_file(path)).unwrap()).unwrap();
        let validator = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
        (path, validator)
    })
    .collect()
});

fn json_schema_errors(json: &str) -> Vec<String> {
    let value: Value = serde_json::from_str(json).unwrap();
    JSON_SCHEMAS
        .iter()
        .flat_map(|(path, validator)| {
            validator.iter_errors(&value).map(move |error| format!("{path}: {error} at {}", error.instance_path()))
        })
        .collect()
}

/// A document read back into name → text maps, the same shape from either format.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    log: BTreeMap<String, String>,
    device: BTreeMap<String, String>,
    events: Vec<BTreeMap<String, String>>,
}

fn parse_xml(xml: &str) -> Parsed {
    let document = roxmltree::Document::parse(xml).unwrap();
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "ElectionEventLog");
    assert_eq!(root.tag_name().namespace(), Some(XML_NAMESPACE));
    let texts = |node: roxmltree::Node, skip: &str| -> BTreeMap<String, String> {
        node.children()
            .filter(|child| child.is_element() && child.tag_name().name() != skip)
            .map(|child| (child.tag_name().name().to_owned(), child.text().unwrap_or_default().to_owned()))
            .collect()
    };
    let devices: Vec<_> = root.children().filter(|child| child.has_tag_name("Device")).collect();
    assert_eq!(devices.len(), 1, "one Device: the node");
    Parsed {
        log: texts(root, "Device"),
        device: texts(devices[0], "Event"),
        events: devices[0]
            .children()
            .filter(|child| child.has_tag_name("Event"))
            .map(|event| texts(event, ""))
            .collect(),
    }
}

fn parse_json(json: &str) -> Parsed {
    let root: Value = serde_json::from_str(json).unwrap();
    let texts = |object: &Value, kind: &str, skip: &str| -> BTreeMap<String, String> {
        let object = object.as_object().unwrap();
        assert_eq!(object["@type"], kind);
        object
            .iter()
            .filter(|(name, _)| *name != "@type" && *name != skip)
            .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
            .collect()
    };
    let devices = root["Device"].as_array().unwrap();
    assert_eq!(devices.len(), 1, "one Device: the node");
    Parsed {
        log: texts(&root, "EventLogging.ElectionEventLog", "Device"),
        device: texts(&devices[0], "EventLogging.Device", "Event"),
        events: devices[0]["Event"]
            .as_array()
            .unwrap()
            .iter()
            .map(|event| texts(event, "EventLogging.Event", ""))
            .collect(),
    }
}

/// Exports in both formats, validates both against NIST's schemas, checks both say the same,
/// and returns what they say.
fn export(source: &EventLogSource, entries: &[(u64, AuditEntry)]) -> Parsed {
    let xml = nist_event_log_xml(source, entries).unwrap();
    let json = nist_event_log_json(source, entries).unwrap();
    xmllint(&xml).unwrap();
    let errors = json_schema_errors(&json);
    assert!(errors.is_empty(), "{errors:#?}\n{json}");
    let from_xml = parse_xml(&xml);
    assert_eq!(from_xml, parse_json(&json), "the XML and the JSON differ");
    from_xml
}

/// The ledger entry an event stands for, rebuilt from the event alone.
fn entry_from_event(event: &BTreeMap<String, String>) -> AuditEntry {
    let Value::Object(mut leaf) = serde_json::from_str(&event["Details"]).unwrap() else {
        panic!("Details is not an object")
    };
    leaf.insert("time".into(), event["TimeStamp"].clone().into());
    leaf.insert("actor".into(), event["UserId"].clone().into());
    leaf.insert("action".into(), event["Id"].clone().into());
    serde_json::from_value(Value::Object(leaf)).unwrap()
}

/// Every event gives back its entry, and the fields 1500-101 reads directly are right.
fn assert_events_match(parsed: &Parsed, entries: &[(u64, AuditEntry)]) {
    assert_eq!(parsed.events.len(), entries.len());
    for (event, (index, entry)) in parsed.events.iter().zip(entries) {
        assert_eq!(event["Sequence"], index.to_string());
        assert_eq!(OffsetDateTime::parse(&event["TimeStamp"], &Rfc3339).unwrap(), entry.time);
        assert_eq!(event["Id"], entry.action.as_str());
        assert_eq!(event["Description"], entry.action.description());
        assert_eq!(event["Type"], EventType::of(entry.action).as_str());
        assert_eq!(event["UserId"], entry.actor.to_string());
        let disposition = if entry.outcome == Outcome::Allowed { "success" } else { "failure" };
        assert_eq!(event["Disposition"], disposition);
        assert_eq!(&entry_from_event(event), entry);
    }
}

fn source() -> EventLogSource<'static> {
    EventLogSource::canvass_node("canvass/node-1a2b3c4d", datetime!(2026-11-04 06:30:00.25 UTC))
}

fn user(name: &str) -> Actor {
    Actor::User(Username::parse(name).unwrap())
}

fn entry(time: OffsetDateTime, actor: Actor, action: Action, outcome: Outcome) -> AuditEntry {
    AuditEntry { time, ..AuditEntry::new(actor, action, outcome) }
}

#[test]
fn the_validators_accept_nist_examples_and_refuse_broken_ones() {
    let examples = "cdf-test-method/test_data/synthetic/gen-01/eel_v1";
    for name in ["eel-gen-01", "eel-documentation-gen-01"] {
        xmllint_file(&nist_file(&format!("{examples}/{name}.xml"))).unwrap();
        let json = std::fs::read_to_string(nist_file(&format!("{examples}/{name}.json"))).unwrap();
        assert_eq!(json_schema_errors(&json), Vec::<String>::new(), "{name}.json");
    }

    let xml = std::fs::read_to_string(nist_file(&format!("{examples}/eel-gen-01.xml"))).unwrap();
    let json = std::fs::read_to_string(nist_file(&format!("{examples}/eel-gen-01.json"))).unwrap();
    let xml_breakages = [
        ("<Disposition>success</Disposition>", "<Disposition>denied</Disposition>"),
        ("<Sequence>1</Sequence>", ""),
        ("<TimeStamp>2000-11-07T07:00:00-05:00</TimeStamp>", "<TimeStamp>yesterday</TimeStamp>"),
        ("<Type>scan-single</Type>", "<Type>scanner</Type>"),
        ("<Id>VC-SM-E</Id>\n\t\t\t<Sequence>1</Sequence>", "<Sequence>1</Sequence>\n\t\t\t<Id>VC-SM-E</Id>"),
    ];
    for (good, bad) in xml_breakages {
        assert!(xml.contains(good), "{good}");
        assert!(xmllint(&xml.replacen(good, bad, 1)).is_err(), "xmllint accepted {bad:?}");
    }
    let json_breakages = [
        (r#""Disposition" : "success""#, r#""Disposition" : "denied""#),
        (r#""TimeStamp" : "2000-11-07T07:00:00-05:00""#, r#""TimeStamp" : "yesterday""#),
        (r#""@type" : "EventLogging.Event""#, r#""@type" : "ElectionEventLogging.Event""#),
        (r#""Sequence" : "1","#, ""),
        (r#""Type" : "scan-single""#, r#""Type" : "scanner""#),
    ];
    for (good, bad) in json_breakages {
        assert!(json.contains(good), "{good}");
        assert!(!json_schema_errors(&json.replacen(good, bad, 1)).is_empty(), "the JSON schema accepted {bad:?}");
    }
}

#[test]
fn an_empty_log_is_a_valid_document() {
    let parsed = export(&source(), &[]);
    assert!(parsed.events.is_empty());
    assert_eq!(parsed.log["GeneratedTime"], "2026-11-04T06:30:00.25Z");
    assert_eq!(parsed.device["Id"], "canvass/node-1a2b3c4d");
    assert_eq!(parsed.device["Type"], "ems");
    assert_eq!(parsed.device["Manufacturer"], "Canvass");
    assert_eq!(parsed.device["Version"], env!("CARGO_PKG_VERSION"));
    assert!(!parsed.device.contains_key("OtherType"));
}

#[test]
fn entries_become_events() {
    let zz = JurisdictionId::parse("ocd-division/country:us/state:zz").unwrap();
    let entries = vec![
        (0, entry(datetime!(2026-11-03 12:00:00 UTC), Actor::System, Action::LedgerStart, Outcome::Allowed)),
        (1, entry(datetime!(2026-11-03 12:00:00.001 UTC), Actor::Operator, Action::NodeStart, Outcome::Allowed)),
        (
            2,
            entry(datetime!(2026-11-03 12:05:00.5 UTC), Actor::Anonymous, Action::AdministratorLogin, Outcome::Denied)
                .with_reason("wrong_secret")
                .unwrap()
                .with_request_id("0192-abcd")
                .unwrap(),
        ),
        (
            7,
            entry(datetime!(2026-11-03 13:00:00 +05:30), user("alice"), Action::KeysUnseal, Outcome::Failed)
                .with_jurisdiction(&zz)
                .with_target("key_ring:ocd-division/country:us/state:zz")
                .unwrap()
                .with_reason("store_unavailable")
                .unwrap(),
        ),
        (
            8,
            entry(
                datetime!(2026-11-03 13:01:00 UTC),
                Actor::Token("ci-export".into()),
                Action::VoterRead,
                Outcome::Allowed,
            )
            .with_jurisdiction(&zz)
            .with_target("voter:000123")
            .unwrap()
            .with_target("voter:000124")
            .unwrap()
            .with_justification("Provisional ballot review, case 17.")
            .unwrap(),
        ),
    ];
    let parsed = export(&source(), &entries);
    assert_events_match(&parsed, &entries);

    let expected = [
        ("0", "ledger.start", "ledger", "success", "system", "2026-11-03T12:00:00Z", r#"{"outcome":"allowed"}"#),
        ("1", "node.start", "system", "success", "operator", "2026-11-03T12:00:00.001Z", r#"{"outcome":"allowed"}"#),
        (
            "2",
            "auth.login",
            "authentication",
            "failure",
            "anonymous",
            "2026-11-03T12:05:00.5Z",
            r#"{"outcome":"denied","reason":"wrong_secret","request_id":"0192-abcd"}"#,
        ),
        (
            "7",
            "keys.unseal",
            "cryptographic",
            "failure",
            "user:alice",
            "2026-11-03T07:30:00Z",
            r#"{"outcome":"failed","jurisdiction":"ocd-division/country:us/state:zz","targets":["key_ring:ocd-division/country:us/state:zz"],"reason":"store_unavailable"}"#,
        ),
        (
            "8",
            "voter.read",
            "voter-records",
            "success",
            "token:ci-export",
            "2026-11-03T13:01:00Z",
            r#"{"outcome":"allowed","jurisdiction":"ocd-division/country:us/state:zz","targets":["voter:000123","voter:000124"],"justification":"Provisional ballot review, case 17."}"#,
        ),
    ];
    for (event, (sequence, id, event_type, disposition, user_id, time_stamp, details)) in
        parsed.events.iter().zip(expected)
    {
        let actual = [
            &event["Sequence"],
            &event["Id"],
            &event["Type"],
            &event["Disposition"],
            &event["UserId"],
            &event["TimeStamp"],
            &event["Details"],
        ];
        assert_eq!(actual, [sequence, id, event_type, disposition, user_id, time_stamp, details]);
    }
}

#[test]
fn hostile_text_is_escaped_and_comes_back_exactly() {
    let justification = "</Details><Disposition>success</Disposition> <![CDATA[ ]]> <!-- --> &amp; & 'single' \"double\" \
        \r\n\ttabbed é 日本語 🗳️ \u{202E}reversed\u{202C} e\u{301} \u{0}\u{1}\u{1b}[31m \u{7f}\u{85}\u{2028} \u{FFFE}\u{FFFF} \u{10FFFF} end";
    let hostile = entry(datetime!(2026-11-03 12:00:00 UTC), user("o.brien-2"), Action::VoterRead, Outcome::Denied)
        .with_target("precinct:<a&b>\"quoted\"'")
        .unwrap()
        .with_target("voter:]]>\u{FFFF}\u{FFFE}")
        .unwrap()
        .with_target("précinct:日本")
        .unwrap()
        .with_justification(justification)
        .unwrap();
    let details = "Entries 0-1 of <ledger> & \"friends\"\r\nsecond line";
    let source = EventLogSource { details: Some(details), election_id: Some("gen-2026 <&>"), ..source() };
    let entries = vec![(0, hostile.clone()), (1, hostile)];

    let xml = nist_event_log_xml(&source, &entries).unwrap();
    assert!(!xml.contains("<Disposition>success"), "markup from an entry reached the XML:\n{xml}");
    assert!(!xml.contains("<![CDATA["));
    assert!(!xml.contains("]]>"), "`]]>` may not appear in XML text");
    let parsed = export(&source, &entries);
    assert_events_match(&parsed, &entries);
    assert_eq!(parsed.log["Details"], details);
    assert_eq!(parsed.log["ElectionId"], "gen-2026 <&>");
}

#[test]
fn denied_and_failed_are_failures_and_the_outcome_stays_in_the_details() {
    for (outcome, disposition, code) in [
        (Outcome::Allowed, "success", "allowed"),
        (Outcome::Denied, "failure", "denied"),
        (Outcome::Failed, "failure", "failed"),
    ] {
        let entries = [(3, entry(datetime!(2026-11-03 12:00:00 UTC), user("alice"), Action::KeysShred, outcome))];
        let parsed = export(&source(), &entries);
        assert_eq!(parsed.events[0]["Disposition"], disposition);
        assert_eq!(parsed.events[0]["Details"], format!(r#"{{"outcome":"{code}"}}"#));
    }
}

#[test]
fn sequences_must_increase() {
    let at = datetime!(2026-11-03 12:00:00 UTC);
    let mut writer = EventLogWriter::start(EventLogFormat::Xml, &source(), Vec::new()).unwrap();
    writer.event(5, &entry(at, Actor::System, Action::NodeStart, Outcome::Allowed)).unwrap();
    for index in [5, 4, 0] {
        let refused = writer.event(index, &entry(at, Actor::System, Action::NodeStart, Outcome::Allowed));
        assert!(matches!(refused, Err(FormatsError::OutOfOrder { previous: 5, index: got }) if got == index));
    }
    writer.event(u64::MAX, &entry(at, Actor::System, Action::NodeStart, Outcome::Allowed)).unwrap();
    assert_eq!(writer.events(), 2);
    let xml = String::from_utf8(writer.finish().unwrap()).unwrap();
    xmllint(&xml).unwrap();
    let sequences: Vec<_> = parse_xml(&xml).events.iter().map(|event| event["Sequence"].clone()).collect();
    assert_eq!(sequences, ["5", u64::MAX.to_string().as_str()]);
}

#[test]
fn times_are_written_in_utc() {
    // xsd:dateTime allows offsets up to ±14:00; a time value may carry more.
    let entries = [
        (0, entry(datetime!(2026-11-03 23:59:59.999 +14:30), Actor::System, Action::NodeStart, Outcome::Allowed)),
        (1, entry(datetime!(0001-01-01 00:00:00 UTC), Actor::System, Action::NodeStart, Outcome::Allowed)),
        (2, entry(datetime!(2026-11-03 12:00:00.100 -09:30), Actor::System, Action::NodeStart, Outcome::Allowed)),
    ];
    let source = EventLogSource { generated: datetime!(2026-11-04 20:00:00 -05:00), ..source() };
    let parsed = export(&source, &entries);
    assert_events_match(&parsed, &entries);
    let times: Vec<_> = parsed.events.iter().map(|event| event["TimeStamp"].as_str()).collect();
    assert_eq!(times, ["2026-11-03T09:29:59.999Z", "0001-01-01T00:00:00Z", "2026-11-03T21:30:00.1Z"]);
    assert_eq!(parsed.log["GeneratedTime"], "2026-11-05T01:00:00Z");
    assert!(nist_event_documentation_json(&source).unwrap().contains(r#""GeneratedDate": "2026-11-05""#));

    let too_late = entry(datetime!(9999-12-31 23:00:00 -05:00), Actor::System, Action::NodeStart, Outcome::Allowed);
    let year_zero = entry(datetime!(0000-12-31 23:59:59 UTC), Actor::System, Action::NodeStart, Outcome::Allowed);
    let too_early = entry(datetime!(0001-01-01 00:30:00 +01:00), Actor::System, Action::NodeStart, Outcome::Allowed);
    for entry in [too_late, year_zero, too_early] {
        for format in [EventLogFormat::Xml, EventLogFormat::Json] {
            let mut writer = EventLogWriter::start(format, &source, Vec::new()).unwrap();
            assert!(matches!(writer.event(0, &entry), Err(FormatsError::TimeOutOfRange)), "{entry:?}");
        }
    }
}

#[test]
fn source_values_that_cannot_be_written_are_refused() {
    let refused = [
        EventLogSource { device_id: "", ..source() },
        EventLogSource { device_id: "node\u{0}1", ..source() },
        EventLogSource { details: Some("bell \u{7}"), ..source() },
        EventLogSource { election_id: Some("\u{FFFF}"), ..source() },
        EventLogSource { model: "  ", ..source() },
        EventLogSource { device_type: DeviceType::Other(String::new()), ..source() },
    ];
    for source in refused {
        for format in [EventLogFormat::Xml, EventLogFormat::Json] {
            let result = EventLogWriter::start(format, &source, Vec::new());
            assert!(matches!(result, Err(FormatsError::InvalidText { .. })), "{source:?}");
        }
        assert!(nist_event_documentation_xml(&source).is_err());
    }
}

#[test]
fn an_other_device_type_names_itself_in_other_type() {
    let source = EventLogSource {
        device_type: DeviceType::Other("election data hosting".into()),
        version: None,
        election_id: Some("gen-2026"),
        ..source()
    };
    let parsed = export(&source, &[]);
    assert_eq!(parsed.device["Type"], "other");
    assert_eq!(parsed.device["OtherType"], "election data hosting");
    assert!(!parsed.device.contains_key("Version"));
    assert_eq!(parsed.log["ElectionId"], "gen-2026");
}

#[test]
fn a_large_ledger_streams_through_a_writer() {
    const ENTRIES: u64 = 10_000;
    let start = datetime!(2026-11-03 00:00:00 UTC);
    let outcomes = [Outcome::Allowed, Outcome::Denied, Outcome::Failed];
    let entries = (0..ENTRIES).map(|index| {
        let action = Action::ALL[index as usize % Action::ALL.len()];
        let time = start + time::Duration::milliseconds(index as i64 * 1_500);
        let entry =
            entry(time, user("clerk"), action, outcomes[index as usize % 3]).with_target(format!("voter:{index:06}"));
        (index, entry.unwrap())
    });
    let mut writer =
        EventLogWriter::start(EventLogFormat::Xml, &source(), std::io::BufWriter::new(Vec::new())).unwrap();
    for (index, entry) in entries.clone() {
        writer.event(index, &entry).unwrap();
    }
    let xml = String::from_utf8(writer.finish().unwrap().into_inner().unwrap()).unwrap();
    let json = String::from_utf8(write_nist_event_log_json(&source(), entries.clone(), Vec::new()).unwrap()).unwrap();
    xmllint(&xml).unwrap();
    assert_eq!(json_schema_errors(&json), Vec::<String>::new());
    assert_eq!(json.lines().count() as u64, ENTRIES + 2, "one event per line");
    let parsed = parse_xml(&xml);
    assert_eq!(parsed, parse_json(&json));
    assert_events_match(&parsed, &entries.collect::<Vec<_>>());
}

#[test]
fn the_documentation_describes_every_event_id_and_type() {
    let source = source();
    let xml = nist_event_documentation_xml(&source).unwrap();
    let json = nist_event_documentation_json(&source).unwrap();
    xmllint(&xml).unwrap();
    assert_eq!(json_schema_errors(&json), Vec::<String>::new());

    let document = roxmltree::Document::parse(&xml).unwrap();
    let root = document.root_element();
    assert_eq!(root.tag_name().namespace(), Some(XML_NAMESPACE));
    let child_text = |node: roxmltree::Node, name: &str| {
        node.children().find(|child| child.has_tag_name(name)).and_then(|child| child.text()).unwrap().to_owned()
    };
    let ids: Vec<_> = root
        .children()
        .filter(|node| node.has_tag_name("EventIdDescription"))
        .map(|node| child_text(node, "Id"))
        .collect();
    let types: Vec<_> = root
        .children()
        .filter(|node| node.has_tag_name("EventTypeDescription"))
        .map(|node| child_text(node, "Type"))
        .collect();
    assert_eq!(ids, Action::ALL.iter().map(|action| action.as_str()).collect::<Vec<_>>());
    assert_eq!(types, EventType::ALL.iter().map(|event_type| event_type.as_str()).collect::<Vec<_>>());
    assert_eq!(child_text(root, "GeneratedDate"), "2026-11-04");
    assert_eq!(child_text(root, "DeviceId"), "canvass/node-1a2b3c4d");
    for action in Action::ALL {
        assert!(EventType::ALL.contains(&EventType::of(*action)), "{action}");
    }

    let value: Value = serde_json::from_str(&json).unwrap();
    let json_ids: Vec<_> =
        value["EventIdDescription"].as_array().unwrap().iter().map(|item| item["Id"].as_str().unwrap()).collect();
    assert_eq!(json_ids, ids);
    assert_eq!(value["GeneratedDate"], "2026-11-04");
}

#[test]
fn a_failing_output_is_reported() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    for format in [EventLogFormat::Xml, EventLogFormat::Json] {
        assert!(matches!(EventLogWriter::start(format, &source(), Broken), Err(FormatsError::Io(_))));
    }
}

fn arbitrary_entry() -> impl Strategy<Value = AuditEntry> {
    let actor = prop_oneof![
        Just(Actor::System),
        Just(Actor::Operator),
        Just(Actor::Anonymous),
        "[a-z][a-z0-9._-]{0,20}".prop_map(|name| user(&name)),
        "[a-z0-9_.-]{1,30}".prop_map(Actor::Token),
    ];
    // Years 1900-9000, at millisecond precision, in UTC or another whole-minute offset.
    let time =
        (-2_208_988_800_i64..221_845_392_000, 0_u16..1000, -23_i8..=23, prop::sample::select(vec![0_i8, 30, 45]))
            .prop_map(|(seconds, millis, hours, minutes)| {
                let utc = OffsetDateTime::from_unix_timestamp(seconds).unwrap().replace_millisecond(millis).unwrap();
                let minutes = if hours < 0 { -minutes } else { minutes };
                utc.to_offset(UtcOffset::from_hms(hours, minutes, 0).unwrap())
            });
    let jurisdiction =
        prop::option::of(prop::sample::select(vec!["zz", "wake", "ocd-division/country:us/state:nc/county:wake"]));
    (
        actor,
        prop::sample::select(Action::ALL.to_vec()),
        prop::sample::select(vec![Outcome::Allowed, Outcome::Denied, Outcome::Failed]),
        time,
        jurisdiction,
        prop::collection::vec(any::<String>(), 0..4),
        prop::option::of("[a-z0-9_]{1,20}"),
        prop::option::of("[A-Za-z0-9-]{1,40}"),
        prop::option::of(any::<String>()),
    )
        .prop_filter_map(
            "limits of an audit entry",
            |(actor, action, outcome, time, jurisdiction, targets, reason, request_id, justification)| {
                let mut entry = entry(time, actor, action, outcome);
                if let Some(jurisdiction) = jurisdiction {
                    entry = entry.with_jurisdiction(&JurisdictionId::parse(jurisdiction).unwrap());
                }
                for target in targets {
                    entry = entry.with_target(target).ok()?;
                }
                if let Some(reason) = reason {
                    entry = entry.with_reason(&reason).unwrap();
                }
                if let Some(request_id) = request_id {
                    entry = entry.with_request_id(&request_id).unwrap();
                }
                if let Some(justification) = justification {
                    entry = entry.with_justification(&justification).ok()?;
                }
                Some(entry)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any ledger, with any text an entry allows, exports valid documents that give back every
    /// entry exactly.
    #[test]
    fn any_ledger_exports_valid_documents_that_give_back_every_entry(
        start in 0_u64..u64::MAX / 2,
        gaps_and_entries in prop::collection::vec((1_u64..1_000, arbitrary_entry()), 0..12),
    ) {
        let mut index = start;
        let entries: Vec<(u64, AuditEntry)> = gaps_and_entries
            .into_iter()
            .map(|(gap, entry)| {
                index += gap;
                (index, entry)
            })
            .collect();
        let parsed = export(&source(), &entries);
        assert_events_match(&parsed, &entries);
    }
}
