//! The ballot marking page: a voter fills in a ballot style in the browser and prints it. It
//! is private by construction: the page is plain HTML plus one same-origin script
//! (`/assets/ballot-marking.js`) that only counts marks in the page; there is no form to
//! submit, and the response's policy forbids every connection and form submission
//! (`connect-src 'none'`, `form-action 'none'`), so no choice can leave the device.
//! Without JavaScript the page still works: the voter marks and prints, and only the
//! vote-for-N check is missing (the printed instructions say it).
//!
//! [`marking_page`] renders it for any route: the public practice page
//! `/elections/{id}/mark/{style}` (in `sample_ballots`) and a voter's delivery link;
//! [`marking_response`] adds the headers both must send.

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use canvass_core::{ballot_styles::BallotStyle, election::Contest, results::ElectionDefinition};
use maud::{DOCTYPE, Markup, html};

use crate::{
    ServerError,
    ballot_pdf::{INSTRUCTIONS, RETURN_INSTRUCTIONS, style_contests, vote_for_label, write_in_lines},
};

/// The marking page's policy: its own stylesheets and script, nothing else, and nowhere to
/// send anything.
pub const MARKING_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

pub const SCRIPT: &str = include_str!("../assets/ballot-marking.js");
pub const STYLESHEET: &str = include_str!("../assets/ballot-marking.css");

/// The page for one ballot style. `practice` pages say they are for practice.
pub fn marking_page(definition: &ElectionDefinition, style: &BallotStyle) -> Result<Markup, ServerError> {
    let contests = style_contests(definition, style)?;
    let election = &definition.election;
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Mark your ballot: " (election.name) " · Canvass" }
                // An empty icon, so the browser asks the server for nothing else.
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/assets/canvass.css";
                link rel="stylesheet" href="/assets/ballot-marking.css";
                script src="/assets/ballot-marking.js" defer {}
            }
            body {
                header.site.screen-only {
                    a href="/" { "Canvass" }
                    span.tagline { "Election information published by this office" }
                }
                main.marking {
                    h1 { (election.name) }
                    p.ballot-line { "Ballot style " strong { (style.id) } " · " (election.date) }
                    section.screen-only aria-labelledby="privacy-heading" {
                        h2 #privacy-heading { "Your choices stay on this device" }
                        p { "This page works entirely in your browser. It sends nothing back: what you mark is not
                            saved or transmitted, and this site cannot see it. When you are done, print the ballot,
                            sign the declaration that came with it and return it by mail." }
                    }
                    section aria-labelledby="instructions-heading" {
                        h2 #instructions-heading { "Instructions" }
                        ul {
                            @for line in INSTRUCTIONS { li { (line) } }
                        }
                    }
                    @for (index, contest) in contests.iter().enumerate() {
                        (contest_fieldset(index + 1, contest))
                    }
                    section aria-labelledby="return-heading" {
                        h2 #return-heading { "Returning your ballot" }
                        ul {
                            @for line in RETURN_INSTRUCTIONS { li { (line) } }
                        }
                    }
                    p.screen-only {
                        button #print-ballot type="button" hidden { "Print my ballot" }
                        " Or use your browser's Print command."
                    }
                }
            }
        }
    })
}

fn contest_fieldset(number: usize, contest: &Contest) -> Markup {
    let limit = contest.vote_for.get();
    let status_id = format!("contest-{number}-status");
    html! {
        fieldset.contest #{ "contest-" (number) } data-vote-for=(limit) aria-describedby=(status_id) {
            legend {
                span.contest-name { (contest.name) }
                " "
                span.vote-for { (vote_for_label(contest)) }
            }
            @for (choice_index, choice) in contest.choices.iter().enumerate() {
                @let id = format!("contest-{number}-choice-{}", choice_index + 1);
                div.choice {
                    input type="checkbox" id=(id) name={ "contest-" (number) };
                    label for=(id) {
                        (choice.name)
                        @if let Some(party) = &choice.party { " " span.party { (party) } }
                    }
                }
            }
            @for line in 1..=write_in_lines(contest) {
                @let id = format!("contest-{number}-write-in-{line}");
                div.choice.write-in {
                    input type="checkbox" id=(id) name={ "contest-" (number) };
                    label for=(id) { "Write-in" }
                    input.write-in-name type="text" id={ (id) "-name" } data-box=(id) maxlength="100"
                        autocomplete="off" aria-label={ "Write-in name " (line) " for " (contest.name) };
                }
            }
            p.marked.screen-only id=(status_id) aria-live="polite" { (vote_for_label(contest)) "." }
        }
    }
}

/// The marking page with its policy, uncached (a delivery link's page must not linger in a
/// shared cache).
pub fn marking_response(page: Markup) -> Response {
    let mut response = page.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(MARKING_CONTENT_SECURITY_POLICY));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /assets/ballot-marking.js`.
pub async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        SCRIPT,
    )
}

/// `GET /assets/ballot-marking.css`.
pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], STYLESHEET)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use canvass_core::{
        ballot_styles::ballot_styles,
        results_sample::{SampleShape, sample_election},
    };

    use super::*;

    #[test]
    fn the_page_has_every_contest_of_the_style_and_no_form() {
        let date = time::Date::from_calendar_date(2026, time::Month::November, 3).unwrap();
        let definition = sample_election(SampleShape::SMALL, date, 7).unwrap().definition;
        let style = &ballot_styles(&definition)[0];
        let page = marking_page(&definition, style).unwrap().into_string();
        assert_eq!(page.matches("<fieldset").count(), style.contests.len());
        for contest in style_contests(&definition, style).unwrap() {
            assert!(page.contains(&format!("data-vote-for=\"{}\"", contest.vote_for.get())));
        }
        assert!(!page.contains("<form"));
        assert!(!page.contains("http://") && !page.contains("https://"), "nothing from another origin");
    }
}
