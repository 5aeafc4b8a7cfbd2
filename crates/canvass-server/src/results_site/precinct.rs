//! `precincts/{slug}.html`: one precinct: whether it has reported, ballots cast, turnout, and
//! every contest it votes on with the vote-type breakdown. It is dated by the precinct's own
//! latest change rather than the snapshot's time, so a precinct whose numbers did not change is
//! the same bytes in the next snapshot (thousands of pages publication need not compress again).

use canvass_core::{
    jurisdiction::Precinct,
    results::{AreaTally, ChangeKind},
};
use maud::{Markup, html};

use super::{
    Site,
    layout::{self, Depth, number, percent, time_element},
    parts::{ballots_table, bar, breakdown_table, results_table},
    summary::status_badge,
};
use crate::site_file::SiteFile;

pub(super) fn page(site: &Site, precinct: &Precinct) -> SiteFile {
    let empty = AreaTally::default();
    let area = site.tally.precincts.get(&precinct.id).unwrap_or(&empty);
    let reported = area.precincts_reporting > 0;
    let county = precinct.jurisdiction.as_str();
    let body = html! {
        h1 { (precinct.name) " " (status_badge(site.results.is_certified())) }
        @if let Some(name) = site.county_name(county) {
            p { "A precinct of " a href={ "../" (site.county_path(county)) } { (name) } "." }
        }
        (dated(site, precinct))
        (facts(area, reported))
        @if reported && area.ballots_cast.total > 0 {
            (ballots_table("ballots", &area.ballots_cast))
        }
        h2 { "Contests" }
        @if area.contests.is_empty() {
            p { "No contest is on this precinct's ballots." }
        }
        @for contest in &site.results.definition.contests {
            @if let Some(counted) = area.contests.get(&contest.id) {
                @let key = site.slug_of(contest.id.as_str());
                section.contest aria-labelledby={ "heading-" (key) } {
                    h3 #{ "heading-" (key) } { a href={ "../" (site.contest_path(contest.id.as_str())) } { (contest.name) } }
                    (results_table(&format!("results-{key}"), &format!("Results in {}: {}", precinct.name, contest.name), contest, Some(counted)))
                    (breakdown_table(&format!("breakdown-{key}"), &format!("By vote type: {}", contest.name), contest, Some(counted)))
                }
            }
        }
    };
    let path = site.precinct_path(precinct.id.as_str());
    layout::page(site, &path, Depth::Folder, precinct.name.as_str(), body)
}

/// When the precinct's numbers last changed, and how.
fn dated(site: &Site, precinct: &Precinct) -> Markup {
    html! {
        @if let Some(change) = site.precinct_changes.get(precinct.id.as_str()) {
            p.updated {
                @match change.kind {
                    ChangeKind::Correction { .. } => "Corrected ",
                    ChangeKind::Report | ChangeKind::Certification => "Reported ",
                }
                (time_element(change.at))
                " ("
                a href={ "../changes.html#change-" (change.sequence) } { "change " (change.sequence) }
                ")."
            }
        }
    }
}

fn facts(area: &AreaTally, reported: bool) -> Markup {
    html! {
        div.facts {
            div.fact {
                @if reported { span.figure.status { "Reported" } } @else { span.figure.status { "Not yet reported" } }
            }
            div.fact {
                span.figure.ballots { (number(area.ballots_cast.total)) }
                " ballots cast"
                @if let Some(registered) = area.registered { " of " span.registered { (number(registered)) } " registered voters" }
            }
            @if let Some(turnout) = area.turnout() {
                div.fact { span.figure.turnout { (percent(turnout)) } " turnout" (bar(turnout, false)) }
            }
        }
    }
}
