//! The public "Am I registered?" lookup under load (issue 6): latency p50/p99 and requests per
//! second on a roll of 1,000,000 voters, from a load generator on loopback.
//!
//! `cargo bench -p canvass-server --bench lookup`. It writes a seeded NC-layout file
//! (`LOOKUP_BENCH_VOTERS`, default 1,000,000), imports it through the real import path into a
//! fresh SQLite store (sealed, blind-indexed), starts the node's public listener on
//! 127.0.0.1 with the lookup's rate limits raised (`[lookup]`, as an office behind one address
//! would set them), and runs a closed-loop load: `LOOKUP_BENCH_CONNECTIONS` keep-alive
//! connections (default 8), each sending `POST /api/public/registration` one after another for
//! `LOOKUP_BENCH_SECONDS` (default 10), half for voters on the roll and half for the same names
//! with a wrong date of birth. The client is a minimal HTTP/1.1 writer and reader here, so the
//! figures measure the node, not a client library. It stops by itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    collections::HashMap,
    io::BufReader,
    net::SocketAddr,
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use canvass_core::{config::NodeConfig, jurisdiction::JurisdictionKind};
use canvass_crypto::NodeSigningKey;
use canvass_formats::ncvoter::NcVoterReader;
use canvass_server::{Node, public_app, roll::county_key};
use canvass_store::Store;
use canvass_store_sqlite::{OpenMode, SqliteStore};
use support::{generate_file, import_state_roll, variable};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Request bodies: every `step`th voter of the file, as found, and again with the next day as
/// the date of birth (a miss).
fn request_bodies(file: &Path, step: u64, counties: &HashMap<String, String>) -> Vec<String> {
    let reader = NcVoterReader::new(BufReader::new(std::fs::File::open(file).unwrap())).unwrap();
    let mut bodies = Vec::new();
    for (number, row) in reader.enumerate() {
        if !(number as u64).is_multiple_of(step) {
            continue;
        }
        let Ok(record) = row else { continue };
        let Some(birth_date) = record.birth_date else { continue };
        let Some(county) = counties.get(&county_key(record.get("county_desc"))) else { continue };
        for date in [birth_date, birth_date.next_day().unwrap()] {
            bodies.push(
                serde_json::json!({
                    "first_name": record.get("first_name"),
                    "last_name": record.get("last_name"),
                    "birth_date": date.to_string(),
                    "county": county,
                })
                .to_string(),
            );
        }
    }
    bodies
}

/// Sends one request on the connection and reads the whole answer; returns its status.
async fn exchange(stream: &mut TcpStream, request: &[u8], buffer: &mut Vec<u8>) -> u16 {
    stream.write_all(request).await.unwrap();
    buffer.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let read = stream.read(&mut chunk).await.unwrap();
        assert!(read > 0, "the server closed the connection");
        buffer.extend_from_slice(&chunk[..read]);
        let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") else { continue };
        let head = std::str::from_utf8(&buffer[..end]).unwrap();
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().unwrap())
            })
            .expect("answers carry Content-Length");
        if buffer.len() >= end + 4 + length {
            return head[9..12].parse().unwrap();
        }
    }
}

/// One connection's closed loop: latencies and statuses until `until`.
async fn connection(
    address: SocketAddr,
    bodies: Arc<Vec<String>>,
    offset: usize,
    until: Instant,
) -> Vec<(Duration, u16)> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut buffer = Vec::new();
    let mut samples = Vec::new();
    let mut next = offset;
    while Instant::now() < until {
        let body = &bodies[next % bodies.len()];
        next += 7;
        let request = format!(
            "POST /api/public/registration HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let started = Instant::now();
        let status = exchange(&mut stream, request.as_bytes(), &mut buffer).await;
        samples.push((started.elapsed(), status));
    }
    samples
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    sorted[((sorted.len() as f64 * fraction) as usize).min(sorted.len() - 1)]
}

fn main() {
    let rows = variable("LOOKUP_BENCH_VOTERS", 1_000_000);
    let connections = variable("LOOKUP_BENCH_CONNECTIONS", 8) as usize;
    let seconds = variable("LOOKUP_BENCH_SECONDS", 10);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("ncvoter-bench.tsv");
    generate_file(&file, rows);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&work.path().join("canvass.db"), OpenMode::Create).await.unwrap());
        let (elapsed, counts, state, ring) = import_state_roll(&store, &file, rows).await;
        assert_eq!(counts.inserted, rows, "{counts:?}");
        println!("imported {rows} voters in {:.1} s", elapsed.as_secs_f64());
        let counties: HashMap<String, String> = store
            .jurisdictions()
            .await
            .unwrap()
            .into_iter()
            .filter(|jurisdiction| jurisdiction.kind == JurisdictionKind::County)
            .map(|county| (county_key(county.name.as_str()), county.id.to_string()))
            .collect();
        let bodies = Arc::new(request_bodies(&file, (rows / 10_000).max(1), &counties));
        assert!(!bodies.is_empty(), "voters with a birth date in a known county: counties {counties:?}");
        println!("{} request bodies (half on the roll, half with a wrong date of birth)", bodies.len());

        let config = NodeConfig::parse("[lookup]\nper_address_per_minute = 1000000\nper_identity_per_hour = 1000000")
            .unwrap();
        let node = Node::start(store.clone(), NodeSigningKey::generate().unwrap(), config, false).await.unwrap();
        node.keys().insert(state, ring).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = public_app(node).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });

        // Warm-up: the page cache and the key ring's first use.
        let warm = connection(address, bodies.clone(), 0, Instant::now() + Duration::from_secs(1)).await;
        assert!(warm.iter().all(|(_, status)| *status == 200), "warm-up answers are 200");

        let until = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let tasks: Vec<_> = (0..connections)
            .map(|number| tokio::spawn(connection(address, bodies.clone(), number * 1000 + 1, until)))
            .collect();
        let mut samples = Vec::new();
        for task in tasks {
            samples.extend(task.await.unwrap());
        }
        let elapsed = started.elapsed();
        let refused = samples.iter().filter(|(_, status)| *status != 200).count();
        assert_eq!(refused, 0, "every lookup is answered 200");
        let mut latencies: Vec<Duration> = samples.iter().map(|(latency, _)| *latency).collect();
        latencies.sort();
        println!(
            "{connections} connections, {:.1} s, {} voters: {} lookups = {:.0} requests/s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            elapsed.as_secs_f64(),
            rows,
            latencies.len(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.9).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            latencies.last().unwrap().as_secs_f64() * 1000.0,
        );
    });
}
