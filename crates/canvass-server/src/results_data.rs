//! The data files of a results snapshot, beside its pages: `summary.json` (the statewide
//! totals of every contest by choice and vote type, precincts reporting, turnout),
//! `contests/{slug}.json` (a contest statewide and by county), `counties/{slug}.json` (a county's
//! totals and each of its precincts' counts), and per county the precinct-level counts as CSV
//! (`counties/{slug}/results.csv`) and as NIST SP 1500-100 v2 XML and JSON
//! (`counties/{slug}/results.xml`, `counties/{slug}/results.json`).
//!
//! Precinct-level files are per county rather than statewide: a state-size election's
//! precinct-level NIST XML is over 100 MB, remade, hashed and compressed on every county's
//! upload; per county, an upload changes only that county's files (`docs/PERFORMANCE.md`).

use std::collections::BTreeSet;

use canvass_core::{
    election::Contest,
    results::{ContestTally, ElectionResults, PrecinctReturn, Tally, VoteType, Votes},
};
use canvass_formats::nist_results::{self, ReportHeader};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::{
    ServerError,
    site_file::{CSV, JSON, SiteContext, SiteFile, XML, slug},
};

/// The CSV's header, the same in every county's file.
pub const CSV_HEADER: [&str; 13] = [
    "county_id",
    "county",
    "precinct_id",
    "precinct",
    "contest_id",
    "contest",
    "choice",
    "party",
    "votes",
    "election_day",
    "early",
    "absentee_by_mail",
    "provisional",
];

/// A county's files as last rendered (its JSON, and its precinct-level CSV and NIST files),
/// by election and county, with what they were rendered from: a county whose returns did not
/// change is not rendered (nor hashed) again.
#[derive(Debug, Default)]
pub struct CountyFiles {
    rendered: std::sync::Mutex<std::collections::HashMap<String, (CountyInputs, Vec<SiteFile>)>>,
}

/// Everything a county's files are made from. Kept as values and compared, rather than
/// serialized and hashed: comparing a county's returns costs far less than encoding them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CountyInputs {
    definition_sha256: String,
    precincts: Vec<(Option<PrecinctReturn>, Option<u64>)>,
    version: (u64, String),
    certified: bool,
    precincts_reported: usize,
}

/// Every data file of the snapshot.
pub fn data_files(
    results: &ElectionResults,
    tally: &Tally,
    context: &SiteContext,
) -> Result<Vec<SiteFile>, ServerError> {
    data_files_with(results, tally, context, &CountyFiles::default())
}

/// [`data_files`], reusing the counties' files rendered before from the same inputs.
pub fn data_files_with(
    results: &ElectionResults,
    tally: &Tally,
    context: &SiteContext,
    cache: &CountyFiles,
) -> Result<Vec<SiteFile>, ServerError> {
    let published_at = rfc3339(context)?;
    let mut files = vec![json_file("summary.json", &summary(results, tally, context, &published_at))?];
    for contest in &results.definition.contests {
        let path = format!("contests/{}.json", slug(contest.id.as_str()));
        files.push(json_file(&path, &contest_json(results, tally, contest))?);
    }
    let definition_sha256 = crate::results_publish::definition_sha256(&results.definition)?;
    for county in &results.definition.counties {
        let key = format!("{}/{}", results.definition.election.id.as_str(), county.id.as_str());
        let inputs = county_inputs(results, county, &definition_sha256)?;
        let cached = cache.rendered.lock().ok().and_then(|rendered| {
            rendered.get(&key).filter(|(made_from, _)| *made_from == inputs).map(|(_, files)| files.clone())
        });
        let county_files = match cached {
            Some(county_files) => county_files,
            None => {
                let county_files = render_county(results, tally, county)?;
                if let Ok(mut rendered) = cache.rendered.lock() {
                    rendered.insert(key, (inputs, county_files.clone()));
                }
                county_files
            }
        };
        files.extend(county_files);
    }
    Ok(files)
}

/// A county's JSON and its precinct-level files, each with its SHA-256.
fn render_county(
    results: &ElectionResults,
    tally: &Tally,
    county: &canvass_core::jurisdiction::Jurisdiction,
) -> Result<Vec<SiteFile>, ServerError> {
    let county_slug = slug(county.id.as_str());
    let mut files = vec![json_file(&format!("counties/{county_slug}.json"), &county_json(results, tally, county)?)?];
    files.extend(county_files(results, county, &county_slug)?);
    Ok(files.into_iter().map(SiteFile::with_sha256).collect())
}

