//! OpenElections' precinct-level results CSV: one row per choice per precinct, with a header
//! naming the columns, e.g. `county,precinct,office,district,party,candidate,votes,
//! absentee_by_mail,advance_in_person,election_day,provisional` (Georgia's files; see
//! `shared/data/results/openelections-ga`).
//!
//! Columns are found by their header name, so states' variants read alike: `county`,
//! `precinct`, `office`, `candidate` and `votes` are required; `district` and `party` are read
//! when present; any column whose name is a vote type ([`VoteType::from_label`]: `election_day`,
//! `early_voting`, `advance_in_person`, `absentee_by_mail`, `mail`, `provisional`...) is one part
//! of `votes`, and the parts must sum to it. Other columns are ignored.
//!
//! OpenElections writes a precinct's totals as rows too: an office or candidate named `Ballots
//! Cast` gives the ballots cast there and `Registered Voters` the registered voters; `Over
//! Votes` and `Under Votes` rows are not choices and are skipped.

use std::io::Read;

use crate::{
    FormatsError,
    reported::{Location, ReportedCount, ReportedPrecinct, ReportedResults, VoteType, check_parts, parse_count},
};

const REQUIRED: [&str; 5] = ["county", "precinct", "office", "candidate", "votes"];

/// Where each column the reader uses sits in a row.
struct Columns {
    county: usize,
    precinct: usize,
    office: usize,
    district: Option<usize>,
    party: Option<usize>,
    candidate: usize,
    votes: usize,
    parts: Vec<(VoteType, usize, String)>,
}

impl Columns {
    fn of(header: &csv::StringRecord) -> Result<Self, FormatsError> {
        let names: Vec<String> = header.iter().map(|name| name.trim().to_ascii_lowercase()).collect();
        let find = |wanted: &str| names.iter().position(|name| name == wanted);
        let missing: Vec<&str> = REQUIRED.iter().copied().filter(|name| find(name).is_none()).collect();
        if !missing.is_empty() {
            return Err(FormatsError::Refused(format!(
                "this is not an OpenElections results file: the header lacks the column{} {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            )));
        }
        let required = |name: &str| find(name).unwrap_or_default();
        let mut parts: Vec<(VoteType, usize, String)> = Vec::new();
        for (index, name) in names.iter().enumerate() {
            let Some(kind) = VoteType::from_label(name) else { continue };
            if parts.iter().any(|(seen, _, _)| *seen == kind) {
                return Err(FormatsError::Refused(format!(
                    "the header has two columns for the vote type {} (one is {name})",
                    kind.as_str()
                )));
            }
            parts.push((kind, index, name.clone()));
        }
        Ok(Self {
            county: required("county"),
            precinct: required("precinct"),
            office: required("office"),
            district: find("district"),
            party: find("party"),
            candidate: required("candidate"),
            votes: required("votes"),
            parts,
        })
    }
}

/// The kind of row a precinct-total row is, by its office or candidate name.
enum TotalRow {
    BallotsCast,
    RegisteredVoters,
    NotAChoice,
}

fn total_row(office: &str, candidate: &str) -> Option<TotalRow> {
    [office, candidate].into_iter().find_map(|name| match name.trim().to_ascii_lowercase().as_str() {
        "ballots cast" | "total ballots cast" => Some(TotalRow::BallotsCast),
        "registered voters" => Some(TotalRow::RegisteredVoters),
        "over votes" | "overvotes" | "under votes" | "undervotes" => Some(TotalRow::NotAChoice),
        _ => None,
    })
}

fn optional(record: &csv::StringRecord, index: Option<usize>) -> Option<String> {
    index.and_then(|index| record.get(index)).map(str::trim).filter(|text| !text.is_empty()).map(String::from)
}

/// Reads a whole OpenElections CSV file. A file that cannot be one (no header, a missing
/// required column, text that is not UTF-8) is an error; everything wrong with single rows is
/// gathered in [`ReportedResults::problems`].
pub fn read(reader: impl Read) -> Result<ReportedResults, FormatsError> {
    let mut csv = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(reader);
    let header = csv.headers().map_err(refusal)?.clone();
    if header.is_empty() || header.iter().all(|name| name.trim().is_empty()) {
        return Err(FormatsError::Refused("the file is empty: no header row".into()));
    }
    let columns = Columns::of(&header)?;
    let mut results = ReportedResults::default();
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, csv::Position::line);
                read_row(&columns, header.len(), &record, Location::Line(line), &mut results);
            }
            Err(error) => return Err(refusal(error)),
        }
    }
    Ok(results)
}

