//! Voter file import benchmark (issue 6): a seeded NC-layout file with the confidential
//! columns (1,000,000 rows by default) imported into a fresh SQLite store through the real
//! import path (sealing every field, blind indexes, row digests, batches committed with the
//! import's position, ledger entries), side by side with the reference: `sqlite3`'s plain
//! `.import` of the same file into an unindexed table. Each is run `ROLL_BENCH_RUNS` times
//! (default 2), alternating, and the best of each is compared. Peak memory is the process's
//! high-water mark (VmHWM) after the imports; the file is written streaming beforehand.
//!
//! The same is then done against PostgreSQL: a throwaway cluster from the system's binaries
//! (`canvass_store_postgres::test_cluster`, started with fsync off, so both sides skip the
//! flush), the real import into a fresh database, and as the reference `COPY` of the same file
//! (`psql`'s `\copy ... FROM STDIN`, text format) into an unindexed table of 71 text columns.
//!
//! `cargo bench -p canvass-server --bench roll_import`; `ROLL_BENCH_ROWS` changes the row
//! count, `ROLL_BENCH_BACKENDS` the backends (default `sqlite,postgres`). Needs `sqlite3`
//! (Debian package sqlite3) and PostgreSQL's binaries for the references.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    path::Path,
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use canvass_store::{ImportCounts, Store};
use canvass_store_postgres::{PostgresStore, test_cluster::TestCluster};
use canvass_store_sqlite::{OpenMode, SqliteStore};
use support::{generate_file, import_state_roll, variable};

async fn ours(store: Arc<dyn Store>, file: &Path, rows: u64) -> (Duration, ImportCounts) {
    let (elapsed, counts, _, _) = import_state_roll(&store, file, rows).await;
    store.close().await;
    (elapsed, counts)
}

async fn ours_sqlite(directory: &Path, file: &Path, rows: u64) -> (Duration, ImportCounts) {
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&directory.join("canvass.db"), OpenMode::Create).await.unwrap());
    ours(store, file, rows).await
}

async fn ours_postgres(cluster: &TestCluster, file: &Path, rows: u64) -> (Duration, ImportCounts) {
    let url = cluster.create_database().unwrap();
    let store: Arc<dyn Store> = Arc::new(PostgresStore::open(&url).await.unwrap());
    ours(store, file, rows).await
}

/// `COPY` of the file into an unindexed table of text columns, the file streamed on stdin.
fn reference_postgres(cluster: &TestCluster, file: &Path) -> Duration {
    let url = cluster.create_database().unwrap();
    let database = url.rsplit('/').next().unwrap().to_owned();
    let port = cluster.port().to_string();
    let psql = |command: &str, input: std::process::Stdio| {
        let output = cluster
            .command("psql")
            .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", &database, "-v", "ON_ERROR_STOP=1", "-c"])
            .arg(command)
            .stdin(input)
            .output()
            .expect("psql runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    };
    let columns: Vec<String> = (1..=71).map(|number| format!("c{number} text")).collect();
    psql(&format!("CREATE TABLE voters ({})", columns.join(", ")), std::process::Stdio::null());
    let started = Instant::now();
    psql(
        "\\copy voters FROM STDIN WITH (FORMAT text, HEADER true)",
        std::process::Stdio::from(std::fs::File::open(file).unwrap()),
    );
    started.elapsed()
}

fn reference_sqlite(directory: &Path, file: &Path) -> Duration {
    let database = directory.join("reference.db");
    let started = Instant::now();
    let output = Command::new("sqlite3")
        .arg(&database)
        .arg("-cmd")
        .arg(".mode tabs")
        .arg(format!(".import {} voters", file.display()))
        .output()
        .expect("sqlite3 runs (apt-get install sqlite3)");
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    elapsed
}

fn peak_memory_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1).and_then(|value| value.parse().ok()))
        })
        .unwrap_or(0)
}

/// Alternates our import and the reference `runs` times; returns the best of each.
fn side_by_side(
    runs: u64,
    rows: u64,
    label: &str,
    mut ours: impl FnMut() -> (Duration, ImportCounts),
    mut reference: impl FnMut() -> Duration,
    reference_label: &str,
) -> (f64, f64) {
    let (mut best_ours, mut best_reference) = (Duration::MAX, Duration::MAX);
    for run in 0..runs {
        let (elapsed, counts) = ours();
        assert_eq!(counts.inserted, rows, "{counts:?}");
        println!(
            "run {run}: canvass import into {label} {:.2} s ({:.0} rows/s)",
            elapsed.as_secs_f64(),
            rate(rows, elapsed)
        );
        best_ours = best_ours.min(elapsed);
        let elapsed = reference();
        println!("run {run}: {reference_label} {:.2} s ({:.0} rows/s)", elapsed.as_secs_f64(), rate(rows, elapsed));
        best_reference = best_reference.min(elapsed);
    }
    let (ours_rate, reference_rate) = (rate(rows, best_ours), rate(rows, best_reference));
    println!(
        "best canvass import into {label}: {ours_rate:.0} rows/s (sealed, blind-indexed, digested, 4 secondary indexes)"
    );
    println!("best {reference_label}: {reference_rate:.0} rows/s (plain text, no index)");
    println!("ratio canvass / {reference_label}: {:.2}x (goal >= 2x)", ours_rate / reference_rate);
    (ours_rate, reference_rate)
}

fn rate(rows: u64, elapsed: Duration) -> f64 {
    rows as f64 / elapsed.as_secs_f64()
}

fn main() {
    let rows = variable("ROLL_BENCH_ROWS", 1_000_000);
    let runs = variable("ROLL_BENCH_RUNS", 2).max(1);
    let backends = std::env::var("ROLL_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("ncvoter-bench.tsv");
    generate_file(&file, rows);
    let bytes = std::fs::metadata(&file).unwrap().len();
    println!("file: {rows} rows with the confidential columns, {:.1} MiB", bytes as f64 / 1048576.0);
    let memory_before = peak_memory_kib();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if backends.contains("sqlite") {
        side_by_side(
            runs,
            rows,
            "SQLite",
            || {
                let directory = tempfile::tempdir_in(work.path()).unwrap();
                runtime.block_on(ours_sqlite(directory.path(), &file, rows))
            },
            || {
                let directory = tempfile::tempdir_in(work.path()).unwrap();
                reference_sqlite(directory.path(), &file)
            },
            "sqlite3 .import",
        );
        println!(
            "peak memory (VmHWM): {:.0} MiB after the SQLite imports, {:.0} MiB before them (goal < 512 MiB)",
            peak_memory_kib() as f64 / 1024.0,
            memory_before as f64 / 1024.0
        );
    }
    if backends.contains("postgres") {
        let cluster = TestCluster::start().expect("a PostgreSQL cluster starts (apt-get install postgresql)");
        side_by_side(
            runs,
            rows,
            "PostgreSQL",
            || runtime.block_on(ours_postgres(&cluster, &file, rows)),
            || reference_postgres(&cluster, &file),
            "PostgreSQL COPY",
        );
        println!("peak memory (VmHWM): {:.0} MiB after the PostgreSQL imports", peak_memory_kib() as f64 / 1024.0);
    }
}
