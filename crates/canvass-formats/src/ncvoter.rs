//! The North Carolina State Board of Elections voter file (`ncvoter`): tab-delimited, one voter
//! per line, the 67 public columns of `layout_ncvoter.txt`, optionally followed by the four
//! confidential columns a county's internal export adds (`birth_date`, `ssn4`,
//! `drivers_lic_num`, `email`).
//!
//! [`NcVoterReader`] streams a file row by row, so memory stays flat whatever its size. Columns
//! are matched by the header's names (case-insensitive; older layouts with extra or reordered
//! columns read too); a file without a header must have exactly 67 or 71 columns in layout order.
//! A bad row becomes a [`RowError`] naming its line, column and reason, and reading goes on: no
//! part of a bad row is ever returned.

use std::io::BufRead;

use time::{Date, Month};

use crate::{
    FormatsError,
    tab_lines::{RowShape, TabLines, split},
};

/// The public columns, in layout order (`layout_ncvoter.txt`, file layout from 02/12/2022).
pub const PUBLIC_COLUMNS: [&str; 67] = [
    "county_id",
    "county_desc",
    "voter_reg_num",
    "ncid",
    "last_name",
    "first_name",
    "middle_name",
    "name_suffix_lbl",
    "status_cd",
    "voter_status_desc",
    "reason_cd",
    "voter_status_reason_desc",
    "res_street_address",
    "res_city_desc",
    "state_cd",
    "zip_code",
    "mail_addr1",
    "mail_addr2",
    "mail_addr3",
    "mail_addr4",
    "mail_city",
    "mail_state",
    "mail_zipcode",
    "full_phone_number",
    "confidential_ind",
    "registr_dt",
    "race_code",
    "ethnic_code",
    "party_cd",
    "gender_code",
    "birth_year",
    "age_at_year_end",
    "birth_state",
    "drivers_lic",
    "precinct_abbrv",
    "precinct_desc",
    "municipality_abbrv",
    "municipality_desc",
    "ward_abbrv",
    "ward_desc",
    "cong_dist_abbrv",
    "super_court_abbrv",
    "judic_dist_abbrv",
    "nc_senate_abbrv",
    "nc_house_abbrv",
    "county_commiss_abbrv",
    "county_commiss_desc",
    "township_abbrv",
    "township_desc",
    "school_dist_abbrv",
    "school_dist_desc",
    "fire_dist_abbrv",
    "fire_dist_desc",
    "water_dist_abbrv",
    "water_dist_desc",
    "sewer_dist_abbrv",
    "sewer_dist_desc",
    "sanit_dist_abbrv",
    "sanit_dist_desc",
    "rescue_dist_abbrv",
    "rescue_dist_desc",
    "munic_dist_abbrv",
    "munic_dist_desc",
    "dist_1_abbrv",
    "dist_1_desc",
    "vtd_abbrv",
    "vtd_desc",
];

/// The columns a county's internal export adds after the public ones. Confidential under North
/// Carolina law (G.S. 163-82.10): they are never part of a public extract.
pub const CONFIDENTIAL_COLUMNS: [&str; 4] = ["birth_date", "ssn4", "drivers_lic_num", "email"];

/// Every column Canvass reads, public then confidential: a record's values are in this order.
pub fn all_columns() -> impl Iterator<Item = &'static str> {
    PUBLIC_COLUMNS.iter().chain(CONFIDENTIAL_COLUMNS.iter()).copied()
}

const COLUMN_COUNT: usize = PUBLIC_COLUMNS.len() + CONFIDENTIAL_COLUMNS.len();

/// Older layouts' names for current columns.
const ALIASES: [(&str, &str); 3] =
    [("birth_age", "age_at_year_end"), ("judic_dis_abbrv", "judic_dist_abbrv"), ("age", "age_at_year_end")];

/// Columns every row must fill.
const REQUIRED: [&str; 6] = ["county_id", "voter_reg_num", "last_name", "status_cd", "registr_dt", "precinct_abbrv"];

/// The longest line accepted; the widest real row is under 1,500 bytes.
const MAX_LINE_BYTES: usize = 16 * 1024;

