//! The ncvhis (voter history) reader against the layout in NCSBE's older layout file, a sample in
//! the real file's shape, the seeded generator and its link to the generated voter file, and rows
//! damaged in each way a real file can be.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::io::Cursor;

use canvass_formats::ncvhis::{COLUMNS, NcVhisReader, NcVhisRecord, RowError, generate};
use time::macros::date;

const LAYOUT: &str = "../../../shared/data/voter/nc/NorthCarolina_layout_older.txt";

fn shared(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read_all(bytes: &[u8]) -> (Vec<NcVhisRecord>, Vec<RowError>) {
    let reader = NcVhisReader::new(Cursor::new(bytes.to_vec())).unwrap();
    let (mut records, mut errors) = (Vec::new(), Vec::new());
    for row in reader {
        match row {
            Ok(record) => records.push(record),
            Err(error) => errors.push(error),
        }
    }
    (records, errors)
}

#[test]
fn the_columns_are_the_published_layout_in_order() {
    let layout = std::fs::read_to_string(shared(LAYOUT)).unwrap();
    let section = layout.split("Voter History File").nth(1).unwrap();
    let table = section.split("Voter & Pre-registrations Files").next().unwrap();
    let names: Vec<&str> =
        table.lines().filter(|line| line.starts_with('\t')).filter_map(|line| line.split_whitespace().next()).collect();
    assert_eq!(names, COLUMNS, "the layout's history columns");
}

/// Rows as NCSBE publishes them: every value in double quotes, fixed-width values padded with
/// spaces, a header naming the columns, CRLF line ends.
#[test]
fn a_sample_in_the_real_layout_reads_by_header_name() {
    let sample = concat!(
        "\"county_id\"\t\"county_desc\"\t\"voter_reg_num\"\t\"election_lbl\"\t\"election_desc\"\t\"voting_method\"\t",
        "\"voted_party_cd\"\t\"voted_party_desc\"\t\"pct_label\"\t\"pct_description\"\t\"ncid\"\t\"voted_county_id\"\t",
        "\"voted_county_desc\"\t\"vtd_label\"\t\"vtd_description\"\r\n",
        "\"1\"\t\"ALAMANCE\"\t\"000009051236\"\t\"11/03/2020\"\t\"11/03/2020 GENERAL\"\t\"ABSENTEE ONESTOP\"\t",
        "\"DEM\"\t\"DEMOCRATIC\"\t\"03N\"\t\"NORTH BOONE\"\t\"AA100000\"\t\"1\"\t\"ALAMANCE\"\t\"03N\"\t\"03N\"\r\n",
        "\"92\"\t\"WAKE\"\t\"000100234567\"\t\"03/05/2024\"\t\"03/05/2024 PRIMARY\"\t\"IN-PERSON\"\t",
        "\"REP\"\t\"REPUBLICAN\"\t\"01-07\"\t\"PRECINCT 01-07      \"\t\"CW123456\"\t\"92\"\t\"WAKE\"\t\"01-07\"\t\"01-07\"\r\n",
        "\"100\"\t\"YANCEY\"\t\"000000012345\"\t\"11/08/2022\"\t\"11/08/2022 GENERAL\"\t\"ABSENTEE BY MAIL\"\t",
        "\"UNA\"\t\"UNAFFILIATED\"\t\"\"\t\"\"\t\"EH9876\"\t\"\"\t\"\"\t\"\"\t\"\"\r\n",
    );
    let (records, errors) = read_all(sample.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 3);
    let first = &records[0];
    assert_eq!(
        first,
        &NcVhisRecord {
            line: 2,
            county_id: 1,
            registration_number: "000009051236".into(),
            ncid: "AA100000".into(),
            election_date: date!(2020 - 11 - 03),
            election_description: "11/03/2020 GENERAL".into(),
            voting_method: "ABSENTEE ONESTOP".into(),
            voted_party: Some("DEM".into()),
            precinct_label: Some("03N".into()),
            voted_county_id: Some(1),
        }
    );
    assert_eq!((records[1].county_id, records[1].election_date), (92, date!(2024 - 03 - 05)));
    assert_eq!(records[1].precinct_label.as_deref(), Some("01-07"));
    // Yancey is county 100; a row may leave its precinct and voting county empty.
    assert_eq!(
        (records[2].county_id, records[2].precinct_label.as_ref(), records[2].voted_county_id),
        (100, None, None)
    );
}

#[test]
fn columns_are_found_by_name_in_any_order_and_case() {
    let file = "NCID\tElection_Lbl\tVoting_Method\tVoter_Reg_Num\tCounty_Id\tsomething_new\n\
                AB1\t11/05/2024\tIN-PERSON\t42\t7\tx\n";
    let (records, errors) = read_all(file.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        (records[0].ncid.as_str(), records[0].registration_number.as_str(), records[0].county_id),
        ("AB1", "42", 7)
    );
    assert_eq!(records[0].election_description, "");
}

#[test]
fn generated_files_read_back_whole_and_link_to_a_generated_voter_file() {
    let mut bytes = Vec::new();
    generate(5, 3_000, &mut bytes).unwrap();
    let mut again = Vec::new();
    generate(5, 3_000, &mut again).unwrap();
    assert_eq!(bytes, again, "the same seed gives the same bytes");
    let mut other = Vec::new();
    generate(6, 3_000, &mut other).unwrap();
    assert_ne!(bytes, other);

    let reader = NcVhisReader::new(Cursor::new(bytes.clone())).unwrap();
    let (records, errors) = read_all(&bytes);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 3_000);
    assert_eq!(records[0].line, 2);
    let voters: HashSet<&str> = records.iter().map(|record| record.ncid.as_str()).collect();
    assert!(voters.len() < records.len(), "voters have several elections each");
    assert!(records.iter().any(|record| record.voted_county_id != Some(record.county_id)));

    // Every history row names a voter of a generated roll with as many rows, by ncid and by
    // registration number in the same county.
    let mut roll = Vec::new();
    canvass_formats::ncvoter::generate(5, 3_000, false, &mut roll).unwrap();
    let voter_file = canvass_formats::ncvoter::NcVoterReader::new(Cursor::new(roll)).unwrap();
    let by_ncid: std::collections::HashMap<String, String> = voter_file
        .map(|row| row.unwrap())
        .map(|voter| (voter.get("ncid").to_owned(), voter.get("voter_reg_num").to_owned()))
        .collect();
    for record in &records {
        assert_eq!(by_ncid.get(&record.ncid), Some(&record.registration_number), "line {}", record.line);
    }
    assert!(reader.position() > 0);
}

