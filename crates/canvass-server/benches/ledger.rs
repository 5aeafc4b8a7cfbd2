//! Audit ledger benchmarks (issue 4): durable group-commit appends per second on SQLite, the
//! time from an append to its inclusion in a signed checkpoint under steady load, inclusion
//! proofs served from the store's tiles, and verifying a log of a million entries from scratch.
//! A bench binary (`harness = false`): `cargo bench -p canvass-server --bench ledger`.
//! `LEDGER_BENCH_ENTRIES` changes the size of the large log (default 1,000,000);
//! `LEDGER_BENCH_ONLY=appends` stops after the append figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use canvass_core::{
    audit::{Action, Actor, AuditEntry, Outcome},
    credential::Username,
    id::JurisdictionId,
};
use canvass_crypto::NodeSigningKey;
use canvass_ledger::{
    Checkpoint, FileMap, LedgerError, LogVerifier, Note, TILE_HEIGHT, TILE_WIDTH, TilePath, TileReader, TileSource,
    inclusion_plan, inclusion_proof, leaf_hash, verify_inclusion,
};
use canvass_server::{
    audit_log,
    ledger::{self, Ledger, LogIdentity},
};
use canvass_store::{LedgerQuery, Store};
use canvass_store_sqlite::{OpenMode, SqliteStore};
use tokio::runtime::Runtime;

const JURISDICTIONS: [&str; 4] = [
    "ocd-division/country:us/state:nc/county:wake",
    "ocd-division/country:us/state:nc/county:durham",
    "ocd-division/country:us/state:nc/county:orange",
    "ocd-division/country:us/state:nc/county:mecklenburg",
];

/// A realistic entry: one of 40 clerks reading a confidential field of a voter spread over
/// the whole roll, so the store's target index is written at random places.
fn entry(n: u64) -> AuditEntry {
    entry_for(n, n.wrapping_mul(2_654_435_761) % 1_000_000_000_000)
}

/// The same entry naming voters in the order of the target index (a clerk going through a
/// precinct's list): shows how much of the cost is the random index writes.
fn entry_in_index_order(n: u64) -> AuditEntry {
    entry_for(n, n)
}

/// The target `entry(n)` names.
fn entry_target(n: u64) -> String {
    format!("voter:NC-{:012}", n.wrapping_mul(2_654_435_761) % 1_000_000_000_000)
}

fn entry_for(n: u64, voter: u64) -> AuditEntry {
    let clerk = Username::parse(&format!("clerk{:02}", n % 40)).unwrap();
    let jurisdiction = JurisdictionId::parse(JURISDICTIONS[(n % 4) as usize]).unwrap();
    AuditEntry::new(Actor::User(clerk), Action::VoterRead, Outcome::Allowed)
        .with_jurisdiction(&jurisdiction)
        .with_target(format!("voter:NC-{voter:012}"))
        .unwrap()
}

struct Log {
    store: Arc<dyn Store>,
    ledger: Ledger,
}

async fn open_store(directory: &Path, name: &str) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(&directory.join(format!("{name}.db")), OpenMode::Create).await.unwrap())
}

