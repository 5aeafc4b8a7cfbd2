//! Ballot PDFs, sample ballots and the marking page (issue 9), on NIST's gen-01 election
//! definition imported through the real admin API: each style's PDF holds exactly that style's
//! contests and choices (read back with poppler's pdftotext) and renders (pdftoppm); the bytes
//! are the same every time and the public route serves exactly them; the sample ballots page
//! finds a precinct's style and refuses bad input; and in headless Chromium a voter marks a
//! ballot (choices, a write-in, the vote-for limit) while the DevTools protocol's Network
//! domain records every request the page makes: there must be none, and axe-core must find no
//! WCAG 2.1 AA violation at phone width.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "support/devtools.rs"]
mod devtools;

use std::{
    net::SocketAddr,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use canvass_core::{
    ballot_styles::{BallotStyle, ballot_styles},
    id::{ElectionId, JurisdictionId},
    jurisdiction::{Jurisdiction, JurisdictionKind},
    name::Name,
    results::ElectionDefinition,
};
use canvass_server::{admin_app, ballot_marking::MARKING_CONTENT_SECURITY_POLICY, ballot_pdf, public_app};
use devtools::Chromium;
use serde_json::json;
use support::{TestNode, get, send, test_node};

const STATE: &str = "ocd-division/country:us/state:ex";
const ELECTION: &str = "gen-01";
const GEN_01_XML: &str =
    "../../../shared/data/nist/cdf-test-method/test_data/synthetic/gen-01/err_v2/pe-err-gen-01.xml";

/// A node holding NIST's gen-01 definition, imported through the admin API as an office would.
async fn gen_01_node() -> (TestNode, ElectionDefinition) {
    let test = test_node("", false).await;
    let state = Jurisdiction {
        id: JurisdictionId::parse(STATE).unwrap(),
        name: Name::parse("Example State").unwrap(),
        kind: JurisdictionKind::State,
        parent: None,
    };
    test.node.store().insert_jurisdiction(&state).await.unwrap();
    let body = std::fs::read(GEN_01_XML)
        .unwrap_or_else(|_| panic!("{GEN_01_XML} is missing: these tests read shared/data beside the repository"));
    let encoded: String = form_urlencoded::byte_serialize(STATE.as_bytes()).collect();
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/jurisdictions/{encoded}/elections?format=nist-xml&election={ELECTION}"))
        .header(header::AUTHORIZATION, support::bearer(&test.admin_token))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(body))
        .unwrap();
    let reply = send(&admin_app(test.node.clone()), request).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let definition =
        test.node.store().election_definition(&ElectionId::parse(ELECTION).unwrap()).await.unwrap().unwrap();
    (test, definition)
}

async fn fetch_bytes(app: &Router, path: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    use http_body_util::BodyExt;
    let response = tower::ServiceExt::oneshot(app.clone(), get(path)).await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).map(|value| value.to_str().unwrap_or_default().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, content_type, bytes)
}

fn poppler(program: &str) -> Command {
    assert!(
        Path::new(&format!("/usr/bin/{program}")).exists(),
        "{program} is missing: this test needs Debian's poppler-utils, which scripts/test installs"
    );
    Command::new(program)
}

