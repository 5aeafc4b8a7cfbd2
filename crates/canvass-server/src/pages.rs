//! Server-rendered pages: the public home page (jurisdictions and their elections), a page per
//! jurisdiction and per election, and the admin listener's landing page. No JavaScript; charts
//! are inline SVG drawn with attributes, so the strict CSP (no inline styles) holds.

use std::collections::BTreeMap;

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use canvass_core::{
    election::Election,
    id::{ElectionId, JurisdictionId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct, roll_up, tree_order, with_ancestors},
};
use canvass_store::PrecinctVoterCount;
use maud::{DOCTYPE, Markup, html};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use time::OffsetDateTime;

use crate::{Node, ServerError, api::ApiPath};

pub(crate) const STYLESHEET: &str = include_str!("../assets/canvass.css");

/// Characters escaped in an id used as one path segment (OCD-IDs contain `/`).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%');

fn jurisdiction_href(id: &JurisdictionId) -> String {
    format!("/jurisdictions/{}", utf8_percent_encode(id.as_str(), SEGMENT))
}

pub(crate) fn election_href(id: &ElectionId) -> String {
    format!("/elections/{}", utf8_percent_encode(id.as_str(), SEGMENT))
}

/// A page failure rendered as HTML rather than JSON.
pub struct PageError(pub ServerError);

impl From<ServerError> for PageError {
    fn from(error: ServerError) -> Self {
        Self(error)
    }
}

impl From<canvass_store::StoreError> for PageError {
    fn from(error: canvass_store::StoreError) -> Self {
        Self(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if status.is_server_error() {
            tracing::error!(error = %self.0, "page failed");
        }
        let message = if status.is_server_error() {
            "Something went wrong on our side. Please try again shortly.".to_owned()
        } else {
            self.0.public_message()
        };
        (
            status,
            layout(
                status.canonical_reason().unwrap_or("Error"),
                false,
                html! { p { (message) } p { a href="/" { "Back to the home page" } } },
            ),
        )
            .into_response()
    }
}

pub(crate) fn layout(title: &str, demo: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Canvass" }
                link rel="stylesheet" href="/assets/canvass.css";
            }
            body {
                header.site {
                    a href="/" { "Canvass" }
                    span.tagline { "Election information published by this office" }
                    a.nav href="/audit" { "Audit log" }
                }
                main {
                    @if demo {
                        p.demo-banner { strong { "Demo node. " } "Every place, person and number here is fictional." }
                    }
                    (body)
                }
            }
        }
    }
}

fn footer(node: &Node) -> Markup {
    html! {
        footer.site {
            "Published by a Canvass node. Node signing key (Ed25519): "
            code { (node.public_key().to_hex()) }
        }
    }
}

fn days_until(date: time::Date) -> i64 {
    (date - OffsetDateTime::now_utc().date()).whole_days()
}

fn when(date: time::Date) -> String {
    match days_until(date) {
        0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        days if days > 1 => format!("in {days} days"),
        -1 => "yesterday".to_owned(),
        days => format!("{} days ago", -days),
    }
}

/// A horizontal bar per row, scaled to the largest value; labels and numbers as SVG text.
fn bar_chart(caption: &str, rows: &[(String, u64)]) -> Markup {
    bar_chart_laid_out(caption, rows, BarLayout { label_width: 170, bar_width: 300, number_width: 70 })
}

/// The widths, in SVG units, of a bar chart's three columns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BarLayout {
    pub label_width: u64,
    pub bar_width: u64,
    pub number_width: u64,
}

/// [`bar_chart`] with its own column widths (longer labels need a wider first column).
pub(crate) fn bar_chart_laid_out(caption: &str, rows: &[(String, u64)], layout: BarLayout) -> Markup {
    const ROW_HEIGHT: u64 = 28;
    let BarLayout { label_width, bar_width, number_width } = layout;
    let largest = rows.iter().map(|(_, value)| *value).max().unwrap_or(0).max(1);
    let height = ROW_HEIGHT * rows.len() as u64 + 4;
    html! {
        figure {
            svg.bars viewBox={ "0 0 " (label_width + bar_width + number_width) " " (height) } role="img" aria-label=(caption) {
                @for (index, (label, value)) in rows.iter().enumerate() {
                    @let y = ROW_HEIGHT * index as u64 + 4;
                    text x="0" y=(y + 16) { (label) }
                    rect.track x=(label_width) y=(y + 2) width=(bar_width) height="18" rx="3" {}
                    rect.bar x=(label_width) y=(y + 2) width=(bar_width * value / largest) height="18" rx="3" {}
                    text x=(label_width + bar_width + 8) y=(y + 16) { (value) }
                }
            }
            figcaption.muted { (caption) }
        }
    }
}

