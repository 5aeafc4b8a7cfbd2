//! NIST SP 1500-102 Voter Records Interchange against NIST's own examples and schemas (read
//! from shared/data beside the repository): every example is read, written back as XML and JSON
//! that pass the XSD (xmllint) and the JSON schema (jsonschema), and read again unchanged;
//! malformed documents are refused with the element named and no value quoted; Debug prints no
//! personal value.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::Cursor,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        LazyLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use canvass_formats::{
    FormatsError,
    vri::{
        Address, BallotPeriod, BallotReceiptMethod, ContactMethodType, File, HelperType, PhoneCapability, Place,
        RequestForm, RequestKind, Signature, SignatureSource, VoterClassificationType, VoterIdType,
        VoterRecordsRequest, read_json, read_xml, write_json, write_xml,
    },
};
use proptest::prelude::*;
use serde_json::Value;
use time::{Date, macros::date};

/// Tests run in the crate's directory; the repository's parent holds shared/.
const NIST: &str = "../../../shared/data/nist";

fn nist_file(path: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(NIST).join(path);
    assert!(
        path.exists(),
        "{} is missing: these tests read NIST's files from shared/data beside the repository",
        path.display()
    );
    path
}

/// Every example NIST publishes for 1500-102, XML and JSON: a new one is covered by being there.
fn examples() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = ["1500-102/NVRA-examples", "1500-102/VA-examples"]
        .iter()
        .flat_map(|directory| std::fs::read_dir(nist_file(directory)).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "xml" || extension == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 28, "NIST's 1500-102 examples are missing: {paths:?}");
    paths
}

fn is_json(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "json")
}

/// Responses (an office's answer) are examples too, but not requests: they are refused.
fn is_response(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap();
    if is_json(path) {
        let value: Value = serde_json::from_str(&text).unwrap();
        value["@type"] != "VRI.VoterRecordsRequest"
    } else {
        roxmltree::Document::parse(&text).unwrap().root_element().tag_name().name() == "VoterRecordsResponse"
    }
}

fn read_file(path: &Path) -> Result<VoterRecordsRequest, FormatsError> {
    let bytes = std::fs::read(path).unwrap();
    if is_json(path) { read_json(bytes.as_slice()) } else { read_xml(bytes.as_slice()) }
}

