//! `canvass ballots pdf` through the real binary (issue 9): NIST's GEN-01 definition imported
//! as an office would, then every ballot style written to a directory and one style to a file:
//! the same bytes both ways and on every run, sample ballots marked as such (read back with
//! poppler's pdftotext), and unknown elections, styles and missing flags refused clearly.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{fs, path::Path, process::Command};

use support::{assert_refused, enrol_second_factor, init_node, run, stderr, stdout};

const GEN_01: &str = "../../../shared/data/nist/cdf-test-method/test_data/synthetic/gen-01/err_v2/pe-err-gen-01.xml";
const STATE: &str = "ocd-division/country:us/state:ex";

fn pdf_text(path: &Path) -> String {
    let output = Command::new("pdftotext").arg(path).arg("-").output().unwrap_or_else(|error| {
        panic!("pdftotext (Debian's poppler-utils, which scripts/test installs) cannot run: {error}")
    });
    assert!(output.status.success(), "pdftotext: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn ballots_pdf_writes_every_style_the_same_way_each_time() {
    assert!(Path::new(GEN_01).exists(), "{GEN_01} is missing: NIST's examples are read from shared/data");
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap();
    let added =
        run(&["jurisdiction", "add", "--data", data_text, "--id", STATE, "--name", "Example State", "--kind", "state"]);
    assert!(added.status.success(), "{}", stderr(&added));
    let password = directory.path().join("admin-password");
    let authenticator = enrol_second_factor(&data, "admin");
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let imported = run(&[
        "election",
        "import",
        "--data",
        data_text,
        "--jurisdiction",
        STATE,
        "--format",
        "nist-xml",
        "--election",
        "gen-01",
        GEN_01,
        "--user",
        "admin",
        "--password-file",
        password.to_str().unwrap(),
        "--totp-code",
        &authenticator.code_at(seconds),
    ]);
    assert!(imported.status.success(), "{}", stderr(&imported));

    let all = directory.path().join("ballots");
    let all_text = all.to_str().unwrap();
    let output = run(&["ballots", "pdf", "--data", data_text, "--election", "gen-01", "--all", "--out", all_text]);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut written: Vec<String> =
        fs::read_dir(&all).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    written.sort();
    assert!(written.len() > 1 && written.iter().all(|name| name.starts_with("style-") && name.ends_with(".pdf")));
    assert!(
        stdout(&output).contains(&format!("Wrote {} ballot styles of gen-01", written.len())),
        "{}",
        stdout(&output)
    );

    let single = directory.path().join("one.pdf");
    let output = run(&[
        "ballots",
        "pdf",
        "--data",
        data_text,
        "--election",
        "gen-01",
        "--style",
        "style-1",
        "--out",
        single.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let first = fs::read(all.join("style-1.pdf")).unwrap();
    assert_eq!(fs::read(&single).unwrap(), first, "the same bytes for one style and for --all");
    let text = pdf_text(&single);
    assert!(text.contains("Ballot style style-1") && text.contains("Official ballot"), "{text}");
    assert!(!text.contains("SAMPLE BALLOT"));

    let again = directory.path().join("again");
    let output = run(&[
        "ballots",
        "pdf",
        "--data",
        data_text,
        "--election",
        "gen-01",
        "--all",
        "--sample",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let sample = again.join("style-1.pdf");
    assert_ne!(fs::read(&sample).unwrap(), first);
    assert!(pdf_text(&sample).contains("SAMPLE BALLOT"));

    let out = directory.path().join("refused.pdf");
    let out_text = out.to_str().unwrap();
    assert_refused(
        &run(&["ballots", "pdf", "--data", data_text, "--election", "no-such", "--all", "--out", out_text]),
        "there is no election no-such",
    );
    assert_refused(
        &run(&[
            "ballots",
            "pdf",
            "--data",
            data_text,
            "--election",
            "gen-01",
            "--style",
            "style-99",
            "--out",
            out_text,
        ]),
        "--style: gen-01 has no style style-99",
    );
    let neither = run(&["ballots", "pdf", "--data", data_text, "--election", "gen-01", "--out", out_text]);
    assert!(!neither.status.success());
    assert!(stderr(&neither).contains("--style") && stderr(&neither).contains("--all"), "{}", stderr(&neither));
    assert!(!out.exists(), "a refused command writes nothing");
}
