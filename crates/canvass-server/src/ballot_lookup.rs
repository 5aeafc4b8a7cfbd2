//! The public "Did my ballot count?" page and API (HAVA section 302(a)(5)(B)), beside "Am I
//! registered?" on the public listener: a voter gives the same first name, last name, date of
//! birth and county, and learns only the public status of their absentee and provisional
//! ballots (`canvass_core::ballots::PublicBallotStatus`: whether an absentee ballot was
//! accepted or rejected, with the reason and the cure deadline; whether a provisional ballot
//! counted and, if not, why), with the election each belongs to.
//!
//! It shares the registration lookup's protections, and its limiter (one budget for both
//! pages, so alternating them does not double the guesses): the input parsing, the limits per
//! client address and per looked-up identity (429 with Retry-After), the response padding, and
//! no log or ledger line with what was typed. A voter whose address is confidential, a voter
//! with no ballot and someone not on the roll all get the one "no ballot found" body, after
//! the same queries.
//!
//! An overseas or military (UOCAVA) voter's absentee ballot also shows its steps
//! (`ballot_tracking`): requested, sent and how, downloaded, returned, decided. Their requests
//! and deliveries are read like the ballots: for every match, and for a number no voter has.

use axum::{
    Router,
    routing::{get, post},
};
use canvass_core::{ballots::CurePolicy, election::Election, jurisdiction::Jurisdiction};
use canvass_store::{StoredBallot, StoredUocavaDelivery, StoredUocavaRequest};
use maud::{Markup, html};
use serde::Serialize;

use crate::{
    Node,
    ballot_tracking::{TrackingStep, UocavaRecords, sent_line, steps_markup, uocava_steps},
    lookup::{
        Identity, LookupError, LookupFields, MAX_NAME_CHARS, PublicLookup, Work, api_lookup, form_page, form_submit,
        matching_candidates,
    },
};

const TITLE: &str = "Did my ballot count?";
const NO_BALLOT: &str = "We could not find an absentee or provisional ballot with these details. If you voted by mail \
                         or cast a provisional ballot, contact your county board of elections.";
const FOUND: &str = "Here is what happened to your ballot.";

/// The ballot routes; mounted inside the registration lookup's router so they share its limiter.
pub(crate) fn routes() -> Router<Node> {
    Router::new()
        .route("/lookup/ballot", get(form_page::<Ballot>).post(form_submit::<Ballot>))
        .route("/api/public/ballot", post(api_lookup::<Ballot>))
}

/// The answer, the same keys whatever the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct BallotAnswer {
    found: bool,
    ballots: Vec<PublicBallot>,
    message: &'static str,
}

/// One ballot as the public sees it: its election, kind, status code and the plain line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct PublicBallot {
    election: String,
    election_date: String,
    kind: &'static str,
    status: &'static str,
    line: String,
    /// A UOCAVA ballot's steps, oldest first; empty for any other ballot.
    steps: Vec<TrackingStep>,
}

impl BallotAnswer {
    fn none() -> Self {
        Self { found: false, ballots: Vec::new(), message: NO_BALLOT }
    }
}

/// The voter's ballots as public lines, newest election first; a ballot whose election is
/// gone is left out (its cure deadline cannot be told).
fn public_ballots(ballots: &[StoredBallot], elections: &[Election], uocava: &UocavaRecords<'_>) -> Vec<PublicBallot> {
    let today = canvass_core::audit::now().date();
    let mut lines: Vec<(time::Date, i64, PublicBallot)> = ballots
        .iter()
        .filter_map(|ballot| {
            let election = elections.iter().find(|election| election.id == ballot.election)?;
            let public = ballot.status.public(today, CurePolicy::default(), election.date);
            let steps = uocava_steps(ballot, election.date.year(), uocava);
            let line = sent_line(&steps).map_or_else(|| public.line().to_owned(), str::to_owned);
            Some((
                election.date,
                ballot.id,
                PublicBallot {
                    election: election.name.to_string(),
                    election_date: election.date.to_string(),
                    kind: ballot.kind().as_str(),
                    status: public.status(),
                    line,
                    steps,
                },
            ))
        })
        .collect();
    lines.sort_by_key(|(date, id, _)| std::cmp::Reverse((*date, *id)));
    lines.into_iter().map(|(_, _, ballot)| ballot).collect()
}