fn column_index(name: &str) -> Option<usize> {
    let lower = name.trim().trim_matches('"').to_ascii_lowercase();
    let canonical = ALIASES.iter().find(|(old, _)| *old == lower).map_or(lower.as_str(), |(_, new)| new);
    all_columns().position(|column| column == canonical)
}

/// One voter row, every value checked: the required ones are present, dates and numbers parse.
#[derive(Clone, PartialEq, Eq)]
pub struct NcVoterRecord {
    /// The 1-based line of the file it came from.
    pub line: u64,
    values: Vec<String>,
    pub county_id: u16,
    pub registered_on: Date,
    pub birth_date: Option<Date>,
}

// Rows carry confidential values: Debug shows where the row came from, never what it says.
impl std::fmt::Debug for NcVoterRecord {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("NcVoterRecord").field("line", &self.line).finish_non_exhaustive()
    }
}

impl NcVoterRecord {
    /// A column's value (trimmed; empty when absent). Unknown names give "".
    pub fn get(&self, column: &str) -> &str {
        column_index(column).and_then(|index| self.values.get(index)).map_or("", String::as_str)
    }

    /// A value that may be empty, as an option.
    pub fn optional(&self, column: &str) -> Option<&str> {
        Some(self.get(column)).filter(|value| !value.is_empty())
    }

    /// The public columns' values in layout order, for a public extract.
    pub fn public_values(&self) -> &[String] {
        &self.values[..PUBLIC_COLUMNS.len()]
    }

    /// The public columns' values, moved out rather than copied (an import keeps them).
    pub fn into_public_values(mut self) -> Vec<String> {
        self.values.truncate(PUBLIC_COLUMNS.len());
        self.values
    }

    /// Whether the row carries any confidential column's value.
    pub fn has_confidential_values(&self) -> bool {
        self.values[PUBLIC_COLUMNS.len()..].iter().any(|value| !value.is_empty())
    }

    /// Whether the voter's record is marked confidential (`confidential_ind` = Y): an
    /// address-confidentiality-program participant, whose address is confidential too.
    pub fn is_confidential_address(&self) -> bool {
        self.get("confidential_ind").eq_ignore_ascii_case("y")
    }
}

/// Why one row was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<&'static str>,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(column) => write!(formatter, "line {}, column {column}: {}", self.line, self.reason),
            None => write!(formatter, "line {}: {}", self.line, self.reason),
        }
    }
}

/// Streams records from an ncvoter file.
#[derive(Debug)]
pub struct NcVoterReader<R> {
    lines: TabLines<R>,
    shape: RowShape,
    /// Whether the file has the confidential columns.
    confidential: bool,
}

impl<R: BufRead> NcVoterReader<R> {
    /// Reads the header (or recognises a file without one). Refuses a file whose first line is
    /// neither a header naming the required columns nor a row of 67 or 71 columns.
    pub fn new(input: R) -> Result<Self, FormatsError> {
        let (mut lines, first) = TabLines::open(input)?;
        let fields: Vec<&str> = split(&first);
        let header = fields.iter().any(|field| column_index(field) == Some(2))
            && fields.iter().any(|field| column_index(field) == Some(0));
        let mapping: Vec<Option<usize>> = if header {
            let mapping: Vec<Option<usize>> = fields.iter().map(|field| column_index(field)).collect();
            for required in REQUIRED {
                if !mapping.iter().flatten().any(|index| all_columns().nth(*index) == Some(required)) {
                    return Err(FormatsError::Refused(format!("the header has no `{required}` column")));
                }
            }
            mapping
        } else if fields.len() == PUBLIC_COLUMNS.len() || fields.len() == COLUMN_COUNT {
            let mapping = (0..fields.len()).map(Some).collect();
            lines.replay_first(first);
            mapping
        } else {
            return Err(FormatsError::Refused(format!(
                "the first line is not an ncvoter header and has {} columns, not {} or {}: is this an ncvoter file?",
                fields.len(),
                PUBLIC_COLUMNS.len(),
                COLUMN_COUNT
            )));
        };
        let confidential = mapping.iter().flatten().any(|index| *index >= PUBLIC_COLUMNS.len());
        let shape = RowShape { mapping, layout_columns: COLUMN_COUNT, max_line_bytes: MAX_LINE_BYTES };
        Ok(Self { lines, shape, confidential })
    }

