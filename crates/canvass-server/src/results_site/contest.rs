//! `contests/{slug}.html`: one contest: its totals over the whole election, the vote-type
//! breakdown, and its result in every county that votes on it, with links to each precinct.

use canvass_core::election::Contest;
use maud::{Markup, html};

use super::{
    Site,
    layout::{self, Depth, last_changed},
    parts::{breakdown_table, contest_reporting, results_table},
    summary::status_badge,
};
use crate::site_file::SiteFile;

pub(super) fn page(site: &Site, contest: &Contest) -> SiteFile {
    let counted = site.tally.state.contests.get(&contest.id);
    let body = html! {
        h1 { (contest.name) " " (status_badge(site.results.is_certified())) }
        p { (district(site, contest)) " Vote for " (contest.vote_for.get()) "." }
        (last_changed(site, site.results.definition.coverage.get(&contest.id).into_iter().flatten().map(|precinct| precinct.as_str())))
        h2 { "All results" }
        (contest_reporting(counted))
        (results_table("results-total", &format!("Results: {}", contest.name), contest, counted))
        h2 { "By vote type" }
        (breakdown_table("breakdown-total", &format!("Votes by vote type: {}", contest.name), contest, counted))
        h2 { "By county" }
        (by_county(site, contest))
    };
    let path = site.contest_path(contest.id.as_str());
    layout::page(site, &path, Depth::Folder, contest.name.as_str(), body)
}

/// Who votes on the contest, in words.
fn district(site: &Site, contest: &Contest) -> String {
    if contest.district == site.results.definition.election.jurisdiction {
        return "Statewide.".to_owned();
    }
    match site.county_name(contest.district.as_str()) {
        Some(name) => format!("In {name}."),
        None => String::new(),
    }
}

fn by_county(site: &Site, contest: &Contest) -> Markup {
    html! {
        @for county in &site.results.definition.counties {
            @if let Some(counted) = site.tally.counties.get(&county.id).and_then(|area| area.contests.get(&contest.id)) {
                @let key = site.slug_of(county.id.as_str());
                section aria-labelledby={ "county-" (key) } {
                    h3 #{ "county-" (key) } {
                        a href={ "../" (site.county_path(county.id.as_str())) } { (county.name) }
                    }
                    (contest_reporting(Some(counted)))
                    (results_table(&format!("results-{key}"), &format!("Results in {}", county.name), contest, Some(counted)))
                    p.muted #{ "precincts-" (key) } { "Precincts in " (county.name) ":" }
                    ul.links aria-labelledby={ "precincts-" (key) } {
                        @for precinct in site.precincts_of(county.id.as_str()) {
                            @if site.results.definition.covers(&contest.id, &precinct.id) {
                                li { a href={ "../" (site.precinct_path(precinct.id.as_str())) } { (precinct.name) } }
                            }
                        }
                    }
                }
            }
        }
    }
}
