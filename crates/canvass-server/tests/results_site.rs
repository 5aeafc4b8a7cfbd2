//! The public results pages (issue 7): the numbers they show are the tally's, every relative link
//! lands on a file of the snapshot, no page carries inline code, and in headless Chromium at
//! phone width axe-core finds no WCAG 2.1 AA violation on any page type, nothing overflows the
//! screen, the strict CSP holds, and the script swaps in a newer snapshot in place.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/devtools.rs"]
mod devtools;

use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    path::{Component, Path, PathBuf},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{StatusCode, Uri, header},
    response::Response,
};
use canvass_core::{
    results::{ChangeKind, ElectionResults, ResultsChange, Tally, tally},
    results_sample::{SampleShape, sample_election},
};
use canvass_server::{
    results_site::{self, ArchiveEntry, archive_page, slug},
    site_file::{SiteContext, SiteFile},
};
use devtools::Chromium;
use serde_json::{Value, json};
use time::macros::{date, datetime};

const ELECTION_DIRECTORY: &str = "zz-sample-2026";

fn small_results() -> ElectionResults {
    let sample = sample_election(SampleShape::SMALL, date!(2026 - 11 - 03), 7).unwrap();
    let mut changes = Vec::new();
    for (index, county) in sample.definition.counties.iter().enumerate() {
        let precincts = sample
            .definition
            .precincts
            .iter()
            .filter(|precinct| precinct.jurisdiction == county.id)
            .map(|precinct| precinct.id.clone())
            .collect();
        changes.push(ResultsChange {
            sequence: index as u64 + 1,
            at: datetime!(2026-11-03 20:30 UTC) + Duration::from_secs(600 * index as u64),
            county: Some(county.id.clone()),
            precincts,
            kind: ChangeKind::Report,
        });
    }
    changes.push(ResultsChange {
        sequence: changes.len() as u64 + 1,
        at: datetime!(2026-11-04 09:15 UTC),
        county: Some(sample.definition.counties[0].id.clone()),
        precincts: vec![sample.definition.precincts[0].id.clone()],
        kind: ChangeKind::Correction { reason: "Transposed digits in the early-voting count".into() },
    });
    ElectionResults {
        definition: sample.definition,
        returns: sample.returns.into_iter().map(|it| (it.precinct.clone(), it)).collect(),
        registered: sample.registered,
        changes,
    }
}

fn context(sequence: u64) -> SiteContext {
    SiteContext { sequence, published_at: datetime!(2026-11-04 09:16:30 UTC) }
}

fn render(results: &ElectionResults, sequence: u64) -> (Tally, BTreeMap<String, SiteFile>) {
    let sums = tally(results);
    let files = results_site::pages(results, &sums, &context(sequence), &results_site::PageMemo::default());
    let count = files.len();
    let by_path: BTreeMap<String, SiteFile> = files.into_iter().map(|file| (file.path.clone(), file)).collect();
    assert_eq!(by_path.len(), count, "two files share a path");
    (sums, by_path)
}

fn html<'a>(files: &'a BTreeMap<String, SiteFile>, path: &str) -> &'a str {
    let file = files.get(path).unwrap_or_else(|| panic!("no page {path}; pages: {:?}", files.keys()));
    std::str::from_utf8(&file.body).unwrap()
}

/// The markup of the element that opens with `opening` (e.g. `<table class="results" id="x"`),
/// up to its closing `</{tag}>`.
fn element<'a>(page: &'a str, opening: &str, tag: &str) -> &'a str {
    let start = page.find(opening).unwrap_or_else(|| panic!("no `{opening}` in the page"));
    let end = page[start..].find(&format!("</{tag}>")).unwrap() + start;
    &page[start..end]
}

/// The texts of every `<{tag} class="{class}">…<` inside `markup`.
fn texts<'a>(markup: &'a str, tag: &str, class: &str) -> Vec<&'a str> {
    let opening = format!("<{tag} class=\"{class}\">");
    markup.split(&opening).skip(1).map(|rest| &rest[..rest.find('<').unwrap()]).collect()
}

fn count(text: &str) -> u64 {
    text.replace(',', "").parse().unwrap_or_else(|_| panic!("`{text}` is not a count"))
}

/// The votes per choice in a results table, as rendered.
fn rendered_votes(page: &str, table_id: &str) -> Vec<u64> {
    let table = element(page, &format!("<table class=\"results\" id=\"{table_id}\""), "table");
    texts(table, "td", "votes").into_iter().map(count).collect()
}

fn percent(share: f64) -> String {
    format!("{share:.1}%")
}

