//! The write path where users meet it: a load generator publishing over
//! loopback HTTP to a log **server in another process** (the same
//! `serve`/`serve_handler` code `attestlog log serve` runs), v2 tile log and
//! v1 log in the same run, from a pool of distinct pre-signed requests
//! (P-256 `hashedRekordRequestV002` for v2, Ed25519 DSSE `dsse` proposals
//! for v1; signing is the client's work, done before the clock starts).
//!
//! For each API and each concurrency (1, 16, 64 requests in flight, each on
//! its own keep-alive connection): entries/s, latency (p50/p99), the server
//! process's CPU per entry (utime + stime from `/proc/PID/stat`), and bytes
//! on disk per entry. Printed as a table and written to
//! `target/attestlog-bench-http.md`; not criterion samples (one timed run
//! of a few seconds per row).
//!
//! Run alone: `cargo bench -p attestlog-benches --bench log -- log_http`.

use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use attest_dsse::{Algorithm, Envelope, SigningKey};
use attest_rekor::ProposedEntry;
use attest_rekor::v2::V2Request;
use http::Request;
use rekor_client::{Transport, UreqTransport};
use sha2::{Digest, Sha256};

const SERVE_ENV: &str = "ATTESTLOG_BENCH_SERVE";
const DIR_ENV: &str = "ATTESTLOG_BENCH_SERVE_DIR";
/// Seconds each row runs (after a one-second warm-up).
const RUN_SECS: u64 = 5;
const CONCURRENCY: [usize; 3] = [1, 16, 64];

/// In the child process: serve the log named by the environment, print its
/// address, serve until stdin closes. Returns false when not asked to.
pub(crate) fn serve_if_asked() -> bool {
    let Ok(api) = std::env::var(SERVE_ENV) else {
        return false;
    };
    let dir = PathBuf::from(std::env::var(DIR_ENV).unwrap());
    let key = SigningKey::ed25519_from_seed(&[42; 32]);
    let server = if api == "v2" {
        let log =
            attest_tlog::TileLog::open(&dir, key, attest_tlog::TileLogOptions::default()).unwrap();
        attest_tlog::serve_handler(
            attest_tlog::V2Services { log, tsa: None },
            "127.0.0.1:0",
            4096,
        )
        .unwrap()
    } else {
        let log =
            attest_tlog::LocalLog::open(&dir, key, attest_tlog::LogOptions::default()).unwrap();
        attest_tlog::serve(log, "127.0.0.1:0", 4096).unwrap()
    };
    println!("http://{}", server.local_addr());
    std::io::stdout().flush().unwrap();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    server.shutdown();
    true
}

