//! The simple CSV layout of an election definition, made to be filled in a spreadsheet and
//! saved as CSV (UTF-8). Two sections, each a header row then rows, blank lines ignored:
//!
//! ```text
//! election,date,kind
//! County General Election,2026-11-03,general
//!
//! county,precinct,contest,kind,vote_for,choice,party
//! Test County,Precinct 1,,,,,
//! Test County,Precinct 2,,,,,
//! Test County,*,County Commissioner,candidate,2,Ann Smith,Democrat
//! Test County,*,County Commissioner,candidate,2,Bob Jones,Republican
//! Test County,*,County Commissioner,candidate,2,Cy Young,
//! Test County,Precinct 2,Proposal 1,ballot_measure,,Yes,
//! Test County,Precinct 2,Proposal 1,ballot_measure,,No,
//! ```
//!
//! - The first section names the election: its name, its day (`yyyy-mm-dd`) and its kind
//!   (`general`, `primary` or `special`).
//! - In the second, columns are found by their header name in any order: `county`, `precinct`,
//!   `contest` and `choice` are required, `kind` (`candidate` when blank, `ballot_measure`,
//!   `retention`), `vote_for` (1 when blank) and `party` optional.
//! - A row with an empty `contest` only lists a precinct. A row with a contest names one choice
//!   of the contest, offered to the voters of one precinct, or of every precinct of the county
//!   listed in the file when `precinct` is `*`, or of every precinct in the file when `county` is
//!   `*` too. A precinct exists by being named on some row.
//! - A contest's choices are in the order first met; its precincts are every precinct of its
//!   rows. Rows of one contest must agree on its kind and vote-for (blank cells agree with
//!   anything), rows of one choice on its party.
//! - When the election's jurisdiction is a county, `county` may be left blank: every precinct
//!   is in that county.
//!
//! Names are compared case-insensitively (a results file is matched by name) but kept as first
//! written. Every problem is listed with its line.

use std::{
    collections::{BTreeSet, HashMap},
    io::Read,
};

use canvass_core::{
    election::{Choice, ContestKind, Election, VoteFor},
    id::{ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::JurisdictionKind,
    results::ElectionDefinition,
};
use time::{Date, format_description::well_known::Iso8601};

use super::{Builder, DefinitionScope};
use crate::{FormatsError, reported::Location};

/// The most bytes a definition file may have: a state's 3,000 precincts and a few hundred
/// contests fit many times over.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Every precinct (of the county, or of the file when the county is `*` too).
const EVERY: &str = "*";

/// Checks that the bytes are readable CSV starting with the election header.
pub fn check_header(bytes: &[u8]) -> Result<(), FormatsError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(FormatsError::Refused(format!("the file is larger than {MAX_FILE_BYTES} bytes")));
    }
    let rows = records(bytes)?;
    match rows.first() {
        None => Err(FormatsError::Refused("the file is empty: it starts with the row election,date,kind".into())),
        Some((_, header)) if folded(header) != ["election", "date", "kind"] => Err(FormatsError::Refused(
            "the first row is not the header election,date,kind: this is not an election definition CSV".into(),
        )),
        Some(_) => Ok(()),
    }
}

/// Reads a definition from the CSV layout.
pub fn read(reader: impl Read, scope: &DefinitionScope) -> Result<ElectionDefinition, FormatsError> {
    let mut limited = reader.take(MAX_FILE_BYTES + 1);
    let mut bytes = Vec::new();
    limited.read_to_end(&mut bytes).map_err(FormatsError::Read)?;
    check_header(&bytes)?;
    let rows = records(&bytes)?;
    let mut rows = rows.into_iter().skip(1);
    let mut builder = Builder::new(scope);
    let election = match rows.next() {
        Some((line, values)) => election(&mut builder, line, &values),
        None => {
            builder.problem(Location::Line(2), "the election row (name, date, kind) is missing");
            None
        }
    };
    let Some((header_line, header)) = rows.next() else {
        builder.problem(
            Location::Line(3),
            "the contest header row (county,precinct,contest,kind,vote_for,choice,party) is missing",
        );
        return builder.finish(None);
    };
    let Some(columns) = Columns::of(&mut builder, header_line, &header) else { return builder.finish(None) };
    let rows: Vec<Row> = rows.filter_map(|(line, record)| columns.row(&mut builder, line, &record)).collect();
    // Contests are checked even when the election row is bad, so every problem is listed.
    let placeholder = ElectionId::parse("election").ok();
    if let Some(id) = election.as_ref().map(|election| election.id.clone()).or(placeholder) {
        contests(&mut builder, &id, &rows);
    }
    builder.finish(election)
}

