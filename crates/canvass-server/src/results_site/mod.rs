//! The public results site as static HTML: every page of one snapshot (statewide summary, one
//! page per contest, county and precinct, the change history) with its stylesheet and live-update
//! script, and the archive page listing every election. Pure functions of the results and their
//! tally: publication stores and signs what [`pages`] returns, `canvass results publish --to DIR`
//! writes it, so the bytes a CDN serves are the bytes `canvass serve` serves.
//!
//! Every link is relative (a snapshot reads the same under `/results/{election}/s/{n}/` or in any
//! directory), no page has an inline script or style (the strict CSP), and every page works
//! without JavaScript; `results.js` only swaps in newer numbers.

mod archive;
mod changes;
mod contest;
mod county;
mod layout;
mod parts;
mod precinct;
mod summary;

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use canvass_core::{
    jurisdiction::{Jurisdiction, Precinct},
    results::{ElectionResults, PrecinctReturn, ResultsChange, Tally},
};

use crate::site_file::{CSS, JAVASCRIPT, SiteContext, SiteFile};

pub use archive::{ArchiveEntry, archive_page};

/// The snapshot's stylesheet, also written beside the archive page (`/results/results.css`).
pub const STYLESHEET_PATH: &str = "results.css";
const SCRIPT_PATH: &str = "results.js";
const STYLESHEET: &str = include_str!("../../assets/results.css");
const SCRIPT: &str = include_str!("../../assets/results.js");

/// The stylesheet every results page links, as a file of the snapshot or of the archive's
/// directory (the archive page links `results.css` beside itself).
pub fn stylesheet() -> SiteFile {
    SiteFile::new(STYLESHEET_PATH, CSS, STYLESHEET)
}

/// Every HTML page of one snapshot and its two assets, with paths relative to the snapshot's
/// root. `tally` is `canvass_core::results::tally(results)`, passed in because publication
/// computes it once for the data files too. Precinct pages whose inputs did not change since
/// `memo` last saw them are taken from it rather than rendered again.
pub fn pages(results: &ElectionResults, tally: &Tally, context: &SiteContext, memo: &PageMemo) -> Vec<SiteFile> {
    let site = Site::new(results, tally, context);
    let definition = &results.definition;
    let mut files =
        Vec::with_capacity(4 + definition.contests.len() + definition.counties.len() + definition.precincts.len());
    files.push(stylesheet());
    files.push(SiteFile::new(SCRIPT_PATH, JAVASCRIPT, SCRIPT));
    files.push(summary::page(&site));
    files.push(changes::page(&site));
    files.extend(definition.contests.iter().map(|contest| contest::page(&site, contest)));
    files.extend(definition.counties.iter().map(|county| county::page(&site, county)));
    let definition_digest = crate::results_publish::definition_sha256(definition);
    for precinct in &definition.precincts {
        match &definition_digest {
            Ok(digest) => files.push(memo.precinct_page(&site, precinct, digest)),
            Err(_) => files.push(precinct::page(&site, precinct)),
        }
    }
    files
}

/// Precinct pages as last rendered, by election and precinct, with what each was made from.
/// A county's upload changes a few dozen of a state's thousands of precinct pages; rendering
/// the rest again would be most of a publication's time.
#[derive(Debug, Default)]
pub struct PageMemo {
    precincts: Mutex<HashMap<(String, String), (PrecinctInputs, SiteFile)>>,
}

/// Everything a precinct's page shows: the definition (names, contests, its county), whether
/// the results are certified, its return, its registered voters and its latest change.
#[derive(Debug, Clone, PartialEq)]
struct PrecinctInputs {
    definition: String,
    certified: bool,
    returned: Option<PrecinctReturn>,
    registered: Option<u64>,
    change: Option<ResultsChange>,
}

