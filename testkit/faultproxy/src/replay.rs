//! Record and replay, for the scan-throughput benchmark (`connectors/aws/bench`).
//!
//! Against an emulator on loopback the emulator's own CPU, not the client, sets the
//! pace; against AWS every call waits tens to hundreds of milliseconds on the network.
//! So the benchmark records the emulator's answers to one full scan once ([`record`]:
//! a proxy in front of moto that appends every exchange to a file), then serves them
//! from memory ([`replay`]) with a latency per region read from each request's SigV4
//! credential scope. The replay server does a hash lookup per request, so its own CPU
//! per request is far below the latency it injects; it counts requests, misses and the
//! injected latency, and answers `GET /__replay/stats` with them as JSON;
//! `GET /__replay/timeline` lists every request (when it came, its latency, operation,
//! region and path), and `POST /__replay/reset` zeroes both.
//!
//! Requests are matched on what a read-only scan sends that identifies the call:
//! method, host without port, path, query (pairs sorted), `X-Amz-Target`, the SigV4
//! region and access key id (an assumed role's key names its account), and the body
//! (form bodies with their pairs sorted). Signatures, dates and invocation ids are left
//! out, so a client's second run matches its recorded first.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use crate::{Request, dechunk, find, forward, parse_upstream, read_request, reason};

/// Latency to inject per AWS region, in milliseconds, with a default for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyTable {
    by_region: BTreeMap<String, u64>,
    default_ms: u64,
}

impl LatencyTable {
    /// Parses `eu-west-1=10,us-east-1=80,*=50` (`*`: every other region; without it 0).
    pub fn parse(text: &str) -> Result<LatencyTable, String> {
        let mut t = LatencyTable {
            by_region: BTreeMap::new(),
            default_ms: 0,
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (region, ms) = part
                .split_once('=')
                .ok_or_else(|| format!("latency '{part}': write REGION=MILLISECONDS"))?;
            let ms: u64 = ms.trim().parse().map_err(|_| {
                format!("latency '{part}': '{ms}' is not a whole number of milliseconds")
            })?;
            match region.trim() {
                "*" => t.default_ms = ms,
                r => {
                    t.by_region.insert(r.to_string(), ms);
                }
            }
        }
        Ok(t)
    }

    /// The latency for a request sent to `region` (`None`: unsigned).
    pub fn for_region(&self, region: Option<&str>) -> u64 {
        region
            .and_then(|r| self.by_region.get(r))
            .copied()
            .unwrap_or(self.default_ms)
    }
}

/// Region and access key id from a SigV4 `Authorization` header
/// (`AWS4-HMAC-SHA256 Credential=AKID/20261203/eu-west-1/s3/aws4_request, ...`).
pub fn sigv4_scope(req: &Request) -> Option<(String, String)> {
    let auth = req.header("authorization")?;
    let cred = auth.split("Credential=").nth(1)?;
    let cred = cred.split([',', ' ']).next()?;
    let mut parts = cred.split('/');
    let key = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    Some((region, key))
}

/// The service of the SigV4 credential scope (`s3`, `ec2`, `sts`, ...).
fn sigv4_service(req: &Request) -> Option<String> {
    let auth = req.header("authorization")?;
    let cred = auth.split("Credential=").nth(1)?;
    cred.split([',', ' '])
        .next()?
        .split('/')
        .nth(3)
        .map(str::to_string)
}

/// `service:Operation` for the request log: the query or JSON protocol's action, for
/// S3 the REST call (`ListBuckets`, `GetBucketLocation`, ...).
pub fn operation(req: &Request) -> String {
    let service = sigv4_service(req).unwrap_or_else(|| "unsigned".into());
    let op = req.aws_operation().unwrap_or_else(|| {
        let path = req.path().trim_matches('/');
        let query = req.target.split_once('?').map(|(_, q)| q).unwrap_or("");
        let sub = query
            .split('&')
            .map(|kv| kv.split('=').next().unwrap_or(""))
            .find(|k| !k.is_empty() && !k.starts_with("x-id") && !k.contains('-'));
        match (req.method.as_str(), path.is_empty(), sub) {
            ("GET", true, _) => "ListBuckets".into(),
            ("GET", false, Some(sub)) => {
                let mut c = sub.chars();
                let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or_default();
                format!("GetBucket{first}{}", c.as_str())
            }
            (m, _, _) => format!("{m} /{path}"),
        }
    });
    format!("{service}:{op}")
}