fn refusal(error: csv::Error) -> FormatsError {
    let line = error.position().map(|position| format!(" (line {})", position.line())).unwrap_or_default();
    match error.kind() {
        csv::ErrorKind::Io(_) => FormatsError::Read(std::io::Error::other(error.to_string())),
        csv::ErrorKind::Utf8 { .. } => {
            FormatsError::Refused(format!("the file is not UTF-8 text{line}: save it as UTF-8 and upload it again"))
        }
        _ => FormatsError::Refused(format!("the file is not readable CSV{line}: {error}")),
    }
}

fn read_row(
    columns: &Columns,
    width: usize,
    record: &csv::StringRecord,
    location: Location,
    results: &mut ReportedResults,
) {
    if record.len() != width {
        results.problem(location, format!("the row has {} fields; the header has {width}", record.len()));
        return;
    }
    let field = |index: usize| record.get(index).unwrap_or_default().trim();
    let (county, precinct, office, candidate) =
        (field(columns.county), field(columns.precinct), field(columns.office), field(columns.candidate));
    let mut named = true;
    for (name, value) in [("county", county), ("precinct", precinct)] {
        if value.is_empty() {
            results.problem(location.clone(), format!("{name} is empty"));
            named = false;
        }
    }
    let votes = parse_count("votes", field(columns.votes));
    if let Some(kind) = total_row(office, candidate) {
        let votes = match votes {
            Ok(votes) => votes,
            Err(message) => return results.problem(location, message),
        };
        if named {
            record_total(results, kind, location, county, precinct, votes);
        }
        return;
    }
    if office.is_empty() {
        results.problem(location.clone(), "office is empty");
        named = false;
    }
    if candidate.is_empty() {
        results.problem(location.clone(), "candidate is empty");
        named = false;
    }
    let mut parts = Vec::with_capacity(columns.parts.len());
    let mut counted = true;
    for (kind, index, name) in &columns.parts {
        match parse_count(name, field(*index)) {
            Ok(count) => parts.push((*kind, count)),
            Err(message) => {
                results.problem(location.clone(), message);
                counted = false;
            }
        }
    }
    let total = match votes {
        Ok(total) => total,
        Err(message) => return results.problem(location, message),
    };
    if !counted || !named {
        return;
    }
    if let Err(message) = check_parts(total, &parts) {
        return results.problem(location, message);
    }
    results.counts.push(ReportedCount {
        location,
        county: Some(county.to_owned()),
        precinct: precinct.to_owned(),
        contest: office.to_owned(),
        district: optional(record, columns.district),
        party: optional(record, columns.party),
        choice: candidate.to_owned(),
        total,
        parts,
    });
}

