//! Record and replay server for the scan-throughput benchmark (`connectors/aws/bench`).
//!
//! ```text
//! cc-replay record --upstream http://127.0.0.1:5000 --out rec.jsonl [--port N]
//! cc-replay replay --recording rec.jsonl [--recording more.jsonl] \
//!     [--latency eu-west-1=10,us-east-1=80,*=50] [--port N] [--threads N]
//! ```
//!
//! Each prints `listening on http://127.0.0.1:PORT` once bound and serves until killed.

use std::path::PathBuf;

use cloudcensus_faultproxy::replay::{LatencyTable, Recordings, record, replay};

const USAGE: &str = "usage: cc-replay record --upstream URL --out FILE [--port N]\n       cc-replay replay --recording FILE... [--latency REGION=MS,...,*=MS] [--port N] [--threads N]";

fn main() {
    if let Err(e) = run() {
        eprintln!("cc-replay: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(mode) = args.first() else {
        return Err(USAGE.into());
    };
    let (mut port, mut upstream, mut out, mut recordings, mut latency, mut threads) =
        (0u16, None, None, Vec::new(), String::new(), 1usize);
    let mut it = args[1..].iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--port" => port = value()?.parse().map_err(|_| "--port: not a port")?,
            "--upstream" => upstream = Some(value()?),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--recording" => recordings.push(PathBuf::from(value()?)),
            "--latency" => latency = value()?,
            "--threads" => threads = value()?.parse().map_err(|_| "--threads: not a number")?,
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let ready = |a: std::net::SocketAddr| println!("listening on http://{a}");
    match mode.as_str() {
        "record" => {
            let upstream = upstream.ok_or(format!("record needs --upstream\n{USAGE}"))?;
            let out = out.ok_or(format!("record needs --out\n{USAGE}"))?;
            rt.block_on(record(port, &upstream, &out, ready))
                .map_err(|e| e.to_string())
        }
        "replay" => {
            if recordings.is_empty() {
                return Err(format!("replay needs --recording\n{USAGE}"));
            }
            let recs = Recordings::load(&recordings)?;
            eprintln!("cc-replay: {} recorded requests", recs.len());
            let table = LatencyTable::parse(&latency)?;
            rt.block_on(replay(port, recs, table, ready))
                .map_err(|e| e.to_string())
        }
        other => Err(format!("unknown mode {other}\n{USAGE}")),
    }
}
