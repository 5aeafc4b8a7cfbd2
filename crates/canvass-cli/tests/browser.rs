//! The demo's public pages in Debian's headless Chromium: the rendered DOM holds the
//! jurisdictions, the election and the chart, and the page passes its own CSP (Chromium
//! reports violations on the console, which --enable-logging sends to stderr).
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{path::Path, process::Command};

use support::Served;

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium(profile: &Path) -> Command {
    assert!(Path::new(CHROMIUM).exists(), "Chromium is missing: scripts/test installs Debian's chromium package");
    let mut command = Command::new(CHROMIUM);
    command
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

#[test]
fn the_demo_home_page_renders_in_chromium_without_csp_violations() {
    let served = Served::start(&["--demo"], &[]).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let output = chromium(profile.path()).arg("--dump-dom").arg(format!("http://{}/", served.public)).output().unwrap();
    let dom = String::from_utf8_lossy(&output.stdout);
    let console = String::from_utf8_lossy(&output.stderr);
    for expected in
        ["State of Examplia (demo)", "Cedar County", "General Election", "<svg", "Registered voters by county"]
    {
        assert!(dom.contains(expected), "rendered page lacks {expected}: {dom}");
    }
    assert!(!console.contains("Content Security Policy"), "CSP violation: {console}");

    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-home.png");
    let shot = chromium(profile.path())
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg("--window-size=1000,1400")
        .arg(format!("http://{}/jurisdictions/ocd-division%2Fcountry:us%2Fstate:zz%2Fcounty:alder", served.public))
        .output()
        .unwrap();
    assert!(shot.status.success(), "{}", String::from_utf8_lossy(&shot.stderr));
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000, "a real picture, not a blank page");
}