#[test]
fn a_county_shows_the_sum_of_its_precincts_and_the_summary_the_tally() {
    let results = small_results();
    let (sums, files) = render(&results, 5);
    let definition = &results.definition;
    // Two assets, summary, change history, and one page per contest, county and precinct.
    assert_eq!(files.len(), 4 + definition.contests.len() + definition.counties.len() + definition.precincts.len());

    for county in &definition.counties {
        let county_page = html(&files, &format!("counties/{}.html", slug(county.id.as_str())));
        let precincts: Vec<_> = definition.precincts.iter().filter(|p| p.jurisdiction == county.id).collect();
        for (contest_id, counted) in &sums.counties[&county.id].contests {
            let table = format!("results-{}", slug(contest_id.as_str()));
            let shown = rendered_votes(county_page, &table);
            let mut from_precincts = vec![0; shown.len()];
            for precinct in &precincts {
                let precinct_page = html(&files, &format!("precincts/{}.html", slug(precinct.id.as_str())));
                for (sum, votes) in from_precincts.iter_mut().zip(rendered_votes(precinct_page, &table)) {
                    *sum += votes;
                }
            }
            assert_eq!(shown, from_precincts, "{} {contest_id}: the county is not the sum of its precincts", county.id);
            let expected: Vec<u64> = counted.choices.iter().map(|votes| votes.total).collect();
            assert_eq!(shown, expected, "{} {contest_id}", county.id);
            assert!(shown.iter().sum::<u64>() > 0);
        }
    }

    let summary = html(&files, "index.html");
    assert!(summary.contains("12 of 12</span> precincts reporting (100.0%)"), "{summary}");
    let turnout = sums.state.turnout().unwrap();
    assert!(summary.contains(&format!("<span class=\"figure turnout\">{}</span>", percent(turnout))), "{summary}");
    assert!(summary.contains("Unofficial") && !summary.contains("Certified<"));
    assert!(summary.contains("<time datetime=\"2026-11-04T09:16:30Z\">Wednesday 4 November 2026 at 09:16 UTC</time>"));
    for contest in &definition.contests {
        let table = element(
            summary,
            &format!("<table class=\"results\" id=\"results-{}\"", slug(contest.id.as_str())),
            "table",
        );
        let shares: Vec<String> = texts(table, "td", "share").into_iter().map(str::to_owned).collect();
        let expected: Vec<String> = sums.state.contests[&contest.id].shares().into_iter().map(percent).collect();
        assert_eq!(shares, expected, "{}", contest.id);
        // Every precinct reported: each contest names its winner(s), as many as it elects at most.
        let winners = table.matches("class=\"winner-mark\"").count();
        assert!(winners >= 1 && winners <= contest.vote_for.get() as usize, "{}: {winners} winners", contest.id);
    }

    // The change history, newest first, with the correction's reason.
    let changes = html(&files, "changes.html");
    let correction = changes.find("id=\"change-4\"").unwrap();
    let first_report = changes.find("id=\"change-1\"").unwrap();
    assert!(correction < first_report);
    assert!(changes.contains("Reason: Transposed digits in the early-voting count"));
}

#[test]
fn unreported_precincts_lower_the_count_and_withhold_the_winner() {
    let mut results = small_results();
    let missing = results.definition.precincts[0].clone();
    results.returns.remove(&missing.id);
    let (sums, files) = render(&results, 2);
    let summary = html(&files, "index.html");
    assert!(summary.contains("11 of 12</span> precincts reporting (91.7%)"), "{summary}");
    for contest in &results.definition.contests {
        let table = element(summary, &format!("id=\"results-{}\"", slug(contest.id.as_str())), "table");
        let complete =
            results.definition.coverage[&contest.id].iter().all(|precinct| results.returns.contains_key(precinct));
        assert_eq!(table.contains("winner-mark"), complete, "{}", contest.id);
    }
    let precinct_page = html(&files, &format!("precincts/{}.html", slug(missing.id.as_str())));
    assert!(precinct_page.contains("Not yet reported"));
    let county_page = html(&files, &format!("counties/{}.html", slug(missing.jurisdiction.as_str())));
    assert!(county_page.contains("Not yet"));
    assert_eq!(sums.state.precincts_reporting, 11);
}

#[test]
fn certified_results_say_so() {
    let mut results = small_results();
    results.changes.push(ResultsChange {
        sequence: 5,
        at: datetime!(2026-11-20 12:00 UTC),
        county: None,
        precincts: Vec::new(),
        kind: ChangeKind::Certification,
    });
    let (_, files) = render(&results, 6);
    for path in ["index.html", &format!("counties/{}.html", slug(results.definition.counties[1].id.as_str()))] {
        let page = html(&files, path);
        assert!(page.contains("<span class=\"badge certified\">Certified</span>"), "{path}");
    }
    assert!(html(&files, "changes.html").contains("Certification of the final results"));
}

