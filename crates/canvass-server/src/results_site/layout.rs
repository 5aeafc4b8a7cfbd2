//! The shell every snapshot page shares: head (stylesheet and deferred script, no inline code),
//! skip link, banner with the election's navigation and the live-update note, `<main>` (the
//! part the script swaps), and the footer; plus the words for times and numbers.

use maud::{DOCTYPE, Markup, html};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::{SCRIPT_PATH, STYLESHEET_PATH, Site};
use crate::site_file::{HTML, SiteFile};

/// Where a page sits below the snapshot's root, which decides every relative link on it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Depth {
    /// `index.html`, `changes.html`.
    Root,
    /// `contests/…`, `counties/…`, `precincts/…`.
    Folder,
}

impl Depth {
    /// The way up from the page to the snapshot's root.
    pub(super) fn root(self) -> &'static str {
        match self {
            Self::Root => "",
            Self::Folder => "../",
        }
    }
}

/// The election's page that always shows the latest snapshot (`{election}/`), from the root.
const LATEST: &str = "../../";
/// The archive of every election (`/results/`), from the root.
const ARCHIVE: &str = "../../../";

/// One page of the snapshot at `path` (below the root), titled `title`, with `body` as `<main>`.
pub(super) fn page(site: &Site, path: &str, depth: Depth, title: &str, body: Markup) -> SiteFile {
    let root = depth.root();
    let election = &site.results.definition.election;
    let full_title = format!("{title} · {}", election.name);
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (full_title) }
                link rel="stylesheet" href={ (root) (STYLESHEET_PATH) };
                script src={ (root) (SCRIPT_PATH) } defer {}
            }
            body data-root=(root) data-page=(path) {
                a.skip href="#main" { "Skip to results" }
                header.site {
                    a.election href={ (root) "index.html" } { (election.name) }
                    nav aria-label="Results" {
                        ul {
                            li { a href={ (root) (LATEST) } { "Latest results" } }
                            li { a href={ (root) "index.html" } { "Summary" } }
                            li { a href={ (root) "changes.html" } { "Change history" } }
                            li { a href={ (root) (ARCHIVE) } { "All elections" } }
                        }
                    }
                    p #live-note .live aria-live="polite" {}
                }
                main #main tabindex="-1" {
                    (body)
                }
                footer.site {
                    p { "Published by the election office with Canvass. Each snapshot is signed and never changes." }
                }
            }
        }
    };
    SiteFile::new(path, HTML, markup.into_string())
}

/// The "last updated" line: the snapshot's time in words and as a machine-readable `<time>`.
pub(super) fn last_updated(site: &Site) -> Markup {
    let at = site.context.published_at;
    html! {
        p.updated {
            "Last updated " (time_element(at))
            " (snapshot " (site.context.sequence) ")."
        }
    }
}

/// When the numbers a county or contest page shows last changed: the latest accepted change
/// naming one of `precincts`. A page is dated by its own numbers rather than by the snapshot,
/// so a county upload leaves the other counties' pages the same bytes (nothing to render,
/// compress or store again for them) and a reader sees how fresh these numbers are.
pub(super) fn last_changed<'a>(site: &Site, precincts: impl Iterator<Item = &'a str>) -> Markup {
    let latest =
        precincts.filter_map(|precinct| site.precinct_changes.get(precinct)).max_by_key(|change| change.sequence);
    html! {
        p.updated {
            @match latest {
                Some(change) => {
                    "Last updated " (time_element(change.at)) " ("
                    a href={ "../changes.html#change-" (change.sequence) } { "change " (change.sequence) }
                    ")."
                }
                None => "No results reported yet.",
            }
        }
    }
}

pub(super) fn time_element(at: OffsetDateTime) -> Markup {
    html! { time datetime=(at.format(&Rfc3339).unwrap_or_default()) { (time_in_words(at)) } }
}

/// "Tuesday 3 November 2026 at 21:04 UTC": the time as the office recorded it, with its offset.
pub(super) fn time_in_words(at: OffsetDateTime) -> String {
    let offset = at.offset();
    let zone = if offset.is_utc() {
        "UTC".to_owned()
    } else {
        let (hours, minutes, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        format!("UTC{sign}{:02}:{:02}", hours.unsigned_abs(), minutes.unsigned_abs())
    };
    format!("{} at {:02}:{:02} {zone}", date_in_words(at.date()), at.hour(), at.minute())
}

pub(super) fn date_in_words(date: time::Date) -> String {
    format!("{} {} {} {}", date.weekday(), date.day(), date.month(), date.year())
}

/// A count with thousands separators: 1,234,567.
pub(super) fn number(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// A share in per cent with one decimal: 45.3%.
pub(super) fn percent(share: f64) -> String {
    format!("{share:.1}%")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn numbers_and_times_read_as_words() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1_000), "1,000");
        assert_eq!(number(1_234_567), "1,234,567");
        assert_eq!(percent(45.26), "45.3%");
        assert_eq!(time_in_words(datetime!(2026-11-03 21:04:59 UTC)), "Tuesday 3 November 2026 at 21:04 UTC");
        assert_eq!(time_in_words(datetime!(2026-11-03 21:04 -5)), "Tuesday 3 November 2026 at 21:04 UTC-05:00");
    }
}
