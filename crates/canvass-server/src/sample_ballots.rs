//! Sample ballots for every voter, on the public listener: `/elections/{id}/sample-ballots`
//! lists the election's precincts by county (or those whose name matches `?precinct=`), each
//! linking to its ballot style's sample PDF `/elections/{id}/sample-ballots/{style}.pdf` and
//! to the practice marking page `/elections/{id}/mark/{style}`.
//!
//! A stored definition never changes (an election id is taken once), so a style's PDF is made
//! once per node and kept in memory ([`SampleBallots`]), as is each election's definition and
//! styles. Only elections that exist are kept, so the cache cannot be grown by asking for
//! made-up ids; nothing here is personal data, so nothing is logged or written to the ledger.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    extract::{Query, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;
use canvass_core::{
    ballot_styles::{BallotStyle, ballot_styles},
    id::ElectionId,
    results::ElectionDefinition,
};
use maud::{Markup, html};
use serde::Deserialize;

use crate::{
    Node, ServerError,
    api::ApiPath,
    ballot_marking, ballot_pdf,
    pages::{PageError, election_href, layout},
};

pub fn router() -> Router<Node> {
    Router::new()
        .route("/elections/{id}/sample-ballots", get(sample_ballots_page))
        .route("/elections/{id}/sample-ballots/{file}", get(sample_pdf))
        .route("/elections/{id}/mark/{style}", get(practice_marking_page))
        .route("/assets/ballot-marking.js", get(ballot_marking::script))
        .route("/assets/ballot-marking.css", get(ballot_marking::stylesheet))
}

/// One election's definition, styles and the sample PDFs made so far.
#[derive(Debug)]
pub struct ElectionBallots {
    pub definition: ElectionDefinition,
    pub styles: Vec<BallotStyle>,
    pdfs: Mutex<HashMap<String, Bytes>>,
}

impl ElectionBallots {
    pub fn style(&self, id: &str) -> Option<&BallotStyle> {
        self.styles.iter().find(|style| style.id == id)
    }

    /// The style's sample PDF, made on first request.
    fn sample_pdf(&self, style: &BallotStyle) -> Result<Bytes, ServerError> {
        if let Some(pdf) = lock(&self.pdfs).get(&style.id) {
            return Ok(pdf.clone());
        }
        // Made outside the lock: two first requests at once both make the same bytes.
        let pdf = Bytes::from(ballot_pdf::style_pdf(&self.definition, style, true)?);
        lock(&self.pdfs).insert(style.id.clone(), pdf.clone());
        Ok(pdf)
    }
}