#[test]
fn a_precinct_page_changes_only_with_its_own_numbers() {
    let results = small_results();
    let (_, before) = render(&results, 4);
    let mut corrected = results.clone();
    let precinct = corrected.definition.precincts[5].id.clone();
    let counts = corrected.returns.get_mut(&precinct).unwrap();
    counts.contests[0].choices[1].total += 2;
    counts.contests[0].choices[1].by_type[1] += 2;
    corrected.changes.push(ResultsChange {
        sequence: 5,
        at: datetime!(2026-11-05 10:00 UTC),
        county: Some(corrected.definition.precincts[5].jurisdiction.clone()),
        precincts: vec![precinct.clone()],
        kind: ChangeKind::Correction { reason: "Recount of one machine".into() },
    });
    let (_, after) = render(&corrected, 5);
    for other in &results.definition.precincts {
        let path = format!("precincts/{}.html", slug(other.id.as_str()));
        assert_eq!(before[&path] == after[&path], other.id != precinct, "{path}");
    }
    let page = html(&after, &format!("precincts/{}.html", slug(precinct.as_str())));
    assert!(page.contains("Corrected <time datetime=\"2026-11-05T10:00:00Z\">"), "{page}");
    assert_ne!(before["index.html"], after["index.html"], "the summary carries the snapshot's time");
}

#[test]
fn before_any_report_every_page_renders_with_nothing_counted() {
    let mut results = small_results();
    results.returns.clear();
    results.changes.clear();
    let (_, files) = render(&results, 1);
    let summary = html(&files, "index.html");
    assert!(summary.contains("0 of 12</span> precincts reporting (0.0%)"), "{summary}");
    assert!(!summary.contains("winner-mark"));
    assert!(html(&files, "changes.html").contains("No results have been reported yet."));
    for precinct in &results.definition.precincts {
        let page = html(&files, &format!("precincts/{}.html", slug(precinct.id.as_str())));
        assert!(page.contains("Not yet reported") && !page.contains("Ballots cast by vote type"));
    }
}

#[test]
fn a_correction_reason_is_text_not_markup() {
    let mut results = small_results();
    results.changes.push(ResultsChange {
        sequence: 5,
        at: datetime!(2026-11-05 10:00 UTC),
        county: None,
        precincts: Vec::new(),
        kind: ChangeKind::Correction { reason: "<script>alert(1)</script> & \"quoted\"".into() },
    });
    let (_, files) = render(&results, 6);
    let changes = html(&files, "changes.html");
    assert!(changes.contains("Reason: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;"), "{changes}");
    assert!(!changes.contains("<script>alert"));
}

/// Every `href="…"` and `src="…"` value in a page.
fn references(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        for rest in page.split(attribute).skip(1) {
            found.push(rest[..rest.find('"').unwrap()].to_owned());
        }
    }
    found
}

/// Resolves a relative reference from the page at `from` (below the snapshot's root); `None`
/// when it climbs above the root, as the links to the latest results and the archive do.
fn resolve(from: &str, reference: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for segment in reference.split('/') {
        match segment {
            ".." => {
                parts.pop()?;
            }
            "." | "" => {}
            name => parts.push(name),
        }
    }
    Some(parts.join("/"))
}

