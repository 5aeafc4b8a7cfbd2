//! NIST SP 1500-100 v2 Election Results Reporting against NIST's own synthetic examples and
//! schemas (read from shared/data beside the repository): every example is read in XML and in
//! JSON, both giving the same report; written back as XML and JSON that pass the XSD (xmllint)
//! and the JSON schema (jsonschema), and read again unchanged; results become reported counts
//! by level; bad documents are refused with the element named.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/nist_schemas.rs"]
mod nist_schemas;

use std::{
    path::{Path, PathBuf},
    sync::{
        LazyLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use canvass_formats::{
    FormatsError,
    nist_results::{
        BallotCounts, Choice, ContestKind, CountItemType, ElectionReport, GpUnit, InternationalizedText,
        ReportingUnitType, VoteCounts, read_json, read_xml, write_json, write_xml,
    },
    reported::{Location, VoteType},
};
use proptest::prelude::*;

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

/// NIST's 1500-100 v2 examples, each as (XML, JSON): a pre-election definition and two results.
const EXAMPLES: [&str; 3] = [
    "cdf-test-method/test_data/synthetic/gen-01/err_v2/pe-err-gen-01",
    "cdf-test-method/test_data/synthetic/gen-01/err_v2/err-gen-01",
    "cdf-test-method/test_data/synthetic/prim-01/err_v2/err-prim-01",
];

fn example_xml(stem: &str) -> String {
    std::fs::read_to_string(nist_file(&format!("{stem}.xml"))).unwrap()
}

fn example_json(stem: &str) -> String {
    std::fs::read_to_string(nist_file(&format!("{stem}.json"))).unwrap()
}

fn from_xml(xml: &str) -> Result<ElectionReport, FormatsError> {
    read_xml(xml.as_bytes())
}

fn from_json(json: &str) -> Result<ElectionReport, FormatsError> {
    read_json(json.as_bytes())
}

fn example(stem: &str) -> ElectionReport {
    from_xml(&example_xml(stem)).unwrap_or_else(|error| panic!("{stem}.xml: {error}"))
}

fn to_xml(report: &ElectionReport) -> String {
    let mut out = Vec::new();
    write_xml(report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn to_json(report: &ElectionReport) -> String {
    let mut out = Vec::new();
    write_json(report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The validators

/// Validates with xmllint against the 1500-100 v2 XSD. A missing xmllint fails the test: the
/// package is libxml2-utils, which scripts/test installs.
fn xmllint(xml: &str) -> Result<(), String> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nist_1500_100");
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
    nist_schemas::xmllint_errors(Path::new(NIST), file).map_or(Ok(()), Err)
}

/// NIST publishes the JSON schema twice, beside the XSD and in the CDF test method; an export
/// must pass both. Formats (date-time, date) are checked too.
static JSON_SCHEMAS: LazyLock<Vec<(&'static str, jsonschema::Validator)>> =
    LazyLock::new(|| nist_schemas::json_validators(Path::new(NIST)));

fn json_schema_errors(json: &str) -> Vec<String> {
    nist_schemas::json_schema_errors(&JSON_SCHEMAS, json.as_bytes())
}

/// Writes both encodings, checks both against NIST's schemas, reads both back and checks they
/// give back the report.
fn assert_round_trip(report: &ElectionReport, context: &str) {
    let xml = to_xml(report);
    if let Err(error) = xmllint(&xml) {
        panic!("{context}: the XML export is not valid: {error}");
    }
    let from_xml = from_xml(&xml).unwrap_or_else(|error| panic!("{context}: {error}"));
    assert!(from_xml == *report, "{context}: the XML export reads back differently");

    let json = to_json(report);
    let errors = json_schema_errors(&json);
    assert!(errors.is_empty(), "{context}: the JSON export is not valid: {errors:#?}");
    let from_json = from_json(&json).unwrap_or_else(|error| panic!("{context}: {error}"));
    assert!(from_json == *report, "{context}: the JSON export reads back differently");
}

// ---------------------------------------------------------------------------------------------
// NIST's examples

#[test]
fn every_example_reads_the_same_from_xml_and_json() {
    for stem in EXAMPLES {
        let xml = example(stem);
        let json = from_json(&example_json(stem)).unwrap_or_else(|error| panic!("{stem}.json: {error}"));
        assert!(xml == json, "{stem}: the XML and the JSON give different reports");
        assert!(!xml.gp_units.is_empty() && !xml.parties.is_empty(), "{stem}: nothing read");
        assert_eq!(xml.elections.len(), 1, "{stem}");
        assert!(!xml.elections[0].contests.is_empty(), "{stem}: no contests read");
    }
}

#[test]
fn the_gen_01_results_read_as_nist_wrote_them() {
    let report = example(EXAMPLES[1]);
    assert_eq!(report.issuer_abbreviation, "NIST");
    assert_eq!(report.generated_date, "2023-07-14T13:32:09-04:00");
    assert_eq!((report.sequence_start, report.sequence_end), (1, 1));
    assert_eq!(report.gp_units.len(), 14);
    let split = report.gp_units.iter().find(|unit| unit.object_id == "ps-2a").unwrap();
    assert_eq!(split.kind, ReportingUnitType::SplitPrecinct);
    assert_eq!(split.label(), "Precinct 2a");
    let election = &report.elections[0];
    assert_eq!(election.name.text(), "Unnamed Election");
    assert_eq!(election.start_date, time::macros::date!(2000 - 11 - 07));
    assert_eq!(election.candidates.len(), 37);
    assert_eq!(election.contests.len(), 19);

    let president = election.contests.iter().find(|contest| contest.object_id == "cc-president").unwrap();
    assert_eq!(president.name, "President and Vice President of the United States");
    assert!(matches!(president.kind, ContestKind::Candidate { votes_allowed: 1, .. }));
    let ticket = &president.selections[0];
    assert_eq!(
        ticket.choice,
        Choice::Candidates { candidate_ids: vec!["can-hb".into(), "can-jd".into()], is_write_in: None }
    );
    assert_eq!(
        ticket.vote_counts[0],
        VoteCounts { gp_unit_id: "ru-county-1".into(), kind: CountItemType::Total, other_type: None, count: 12 }
    );
    let write_in = president.selections.last().unwrap();
    assert!(matches!(write_in.choice, Choice::Candidates { is_write_in: Some(true), .. }));

    let measure = election.contests.iter().find(|contest| contest.object_id == "bm-proposal-1").unwrap();
    assert!(matches!(measure.kind, ContestKind::BallotMeasure { .. }));
    assert!(matches!(&measure.selections[0].choice, Choice::BallotMeasure { selection } if selection.text() == "YES"));
    let straight = election.contests.iter().find(|contest| contest.object_id == "spc-1").unwrap();
    assert_eq!(straight.kind, ContestKind::Party);
    assert_eq!(straight.other_counts[0].undervotes, Some(28));
}

#[test]
fn the_validators_accept_nist_examples_and_refuse_broken_exports() {
    for stem in EXAMPLES {
        xmllint_file(&nist_file(&format!("{stem}.xml"))).unwrap();
        let errors = json_schema_errors(&example_json(stem));
        assert!(errors.is_empty(), "{stem}.json: {errors:#?}");
    }
    // The checks can fail: an export edited to break the schema is refused by both.
    let report = example(EXAMPLES[1]);
    let xml = to_xml(&report);
    assert!(xmllint(&xml.replacen("<Type>total</Type>", "<Type>sum</Type>", 1)).is_err());
    assert!(xmllint(&xml.replacen("<Issuer>", "<Issuer2>", 1).replacen("</Issuer>", "</Issuer2>", 1)).is_err());
    let json = to_json(&report);
    assert!(!json_schema_errors(&json.replacen("\"total\"", "\"sum\"", 1)).is_empty());
}

#[test]
fn every_example_round_trips_through_valid_xml_and_json() {
    for stem in EXAMPLES {
        assert_round_trip(&example(stem), stem);
    }
}

#[test]
fn every_contest_kind_and_optional_element_round_trips() {
    let mut report = example(EXAMPLES[1]);
    report.gp_units.push(GpUnit {
        object_id: "ru-state".into(),
        kind: ReportingUnitType::State,
        other_type: None,
        name: Some(InternationalizedText {
            texts: vec![
                canvass_formats::nist_results::LanguageString {
                    language: "en".into(),
                    content: "Test & <State>".into(),
                },
                canvass_formats::nist_results::LanguageString {
                    language: "es".into(),
                    content: "Estado de prueba".into(),
                },
            ],
        }),
        composing_gp_unit_ids: vec!["ru-county-1".into()],
        external_identifiers: vec![canvass_formats::nist_results::ExternalIdentifier {
            kind: canvass_formats::nist_results::IdentifierType::Fips,
            other_type: None,
            value: "99".into(),
        }],
        voters_registered: Some(1_000_000),
    });
    report.parties[0].abbreviation = Some(InternationalizedText::new("en", "DEM"));
    let election = &mut report.elections[0];
    election.ballot_counts.push(BallotCounts {
        gp_unit_id: "ps-2a".into(),
        kind: CountItemType::Total,
        other_type: None,
        ballots_cast: Some(40),
        ballots_outstanding: Some(0),
        ballots_rejected: Some(1),
    });
    let judge = election.candidates[0].object_id.clone();
    let mut retention = election.contests.iter().find(|contest| contest.object_id == "bm-proposal-1").unwrap().clone();
    retention.object_id = "rc-judge".into();
    for (index, selection) in retention.selections.iter_mut().enumerate() {
        selection.object_id = format!("rc-judge-{index}");
    }
    retention.kind = ContestKind::Retention {
        candidate_id: judge,
        full_text: Some(InternationalizedText::new("en", "Shall the judge be retained?")),
    };
    election.contests.push(retention);
    if let Some(contest) = election.contests.iter_mut().find(|contest| contest.object_id == "cc-president") {
        contest.kind = ContestKind::Candidate { votes_allowed: 1, primary_party_ids: vec!["par-dem".into()] };
        contest.selections[0].vote_counts.push(VoteCounts {
            gp_unit_id: "ps-2a".into(),
            kind: CountItemType::Other,
            other_type: Some("recount-adjustment".into()),
            count: 0,
        });
    }
    assert_round_trip(&report, "every kind");
}

// ---------------------------------------------------------------------------------------------
// The results as reported counts

#[test]
fn the_gen_01_results_become_reported_counts_by_level() {
    let by_level = example(EXAMPLES[1]).reported();
    assert!(by_level.precincts.problems.is_empty(), "{:#?}", by_level.precincts.problems);
    assert_eq!(by_level.precincts.election_name.as_deref(), Some("Unnamed Election"));
    let precincts: Vec<&str> = by_level.precincts.precincts.iter().map(|precinct| precinct.precinct.as_str()).collect();
    assert_eq!(precincts, ["Combined Precincts 1,4,5,6", "Combined Precincts 3,7,8,9", "Precinct 2a", "Precinct 2b"]);

    let president = |results: &canvass_formats::reported::ReportedResults, precinct: &str| {
        results
            .counts
            .iter()
            .find(|count| count.choice == "Harry Brown / Jim Doyle" && count.precinct == precinct)
            .cloned()
            .unwrap()
    };
    let county = president(&by_level.aggregates, "Test County");
    assert_eq!(county.total, 12);
    assert_eq!(county.party.as_deref(), Some("Libertarian"));
    assert_eq!(county.district.as_deref(), Some("Test County"));
    let split = president(&by_level.precincts, "Precinct 2a");
    assert_eq!((split.total, split.parts.as_slice()), (3, [].as_slice()));
    assert_eq!(
        split.location,
        Location::Element(
            "ElectionReport/Election[1]/Contest[cc-president]/ContestSelection[cs-president-hb]/VoteCounts[GpUnitId=ps-2a]"
                .into()
        )
    );
    assert!(by_level.precincts.counts.iter().any(|count| count.choice == "YES"));
    assert!(by_level.precincts.counts.iter().any(|count| count.choice == "Write-in"));
    assert!(by_level.precincts.counts.iter().any(|count| count.choice == "Libertarian"));

    // NIST's county figures are the sums of its precincts' in every contest.
    for aggregate in &by_level.aggregates.counts {
        let sum: u64 = by_level
            .precincts
            .counts
            .iter()
            .filter(|count| count.contest == aggregate.contest && count.choice == aggregate.choice)
            .map(|count| count.total)
            .sum();
        assert_eq!(sum, aggregate.total, "{}: {}", aggregate.contest, aggregate.choice);
    }
}

#[test]
fn the_prim_01_results_become_reported_counts_without_problems() {
    let by_level = example(EXAMPLES[2]).reported();
    assert!(by_level.precincts.problems.is_empty(), "{:#?}", by_level.precincts.problems);
    assert_eq!(by_level.precincts.precincts.len(), 2);
    assert_eq!(by_level.precincts.counts.len(), 120);
    assert!(by_level.aggregates.counts.len() >= 60);
    // A pre-election report defines the election and reports no counts.
    let definition = example(EXAMPLES[0]).reported();
    assert!(definition.precincts.problems.is_empty() && definition.precincts.counts.is_empty());
    assert_eq!(definition.precincts.contests.len(), 19);
}

/// The GEN-01 results with the first selection's counts at one precinct replaced.
fn with_counts(counts: &[(CountItemType, u64)]) -> ElectionReport {
    let mut report = example(EXAMPLES[1]);
    let selection = &mut report.elections[0].contests[1].selections[0];
    selection.vote_counts.retain(|count| count.gp_unit_id != "ps-2a");
    for (kind, count) in counts {
        selection.vote_counts.push(VoteCounts {
            gp_unit_id: "ps-2a".into(),
            kind: *kind,
            other_type: None,
            count: *count,
        });
    }
    report
}

/// A count's total and its parts by vote type.
type Split = (u64, Vec<(VoteType, u64)>);

fn ps_2a_count(report: &ElectionReport) -> Result<Split, Vec<String>> {
    let by_level = report.reported();
    if !by_level.precincts.problems.is_empty() {
        return Err(by_level.precincts.problems.iter().map(ToString::to_string).collect());
    }
    let count = by_level
        .precincts
        .counts
        .iter()
        .find(|count| count.precinct == "Precinct 2a" && count.choice == "Harry Brown / Jim Doyle")
        .unwrap();
    Ok((count.total, count.parts.clone()))
}

#[test]
fn vote_types_map_to_ours_and_must_sum_to_the_total() {
    use CountItemType::{
        Absentee, AbsenteeInPerson, AbsenteeMail, Early, ElectionDay, Provisional, Seats, Total, WriteIn,
    };
    let split = with_counts(&[
        (Total, 10),
        (ElectionDay, 4),
        (Early, 1),
        (AbsenteeInPerson, 1),
        (AbsenteeMail, 2),
        (Provisional, 2),
        (Seats, 7),
    ]);
    assert_eq!(
        ps_2a_count(&split),
        Ok((
            10,
            vec![
                (VoteType::ElectionDay, 4),
                (VoteType::Early, 2),
                (VoteType::AbsenteeByMail, 2),
                (VoteType::Provisional, 2)
            ]
        ))
    );
    // Without a total, the parts are the total.
    assert_eq!(
        ps_2a_count(&with_counts(&[(ElectionDay, 4), (Absentee, 3)])),
        Ok((7, vec![(VoteType::ElectionDay, 4), (VoteType::AbsenteeByMail, 3)]))
    );
    // Votes of no type of ours count in the total, and the breakdown is not given.
    assert_eq!(ps_2a_count(&with_counts(&[(Total, 5), (ElectionDay, 4), (WriteIn, 1)])), Ok((5, vec![])));

    let refused = ps_2a_count(&with_counts(&[(Total, 10), (ElectionDay, 4), (Early, 5)])).unwrap_err();
    assert_eq!(
        refused,
        [
            "element ElectionReport/Election[1]/Contest[cc-president]/ContestSelection[cs-president-hb]/VoteCounts[GpUnitId=ps-2a]: the vote types sum to 9 (election_day 4 + early 5), not the total 10"
        ]
    );
    let twice = ps_2a_count(&with_counts(&[(Total, 10), (Total, 10)])).unwrap_err();
    assert!(twice[0].ends_with("the unit has two counts of type total"), "{twice:?}");
}

#[test]
fn precincts_get_their_county_and_overlapping_units_are_refused() {
    let mut report = example(EXAMPLES[1]);
    let county = report.gp_units.iter_mut().find(|unit| unit.object_id == "ru-county-1").unwrap();
    county.kind = ReportingUnitType::County;
    county.composing_gp_unit_ids = ["cp-1-4-5-6", "cp-3-7-8-9", "ps-2a", "ps-2b"].map(String::from).to_vec();
    let by_level = report.reported();
    assert!(by_level.precincts.problems.is_empty(), "{:#?}", by_level.precincts.problems);
    assert!(by_level.precincts.counts.iter().all(|count| count.county.as_deref() == Some("Test County")));
    assert!(by_level.precincts.precincts.iter().all(|precinct| precinct.county.as_deref() == Some("Test County")));
    assert!(by_level.aggregates.counts.iter().all(|count| count.county.is_none()));

    // A combined precinct reported alongside one of its members counts the member twice.
    let combined = report.gp_units.iter_mut().find(|unit| unit.object_id == "cp-3-7-8-9").unwrap();
    combined.composing_gp_unit_ids = vec!["prec-3".into(), "ps-2b".into()];
    let problems: Vec<String> = report.reported().precincts.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "element ElectionReport/GpUnit[cp-3-7-8-9]: counts are reported for cp-3-7-8-9 and for ps-2b, which is part of it: its votes would count twice"
        ]
    );
}

#[test]
fn ballots_cast_come_from_the_total_or_the_sum_of_the_vote_types() {
    let mut report = example(EXAMPLES[1]);
    let counts = |unit: &str, kind, cast| BallotCounts {
        gp_unit_id: unit.into(),
        kind,
        other_type: None,
        ballots_cast: Some(cast),
        ballots_outstanding: None,
        ballots_rejected: None,
    };
    report.elections[0].ballot_counts = vec![
        counts("ps-2a", CountItemType::ElectionDay, 30),
        counts("ps-2a", CountItemType::Total, 41),
        counts("ps-2a", CountItemType::AbsenteeMail, 11),
        counts("ps-2b", CountItemType::ElectionDay, 20),
        counts("ps-2b", CountItemType::Early, 5),
        counts("ru-county-1", CountItemType::Total, 200),
    ];
    report.gp_units.iter_mut().find(|unit| unit.object_id == "ps-2b").unwrap().voters_registered = Some(90);
    let by_level = report.reported();
    let precinct = |name: &str| by_level.precincts.precincts.iter().find(|precinct| precinct.precinct == name).unwrap();
    assert_eq!(precinct("Precinct 2a").ballots_cast, Some(41));
    assert_eq!((precinct("Precinct 2b").ballots_cast, precinct("Precinct 2b").registered_voters), (Some(25), Some(90)));
    assert_eq!(precinct("Combined Precincts 1,4,5,6").ballots_cast, None);
    assert_eq!(by_level.precincts.precincts.len(), 4, "the county is not a precinct");
}

#[test]
fn a_report_of_several_elections_is_not_one_upload() {
    let mut report = example(EXAMPLES[1]);
    report.elections.push(report.elections[0].clone());
    let problems = report.reported().precincts.problems;
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.contains("holds 2 elections"), "{problems:?}");
}

// ---------------------------------------------------------------------------------------------
// Bad documents

fn refusal_xml(xml: &str) -> String {
    match from_xml(xml) {
        Ok(_) => panic!("accepted a bad document"),
        Err(error) => error.to_string(),
    }
}

fn refusal_json(json: &str) -> String {
    match from_json(json) {
        Ok(_) => panic!("accepted a bad document"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_document_that_is_not_a_report_is_refused_whole() {
    let xml = example_xml(EXAMPLES[1]);
    let other_root =
        xml.replace("<ElectionReport ", "<ElectionResults ").replace("</ElectionReport>", "</ElectionResults>");
    assert_eq!(refusal_xml(&other_root), "NIST 1500-100: the root element is ElectionResults, not ElectionReport");
    let half = xml.len() / 2;
    let at_line = xml[..half].rfind('\n').unwrap();
    assert!(refusal_xml(&xml[..at_line]).contains("it is truncated"), "{}", refusal_xml(&xml[..at_line]));
    let mid_tag = xml[..half].rfind('<').unwrap() + 2;
    assert!(refusal_xml(&xml[..mid_tag]).contains("not well-formed XML"), "{}", refusal_xml(&xml[..mid_tag]));
    assert!(refusal_xml("<ElectionReport><Issuer>x</Party></ElectionReport>").contains("not well-formed"));
    assert!(refusal_xml("").contains("empty"));
    let oversized = std::io::Read::take(std::io::repeat(b' '), 64 * 1024 * 1024 + 1);
    let refused = read_json(oversized).unwrap_err().to_string();
    assert_eq!(refused, "NIST 1500-100: the document is larger than 64 MiB");

    let json = example_json(EXAMPLES[1]);
    assert!(refusal_json(&json[..json.len() / 2]).contains("ends too early"));
    assert!(refusal_json("[1, 2]").contains("not an object"));
    let other_type = json.replace("\"ElectionResults.ElectionReport\"", "\"ElectionResults.Election\"");
    assert!(refusal_json(&other_type).contains("not ElectionResults.ElectionReport"));
}

#[test]
fn every_dangling_reference_is_listed_with_its_element() {
    let xml = example_xml(EXAMPLES[1])
        .replacen("<GpUnitId>ps-2a</GpUnitId>", "<GpUnitId>ps-9z</GpUnitId>", 1)
        .replacen("<PartyId>par-lib</PartyId>", "<PartyId>par-green</PartyId>", 1)
        .replacen("<CandidateIds>can-hb can-jd</CandidateIds>", "<CandidateIds>can-hb can-nobody</CandidateIds>", 1)
        .replacen(
            "<ElectionDistrictId>ru-county-1</ElectionDistrictId>",
            "<ElectionDistrictId>ru-x</ElectionDistrictId>",
            1,
        );
    let Err(FormatsError::Problems(problems)) = from_xml(&xml) else { panic!("dangling references were accepted") };
    let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        listed,
        [
            "element ElectionReport/Election[1]/Candidate[can-hb]: PartyId refers to par-green, but the document defines no Party with that ObjectId",
            "element ElectionReport/Election[1]/Contest[spc-1]: ElectionDistrictId refers to ru-x, but the document defines no GpUnit with that ObjectId",
            "element ElectionReport/Election[1]/Contest[spc-1]/ContestSelection[po-lib]/VoteCounts[4]: GpUnitId refers to ps-9z, but the document defines no GpUnit with that ObjectId",
            "element ElectionReport/Election[1]/Contest[cc-president]/ContestSelection[cs-president-hb]: CandidateIds refers to can-nobody, but the document defines no Candidate of the election with that ObjectId",
        ]
    );
    // The same in JSON.
    let json = example_json(EXAMPLES[1]).replacen("\"GpUnitId\" : \"ps-2a\"", "\"GpUnitId\" : \"ps-9z\"", 1);
    assert!(refusal_json(&json).contains("GpUnitId refers to ps-9z"), "{}", refusal_json(&json));
}

#[test]
fn bad_values_are_refused_with_the_element_and_the_rule() {
    let xml = example_xml(EXAMPLES[1]);
    let negative = xml.replacen("<Count>12</Count>", "<Count>-12</Count>", 1);
    assert_eq!(
        refusal_xml(&negative),
        "element ElectionReport/Election[1]/Contest[cc-president]/ContestSelection[cs-president-hb]/VoteCounts[1]: Count \"-12\" is negative: a count is never below zero"
    );
    let fraction = xml.replacen("<Undervotes>28</Undervotes>", "<Undervotes>2.5</Undervotes>", 1);
    assert!(refusal_xml(&fraction).ends_with("OtherCounts[1]: Undervotes \"2.5\" is not a whole number"));
    let whole_double = xml.replacen("<Count>12</Count>", "<Count>12.0</Count>", 1);
    assert_eq!(from_xml(&whole_double).unwrap(), example(EXAMPLES[1]));
    let bad_type = xml.replacen("<Type>total</Type>", "<Type>sum</Type>", 1);
    assert!(refusal_xml(&bad_type).contains("Type \"sum\" is not one of the schema's values"));
    let missing = xml.replacen("<Issuer>National Institute of Standards and Technology</Issuer>", "", 1);
    assert_eq!(refusal_xml(&missing), "element ElectionReport: Issuer is missing");
    let duplicate = xml.replacen("ObjectId=\"prec-2\"", "ObjectId=\"prec-1\"", 1);
    assert!(refusal_xml(&duplicate).contains("the ObjectId prec-1 is defined more than once"));
    let bad_id = xml.replacen("ObjectId=\"prec-2\"", "ObjectId=\"2 prec\"", 1);
    assert!(refusal_xml(&bad_id).contains("GpUnit[2 prec]: ObjectId \"2 prec\" is not an XML identifier"));
    let bad_language = xml.replacen("Language=\"en-us\"", "Language=\"english (US)\"", 1);
    assert!(refusal_xml(&bad_language).contains("Text[1]: Language \"english (US)\" is not a language tag"));
    let bad_date = xml.replacen("<StartDate>2000-11-07</StartDate>", "<StartDate>2000-13-07</StartDate>", 1);
    assert!(refusal_xml(&bad_date).contains("StartDate \"2000-13-07\" is not a date"));

    // Problems are gathered, not stopped at the first.
    let two = negative.replacen("<Count>4</Count>", "<Count>-4</Count>", 1);
    assert!(refusal_xml(&two).starts_with("2 problems: "), "{}", refusal_xml(&two));

    let json = example_json(EXAMPLES[1]).replacen("\"Count\" : 12,", "\"Count\" : -12,", 1);
    assert!(refusal_json(&json).contains("Count \"-12\" is negative"), "{}", refusal_json(&json));
}

#[test]
fn a_flood_of_problems_is_listed_up_to_a_bound_and_counted() {
    let bad = "<VoteCounts><GpUnitId>ps-2a</GpUnitId><Type>total</Type><Count>-1</Count></VoteCounts>".repeat(1200);
    let xml = example_xml(EXAMPLES[1]).replacen("<VoteCounts>", &format!("{bad}<VoteCounts>"), 1);
    let Err(FormatsError::Problems(problems)) = from_xml(&xml) else { panic!("a flood of bad counts was accepted") };
    assert_eq!(problems.len(), 1001);
    assert_eq!(problems[1000].to_string(), "element ElectionReport: 200 more problems are not listed");
}

#[test]
fn values_the_schemas_cannot_carry_are_refused_on_export() {
    let mut report = example(EXAMPLES[1]);
    report.gp_units[0].object_id = "has space".into();
    assert!(matches!(write_xml(&report, Vec::new()), Err(FormatsError::InvalidText { field: "ObjectId", .. })));
    let mut report = example(EXAMPLES[1]);
    report.issuer = "bell \u{7}".into();
    assert!(matches!(write_json(&report, Vec::new()), Err(FormatsError::InvalidText { field: "Issuer", .. })));
    let mut report = example(EXAMPLES[1]);
    report.parties[0].name = InternationalizedText::new("en us", "Democrat");
    assert!(matches!(write_xml(&report, Vec::new()), Err(FormatsError::InvalidText { field: "Language", .. })));
    let mut report = example(EXAMPLES[1]);
    report.generated_date = "2023-07-14".into();
    assert!(matches!(write_xml(&report, Vec::new()), Err(FormatsError::InvalidText { field: "GeneratedDate", .. })));
}

// ---------------------------------------------------------------------------------------------
// Any text and any count

fn text_value() -> impl Strategy<Value = String> {
    // Markup, quotes, line breaks and carriage returns inside; no whitespace at either end,
    // which reading trims.
    "[A-Za-z0-9ÉéñÑ中文'\"&<>#;]([A-Za-z0-9 \\-'\"&<>\r\n\tÉé中]{0,16}[A-Za-z0-9'\"&<>])?"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_name_and_count_round_trip_through_both_encodings(
        contest in text_value(),
        candidate in text_value(),
        party in text_value(),
        answer in text_value(),
        count in any::<u64>(),
        ballots in proptest::option::of(any::<u64>()),
    ) {
        let mut report = example(EXAMPLES[1]);
        report.parties[0].name = InternationalizedText::new("en-US", party);
        let election = &mut report.elections[0];
        election.candidates[0].ballot_name = InternationalizedText::new("en-US", candidate);
        election.contests[1].name = contest;
        election.contests[1].selections[0].vote_counts[0].count = count;
        if let Some(measure) = election.contests.iter_mut().find(|contest| contest.object_id == "bm-proposal-1") {
            measure.selections[0].choice = Choice::BallotMeasure { selection: InternationalizedText::new("en", answer) };
        }
        election.ballot_counts = vec![BallotCounts {
            gp_unit_id: "ps-2b".into(),
            kind: CountItemType::ElectionDay,
            other_type: None,
            ballots_cast: ballots,
            ballots_outstanding: None,
            ballots_rejected: None,
        }];

        let xml = to_xml(&report);
        prop_assert!(from_xml(&xml).unwrap() == report, "{}", xml);
        let json = to_json(&report);
        prop_assert!(from_json(&json).unwrap() == report, "{}", json);
    }
}
