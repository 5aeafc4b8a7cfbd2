//! The North Carolina State Board of Elections voter history file (`ncvhis`): tab-delimited, one
//! ballot cast (or one recorded non-vote) per line, the 15 columns of the "Voter History File"
//! section of `NorthCarolina_layout_older.txt`.
//!
//! [`NcVhisReader`] follows the conventions of the voter file's reader ([`crate::ncvoter`]): it
//! streams the file row by row; columns are matched by the header's names (case-insensitive,
//! extra columns ignored), and a file without a header must have exactly the 15 columns in layout
//! order; a bad row becomes a [`RowError`] naming its line, column and reason, and reading goes
//! on. A row links to its voter in the voter file through `ncid`, the statewide identifier
//! (`voter_reg_num` is only unique within a county).
//!
//! Voter history is a public record in North Carolina (who voted, how, and in a primary which
//! party's ballot): no column here is confidential, so records print in full.

use std::io::BufRead;

use time::Date;

use crate::FormatsError;
pub use crate::ncvoter::RowError;
use crate::{
    ncvoter::parse_date,
    tab_lines::{RowShape, TabLines, split},
};

/// The columns, in layout order.
pub const COLUMNS: [&str; 15] = [
    "county_id",
    "county_desc",
    "voter_reg_num",
    "election_lbl",
    "election_desc",
    "voting_method",
    "voted_party_cd",
    "voted_party_desc",
    "pct_label",
    "pct_description",
    "ncid",
    "voted_county_id",
    "voted_county_desc",
    "vtd_label",
    "vtd_description",
];

/// Columns every row must fill: without them a row names no voter or no election.
const REQUIRED: [&str; 5] = ["county_id", "voter_reg_num", "election_lbl", "voting_method", "ncid"];

/// The longest line accepted; a real row is under 400 bytes.
const MAX_LINE_BYTES: usize = 4 * 1024;

/// The layout's widest identifiers (`char 12`).
const MAX_IDENTIFIER_LENGTH: usize = 12;

fn column_index(name: &str) -> Option<usize> {
    let lower = name.trim().trim_matches('"').to_ascii_lowercase();
    COLUMNS.iter().position(|column| *column == lower)
}

/// One history row, every value checked: the required ones are present, dates and county
/// numbers parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NcVhisRecord {
    /// The 1-based line of the file it came from.
    pub line: u64,
    /// The county the voter is registered in (`county_id`), 1-100.
    pub county_id: u16,
    /// The county's registration number (`voter_reg_num`); unique within the county only.
    pub registration_number: String,
    /// The statewide voter identifier that links the row to the voter file.
    pub ncid: String,
    /// The election's day (`election_lbl`).
    pub election_date: Date,
    /// The election's name (`election_desc`), e.g. `11/03/2020 GENERAL`; may be empty.
    pub election_description: String,
    /// How the ballot was cast (`voting_method`), e.g. `IN-PERSON`, `ABSENTEE ONESTOP`.
    pub voting_method: String,
    /// The party code of the ballot (`voted_party_cd`); in a primary, the party's ballot chosen.
    pub voted_party: Option<String>,
    /// The precinct the voter voted in (`pct_label`).
    pub precinct_label: Option<String>,
    /// The county the ballot was cast in (`voted_county_id`), when the file says.
    pub voted_county_id: Option<u16>,
}

/// Streams records from an ncvhis file.
#[derive(Debug)]
pub struct NcVhisReader<R> {
    lines: TabLines<R>,
    shape: RowShape,
}