fn record_total(
    results: &mut ReportedResults,
    kind: TotalRow,
    location: Location,
    county: &str,
    precinct: &str,
    votes: u64,
) {
    let slot = |results: &mut ReportedResults| -> usize {
        let found = results
            .precincts
            .iter()
            .position(|known| known.county.as_deref() == Some(county) && known.precinct == precinct);
        found.unwrap_or_else(|| {
            results.precincts.push(ReportedPrecinct {
                location: location.clone(),
                county: Some(county.to_owned()),
                precinct: precinct.to_owned(),
                ballots_cast: None,
                registered_voters: None,
            });
            results.precincts.len() - 1
        })
    };
    match kind {
        TotalRow::NotAChoice => {}
        TotalRow::BallotsCast => {
            let index = slot(results);
            results.precincts[index].ballots_cast = Some(votes);
        }
        TotalRow::RegisteredVoters => {
            let index = slot(results);
            results.precincts[index].registered_voters = Some(votes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GEORGIA: &str = "../../../shared/data/results/openelections-ga/20181106__ga__general__clarke__precinct.csv";

    fn check(text: &str) -> Result<ReportedResults, FormatsError> {
        read(text.as_bytes())
    }

    #[test]
    fn the_real_clarke_county_file_reads_without_a_problem() {
        let file = std::fs::File::open(GEORGIA).expect("the shared Georgia file is present");
        let results = read(file).expect("the file reads");
        assert_eq!(results.problems, Vec::new());
        // 1,173 lines: the header and 1,172 rows, every one a choice in a precinct.
        assert_eq!(results.counts.len(), 1_172);
        let kemp: u64 = results
            .counts
            .iter()
            .filter(|count| count.contest == "Governor" && count.choice == "BRIAN KEMP")
            .map(|count| count.total)
            .sum();
        let first = &results.counts[0];
        assert_eq!(
            (first.precinct.as_str(), first.total, first.parts.len(), first.location.clone()),
            ("1A W'ville Train Depot", 604, 4, Location::Line(2))
        );
        assert_eq!(first.parts.iter().map(|(_, votes)| votes).sum::<u64>(), 604);
        // Summed independently with Python's csv module over the same file.
        assert_eq!(kemp, 12_365);
        let precincts: std::collections::BTreeSet<&str> =
            results.counts.iter().map(|count| count.precinct.as_str()).collect();
        assert_eq!(precincts.len(), 24);
        let comma = results.counts.iter().find(|count| count.choice.contains(','));
        assert_eq!(comma.map(|count| count.choice.as_str()), Some("OTHA E. THORNTON, JR"));
    }

    #[test]
    fn every_problem_in_a_file_is_listed_with_its_line() {
        let results = check(
            "county,precinct,office,district,party,candidate,votes,election_day,absentee_by_mail\n\
             Clarke,1A,Governor,,REP,KEMP,10,6,4\n\
             Clarke,1A,Governor,,DEM,ABRAMS,-2,0,0\n\
             Clarke,1B,Governor,,REP,KEMP,10,6,5\n\
             Clarke,,Governor,,REP,KEMP,1,1,0\n\
             Clarke,1C,Governor,,REP,KEMP,seven,1,0\n\
             Clarke,1C,Governor,,REP\n",
        )
        .expect("a CSV file");
        let listed: Vec<String> = results.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            listed,
            [
                "line 3: votes is negative (-2)",
                "line 4: the vote types sum to 11 (election_day 6 + absentee_by_mail 5), not the total 10",
                "line 5: precinct is empty",
                "line 6: votes is not a whole number (\"seven\")",
                "line 7: the row has 5 fields; the header has 9",
            ]
        );
        assert_eq!(results.counts.len(), 1);
    }

    #[test]
    fn ballots_cast_and_registered_voters_rows_are_precinct_totals() {
        let results = check(
            "county,precinct,office,district,party,candidate,votes\n\
             Clarke,1A,Ballots Cast,,,,120\n\
             Clarke,1A,Registered Voters,,,,300\n\
             Clarke,1A,Governor,,,Under Votes,3\n\
             Clarke,1A,Governor,,REP,KEMP,100\n",
        )
        .expect("a CSV file");
        assert_eq!(results.problems, Vec::new());
        assert_eq!(results.precincts.len(), 1);
        assert_eq!((results.precincts[0].ballots_cast, results.precincts[0].registered_voters), (Some(120), Some(300)));
        assert_eq!(results.counts.len(), 1);
        assert_eq!(results.counts[0].parts, Vec::new());
    }

    #[test]
    fn a_file_of_another_kind_is_refused_whole() {
        let refusal = check("name,age\nx,1\n").unwrap_err().to_string();
        assert_eq!(
            refusal,
            "this is not an OpenElections results file: the header lacks the columns county, precinct, office, candidate, votes"
        );
        assert!(check("").unwrap_err().to_string().contains("empty"));
        let latin1 = b"county,precinct,office,district,party,candidate,votes\nClarke,Pe\xf1a,Governor,,,X,1\n";
        assert!(read(&latin1[..]).unwrap_err().to_string().contains("not UTF-8"));
        assert!(
            check("county,precinct,office,candidate,votes,early,advance_in_person\n")
                .unwrap_err()
                .to_string()
                .contains("two columns for the vote type early")
        );
    }
}