#[test]
fn every_link_resolves_inside_the_snapshot_and_no_page_has_inline_code() {
    let results = small_results();
    let (_, files) = render(&results, 3);
    let mut climbing = BTreeSet::new();
    for (path, file) in &files {
        if !path.ends_with(".html") {
            continue;
        }
        let page = std::str::from_utf8(&file.body).unwrap();
        for reference in references(page) {
            assert!(!reference.starts_with('/') && !reference.contains("://"), "{path}: `{reference}` is not relative");
            let (address, fragment) = reference.split_once('#').unwrap_or((&reference, ""));
            let target = if address.is_empty() { Some(path.clone()) } else { resolve(path, address) };
            match target {
                Some(target) => {
                    let file = files.get(&target);
                    assert!(file.is_some(), "{path}: `{reference}` -> {target} is not in the snapshot");
                    let text = std::str::from_utf8(&file.unwrap().body).unwrap();
                    let anchor = format!("id=\"{fragment}\"");
                    assert!(fragment.is_empty() || text.contains(&anchor), "{path}: no {anchor} in {target}");
                }
                None => {
                    let depth = path.matches('/').count();
                    climbing.insert(address["../".repeat(depth).len()..].to_owned());
                }
            }
        }
        assert!(!page.contains(" style=") && !page.contains("<style"), "{path} has an inline style");
        for script in page.split("<script").skip(1) {
            let tag = &script[..script.find('>').unwrap()];
            assert!(tag.contains(" src=\""), "{path} has an inline script");
            assert!(script[tag.len() + 1..].starts_with("</script>"), "{path}: a script element has a body");
        }
        for handler in [" onclick=", " onload=", " onerror=", "javascript:"] {
            assert!(!page.contains(handler), "{path} has {handler}");
        }
        assert!(page.contains("<html lang=\"en\">") && page.contains("<main id=\"main\""), "{path}");
        assert!(page.contains("href=\"#main\""), "{path} has no skip link");
    }
    // The only ways out of the snapshot: the election's latest results and the archive.
    assert_eq!(climbing, BTreeSet::from(["../../".to_owned(), "../../../".to_owned()]));

    let entry = |name: &str, day: time::Date, link: &str| ArchiveEntry {
        name: name.into(),
        date: day,
        link: link.into(),
        certified: day.year() < 2026,
        last_updated: datetime!(2026-11-04 09:16 UTC),
    };
    let archive = archive_page(&[
        entry("2024 General Election", date!(2024 - 11 - 05), "zz-general-2024/"),
        entry("2026 General Election", date!(2026 - 11 - 03), "zz-general-2026/"),
    ]);
    let text = std::str::from_utf8(&archive.body).unwrap();
    assert_eq!(archive.path, "index.html");
    assert!(text.find("zz-general-2026/").unwrap() < text.find("zz-general-2024/").unwrap(), "newest first");
    assert_eq!(references(text), ["results.css", "#main", "zz-general-2026/", "zz-general-2024/"]);
}

// ---------------------------------------------------------------------------------------------
// In the browser

/// The strict policy the results pages are served under: scripts and styles from the site only,
/// and fetches (the pointer, the next snapshot) to it.
const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
                   img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn write_files(directory: &Path, files: impl IntoIterator<Item = SiteFile>) {
    for file in files {
        let path = directory.join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &file.body).unwrap();
    }
}

fn write_pointer(election: &Path, sequence: u64) {
    let pointer = json!({ "election": ELECTION_DIRECTORY, "sequence": sequence, "published_at": "2026-11-04T09:16:30Z", "manifest_sha256": "" });
    std::fs::write(election.join("current.json"), pointer.to_string()).unwrap();
}

/// A loopback static file server over `root` (a directory's `index.html` for a trailing `/`),
/// with the CSP; it runs until the test process ends.
fn serve(root: PathBuf) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let app = Router::new().fallback(move |uri: Uri| {
                let root = root.clone();
                async move { static_file(&root, &uri) }
            });
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    address
}

fn static_file(root: &Path, uri: &Uri) -> Response {
    let mut relative = PathBuf::new();
    for component in Path::new(uri.path().trim_start_matches('/')).components() {
        match component {
            Component::Normal(name) => relative.push(name),
            _ => return status(StatusCode::BAD_REQUEST),
        }
    }
    if uri.path().ends_with('/') {
        relative.push("index.html");
    }
    // The browser asks the host for its icon; that is the host's business, not the pages'.
    if relative == Path::new("favicon.ico") {
        return status(StatusCode::NO_CONTENT);
    }
    let Ok(body) = std::fs::read(root.join(&relative)) else { return status(StatusCode::NOT_FOUND) };
    let content_type = match relative.extension().and_then(|extension| extension.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_SECURITY_POLICY, CSP)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body))
        .unwrap()
}