#[test]
fn position_counts_the_bytes_read() {
    let mut bytes = Vec::new();
    generate(1, 10, &mut bytes).unwrap();
    let mut reader = NcVhisReader::new(Cursor::new(bytes.clone())).unwrap();
    let header = bytes.iter().position(|byte| *byte == b'\n').unwrap() as u64 + 1;
    assert_eq!(reader.position(), header);
    while reader.next_row().unwrap().is_some() {}
    assert_eq!(reader.position(), bytes.len() as u64);
}

#[test]
fn an_import_resumes_where_it_stopped_with_or_without_a_header() {
    let mut bytes = Vec::new();
    generate(2, 20, &mut bytes).unwrap();
    let headerless = bytes[bytes.iter().position(|byte| *byte == b'\n').unwrap() + 1..].to_vec();
    for file in [bytes, headerless] {
        let mut reader = NcVhisReader::new(Cursor::new(file.clone())).unwrap();
        let mut stopped_at = 0;
        for _ in 0..7 {
            reader.next_row().unwrap().unwrap().unwrap();
            stopped_at = reader.position();
        }
        let expected = reader.next_row().unwrap().unwrap().unwrap();
        let mut resumed = NcVhisReader::new(Cursor::new(file.clone())).unwrap();
        resumed.skip_to(stopped_at).unwrap();
        assert_eq!(resumed.next_row().unwrap().unwrap().unwrap(), expected, "the same row, line number and all");
        let mut resumed = NcVhisReader::new(Cursor::new(file.clone())).unwrap();
        assert!(resumed.skip_to(stopped_at - 1).unwrap_err().to_string().contains("inside a line"));
        let mut resumed = NcVhisReader::new(Cursor::new(file.clone())).unwrap();
        assert!(resumed.skip_to(file.len() as u64 + 10).unwrap_err().to_string().contains("ends before"));
        // Reading to the end counts every byte, the line ends of a header-less first line too.
        while reader.next_row().unwrap().is_some() {}
        assert_eq!(reader.position(), file.len() as u64);
    }
}

#[test]
fn a_file_without_a_header_reads_in_layout_order() {
    let mut bytes = Vec::new();
    generate(3, 4, &mut bytes).unwrap();
    bytes.drain(..bytes.iter().position(|byte| *byte == b'\n').unwrap() + 1);
    let (records, errors) = read_all(&bytes);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 4);
    assert_eq!(records[0].line, 1);
    assert_eq!((records[0].ncid.as_str(), records[0].registration_number.as_str()), ("GN0000000001", "000000000001"));
}