impl<R: BufRead> NcVhisReader<R> {
    /// Reads the header (or recognises a file without one). Refuses a file whose first line is
    /// neither a header naming the required columns nor a row of exactly 15 columns.
    pub fn new(input: R) -> Result<Self, FormatsError> {
        let (mut lines, first) = TabLines::open(input)?;
        let fields = split(&first);
        // No history value is ever a column's name, so one known name makes the line a header.
        let header = fields.iter().any(|field| column_index(field).is_some());
        let mapping: Vec<Option<usize>> = if header {
            let mapping: Vec<Option<usize>> = fields.iter().map(|field| column_index(field)).collect();
            for required in REQUIRED {
                if !mapping.iter().flatten().any(|index| COLUMNS[*index] == required) {
                    return Err(FormatsError::Refused(format!(
                        "the header has no `{required}` column: is this an ncvhis (voter history) file?"
                    )));
                }
            }
            mapping
        } else if fields.len() == COLUMNS.len() {
            let mapping = (0..fields.len()).map(Some).collect();
            lines.replay_first(first);
            mapping
        } else {
            return Err(FormatsError::Refused(format!(
                "the first line is not an ncvhis header and has {} columns, not {}: is this an ncvhis (voter history) file?",
                fields.len(),
                COLUMNS.len()
            )));
        };
        let shape = RowShape { mapping, layout_columns: COLUMNS.len(), max_line_bytes: MAX_LINE_BYTES };
        Ok(Self { lines, shape })
    }

    /// Bytes of the file read so far.
    pub fn position(&self) -> u64 {
        self.lines.position()
    }

    /// Skips the lines before byte `position` without parsing them: resuming an import whose
    /// rows up to there are committed. The position must fall at the start of a line.
    pub fn skip_to(&mut self, position: u64) -> Result<(), FormatsError> {
        self.lines.skip_to(position)
    }

    /// The next row: a record, a rejected row, or None at the end. An I/O failure ends reading.
    pub fn next_row(&mut self) -> Result<Option<Result<NcVhisRecord, RowError>>, FormatsError> {
        Ok(self.lines.next_line()?.map(|(line, bytes)| self.parse(line, &bytes)))
    }

    fn parse(&self, line: u64, bytes: &[u8]) -> Result<NcVhisRecord, RowError> {
        let refuse = |column: Option<&'static str>, reason: String| RowError { line, column, reason };
        let values = self.shape.values(bytes, line, |index| COLUMNS.get(index).copied())?;
        let value = |name: &str| column_index(name).map_or("", |index| values[index].as_str());
        for required in REQUIRED {
            if value(required).is_empty() {
                return Err(refuse(Some(required), "is empty".into()));
            }
        }
        let county = |column: &'static str| {
            value(column)
                .parse::<u16>()
                .ok()
                .filter(|id| (1..=100).contains(id))
                .ok_or_else(|| refuse(Some(column), format!("`{}` is not a county number 1-100", value(column))))
        };
        let county_id = county("county_id")?;
        let voted_county_id = match value("voted_county_id") {
            "" => None,
            _ => Some(county("voted_county_id")?),
        };
        for column in ["voter_reg_num", "ncid"] {
            let identifier = value(column);
            if identifier.len() > MAX_IDENTIFIER_LENGTH || !identifier.bytes().all(|byte| byte.is_ascii_alphanumeric())
            {
                return Err(refuse(Some(column), format!("is not 1-{MAX_IDENTIFIER_LENGTH} letters or digits")));
            }
        }
        let election_date = parse_date(value("election_lbl")).map_err(|reason| refuse(Some("election_lbl"), reason))?;
        let optional = |column: &str| Some(value(column)).filter(|text| !text.is_empty()).map(str::to_owned);
        Ok(NcVhisRecord {
            line,
            county_id,
            registration_number: value("voter_reg_num").to_owned(),
            ncid: value("ncid").to_owned(),
            election_date,
            election_description: value("election_desc").to_owned(),
            voting_method: value("voting_method").to_owned(),
            voted_party: optional("voted_party_cd"),
            precinct_label: optional("pct_label"),
            voted_county_id,
        })
    }
}