fn election_cards(elections: &[Election], names: &BTreeMap<JurisdictionId, String>) -> Markup {
    html! {
        @if elections.is_empty() {
            p.muted { "No elections are scheduled yet." }
        } @else {
            div.cards {
                @for election in elections {
                    div.card {
                        a href=(election_href(&election.id)) { strong { (election.name) } }
                        div.date { (election.date) " · " (when(election.date)) }
                        div.muted { (names.get(&election.jurisdiction).map_or("", String::as_str)) }
                        div { a href={ (election_href(&election.id)) "/sample-ballots" } { "Sample ballots" } }
                    }
                }
            }
        }
    }
}

/// Registered voters per jurisdiction (its precincts and every sub-jurisdiction's).
fn registered_totals(
    jurisdictions: &[Jurisdiction],
    precincts: &[Precinct],
    counts: &[PrecinctVoterCount],
) -> BTreeMap<JurisdictionId, u64> {
    roll_up(jurisdictions, precincts, counts.iter().map(|count| (&count.precinct, count.registered)))
}

/// `GET /`: the jurisdictions this node hosts and their elections.
pub async fn home(State(node): State<Node>) -> Result<Markup, PageError> {
    let jurisdictions = node.store().jurisdictions().await?;
    let elections = node.store().elections(None).await?;
    let precincts = node.store().precincts(None).await?;
    let counts = node.store().registered_voter_counts().await?;
    let totals = registered_totals(&jurisdictions, &precincts, &counts);
    let names: BTreeMap<JurisdictionId, String> =
        jurisdictions.iter().map(|j| (j.id.clone(), j.name.to_string())).collect();
    let county_rows: Vec<(String, u64)> = tree_order(&jurisdictions)
        .into_iter()
        .filter(|(_, j)| j.kind == JurisdictionKind::County)
        .map(|(_, j)| (j.name.to_string(), totals.get(&j.id).copied().unwrap_or(0)))
        .collect();
    let body = html! {
        h1 { "Elections and jurisdictions" }
        p { a href="/lookup/registration" { "Am I registered to vote?" } " Check your registration status and precinct." }
        p { a href="/lookup/ballot" { "Did my ballot count?" } " Check whether your absentee or provisional ballot was counted." }
        p { a href="/uocava/fpca" { "Voting from overseas or in the military?" } " Register and request your ballot (FPCA)." }
        h2 { "Elections" }
        (election_cards(&elections, &names))
        h2 { "Jurisdictions on this node" }
        @if jurisdictions.is_empty() {
            p.muted { "No jurisdictions yet. An administrator adds them with "
                code { "canvass jurisdiction add" } "." }
        } @else {
            ul.tree {
                @for (depth, jurisdiction) in tree_order(&jurisdictions) {
                    li class={ "depth-" (depth.min(2)) } {
                        a href=(jurisdiction_href(&jurisdiction.id)) { (jurisdiction.name) }
                        span.kind { (jurisdiction.kind) }
                    }
                }
            }
        }
        @if county_rows.iter().any(|(_, value)| *value > 0) {
            h2 { "Registered voters by county" }
            (bar_chart("Registered voters (active, inactive and temporary) by county", &county_rows))
        }
        (footer(&node))
    };
    Ok(layout("Home", node.is_demo(), body))
}