async fn open_log(directory: &Path, name: &str, key: &Arc<NodeSigningKey>, identity: &LogIdentity) -> Log {
    let store = open_store(directory, name).await;
    let ledger = Ledger::start(store.clone(), key.clone(), identity.clone()).await.unwrap();
    Log { store, ledger }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

fn us(duration: Duration) -> String {
    format!("{:.0} µs", duration.as_secs_f64() * 1e6)
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// p50 / p99 / max of a set of durations, formatted by `unit`.
fn distribution(mut samples: Vec<Duration>, unit: fn(Duration) -> String) -> String {
    samples.sort();
    format!(
        "p50 {}  p99 {}  max {}  (n = {})",
        unit(percentile(&samples, 0.50)),
        unit(percentile(&samples, 0.99)),
        unit(samples.last().copied().unwrap_or_default()),
        samples.len()
    )
}

/// One caller appending and waiting each time: every append is its own commit and fsync.
async fn sequential(log: &Log, count: u64) -> Vec<Duration> {
    for n in 0..10 {
        log.ledger.append(&entry(n)).await.unwrap();
    }
    let mut latencies = Vec::new();
    for n in 0..count {
        let started = Instant::now();
        log.ledger.append(&entry(n)).await.unwrap();
        latencies.push(started.elapsed());
    }
    latencies
}

struct LoadResult {
    appended: u64,
    elapsed: Duration,
    /// Appends acknowledged in each whole second of the run.
    per_second: Vec<u64>,
    /// The signed checkpoint's size when the last append was acknowledged.
    signed_at_end: u64,
    /// When the first `MILESTONE` appends had been acknowledged, to compare runs of
    /// different lengths on a log of the same size.
    milestone: Option<Duration>,
}

const MILESTONE: u64 = 300_000;

/// `tasks` callers appending in a loop until `total` entries or `limit` time, whichever first.
async fn closed_loop(log: &Log, tasks: usize, total: u64, limit: Duration, entry: fn(u64) -> AuditEntry) -> LoadResult {
    let claimed = Arc::new(AtomicU64::new(0));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (ledger, claimed, acknowledged, stop) =
                (log.ledger.clone(), claimed.clone(), acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let n = claimed.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    ledger.append(&entry(n)).await.unwrap();
                    acknowledged.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let mut per_second = Vec::new();
    let mut last = 0;
    let mut milestone = None;
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(1), Duration::from_secs(1));
    while acknowledged.load(Ordering::Relaxed) < total && started.elapsed() < limit {
        tokio::select! {
            _ = ticker.tick() => {
                let now = acknowledged.load(Ordering::Relaxed);
                per_second.push(now - last);
                last = now;
            }
            _ = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
        if milestone.is_none() && acknowledged.load(Ordering::Relaxed) >= MILESTONE {
            milestone = Some(started.elapsed());
        }
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed();
    let signed_at_end = log.store.latest_checkpoint().await.unwrap().map_or(0, |checkpoint| checkpoint.size);
    LoadResult { appended: acknowledged.load(Ordering::Relaxed), elapsed, per_second, signed_at_end, milestone }
}

fn report_load(label: &str, result: &LoadResult) {
    let rate = result.appended as f64 / result.elapsed.as_secs_f64();
    let mut seconds = result.per_second.clone();
    seconds.sort_unstable();
    let spread = match (seconds.first(), seconds.get(seconds.len() / 2), seconds.last()) {
        (Some(low), Some(median), Some(high)) => format!(
            "per whole second: median {}, range {}-{}",
            thousands(*median as f64),
            thousands(*low as f64),
            thousands(*high as f64)
        ),
        _ => String::new(),
    };
    println!(
        "  {label}: {} appends in {:.2} s = {} appends/s ({spread}); checkpoint at end: {} signed",
        thousands(result.appended as f64),
        result.elapsed.as_secs_f64(),
        thousands(rate),
        thousands(result.signed_at_end as f64),
    );
    if let Some(milestone) = result.milestone.filter(|_| result.appended > MILESTONE) {
        println!(
            "    of which the first {}: {:.2} s = {} appends/s",
            thousands(MILESTONE as f64),
            milestone.as_secs_f64(),
            thousands(MILESTONE as f64 / milestone.as_secs_f64())
        );
    }
}

struct Sample {
    index: u64,
    issued: Instant,
    acknowledged: Instant,
}

/// Appends at `rate` per second for `duration` (open loop: each append is its own task, issued
/// on schedule whether or not earlier ones have finished), sampling every `every`-th append,
/// while a poller watches the latest signed checkpoint. Returns (issue to ack, issue to signed,
/// ack to signed) distributions.
async fn latency_under_load(log: &Log, rate: u64, duration: Duration, every: u64) -> [Vec<Duration>; 3] {
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let signed = Arc::new(Mutex::new(Vec::<(Instant, u64)>::new()));
    let polling = Arc::new(AtomicBool::new(true));
    let poller = {
        let (store, signed, polling) = (log.store.clone(), signed.clone(), polling.clone());
        tokio::spawn(async move {
            let mut last = 0;
            while polling.load(Ordering::Relaxed) {
                let size = store.latest_checkpoint().await.unwrap().map_or(0, |checkpoint| checkpoint.size);
                if size != last {
                    signed.lock().unwrap().push((Instant::now(), size));
                    last = size;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let started = Instant::now();
    let mut issued = 0u64;
    let mut appends = tokio::task::JoinSet::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    while started.elapsed() < duration {
        ticker.tick().await;
        let due = (started.elapsed().as_secs_f64() * rate as f64) as u64;
        while issued < due {
            let (ledger, samples, n) = (log.ledger.clone(), samples.clone(), issued);
            appends.spawn(async move {
                let issued = Instant::now();
                let index = ledger.append(&entry(n)).await.unwrap();
                if n.is_multiple_of(every) {
                    samples.lock().unwrap().push(Sample { index, issued, acknowledged: Instant::now() });
                }
            });
            issued += 1;
        }
        while appends.try_join_next().is_some() {}
    }
    while appends.join_next().await.is_some() {}
    let samples = std::mem::take(&mut *samples.lock().unwrap());
    let highest = samples.iter().map(|sample| sample.index).max().unwrap_or(0);
    let waiting = Instant::now();
    while signed.lock().unwrap().last().is_none_or(|(_, size)| *size <= highest)
        && waiting.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    polling.store(false, Ordering::Relaxed);
    poller.await.unwrap();
    let signed = signed.lock().unwrap().clone();
    let mut result = [Vec::new(), Vec::new(), Vec::new()];
    for sample in &samples {
        let Some((seen, _)) = signed.iter().find(|(_, size)| *size > sample.index) else {
            panic!("entry {} was never signed", sample.index);
        };
        result[0].push(sample.acknowledged - sample.issued);
        result[1].push(seen.saturating_duration_since(sample.issued));
        result[2].push(seen.saturating_duration_since(sample.acknowledged));
    }
    println!(
        "  {} appends issued at {}/s for {:.0} s; {} sampled; {} checkpoints signed meanwhile",
        thousands(issued as f64),
        thousands(rate as f64),
        duration.as_secs_f64(),
        samples.len(),
        signed.len()
    );
    result
}

/// The tile path holding the node `(level, index)` of the tree of `size`.
/// The median of 15 searches by one record's id, as `audit search --record` makes them.
async fn time_target_search(log: &Log) -> Duration {
    let query = LedgerQuery { target: Some(entry_target(7)), limit: 100, ..LedgerQuery::default() };
    let mut samples = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let found = log.store.search_ledger(&query).await.unwrap();
        samples.push(started.elapsed());
        assert!(!found.is_empty(), "the record's entry is found");
    }
    samples.sort();
    samples[samples.len() / 2]
}

fn tile_path(level: u8, index: u64, size: u64) -> String {
    let tile_level = level / TILE_HEIGHT;
    let tile_index = (index << (level % TILE_HEIGHT)) / TILE_WIDTH as u64;
    let available = (size >> (u32::from(tile_level) * u32::from(TILE_HEIGHT))) - tile_index * TILE_WIDTH as u64;
    TilePath::hashes(tile_level, tile_index, available).to_path()
}

/// How a proof's tiles are read from the store.
#[derive(Clone, Copy)]
enum TileRoute {
    /// Through `audit_log::tile`, the code behind `/log/tile/...`: each tile also reads the
    /// latest checkpoint's size, so only files of the signed tree are served.
    Served,
    /// `Store::ledger_tile` alone: one query per tile.
    Direct,
}

/// One inclusion proof computed from the store: plan the proof, fetch the tiles it needs,
/// compute. Returns the proof and the number of tiles read.
async fn proof_from_store(
    store: &dyn Store,
    index: u64,
    size: u64,
    route: TileRoute,
) -> (Vec<canvass_ledger::Hash>, usize) {
    let plan = inclusion_plan(index, size).unwrap();
    let paths: HashSet<String> = plan.nodes.iter().map(|node| tile_path(node.level, node.index, size)).collect();
    let mut files = FileMap::default();
    for path in &paths {
        let bytes = match route {
            TileRoute::Served => audit_log::tile(store, path).await.unwrap().expect("a tile of the signed tree"),
            TileRoute::Direct => {
                let Ok(TilePath::Hashes { level, index, width }) = TilePath::parse(path) else {
                    panic!("{path} is not a hash tile");
                };
                let mut bytes = store.ledger_tile(level, index).await.unwrap().expect("a stored tile");
                bytes.truncate(usize::from(width) * 32);
                bytes
            }
        };
        files.0.insert(path.clone(), bytes);
    }
    let proof = inclusion_proof(index, size, &mut TileReader::new(files, size)).unwrap();
    (proof, paths.len())
}

/// A directory written by `audit_log::publish`, read file by file like `canvass audit verify`.
struct Directory(PathBuf);

impl TileSource for Directory {
    fn fetch(&mut self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        match std::fs::read(self.0.join(path)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(LedgerError::Fetch { path: path.to_owned(), reason: error.to_string() }),
        }
    }
}

/// Small deterministic generator for proof indices (no dependency needed for this).
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn release_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"), PathBuf::from);
    target.join("release/canvass")
}

fn main() {
    let large: u64 = std::env::var("LEDGER_BENCH_ENTRIES").ok().and_then(|text| text.parse().ok()).unwrap_or(1_000_000);
    let scratch = tempfile::Builder::new().prefix("canvass-ledger-bench").tempdir().unwrap();
    let key = Arc::new(NodeSigningKey::generate().unwrap());
    let identity = LogIdentity::new(None, &key, &[]).unwrap();
    println!("Canvass audit ledger benchmarks (issue 4)");
    println!(
        "  SQLite store in {} (WAL, synchronous=FULL); {} cores; tokio multi-threaded runtime",
        scratch.path().display(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!(
        "  entry: {} bytes of canonical JSON, 1 target, e.g. {}",
        entry(7).encode().len(),
        String::from_utf8(entry(7).encode()).unwrap()
    );

    println!("\n1. Appends with durable group commit");
    {
        let runtime = runtime();
        runtime.block_on(async {
            let log = open_log(scratch.path(), "sequential", &key, &identity).await;
            let latencies = sequential(&log, 300).await;
            let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;
            println!(
                "  one caller, sequential (one commit and fsync per append): {}; {} appends/s",
                distribution(latencies, ms),
                thousands(1.0 / mean.as_secs_f64())
            );
            log.store.close().await;
        });
    }
    {
        let runtime = runtime();
        runtime.block_on(async {
            let log = open_log(scratch.path(), "tasks256", &key, &identity).await;
            let result = closed_loop(&log, 256, u64::MAX, Duration::from_secs(8), entry).await;
            report_load("256 tasks, 8 s", &result);
            log.store.close().await;
        });
    }
    {
        let runtime = runtime();
        runtime.block_on(async {
            let log = open_log(scratch.path(), "ordered", &key, &identity).await;
            let result = closed_loop(&log, 1024, 300_000, Duration::from_secs(60), entry_in_index_order).await;
            report_load("1024 tasks, 300,000 entries, targets in index order (contrast)", &result);
            log.store.close().await;
        });
    }
    {
        let runtime = runtime();
        runtime.block_on(async {
            let store = open_store(scratch.path(), "store-alone").await;
            let (entries, batch) = (300_000u64, 1024u64);
            let started = Instant::now();
            for first in (0..entries).step_by(batch as usize) {
                let appends: Vec<_> = (first..(first + batch).min(entries)).map(|n| ledger::to_append(&entry(n))).collect();
                store.append_ledger(&appends).await.unwrap();
            }
            let elapsed = started.elapsed();
            println!(
                "  the store alone (Store::append_ledger, batches of {batch}, no service), {} entries: {:.2} s = {} appends/s",
                thousands(entries as f64),
                elapsed.as_secs_f64(),
                thousands(entries as f64 / elapsed.as_secs_f64())
            );
            store.close().await;
        });
    }
    {
        // More callers than one commit takes (4096): while one batch commits, the callers the
        // last commit answered build their next entries, so the store and the rest overlap.
        let runtime = runtime();
        runtime.block_on(async {
            let log = open_log(scratch.path(), "callers8192", &key, &identity).await;
            let result = closed_loop(&log, 8192, large, Duration::from_secs(300), entry).await;
            report_load(&format!("8192 tasks, {} entries, fresh store", thousands(large as f64)), &result);
            log.store.close().await;
        });
    }
    let runtime = runtime();
    let log = runtime.block_on(async {
        let log = open_log(scratch.path(), "large", &key, &identity).await;
        let result = closed_loop(&log, 1024, large, Duration::from_secs(300), entry).await;
        report_load(&format!("1024 tasks, {} entries", thousands(large as f64)), &result);
        let queued_search = time_target_search(&log).await;
        // The targets those appends queued, moved into the search index as the node does once
        // the ledger is quiet (its own indexer may take some of the chunks; the work is the same).
        let indexing = Instant::now();
        let mut moved = 0;
        loop {
            let chunk = log.store.index_ledger_targets(ledger::INDEX_CHUNK_ENTRIES).await.unwrap();
            if chunk == 0 {
                break;
            }
            moved += chunk;
        }
        let indexing = indexing.elapsed();
        println!(
            "  then moving the queued targets into the search index ({} entries a transaction): {:.2} s ({} moved here); appends and indexing together: {} entries/s",
            thousands(ledger::INDEX_CHUNK_ENTRIES as f64),
            indexing.as_secs_f64(),
            thousands(moved as f64),
            thousands(large as f64 / (result.elapsed + indexing).as_secs_f64())
        );
        println!(
            "  one search by record (audit search --record), the queue full: {}; once indexed: {}",
            us(queued_search),
            us(time_target_search(&log).await)
        );
        let waited = Instant::now();
        let size = log.ledger.integrate_now().await.unwrap();
        println!(
            "  integrated and signed the remaining entries at the end in {}: log of {} entries",
            ms(waited.elapsed()),
            thousands(size as f64)
        );
        log
    });

    if std::env::var("LEDGER_BENCH_ONLY").as_deref() == Ok("appends") {
        return;
    }
    let checkpoint = runtime.block_on(async {
        let stored = log.store.latest_checkpoint().await.unwrap().unwrap();
        Checkpoint::parse(&Note::parse(stored.note.as_bytes()).unwrap().text).unwrap()
    });
    println!("\n2. Inclusion proofs from the store's tiles (log of {} entries)", thousands(checkpoint.size as f64));
    runtime.block_on(async {
        for (route, label) in [
            (TileRoute::Served, "tiles through audit_log::tile (the /log/tile/ code)"),
            (TileRoute::Direct, "tiles through Store::ledger_tile alone"),
        ] {
            let mut state = 0x9E37_79B9_7F4A_7C15u64;
            let mut latencies = Vec::new();
            let mut tiles_read = 0;
            let proofs = 2000;
            for round in 0..proofs {
                let index = next_random(&mut state) % checkpoint.size;
                let started = Instant::now();
                let (proof, tiles) = proof_from_store(log.store.as_ref(), index, checkpoint.size, route).await;
                latencies.push(started.elapsed());
                tiles_read += tiles;
                if round % 10 == 0 {
                    let row = log.store.ledger_entries(index, 1).await.unwrap().remove(0);
                    verify_inclusion(index, checkpoint.size, &leaf_hash(&row.body), &proof, &checkpoint.root).unwrap();
                }
            }
            println!(
                "  {label}: {proofs} random indices, {:.1} tiles per proof, no cache between proofs: {}",
                tiles_read as f64 / f64::from(proofs),
                distribution(latencies, us)
            );
        }
        println!("  (every 10th proof checked against the signed root: all valid)");
    });

    println!("\n3. Verifying the log of {} entries from scratch", thousands(checkpoint.size as f64));
    let published = scratch.path().join("published");
    runtime.block_on(async {
        let started = Instant::now();
        let size = audit_log::publish(log.store.as_ref(), &published).await.unwrap();
        println!(
            "  audit_log::publish wrote {} entries as static files in {:.2} s",
            thousands(size as f64),
            started.elapsed().as_secs_f64()
        );
    });
    let log_key = identity.verifier_key.to_string();
    std::fs::write(published.join("key"), format!("{log_key}\n")).unwrap();
    let verifier = LogVerifier { log_key: identity.verifier_key.clone(), witnesses: Vec::new() };
    let started = Instant::now();
    let report = verifier.verify(&mut Directory(published.clone()), None, &mut |_: u64, _: u64| {}).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(report.checkpoint.root, checkpoint.root);
    println!(
        "  LogVerifier::verify over the directory: {:.2} s ({} entries/s), root {}",
        seconds,
        thousands(report.checkpoint.size as f64 / seconds),
        report.checkpoint.root
    );
    let binary = release_binary();
    println!("  command: canvass audit verify --log {} --log-key {log_key}", published.display());
    if binary.exists() {
        let started = Instant::now();
        let output = std::process::Command::new(&binary)
            .args(["audit", "verify", "--log"])
            .arg(&published)
            .args(["--log-key", &log_key])
            .output()
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        println!("  {} (release binary): {:.2} s wall clock", binary.display(), seconds);
        println!("    {}", String::from_utf8_lossy(&output.stdout).trim());
    } else {
        println!("  {} not found: `cargo build --release -p canvass-cli` to time the CLI too", binary.display());
    }

    println!(
        "\n4. Append to inclusion in a signed checkpoint under steady load (on the log above; checkpoint polled every 2 ms)"
    );
    runtime.block_on(async {
        for rate in [20_000, 30_000] {
            let [acknowledged, issued_to_signed, acknowledged_to_signed] =
                latency_under_load(&log, rate, Duration::from_secs(8), 20).await;
            println!("    append issued -> acknowledged (durable): {}", distribution(acknowledged, ms));
            println!("    append issued -> in a signed checkpoint: {}", distribution(issued_to_signed, ms));
            println!("    acknowledged  -> in a signed checkpoint: {}", distribution(acknowledged_to_signed, ms));
        }
        log.store.close().await;
    });
}
