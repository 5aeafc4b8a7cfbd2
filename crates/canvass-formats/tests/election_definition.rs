//! Election definitions read from NIST's synthetic GEN-01 and PRIM-01 documents (read from
//! shared/data beside the repository) and from the simple CSV layout, good and bad.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{fs, path::Path};

use canvass_core::{
    election::{ContestKind, ElectionKind},
    id::{ContestId, JurisdictionId},
    jurisdiction::{Jurisdiction, JurisdictionKind},
    name::Name,
    results::ElectionDefinition,
};
use canvass_formats::{
    FormatsError,
    election_definition::{DefinitionFormat, DefinitionScope, read},
    reported::Location,
};

const SYNTHETIC: &str = "../../../shared/data/nist/cdf-test-method/test_data/synthetic";

fn scope(id: &str, kind: JurisdictionKind) -> DefinitionScope {
    let parent =
        (kind == JurisdictionKind::County).then(|| JurisdictionId::parse("ocd-division/country:us/state:ex").unwrap());
    DefinitionScope {
        jurisdiction: Jurisdiction {
            id: JurisdictionId::parse(id).unwrap(),
            name: Name::parse("Example State").unwrap(),
            kind,
            parent,
        },
        election_id: None,
    }
}

fn state() -> DefinitionScope {
    scope("ocd-division/country:us/state:ex", JurisdictionKind::State)
}