/// The node's elections' ballots in memory (see the module's comment).
#[derive(Debug, Default)]
pub struct SampleBallots {
    elections: Mutex<HashMap<ElectionId, Arc<ElectionBallots>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl SampleBallots {
    /// The election's ballots; `None` for an election this node does not have.
    pub async fn election(&self, node: &Node, id: &ElectionId) -> Result<Option<Arc<ElectionBallots>>, ServerError> {
        if let Some(found) = lock(&self.elections).get(id) {
            return Ok(Some(found.clone()));
        }
        let Some(definition) = node.store().election_definition(id).await? else { return Ok(None) };
        let styles = ballot_styles(&definition);
        let ballots = Arc::new(ElectionBallots { definition, styles, pdfs: Mutex::new(HashMap::new()) });
        lock(&self.elections).insert(id.clone(), ballots.clone());
        Ok(Some(ballots))
    }
}

fn no_election() -> PageError {
    PageError(ServerError::NotFound("There is no such election on this node.".into()))
}

fn no_style() -> PageError {
    PageError(ServerError::NotFound("This election has no ballot style by that name.".into()))
}

async fn election_ballots(node: &Node, id: &str) -> Result<Arc<ElectionBallots>, PageError> {
    let id = ElectionId::parse(id).map_err(|_| no_election())?;
    node.sample_ballots().election(node, &id).await?.ok_or_else(no_election)
}

#[derive(Debug, Deserialize)]
struct Filter {
    precinct: Option<String>,
}

/// The longest precinct search accepted; longer input is refused, not truncated.
const MAXIMUM_SEARCH: usize = 100;

/// `GET /elections/{id}/sample-ballots[?precinct=NAME]`.
async fn sample_ballots_page(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
    Query(filter): Query<Filter>,
) -> Result<Markup, PageError> {
    let ballots = election_ballots(&node, &id).await?;
    let search = filter.precinct.as_deref().map(str::trim).filter(|text| !text.is_empty());
    if search.is_some_and(|text| text.chars().count() > MAXIMUM_SEARCH) {
        return Err(PageError(ServerError::Invalid(format!(
            "precinct: a precinct name is at most {MAXIMUM_SEARCH} characters"
        ))));
    }
    let definition = &ballots.definition;
    let base = format!("{}/sample-ballots", election_href(&definition.election.id));
    let mark_base = format!("{}/mark", election_href(&definition.election.id));
    // Each precinct's style, looked up once per precinct (a state has thousands).
    let by_precinct: HashMap<&canvass_core::id::PrecinctId, &BallotStyle> =
        ballots.styles.iter().flat_map(|style| style.precincts.iter().map(move |precinct| (precinct, style))).collect();
    let style_of = |precinct: &canvass_core::id::PrecinctId| by_precinct.get(precinct).copied();
    let matches: Vec<_> = match search {
        Some(text) => {
            let wanted = text.to_lowercase();
            definition
                .precincts
                .iter()
                .filter(|precinct| precinct.name.as_str().to_lowercase().contains(&wanted))
                .filter_map(|precinct| style_of(&precinct.id).map(|style| (precinct, style)))
                .collect()
        }
        None => Vec::new(),
    };
    let body = html! {
        h1 { "Sample ballots: " (definition.election.name) }
        p { "Every precinct votes one of the ballot styles below. Find your precinct to see the sample ballot
            you will receive (a PDF), or practise marking it online: nothing you mark leaves your device." }
        p { "Not sure of your precinct? " a href="/lookup/registration" { "Look up your registration" }
            ": it shows your precinct." }
        form.search method="get" action=(base) {
            label for="precinct" { "Precinct name" }
            " "
            input #precinct type="search" name="precinct" maxlength=(MAXIMUM_SEARCH) value=[search];
            " "
            button type="submit" { "Find" }
        }
        @if let Some(text) = search {
            h2 { "Precincts matching “" (text) "”" }
            @if matches.is_empty() {
                p { "No precinct of this election has that in its name. Try part of the name, or choose from the list below." }
            } @else {
                ul {
                    @for (precinct, style) in &matches {
                        li { (precinct.name) ": "
                            a href={ (base) "/" (style.id) ".pdf" } { "sample ballot (" (style.id) ", PDF)" }
                            " · " a href={ (mark_base) "/" (style.id) } { "practise marking" } }
                    }
                }
            }
        }
        h2 { "Ballot styles" }
        ul {
            @for style in &ballots.styles {
                li {
                    a href={ (base) "/" (style.id) ".pdf" } { "Sample ballot " (style.id) " (PDF)" }
                    " · " a href={ (mark_base) "/" (style.id) } { "practise marking " (style.id) }
                    " · " (plural(style.contests.len(), "contest")) ", " (plural(style.precincts.len(), "precinct"))
                }
            }
        }
        h2 { "Precincts by county" }
        @for county in &definition.counties {
            details {
                summary { (county.name) }
                ul {
                    @for precinct in definition.precincts.iter().filter(|precinct| precinct.jurisdiction == county.id) {
                        @if let Some(style) = style_of(&precinct.id) {
                            li { (precinct.name) ": " a href={ (base) "/" (style.id) ".pdf" } { (style.id) } }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(&format!("Sample ballots: {}", definition.election.name), node.is_demo(), body))
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

/// `GET /elections/{id}/sample-ballots/{style}.pdf`.
async fn sample_pdf(
    State(node): State<Node>,
    ApiPath((id, file)): ApiPath<(String, String)>,
) -> Result<Response, PageError> {
    let ballots = election_ballots(&node, &id).await?;
    let style = file.strip_suffix(".pdf").ok_or_else(no_style)?;
    let style = ballots.style(style).ok_or_else(no_style)?.clone();
    let worker = ballots.clone();
    // Laying out a PDF is CPU work: off the async threads.
    let pdf = tokio::task::spawn_blocking(move || worker.sample_pdf(&style))
        .await
        .map_err(|error| ServerError::Internal(format!("the sample ballot task failed: {error}")))??;
    let mut response = pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    // The bytes never change for a stored definition, but a day keeps a fixed page cheap to correct.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    Ok(response)
}

/// `GET /elections/{id}/mark/{style}`: the practice marking page.
async fn practice_marking_page(
    State(node): State<Node>,
    ApiPath((id, style)): ApiPath<(String, String)>,
) -> Result<Response, PageError> {
    let ballots = election_ballots(&node, &id).await?;
    let style = ballots.style(&style).ok_or_else(no_style)?;
    let page = ballot_marking::marking_page(&ballots.definition, style)?;
    Ok(ballot_marking::marking_response(page))
}