fn sorted_pairs(text: &str) -> String {
    let mut pairs: Vec<&str> = text.split('&').filter(|p| !p.is_empty()).collect();
    pairs.sort_unstable();
    pairs.join("&")
}

/// The key a request is recorded and looked up under.
pub fn key(req: &Request) -> String {
    let host = req.header("host").unwrap_or("");
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let (region, access_key) = sigv4_scope(req).unwrap_or_default();
    let form = req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let body = req.body_text();
    let body = if form { sorted_pairs(&body) } else { body };
    format!(
        "{} {host}{path}?{} target={} region={region} key={access_key} body={body}",
        req.method,
        sorted_pairs(query),
        req.header("x-amz-target").unwrap_or("")
    )
}

/// One recorded answer.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Headers of a recorded answer that are replayed (the rest — date, length, server,
/// connection — are the replay server's own).
fn kept_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "content-type" || n.starts_with("x-amz")
}

/// Splits a raw HTTP answer into status, kept headers and (de-chunked) body.
fn parse_answer(raw: &[u8]) -> Option<Answer> {
    let end = find(raw, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut chunked = false;
    let mut headers = Vec::new();
    for (k, v) in lines.filter_map(|l| l.split_once(':')) {
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
        if kept_header(k) {
            headers.push((k.to_string(), v.to_string()));
        }
    }
    let body = if chunked {
        dechunk(&raw[end + 4..])
    } else {
        raw[end + 4..].to_vec()
    };
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// A proxy on `127.0.0.1:port` (0: a free port) in front of `upstream` that appends
/// every exchange to `out` as one JSON line (`key`, `op`, `status`, `headers`, `body`).
/// Calls `ready` with the bound address, then serves until the task is dropped.
pub async fn record(
    port: u16,
    upstream: &str,
    out: &Path,
    ready: impl FnOnce(std::net::SocketAddr),
) -> std::io::Result<()> {
    let upstream = Some(parse_upstream(upstream)?);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", out.display())))?;
    let file = Arc::new(Mutex::new(std::io::BufWriter::new(file)));
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    ready(listener.local_addr()?);
    loop {
        let (mut conn, _) = listener.accept().await?;
        let (up, file) = (upstream.clone(), file.clone());
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let Ok(Some((req, raw))) = read_request(&mut conn, &mut buf).await else {
                return;
            };
            let resp = forward(&up, &raw).await;
            if let Some(a) = parse_answer(&resp) {
                let line = json!({
                    "key": key(&req),
                    "op": operation(&req),
                    "status": a.status,
                    "headers": a.headers,
                    "body": String::from_utf8_lossy(&a.body),
                });
                let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
                let _ = writeln!(f, "{line}").and_then(|_| f.flush());
            }
            let _ = conn.write_all(&resp).await;
            let _ = conn.shutdown().await;
        });
    }
}

/// What the replay server counted since it started or was last reset.
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    misses: AtomicU64,
    /// Connections accepted: how many a client opened (its pool), not requests.
    connections: AtomicU64,
    latency_ms: AtomicU64,
    by_operation: Mutex<BTreeMap<String, u64>>,
    first_miss: Mutex<Option<String>>,
    /// Every request since the last reset: when it arrived (µs after the reset), its
    /// injected latency (ms), operation, SigV4 region and path. Where a client's time
    /// went.
    timeline: Mutex<Timeline>,
}

#[derive(Debug)]
struct Timeline {
    since: std::time::Instant,
    requests: Vec<(u64, u64, String, String, String)>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            since: std::time::Instant::now(),
            requests: Vec::new(),
        }
    }
}

impl Counters {
    fn json(&self) -> Value {
        json!({
            "requests": self.requests.load(Ordering::SeqCst),
            "misses": self.misses.load(Ordering::SeqCst),
            "connections": self.connections.load(Ordering::SeqCst),
            "latency_ms_sum": self.latency_ms.load(Ordering::SeqCst),
            "by_operation": *self.by_operation.lock().unwrap_or_else(|p| p.into_inner()),
            "first_miss": *self.first_miss.lock().unwrap_or_else(|p| p.into_inner()),
        })
    }