fn status(code: StatusCode) -> Response {
    Response::builder().status(code).body(Body::empty()).unwrap()
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

/// Runs axe-core on the open page for WCAG 2.0/2.1 A and AA and axe's best practices; returns
/// each violation as "rule: help (targets)".
fn axe_violations(browser: &mut Chromium, axe: &str) -> Vec<String> {
    if browser.evaluate("typeof window.axe") != json!("object") {
        browser.evaluate(&format!("{axe}\n;true"));
    }
    let run = "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })\
               .then(result => result.violations.map(v => v.id + ': ' + v.help + ' (' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', ') + ')'))";
    let violations = browser.evaluate_async(run);
    violations.as_array().unwrap().iter().map(|value| value.as_str().unwrap().to_owned()).collect()
}

fn wait_for(browser: &mut Chromium, expression: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while browser.evaluate(expression) != json!(true) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {}", browser.describe());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn every_page_type_passes_axe_at_phone_width_and_updates_in_place() {
    let axe = axe_source();
    let results = small_results();
    let (_, files) = render(&results, 1);
    let site = tempfile::tempdir().unwrap();
    let election = site.path().join(ELECTION_DIRECTORY);
    write_files(&election.join("s/1"), files.into_values());
    write_pointer(&election, 1);
    let archive = ArchiveEntry {
        name: results.definition.election.name.to_string(),
        date: results.definition.election.date,
        link: format!("{ELECTION_DIRECTORY}/s/1/"),
        certified: false,
        last_updated: context(1).published_at,
    };
    write_files(site.path(), [archive_page(&[archive]), results_site::stylesheet()]);
    let address = serve(site.path().to_owned());
    let base = format!("http://{address}/{ELECTION_DIRECTORY}/s/1/");

    let definition = &results.definition;
    let county = format!("counties/{}.html", slug(definition.counties[0].id.as_str()));
    let contest = format!("contests/{}.html", slug(definition.contests[0].id.as_str()));
    let precinct = format!("precincts/{}.html", slug(definition.precincts[0].id.as_str()));
    let pages: Vec<(String, String)> = [
        ("index.html", "summary"),
        (contest.as_str(), "contest"),
        (county.as_str(), "county"),
        (precinct.as_str(), "precinct"),
        ("changes.html", "changes"),
    ]
    .into_iter()
    .map(|(path, kind)| (format!("{base}{path}"), kind.to_owned()))
    .chain([(format!("http://{address}/index.html"), "archive".to_owned())])
    .collect();

    let mut browser = Chromium::launch("results-site", 390, 844);
    browser.watch_problems();
    let mut failures = Vec::new();
    for (url, kind) in &pages {
        let path = url.trim_start_matches(&format!("http://{address}")).to_owned();
        browser.open(url, &path);
        let styled = browser.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor");
        assert_eq!(styled, json!("rgb(18, 53, 91)"), "{kind}: the stylesheet did not load");
        for violation in axe_violations(&mut browser, &axe) {
            failures.push(format!("{kind} ({path}): {violation}"));
        }
        let overflow = browser.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
        assert_eq!(overflow, json!(0), "{kind}: the page is wider than a 390-px phone screen");
        let problems = browser.problems();
        assert!(problems.is_empty(), "{kind}: the browser reported {problems:?}");
        // A picture of each page type at phone width, for a person to look at.
        let shot = browser.screenshot(&format!("results-{kind}-phone.png"));
        assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "{kind}: a real picture, not a blank page");
    }
    assert!(failures.is_empty(), "axe-core found violations:\n{}", failures.join("\n"));

    // Live update: a county page of snapshot 1 is open; snapshot 2 (a correction) is published
    // and the pointer moved. When the tab is shown again, the script swaps the new numbers in.
    let (before, _) = render(&results, 1);
    let mut corrected = results.clone();
    let first = corrected.returns.values_mut().next().unwrap();
    first.contests[0].choices[0].total += 1;
    first.contests[0].choices[0].by_type[0] += 1;
    let (sums, files) = render(&corrected, 2);
    write_files(&election.join("s/2"), files.into_values());
    let page = format!("{base}{county}");
    browser.open(&page, page.trim_start_matches(&format!("http://{address}")));
    browser.evaluate("document.querySelector('main').setAttribute('data-old', 'yes')");
    write_pointer(&election, 2);
    browser.evaluate("document.dispatchEvent(new Event('visibilitychange'))");
    wait_for(&mut browser, "location.pathname.includes('/s/2/')", "the address of snapshot 2");
    wait_for(&mut browser, "document.querySelector('main').getAttribute('data-old') === null", "the new <main>");
    let note = browser.text("#live-note");
    assert!(note.starts_with("Updated ") && note.len() == "Updated HH:MM".len(), "live note: {note}");
    let contest_id = &definition
        .contests
        .iter()
        .find(|c| sums.counties[&definition.counties[0].id].contests.contains_key(&c.id))
        .unwrap()
        .id;
    let table = format!("results-{}", slug(contest_id.as_str()));
    let shown: Value = browser.evaluate(&format!("document.querySelector('#{table} td.votes').textContent"));
    let expected = sums.counties[&definition.counties[0].id].contests[contest_id].choices[0].total;
    assert_eq!(count(shown.as_str().unwrap()), expected);
    assert_eq!(before.counties[&definition.counties[0].id].contests[contest_id].choices[0].total + 1, expected);
    let problems = browser.problems();
    assert!(problems.is_empty(), "the update: {problems:?}");
}