/// The server process: stopped (stdin closed, then waited for) on drop.
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    fn start(api: &str, dir: &Path) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(SERVE_ENV, api)
            .env(DIR_ENV, dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Self {
            child,
            url: line.trim().to_owned(),
        }
    }

    /// utime + stime of the server process, in seconds.
    fn cpu_secs(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // Fields after the command name (which is in parentheses).
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
        ticks as f64 / 100.0 // USER_HZ
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Distinct pre-signed request bodies and the path they go to.
struct Pool {
    path: &'static str,
    bodies: Vec<Vec<u8>>,
}

fn v2_pool(n: usize, salt: u64) -> Pool {
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let bodies = (0..n)
        .map(|i| {
            let artifact = format!("artifact {salt} {i}");
            let digest: [u8; 32] = Sha256::digest(artifact.as_bytes()).into();
            V2Request::message(digest, key.sign(artifact.as_bytes()), key.public_key())
                .unwrap()
                .to_json()
        })
        .collect();
    Pool {
        path: attest_rekor::v2::CREATE_PATH,
        bodies,
    }
}

fn v1_pool(n: usize, salt: u64) -> Pool {
    let key = SigningKey::ed25519_from_seed(&[7; 32]);
    let pem = [key.public_key().to_pem()];
    let bodies = (0..n)
        .map(|i| {
            let payload = format!(
                "{{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{{\"name\":\"build-{salt}-{i}\",\"digest\":{{\"sha256\":\"{i:064x}\"}}}}],\"predicateType\":\"https://slsa.dev/provenance/v1\",\"predicate\":{{}}}}"
            );
            let env =
                Envelope::sign("application/vnd.in-toto+json", payload.into_bytes(), &[&key])
                    .unwrap();
            serde_json::to_vec(&ProposedEntry::dsse(&env.to_json(), &pem)).unwrap()
        })
        .collect();
    Pool {
        path: "/api/v1/log/entries",
        bodies,
    }
}

/// One row of the table.
struct Row {
    api: &'static str,
    in_flight: usize,
    entries: usize,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us: f64,
    disk_per_entry: f64,
    disk_note: String,
}

/// Posts the pool's requests from `in_flight` threads (one connection
/// each) for `RUN_SECS` after a warm-up second; the timed part's figures.
fn drive(server: &ServerProcess, pool: &Pool, in_flight: usize) -> (usize, f64, Vec<f64>, f64) {
    let next = AtomicUsize::new(0);
    let post = |t: &UreqTransport, body: &[u8]| -> Duration {
        let req = Request::builder()
            .method("POST")
            .uri(format!("{}{}", server.url, pool.path))
            .header("content-type", "application/json")
            .body(body.to_vec())
            .unwrap();
        let start = Instant::now();
        let resp = t.send(req, Duration::from_secs(30)).unwrap();
        let took = start.elapsed();
        assert_eq!(
            resp.status(),
            201,
            "{}",
            String::from_utf8_lossy(resp.body())
        );
        took
    };
    // Warm-up: connections opened, caches warm.
    let warm_until = Instant::now() + Duration::from_secs(1);
    let measure = |until: Instant, record: bool| -> Vec<Vec<f64>> {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..in_flight)
                .map(|_| {
                    let next = &next;
                    s.spawn(move || {
                        let t = UreqTransport::new();
                        let mut lat = Vec::new();
                        while Instant::now() < until {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(body) = pool.bodies.get(i) else {
                                break;
                            };
                            let d = post(&t, body);
                            if record {
                                lat.push(d.as_secs_f64() * 1e3);
                            }
                        }
                        lat
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    };
    measure(warm_until, false);
    let cpu0 = server.cpu_secs();
    let start = Instant::now();
    let lat: Vec<f64> = measure(start + Duration::from_secs(RUN_SECS), true)
        .into_iter()
        .flatten()
        .collect();
    let wall = start.elapsed().as_secs_f64();
    let cpu = server.cpu_secs() - cpu0;
    assert!(
        next.load(Ordering::Relaxed) < pool.bodies.len(),
        "the request pool ran out: make it larger"
    );
    (lat.len(), wall, lat, cpu)
}

/// Bytes of every file under `dir`; and of those that are partial tiles
/// superseded by a wider one of the same tile (kept for readers of older
/// checkpoints until the tile is full).
fn disk_bytes(dir: &Path) -> (u64, u64) {
    let mut total = 0;
    let mut partial: std::collections::BTreeMap<(PathBuf, String), Vec<(u16, u64)>> =
        std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                stack.push(e.path());
                continue;
            }
            total += meta.len();
            // `…/NNN.p/W`: a partial tile or bundle of width W.
            let p = e.path();
            if p.parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n.to_string_lossy().ends_with(".p"))
                && let Ok(w) = e.file_name().to_string_lossy().parse::<u16>()
            {
                let tile = p.parent().unwrap().to_path_buf();
                partial
                    .entry((tile, String::new()))
                    .or_default()
                    .push((w, meta.len()));
            }
        }
    }
    let superseded = partial
        .values()
        .map(|widths| {
            let widest = widths.iter().map(|(w, _)| *w).max().unwrap_or(0);
            widths
                .iter()
                .filter(|(w, _)| *w != widest)
                .map(|(_, b)| *b)
                .sum::<u64>()
        })
        .sum();
    (total, superseded)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn run_row(api: &'static str, in_flight: usize, pool: &Pool) -> Row {
    let dir = super::fresh(&format!("attestlog-bench-http-{api}-{in_flight}"));
    let server = ServerProcess::start(api, &dir);
    let (entries, wall, mut lat, cpu) = drive(&server, pool, in_flight);
    drop(server);
    lat.sort_by(f64::total_cmp);
    let written = next_written(&dir, api);
    let (total, superseded) = disk_bytes(&dir);
    // Removed after all rows: deleting tens of thousands of files just
    // before the next row would make that row's file creations pay for
    // it (ext4 without a journal scans recently freed inodes).
    Row {
        api,
        in_flight,
        entries,
        per_sec: entries as f64 / wall,
        p50_ms: percentile(&lat, 0.5),
        p99_ms: percentile(&lat, 0.99),
        cpu_us: cpu * 1e6 / entries as f64,
        disk_per_entry: (total - superseded) as f64 / written.max(1) as f64,
        disk_note: format!(
            "{:.0} B/entry with the current tile's superseded partials ({written} entries)",
            total as f64 / written.max(1) as f64
        ),
    }
}

/// Entries the log in `dir` holds (warm-up included).
fn next_written(dir: &Path, api: &str) -> u64 {
    if api == "v2" {
        attest_tlog::check_tile_log(dir)
            .map(|c| c.size)
            .unwrap_or(0)
    } else {
        attest_tlog::check(dir).map(|r| r.acknowledged).unwrap_or(0)
    }
}

/// The load rows, v2 and v1 interleaved per concurrency.
pub(crate) fn bench_http_load(_c: &mut criterion::Criterion) {
    // Criterion's filter: run only when it matches (or there is none).
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filter.is_empty() && !filter.iter().any(|f| "log_http".contains(f.as_str())) {
        return;
    }
    // Enough distinct requests for the fastest row (~10k/s × 6 s).
    let per_row = 80_000;
    let mut rows = Vec::new();
    // `ATTESTLOG_BENCH_HTTP_ROWS=v2:1,v1:64` runs only those rows.
    let only = std::env::var("ATTESTLOG_BENCH_HTTP_ROWS").ok();
    for (i, in_flight) in CONCURRENCY.into_iter().enumerate() {
        let n = if in_flight == 1 { 12_000 } else { per_row };
        for api in ["v2", "v1"] {
            if only
                .as_deref()
                .is_some_and(|o| !o.split(',').any(|r| r == format!("{api}:{in_flight}")))
            {
                continue;
            }
            let pool = if api == "v2" {
                v2_pool(n, i as u64)
            } else {
                v1_pool(n, i as u64)
            };
            let row = run_row(api, in_flight, &pool);
            println!(
                "log_http/{}/{} in flight: {} entries, {:.0} entries/s, p50 {:.2} ms, p99 {:.2} ms, server CPU {:.0} µs/entry, {:.0} B/entry on disk ({})",
                row.api,
                row.in_flight,
                row.entries,
                row.per_sec,
                row.p50_ms,
                row.p99_ms,
                row.cpu_us,
                row.disk_per_entry,
                row.disk_note
            );
            rows.push(row);
        }
    }
    let mut md = String::from(
        "| log | in flight | entries/s | p50 | p99 | server CPU/entry | disk/entry |\n| --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in &rows {
        md.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.0} µs | {:.0} B |\n",
            r.api, r.in_flight, r.per_sec, r.p50_ms, r.p99_ms, r.cpu_us, r.disk_per_entry
        ));
    }
    for api in ["v2", "v1"] {
        for in_flight in CONCURRENCY {
            let _ = std::fs::remove_dir_all(super::target_dir(&format!(
                "attestlog-bench-http-{api}-{in_flight}"
            )));
        }
    }
    let out = super::target_dir("attestlog-bench-http.md");
    std::fs::write(&out, &md).unwrap();
    println!("{md}(written to {})", out.display());
}
