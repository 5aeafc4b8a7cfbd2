//! Election-night results under load (issue 7): the current summary (JSON and HTML) served by
//! the node's public listener against nginx serving the identical bytes as static files, in the
//! same run, alternating; then the time from a county's changed returns to its snapshot being
//! served, and peak memory.
//!
//! `cargo bench -p canvass-server --bench results_serving`. It generates the state-size sample
//! election (100 counties, 2,700 precincts, 60 contests) with full returns, publishes it through
//! `results_publish::publish` into a fresh SQLite store with the real pages (`results_site::pages`:
//! summary, change history, contest, county and precinct pages), serves it with the listeners
//! `canvass serve` runs (`listen::start`: tokio, multi-threaded, the public listener's hot path) on
//! 127.0.0.1, writes the same snapshot with `write_site` and serves that
//! directory with nginx twice on other loopback ports: tuned (`worker_processes auto`,
//! `gzip_static on`, `open_file_cache`, `access_log off`) and stock (Debian's own nginx.conf
//! settings, access log on, plus `gzip_static on` so it answers the identical bytes). wrk (`-t2 -c64`, `RESULTS_BENCH_SECONDS` per
//! run, default 10, `RESULTS_BENCH_ROUNDS` rounds, default 3) asks both for the summary JSON and
//! the summary HTML with `Accept-Encoding: gzip`. Then `RESULTS_BENCH_UPDATES` times (default 5)
//! one county's returns change and the election is published again; the time is from the
//! publish call to `current.json` answering with the new sequence over HTTP. Needs `nginx` and
//! `wrk` (Debian packages, which scripts/bench installs); load goes only to 127.0.0.1 and stops
//! by itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use canvass_core::{
    config::NodeConfig,
    results::ElectionResults,
    results_sample::{SampleShape, sample_election},
};
use canvass_crypto::NodeSigningKey;
use canvass_server::{Node, results_publish, results_verify};
use canvass_store::Store;
use canvass_store_sqlite::{OpenMode, SqliteStore};

fn variable(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn results() -> ElectionResults {
    let sample = sample_election(SampleShape::STATE, time::macros::date!(2026 - 11 - 03), 2026).unwrap();
    ElectionResults {
        definition: sample.definition,
        returns: sample
            .returns
            .into_iter()
            .map(|precinct_return| (precinct_return.precinct.clone(), precinct_return))
            .collect(),
        registered: sample.registered,
        changes: Vec::new(),
    }
}

/// One county's precincts report more election-day votes for every first choice.
fn change_county(results: &mut ElectionResults, county_index: usize, extra: u64) {
    let county = results.definition.counties[county_index % results.definition.counties.len()].id.clone();
    let sequence = results.changes.len() as u64 + 1;
    results.changes.push(canvass_core::results::ResultsChange {
        sequence,
        at: time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
        county: Some(county.clone()),
        precincts: Vec::new(),
        kind: canvass_core::results::ChangeKind::Correction { reason: "bench".into() },
    });
    let precincts: Vec<_> = results
        .definition
        .precincts
        .iter()
        .filter(|precinct| precinct.jurisdiction == county)
        .map(|precinct| precinct.id.clone())
        .collect();
    for precinct in precincts {
        let Some(precinct_return) = results.returns.get_mut(&precinct) else { continue };
        for contest in &mut precinct_return.contests {
            if let Some(first) = contest.choices.first_mut() {
                first.total += extra;
                if first.is_split() {
                    first.by_type[0] += extra;
                }
            }
        }
        if let Some(ballots) = &mut precinct_return.ballots_cast {
            ballots.total += extra;
            if ballots.is_split() {
                ballots.by_type[0] += extra;
            }
        }
    }
}

/// How the reference nginx is set up: `Tuned` is the fastest static set-up we know (no access
/// log, an open-file cache, unlimited keep-alive requests); `Stock` is Debian's own
/// `/etc/nginx/nginx.conf` as the package installs it (access log on, 768 connections a worker,
/// the default 1,000 requests per keep-alive connection, no open-file cache), with only
/// `gzip_static on` added so it answers the identical precompressed bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NginxSetup {
    Tuned,
    Stock,
}

impl NginxSetup {
    fn name(self) -> &'static str {
        match self {
            Self::Tuned => "tuned",
            Self::Stock => "stock",
        }
    }

    fn http_directives(self, work: &Path) -> String {
        match self {
            Self::Tuned => "access_log off;\n\
                 sendfile on;\n\
                 tcp_nopush on;\n\
                 keepalive_requests 1000000;\n\
                 open_file_cache max=10000 inactive=60s;\n\
                 open_file_cache_valid 60s;\n\
                 gzip_static on;\n\
                 etag on;\n"
                .to_owned(),
            Self::Stock => format!(
                "sendfile on;\n\
                 tcp_nopush on;\n\
                 types_hash_max_size 2048;\n\
                 default_type application/octet-stream;\n\
                 access_log {access};\n\
                 gzip on;\n\
                 gzip_static on;\n",
                access = work.join("access.log").display()
            ),
        }
    }

    fn worker_connections(self) -> u32 {
        match self {
            Self::Tuned => 1024,
            Self::Stock => 768,
        }
    }
}