/// The lookup: the same queries whatever it finds (see the module comment).
async fn find(node: &Node, identity: &Identity, work: &mut Work) -> Result<BallotAnswer, LookupError> {
    let store = node.store();
    // The registration lookup's search: the same queries and openings whoever is looked up.
    let matches = matching_candidates(node, identity, work).await?;
    // Ballots are read for every match, confidential ones included, and for a number no voter
    // has when nothing matched, so a miss costs the same queries as a hit.
    let numbers: Vec<&str> = match matches.is_empty() {
        true => vec![""],
        false => matches.iter().map(|candidate| candidate.registration_number.as_str()).collect(),
    };
    let (mut ballots, mut requests, mut deliveries) =
        (Vec::new(), Vec::<StoredUocavaRequest>::new(), Vec::<StoredUocavaDelivery>::new());
    for number in numbers {
        ballots.extend(store.voter_ballots(number).await?);
        requests.extend(store.voter_uocava_requests(number).await?);
        deliveries.extend(store.voter_uocava_deliveries(number).await?);
    }
    let elections = store.elections(None).await?;
    // An address-confidential match answers as a miss: the page must not confirm that a
    // protected person lives in this county.
    if matches.iter().any(|candidate| candidate.address_confidential) {
        return Ok(BallotAnswer::none());
    }
    let uocava = UocavaRecords { requests: &requests, deliveries: &deliveries };
    let ballots = public_ballots(&ballots, &elections, &uocava);
    if ballots.is_empty() {
        return Ok(BallotAnswer::none());
    }
    Ok(BallotAnswer { found: true, ballots, message: FOUND })
}

/// "Did my ballot count?": the registration lookup's handlers with this page's search and markup.
pub(crate) struct Ballot;

impl PublicLookup for Ballot {
    type Answer = BallotAnswer;
    const TITLE: &'static str = TITLE;
    const WRONG_FORM: &'static str = "send the form from the ballot lookup page";

    async fn find(node: &Node, identity: &Identity, work: &mut Work) -> Result<BallotAnswer, LookupError> {
        find(node, identity, work).await
    }

    fn form(counties: &[Jurisdiction], fields: &LookupFields, message: Option<&str>) -> Markup {
        form(counties, fields, message)
    }

    fn result_page(answer: &BallotAnswer) -> Markup {
        result_page(answer)
    }
}

fn form(counties: &[Jurisdiction], fields: &LookupFields, message: Option<&str>) -> Markup {
    let value = |field: &Option<String>| field.clone().unwrap_or_default();
    let chosen = fields.county.as_deref().unwrap_or_default();
    html! {
        h1 { (TITLE) }
        p { "Check whether your absentee (mail) ballot was accepted, or whether your provisional ballot was counted,
            and if not, why and what you can still do. Enter your name as it appears on your registration. We show
            only your ballot's status; nothing you type here is kept." }
        @if let Some(message) = message { p.error role="alert" { (message) } }
        form method="post" action="/lookup/ballot" {
            p { label for="first_name" { "First name" } br;
                input id="first_name" name="first_name" autocomplete="given-name" maxlength=(MAX_NAME_CHARS) required value=(value(&fields.first_name)); }
            p { label for="last_name" { "Last name" } br;
                input id="last_name" name="last_name" autocomplete="family-name" maxlength=(MAX_NAME_CHARS) required value=(value(&fields.last_name)); }
            p { label for="birth_date" { "Date of birth" } br;
                input id="birth_date" name="birth_date" type="date" autocomplete="bday" required value=(value(&fields.birth_date)); }
            p { label for="county" { "County" } br;
                select id="county" name="county" required {
                    option value="" { "Choose your county" }
                    @for county in counties {
                        option value=(county.id) selected[county.id.as_str() == chosen] { (county.name) }
                    }
                }
            }
            p { button type="submit" { "Look up my ballot" } }
        }
        p { a href="/lookup/registration" { "Am I registered?" } " Check your registration, precinct and polling place." }
    }
}

/// The result page: its markup depends only on the answer, never on what was typed, so every
/// "no ballot found" page is the same bytes.
fn result_page(answer: &BallotAnswer) -> Markup {
    html! {
        h1 { (TITLE) }
        p role="status" { (answer.message) }
        @for ballot in &answer.ballots {
            h2 { (ballot.election) " (" (ballot.election_date) "), " (ballot.kind) " ballot" }
            @if !ballot.steps.is_empty() { (steps_markup(&ballot.steps)) }
            p.ballot-status { strong { (ballot.line) } }
        }
        p { a href="/lookup/ballot" { "Look up another ballot" } }
        p { a href="/lookup/registration" { "Am I registered?" } }
    }
}