fn definition(path: &str, format: DefinitionFormat, scope: &DefinitionScope) -> ElectionDefinition {
    let path = Path::new(SYNTHETIC).join(path);
    assert!(path.is_file(), "{} is missing: these tests read shared/data beside the repository", path.display());
    read(format, &fs::read(&path).unwrap(), scope).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn contest_id(definition: &ElectionDefinition, name: &str) -> ContestId {
    definition.contests.iter().find(|contest| contest.name.as_str() == name).map(|contest| contest.id.clone()).unwrap()
}

fn covered_names(definition: &ElectionDefinition, contest: &str) -> Vec<String> {
    let id = contest_id(definition, contest);
    let mut names: Vec<String> = definition.coverage[&id]
        .iter()
        .map(|precinct| definition.precinct(precinct).unwrap().name.as_str().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn gen_01_pre_election_xml_and_json_give_the_same_definition() {
    let scope = state();
    let xml = definition("gen-01/err_v2/pe-err-gen-01.xml", DefinitionFormat::NistXml, &scope);
    let json = definition("gen-01/err_v2/pe-err-gen-01.json", DefinitionFormat::NistJson, &scope);
    assert_eq!(xml, json);
    // The results file's definition part is the same definition (it has no county unit, so
    // its precincts are in one county named after the state: compare by name).
    let results = definition("gen-01/err_v2/err-gen-01.xml", DefinitionFormat::NistXml, &scope);
    assert_eq!(results.contests.len(), xml.contests.len());
    for (result, pre_election) in results.contests.iter().zip(&xml.contests) {
        assert_eq!(result.name, pre_election.name);
        assert_eq!(result.choices, pre_election.choices);
        assert_eq!(covered_names(&results, result.name.as_str()), covered_names(&xml, pre_election.name.as_str()));
    }
    assert_eq!(results.counties[0].name.as_str(), "Example State");
}

#[test]
fn gen_01_has_its_19_contests_in_its_four_precincts() {
    let definition = definition("gen-01/err_v2/pe-err-gen-01.xml", DefinitionFormat::NistXml, &state());
    assert_eq!(definition.election.kind, ElectionKind::General);
    assert_eq!(definition.election.date.to_string(), "2000-11-07");
    assert_eq!(definition.contests.len(), 19);
    let mut precincts: Vec<&str> = definition.precincts.iter().map(|precinct| precinct.name.as_str()).collect();
    precincts.sort_unstable();
    assert_eq!(precincts, ["Combined Precincts 1,4,5,6", "Combined Precincts 3,7,8,9", "Precinct 2a", "Precinct 2b"]);
    assert_eq!(definition.counties.len(), 1);
    let county = &definition.counties[0];
    assert_eq!(county.name.as_str(), "Test County");
    assert_eq!(county.id.as_str(), "ocd-division/country:us/state:ex/county:test-county");
    assert_eq!(
        definition.precincts.iter().find(|precinct| precinct.name.as_str() == "Precinct 2a").unwrap().id.as_str(),
        "ocd-division/country:us/state:ex/county:test-county/precinct:precinct-2a"
    );
    // The README: 5 contests are on all 4 ballot styles.
    let everywhere = definition.coverage.values().filter(|precincts| precincts.len() == 4).count();
    assert_eq!(everywhere, 5);
    // District contests cover the precincts inside their district.
    assert_eq!(covered_names(&definition, "Representative in Congress - District 2"), ["Precinct 2a", "Precinct 2b"]);
    assert_eq!(covered_names(&definition, "Proposal 2 - Stadium"), ["Combined Precincts 3,7,8,9", "Precinct 2a"]);
    // Write-ins are not choices; a ticket is its candidates joined.
    let president =
        definition.contest(&contest_id(&definition, "President and Vice President of the United States")).unwrap();
    assert_eq!(president.choices.len(), 3, "{:?}", president.choices);
    assert!(president.choices.iter().all(|choice| !choice.name.as_str().to_lowercase().contains("write")));
    assert!(president.choices.iter().any(|choice| choice.name.as_str().contains(" / ")));
    let proposal = definition.contest(&contest_id(&definition, "Proposal 1 - Road improvements")).unwrap();
    assert_eq!(proposal.kind, ContestKind::BallotMeasure);
    assert_eq!(proposal.choices.len(), 2);
    // Contest ids come from the ObjectIds.
    assert!(definition.contests.iter().all(|contest| contest.id.as_str() == contest.id.as_str().to_lowercase()));
}

#[test]
fn prim_01_reads_as_a_primary() {
    let definition = definition("prim-01/err_v2/err-prim-01.xml", DefinitionFormat::NistXml, &state());
    let json = definition_json();
    assert_eq!(definition, json);
    assert_eq!(definition.election.kind, ElectionKind::Primary);
    assert!(!definition.contests.is_empty());
    assert!(!definition.precincts.is_empty());
    for contest in &definition.contests {
        assert!(!definition.coverage[&contest.id].is_empty(), "{} covers no precinct", contest.name.as_str());
    }
}

fn definition_json() -> ElectionDefinition {
    definition("prim-01/err_v2/err-prim-01.json", DefinitionFormat::NistJson, &state())
}

#[test]
fn a_county_election_puts_every_precinct_in_that_county() {
    let scope = scope("ocd-division/country:us/state:ex/county:test", JurisdictionKind::County);
    let definition = definition("gen-01/err_v2/pe-err-gen-01.json", DefinitionFormat::NistJson, &scope);
    assert_eq!(definition.counties, vec![scope.jurisdiction.clone()]);
    assert!(definition.precincts.iter().all(|precinct| precinct.jurisdiction == scope.jurisdiction.id));
}

#[test]
fn a_file_in_another_format_is_refused_whole() {
    let scope = state();
    let csv = b"election,date,kind\nX,2026-11-03,general\n";
    assert!(matches!(read(DefinitionFormat::NistXml, csv, &scope), Err(FormatsError::Refused(_))));
    assert!(matches!(read(DefinitionFormat::NistJson, csv, &scope), Err(FormatsError::Refused(_))));
    let xml = fs::read(Path::new(SYNTHETIC).join("gen-01/err_v2/pe-err-gen-01.xml")).unwrap();
    assert!(matches!(read(DefinitionFormat::Csv, &xml, &scope), Err(FormatsError::Refused(_))));
    // Truncated.
    assert!(matches!(read(DefinitionFormat::NistXml, &xml[..xml.len() / 2], &scope), Err(FormatsError::Refused(_))));
}

const GOOD_CSV: &str = "\
election,date,kind
County General Election,2026-11-03,general

county,precinct,contest,kind,vote_for,choice,party
Alpha County,Precinct 1,,,,,
Alpha County,Precinct 2,,,,,
Beta County,North,,,,,
*,*,Governor,candidate,1,Ann Smith,Democrat
*,*,Governor,,,Bob Jones,Republican
Alpha County,*,County Commissioner,candidate,2,Cy Young,
Alpha County,*,County Commissioner,candidate,2,Di Lane,
Alpha County,*,County Commissioner,candidate,2,Ed Moss,
Alpha County,Precinct 2,Proposal 1,ballot_measure,,Yes,
Alpha County,Precinct 2,Proposal 1,ballot_measure,,No,
Beta County,North,Judge Retention,retention,,Yes,
Beta County,North,Judge Retention,retention,,No,
";

#[test]
fn the_csv_layout_reads_contests_choices_and_coverage() {
    let definition = read(DefinitionFormat::Csv, GOOD_CSV.as_bytes(), &state()).unwrap();
    assert_eq!(definition.election.id.as_str(), "county-general-election-2026-11-03");
    assert_eq!(definition.election.name.as_str(), "County General Election");
    assert_eq!(definition.counties.len(), 2);
    assert_eq!(definition.precincts.len(), 3);
    let names: Vec<&str> = definition.contests.iter().map(|contest| contest.name.as_str()).collect();
    assert_eq!(names, ["Governor", "County Commissioner", "Proposal 1", "Judge Retention"]);
    assert_eq!(covered_names(&definition, "Governor"), ["North", "Precinct 1", "Precinct 2"]);
    assert_eq!(covered_names(&definition, "County Commissioner"), ["Precinct 1", "Precinct 2"]);
    assert_eq!(covered_names(&definition, "Proposal 1"), ["Precinct 2"]);
    let commissioner = definition.contest(&contest_id(&definition, "County Commissioner")).unwrap();
    assert_eq!(commissioner.vote_for.get(), 2);
    assert_eq!(commissioner.choices.len(), 3);
    // A county contest is decided in its county; a statewide one in the state.
    assert_eq!(commissioner.district.as_str(), "ocd-division/country:us/state:ex/county:alpha-county");
    let governor = definition.contest(&contest_id(&definition, "Governor")).unwrap();
    assert_eq!(governor.district.as_str(), "ocd-division/country:us/state:ex");
    assert_eq!(governor.choices[0].party.as_deref(), Some("Democrat"));
    assert_eq!(definition.contest(&contest_id(&definition, "Proposal 1")).unwrap().kind, ContestKind::BallotMeasure);
}

#[test]
fn every_bad_csv_line_is_listed() {
    let bad = "\
election,date,kind
County General Election,2026-13-03,general
county,precinct,contest,kind,vote_for,choice,party
Alpha County,Precinct 1,,,,,
Alpha County,Precinct 1,Governor,candidate,0,Ann Smith,
Alpha County,*,Governor,measure,,Bob Jones,
,Precinct 9,,,,,
Alpha County,,Governor,,,Cy Young,
Alpha County,Precinct 1,Mayor,,,,
Gamma County,*,Sheriff,,,Di Lane,
";
    let Err(FormatsError::Problems(problems)) = read(DefinitionFormat::Csv, bad.as_bytes(), &state()) else {
        panic!("the file should be refused with its problems");
    };
    let lines: Vec<u64> = problems
        .iter()
        .map(|problem| match problem.location {
            Location::Line(line) => line,
            Location::Element(_) => 0,
        })
        .collect();
    for line in [2, 5, 6, 7, 8, 9, 10] {
        assert!(lines.contains(&line), "line {line} not listed in {problems:?}");
    }
    assert!(problems.iter().any(|problem| problem.message.contains("yyyy-mm-dd")));
    assert!(problems.iter().any(|problem| problem.message.contains("vote_for")));
}

#[test]
fn a_csv_without_its_election_header_is_refused() {
    let text = "county,precinct,contest,kind,vote_for,choice,party\nA,B,C,,,D,\n";
    assert!(matches!(read(DefinitionFormat::Csv, text.as_bytes(), &state()), Err(FormatsError::Refused(_))));
    assert!(matches!(read(DefinitionFormat::Csv, b"", &state()), Err(FormatsError::Refused(_))));
}

#[test]
fn a_county_ocd_id_outside_the_state_is_a_problem() {
    let path = Path::new(SYNTHETIC).join("gen-01/err_v2/pe-err-gen-01.xml");
    let text = fs::read_to_string(path).unwrap();
    // Give the county unit an ocd-id of another state.
    let marked = text.replacen(
        "<GpUnit xsi:type=\"ReportingUnit\"\n           ObjectId=\"ru-county-1\">",
        "<GpUnit xsi:type=\"ReportingUnit\"\n           ObjectId=\"ru-county-1\">\n      <ExternalIdentifier><Type>ocd-id</Type><Value>ocd-division/country:us/state:zz/county:test</Value></ExternalIdentifier>",
        1,
    );
    assert_ne!(marked, text, "the county unit was found");
    let Err(FormatsError::Problems(problems)) = read(DefinitionFormat::NistXml, marked.as_bytes(), &state()) else {
        panic!("a county outside the state should be refused");
    };
    assert!(problems.iter().any(|problem| problem.message.contains("is not under")), "{problems:?}");
    // Under the state, the ocd-id is the county's id.
    let good = marked.replace("state:zz/county:test", "state:ex/county:test");
    let definition = read(DefinitionFormat::NistXml, good.as_bytes(), &state()).unwrap();
    assert_eq!(definition.counties[0].id.as_str(), "ocd-division/country:us/state:ex/county:test");
}