impl PageMemo {
    fn precinct_page(&self, site: &Site, precinct: &Precinct, definition_digest: &str) -> SiteFile {
        let results = site.results;
        let inputs = PrecinctInputs {
            definition: definition_digest.to_owned(),
            certified: results.is_certified(),
            returned: results.returns.get(&precinct.id).cloned(),
            registered: results.registered.get(&precinct.id).copied(),
            change: site.precinct_changes.get(precinct.id.as_str()).map(|change| (*change).clone()),
        };
        let key = (results.definition.election.id.as_str().to_owned(), precinct.id.as_str().to_owned());
        let remembered = self.precincts.lock().ok().and_then(|memo| {
            memo.get(&key).filter(|(made_from, _)| *made_from == inputs).map(|(_, page)| page.clone())
        });
        if let Some(page) = remembered {
            return page;
        }
        let page = precinct::page(site, precinct).with_sha256();
        if let Ok(mut memo) = self.precincts.lock() {
            memo.insert(key, (inputs, page.clone()));
        }
        page
    }
}

/// The file-name slug of a contest, county or precinct id: one rule for the pages, the data
/// files, links and paths alike ([`crate::site_file::slug`]).
pub use crate::site_file::slug;

/// What every page of one snapshot shares: the results, their sums, and the lookups (slugs,
/// names, each county's precincts) computed once rather than per link.
struct Site<'a> {
    results: &'a ElectionResults,
    tally: &'a Tally,
    context: &'a SiteContext,
    slugs: HashMap<&'a str, String>,
    counties: HashMap<&'a str, &'a Jurisdiction>,
    precincts_by_county: BTreeMap<&'a str, Vec<&'a Precinct>>,
    /// The latest change naming each precinct: what its page dates itself by.
    precinct_changes: HashMap<&'a str, &'a ResultsChange>,
}

impl<'a> Site<'a> {
    fn new(results: &'a ElectionResults, tally: &'a Tally, context: &'a SiteContext) -> Self {
        let definition = &results.definition;
        let mut slugs = HashMap::new();
        let ids = definition
            .contests
            .iter()
            .map(|contest| contest.id.as_str())
            .chain(definition.counties.iter().map(|county| county.id.as_str()))
            .chain(definition.precincts.iter().map(|precinct| precinct.id.as_str()));
        for id in ids {
            slugs.entry(id).or_insert_with(|| slug(id));
        }
        let counties = definition.counties.iter().map(|county| (county.id.as_str(), county)).collect();
        let mut precincts_by_county: BTreeMap<&str, Vec<&Precinct>> = BTreeMap::new();
        for precinct in &definition.precincts {
            precincts_by_county.entry(precinct.jurisdiction.as_str()).or_default().push(precinct);
        }
        let mut precinct_changes = HashMap::new();
        for change in &results.changes {
            for precinct in &change.precincts {
                precinct_changes.insert(precinct.as_str(), change);
            }
        }
        Self { results, tally, context, slugs, counties, precincts_by_county, precinct_changes }
    }

    fn slug_of(&self, id: &str) -> String {
        self.slugs.get(id).cloned().unwrap_or_else(|| slug(id))
    }

    /// Paths below the snapshot's root; a link prefixes the page's way up (`""` or `"../"`).
    fn contest_path(&self, id: &str) -> String {
        format!("contests/{}.html", self.slug_of(id))
    }

    fn county_path(&self, id: &str) -> String {
        format!("counties/{}.html", self.slug_of(id))
    }

    fn precinct_path(&self, id: &str) -> String {
        format!("precincts/{}.html", self.slug_of(id))
    }

    fn county_name(&self, id: &str) -> Option<&'a str> {
        self.counties.get(id).map(|county| county.name.as_str())
    }

    fn precincts_of(&self, county: &str) -> &[&'a Precinct] {
        self.precincts_by_county.get(county).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn precincts_of_the_same_number_in_two_counties_get_different_pages() {
        let first = slug("ocd-division/country:us/state:zz/county:c001/precinct:p001");
        let second = slug("ocd-division/country:us/state:zz/county:c002/precinct:p001");
        assert!(first.starts_with("precinct-p001-") && second.starts_with("precinct-p001-"), "{first} {second}");
        assert_ne!(first, second);
        // The same id gives the same slug in every snapshot.
        assert_eq!(slug("ocd-division/country:us/state:zz"), slug("ocd-division/country:us/state:zz"));
    }
}
