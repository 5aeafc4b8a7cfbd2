//! `canvass voters generate`: a seeded synthetic NC-layout file, through the real binary.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{run, stderr};

#[test]
fn generate_writes_the_same_file_for_the_same_seed_and_never_overwrites() {
    let directory = tempfile::tempdir().unwrap();
    let path = |name: &str| directory.path().join(name).to_str().unwrap().to_owned();
    for name in ["first.tsv", "second.tsv"] {
        let output =
            run(&["voters", "generate", "--rows", "250", "--seed", "42", "--confidential", "--out", &path(name)]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stderr(&output).contains("250 synthetic voters"), "{}", stderr(&output));
    }
    let first = std::fs::read(path("first.tsv")).unwrap();
    assert_eq!(first, std::fs::read(path("second.tsv")).unwrap());
    let text = String::from_utf8(first.clone()).unwrap();
    assert_eq!(text.lines().count(), 251, "a header and one line per voter");
    assert!(text.lines().next().unwrap().ends_with("birth_date\tssn4\tdrivers_lic_num\temail"));

    let refused = run(&["voters", "generate", "--rows", "5", "--out", &path("first.tsv")]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("must not exist"), "{}", stderr(&refused));
    assert_eq!(std::fs::read(path("first.tsv")).unwrap(), first, "the existing file is untouched");
}
