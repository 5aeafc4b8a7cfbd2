//! Access layer benchmarks (issue 5): what signing in costs (one Argon2id verification, and
//! sign-ins per second through `staff::check_password` on one and two threads), and what the
//! policy check, the ledger entry and the read monitor add to an authorized confidential read
//! (the same voter search alone and through the admin router with a clerk's API token).
//! A bench binary (`harness = false`): `cargo bench -p canvass-server --bench access`, about
//! 20 s once built. `ACCESS_BENCH_SEARCHES` changes the number of timed searches (default 2000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use canvass_core::{
    access::{Grant, Operation, StaffRole},
    config::NodeConfig,
    credential::Username,
    id::{JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
    voter::{VoterRecord, VoterStatus},
};
use canvass_crypto::{NodeSigningKey, PasswordHash, SecretString, hash_password, verify_password};
use canvass_server::{
    Node,
    access::{Principal, Via, issue_token},
    admin_app, keys,
    ledger::Audit,
    service, staff, voters,
};
use canvass_store::Store;
use canvass_store_sqlite::{OpenMode, SqliteStore};
use http_body_util::BodyExt;
use tokio::runtime::Runtime;
use tower::ServiceExt;

const PASSWORD: &str = "a long enough bench password";
const STATE: &str = "bench-state";
const COUNTY: &str = "bench-county";
const PRECINCT: &str = "bench-county-01";
/// Voters on the roll: 50 last names x 100 first names, each pair once.
const LAST_NAMES: usize = 50;
const FIRST_NAMES: usize = 100;
/// How long each sign-in throughput run lasts.
const THROUGHPUT_RUN: Duration = Duration::from_secs(5);

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

/// p50, p99 and max of a set of durations, sorted in place.
fn summary(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    samples.sort();
    (percentile(samples, 0.50), percentile(samples, 0.99), samples.last().copied().unwrap_or_default())
}

fn distribution(samples: &mut [Duration], unit: fn(Duration) -> String) -> String {
    let (p50, p99, max) = summary(samples);
    format!("p50 {}  p99 {}  max {}  (n = {})", unit(p50), unit(p99), unit(max), samples.len())
}

/// A letters-only word for `n`, so every generated name is distinct after normalisation.
fn word(stem: &str, n: usize) -> String {
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    format!("{stem}{}{}", letters[n / 26 % 26] as char, letters[n % 26] as char)
}

fn last_name(n: usize) -> String {
    word("Lastname", n % LAST_NAMES)
}

fn first_name(n: usize) -> String {
    word("Firstname", n / LAST_NAMES % FIRST_NAMES)
}

fn roll() -> Vec<VoterRecord> {
    let county = JurisdictionId::parse(COUNTY).unwrap();
    let precinct = PrecinctId::parse(PRECINCT).unwrap();
    (0..LAST_NAMES * FIRST_NAMES)
        .map(|n| VoterRecord {
            registration_number: format!("BN{n:08}"),
            county: county.clone(),
            precinct: precinct.clone(),
            first_name: Name::parse(&first_name(n)).unwrap(),
            last_name: Name::parse(&last_name(n)).unwrap(),
            party: ["DEM", "REP", "UNA", "LIB"][n % 4].to_owned(),
            status: VoterStatus::Active,
            registered_on: time::macros::date!(2020 - 01 - 01),
            birth_date: Some(time::macros::date!(1970 - 01 - 01) + time::Duration::days((n % 15_000) as i64)),
            ssn_last_four: Some(format!("{:04}", n % 10_000)),
            drivers_license: Some(format!("BNDL{n:08}")),
            email: Some(format!("voter{n}@example.invalid")),
        })
        .collect()
}