    /// Whether the file carries the confidential columns.
    pub fn has_confidential_columns(&self) -> bool {
        self.confidential
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
    pub fn next_row(&mut self) -> Result<Option<Result<NcVoterRecord, RowError>>, FormatsError> {
        Ok(self.lines.next_line()?.map(|(line, bytes)| self.parse(line, &bytes)))
    }

    fn parse(&self, line: u64, bytes: &[u8]) -> Result<NcVoterRecord, RowError> {
        let refuse = |column: Option<&'static str>, reason: String| RowError { line, column, reason };
        let values = self.shape.values(bytes, line, |index| all_columns().nth(index))?;
        let value = |name: &str| column_index(name).map_or("", |index| values[index].as_str());
        for required in REQUIRED {
            if value(required).is_empty() {
                return Err(refuse(Some(required), "is empty".into()));
            }
        }
        let county_id =
            value("county_id").parse::<u16>().ok().filter(|id| (1..=100).contains(id)).ok_or_else(|| {
                refuse(Some("county_id"), format!("`{}` is not a county number 1-100", value("county_id")))
            })?;
        let registered_on = parse_date(value("registr_dt")).map_err(|reason| refuse(Some("registr_dt"), reason))?;
        let birth_date = match value("birth_date") {
            "" => None,
            text => Some(parse_date(text).map_err(|reason| refuse(Some("birth_date"), reason))?),
        };
        if let Some(ssn) = Some(value("ssn4")).filter(|text| !text.is_empty())
            && !(ssn.len() == 4 && ssn.bytes().all(|byte| byte.is_ascii_digit()))
        {
            return Err(refuse(Some("ssn4"), "is not four digits".into()));
        }
        if let Some(email) = Some(value("email")).filter(|text| !text.is_empty())
            && (email.len() > 254 || email.split('@').count() != 2)
        {
            return Err(refuse(Some("email"), "is not an email address".into()));
        }
        let birth_year = value("birth_year");
        let four_digits = birth_year.len() == 4 && birth_year.bytes().all(|byte| byte.is_ascii_digit());
        if !birth_year.is_empty() && !four_digits {
            return Err(refuse(Some("birth_year"), "is not a four-digit year".into()));
        }
        Ok(NcVoterRecord { line, values, county_id, registered_on, birth_date })
    }
}

impl<R: BufRead> Iterator for NcVoterReader<R> {
    /// A read failure is reported as a row error of the line it happened on, then reading stops.
    type Item = Result<NcVoterRecord, RowError>;

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

/// Dates as NCSBE writes them (`MM/DD/YYYY`) or as ISO 8601 (`YYYY-MM-DD`).
pub fn parse_date(text: &str) -> Result<Date, String> {
    // The value is left out: a bad birth date is still a person's birth date, and rejection reports
    // are kept and passed around.
    let invalid = || "is not a date (MM/DD/YYYY or YYYY-MM-DD)".to_owned();
    let parts: Vec<&str> = if text.contains('/') { text.split('/').collect() } else { text.split('-').collect() };
    let number = |part: &str| part.parse::<u16>().map_err(|_| invalid());
    let (year, month, day) = match parts.as_slice() {
        [month, day, year] if text.contains('/') && year.len() == 4 => (number(year)?, number(month)?, number(day)?),
        [year, month, day] if year.len() == 4 => (number(year)?, number(month)?, number(day)?),
        _ => return Err(invalid()),
    };
    let month = u8::try_from(month).ok().and_then(|month| Month::try_from(month).ok()).ok_or_else(invalid)?;
    let day = u8::try_from(day).map_err(|_| invalid())?;
    if !(1850..=2200).contains(&year) {
        return Err(invalid());
    }
    Date::from_calendar_date(i32::from(year), month, day).map_err(|_| invalid())
}

/// Writes a synthetic ncvoter file of `rows` voters in layout order, with a header and, when
/// `confidential`, the four confidential columns: the same seed gives the same bytes. Every
/// person in it is made up; it exists for tests, benchmarks and demos.
pub fn generate(
    seed: u64,
    rows: u64,
    confidential: bool,
    output: &mut impl std::io::Write,
) -> Result<(), FormatsError> {
    const LAST: [&str; 16] = [
        "SMITH",
        "JOHNSON",
        "WILLIAMS",
        "BROWN",
        "JONES",
        "GARCIA",
        "MILLER",
        "DAVIS",
        "RODRIGUEZ",
        "MARTINEZ",
        "HERNANDEZ",
        "LOPEZ",
        "GONZALEZ",
        "WILSON",
        "ANDERSON",
        "THOMAS",
    ];
    const FIRST: [&str; 16] = [
        "JAMES",
        "MARY",
        "ROBERT",
        "PATRICIA",
        "JOHN",
        "JENNIFER",
        "MICHAEL",
        "LINDA",
        "DAVID",
        "ELIZABETH",
        "WILLIAM",
        "BARBARA",
        "RICHARD",
        "SUSAN",
        "JOSEPH",
        "JESSICA",
    ];
    const STREETS: [&str; 8] =
        ["MAIN ST", "OAK AVE", "PINE RD", "MAPLE DR", "CEDAR LN", "ELM ST", "HILL RD", "LAKE DR"];
    const PARTIES: [&str; 5] = ["DEM", "REP", "UNA", "LIB", "GRE"];
    const STATUSES: [(&str, &str); 4] = [("A", "ACTIVE"), ("A", "ACTIVE"), ("I", "INACTIVE"), ("S", "TEMPORARY")];
    let columns: Vec<&str> = if confidential { all_columns().collect() } else { PUBLIC_COLUMNS.to_vec() };
    writeln!(output, "{}", columns.join("\t"))?;
    let mut state = seed;
    let mut next = move || {
        // splitmix64: tiny, fast and good enough for made-up voters.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut value = state;
        value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        value ^ (value >> 31)
    };
    let mut line = String::with_capacity(1024);
    for row in 0..rows {
        let pick = |value: u64, length: usize| (value % length as u64) as usize;
        let (county, last, first, street, party, status) = (
            1 + next() % 100,
            LAST[pick(next(), LAST.len())],
            FIRST[pick(next(), FIRST.len())],
            STREETS[pick(next(), STREETS.len())],
            PARTIES[pick(next(), PARTIES.len())],
            STATUSES[pick(next(), STATUSES.len())],
        );
        let birth_year = 1930 + next() % 75;
        let (birth_month, birth_day) = (1 + next() % 12, 1 + next() % 28);
        let registered_year = (birth_year + 18 + next() % 30).min(2025);
        let precinct = format!("P{:02}", 1 + next() % 40);
        line.clear();
        let values: [String; 67] = [
            county.to_string(),
            format!("COUNTY{county:03}"),
            format!("{:012}", row + 1),
            format!("GN{:010}", row + 1),
            last.to_owned(),
            first.to_owned(),
            FIRST[pick(next(), FIRST.len())].to_owned(),
            String::new(),
            status.0.to_owned(),
            status.1.to_owned(),
            "AV".to_owned(),
            "VERIFIED".to_owned(),
            format!("{} {}", 1 + next() % 9999, street),
            "RALEIGH".to_owned(),
            "NC".to_owned(),
            format!("27{:03}", next() % 1000),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            if next() % 500 == 0 { "Y" } else { "N" }.to_owned(),
            format!("{:02}/{:02}/{registered_year}", 1 + next() % 12, 1 + next() % 28),
            "W".to_owned(),
            "NL".to_owned(),
            party.to_owned(),
            if next() % 2 == 0 { "F" } else { "M" }.to_owned(),
            birth_year.to_string(),
            (2025 - birth_year).to_string(),
            "NC".to_owned(),
            "Y".to_owned(),
            precinct.clone(),
            format!("PRECINCT {precinct}"),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            format!("{:02}", 1 + next() % 14),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            precinct.clone(),
            format!("VTD {precinct}"),
        ];
        line.push_str(&values.join("\t"));
        if confidential {
            line.push_str(&format!(
                "\t{birth_year}-{birth_month:02}-{birth_day:02}\t{:04}\tNC{:09}\t{}.{}{}@example.invalid",
                next() % 10_000,
                next() % 1_000_000_000,
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase(),
                row
            ));
        }
        line.push('\n');
        output.write_all(line.as_bytes())?;
    }
    output.flush()?;
    Ok(())
}
