//! Rendering the results site of a state-size election (issue 7): how long `results_site::pages`
//! takes for every page of one snapshot, and how many bytes it makes.
//!
//! `cargo bench -p canvass-server --bench results_site`. The seeded sample election has 100
//! counties, 2,700 precincts and 60 contests, every precinct reported; the tally is timed apart,
//! since publication computes it once for every file of the snapshot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use canvass_core::{
    results::{ElectionResults, tally},
    results_sample::{SampleShape, sample_election},
};
use canvass_server::{results_site, site_file::SiteContext};
use time::{Date, Month, OffsetDateTime};

const ROUNDS: u32 = 5;

fn main() {
    let date = Date::from_calendar_date(2026, Month::November, 3).unwrap();
    let sample = sample_election(SampleShape::STATE, date, 1).unwrap();
    let results = ElectionResults {
        definition: sample.definition,
        returns: sample.returns.into_iter().map(|it| (it.precinct.clone(), it)).collect(),
        registered: sample.registered,
        changes: Vec::new(),
    };
    let context = SiteContext { sequence: 1, published_at: OffsetDateTime::now_utc() };

    let started = Instant::now();
    let sums = tally(&results);
    println!("tally: {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);

    let mut fastest = f64::MAX;
    let mut files = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        files = results_site::pages(&results, &sums, &context, &results_site::PageMemo::default());
        fastest = fastest.min(started.elapsed().as_secs_f64());
    }
    let bytes: usize = files.iter().map(|file| file.body.len()).sum();
    let largest = files.iter().max_by_key(|file| file.body.len()).unwrap();
    println!(
        "pages: {} files, {:.1} MB, fastest of {ROUNDS} rounds {:.0} ms; largest {} ({:.0} kB)",
        files.len(),
        bytes as f64 / 1e6,
        fastest * 1000.0,
        largest.path,
        largest.body.len() as f64 / 1e3
    );
    let mut by_folder: std::collections::BTreeMap<&str, (usize, usize)> = std::collections::BTreeMap::new();
    for file in &files {
        let folder = file.path.split_once('/').map_or("(root)", |(folder, _)| folder);
        let slot = by_folder.entry(folder).or_default();
        slot.0 += 1;
        slot.1 += file.body.len();
    }
    for (folder, (count, bytes)) in by_folder {
        println!(
            "  {folder}: {count} files, {:.1} MB, {:.1} kB each",
            bytes as f64 / 1e6,
            bytes as f64 / 1e3 / count as f64
        );
    }
}