/// Sign-ins: the raw Argon2id check, then `staff::check_password` (account lookup, Argon2id on
/// the blocking pool) one at a time and with 1 and 2 callers for a fixed time.
fn sign_in(directory: &std::path::Path) {
    println!("\n1. Signing in: Argon2id password verification");
    let password = SecretString::from(PASSWORD);
    let hash = hash_password(&password).unwrap();
    println!("  stored hash parameters: {}", hash.as_str().split('$').nth(3).unwrap_or_default());
    let hash = PasswordHash::parse(hash.as_str()).unwrap();
    let mut raw: Vec<Duration> = (0..30)
        .map(|_| {
            let started = Instant::now();
            assert!(verify_password(&hash, &password));
            started.elapsed()
        })
        .collect();
    println!("  canvass_crypto::verify_password, one thread: {}", distribution(&mut raw, ms));

    let runtime = runtime();
    runtime.block_on(async {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&directory.join("sign-in.db"), OpenMode::Create).await.unwrap());
        let audit = Audit::operator(store.clone());
        let username = Username::parse("clerk").unwrap();
        staff::add_account(store.as_ref(), &audit, &username, None, SecretString::from(PASSWORD)).await.unwrap();
        let check = |store: Arc<dyn Store>, name: &'static str| async move {
            staff::check_password(store.as_ref(), name, SecretString::from(PASSWORD)).await
        };
        for _ in 0..3 {
            check(store.clone(), "clerk").await.unwrap();
        }
        let mut sequential = Vec::new();
        for _ in 0..30 {
            let started = Instant::now();
            check(store.clone(), "clerk").await.unwrap();
            sequential.push(started.elapsed());
        }
        println!("  staff::check_password, one at a time: {}", distribution(&mut sequential, ms));
        let mut unknown = Vec::new();
        for _ in 0..10 {
            let started = Instant::now();
            assert!(check(store.clone(), "nobody").await.is_err());
            unknown.push(started.elapsed());
        }
        println!("  the same for an unknown username (decoy hash): {}", distribution(&mut unknown, ms));

        for callers in [1, 2] {
            let stop = Arc::new(AtomicBool::new(false));
            let done = Arc::new(AtomicU64::new(0));
            let started = Instant::now();
            let workers: Vec<_> = (0..callers)
                .map(|_| {
                    let (store, stop, done) = (store.clone(), stop.clone(), done.clone());
                    tokio::spawn(async move {
                        while !stop.load(Ordering::Relaxed) {
                            staff::check_password(store.as_ref(), "clerk", SecretString::from(PASSWORD)).await.unwrap();
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            tokio::time::sleep(THROUGHPUT_RUN).await;
            stop.store(true, Ordering::Relaxed);
            for worker in workers {
                worker.await.unwrap();
            }
            let elapsed = started.elapsed();
            let count = done.load(Ordering::Relaxed);
            println!(
                "  sign-in throughput, {callers} concurrent caller{}: {:.1} checks/s ({count} in {:.1} s)",
                if callers == 1 { "" } else { "s" },
                count as f64 / elapsed.as_secs_f64(),
                elapsed.as_secs_f64()
            );
        }
        store.close().await;
    });
}

struct Fixture {
    node: Node,
    app: Router,
    token: String,
    principal: Principal,
    county: JurisdictionId,
}

async fn fixture(directory: &std::path::Path, voters_on_roll: &[VoterRecord]) -> Fixture {
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&directory.join("reads.db"), OpenMode::Create).await.unwrap());
    // Far above what the bench reads, so the read monitor never suspends the clerk.
    let config = NodeConfig::parse("[access.read_limits]\nregistration_clerk = 1000000\n").unwrap();
    let node = Node::start(store.clone(), NodeSigningKey::generate().unwrap(), config, false).await.unwrap();
    let audit = node.system_audit();
    let state = JurisdictionId::parse(STATE).unwrap();
    let county = JurisdictionId::parse(COUNTY).unwrap();
    for (id, name, kind, parent) in [
        (&state, "Bench State", JurisdictionKind::State, None),
        (&county, "Bench County", JurisdictionKind::County, Some(state.clone())),
    ] {
        let jurisdiction = Jurisdiction { id: id.clone(), name: Name::parse(name).unwrap(), kind, parent };
        service::add_jurisdiction(store.as_ref(), &audit, &jurisdiction).await.unwrap();
    }
    let precinct = Precinct {
        id: PrecinctId::parse(PRECINCT).unwrap(),
        jurisdiction: county.clone(),
        name: Name::parse("Bench 01").unwrap(),
    };
    service::add_precinct(store.as_ref(), &audit, &precinct).await.unwrap();
    let passphrase = SecretString::from("bench key ring passphrase");
    let ring =
        keys::create_key_ring(store.as_ref(), &audit, &county, passphrase, voters_on_roll.len() as u64).await.unwrap();
    node.keys().insert(county.clone(), ring).unwrap();
    voters::add_voters(store.as_ref(), &audit, node.keys(), &county, voters_on_roll).await.unwrap();

    let clerk = Username::parse("clerk").unwrap();
    staff::add_account(store.as_ref(), &audit, &clerk, None, SecretString::from(PASSWORD)).await.unwrap();
    let grant = Grant::permanent(StaffRole::RegistrationClerk, Some(county.clone()));
    staff::grant(store.as_ref(), &audit, &clerk, &grant).await.unwrap();
    let (stored, token) = issue_token(store.as_ref(), &audit, &clerk, &grant, "bench", 1).await.unwrap();
    let principal = Principal {
        username: clerk,
        grants: vec![grant],
        via: Via::Token { id: stored.id },
        second_factor_pending: false,
    };
    let app = admin_app(node.clone());
    Fixture { node, app, token, principal, county }
}

