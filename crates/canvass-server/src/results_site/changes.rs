//! `changes.html`: the public change history, newest first: every county report, every
//! correction with the reason the office gave, and the certification, each with its time.

use canvass_core::results::{ChangeKind, ResultsChange};
use maud::{Markup, html};

use super::{
    Site,
    layout::{self, Depth, last_updated, number, time_element},
};
use crate::site_file::SiteFile;

/// A change naming more precincts than this lists them by count, with the county's page.
const LISTED_PRECINCTS: usize = 30;

pub(super) fn page(site: &Site) -> SiteFile {
    let changes = &site.results.changes;
    let body = html! {
        h1 { "Change history" }
        p { "Every change to these results since the first report, newest first. Numbers are never edited in place: a correction is a new change with its reason." }
        (last_updated(site))
        @if changes.is_empty() {
            p { "No results have been reported yet." }
        } @else {
            ol.changes reversed {
                @for change in changes.iter().rev() {
                    (entry(site, change))
                }
            }
        }
    };
    layout::page(site, "changes.html", Depth::Root, "Change history", body)
}

fn entry(site: &Site, change: &ResultsChange) -> Markup {
    let county = change.county.as_ref().map(|county| (county.as_str(), site.county_name(county.as_str())));
    html! {
        li #{ "change-" (change.sequence) } {
            span.kind { (kind_word(&change.kind)) }
            " · " (time_element(change.at))
            @if let Some((id, Some(name))) = county {
                " · " a href=(site.county_path(id)) { (name) }
            }
            @if let ChangeKind::Correction { reason } = &change.kind {
                p.reason { "Reason: " (reason) }
            }
            (precinct_list(site, change))
        }
    }
}

fn kind_word(kind: &ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Report => "Report",
        ChangeKind::Correction { .. } => "Correction",
        ChangeKind::Certification => "Certification of the final results",
    }
}

fn precinct_list(site: &Site, change: &ResultsChange) -> Markup {
    let count = change.precincts.len();
    html! {
        @if count > LISTED_PRECINCTS {
            p.muted { (number(count as u64)) " precincts." }
        } @else if count > 0 {
            p.muted {
                @if count == 1 { "Precinct: " } @else { "Precincts: " }
                @for (index, precinct) in change.precincts.iter().enumerate() {
                    @if index > 0 { ", " }
                    @match site.results.definition.precinct(precinct) {
                        Some(known) => a href=(site.precinct_path(precinct.as_str())) { (known.name) },
                        None => (precinct),
                    }
                }
            }
        }
    }
}