/// `GET /jurisdictions/{id}`: one jurisdiction, its sub-jurisdictions, precincts and elections.
pub async fn jurisdiction(State(node): State<Node>, ApiPath(id): ApiPath<String>) -> Result<Markup, PageError> {
    let not_found = || PageError(ServerError::NotFound("There is no such jurisdiction on this node.".into()));
    let id = JurisdictionId::parse(&id).map_err(|_| not_found())?;
    let jurisdictions = node.store().jurisdictions().await?;
    let jurisdiction = jurisdictions.iter().find(|j| j.id == id).ok_or_else(not_found)?;
    let parent = jurisdiction.parent.as_ref().and_then(|parent| jurisdictions.iter().find(|j| &j.id == parent));
    let children: Vec<&Jurisdiction> = jurisdictions.iter().filter(|j| j.parent.as_ref() == Some(&id)).collect();
    let all_precincts = node.store().precincts(None).await?;
    let counts = node.store().registered_voter_counts().await?;
    let totals = registered_totals(&jurisdictions, &all_precincts, &counts);
    let precincts: Vec<&Precinct> = all_precincts.iter().filter(|precinct| precinct.jurisdiction == id).collect();
    // Voters here vote in this jurisdiction's elections and in those of every jurisdiction above it.
    let mut elections = Vec::new();
    for level in with_ancestors(&jurisdictions, &id) {
        elections.extend(node.store().elections(Some(&level.id)).await?);
    }
    elections.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.id.cmp(&b.id)));
    let names: BTreeMap<JurisdictionId, String> =
        jurisdictions.iter().map(|j| (j.id.clone(), j.name.to_string())).collect();
    let precinct_rows: Vec<(String, u64)> = precincts
        .iter()
        .map(|p| {
            let registered = counts.iter().find(|c| c.precinct == p.id).map_or(0, |c| c.registered);
            (p.name.to_string(), registered)
        })
        .collect();
    let body = html! {
        h1 { (jurisdiction.name) span.kind { (jurisdiction.kind) } }
        p.muted {
            "Id " code { (jurisdiction.id) }
            @if let Some(parent) = parent {
                " · part of " a href=(jurisdiction_href(&parent.id)) { (parent.name) }
            }
            " · " (totals.get(&id).copied().unwrap_or(0)) " registered voters"
        }
        h2 { "Elections for voters here" }
        (election_cards(&elections, &names))
        @if !children.is_empty() {
            h2 { "Inside " (jurisdiction.name) }
            table {
                thead { tr { th { "Name" } th { "Kind" } th.number { "Registered voters" } } }
                tbody {
                    @for child in &children {
                        tr {
                            td { a href=(jurisdiction_href(&child.id)) { (child.name) } }
                            td { (child.kind) }
                            td.number { (totals.get(&child.id).copied().unwrap_or(0)) }
                        }
                    }
                }
            }
        }
        @if !precincts.is_empty() {
            h2 { "Precincts" }
            (bar_chart(&format!("Registered voters by precinct in {}", jurisdiction.name), &precinct_rows))
        }
        (footer(&node))
    };
    Ok(layout(jurisdiction.name.as_str(), node.is_demo(), body))
}

/// `GET /elections/{id}`: what is on the ballot.
pub async fn election(State(node): State<Node>, ApiPath(id): ApiPath<String>) -> Result<Markup, PageError> {
    let not_found = || PageError(ServerError::NotFound("There is no such election on this node.".into()));
    let id = ElectionId::parse(&id).map_err(|_| not_found())?;
    let election = node.store().election(&id).await?.ok_or_else(not_found)?;
    let contests = node.store().contests(&id).await?;
    let jurisdictions = node.store().jurisdictions().await?;
    let name_of =
        |id: &JurisdictionId| jurisdictions.iter().find(|j| &j.id == id).map_or(id.to_string(), |j| j.name.to_string());
    let body = html! {
        h1 { (election.name) }
        p {
            strong { (election.date) } " · " (when(election.date)) " · "
            a href=(jurisdiction_href(&election.jurisdiction)) { (name_of(&election.jurisdiction)) }
        }
        p.muted { "Results will appear on this page as counties report them on election night." }
        p { a href={ (election_href(&election.id)) "/sample-ballots" } { "Sample ballots" }
            ": see the ballot of your precinct, or practise marking it online." }
        h2 { "On the ballot" }
        @for contest in &contests {
            h3 { (contest.name) }
            p.muted {
                "Voters of " (name_of(&contest.district)) " · "
                @if contest.vote_for.get() == 1 { "vote for one" } @else { "vote for up to " (contest.vote_for.get()) }
            }
            ol.choices {
                @for choice in &contest.choices {
                    li { (choice.name) @if let Some(party) = &choice.party { " " span.party { "(" (party) ")" } } }
                }
            }
        }
        (footer(&node))
    };
    Ok(layout(election.name.as_str(), node.is_demo(), body))
}

