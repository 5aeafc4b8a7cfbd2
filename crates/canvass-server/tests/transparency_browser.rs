//! The transparency report in headless Chromium at phone width, served by the real public
//! listener over a socket: axe-core finds no WCAG 2.1 AA violation on the report or a
//! jurisdiction's page, the stylesheet loads under the strict CSP, nothing overflows the screen.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/devtools.rs"]
mod devtools;
mod support;

use devtools::Chromium;
use serde_json::json;

/// axe-core's browser build, fetched from the npm registry by scripts/test.
fn axe_source() -> String {
    let path = std::env::var("CANVASS_AXE_CORE")
        .expect("CANVASS_AXE_CORE names axe-core's axe.min.js, which scripts/test installs and sets");
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read axe-core at {path}: {error}"))
}

#[test]
fn the_report_pages_pass_axe_at_phone_width() {
    let axe = axe_source();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (address, county, _test) = runtime.block_on(async {
        let test = support::test_node("", true).await;
        let content = &test.demo.as_ref().unwrap().content;
        canvass_server::demo_incident::load(&test.node, content).await.unwrap();
        let county = content
            .jurisdictions
            .iter()
            .find(|jurisdiction| jurisdiction.kind == canvass_core::jurisdiction::JurisdictionKind::County)
            .unwrap()
            .id
            .to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = canvass_server::public_app(test.node.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (address, county, test)
    });
    let county_path = format!("/transparency/{}", county.replace('/', "%2F"));
    let mut browser = Chromium::launch("transparency", 390, 844);
    browser.watch_problems();
    let mut failures = Vec::new();
    for (kind, path) in [("report", "/transparency".to_owned()), ("jurisdiction", county_path)] {
        browser.open(&format!("http://{address}{path}"), &path);
        let styled = browser.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor");
        assert_eq!(styled, json!("rgb(18, 53, 91)"), "{kind}: the stylesheet did not load");
        assert_eq!(browser.evaluate("document.querySelectorAll('section.incident').length"), json!(1), "{kind}");
        if browser.evaluate("typeof window.axe") != json!("object") {
            browser.evaluate(&format!("{axe}\n;true"));
        }
        let run = "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })\
                   .then(result => result.violations.map(v => v.id + ': ' + v.help + ' (' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', ') + ')'))";
        for violation in browser.evaluate_async(run).as_array().unwrap() {
            failures.push(format!("{kind}: {}", violation.as_str().unwrap()));
        }
        let overflow = browser.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
        assert_eq!(overflow, json!(0), "{kind}: the page is wider than a 390-px phone screen");
        let problems = browser.problems();
        assert!(problems.is_empty(), "{kind}: the browser reported {problems:?}");
        let shot = browser.screenshot(&format!("transparency-{kind}-phone.png"));
        assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "{kind}: a real picture");
    }
    assert!(failures.is_empty(), "axe-core found violations:\n{}", failures.join("\n"));
}