impl<R: BufRead> Iterator for NcVhisReader<R> {
    /// A read failure is reported as a row error of the line it happened on, then reading stops.
    type Item = Result<NcVhisRecord, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.lines.has_failed() {
            return None;
        }
        match self.next_row() {
            Ok(row) => row,
            Err(error) => Some(Err(self.lines.fail(&error))),
        }
    }
}

/// Writes a synthetic ncvhis file of `rows` history rows in layout order, with a header: the
/// same seed gives the same bytes. Voters take one to four consecutive rows each (one per
/// election), numbered from 1 the way [`crate::ncvoter::generate`] numbers its rows, so every
/// `ncid` and `voter_reg_num` here is one that a generated voter file of at least `rows` rows
/// holds. Every person in it is made up; it exists for tests, benchmarks and demos.
pub fn generate(seed: u64, rows: u64, output: &mut impl std::io::Write) -> Result<(), FormatsError> {
    // Real statewide elections, oldest first, so a voter's rows run forward in time.
    const ELECTIONS: [(&str, &str); 8] = [
        ("11/06/2018", "11/06/2018 GENERAL"),
        ("03/03/2020", "03/03/2020 PRIMARY"),
        ("11/03/2020", "11/03/2020 GENERAL"),
        ("05/17/2022", "05/17/2022 PRIMARY"),
        ("11/08/2022", "11/08/2022 GENERAL"),
        ("03/05/2024", "03/05/2024 PRIMARY"),
        ("11/05/2024", "11/05/2024 GENERAL"),
        ("11/04/2025", "11/04/2025 MUNICIPAL"),
    ];
    const METHODS: [&str; 6] =
        ["IN-PERSON", "IN-PERSON", "ABSENTEE ONESTOP", "ABSENTEE ONESTOP", "ABSENTEE BY MAIL", "PROVISIONAL"];
    const PARTIES: [(&str, &str); 5] = [
        ("DEM", "DEMOCRATIC"),
        ("REP", "REPUBLICAN"),
        ("UNA", "UNAFFILIATED"),
        ("LIB", "LIBERTARIAN"),
        ("GRE", "GREEN"),
    ];
    writeln!(output, "{}", COLUMNS.join("\t"))?;
    let mut state = seed;
    let mut next = move || {
        // splitmix64, as ncvoter's generator: tiny, fast and good enough for made-up voters.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut value = state;
        value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        value ^ (value >> 31)
    };
    let pick = |value: u64, length: usize| (value % length as u64) as usize;
    let mut line = String::with_capacity(256);
    let (mut written, mut voter) = (0_u64, 0_u64);
    while written < rows {
        voter += 1;
        let county = 1 + next() % 100;
        let party = PARTIES[pick(next(), PARTIES.len())];
        let precinct = format!("P{:02}", 1 + next() % 40);
        let elections = 1 + pick(next(), 4);
        let first = pick(next(), ELECTIONS.len() - elections + 1);
        for (date, description) in ELECTIONS.iter().skip(first).take(elections) {
            if written == rows {
                break;
            }
            // A few voters cast a ballot away from home (a provisional in another county).
            let voted_county = if next() % 50 == 0 { 1 + next() % 100 } else { county };
            line.clear();
            let values: [String; 15] = [
                county.to_string(),
                format!("COUNTY{county:03}"),
                format!("{voter:012}"),
                (*date).to_owned(),
                (*description).to_owned(),
                METHODS[pick(next(), METHODS.len())].to_owned(),
                party.0.to_owned(),
                party.1.to_owned(),
                precinct.clone(),
                format!("PRECINCT {precinct}"),
                format!("GN{voter:010}"),
                voted_county.to_string(),
                format!("COUNTY{voted_county:03}"),
                precinct.clone(),
                format!("VTD {precinct}"),
            ];
            line.push_str(&values.join("\t"));
            line.push('\n');
            output.write_all(line.as_bytes())?;
            written += 1;
        }
    }
    output.flush()?;
    Ok(())
}
