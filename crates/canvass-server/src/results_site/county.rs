//! `counties/{slug}.html`: one county: precincts reporting, turnout, every contest its precincts
//! vote on (the county's part of it), and its precincts.

use canvass_core::{jurisdiction::Jurisdiction, results::AreaTally};
use maud::{Markup, html};

use super::{
    Site,
    layout::{self, Depth, last_changed, number, percent},
    parts::{area_facts, contest_reporting, results_table},
    summary::status_badge,
};
use crate::site_file::SiteFile;

pub(super) fn page(site: &Site, county: &Jurisdiction) -> SiteFile {
    let empty = AreaTally::default();
    let area = site.tally.counties.get(&county.id).unwrap_or(&empty);
    let body = html! {
        h1 { (county.name) " " (status_badge(site.results.is_certified())) }
        (last_changed(site, site.precincts_of(county.id.as_str()).iter().map(|precinct| precinct.id.as_str())))
        (area_facts(area))
        h2 { "Contests" }
        @if area.contests.is_empty() {
            p { "No contest is on this county's ballots." }
        }
        @for contest in &site.results.definition.contests {
            @if let Some(counted) = area.contests.get(&contest.id) {
                @let key = site.slug_of(contest.id.as_str());
                section.contest aria-labelledby={ "heading-" (key) } {
                    h3 #{ "heading-" (key) } { a href={ "../" (site.contest_path(contest.id.as_str())) } { (contest.name) } }
                    (contest_reporting(Some(counted)))
                    (results_table(&format!("results-{key}"), &format!("Results in {}: {}", county.name, contest.name), contest, Some(counted)))
                }
            }
        }
        h2 { "Precincts" }
        (precincts_table(site, county))
    };
    let path = site.county_path(county.id.as_str());
    layout::page(site, &path, Depth::Folder, county.name.as_str(), body)
}

fn precincts_table(site: &Site, county: &Jurisdiction) -> Markup {
    let empty = AreaTally::default();
    html! {
        table #precincts {
            caption { "Precincts of " (county.name) }
            thead {
                tr {
                    th scope="col" { "Precinct" }
                    th scope="col" { "Reported" }
                    th.number scope="col" { "Ballots cast" }
                    th.number scope="col" { "Turnout" }
                }
            }
            tbody {
                @for precinct in site.precincts_of(county.id.as_str()) {
                    @let area = site.tally.precincts.get(&precinct.id).unwrap_or(&empty);
                    tr {
                        th scope="row" { a href={ "../" (site.precinct_path(precinct.id.as_str())) } { (precinct.name) } }
                        td { @if area.precincts_reporting > 0 { "Yes" } @else { "Not yet" } }
                        td.number.ballots { (number(area.ballots_cast.total)) }
                        td.number { (area.turnout().map_or_else(|| "not known".to_owned(), percent)) }
                    }
                }
            }
        }
    }
}