fn request_examples() -> Vec<(PathBuf, VoterRecordsRequest)> {
    examples()
        .into_iter()
        .filter(|path| !is_response(path))
        .map(|path| {
            let request = read_file(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            (path, request)
        })
        .collect()
}

fn example(name: &str) -> VoterRecordsRequest {
    let path = examples().into_iter().find(|path| path.file_name().unwrap() == name).unwrap();
    read_file(&path).unwrap()
}

fn example_text(name: &str) -> String {
    let path = examples().into_iter().find(|path| path.file_name().unwrap() == name).unwrap();
    std::fs::read_to_string(path).unwrap()
}

fn to_xml(request: &VoterRecordsRequest) -> String {
    let mut out = Vec::new();
    write_xml(request, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn to_json(request: &VoterRecordsRequest) -> String {
    let mut out = Vec::new();
    write_json(request, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn from_xml(xml: &str) -> Result<VoterRecordsRequest, FormatsError> {
    read_xml(Cursor::new(xml.as_bytes()))
}

fn from_json(json: &str) -> Result<VoterRecordsRequest, FormatsError> {
    read_json(json.as_bytes())
}

// ---------------------------------------------------------------------------------------------
// The validators

/// The scratch directory for xmllint: documents under test, and an XML catalog that resolves the
/// XSD's imports offline. The FGDC address schemas come from NIST's test-method material; the
/// GML types they import (only for address-reference-system geometry, which VRI never uses) and
/// the XML signature namespace (imported, never referenced) are empty stand-ins.
static XMLLINT_SETUP: LazyLock<PathBuf> = LazyLock::new(|| {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nist_1500_102");
    std::fs::create_dir_all(&directory).unwrap();
    let gml = directory.join("gml-stand-in.xsd");
    std::fs::write(
        &gml,
        r#"<?xml version="1.0"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.opengis.net/gml">
  <xsd:complexType name="MultiCurveType"/>
  <xsd:complexType name="MultiSurfaceType"/>
  <xsd:complexType name="PointType"/>
</xsd:schema>
"#,
    )
    .unwrap();
    let signature = directory.join("xmldsig-stand-in.xsd");
    std::fs::write(
        &signature,
        r#"<?xml version="1.0"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.w3.org/2000/09/xmldsig#"/>
"#,
    )
    .unwrap();
    let address = nist_file("cdf-test-method/catalog_documents/addr.xsd").canonicalize().unwrap();
    let catalog = directory.join("catalog.xml");
    std::fs::write(
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
    catalog
});

static XMLLINT_PRESENT: LazyLock<bool> = LazyLock::new(|| match Command::new("xmllint").arg("--version").output() {
    Ok(_) => true,
    Err(error) => {
        eprintln!(
            "xmllint is not installed ({error}): XML exports are NOT checked against the XSD; install libxml2-utils, as scripts/test does"
        );
        false
    }
});

/// Validates with xmllint against the 1500-102 XSD; `Ok` without checking (and a note on
/// stderr) only when xmllint is not installed.
fn xmllint(xml: &str) -> Result<(), String> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    if !*XMLLINT_PRESENT {
        return Ok(());
    }
    let directory = XMLLINT_SETUP.parent().unwrap();
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
        .env("XML_CATALOG_FILES", &*XMLLINT_SETUP)
        .args(["--noout", "--nonet", "--schema"])
        .arg(nist_file("1500-102/NIST_V0_voter_records_interchange.xsd"))
        .arg(file)
        .output()
        .unwrap();
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{}: {}", file.display(), String::from_utf8_lossy(&output.stderr)))
    }
}

/// NIST's JSON schema (draft-04), formats (date) checked too.
static JSON_SCHEMA: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let path = nist_file("1500-102/NIST_V0_voter_records_interchange.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    jsonschema::options().should_validate_formats(true).build(&schema).unwrap()
});

fn json_schema_errors(json: &str) -> Vec<String> {
    let value: Value = serde_json::from_str(json).unwrap();
    JSON_SCHEMA.iter_errors(&value).map(|error| format!("{error} at {}", error.instance_path())).collect()
}

/// Writes both encodings, checks both against NIST's schemas, reads both back and checks they
/// give back the request.
fn assert_round_trip(request: &VoterRecordsRequest, context: &str) {
    let xml = to_xml(request);
    if let Err(error) = xmllint(&xml) {
        panic!("{context}: the XML export is not valid: {error}\n{xml}");
    }
    let from_xml = from_xml(&xml).unwrap_or_else(|error| panic!("{context}: {error}\n{xml}"));
    assert!(from_xml == *request, "{context}: the XML export reads back differently\n{xml}");

    let json = to_json(request);
    let errors = json_schema_errors(&json);
    assert!(errors.is_empty(), "{context}: the JSON export is not valid: {errors:#?}\n{json}");
    let from_json = from_json(&json).unwrap_or_else(|error| panic!("{context}: {error}\n{json}"));
    assert!(from_json == *request, "{context}: the JSON export reads back differently\n{json}");
}

// ---------------------------------------------------------------------------------------------
// NIST's examples

#[test]
fn every_example_request_is_read_and_every_response_refused() {
    let mut requests = 0;
    for path in examples() {
        let result = read_file(&path);
        if is_response(&path) {
            let error = result.expect_err("a response is not a request").to_string();
            assert!(error.contains("VoterRecordsResponse"), "{}: {error}", path.display());
            continue;
        }
        let request = result.unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert!(!request.last_name().unwrap_or_default().is_empty(), "{}", path.display());
        assert!(!request.residence_address_lines().is_empty(), "{}", path.display());
        assert!(!request.request_kinds().is_empty(), "{}", path.display());
        requests += 1;
    }
    assert!(requests >= 27, "{requests} requests");
}

#[test]
fn every_example_request_round_trips_through_valid_xml_and_json() {
    for (path, request) in request_examples() {
        assert_round_trip(&request, &path.display().to_string());
    }
}

#[test]
fn the_validators_accept_nist_examples_and_refuse_broken_exports() {
    if !*XMLLINT_PRESENT {
        return;
    }
    // NIST's own XML examples pass, except two written in a namespace the XSD does not declare.
    for path in examples().iter().filter(|path| !is_json(path)) {
        let text = std::fs::read_to_string(path).unwrap();
        let document = roxmltree::Document::parse(&text).unwrap();
        if document.root_element().tag_name().namespace() == Some(canvass_formats::vri::XML_NAMESPACE) {
            xmllint_file(path).unwrap();
        }
    }

    let xml = to_xml(&example("ohio_registration_in_state_mailing.xml"));
    xmllint(&xml).unwrap();
    let xml_breakages = [
        ("<Type>registration</Type>", "<Type>registered</Type>"),
        ("<GeneratedDate>2017-02-10</GeneratedDate>", ""),
        ("<DateOfBirth>1985-11-05</DateOfBirth>", "<DateOfBirth>yesterday</DateOfBirth>"),
        ("<addr_type:ZipCode>44319</addr_type:ZipCode>", "<addr_type:ZipCode>4431</addr_type:ZipCode>"),
        ("<addr_type:StateName>OH</addr_type:StateName>", ""),
    ];
    for (good, bad) in xml_breakages {
        assert!(xml.contains(good), "{good}\n{xml}");
        assert!(xmllint(&xml.replacen(good, bad, 1)).is_err(), "xmllint accepted {bad:?}");
    }

    let json = to_json(&example("ohio_registration.json"));
    assert_eq!(json_schema_errors(&json), Vec::<String>::new());
    let json_breakages = [
        (r#""@type": "VRI.Voter""#, r#""@type": "VRI.Person""#),
        (r#""RequestMethod": "voter-via-internet""#, r#""RequestMethod": "by-pigeon""#),
        (r#""DateOfBirth": "1993-11-12""#, r#""DateOfBirth": 19931112"#),
        // NIST's own JSON example writes its date so, and its schema refuses it: the reader is
        // lenient, the writer pads.
        (r#""GeneratedDate": "2017-07-30""#, r#""GeneratedDate": "2017-7-30""#),
        (r#""@type": "addr.NumberedThoroughfareAddress_type""#, r#""@type": "addr.Thoroughfare""#),
    ];
    for (good, bad) in json_breakages {
        assert!(json.contains(good), "{good}\n{json}");
        assert!(!json_schema_errors(&json.replacen(good, bad, 1)).is_empty(), "the JSON schema accepted {bad:?}");
    }
}

#[test]
fn the_ohio_json_registration_gives_the_importer_what_it_needs() {
    let request = example("ohio_registration.json");
    assert_eq!(request.first_name(), Some("JANE"));
    assert_eq!(request.last_name(), Some("DOE"));
    assert_eq!(request.subject.name.middle, ["A"]);
    assert_eq!(request.subject.name.suffix, None, "an empty suffix is no suffix");
    assert_eq!(request.birth_date(), Some(date!(1993 - 11 - 12)), "the time NIST's example adds is dropped");
    assert_eq!(request.generated_date, date!(2017 - 07 - 30), "NIST's example leaves the month unpadded");
    assert_eq!(request.drivers_license(), Some("AA999888"));
    assert_eq!(request.ssn_last_four(), None, "the voter attests to having no SSN");
    assert_eq!(request.email(), Some("JDOE@TESTEMAIL.COM"));
    assert_eq!(request.phone(), Some("(330) 614-8004"));
    assert_eq!(request.request_kinds(), [RequestKind::Registration]);
    assert_eq!((request.form, request.other_form.as_deref()), (Some(RequestForm::Other), Some("4010")));
    assert_eq!(request.residence_address_lines(), ["3818 BELMONT AVE", "YOUNGSTOWN, OH 44505"]);
    let mailing = request.subject.mailing_address.as_ref().unwrap().lines();
    assert_eq!(mailing, ["2299 E STATE ST", "SALEM, OH 44460"]);
    assert_eq!(request.additional_info[0].name, "Language");
    assert_eq!(request.additional_info[0].value.as_deref(), Some("en_US"));
    assert_eq!(request.subject.classifications.len(), 7);
    assert_eq!(request.signature_image(), None);
}

#[test]
fn the_ohio_xml_registrations_read_their_general_addresses() {
    let request = example("ohio_registration_in_state_mailing.xml");
    assert_eq!((request.first_name(), request.last_name()), (Some("JENNY"), Some("DAVIS")));
    assert_eq!(request.birth_date(), Some(date!(1985 - 11 - 05)));
    assert_eq!((request.drivers_license(), request.ssn_last_four()), (Some("AB321345"), Some("2222")));
    assert_eq!(request.residence_address_lines(), ["3273 MANCHESTER RD", "AKRON, OH 44319"]);
    assert_eq!(request.subject.mailing_address, Some(Address::Line("500 W TUSCARAWAS AVE BARBERTON OH 44203".into())));
    let previous = request.subject.previous_residence_address.as_ref().unwrap().lines();
    assert_eq!(previous, ["2219 STORER AVE", "AKRON, OH 44320"]);

    let abroad = example("ohio_registration_out_of_county_mailing.xml");
    assert_eq!(abroad.drivers_license(), None, "attested: no licence");
    assert_eq!(abroad.subject.mailing_address.unwrap().lines(), ["84 CHARING CROSS RD", "LONDON", "UK"]);
}

#[test]
fn the_virginia_absentee_requests_read_their_ballot_requests() {
    // Prefixed elements (n2:), a previous name, a subaddress, a ZIP+4, an election by name.
    let request = example("va_absentee_excuse_1a.xml");
    assert_eq!(request.last_name(), Some("Smith"));
    assert_eq!(request.subject.previous_name.as_ref().unwrap().last.as_deref(), Some("Sekusky"));
    assert_eq!(request.subject.party.as_ref().unwrap().name, "Democractic", "as NIST spelled it");
    assert_eq!(request.subject.gender.as_deref(), Some("female"));
    assert_eq!(request.request_kinds(), [RequestKind::Registration, RequestKind::Absentee]);
    let mailing = request.subject.mailing_address.as_ref().unwrap().lines();
    assert_eq!(mailing, ["700 Washington SW St ROOM 999", "Blacksburg, VA 24061-9521"]);
    assert_eq!(request.residence_address_lines(), ["123 OLD FORT RD", "Winchester, Virginia 22601"]);
    let BallotPeriod::ElectionBased(election) = &request.ballot_request.as_ref().unwrap().period else {
        panic!("an election-based request")
    };
    assert_eq!(election.name.as_deref(), Some("November General 2018"));
    assert_eq!((election.start_date, election.end_date), (date!(2018 - 11 - 06), Some(date!(2018 - 11 - 06))));
    let classification = &request.subject.classifications[0];
    assert_eq!(classification.kind, VoterClassificationType::Other);
    assert_eq!(classification.other_type.as_deref(), Some("college-student"));

    // Written in a namespace the schema does not declare: read all the same.
    let annual = example("va_absentee_annual.xml");
    assert_eq!(annual.request_kinds(), [RequestKind::Absentee]);
    assert_eq!(
        annual.ballot_request.as_ref().unwrap().period,
        BallotPeriod::Temporal { start_date: date!(2018 - 01 - 01), end_date: date!(2018 - 12 - 31) }
    );
    assert_eq!(annual.ssn_last_four(), Some("4567"));
    assert_eq!(annual.residence_address_lines(), ["153 N Madison Rd", "Orange, Virginia 22960"]);

    let overseas = example("va_absentee_excuse_6a.xml");
    assert_eq!(overseas.subject.mailing_address.unwrap().lines(), ["PSC 127 BOX 931", "APO, AE 09617", "Italy"]);
    assert_eq!(overseas.ballot_request.unwrap().receipt_preferences, [BallotReceiptMethod::Mail]);

    let by_fax = example("va_absentee_excuse_6c_returning.xml");
    let phone = by_fax.subject.contact_methods.iter().find(|contact| contact.kind == ContactMethodType::Phone);
    assert_eq!(phone.unwrap().capabilities, [PhoneCapability::Fax]);

    let assisted = example("va_absentee_excuse_2a.xml");
    let helper = &assisted.request_helpers[0];
    assert_eq!(helper.kind, HelperType::Assistant);
    assert_eq!(helper.name.as_ref().unwrap().last.as_deref(), Some("Thomas"));
    assert_eq!(helper.address.as_ref().unwrap().lines(), ["1859 S Crater Rd", "Petersburg, Virginia 23805"]);

    let full_number = example("va_absentee_excuse_1b.xml");
    assert_eq!(full_number.subject.voter_ids[0].kind, VoterIdType::SocialSecurityNumber);
    assert_eq!(full_number.ssn_last_four(), Some("7890"), "the last four of a full SSN");

    let no_number = example("va_absentee_excuse_1d.xml");
    assert_eq!(no_number.ssn_last_four(), None, "an ssn4 id without a StringValue");
}

#[test]
fn a_signature_image_travels_in_both_encodings() {
    let mut request = example("va_absentee_excuse_1a.xml");
    let image: Vec<u8> = (0..=255).chain([0, 1, 2]).collect();
    request.subject.signature = Some(Signature {
        date: Some(date!(2018 - 03 - 01)),
        source: Some(SignatureSource::Voter),
        image: Some(File {
            data: image.clone(),
            file_name: Some("signature\tscan.png".into()),
            mime_type: Some("image/png".into()),
        }),
        ..Signature::default()
    });
    assert_eq!(request.signature_image(), Some(image.as_slice()));
    assert_round_trip(&request, "with a signature image");
    for length in 0..6 {
        let mut request = request.clone();
        request.subject.signature.as_mut().unwrap().image.as_mut().unwrap().data = image[..length].to_vec();
        assert_round_trip(&request, &format!("with a {length}-byte image"));
    }

    // Base64 as another writer wraps it, and a signature with no image.
    let text = example_text("ohio_registration_no_mailing2.xml");
    let signed = text.replacen(
        "</VoterId>\n\t</Subject>",
        "</VoterId>\n<Signature><FileValue MimeType=\"text/plain\">aGVs\n bG8=</FileValue><Source>voter</Source></Signature></Subject>",
        1,
    );
    let request = from_xml(&signed).unwrap();
    assert_eq!(request.signature_image(), Some(b"hello".as_slice()));
    let unsigned = text.replacen("<VoterId>", "<Signature><Date>2017-02-06</Date></Signature><VoterId>", 1);
    let request = from_xml(&unsigned).unwrap();
    assert_eq!(request.subject.signature.as_ref().unwrap().date, Some(date!(2017 - 02 - 06)));
    assert_eq!(request.signature_image(), None);
    let broken = text.replacen("<VoterId>", "<Signature><FileValue>aGVsbG8</FileValue></Signature><VoterId>", 1);
    let error = from_xml(&broken).unwrap_err().to_string();
    assert!(error.contains("Subject/Signature/FileValue is not base64"), "{error}");
}

/// Dates as senders write them; the first of each pair is the document's, the second what it
/// reads as (None: refused).
#[test]
fn dates_are_read_as_senders_write_them_and_refused_when_impossible() {
    let text = example_text("ohio_registration_no_mailing2.xml");
    let cases: [(&str, Option<Date>); 15] = [
        ("2017-02-06", Some(date!(2017 - 02 - 06))),
        ("2017-2-6", Some(date!(2017 - 02 - 06))),
        ("2017-02-06Z", Some(date!(2017 - 02 - 06))),
        ("2017-02-06-05:00", Some(date!(2017 - 02 - 06))),
        ("2017-02-06+14:00", Some(date!(2017 - 02 - 06))),
        ("2017-02-06T00:00:00", Some(date!(2017 - 02 - 06))),
        ("2017-02-06T23:59:59.25-05:00", Some(date!(2017 - 02 - 06))),
        ("2017-02-30", None),
        ("2017-13-06", None),
        ("yesterday", None),
        ("17-02-06", None),
        ("0000-01-01", None),
        ("2017-02-06T25:00:00", None),
        ("2017-02-06T12:00", None),
        ("2017-02-06-6", None),
    ];
    for (written, expected) in cases {
        let document = text.replacen("<GeneratedDate>2017-02-06<", &format!("<GeneratedDate>{written}<"), 1);
        match (from_xml(&document), expected) {
            (Ok(request), Some(expected)) => assert_eq!(request.generated_date, expected, "{written}"),
            (Err(error), None) => {
                let message = error.to_string();
                assert!(message.contains("VoterRecordsRequest/GeneratedDate is not a date"), "{written}: {message}");
                assert!(!message.contains(written), "the message quotes the value: {message}");
            }
            (result, _) => panic!("{written}: {result:?}"),
        }
    }
}

/// A malformed document and what its refusal must say.
fn check_refused(document: &str, json: bool, expected: &str) {
    let result = if json { from_json(document) } else { from_xml(document) };
    match result {
        Err(FormatsError::Refused(message)) => {
            assert!(message.contains(expected), "expected {expected:?} in {message:?}");
        }
        other => panic!("expected a refusal saying {expected:?}, got {other:?}"),
    }
}

#[test]
fn malformed_xml_is_refused_with_the_element_named() {
    let text = example_text("ohio_registration_in_state_mailing.xml");
    let cut_after = |marker: &str| text[..text.find(marker).unwrap() + marker.len()].to_owned();
    let without = |start: &str, end: &str| {
        let from = text.find(start).unwrap();
        let to = text[from..].find(end).unwrap() + from + end.len();
        format!("{}{}", &text[..from], &text[to..])
    };
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "the document is empty"),
        (" \n\t".into(), "the document is empty"),
        ("hello".into(), "text outside its root element"),
        ("{\"@type\": \"VRI.VoterRecordsRequest\"}".into(), "text outside its root element"),
        ("<Voter/>".into(), "the root element is Voter, not VoterRecordsRequest"),
        ("<a><b></a>".into(), "not well-formed XML"),
        ("<VoterRecordsRequest/><VoterRecordsRequest/>".into(), "more than one root element"),
        (example_text("ohio_registration_acknowledgement.xml"), "is a VoterRecordsResponse"),
        (cut_after("<DateOfBirth>1985-11-05</DateOfBirth>"), "ends before Subject is closed: it is truncated"),
        (cut_after("<Subj"), "not well-formed XML"),
        (text.replacen("1985-11-05", "1985-02-30", 1), "VoterRecordsRequest/Subject/DateOfBirth is not a date"),
        (without("<Subject>", "</Subject>"), "VoterRecordsRequest/Subject is missing"),
        (without("<Name>\n\t\t\t<FirstName>", "</Name>"), "VoterRecordsRequest/Subject/Name is missing"),
        (without("<LastName>", "</LastName>"), "VoterRecordsRequest/Subject/Name/LastName is missing"),
        (
            without("<ResidenceAddress>", "</ResidenceAddress>"),
            "VoterRecordsRequest/Subject/ResidenceAddress is missing",
        ),
        (without("<RequestMethod>", "</RequestMethod>"), "VoterRecordsRequest/RequestMethod is missing"),
        (without("<GeneratedDate>", "</GeneratedDate>"), "VoterRecordsRequest/GeneratedDate is missing"),
        (without("<Type>registration", "</Type>"), "VoterRecordsRequest/Type is missing"),
        (
            text.replacen("<Type>registration<", "<Type>registered<", 1),
            "VoterRecordsRequest/Type is not one of the schema's values",
        ),
        (
            text.replacen("<Type>drivers-license<", "<Type>passport<", 1),
            "VoterRecordsRequest/Subject/VoterId/Type is not one of",
        ),
        (
            text.replacen("<AttestNoSuchId>false<", "<AttestNoSuchId>maybe<", 1),
            "Subject/VoterId/AttestNoSuchId is not true or false",
        ),
        (
            text.replacen("<addr:USPSGeneralDeliveryPoint>2219 STORER AVE</addr:USPSGeneralDeliveryPoint>", "", 1),
            "PreviousResidenceAddress/GeneralAddressClass_type/USPSGeneralDeliveryPoint is missing",
        ),
        (text.replace("GeneralAddressClass_type", "LandmarkAddress_type"), "of an address class Canvass does not read"),
        (text.replacen("<FirstName>JENNY", "<FirstName>JE&nny;NNY", 1), "an entity XML does not predefine"),
        (text.replacen("<FirstName>JENNY", "<FirstName>JE&#1;NNY", 1), "names no XML character"),
        (text.replacen("utf-8", "ISO-8859-1", 1), "an encoding other than UTF-8"),
        (
            text.replacen(
                "<VoterRecordsRequest",
                "<!DOCTYPE VoterRecordsRequest [<!ENTITY x \"y\">]><VoterRecordsRequest",
                1,
            ),
            "has a DOCTYPE",
        ),
        ("<a>".repeat(100), "nested more than"),
    ];
    for (document, expected) in cases {
        check_refused(&document, false, expected);
    }

    let mut latin1 = text.clone().into_bytes();
    let position = text.find("JENNY").unwrap();
    latin1[position] = 0xC9;
    assert!(read_xml(latin1.as_slice()).unwrap_err().to_string().contains("not UTF-8"));

    let huge = format!("<VoterRecordsRequest>{}</VoterRecordsRequest>", " ".repeat(17 * 1024 * 1024));
    check_refused(&huge, false, "larger than 16 MiB");
}

#[test]
fn malformed_json_is_refused_with_the_member_named() {
    let text = example_text("ohio_registration.json");
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "the document is empty"),
        ("not json".into(), "not JSON: a syntax error at line 1"),
        ("<VoterRecordsRequest/>".into(), "not JSON"),
        ("[]".into(), "not an object"),
        (r#"{"@type": "VRI.RequestSuccess"}"#.into(), "is a VoterRecordsResponse"),
        (r#"{"@type": "VRI.Voter"}"#.into(), "@type is not VRI.VoterRecordsRequest"),
        (text[..text.len() / 2].to_owned(), "ends too early"),
        (
            text.replacen("1993-11-12T00:00:00", "1993-02-30", 1),
            "VoterRecordsRequest/Subject/DateOfBirth is not a date",
        ),
        (text.replacen(r#""Subject""#, r#""Sender""#, 1), "VoterRecordsRequest/Subject is missing"),
        (text.replacen(r#""LastName": "DOE""#, r#""LastName": """#, 1), "Subject/Name/LastName is missing or empty"),
        (
            text.replacen(r#""AttestNoSuchId": false"#, r#""AttestNoSuchId": 2"#, 1),
            "AttestNoSuchId is not true or false",
        ),
        (
            text.replacen(r#""registration""#, r#"["registration"]"#, 1),
            "VoterRecordsRequest/Type is a list inside a list",
        ),
        (
            text.replacen("addr.NumberedThoroughfareAddress_type", "addr.IntersectionAddress_type", 1),
            "VoterRecordsRequest/Subject/ResidenceAddress is of an address class Canvass does not read",
        ),
        (
            text.replacen(r#""Value": "YOUNGSTOWN""#, r#""Value": "YOUNGSTOWN", "ElementSequenceNumber": "first""#, 1),
            "CompletePlaceName/PlaceName/@ElementSequenceNumber is not an integer",
        ),
        (format!("{}{}", "[".repeat(200), "]".repeat(200)), "not JSON"),
    ];
    for (document, expected) in cases {
        check_refused(&document, true, expected);
    }
}

#[test]
fn a_failing_input_is_reported_as_a_read_error() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    assert!(matches!(read_json(Failing), Err(FormatsError::Read(_))));
    assert!(matches!(read_xml(std::io::BufReader::new(Failing)), Err(FormatsError::Read(_))));
}

#[test]
fn values_the_schemas_cannot_carry_are_refused_on_export() {
    let request = example("va_absentee_excuse_1a.xml");
    let with_address = |change: fn(&mut canvass_formats::vri::NumberedThoroughfareAddress)| {
        let mut request = request.clone();
        let Address::NumberedThoroughfare(address) = &mut request.subject.residence_address else { panic!() };
        change(address);
        request
    };
    let cases: Vec<(VoterRecordsRequest, &str)> = vec![
        (with_address(|address| address.number = "12A".into()), "AddressNumber"),
        (
            with_address(|address| {
                let Some(Place::Parts { zip_code, .. }) = &mut address.place else { panic!() };
                *zip_code = Some("2260".into());
            }),
            "ZipCode",
        ),
        (
            with_address(|address| {
                let Some(Place::Parts { zip_code, zip_plus_four, .. }) = &mut address.place else { panic!() };
                (*zip_code, *zip_plus_four) = (None, Some("1234".into()));
            }),
            "ZipPlus4",
        ),
        (
            with_address(|address| {
                let Some(Place::Parts { names, .. }) = &mut address.place else { panic!() };
                names.clear();
            }),
            "CompletePlaceName",
        ),
        (
            {
                let mut request = request.clone();
                request.subject.name.first = Some("Pat\u{1}ty".into());
                request
            },
            "FirstName",
        ),
        (
            {
                let mut request = request.clone();
                request.request_types.clear();
                request
            },
            "Type",
        ),
        (
            {
                let mut request = request.clone();
                request.subject.date_of_birth = Some(Date::from_calendar_date(0, time::Month::January, 1).unwrap());
                request
            },
            "DateOfBirth",
        ),
    ];
    for (request, field) in cases {
        for result in [write_xml(&request, Vec::new()), write_json(&request, Vec::new())] {
            match result {
                Err(FormatsError::InvalidText { field: refused, .. }) => assert_eq!(refused, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}

/// Every value of the subject that is someone's personal data, at least three characters long
/// (shorter ones occur in any text).
fn personal_values(request: &VoterRecordsRequest) -> Vec<String> {
    let subject = &request.subject;
    let name = &subject.name;
    let mut values: Vec<String> = [&name.first, &name.last, &name.full, &name.prefix, &name.suffix]
        .into_iter()
        .flatten()
        .chain(&name.middle)
        .chain(subject.previous_name.iter().flat_map(|previous| previous.first.iter().chain(&previous.last)))
        .chain(subject.contact_methods.iter().map(|contact| &contact.value))
        .chain(subject.voter_ids.iter().filter_map(|id| id.value.as_ref()))
        .chain(subject.party.iter().map(|party| &party.name))
        .cloned()
        .collect();
    values.extend(subject.date_of_birth.map(|birth| birth.to_string()));
    for address in [
        Some(&subject.residence_address),
        subject.mailing_address.as_ref(),
        subject.previous_residence_address.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        for line in address.lines() {
            values.extend(line.split(", ").map(str::to_owned));
            values.push(line);
        }
    }
    values.retain(|value| value.len() >= 3);
    values
}

#[test]
fn debug_prints_no_personal_value() {
    for (path, request) in request_examples() {
        let subject = &request.subject;
        let debug = [
            format!("{request:?}"),
            format!("{request:#?}"),
            format!("{subject:?}"),
            format!("{:?}", subject.name),
            format!("{:?}", subject.residence_address),
            format!("{:?}", subject.mailing_address),
            format!("{:?}", subject.voter_ids),
            format!("{:?}", subject.contact_methods),
            format!("{:?}", subject.classifications),
            format!("{:?}", subject.party),
            format!("{:?}", request.request_helpers),
            format!("{:?}", request.ballot_request),
            format!("{:?}", request.additional_info),
        ]
        .join("\n");
        let values = personal_values(&request);
        assert!(!values.is_empty());
        for value in values {
            assert!(!debug.contains(&value), "{}: Debug shows {value:?}:\n{debug}", path.display());
        }
    }
}

#[test]
fn errors_quote_no_personal_value() {
    let text = example_text("ohio_registration_in_state_mailing.xml");
    let damaged = [
        text.replacen("<Type>phone</Type>", "<Type>3301112345</Type>", 1),
        text.replacen("<Type>drivers-license</Type>", "<Type>AB321345</Type>", 1),
        text.replacen(
            "<AttestNoSuchId>false</AttestNoSuchId>\n\t\t\t<StringValue>2222",
            "<AttestNoSuchId>2222</AttestNoSuchId>\n\t\t\t<StringValue>2222",
            1,
        ),
        text.replacen("1985-11-05", "1985-11-05-DAVIS", 1),
        text.replacen("<FirstName>JENNY</FirstName>", "<FirstName>JENNY</LastName>", 1),
        text.replacen("<LastName>DAVIS</LastName>", "<DAVIS>DAVIS</DAVIS>", 1),
    ];
    for document in damaged {
        let message = from_xml(&document).unwrap_err().to_string();
        for value in ["3301112345", "AB321345", "2222", "1985-11-05", "DAVIS", "JENNY"] {
            assert!(!message.contains(value), "{message}");
        }
    }
}

fn text_value() -> impl Strategy<Value = String> {
    // Markup, quotes, line breaks and carriage returns inside; no whitespace at either end,
    // which reading trims.
    "[A-Za-z0-9ÉéñÑ中文'\"&<>#;]([A-Za-z0-9 \\-'\"&<>\r\n\tÉé中]{0,16}[A-Za-z0-9'\"&<>])?"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_name_and_street_round_trip_through_both_encodings(
        first in text_value(),
        last in text_value(),
        middle in proptest::collection::vec(text_value(), 0..3),
        street in text_value(),
        email in text_value(),
        number in 0u32..100_000,
        birth in 1u32..3_000_000,
    ) {
        let mut request = example("va_absentee_excuse_1a.xml");
        request.subject.name.first = Some(first);
        request.subject.name.last = Some(last);
        request.subject.name.middle = middle;
        request.subject.contact_methods[0].value = email;
        request.subject.date_of_birth = Some(Date::from_julian_day(i32::try_from(birth).unwrap() + 1_721_426).unwrap());
        let Address::NumberedThoroughfare(address) = &mut request.subject.residence_address else { panic!() };
        address.street.name = street;
        address.number = number.to_string();

        let xml = to_xml(&request);
        prop_assert!(from_xml(&xml).unwrap() == request, "{}", xml);
        let json = to_json(&request);
        prop_assert!(from_json(&json).unwrap() == request, "{}", json);
    }
}