/// Each damaged row is reported with its line, column and reason; the rows around it still read.
#[test]
fn damaged_rows_are_rejected_one_by_one_with_line_column_and_reason() {
    let mut bytes = Vec::new();
    generate(11, 2, &mut bytes).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let good = lines[1].clone();
    let with = |column: &str, value: &str| {
        let index = COLUMNS.iter().position(|name| *name == column).unwrap();
        let mut fields: Vec<String> = good.split('\t').map(str::to_owned).collect();
        fields[index] = value.to_owned();
        fields.join("\t")
    };
    let cases: Vec<(Vec<u8>, Option<&str>, &str)> = vec![
        (with("election_lbl", "13/45/2020").into_bytes(), Some("election_lbl"), "not a date"),
        (with("election_lbl", "NOV 2020").into_bytes(), Some("election_lbl"), "not a date"),
        (with("county_id", "0").into_bytes(), Some("county_id"), "county number"),
        (with("county_id", "101").into_bytes(), Some("county_id"), "county number"),
        (with("county_id", "WAKE").into_bytes(), Some("county_id"), "county number"),
        (with("voted_county_id", "X").into_bytes(), Some("voted_county_id"), "county number"),
        (with("ncid", "").into_bytes(), Some("ncid"), "is empty"),
        (with("ncid", "AB 12").into_bytes(), Some("ncid"), "letters or digits"),
        (with("voter_reg_num", "1234567890123").into_bytes(), Some("voter_reg_num"), "letters or digits"),
        (with("voting_method", "").into_bytes(), Some("voting_method"), "is empty"),
        (with("pct_label", "0\u{7}1").into_bytes(), Some("pct_label"), "control character"),
        (good.split('\t').take(10).collect::<Vec<_>>().join("\t").into_bytes(), None, "columns"),
        (format!("{good}\textra").into_bytes(), None, "columns"),
        ([with("election_desc", "CAF").into_bytes(), vec![0xC9]].concat(), None, "not UTF-8"),
    ];
    let mut damaged = vec![lines.remove(0).into_bytes()];
    for (row, _, _) in &cases {
        damaged.push(good.clone().into_bytes());
        damaged.push(row.clone());
    }
    // A truncated file: the last line stops in the middle of a row, with no newline.
    damaged.push(good.clone().into_bytes());
    let mut file = damaged.join(&b'\n');
    file.push(b'\n');
    file.extend_from_slice(&good.as_bytes()[..good.len() / 2]);

    let (records, errors) = read_all(&file);
    assert_eq!(records.len(), cases.len() + 1, "every good row reads");
    assert_eq!(errors.len(), cases.len() + 1, "{errors:?}");
    for ((_, column, reason), error) in cases.iter().zip(&errors) {
        assert_eq!(error.column, *column, "{error}");
        assert!(error.reason.contains(reason), "{error} should say {reason}");
    }
    for (number, error) in errors.iter().enumerate() {
        assert_eq!(error.line, 3 + 2 * number as u64, "{error}");
    }
    for (number, record) in records.iter().enumerate() {
        assert_eq!(record.line, 2 + 2 * number as u64);
    }
    let truncated = errors.last().unwrap();
    assert!(truncated.reason.contains("columns"), "{truncated}");
    assert!(errors[0].to_string().starts_with("line 3, column election_lbl: "), "{}", errors[0]);
}

#[test]
fn files_that_are_not_ncvhis_are_refused_whole() {
    let mut voter_file = Vec::new();
    canvass_formats::ncvoter::generate(1, 2, false, &mut voter_file).unwrap();
    let mut headerless_voter_file = voter_file.clone();
    headerless_voter_file.drain(..headerless_voter_file.iter().position(|byte| *byte == b'\n').unwrap() + 1);
    for (bytes, reason) in [
        (b"".to_vec(), "empty"),
        (b"name,address\nx,y\n".to_vec(), "not an ncvhis header"),
        (b"<?xml version=\"1.0\"?>\n<VipObject/>\n".to_vec(), "not an ncvhis header"),
        (voter_file, "no `election_lbl` column"),
        (headerless_voter_file, "has 67 columns, not 15"),
        (b"county_id\tvoter_reg_num\tncid\telection_lbl\n".to_vec(), "no `voting_method` column"),
        (vec![0xFF, 0xFE, b'c', 0, b'o', 0, b'\n'], "UTF-8"),
    ] {
        let error = NcVhisReader::new(Cursor::new(bytes)).unwrap_err();
        assert!(matches!(error, canvass_formats::FormatsError::Refused(_)), "{error:?}");
        assert!(error.to_string().contains(reason), "{error} should say {reason}");
    }
}
