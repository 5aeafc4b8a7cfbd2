//! Benchmark: time from starting `canvass serve --demo` to `/healthz` answering, and the peak
//! resident memory of the demo server once idle. Runs the release binary several times and
//! reports the median and range. `cargo bench -p canvass-cli --bench startup`
// A benchmark harness: a failed expectation should stop the run loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const RUNS: usize = 10;
const IDLE: Duration = Duration::from_secs(3);

fn healthz_answers(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else { return false };
    if stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut reply = String::new();
    stream.read_to_string(&mut reply).is_ok() && reply.starts_with("HTTP/1.0 200")
}

/// A field of /proc/PID/status in kibibytes.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

struct Run {
    to_healthz: Duration,
    peak_kib: u64,
    idle_kib: u64,
}

fn one_run() -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_canvass"))
        .args(["serve", "--demo", "--public-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .env("CANVASS_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the canvass binary runs");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let address: SocketAddr = loop {
        let line = lines.next().expect("serve prints its addresses").expect("readable stdout");
        if let Some(url) = line.trim_start().strip_prefix("Public site:") {
            let url = url.trim().trim_start_matches("http://").trim_end_matches('/');
            break url.parse().expect("an IP:port");
        }
    };
    while !healthz_answers(address) {
        assert!(started.elapsed() < Duration::from_secs(60), "healthz never answered");
        std::thread::sleep(Duration::from_millis(2));
    }
    let to_healthz = started.elapsed();
    std::thread::sleep(IDLE);
    let run =
        Run { to_healthz, peak_kib: status_kib(child.id(), "VmHWM:"), idle_kib: status_kib(child.id(), "VmRSS:") };
    // SIGTERM, so the demo removes its temporary data dir.
    let _signalled = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _reaped = child.wait();
    run
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing and should not
    // spend half a minute here.
    if !std::env::args().any(|argument| argument == "--bench") {
        println!("startup benchmark: run with `cargo bench -p canvass-cli --bench startup`");
        return;
    }
    let runs: Vec<Run> = (0..RUNS).map(|_| one_run()).collect();
    let mut milliseconds: Vec<f64> = runs.iter().map(|run| run.to_healthz.as_secs_f64() * 1000.0).collect();
    let mut peaks: Vec<f64> = runs.iter().map(|run| run.peak_kib as f64 / 1024.0).collect();
    let mut idles: Vec<f64> = runs.iter().map(|run| run.idle_kib as f64 / 1024.0).collect();
    let range = |values: &[f64]| {
        let low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let high = values.iter().copied().fold(0.0, f64::max);
        format!("{low:.1}-{high:.1}")
    };
    println!("canvass serve --demo, {RUNS} runs, idle {} s before reading memory", IDLE.as_secs());
    println!("  start to /healthz 200: median {:.1} ms (range {} ms)", median(&mut milliseconds), range(&milliseconds));
    println!("  peak RSS (VmHWM):      median {:.1} MiB (range {} MiB)", median(&mut peaks), range(&peaks));
    println!("  idle RSS (VmRSS):      median {:.1} MiB (range {} MiB)", median(&mut idles), range(&idles));
}