/// The ledger's size, signed root and witnesses, as a table.
pub(crate) async fn ledger_summary(node: &Node) -> Result<Markup, PageError> {
    let identity = node.log_identity();
    let Some(latest) = node.store().latest_checkpoint().await? else {
        return Ok(
            html! { p.muted { "No signed checkpoint yet: the first appears within a second of the first entry." } },
        );
    };
    let note = canvass_ledger::Note::parse(latest.note.as_bytes())
        .map_err(|error| ServerError::Internal(error.to_string()))?;
    let checkpoint =
        canvass_ledger::Checkpoint::parse(&note.text).map_err(|error| ServerError::Internal(error.to_string()))?;
    let cosigners: Vec<String> = node.store().cosignatures(latest.size).await?.into_iter().map(|c| c.witness).collect();
    let signed_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(latest.time_millis) * 1_000_000)
        .ok()
        .and_then(|time| time.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    Ok(html! {
        table {
            tbody {
                tr { th { "Log origin" } td { code { (checkpoint.origin) } } }
                tr { th { "Entries" } td { (checkpoint.size) } }
                tr { th { "Root hash" } td { code { (checkpoint.root) } } }
                tr { th { "Signed" } td { (signed_at) } }
                tr { th { "Log key" } td { code.wrap { (identity.verifier_key) } } }
                tr { th { "Witnessed by" } td {
                    @if cosigners.is_empty() { span.muted { "no witness has cosigned this checkpoint yet" } }
                    @else { (cosigners.join(", ")) }
                } }
            }
        }
    })
}

pub(crate) fn entries_table(entries: &[(u64, canvass_core::audit::AuditEntry)]) -> Markup {
    html! {
        table.entries {
            thead { tr { th { "#" } th { "Time (UTC)" } th { "Who" } th { "Action" } th { "Result" } th { "Records" } } }
            tbody {
                @for (index, entry) in entries {
                    tr {
                        td { (index) }
                        td { (entry.time.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()) }
                        td { code { (entry.actor) } }
                        td { (entry.action) }
                        td class=(entry.outcome.as_str()) { (entry.outcome.as_str())
                            @if let Some(reason) = &entry.reason { " (" (reason) ")" } }
                        td {
                            @match entry.targets.len() {
                                0 => { @if let Some(j) = &entry.jurisdiction { code { (j) } } }
                                1 => code { (entry.targets[0]) },
                                count => { code { (entry.targets[0]) } " and " (count - 1) " more" },
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /audit`: the public face of the ledger: what it is, its signed state, how to check
/// it independently, and the latest entries (which never hold personal data).
pub async fn audit(State(node): State<Node>) -> Result<Markup, PageError> {
    let recent =
        crate::audit_log::search(node.store(), &crate::audit_log::Search { limit: 500, ..Default::default() }).await?;
    let mut by_action: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, entry) in &recent {
        *by_action.entry(entry.action.as_str()).or_default() += 1;
    }
    let mut rows: Vec<(String, u64)> =
        by_action.into_iter().map(|(action, count)| (action.to_owned(), count)).collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.1));
    let denied = recent.iter().filter(|(_, entry)| entry.outcome != canvass_core::audit::Outcome::Allowed).count();
    let key = node.log_identity().verifier_key.to_string();
    let body = html! {
        h1 { "Audit log" }
        p { "Every change this office makes to election data, and every time staff open a voter's confidential
            details, is written to this log before it happens. The log is a Merkle tree in the Certificate
            Transparency design: each checkpoint is signed, and anyone can check that no entry was ever
            altered or removed. Entries name records by id, never a voter's personal details." }
        h2 { "Current signed checkpoint" }
        (ledger_summary(&node).await?)
        h2 { "Check it yourself" }
        p { "With the " code { "canvass" } " program, from any computer:" }
        pre { code { "canvass audit verify --log <this site>/log --log-key '" (key) "' --state audit-state.json" } }
        p { "It downloads every entry, recomputes the tree, checks the signature, and on later runs proves the log only grew.
            The files are plain " a href="https://c2sp.org/tlog-tiles" { "tlog-tiles" } ": "
            a href="/log/checkpoint" { "/log/checkpoint" } ", " code { "/log/tile/…" } "." }
        h2 { "Recent activity" }
        @if !rows.is_empty() {
            (bar_chart(&format!("Actions among the last {} entries ({} refused or failed)", recent.len(), denied), &rows))
        }
        (entries_table(&recent[..recent.len().min(25)]))
    };
    Ok(layout("Audit log", node.is_demo(), html! { (body) (footer(&node)) }))
}

/// `GET /assets/canvass.css`.
pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], STYLESHEET)
}

/// Unknown public paths.
pub async fn not_found() -> PageError {
    PageError(ServerError::NotFound("There is no page at this address.".into()))
}