/// Everything a county's files are made from: the definition (by hash), its precincts'
/// returns and registration, when its numbers last changed, certification, and how many
/// precincts statewide have reported.
fn county_inputs(
    results: &ElectionResults,
    county: &canvass_core::jurisdiction::Jurisdiction,
    definition_sha256: &str,
) -> Result<CountyInputs, ServerError> {
    let precincts = results
        .definition
        .precincts
        .iter()
        .filter(|precinct| precinct.jurisdiction == county.id)
        .map(|precinct| (results.returns.get(&precinct.id).cloned(), results.registered.get(&precinct.id).copied()))
        .collect();
    Ok(CountyInputs {
        definition_sha256: definition_sha256.to_owned(),
        precincts,
        version: county_version(results, &county.id)?,
        certified: results.is_certified(),
        precincts_reported: results.returns.len(),
    })
}

/// A county's precinct-level counts as CSV and as NIST 1500-100 XML and JSON.
fn county_files(
    results: &ElectionResults,
    county: &canvass_core::jurisdiction::Jurisdiction,
    county_slug: &str,
) -> Result<Vec<SiteFile>, ServerError> {
    let mut files =
        vec![SiteFile::new(format!("counties/{county_slug}/results.csv"), CSV, county_csv(results, county)?)];
    let (sequence, generated_date) = county_version(results, &county.id)?;
    let header = ReportHeader {
        generated_date,
        issuer: results.definition.election.name.as_str().to_owned(),
        issuer_abbreviation: issuer_abbreviation(results),
        sequence,
        vendor_application_id: format!("Canvass {}", env!("CARGO_PKG_VERSION")),
    };
    let only = BTreeSet::from([county.id.clone()]);
    let report = nist_results::report_of_results(results, Some(&only), &header);
    let mut xml = Vec::new();
    nist_results::write_xml(&report, &mut xml).map_err(|error| ServerError::Internal(error.to_string()))?;
    files.push(SiteFile::new(format!("counties/{county_slug}/results.xml"), XML, xml));
    let mut nist_json = Vec::new();
    nist_results::write_json(&report, &mut nist_json).map_err(|error| ServerError::Internal(error.to_string()))?;
    files.push(SiteFile::new(format!("counties/{county_slug}/results.json"), JSON, nist_json));
    Ok(files)
}

/// The sequence and time of the last accepted change touching the county (a change naming no
/// county touches all): a county's NIST files say when its numbers last changed, so they stay
/// byte for byte the same, and are neither stored nor compressed again, while other counties
/// report. Before any change, 1 and the election day.
fn county_version(
    results: &ElectionResults,
    county: &canvass_core::id::JurisdictionId,
) -> Result<(u64, String), ServerError> {
    let last =
        results.changes.iter().rev().find(|change| change.county.as_ref().is_none_or(|changed| changed == county));
    let at = match last {
        Some(change) => change.at,
        None => results.definition.election.date.midnight().assume_utc(),
    };
    let text = at.format(&Rfc3339).map_err(|error| ServerError::Internal(error.to_string()))?;
    Ok((last.map_or(1, |change| change.sequence.max(1)), text))
}

fn rfc3339(context: &SiteContext) -> Result<String, ServerError> {
    context.published_at.format(&Rfc3339).map_err(|error| ServerError::Internal(error.to_string()))
}

fn issuer_abbreviation(results: &ElectionResults) -> String {
    let id = results.definition.election.jurisdiction.as_str();
    let segment = id.rsplit('/').next().unwrap_or(id);
    segment.rsplit(':').next().unwrap_or(segment).to_ascii_uppercase()
}

fn json_file(path: &str, value: &Value) -> Result<SiteFile, ServerError> {
    let body = serde_json::to_vec(value).map_err(|error| ServerError::Internal(error.to_string()))?;
    Ok(SiteFile::new(path, JSON, body))
}

/// A count with its split by vote type (all zero when it was reported as a total only).
pub fn votes_json(votes: &Votes) -> Value {
    let mut object = serde_json::Map::new();
    object.insert("total".into(), votes.total.into());
    for kind in VoteType::ALL {
        object.insert(kind.as_str().into(), votes.of(kind).into());
    }
    Value::Object(object)
}

fn contest_totals(contest: &Contest, contest_tally: Option<&ContestTally>) -> Value {
    let choices: Vec<Value> = contest
        .choices
        .iter()
        .enumerate()
        .map(|(index, choice)| {
            let votes = contest_tally.and_then(|tally| tally.choices.get(index)).copied().unwrap_or_default();
            json!({"name": choice.name.as_str(), "party": choice.party, "votes": votes_json(&votes)})
        })
        .collect();
    json!({
        "id": contest.id.as_str(),
        "slug": slug(contest.id.as_str()),
        "name": contest.name.as_str(),
        "kind": contest.kind.as_str(),
        "vote_for": contest.vote_for.get(),
        "precincts": contest_tally.map_or(0, |tally| tally.precincts),
        "precincts_reporting": contest_tally.map_or(0, |tally| tally.precincts_reporting),
        "choices": choices,
    })
}

