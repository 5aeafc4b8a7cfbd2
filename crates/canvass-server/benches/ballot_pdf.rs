//! Ballot PDF generation (issue 9): how long `ballot_pdf::style_pdf` takes per ballot style and
//! for every style of a state-size election, and how large the files are.
//!
//! `cargo bench -p canvass-server --bench ballot_pdf`. The seeded sample election has 100
//! counties, 2,700 precincts and 60 contests; its ballot styles are the distinct contest sets
//! of the precincts (one per county). Every style is made once as a warm-up (fonts parsed),
//! then all styles `ROUNDS` times on one thread; the fastest round is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use canvass_core::{
    ballot_styles::ballot_styles,
    results_sample::{SampleShape, sample_election},
};
use canvass_server::ballot_pdf;
use time::{Date, Month};

const ROUNDS: u32 = 3;

fn main() {
    let date = Date::from_calendar_date(2026, Month::November, 3).unwrap();
    let definition = sample_election(SampleShape::STATE, date, 1).unwrap().definition;
    let started = Instant::now();
    let styles = ballot_styles(&definition);
    println!(
        "{} precincts, {} contests -> {} ballot styles in {:.1} ms",
        definition.precincts.len(),
        definition.contests.len(),
        styles.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let first = Instant::now();
    ballot_pdf::style_pdf(&definition, &styles[0], false).unwrap();
    println!("first style, fonts parsed: {:.1} ms", first.elapsed().as_secs_f64() * 1000.0);

    let mut fastest = f64::MAX;
    let mut slowest_style = 0.0_f64;
    let mut sizes = Vec::new();
    for _ in 0..ROUNDS {
        sizes.clear();
        let round = Instant::now();
        for style in &styles {
            let started = Instant::now();
            let pdf = ballot_pdf::style_pdf(&definition, style, false).unwrap();
            slowest_style = slowest_style.max(started.elapsed().as_secs_f64());
            sizes.push((pdf.len(), style.contests.len()));
        }
        fastest = fastest.min(round.elapsed().as_secs_f64());
    }
    let bytes: usize = sizes.iter().map(|(size, _)| size).sum();
    let contests: usize = sizes.iter().map(|(_, contests)| contests).sum();
    println!(
        "all {} styles: fastest of {ROUNDS} rounds {:.0} ms, {:.1} ms per style (slowest single style {:.1} ms)",
        styles.len(),
        fastest * 1000.0,
        fastest * 1000.0 / styles.len() as f64,
        slowest_style * 1000.0
    );
    println!(
        "size: {:.1} MB in all, {:.0} kB per style on average ({:.1} contests per style)",
        bytes as f64 / 1e6,
        bytes as f64 / 1e3 / sizes.len() as f64,
        contests as f64 / sizes.len() as f64
    );
    let sample = Instant::now();
    for style in &styles {
        ballot_pdf::style_pdf(&definition, style, true).unwrap();
    }
    println!("all styles as sample ballots: {:.0} ms", sample.elapsed().as_secs_f64() * 1000.0);
}
