//! The ncvoter reader against NCSBE's published layout, the generated fake NC rows of the
//! national-voter-file project, the seeded generator, and rows damaged in each way a real file
//! can be.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use canvass_formats::ncvoter::{CONFIDENTIAL_COLUMNS, NcVoterReader, PUBLIC_COLUMNS, RowError, generate};

const LAYOUT: &str = "../../../shared/data/voter/nc/layout_ncvoter.txt";
const FAKE_NC: &str = "../../../shared/data/voter/national-voter-file-fake/nc.csv";

fn shared(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read_all(bytes: &[u8]) -> (Vec<canvass_formats::ncvoter::NcVoterRecord>, Vec<RowError>) {
    let reader = NcVoterReader::new(Cursor::new(bytes.to_vec())).unwrap();
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
fn the_public_columns_are_the_published_layout_in_order() {
    let layout = std::fs::read_to_string(shared(LAYOUT)).unwrap();
    let current = layout.split("-- File layout (from 02/12/2022)").nth(1).unwrap();
    let table = current.split("Previous file layout").next().unwrap();
    let names: Vec<&str> = table
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        .filter(|word| *word != "name")
        .collect();
    assert_eq!(names, PUBLIC_COLUMNS, "the layout's current columns");
}

#[test]
fn the_national_voter_file_fake_nc_rows_read_by_header_name() {
    let bytes = std::fs::read(shared(FAKE_NC)).unwrap();
    let reader = NcVoterReader::new(Cursor::new(bytes.clone())).unwrap();
    assert!(!reader.has_confidential_columns());
    let (records, errors) = read_all(&bytes);
    assert_eq!(records.len() + errors.len(), 100, "one result per data line");
    assert!(records.len() >= 90, "{} rows rejected: {errors:?}", errors.len());
    let first = &records[0];
    assert_eq!(first.line, 2);
    assert_eq!(
        (first.get("last_name"), first.get("first_name"), first.get("voter_reg_num")),
        ("LANDRY", "MASON", "71556617")
    );
    assert_eq!(first.county_id, 18);
    assert_eq!(first.registered_on, time::macros::date!(1977 - 02 - 26));
    // The older layout's `birth_age` is today's `age_at_year_end`; blank values (" ") are empty.
    assert_eq!(first.get("age_at_year_end"), "34");
    assert_eq!(first.optional("mail_addr2"), None);
    for error in &errors {
        assert!(error.line >= 2 && error.column.is_some(), "{error}");
    }
}

#[test]
fn generated_files_read_back_whole_and_the_same_seed_gives_the_same_bytes() {
    let mut bytes = Vec::new();
    generate(7, 2_000, true, &mut bytes).unwrap();
    let mut again = Vec::new();
    generate(7, 2_000, true, &mut again).unwrap();
    assert_eq!(bytes, again);
    let mut other = Vec::new();
    generate(8, 2_000, true, &mut other).unwrap();
    assert_ne!(bytes, other);

    let reader = NcVoterReader::new(Cursor::new(bytes.clone())).unwrap();
    assert!(reader.has_confidential_columns());
    let (records, errors) = read_all(&bytes);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 2_000);
    for record in &records {
        assert!(record.birth_date.is_some());
        assert_eq!(record.get("ssn4").len(), 4);
        assert!(record.get("email").contains('@'));
        assert!(record.has_confidential_values());
        assert_eq!(record.public_values().len(), PUBLIC_COLUMNS.len());
        for column in ["drivers_lic_num", "email"] {
            assert!(
                !record.public_values().iter().any(|value| value == record.get(column)),
                "{column} among the public values"
            );
        }
    }
    let public_only = {
        let mut bytes = Vec::new();
        generate(7, 10, false, &mut bytes).unwrap();
        bytes
    };
    let header = String::from_utf8_lossy(&public_only).lines().next().unwrap().to_owned();
    for column in CONFIDENTIAL_COLUMNS {
        assert!(!header.contains(column), "{column} in a public file's header");
    }
}

#[test]
fn a_file_without_a_header_reads_in_layout_order() {
    let mut bytes = Vec::new();
    generate(3, 5, false, &mut bytes).unwrap();
    let without_header: Vec<u8> =
        bytes.splice(..bytes.iter().position(|byte| *byte == b'\n').unwrap() + 1, []).collect();
    assert!(!without_header.is_empty());
    let (records, errors) = read_all(&bytes);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 5);
    assert_eq!(records[0].line, 1);
    assert_eq!(records[0].get("voter_reg_num"), "000000000001");
}

/// Each damaged row is reported with its line, column and reason; the rows around it still read.
#[test]
fn damaged_rows_are_rejected_one_by_one_with_line_column_and_reason() {
    let mut bytes = Vec::new();
    generate(11, 3, true, &mut bytes).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let good = lines[1].clone();
    let with = |column: &str, value: &str| {
        let index = canvass_formats::ncvoter::all_columns().position(|name| name == column).unwrap();
        let mut fields: Vec<String> = good.split('\t').map(str::to_owned).collect();
        fields[index] = value.to_owned();
        fields.join("\t")
    };
    let cases: Vec<(Vec<u8>, Option<&str>, &str)> = vec![
        (with("registr_dt", "13/45/2001").into_bytes(), Some("registr_dt"), "not a date"),
        (with("birth_date", "yesterday").into_bytes(), Some("birth_date"), "not a date"),
        (with("county_id", "0").into_bytes(), Some("county_id"), "county number"),
        (with("county_id", "WAKE").into_bytes(), Some("county_id"), "county number"),
        (with("last_name", "").into_bytes(), Some("last_name"), "is empty"),
        (with("ssn4", "12345").into_bytes(), Some("ssn4"), "four digits"),
        (with("email", "nobody").into_bytes(), Some("email"), "email"),
        (with("birth_year", "19x0").into_bytes(), Some("birth_year"), "four-digit year"),
        (good.split('\t').take(40).collect::<Vec<_>>().join("\t").into_bytes(), None, "columns"),
        ([with("last_name", "M").into_bytes(), vec![0xD6, b'Z']].concat(), None, "not UTF-8"),
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
    let truncated = errors.last().unwrap();
    assert!(truncated.reason.contains("columns"), "{truncated}");
    for error in &errors {
        let shown = error.to_string();
        assert!(!shown.contains("@example.invalid") && !shown.contains("NC0"), "a row error repeats a value: {shown}");
    }
}

#[test]
fn files_that_are_not_ncvoter_are_refused_whole() {
    for (bytes, reason) in [
        (b"".to_vec(), "empty"),
        (b"name,address\nx,y\n".to_vec(), "not an ncvoter header"),
        (b"county_id\tvoter_reg_num\tlast_name\n".to_vec(), "status_cd"),
        (vec![0xFF, 0xFE, b'c', 0, b'o', 0, b'\n'], "UTF-8"),
    ] {
        let error = NcVoterReader::new(Cursor::new(bytes)).unwrap_err();
        assert!(error.to_string().contains(reason), "{error} should say {reason}");
    }
}