/// The file's non-blank records with their line numbers.
fn records(bytes: &[u8]) -> Result<Vec<(u64, Vec<String>)>, FormatsError> {
    let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut records = Vec::new();
    for record in csv.records() {
        let record = record.map_err(refusal)?;
        let line = record.position().map_or(0, csv::Position::line);
        let fields: Vec<String> = record.iter().map(|field| field.trim().to_owned()).collect();
        if fields.iter().any(|field| !field.is_empty()) {
            records.push((line, fields));
        }
    }
    Ok(records)
}

fn refusal(error: csv::Error) -> FormatsError {
    let line = error.position().map(|position| format!(" (line {})", position.line())).unwrap_or_default();
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            FormatsError::Refused(format!("the file is not UTF-8 text{line}: save it as UTF-8 and upload it again"))
        }
        _ => FormatsError::Refused(format!("the file is not readable CSV{line}: {error}")),
    }
}

fn folded(fields: &[String]) -> Vec<String> {
    let mut folded: Vec<String> = fields.iter().map(|field| field.to_ascii_lowercase()).collect();
    while folded.last().is_some_and(String::is_empty) {
        folded.pop();
    }
    folded
}

fn election(builder: &mut Builder, line: u64, values: &[String]) -> Option<Election> {
    let location = Location::Line(line);
    let field = |index: usize| values.get(index).map_or("", String::as_str);
    let name = builder.name(&location, "election", field(0));
    let date = match Date::parse(field(1), &Iso8601::DATE) {
        Ok(date) => Some(date),
        Err(_) => {
            builder.problem(location.clone(), "date: write the election day as yyyy-mm-dd");
            None
        }
    };
    let kind = super::election_kind(field(2));
    if kind.is_none() {
        builder.problem(location.clone(), "kind: the election kind must be general, primary or special");
    }
    let (name, date, kind) = (name?, date?, kind?);
    let id = builder.election_id(&location, name.as_str(), date)?;
    Some(Election { id, jurisdiction: builder.scope.jurisdiction.id.clone(), name, kind, date })
}

/// Where each column is.
struct Columns {
    county: usize,
    precinct: usize,
    contest: usize,
    choice: usize,
    kind: Option<usize>,
    vote_for: Option<usize>,
    party: Option<usize>,
}

/// One contest row (or precinct row when `contest` is empty), trimmed.
struct Row {
    line: u64,
    county: String,
    precinct: String,
    contest: String,
    choice: String,
    kind: String,
    vote_for: String,
    party: String,
}

impl Columns {
    fn of(builder: &mut Builder, line: u64, header: &[String]) -> Option<Self> {
        let header = folded(header);
        let find = |name: &str| header.iter().position(|column| column.replace([' ', '-'], "_") == name);
        let mut required = |name: &str| {
            let found = find(name);
            if found.is_none() {
                builder.problem(Location::Line(line), format!("the header has no {name} column"));
            }
            found
        };
        let (county, precinct, contest, choice) =
            (required("county"), required("precinct"), required("contest"), required("choice"));
        Some(Self {
            county: county?,
            precinct: precinct?,
            contest: contest?,
            choice: choice?,
            kind: find("kind"),
            vote_for: find("vote_for"),
            party: find("party"),
        })
    }

    fn row(&self, builder: &mut Builder, line: u64, record: &[String]) -> Option<Row> {
        let cell = |index: Option<usize>| index.and_then(|index| record.get(index)).cloned().unwrap_or_default();
        let row = Row {
            line,
            county: cell(Some(self.county)),
            precinct: cell(Some(self.precinct)),
            contest: cell(Some(self.contest)),
            choice: cell(Some(self.choice)),
            kind: cell(self.kind),
            vote_for: cell(self.vote_for),
            party: cell(self.party),
        };
        let location = Location::Line(line);
        if row.precinct.is_empty() {
            builder.problem(location, "precinct is empty (a precinct's name, or * for every precinct)");
            return None;
        }
        if row.contest.is_empty() && row.precinct == EVERY {
            builder.problem(location, "a row without a contest lists one precinct: precinct cannot be *");
            return None;
        }
        if row.contest.is_empty() != row.choice.is_empty() {
            builder.problem(location, "contest and choice are filled together (or both left empty to list a precinct)");
            return None;
        }
        if row.county == EVERY && row.precinct != EVERY {
            builder.problem(location, "county is * only when precinct is * too");
            return None;
        }
        Some(row)
    }
}

/// A contest as its rows build it.
struct Gathered {
    line: u64,
    name: String,
    kind: Option<ContestKind>,
    vote_for: Option<VoteFor>,
    choices: Vec<Choice>,
    precincts: BTreeSet<PrecinctId>,
}