    fn reset(&self) {
        self.requests.store(0, Ordering::SeqCst);
        self.misses.store(0, Ordering::SeqCst);
        self.connections.store(0, Ordering::SeqCst);
        self.latency_ms.store(0, Ordering::SeqCst);
        self.by_operation
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        *self.first_miss.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.timeline.lock().unwrap_or_else(|p| p.into_inner()) = Timeline::default();
    }

    fn timeline_json(&self) -> Value {
        let t = self.timeline.lock().unwrap_or_else(|p| p.into_inner());
        Value::Array(
            t.requests
                .iter()
                .map(|(at, ms, op, region, path)| json!([at, ms, op, region, path]))
                .collect(),
        )
    }
}

/// Recorded answers by key (the first answer of a key wins).
pub struct Recordings(HashMap<String, Answer>);

impl Recordings {
    /// Loads the JSON lines [`record`] wrote; names the file and line of a bad one.
    pub fn load(files: &[PathBuf]) -> Result<Recordings, String> {
        let mut map = HashMap::new();
        for f in files {
            let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
                let bad = |why: &str| format!("{} line {}: {why}", f.display(), i + 1);
                let v: Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
                let key = v["key"].as_str().ok_or_else(|| bad("no key"))?.to_string();
                let status = v["status"].as_u64().ok_or_else(|| bad("no status"))? as u16;
                let headers = v["headers"]
                    .as_array()
                    .ok_or_else(|| bad("no headers"))?
                    .iter()
                    .filter_map(|h| Some((h[0].as_str()?.to_string(), h[1].as_str()?.to_string())))
                    .collect();
                let body = v["body"].as_str().ok_or_else(|| bad("no body"))?;
                map.entry(key).or_insert(Answer {
                    status,
                    headers,
                    body: body.as_bytes().to_vec(),
                });
            }
        }
        Ok(Recordings(map))
    }

    /// How many distinct requests are recorded.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Serves `recordings` on `127.0.0.1:port` (0: a free port) with `latency` added to
/// every answer, keeping connections alive as AWS does. Calls `ready` with the bound
/// address, then serves until the task is dropped. A request that was not recorded
/// gets a 599 naming its key, and counts as a miss.
pub async fn replay(
    port: u16,
    recordings: Recordings,
    latency: LatencyTable,
    ready: impl FnOnce(std::net::SocketAddr),
) -> std::io::Result<()> {
    let shared = Arc::new((recordings, latency, Counters::default()));
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    ready(listener.local_addr()?);
    loop {
        let (conn, _) = listener.accept().await?;
        let _ = conn.set_nodelay(true);
        shared.2.connections.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = serve_replay(conn, &shared).await;
        });
    }
}