/// The text of a PDF (or of one page) in the order it is drawn (`-raw`: a contest's heading,
/// then its choices, whatever the columns), whitespace collapsed so wrapped names read whole.
fn pdf_text(pdf: &Path, page: Option<usize>) -> String {
    let mut command = poppler("pdftotext");
    command.arg("-raw");
    if let Some(page) = page {
        command.args(["-f", &page.to_string(), "-l", &page.to_string()]);
    }
    let output = command.arg(pdf).arg("-").output().unwrap();
    assert!(output.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().split_whitespace().collect::<Vec<_>>().join(" ")
}

fn page_count(pdf: &Path) -> usize {
    let output = poppler("pdfinfo").arg(pdf).output().unwrap();
    let info = String::from_utf8(output.stdout).unwrap();
    info.lines().find_map(|line| line.strip_prefix("Pages:")).unwrap().trim().parse().unwrap()
}

fn collapsed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks one style's PDF: exactly its contests, every choice, its id, and that it renders.
fn check_style_pdf(definition: &ElectionDefinition, style: &BallotStyle, pdf: &[u8], sample: bool) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join(format!("{}.pdf", style.id));
    std::fs::write(&path, pdf).unwrap();
    // Kept under the target's test directory for a person to look at.
    let kept = format!("ballot-{}{}.pdf", style.id, if sample { "-sample" } else { "" });
    std::fs::write(Path::new(env!("CARGO_TARGET_TMPDIR")).join(kept), pdf).unwrap();
    let text = pdf_text(&path, None);
    let on_ballot: Vec<&canvass_core::election::Contest> =
        definition.contests.iter().filter(|contest| style.contests.contains(&contest.id)).collect();
    for contest in &on_ballot {
        let heading = format!("{} Vote for {}", collapsed(contest.name.as_str()), contest.vote_for.get());
        assert!(text.contains(&heading), "{}: `{heading}` is missing from the PDF", style.id);
        for choice in &contest.choices {
            assert!(text.contains(&collapsed(choice.name.as_str())), "{}: choice {} is missing", style.id, choice.name);
        }
    }
    for contest in definition.contests.iter().filter(|contest| !style.contests.contains(&contest.id)) {
        let name = collapsed(contest.name.as_str());
        // A contest whose name is part of a listed one's ("Governor" in "Lieutenant Governor") is
        // checked by the count below instead.
        if on_ballot.iter().any(|listed| collapsed(listed.name.as_str()).contains(&name)) {
            continue;
        }
        assert!(!text.contains(&name), "{}: contest {name} is not on this style but is in its PDF", style.id);
    }
    let vote_for_n = text
        .match_indices("Vote for ")
        .filter(|(at, found)| text[at + found.len()..].starts_with(|c: char| c.is_ascii_digit()))
        .count();
    let headings = vote_for_n - text.matches("(continued)").count();
    assert_eq!(headings, on_ballot.len(), "{}: one heading per contest of the style", style.id);
    let write_ins: u32 = on_ballot.iter().map(|contest| ballot_pdf::write_in_lines(contest)).sum();
    assert_eq!(text.matches("Write-in").count(), write_ins as usize, "{}: write-in lines", style.id);
    assert!(text.contains(&format!("Ballot style {}", style.id)));
    assert!(text.contains(definition.election.name.as_str()));
    assert!(text.contains("Returning your ballot") && text.contains("Instructions"));

    let pages = page_count(&path);
    for page in 1..=pages {
        let page_text = pdf_text(&path, Some(page));
        assert!(page_text.contains(&format!("Page {page} of {pages}")), "{}: page {page} footer", style.id);
        assert!(page_text.contains(&format!("Ballot style {}", style.id)), "{}: page {page} style id", style.id);
        assert_eq!(page_text.contains(ballot_pdf::SAMPLE_MARK), sample, "{}: page {page} sample mark", style.id);
    }
    let prefix = directory.path().join("page");
    let rendered = poppler("pdftoppm").args(["-r", "40", "-png"]).arg(&path).arg(&prefix).output().unwrap();
    assert!(rendered.status.success(), "pdftoppm failed: {}", String::from_utf8_lossy(&rendered.stderr));
    let images: Vec<_> = std::fs::read_dir(directory.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|file| file.extension().is_some_and(|extension| extension == "png"))
        .collect();
    assert_eq!(images.len(), pages, "{}: one picture per page", style.id);
    assert!(images.iter().all(|image| std::fs::metadata(image).unwrap().len() > 2_000), "pages are not blank");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_style_pdf_holds_exactly_its_contests_renders_and_is_served_byte_for_byte() {
    let (test, definition) = gen_01_node().await;
    let styles = ballot_styles(&definition);
    assert!(styles.len() > 1, "gen-01 has precincts voting different contests");
    let app = public_app(test.node.clone());
    for style in &styles {
        let official = ballot_pdf::style_pdf(&definition, style, false).unwrap();
        assert_eq!(official, ballot_pdf::style_pdf(&definition, style, false).unwrap(), "same bytes twice");
        check_style_pdf(&definition, style, &official, false);
        let sample = ballot_pdf::style_pdf(&definition, style, true).unwrap();
        check_style_pdf(&definition, style, &sample, true);

        let path = format!("/elections/{ELECTION}/sample-ballots/{}.pdf", style.id);
        let (status, content_type, served) = fetch_bytes(&app, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(content_type.as_deref(), Some("application/pdf"));
        assert_eq!(served, sample, "{path} serves the style's sample bytes");
        assert_eq!(fetch_bytes(&app, &path).await.2, sample, "{path} from the cache");
    }
    // No clock or random id inside: a PDF made on another node is the same file.
    let (other, _) = gen_01_node().await;
    let other_app = public_app(other.node.clone());
    let path = format!("/elections/{ELECTION}/sample-ballots/{}.pdf", styles[0].id);
    assert_eq!(fetch_bytes(&other_app, &path).await.2, fetch_bytes(&app, &path).await.2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_ballots_page_finds_a_precinct_and_refuses_bad_input() {
    let (test, definition) = gen_01_node().await;
    let styles = ballot_styles(&definition);
    let app = public_app(test.node.clone());
    let election_page = send(&app, get(&format!("/elections/{ELECTION}"))).await;
    assert!(election_page.body.contains(&format!("/elections/{ELECTION}/sample-ballots")), "linked from the election");

    let page = send(&app, get(&format!("/elections/{ELECTION}/sample-ballots"))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for style in &styles {
        assert!(page.body.contains(&format!("/sample-ballots/{}.pdf", style.id)));
        assert!(page.body.contains(&format!("/mark/{}", style.id)));
    }
    // A search by part of a precinct's name leads to that precinct's style.
    let precinct = definition.precincts.iter().find(|precinct| styles[1].precincts.contains(&precinct.id)).unwrap();
    let query: String = form_urlencoded::byte_serialize(precinct.name.as_str().as_bytes()).collect();
    let found = send(&app, get(&format!("/elections/{ELECTION}/sample-ballots?precinct={query}"))).await;
    assert_eq!(found.status, StatusCode::OK);
    let matches = found.body.split("<h2>Ballot styles").next().unwrap();
    assert!(matches.contains(&format!("/sample-ballots/{}.pdf", styles[1].id)), "{matches}");

    let long = "x".repeat(101);
    for (path, status) in [
        (format!("/elections/{ELECTION}/sample-ballots?precinct={long}"), StatusCode::BAD_REQUEST),
        ("/elections/no-such-election/sample-ballots".to_owned(), StatusCode::NOT_FOUND),
        (format!("/elections/{ELECTION}/sample-ballots/style-999.pdf"), StatusCode::NOT_FOUND),
        (format!("/elections/{ELECTION}/sample-ballots/{}", styles[0].id), StatusCode::NOT_FOUND),
        (format!("/elections/{ELECTION}/sample-ballots/..%2F{}.pdf", styles[0].id), StatusCode::NOT_FOUND),
        (format!("/elections/{ELECTION}/mark/style-999"), StatusCode::NOT_FOUND),
        ("/elections/no-such-election/mark/style-1".to_owned(), StatusCode::NOT_FOUND),
    ] {
        let reply = send(&app, get(&path)).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        assert!(reply.header(header::CONTENT_TYPE).unwrap().starts_with("text/html"), "{path}: an HTML page");
    }

    let marking = send(&app, get(&format!("/elections/{ELECTION}/mark/{}", styles[0].id))).await;
    assert_eq!(marking.status, StatusCode::OK);
    assert_eq!(marking.header(header::CONTENT_SECURITY_POLICY), Some(MARKING_CONTENT_SECURITY_POLICY));
    let policy = MARKING_CONTENT_SECURITY_POLICY;
    assert!(policy.contains("connect-src 'none'") && policy.contains("form-action 'none'"));
    let script = send(&app, get("/assets/ballot-marking.js")).await;
    assert_eq!(script.status, StatusCode::OK);
    for network in ["fetch(", "XMLHttpRequest", "sendBeacon", "WebSocket", "localStorage", "submit("] {
        assert!(!script.body.contains(network), "the marking script uses {network}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_links_its_sample_ballots_and_a_practice_marking_page() {
    let test = test_node("", true).await;
    let app = public_app(test.node.clone());
    let home = send(&app, get("/")).await;
    let link = home
        .body
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.ends_with("/sample-ballots"));
    let link = link.expect("the demo's home page links an election's sample ballots").to_owned();
    let page = send(&app, get(&link)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let marking = page
        .body
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.contains("/mark/style-1"));
    let marking = send(&app, get(marking.expect("the sample ballots page links a practice marking page"))).await;
    assert_eq!(marking.status, StatusCode::OK);
    assert!(marking.body.contains("<fieldset"));
    let (status, content_type, pdf) = fetch_bytes(&app, &format!("{link}/style-1.pdf")).await;
    assert_eq!((status, content_type.as_deref()), (StatusCode::OK, Some("application/pdf")));
    assert!(pdf.starts_with(b"%PDF-"));
}

/// The public listener on a loopback port, for the browser.
async fn serve(test: &TestNode) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = public_app(test.node.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

/// axe-core's browser build, fetched from the npm registry by scripts/test.
fn axe_source() -> String {
    let path = std::env::var("CANVASS_AXE_CORE").unwrap_or_else(|_| {
        panic!(
            "CANVASS_AXE_CORE is not set: it names axe-core's axe.min.js, which scripts/test installs from the npm \
             registry (npm install --prefix target/axe-core axe-core@4) and sets"
        )
    });
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read axe-core at {path} (CANVASS_AXE_CORE): {error}"))
}

fn axe_violations(browser: &mut Chromium, axe: &str) -> Vec<String> {
    browser.evaluate(&format!("{axe}\n;true"));
    let run = "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })\
               .then(result => result.violations.map(v => v.id + ': ' + v.help + ' (' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', ') + ')'))";
    let violations = browser.evaluate_async(run);
    violations.as_array().unwrap().iter().map(|value| value.as_str().unwrap().to_owned()).collect()
}

/// Every request the page started since the Network domain was enabled (DevTools'
/// `Network.requestWillBeSent` events, which fire for any fetch, beacon, form post, image or
/// navigation the page makes, including ones a policy then blocks).
fn requests_sent(browser: &mut Chromium) -> Vec<String> {
    // A round trip first, so events sent before it have arrived; then half a second more, in
    // which a request started by the last input event would show up.
    browser.evaluate("0");
    let mut events = browser.drain_events("Network.requestWillBeSent");
    let deadline = Instant::now() + Duration::from_millis(500);
    while let Some(event) = browser.receive_until(deadline) {
        if event["method"] == "Network.requestWillBeSent" {
            events.push(event);
        }
    }
    events.iter().map(|event| event["params"]["request"]["url"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marking_a_ballot_in_chromium_sends_no_request_and_passes_axe() {
    let axe = axe_source();
    let (test, definition) = gen_01_node().await;
    let styles = ballot_styles(&definition);
    // The style with the most contests, so the page is a long one.
    let style = styles.iter().max_by_key(|style| style.contests.len()).unwrap().clone();
    let contests = ballot_pdf::style_contests(&definition, &style).unwrap().into_iter().cloned().collect::<Vec<_>>();
    let address = serve(&test).await;
    let url = format!("http://{address}/elections/{ELECTION}/mark/{}", style.id);
    let path = format!("/elections/{ELECTION}/mark/{}", style.id);
    tokio::task::spawn_blocking(move || {
        let mut browser = Chromium::launch("ballot-marking", 390, 844);
        browser.watch_problems();
        // The sample ballots page, where voters come from, passes too.
        let samples = format!("/elections/{ELECTION}/sample-ballots");
        browser.open(&format!("http://{address}{samples}"), &samples);
        let violations = axe_violations(&mut browser, &axe);
        assert!(violations.is_empty(), "sample ballots page, axe-core:\n{}", violations.join("\n"));
        let overflow = browser.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
        assert_eq!(overflow, json!(0), "the sample ballots page is wider than a phone");
        browser.screenshot("sample-ballots-phone.png");
        browser.problems();
        browser.open(&url, &path);
        let problems = browser.problems();
        assert!(problems.is_empty(), "loading the page: {problems:?}");
        // From here on every request the page starts is recorded.
        browser.call("Network.enable", json!({}), true);
        browser.drain_events("Network.requestWillBeSent");

        // A vote-for-1 contest: the first choice marked, then a second refused until the first
        // is unmarked.
        let single = contests.iter().position(|contest| contest.vote_for.get() == 1 && contest.choices.len() > 1);
        let single = single.expect("gen-01 has a vote-for-1 contest with two choices") + 1;
        let first = format!("#contest-{single}-choice-1");
        let second = format!("#contest-{single}-choice-2");
        browser.click(&first);
        assert_eq!(browser.evaluate(&format!("document.querySelector('{first}').checked")), json!(true));
        assert_eq!(browser.evaluate(&format!("document.querySelector('{second}').disabled")), json!(true));
        browser.click(&second);
        assert_eq!(browser.evaluate(&format!("document.querySelector('{second}').checked")), json!(false));
        let status = browser.text(&format!("#contest-{single}-status"));
        assert!(status.contains("1 marked"), "{status}");
        browser.click(&first);
        browser.click(&second);
        assert_eq!(browser.evaluate(&format!("document.querySelector('{second}').checked")), json!(true));

        // A candidate contest's write-in: typing a name marks its oval.
        let candidate = contests
            .iter()
            .position(|contest| ballot_pdf::write_in_lines(contest) > 0 && contest.vote_for.get() == 1)
            .expect("gen-01 has a candidate contest")
            + 1;
        let write_in = format!("#contest-{candidate}-write-in-1");
        if candidate != single {
            browser.type_into(&format!("{write_in}-name"), "Ada Lovelace");
            assert_eq!(browser.evaluate(&format!("document.querySelector('{write_in}').checked")), json!(true));
            assert_eq!(
                browser.evaluate(&format!("document.querySelector('#contest-{candidate}-choice-1').disabled")),
                json!(true),
                "the write-in used the contest's one vote"
            );
        }
        let requests = requests_sent(&mut browser);
        assert!(requests.is_empty(), "marking the ballot made requests: {requests:?}");
        // The watch itself works: an image the test adds to the page is a request it sees.
        browser.evaluate("window.probe = new Image(); window.probe.src = '/probe.png'; true");
        let probe = requests_sent(&mut browser);
        assert!(probe.iter().any(|url| url.ends_with("/probe.png")), "the Network watch saw {probe:?}");
        browser.problems();
        let problems = browser.problems();
        assert!(problems.is_empty(), "marking: {problems:?}");

        // The policy stops a script that tries to send the choices anyway.
        let attempt = browser
            .evaluate_async("fetch('/collect', { method: 'POST', body: 'x' }).then(() => 'sent', () => 'blocked')");
        assert_eq!(attempt, json!("blocked"));

        let violations = axe_violations(&mut browser, &axe);
        assert!(violations.is_empty(), "axe-core found violations:\n{}", violations.join("\n"));
        let overflow = browser.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
        assert_eq!(overflow, json!(0), "the page is wider than a 390-px phone screen");
        let shot = browser.screenshot("ballot-marking-phone.png");
        assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);

        // Printed, only the ballot remains: the marks and the write-in, not the site's chrome.
        browser.call("Emulation.setEmulatedMedia", json!({ "media": "print" }), true);
        let hidden = browser.evaluate(
            "[...document.querySelectorAll('.screen-only')].every(e => getComputedStyle(e).display === 'none')",
        );
        assert_eq!(hidden, json!(true), "the print stylesheet hides the screen-only parts");
        assert_eq!(browser.evaluate(&format!("document.querySelector('{second}').checked")), json!(true));
        let printed = browser.call("Page.printToPDF", json!({}), true);
        assert!(printed["data"].as_str().is_some_and(|data| data.len() > 1_000), "the page prints");
    })
    .await
    .unwrap();
}