fn start_nginx(root: &Path, port: u16, work: &Path, setup: NginxSetup) -> Child {
    let work = work.join(format!("nginx-{}", setup.name()));
    std::fs::create_dir_all(&work).unwrap();
    let config = work.join("nginx.conf");
    std::fs::write(
        &config,
        format!(
            "worker_processes auto;\n\
             daemon off;\n\
             pid {pid};\n\
             error_log {error} warn;\n\
             events {{ worker_connections {connections}; }}\n\
             http {{\n\
               include /etc/nginx/mime.types;\n\
               {directives}\
               client_body_temp_path {work}/body;\n\
               proxy_temp_path {work}/proxy;\n\
               fastcgi_temp_path {work}/fastcgi;\n\
               uwsgi_temp_path {work}/uwsgi;\n\
               scgi_temp_path {work}/scgi;\n\
               server {{\n\
                 listen 127.0.0.1:{port};\n\
                 location /results/ {{ alias {root}/; }}\n\
               }}\n\
             }}\n",
            pid = work.join("nginx.pid").display(),
            error = work.join("nginx-error.log").display(),
            connections = setup.worker_connections(),
            directives = setup.http_directives(&work),
            work = work.display(),
            root = root.display(),
        ),
    )
    .unwrap();
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&config)
        .arg("-p")
        .arg(&work)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cannot run nginx: install the Debian package nginx (scripts/bench does)");
    std::thread::sleep(Duration::from_millis(500));
    child
}

struct Run {
    requests_per_second: f64,
    p99_ms: f64,
}

