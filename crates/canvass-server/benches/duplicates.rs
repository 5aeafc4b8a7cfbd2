//! Duplicate detection on a large roll (issue 6): how long finding candidate pairs takes.
//!
//! `cargo bench -p canvass-server --bench duplicates`. It writes the seeded NC-layout file the
//! import bench uses (`DUPLICATES_BENCH_VOTERS`, default 1,000,000), imports it through the real
//! import path into a fresh SQLite store, then times: the store's candidate query alone (one
//! page of 500, which pairs the whole roll on its blind indexes before sorting), the first page
//! of 50 confirmed pairs as the admin page asks for it, and a walk through every page for up to
//! `DUPLICATES_BENCH_WALK_SECONDS` (default 60), counting candidates read and pairs confirmed.
//! The generator draws names from 16 x 16 and birth dates from 75 years, so a large file has
//! many real name + birth date twins; the blind indexes' deliberate false positives are
//! dropped by opening the records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use canvass_server::duplicates::{self, Rings};
use canvass_store::{DuplicateQuery, Store};
use canvass_store_sqlite::{OpenMode, SqliteStore};
use support::{generate_file, import_state_roll, variable};

fn main() {
    let rows = variable("DUPLICATES_BENCH_VOTERS", 1_000_000);
    let walk_limit = Duration::from_secs(variable("DUPLICATES_BENCH_WALK_SECONDS", 60));
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("voters.tsv");
    generate_file(&file, rows);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&directory.path().join("canvass.db"), OpenMode::Create).await.unwrap());
        let (import_time, counts, state, ring) = import_state_roll(&store, &file, rows).await;
        println!("imported {} voters in {:.1} s", counts.inserted, import_time.as_secs_f64());
        let rings = Rings::one(Arc::new(ring)).unwrap();

        let started = Instant::now();
        let query = DuplicateQuery { scope: &state, after: None, limit: 500 };
        let candidates = store.duplicate_candidates(&query).await.unwrap();
        println!(
            "store candidate query (first 500 of the roll's index pairs): {:.2} s, {} rows",
            started.elapsed().as_secs_f64(),
            candidates.len()
        );

        let started = Instant::now();
        let page = duplicates::find(store.as_ref(), &rings, &state, None, 50).await.unwrap();
        println!(
            "first page of 50 confirmed pairs: {:.2} s ({} pairs)",
            started.elapsed().as_secs_f64(),
            page.pairs.len()
        );

        let started = Instant::now();
        let (mut pages, mut pairs) = (0u64, 0u64);
        let mut after = page.next.clone();
        pairs += page.pairs.len() as u64;
        pages += 1;
        while let Some((first, second)) = after.take() {
            if started.elapsed() > walk_limit {
                after = Some((first, second));
                break;
            }
            let page = duplicates::find(store.as_ref(), &rings, &state, Some((&first, &second)), 200).await.unwrap();
            pairs += page.pairs.len() as u64;
            pages += 1;
            after = page.next;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let finished = if after.is_none() { "the whole roll" } else { "stopped at the time limit" };
        println!(
            "walk ({finished}): {pairs} confirmed pairs in {pages} pages, {elapsed:.1} s, {:.0} pairs/s",
            pairs as f64 / elapsed.max(f64::EPSILON)
        );
    });
}
