//! `index.html`: the statewide summary: status, last update, precincts reporting, turnout, every
//! contest's results, and the counties.

use canvass_core::results::AreaTally;
use maud::{Markup, html};

use super::{
    Site,
    layout::{self, Depth, date_in_words, last_updated, number, percent},
    parts::{area_facts, contest_reporting, results_table},
};
use crate::site_file::SiteFile;

pub(super) fn page(site: &Site) -> SiteFile {
    let election = &site.results.definition.election;
    let body = html! {
        h1 { (election.name) " " (status_badge(site.results.is_certified())) }
        p { "Election held " (date_in_words(election.date)) "." }
        (last_updated(site))
        (area_facts(&site.tally.state))
        h2 { "Contests" }
        @for contest in &site.results.definition.contests {
            @let counted = site.tally.state.contests.get(&contest.id);
            @let key = site.slug_of(contest.id.as_str());
            section.contest aria-labelledby={ "heading-" (key) } {
                h3 #{ "heading-" (key) } { a href=(site.contest_path(contest.id.as_str())) { (contest.name) } }
                (contest_reporting(counted))
                (results_table(&format!("results-{key}"), &format!("Results: {}", contest.name), contest, counted))
            }
        }
        h2 { "Counties" }
        (counties_table(site))
        p { a href="changes.html" { "Change history: every report, correction and certification" } }
    };
    layout::page(site, "index.html", Depth::Root, "Results summary", body)
}

/// "Certified" once the final results are certified, "Unofficial" until then.
pub(super) fn status_badge(certified: bool) -> Markup {
    html! {
        @if certified { span.badge.certified { "Certified" } } @else { span.badge.unofficial { "Unofficial" } }
    }
}

fn counties_table(site: &Site) -> Markup {
    html! {
        table #counties {
            caption { "Reporting and turnout by county" }
            thead {
                tr {
                    th scope="col" { "County" }
                    th.number scope="col" { "Precincts reporting" }
                    th.number scope="col" { "Ballots cast" }
                    th.number scope="col" { "Turnout" }
                }
            }
            tbody {
                @let empty = AreaTally::default();
                @for county in &site.results.definition.counties {
                    @let area = site.tally.counties.get(&county.id).unwrap_or(&empty);
                    tr {
                        th scope="row" { a href=(site.county_path(county.id.as_str())) { (county.name) } }
                        td.number { (area.precincts_reporting) " of " (area.precincts) }
                        td.number { (number(area.ballots_cast.total)) }
                        td.number { (area.turnout().map_or_else(|| "not known".to_owned(), percent)) }
                    }
                }
            }
        }
    }
}