async fn serve_replay(
    mut conn: TcpStream,
    shared: &(Recordings, LatencyTable, Counters),
) -> std::io::Result<()> {
    let (recordings, latency, counters) = shared;
    let mut buf = Vec::new();
    while let Some((req, _)) = read_request(&mut conn, &mut buf).await? {
        let close = req
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let answer = match (req.method.as_str(), req.path()) {
            ("GET", "/__replay/stats") => Answer {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: counters.json().to_string().into_bytes(),
            },
            ("GET", "/__replay/timeline") => Answer {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: counters.timeline_json().to_string().into_bytes(),
            },
            ("POST", "/__replay/reset") => {
                counters.reset();
                Answer {
                    status: 204,
                    headers: Vec::new(),
                    body: Vec::new(),
                }
            }
            _ => {
                let k = key(&req);
                let region = sigv4_scope(&req).map(|s| s.0);
                let ms = latency.for_region(region.as_deref());
                let op = operation(&req);
                counters.requests.fetch_add(1, Ordering::Relaxed);
                counters.latency_ms.fetch_add(ms, Ordering::Relaxed);
                {
                    let mut t = counters.timeline.lock().unwrap_or_else(|p| p.into_inner());
                    let at = t.since.elapsed().as_micros() as u64;
                    t.requests.push((
                        at,
                        ms,
                        op.clone(),
                        region.unwrap_or_default(),
                        req.path().to_string(),
                    ));
                }
                *counters
                    .by_operation
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(op)
                    .or_default() += 1;
                if ms > 0 {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                match recordings.0.get(&k) {
                    Some(a) => a.clone(),
                    None => {
                        counters.misses.fetch_add(1, Ordering::Relaxed);
                        let mut first = counters
                            .first_miss
                            .lock()
                            .unwrap_or_else(|p| p.into_inner());
                        first.get_or_insert_with(|| k.clone());
                        Answer {
                            status: 599,
                            headers: vec![("Content-Type".into(), "text/plain".into())],
                            body: format!("replay: not recorded: {k}").into_bytes(),
                        }
                    }
                }
            }
        };
        let mut head = format!("HTTP/1.1 {} {}\r\n", answer.status, reason(answer.status));
        for (k, v) in &answer.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: {}\r\n\r\n",
            answer.body.len(),
            if close { "close" } else { "keep-alive" }
        ));
        let mut out = head.into_bytes();
        out.extend_from_slice(&answer.body);
        conn.write_all(&out).await?;
        if close {
            break;
        }
    }
    conn.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            method: method.into(),
            target: target.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261203/ap-southeast-2/ec2/aws4_request, SignedHeaders=host, Signature=abc";

    #[test]
    fn the_latency_of_a_request_is_its_sigv4_regions_or_the_default() {
        let t = LatencyTable::parse("eu-west-1=10, ap-southeast-2=250,*=50").unwrap();
        let r = req("POST", "/", &[("authorization", AUTH)], "");
        assert_eq!(
            t.for_region(sigv4_scope(&r).as_ref().map(|s| s.0.as_str())),
            250
        );
        assert_eq!(t.for_region(Some("us-west-2")), 50);
        assert_eq!(t.for_region(None), 50);
        assert!(
            LatencyTable::parse("eu-west-1:10")
                .unwrap_err()
                .contains("REGION=MILLISECONDS")
        );
    }

    #[test]
    fn keys_ignore_signature_date_port_and_parameter_order_but_not_region_or_account() {
        let a = req(
            "POST",
            "/",
            &[
                ("host", "127.0.0.1:5000"),
                ("authorization", AUTH),
                ("x-amz-date", "20261203T010101Z"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            "Action=DescribeVolumes&Version=2016-11-15&NextToken=x",
        );
        let b = req(
            "POST",
            "/",
            &[
                ("host", "127.0.0.1:6000"),
                (
                    "authorization",
                    &AUTH.replace("Signature=abc", "Signature=def"),
                ),
                ("x-amz-date", "20261203T020202Z"),
                (
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                ),
            ],
            "NextToken=x&Action=DescribeVolumes&Version=2016-11-15",
        );
        assert_eq!(key(&a), key(&b));
        let other_region = req(
            "POST",
            "/",
            &[(
                "authorization",
                &AUTH.replace("ap-southeast-2", "eu-west-1"),
            )],
            "Action=DescribeVolumes&Version=2016-11-15&NextToken=x",
        );
        let other_account = req(
            "POST",
            "/",
            &[("authorization", &AUTH.replace("ASIAEXAMPLE", "ASIAOTHER"))],
            "Action=DescribeVolumes&Version=2016-11-15&NextToken=x",
        );
        assert_ne!(key(&a), key(&other_region));
        assert_ne!(key(&a), key(&other_account));
        assert_eq!(operation(&a), "ec2:DescribeVolumes");
    }

    #[test]
    fn s3_rest_calls_are_named_for_the_request_log() {
        let s3 = AUTH.replace("/ec2/", "/s3/");
        let h = [("authorization", s3.as_str())];
        assert_eq!(operation(&req("GET", "/", &h, "")), "s3:ListBuckets");
        assert_eq!(
            operation(&req("GET", "/b?location", &h, "")),
            "s3:GetBucketLocation"
        );
        assert_eq!(
            operation(&req(
                "GET",
                "/b?replication&x-id=GetBucketReplication",
                &h,
                ""
            )),
            "s3:GetBucketReplication"
        );
    }

    #[tokio::test]
    async fn a_recorded_exchange_is_replayed_on_a_kept_alive_connection_with_its_latency() {
        use tokio::io::AsyncReadExt;
        // Upstream: answers once, chunked, then closes.
        let up = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up_addr = up.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut c, _)) = up.accept().await {
                let mut b = vec![0u8; 4096];
                let _ = c.read(&mut b).await;
                let _ = c
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nx-amz-bucket-region: eu-west-1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n<a/>\n\r\n0\r\n\r\n")
                    .await;
            }
        });
        let dir = std::env::temp_dir().join(format!("cc-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("rec.jsonl");
        let _ = std::fs::remove_file(&file);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let f = file.clone();
        let rec = tokio::spawn(async move {
            record(0, &format!("http://{up_addr}"), &f, |a| {
                let _ = tx.send(a);
            })
            .await
        });
        let rec_addr = rec_addr_of(rx).await;
        let s3 = AUTH.replace("/ec2/", "/s3/");
        let request =
            format!("GET /b?location HTTP/1.1\r\nhost: {rec_addr}\r\nauthorization: {s3}\r\n\r\n");
        let mut c = TcpStream::connect(rec_addr).await.unwrap();
        c.write_all(request.as_bytes()).await.unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).await.unwrap();
        assert!(String::from_utf8_lossy(&got).contains("<a/>"));
        rec.abort();

        let recs = Recordings::load(std::slice::from_ref(&file)).unwrap();
        assert_eq!(recs.len(), 1);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let srv = tokio::spawn(async move {
            replay(
                0,
                recs,
                LatencyTable::parse("ap-southeast-2=120").unwrap(),
                |a| {
                    let _ = tx.send(a);
                },
            )
            .await
        });
        let addr = rec_addr_of(rx).await;
        let mut c = TcpStream::connect(addr).await.unwrap();
        let t0 = std::time::Instant::now();
        for _ in 0..2 {
            c.write_all(
                request
                    .replace(&rec_addr.to_string(), &addr.to_string())
                    .as_bytes(),
            )
            .await
            .unwrap();
            let mut b = vec![0u8; 4096];
            let mut text = String::new();
            while !text.contains("<a/>") {
                let n = c.read(&mut b).await.unwrap();
                assert!(n > 0, "connection closed: {text}");
                text.push_str(&String::from_utf8_lossy(&b[..n]));
            }
            assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
            assert!(text.contains("x-amz-bucket-region: eu-west-1"), "{text}");
            assert!(text.contains("Connection: keep-alive"), "{text}");
        }
        assert!(t0.elapsed() >= Duration::from_millis(240));
        let miss =
            format!("GET /c?location HTTP/1.1\r\nhost: {addr}\r\nauthorization: {s3}\r\n\r\n");
        c.write_all(miss.as_bytes()).await.unwrap();
        let mut b = vec![0u8; 4096];
        let n = c.read(&mut b).await.unwrap();
        assert!(String::from_utf8_lossy(&b[..n]).starts_with("HTTP/1.1 599"));
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /__replay/stats HTTP/1.1\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        let text = String::from_utf8_lossy(&got);
        let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["requests"], 3);
        assert_eq!(body["misses"], 1);
        // The client's one keep-alive connection, and this one.
        assert_eq!(body["connections"], 2);
        assert_eq!(body["latency_ms_sum"], 360);
        assert_eq!(body["by_operation"]["s3:GetBucketLocation"], 3);
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /__replay/timeline HTTP/1.1\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        let text = String::from_utf8_lossy(&got);
        let timeline: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        let rows = timeline.as_array().unwrap();
        assert_eq!(rows.len(), 3);
        // The second request waited for the first answer, 120 ms later.
        let gap = rows[1][0].as_u64().unwrap() - rows[0][0].as_u64().unwrap();
        assert!(gap >= 120_000, "{timeline}");
        assert_eq!(rows[0][1], 120);
        assert_eq!(rows[0][2], "s3:GetBucketLocation");
        assert_eq!(rows[0][3], "ap-southeast-2");
        assert_eq!(rows[0][4], "/b");
        srv.abort();
        let _ = std::fs::remove_dir_all(&dir);
    }

    async fn rec_addr_of(
        rx: tokio::sync::oneshot::Receiver<std::net::SocketAddr>,
    ) -> std::net::SocketAddr {
        rx.await.unwrap()
    }
}