/// One confidential voter search through the admin router, as a clerk's machine sends it.
async fn search_through_router(fixture: &Fixture, n: usize) -> String {
    let request = Request::get(format!(
        "/api/jurisdictions/{COUNTY}/voters?last_name={}&first_name={}&confidential=true&reason=Benchmark",
        last_name(n),
        first_name(n)
    ))
    .header(header::AUTHORIZATION, format!("Bearer {}", fixture.token))
    .body(Body::empty())
    .unwrap();
    let response = fixture.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn search_alone(fixture: &Fixture, n: usize) -> usize {
    let store = fixture.node.store();
    voters::find_by_name(store, fixture.node.keys(), &fixture.county, &last_name(n), &first_name(n))
        .await
        .unwrap()
        .len()
}

/// The same searches alone and through the router, interleaved so both see the same machine,
/// plus the two pieces the router adds that cost most, each on its own.
fn confidential_reads(directory: &std::path::Path, searches: usize) {
    let roll = roll();
    println!("\n2. An authorized confidential read: voter search by name on an unsealed ring of {} voters", roll.len());
    let runtime = runtime();
    runtime.block_on(async {
        let started = Instant::now();
        let fixture = fixture(directory, &roll).await;
        println!(
            "  fixture (jurisdictions, key ring, {} voters sealed, clerk token): {:.1} s",
            roll.len(),
            started.elapsed().as_secs_f64()
        );
        let sample = search_through_router(&fixture, 7).await;
        assert!(sample.contains("BN00000007"), "{sample}");
        assert_eq!(search_alone(&fixture, 7).await, 1);
        let audit = Audit { ledger: fixture.node.ledger().clone(), actor: fixture.principal.actor(), request_id: None };
        for n in 0..100 {
            search_alone(&fixture, n).await;
            search_through_router(&fixture, n).await;
        }
        let (mut alone, mut routed, mut policy, mut ledger) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut step = 0x9e37_79b9_usize;
        for _ in 0..searches {
            // A different voter each time, spread over the roll.
            step = step.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let n = (step >> 8) % roll.len();

            let started = Instant::now();
            let found = search_alone(&fixture, n).await;
            alone.push(started.elapsed());
            assert_eq!(found, 1);

            let started = Instant::now();
            search_through_router(&fixture, n).await;
            routed.push(started.elapsed());

            let started = Instant::now();
            fixture
                .principal
                .authorize_now(&fixture.node, &audit, Operation::ReadVoters, Some(&fixture.county), None)
                .await
                .unwrap();
            policy.push(started.elapsed());

            let number = format!("BN{n:08}");
            let started = Instant::now();
            voters::record_reads(&audit, &fixture.county, None, std::iter::once(number.as_str())).await.unwrap();
            ledger.push(started.elapsed());
        }
        let (alone_p50, alone_p99, alone_max) = summary(&mut alone);
        let (routed_p50, routed_p99, routed_max) = summary(&mut routed);
        println!("  (n = {searches} each, one voter found per search, interleaved)");
        println!("  {:<66} {:>9} {:>9} {:>9}", "", "p50", "p99", "max");
        println!(
            "  {:<66} {:>9} {:>9} {:>9}",
            "voters::find_by_name alone",
            us(alone_p50),
            us(alone_p99),
            us(alone_max)
        );
        println!(
            "  {:<66} {:>9} {:>9} {:>9}",
            "GET /api/jurisdictions/{id}/voters through admin_app, clerk token",
            us(routed_p50),
            us(routed_p99),
            us(routed_max)
        );
        println!(
            "  {:<66} {:>9} {:>9}",
            "difference (router minus search alone)",
            us(routed_p50.saturating_sub(alone_p50)),
            us(routed_p99.saturating_sub(alone_p99))
        );
        println!("  of which, measured on their own:");
        let (policy_p50, policy_p99, policy_max) = summary(&mut policy);
        println!(
            "  {:<66} {:>9} {:>9} {:>9}",
            "  policy check (Principal::authorize_now, jurisdiction lineage)",
            us(policy_p50),
            us(policy_p99),
            us(policy_max)
        );
        let (ledger_p50, ledger_p99, ledger_max) = summary(&mut ledger);
        println!(
            "  {:<66} {:>9} {:>9} {:>9}",
            "  ledger entry (voters::record_reads, one durable voter.read)",
            us(ledger_p50),
            us(ledger_p99),
            us(ledger_max)
        );
        fixture.node.store().close().await;
    });
}

fn main() {
    let searches: usize =
        std::env::var("ACCESS_BENCH_SEARCHES").ok().and_then(|text| text.parse().ok()).unwrap_or(2000);
    let scratch = tempfile::Builder::new().prefix("canvass-access-bench").tempdir().unwrap();
    println!("Canvass access layer benchmarks (issue 5)");
    println!(
        "  SQLite stores in {} (WAL, synchronous=FULL); {} cores; tokio multi-threaded runtime",
        scratch.path().display(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    let started = Instant::now();
    sign_in(scratch.path());
    confidential_reads(scratch.path(), searches);
    println!("\n  total {:.0} s", started.elapsed().as_secs_f64());
}
