//! `/results/index.html`: the archive, every election this office has published results for,
//! newest first, each linking to its page of latest results. It sits above the snapshots, so it
//! links the stylesheet beside itself (`results.css`, [`super::stylesheet`]) and has no script.

use maud::{DOCTYPE, html};
use time::{Date, OffsetDateTime};

use super::{
    STYLESHEET_PATH,
    layout::{date_in_words, time_element},
    summary::status_badge,
};
use crate::site_file::{HTML, SiteFile};

/// One election in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveEntry {
    pub name: String,
    pub date: Date,
    /// Relative to the archive page: the election's page of latest results, `{election}/`.
    pub link: String,
    pub certified: bool,
    /// When its latest snapshot was published.
    pub last_updated: OffsetDateTime,
}

/// The archive page, `index.html` of the results directory.
pub fn archive_page(elections: &[ArchiveEntry]) -> SiteFile {
    let mut ordered: Vec<&ArchiveEntry> = elections.iter().collect();
    ordered.sort_by(|left, right| right.date.cmp(&left.date).then_with(|| left.name.cmp(&right.name)));
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Election results" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                a.skip href="#main" { "Skip to the list of elections" }
                header.site { span.election { "Election results" } }
                main #main tabindex="-1" {
                    h1 { "Election results" }
                    @if ordered.is_empty() {
                        p { "No results have been published yet." }
                    } @else {
                        p { "Every election this office has published results for, newest first." }
                        ol.archive {
                            @for entry in &ordered {
                                li {
                                    a href=(entry.link) { (entry.name) } " " (status_badge(entry.certified))
                                    p.muted { "Held " (date_in_words(entry.date)) ". Last updated " (time_element(entry.last_updated)) "." }
                                }
                            }
                        }
                    }
                }
                footer.site { p { "Published by the election office with Canvass." } }
            }
        }
    };
    SiteFile::new("index.html", HTML, markup.into_string())
}
