//! UOCAVA through the real binary: `serve --demo` prints an overseas voter's one-time ballot
//! link with their date of birth; the FPCA form is on the public listener; the link refuses a
//! wrong date, downloads the PDF once with the right one, and then answers "used"; the
//! `uocava` commands have help.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{Served, get, post_form, run, stdout};

#[test]
fn the_demo_prints_a_ballot_link_that_works_once_after_the_birth_date() {
    let served = Served::start(&["--demo"], &[]).unwrap();
    let line = served
        .printed
        .lines()
        .find(|line| line.contains("UOCAVA ballot link"))
        .unwrap_or_else(|| panic!("no link printed: {}", served.printed))
        .to_owned();
    let url = line.split_whitespace().find(|word| word.contains("/uocava/ballot/")).unwrap();
    let path = &url[url.find("/uocava/ballot/").unwrap()..];
    let birth_date = line.split("date of birth ").nth(1).unwrap().trim();

    let form = get(served.public, "/uocava/fpca");
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Federal Post Card Application"));
    assert!(get(served.public, "/").body.contains("/uocava/fpca"));

    assert_eq!(get(served.public, path).status, 200);
    assert_eq!(post_form(served.public, path, &[("birth_date", "1900-01-01")]).status, 403);
    let download = post_form(served.public, path, &[("birth_date", birth_date)]);
    assert_eq!(download.status, 200, "{}", download.body);
    assert_eq!(download.header("content-type"), Some("application/pdf"));
    assert!(download.body.starts_with("%PDF-"));
    let again = post_form(served.public, path, &[("birth_date", birth_date)]);
    assert_eq!(again.status, 410);
    assert!(again.body.contains("already used"));
    assert!(served.stop().success());
}

#[test]
fn uocava_commands_have_help() {
    for command in ["send", "deadlines", "fwab"] {
        let output = run(&["uocava", command, "--help"]);
        assert!(output.status.success());
        assert!(stdout(&output).contains("--election"), "{command}");
    }
}