fn contests(builder: &mut Builder, election: &ElectionId, rows: &[Row]) {
    let precincts = precincts(builder, rows);
    let mut gathered: Vec<Gathered> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for row in rows.iter().filter(|row| !row.contest.is_empty()) {
        let key = row.contest.to_lowercase();
        let index = *by_name.entry(key).or_insert_with(|| {
            gathered.push(Gathered {
                line: row.line,
                name: row.contest.clone(),
                kind: None,
                vote_for: None,
                choices: Vec::new(),
                precincts: BTreeSet::new(),
            });
            gathered.len() - 1
        });
        if let Some(contest) = gathered.get_mut(index) {
            add_row(builder, &precincts, contest, row);
        }
    }
    for contest in gathered {
        let location = Location::Line(contest.line);
        let kind = contest.kind.unwrap_or(ContestKind::Candidate);
        let vote_for = contest.vote_for.unwrap_or(VoteFor::ONE);
        builder.contest(
            &location,
            election,
            &contest.name,
            &contest.name,
            kind,
            vote_for,
            contest.choices,
            contest.precincts,
        );
    }
}

/// Every precinct named on a row, by (county id, folded name), in file order.
fn precincts(builder: &mut Builder, rows: &[Row]) -> Vec<(JurisdictionId, String, PrecinctId)> {
    let mut precincts: Vec<(JurisdictionId, String, PrecinctId)> = Vec::new();
    for row in rows.iter().filter(|row| row.precinct != EVERY) {
        let location = Location::Line(row.line);
        let Some(county) = county(builder, &location, &row.county) else { continue };
        let folded = row.precinct.to_lowercase();
        if precincts.iter().any(|(known, name, _)| *known == county && *name == folded) {
            continue;
        }
        if let Some(id) = builder.precinct(&location, &county, &row.precinct, None) {
            precincts.push((county, folded, id));
        }
    }
    precincts
}

fn county(builder: &mut Builder, location: &Location, name: &str) -> Option<JurisdictionId> {
    if name.is_empty() && builder.scope.jurisdiction.kind == JurisdictionKind::State {
        builder.problem(location.clone(), "county is empty: name the precinct's county");
        return None;
    }
    builder.county(location, name, None)
}

fn add_row(
    builder: &mut Builder,
    precincts: &[(JurisdictionId, String, PrecinctId)],
    contest: &mut Gathered,
    row: &Row,
) {
    let location = Location::Line(row.line);
    if !row.kind.is_empty() {
        match ContestKind::parse(&row.kind) {
            Ok(kind) if contest.kind.is_none_or(|known| known == kind) => contest.kind = Some(kind),
            Ok(_) => builder.problem(location.clone(), "kind differs from the contest's earlier rows"),
            Err(_) => builder.problem(location.clone(), "kind must be candidate, ballot_measure or retention"),
        }
    }
    if !row.vote_for.is_empty() {
        match row.vote_for.parse::<u32>().ok().and_then(|count| VoteFor::parse(count).ok()) {
            Some(vote_for) if contest.vote_for.is_none_or(|known| known == vote_for) => {
                contest.vote_for = Some(vote_for)
            }
            Some(_) => builder.problem(location.clone(), "vote_for differs from the contest's earlier rows"),
            None => builder.problem(location.clone(), "vote_for must be a whole number from 1 to 99"),
        }
    }
    let party = Some(row.party.clone()).filter(|party| !party.is_empty());
    match contest.choices.iter().find(|choice| choice.name.as_str().eq_ignore_ascii_case(&row.choice)) {
        Some(choice) if choice.party.as_deref().map(str::to_lowercase) != party.as_deref().map(str::to_lowercase) => {
            builder.problem(location.clone(), "party differs from the choice's earlier rows");
        }
        Some(_) => {}
        None => {
            if let Some(name) = builder.name(&location, "choice", &row.choice) {
                contest.choices.push(Choice { name, party });
            }
        }
    }
    covered(builder, precincts, contest, row, &location);
}

/// Adds the row's precincts to the contest's.
fn covered(
    builder: &mut Builder,
    precincts: &[(JurisdictionId, String, PrecinctId)],
    contest: &mut Gathered,
    row: &Row,
    location: &Location,
) {
    if row.county == EVERY {
        contest.precincts.extend(precincts.iter().map(|(_, _, id)| id.clone()));
        return;
    }
    let Some(county) = county(builder, location, &row.county) else { return };
    let folded = row.precinct.to_lowercase();
    let before = contest.precincts.len();
    contest.precincts.extend(
        precincts
            .iter()
            .filter(|(known, name, _)| *known == county && (row.precinct == EVERY || *name == folded))
            .map(|(_, _, id)| id.clone()),
    );
    if row.precinct == EVERY
        && contest.precincts.len() == before
        && !precincts.iter().any(|(known, _, _)| *known == county)
    {
        builder.problem(location.clone(), "precinct is * but no precinct of this county is listed in the file");
    }
}