fn wrk(url: &str, seconds: u64) -> Run {
    let output = Command::new("wrk")
        .args(["-t2", "-c64", &format!("-d{seconds}s"), "--latency", "-H", "Accept-Encoding: gzip", url])
        .output()
        .expect("cannot run wrk: install the Debian package wrk (scripts/bench does)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("Non-2xx"), "{url} answered errors:\n{text}");
    let requests_per_second = text
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{text}"));
    let p99 = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("99%"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no 99% latency in wrk's output:\n{text}"));
    Run { requests_per_second, p99_ms: milliseconds(p99) }
}

fn milliseconds(text: &str) -> f64 {
    let (number, unit) =
        text.split_at(text.find(|character: char| character.is_ascii_alphabetic()).unwrap_or(text.len()));
    let number: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        _ => f64::NAN,
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with("VmHWM"))
        .map(|line| line.trim_start_matches("VmHWM:").trim().to_owned())
        .unwrap_or_default()
}

fn main() {
    let seconds = variable("RESULTS_BENCH_SECONDS", 10);
    let rounds = variable("RESULTS_BENCH_ROUNDS", 3);
    let updates = variable("RESULTS_BENCH_UPDATES", 5);
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("results_serving-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let started = Instant::now();
        let mut results = results();
        println!("generated the state-size election in {:.2?}", started.elapsed());
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&work.join("canvass.db"), OpenMode::Create).await.unwrap());
        let signing_key = NodeSigningKey::generate().unwrap();
        let public_key = signing_key.public_key();
        let node = Node::start(store.clone(), signing_key, NodeConfig::parse("").unwrap(), false).await.unwrap();
        let audit = node.system_audit();
        let started = Instant::now();
        let first = results_publish::publish(&node, &audit, &results, &canvass_server::results_site::pages).await.unwrap();
        println!("first publication: {} files, {} bodies, in {:.2?}", first.files, first.new_bodies, started.elapsed());

        // The listeners `canvass serve` runs, hot path and all.
        let loopback: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
        let listeners = canvass_server::listen::start(node.clone(), loopback, loopback).unwrap();
        let address = listeners.public;

        let site = work.join("site");
        results_verify::write_site(store.as_ref(), &first.election, &public_key, &site).await.unwrap();
        let size = Command::new("du").args(["-sb"]).arg(site.join(first.election.as_str())).output().unwrap();
        println!("written site (with .gz and .br): {} bytes", String::from_utf8_lossy(&size.stdout).split_whitespace().next().unwrap_or("?"));
        let free_port = || {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let setups = [NginxSetup::Tuned, NginxSetup::Stock];
        let mut nginx: Vec<(NginxSetup, u16, Child)> = setups
            .iter()
            .map(|&setup| {
                let port = free_port();
                (setup, port, start_nginx(&site, port, &work, setup))
            })
            .collect();
        let election = first.election.as_str().to_owned();
        let path = |file: &str| format!("/results/{election}/s/{}/{file}", first.sequence);

        // The same bytes from all of them.
        let agent = ureq::Agent::new_with_defaults();
        for file in ["summary.json", "index.html"] {
            let ours = agent.get(&format!("http://{address}{}", path(file))).call().unwrap().body_mut().read_to_vec().unwrap();
            for (setup, port, _) in &nginx {
                let mut theirs = agent.get(&format!("http://127.0.0.1:{port}{}", path(file))).call().unwrap();
                assert_eq!(ours, theirs.body_mut().read_to_vec().unwrap(), "{file} differs from nginx ({})", setup.name());
            }
        }

        // Calibration: a bare axum handler answering the same gzip bytes, no middleware.
        let bare_address = {
            let mut gzipped = agent
                .get(&format!("http://127.0.0.1:{}{}", nginx[0].1, path("summary.json")))
                .header("accept-encoding", "gzip")
                .call()
                .unwrap();
            let body = axum::body::Bytes::from(gzipped.body_mut().with_config().limit(u64::MAX).read_to_vec().unwrap());
            let bare = axum::Router::new().fallback(move || {
                let body = body.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json"), (axum::http::header::CONTENT_ENCODING, "gzip")],
                        body,
                    )
                }
            });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let bare_address = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, bare).await });
            bare_address
        };
        let runs = |values: &[f64]| values.iter().map(|value| value.round() as u64).collect::<Vec<_>>();
        let mut report = String::new();
        let mut bare = Vec::new();
        for _ in 0..rounds {
            bare.push(tokio::task::block_in_place(|| wrk(&format!("http://{bare_address}/"), seconds)).requests_per_second);
        }
        let bare_median = median(&mut bare);
        let line = format!("bare axum handler, same summary JSON gzip bytes: {bare_median:.0} req/s (runs {:?})", runs(&bare));
        println!("{line}");
        report.push_str(&line);
        report.push('\n');
        for (file, label) in [("summary.json", "summary JSON"), ("index.html", "summary HTML")] {
            let mut canvass = (Vec::new(), Vec::new());
            let mut references: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); nginx.len()];
            for _ in 0..rounds {
                let run = tokio::task::block_in_place(|| wrk(&format!("http://{address}{}", path(file)), seconds));
                canvass.0.push(run.requests_per_second);
                canvass.1.push(run.p99_ms);
                for ((_, port, _), reference) in nginx.iter().zip(&mut references) {
                    let run = tokio::task::block_in_place(|| wrk(&format!("http://127.0.0.1:{port}{}", path(file)), seconds));
                    reference.0.push(run.requests_per_second);
                    reference.1.push(run.p99_ms);
                }
            }
            let ours = median(&mut canvass.0);
            let mut line = format!("{label} (gzip): canvass {ours:.0} req/s (runs {:?}), p99 {:.2} ms", runs(&canvass.0), median(&mut canvass.1));
            for ((setup, _, _), reference) in nginx.iter().zip(&mut references) {
                let theirs = median(&mut reference.0);
                line.push_str(&format!(
                    "; nginx {} {theirs:.0} req/s (runs {:?}), p99 {:.2} ms, ratio {:.2} (bare axum {:.2})",
                    setup.name(),
                    runs(&reference.0),
                    median(&mut reference.1),
                    ours / theirs,
                    bare_median / theirs,
                ));
            }
            println!("{line}");
            report.push_str(&line);
            report.push('\n');
        }
        for (_, _, child) in &mut nginx {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(work.join("nginx-stock").join("access.log"));

        // A county uploads: its returns change, and the election is published again.
        let mut timings = Vec::new();
        for update in 0..updates {
            change_county(&mut results, usize::try_from(update).unwrap() * 7, 3);
            let started = Instant::now();
            let info = results_publish::publish(&node, &audit, &results, &canvass_server::results_site::pages).await.unwrap();
            let pointer = agent.get(&format!("http://{address}/results/{election}/current.json")).call().unwrap().body_mut().read_to_string().unwrap();
            let elapsed = started.elapsed();
            assert!(pointer.contains(&format!("\"sequence\":{}", info.sequence)), "{pointer}");
            println!("county update {}: {} new bodies of {} files, served after {:.0?}", update + 1, info.new_bodies, info.files, elapsed);
            timings.push(elapsed.as_secs_f64() * 1000.0);
        }
        let mut sorted = timings.clone();
        let line = format!(
            "county upload to snapshot served: median {:.0} ms (runs {:?} ms)\npeak memory (VmHWM) of the bench process: {}",
            median(&mut sorted),
            timings.iter().map(|value| value.round() as u64).collect::<Vec<_>>(),
            peak_memory()
        );
        println!("{line}");
        report.push_str(&line);
        println!("\n{report}");
    });
    let _ = std::fs::remove_dir_all(&work);
}