fn summary(results: &ElectionResults, tally: &Tally, context: &SiteContext, published_at: &str) -> Value {
    let election = &results.definition.election;
    let state = &tally.state;
    json!({
        "election": {
            "id": election.id.as_str(),
            "name": election.name.as_str(),
            "date": election.date.to_string(),
            "jurisdiction": election.jurisdiction.as_str(),
        },
        "sequence": context.sequence,
        "last_updated": published_at,
        "certified": results.is_certified(),
        "precincts": state.precincts,
        "precincts_reporting": state.precincts_reporting,
        "ballots_cast": votes_json(&state.ballots_cast),
        "registered": state.registered,
        "turnout_percent": state.turnout(),
        "contests": results
            .definition
            .contests
            .iter()
            .map(|contest| contest_totals(contest, state.contests.get(&contest.id)))
            .collect::<Vec<_>>(),
    })
}

fn contest_json(results: &ElectionResults, tally: &Tally, contest: &Contest) -> Value {
    let mut value = contest_totals(contest, tally.state.contests.get(&contest.id));
    let counties: Vec<Value> = results
        .definition
        .counties
        .iter()
        .filter_map(|county| {
            let county_tally = tally.counties.get(&county.id)?.contests.get(&contest.id)?;
            let mut entry = contest_totals(contest, Some(county_tally));
            entry["county"] =
                json!({"id": county.id.as_str(), "slug": slug(county.id.as_str()), "name": county.name.as_str()});
            Some(entry)
        })
        .collect();
    value["counties"] = Value::Array(counties);
    value
}

fn county_json(
    results: &ElectionResults,
    tally: &Tally,
    county: &canvass_core::jurisdiction::Jurisdiction,
) -> Result<Value, ServerError> {
    let area = tally.counties.get(&county.id).cloned().unwrap_or_default();
    let definition = &results.definition;
    let contests: Vec<Value> = definition
        .contests
        .iter()
        .filter_map(|contest| area.contests.get(&contest.id).map(|tally| contest_totals(contest, Some(tally))))
        .collect();
    let precincts: Vec<Value> = definition
        .precincts
        .iter()
        .filter(|precinct| precinct.jurisdiction == county.id)
        .map(|precinct| {
            let reported = results.returns.get(&precinct.id);
            let contests: Vec<Value> = reported
                .map(|precinct_return| {
                    precinct_return
                        .contests
                        .iter()
                        .map(|contest_return| {
                            json!({
                                "id": contest_return.contest.as_str(),
                                "choices": contest_return.choices.iter().map(votes_json).collect::<Vec<_>>(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "id": precinct.id.as_str(),
                "name": precinct.name.as_str(),
                "reported": reported.is_some(),
                "ballots_cast": reported.and_then(|it| it.ballots_cast).map(|votes| votes_json(&votes)),
                "registered": results.registered.get(&precinct.id),
                "contests": contests,
            })
        })
        .collect();
    Ok(json!({
        "id": county.id.as_str(),
        "slug": slug(county.id.as_str()),
        "name": county.name.as_str(),
        "precincts": area.precincts,
        "precincts_reporting": area.precincts_reporting,
        "ballots_cast": votes_json(&area.ballots_cast),
        "registered": area.registered,
        "turnout_percent": area.turnout(),
        "contests": contests,
        "precinct_results": precincts,
    }))
}

/// The county's precinct-level counts, one row per precinct, contest and choice.
fn county_csv(
    results: &ElectionResults,
    county: &canvass_core::jurisdiction::Jurisdiction,
) -> Result<Vec<u8>, ServerError> {
    let definition = &results.definition;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |error: csv::Error| ServerError::Internal(error.to_string());
    writer.write_record(CSV_HEADER).map_err(failed)?;
    for precinct in definition.precincts.iter().filter(|precinct| precinct.jurisdiction == county.id) {
        let Some(precinct_return) = results.returns.get(&precinct.id) else { continue };
        for contest_return in &precinct_return.contests {
            let Some(contest) = definition.contest(&contest_return.contest) else { continue };
            for (choice, votes) in contest.choices.iter().zip(&contest_return.choices) {
                let numbers: Vec<String> = std::iter::once(votes.total)
                    .chain(VoteType::ALL.into_iter().map(|kind| votes.of(kind)))
                    .map(|number| number.to_string())
                    .collect();
                let mut record = vec![
                    county.id.as_str(),
                    county.name.as_str(),
                    precinct.id.as_str(),
                    precinct.name.as_str(),
                    contest.id.as_str(),
                    contest.name.as_str(),
                    choice.name.as_str(),
                    choice.party.as_deref().unwrap_or(""),
                ];
                record.extend(numbers.iter().map(String::as_str));
                writer.write_record(&record).map_err(failed)?;
            }
        }
    }
    writer.into_inner().map_err(|error| ServerError::Internal(error.to_string()))
}
