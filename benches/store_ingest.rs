//! Ingest benchmark: stream N synthetic resources into a fresh SQLite store as one scan.
//!
//! `cargo bench --bench store_ingest` runs 5 × 1 000 000 resources and prints each run and
//! the median (target ≥ 250 000 resources/s). The time covers hashing and inserting every
//! resource and the commit (fsync + WAL checkpoint); the synthetic generator feeds the
//! writer from a second thread through a bounded channel, as connectors will in a scan
//! (its own speed is printed first). Memory stays bounded because
//! resources are generated and written one at a time; the peak RSS of the process is
//! printed (or measure it with `/usr/bin/time -v`). Under `cargo test` (no `--bench`
//! argument) it runs once with 20 000 resources as a smoke test.
//!
//! **PostgreSQL**: with `STORE_INGEST_POSTGRES=postgresql://USER@HOST:PORT/postgres?…` (a
//! server the bench may create databases on; password from PGPASSWORD or a passfile) the
//! same runs go into PostgreSQL instead: each run a fresh database (dropped afterwards),
//! the resources through binary `COPY`, the time up to the committed transaction. Measure
//! against a server of its own with `fsync` on (the test server runs with it off). Under
//! `cargo test` the PostgreSQL path is smoke-tested on `CLOUDCENSUS_TEST_POSTGRES` too.
//!
//! Environment: `STORE_INGEST_N` (resources per run), `STORE_INGEST_RUNS`,
//! `STORE_INGEST_DIR` (where the temporary stores go; default the system temp dir),
//! `STORE_INGEST_POSTGRES`.

use std::time::Instant;

use cloudcensus::store;
use cloudcensus::synth::Synth;

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time (user + system) of the calling thread, from /proc (Linux).
fn thread_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0) // USER_HZ is 100 on Linux
}

/// Runs SQL on the server of `admin` (a URL naming its `postgres` database).
fn pg_exec(admin: &str, sql: &str) -> Vec<String> {
    let loc = cloudcensus::store::pgurl::PgLocation::parse(admin).expect("STORE_INGEST_POSTGRES");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, conn) = loc
            .config
            .connect(tokio_postgres::NoTls)
            .await
            .expect("connect to the PostgreSQL server");
        let h = tokio::spawn(conn);
        let rows = client
            .simple_query(sql)
            .await
            .expect(sql)
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(String::from),
                _ => None,
            })
            .collect();
        drop(client);
        let _ = h.await;
        rows
    })
}

/// `admin` with its database replaced by `db`.
fn pg_database_url(admin: &str, db: &str) -> String {
    let (head, query) = admin.split_once('?').unwrap_or((admin, ""));
    let base = head.rsplit_once('/').map_or(head, |(b, _)| b);
    if query.is_empty() {
        format!("{base}/{db}")
    } else {
        format!("{base}/{db}?{query}")
    }
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    // With STORE_INGEST_POSTGRES only PostgreSQL; a smoke run does both, on the test server.
    match std::env::var("STORE_INGEST_POSTGRES") {
        Ok(admin) => ingest(bench, Some(&admin)),
        Err(_) => {
            ingest(bench, None);
            if let (false, Ok(admin)) = (bench, std::env::var("CLOUDCENSUS_TEST_POSTGRES")) {
                ingest(bench, Some(&admin));
            }
        }
    }
}

/// The runs into SQLite (`postgres` = None) or into fresh databases on that server.
fn ingest(bench: bool, postgres: Option<&str>) {
    let backend = if postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("== {backend}");
    let n = env_u64("STORE_INGEST_N", if bench { 1_000_000 } else { 20_000 });
    let runs = env_u64("STORE_INGEST_RUNS", if bench { 5 } else { 1 }).max(1);
    let base = std::env::var_os("STORE_INGEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);

    // Generation alone, to separate it from the store's share.
    let synth = Synth::new(2026);
    let t = Instant::now();
    let mut bytes = 0usize;
    for r in synth.resources(n) {
        bytes += r.id.len();
    }
    let gen_secs = t.elapsed().as_secs_f64();
    println!(
        "generate only: {n} resources in {gen_secs:.3} s ({:.0}/s, {bytes} id bytes)",
        n as f64 / gen_secs
    );

    let mut rates = Vec::new();
    let mut cpu_rates = Vec::new();
    for run in 1..=runs {
        let dir = tempfile::tempdir_in(&base).expect("temp dir");
        let db = format!("bench_ingest_{}_{run}", std::process::id());
        let path = match postgres {
            Some(admin) => {
                pg_exec(admin, &format!("CREATE DATABASE {db}"));
                std::path::PathBuf::from(pg_database_url(admin, &db))
            }
            None => dir.path().join("bench.db"),
        };
        let mut st = store::open_or_create(&path).expect("store");
        let t = Instant::now();
        let cpu0 = thread_cpu_secs();
        let mut w = st.begin_scan(synth.meta("2026-03")).expect("begin");
        for s in synth.scopes() {
            w.add_scope(&s).expect("scope");
        }
        // The generator runs in its own thread, as connectors do in a real scan, and hands
        // over chunks of 1 000 resources through a bounded channel: memory stays flat.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<_>>(4);
        let producer = std::thread::spawn(move || {
            let mut chunk = Vec::with_capacity(1000);
            for r in synth.resources(n) {
                chunk.push(r);
                if chunk.len() == 1000 && tx.send(std::mem::take(&mut chunk)).is_err() {
                    return;
                }
            }
            let _ = tx.send(chunk);
        });
        for chunk in rx {
            for r in &chunk {
                w.add_resource(r).expect("resource");
            }
        }
        producer.join().expect("generator");
        for c in synth.coverage() {
            w.add_coverage(&c).expect("coverage");
        }
        let c = w.commit().expect("commit");
        let secs = t.elapsed().as_secs_f64();
        let rate = n as f64 / secs;
        let cpu = cpu0.zip(thread_cpu_secs()).map(|(a, b)| b - a);
        let size = match postgres {
            Some(admin) => pg_exec(admin, &format!("SELECT pg_database_size('{db}')"))
                .first()
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0),
            None => {
                std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
                    + std::fs::metadata(path.with_extension("db-wal"))
                        .map(|m| m.len())
                        .unwrap_or(0)
            }
        };
        println!(
            "run {run}: {n} resources in {secs:.3} s = {rate:.0} resources/s ({backend} {:.0} MiB, scan {}, load {})",
            size as f64 / 1048576.0,
            c.id,
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
        );
        drop(st);
        if let Some(admin) = postgres {
            pg_exec(admin, &format!("DROP DATABASE {db}"));
        }
        if let Some(cpu) = cpu {
            println!(
                "       writer thread CPU {cpu:.3} s = {:.0} resources per CPU-second",
                n as f64 / cpu
            );
            cpu_rates.push(n as f64 / cpu);
        }
        assert_eq!(c.resources, n);
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!("{backend}: median of {runs}: {median:.0} resources/s wall clock (target >= 250000)");
    if !cpu_rates.is_empty() {
        cpu_rates.sort_by(f64::total_cmp);
        println!(
            "median of {runs}: {:.0} resources per writer-CPU-second (wall clock is lower when the machine is shared: load {})",
            cpu_rates[cpu_rates.len() / 2],
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
}
