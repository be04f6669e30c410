//! A fault-injecting HTTP/1.1 proxy on 127.0.0.1, for the connectors' fault-matrix tests.
//!
//! Why a raw socket and not a mock server: a mock framework answers every request it
//! accepts, so it cannot reset a connection halfway through a response or accept a
//! request and never answer. This proxy sits in front of a real upstream (moto, or a
//! wiremock Resource Manager / Google API mock) and forwards requests unchanged (bytes
//! as sent, `Host` included, so signatures stay valid) unless a [`Rule`] matches; then
//! it injects the rule's [`Fault`] instead.
//!
//! Rules are tried in the order they were added; a rule applies a fixed number of
//! times ([`Times::N`]) or for ever ([`Times::Always`]), and counts its hits so a test
//! can assert that a retry really happened. Only HTTP/1.1 over plain TCP with
//! `Content-Length` request bodies is supported — what the SDKs send to an `http://`
//! endpoint.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub mod cloudcontrol;
pub mod cloudtrail;
pub mod replay;
pub mod resourceexplorer;

/// One request as the proxy read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query as sent (`/subscriptions?api-version=...`).
    pub target: String,
    /// Header names (lower-case) and values.
    pub headers: Vec<(String, String)>,
    /// The body (empty for GET).
    pub body: Vec<u8>,
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The AWS operation name: `Action=` of the query protocol (EC2, RDS, STS, ...) or
    /// the operation after the dot of `X-Amz-Target` (JSON protocol). `None` for REST
    /// protocols (S3, Lambda): match those by path.
    pub fn aws_operation(&self) -> Option<String> {
        if let Some(t) = self.header("x-amz-target") {
            return t.rsplit('.').next().map(str::to_string);
        }
        let body = self.body_text();
        let query = self.target.split_once('?').map(|(_, q)| q).unwrap_or("");
        body.split('&')
            .chain(query.split('&'))
            .find_map(|kv| kv.strip_prefix("Action="))
            .map(str::to_string)
    }
}

/// What to do instead of forwarding.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status, headers and body (a 429 with or without `Retry-After`,
    /// a 503, a provider error body).
    Status {
        /// HTTP status.
        status: u16,
        /// Extra headers (e.g. `Retry-After`).
        headers: Vec<(String, String)>,
        /// Body, sent with `Content-Type: application/json` unless a header says
        /// otherwise.
        body: String,
    },
    /// Read the request and reset the connection (TCP RST) without answering.
    Reset,
    /// Forward the request, send the first half of the upstream's answer (status line,
    /// headers, part of the body), then reset the connection.
    ResetMidResponse,
    /// Accept the request and never answer (the connection stays open).
    Hang,
    /// Wait this long, then forward.
    Delay(Duration),
    /// Forward, then answer with the upstream's status and the first half of its body
    /// (a consistent `Content-Length`: the client gets a complete but invalid JSON page).
    TruncateBody,
    /// Answer with what the function computes from the request (a mock API: pages,
    /// error bodies), after an optional delay.
    Respond(Responder),
}

/// A computed answer: status, extra headers, body.
pub type Answer = (u16, Vec<(String, String)>, String);

/// The function behind [`Fault::Respond`], and a latency (milliseconds, changeable
/// while the proxy runs) added before each answer.
#[derive(Clone)]
pub struct Responder(
    pub Arc<dyn Fn(&Request) -> Answer + Send + Sync>,
    pub Arc<AtomicU32>,
);

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Responder(..)")
    }
}

impl Fault {
    /// A status answer with a JSON body and no extra headers.
    pub fn status(status: u16, body: impl Into<String>) -> Fault {
        Fault::Status {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A status answer with one extra header.
    pub fn status_with(status: u16, header: (&str, &str), body: impl Into<String>) -> Fault {
        Fault::Status {
            status,
            headers: vec![(header.0.to_string(), header.1.to_string())],
            body: body.into(),
        }
    }
}

/// How often a rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// The first `n` matching requests; later ones are forwarded.
    N(u32),
    /// Every matching request.
    Always,
}

type Matcher = Box<dyn Fn(&Request) -> bool + Send + Sync>;

/// A fault applied to matching requests.
pub struct Rule {
    name: String,
    matcher: Matcher,
    fault: Fault,
    times: Times,
    hits: AtomicU32,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("name", &self.name)
            .field("fault", &self.fault)
            .field("times", &self.times)
            .field("hits", &self.hits.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

impl Rule {
    /// Claims one application of the rule if it matches and has applications left.
    fn claim(&self, req: &Request) -> bool {
        if !(self.matcher)(req) {
            return false;
        }
        match self.times {
            Times::Always => {
                self.hits.fetch_add(1, Ordering::SeqCst);
                true
            }
            Times::N(n) => self
                .hits
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |h| {
                    (h < n).then_some(h + 1)
                })
                .is_ok(),
        }
    }
}

#[derive(Default)]
struct State {
    rules: Mutex<Vec<Arc<Rule>>>,
    seen: Mutex<Vec<Request>>,
    /// Requests being answered now, and the most at once so far.
    in_flight: std::sync::atomic::AtomicUsize,
    max_in_flight: std::sync::atomic::AtomicUsize,
}

/// Counts one request as in flight while it lives.
struct InFlight<'a>(&'a State);

impl<'a> InFlight<'a> {
    fn enter(state: &'a State) -> Self {
        let n = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(n, Ordering::SeqCst);
        InFlight(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The running proxy. Dropping it stops accepting connections.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy on a free port of 127.0.0.1 forwarding to `upstream`
    /// (`http://host:port`, a trailing path is ignored). With `None`, requests that no
    /// rule matches get a 502.
    pub async fn start(upstream: Option<&str>) -> std::io::Result<FaultProxy> {
        let upstream = match upstream {
            Some(u) => Some(parse_upstream(u)?),
            None => None,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let st = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let st = st.clone();
                let up = upstream.clone();
                tokio::spawn(async move {
                    let _ = serve(conn, st, up).await;
                });
            }
        });
        Ok(FaultProxy { addr, state, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a rule (tried after the ones added before it).
    pub fn inject(
        &self,
        name: &str,
        matcher: impl Fn(&Request) -> bool + Send + Sync + 'static,
        fault: Fault,
        times: Times,
    ) {
        lock(&self.state.rules).push(Arc::new(Rule {
            name: name.to_string(),
            matcher: Box::new(matcher),
            fault,
            times,
            hits: AtomicU32::new(0),
        }));
    }

    /// How often the rule `name` was applied.
    pub fn hits(&self, name: &str) -> u32 {
        lock(&self.state.rules)
            .iter()
            .filter(|r| r.name == name)
            .map(|r| r.hits.load(Ordering::SeqCst))
            .sum()
    }

    /// The most requests the proxy was answering at the same moment.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Every request the proxy has read, in order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.state.seen).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn parse_upstream(u: &str) -> std::io::Result<String> {
    let rest = u.strip_prefix("http://").ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("upstream {u}: only http:// is supported"),
        )
    })?;
    Ok(rest.split('/').next().unwrap_or(rest).to_string())
}

/// Serves one request per client connection: every answer says `Connection: close`
/// (forwarded requests ask the upstream for it too), so no client reuses a connection
/// the proxy is about to close and every fault hits exactly one request.
async fn serve(
    mut conn: TcpStream,
    state: Arc<State>,
    upstream: Option<String>,
) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    {
        let Some((req, raw)) = read_request(&mut conn, &mut buf).await? else {
            return Ok(());
        };
        lock(&state.seen).push(req.clone());
        // A request stops counting as in flight once its answer is ready, before it is
        // written: a client that has read the answer may send its next request at once,
        // and it must not be counted alongside this one.
        let in_flight = InFlight::enter(&state);
        let rule = lock(&state.rules).iter().find(|r| r.claim(&req)).cloned();
        let fault = rule.map(|r| r.fault.clone());
        match fault {
            None => {
                let resp = forward(&upstream, &raw).await;
                drop(in_flight);
                conn.write_all(&resp).await?;
            }
            Some(Fault::Respond(r)) => {
                let ms = r.1.load(Ordering::Relaxed);
                if ms > 0 {
                    tokio::time::sleep(Duration::from_millis(ms.into())).await;
                }
                let (status, headers, body) = (r.0)(&req);
                drop(in_flight);
                write_answer(&mut conn, status, &headers, &body).await?;
            }
            Some(Fault::Status {
                status,
                headers,
                body,
            }) => {
                drop(in_flight);
                write_answer(&mut conn, status, &headers, &body).await?;
            }
            Some(Fault::Reset) => {
                conn.set_zero_linger()?;
                return Ok(());
            }
            Some(Fault::ResetMidResponse) => {
                let resp = forward(&upstream, &raw).await;
                drop(in_flight);
                conn.write_all(&resp[..resp.len() / 2]).await?;
                conn.flush().await?;
                conn.set_zero_linger()?;
                return Ok(());
            }
            Some(Fault::Hang) => {
                // Hold the connection open and never answer; the client's timeout ends it
                // (a read returning 0 means the client gave up).
                let mut sink = [0u8; 1024];
                while conn.read(&mut sink).await? > 0 {}
                return Ok(());
            }
            Some(Fault::Delay(d)) => {
                tokio::time::sleep(d).await;
                let resp = forward(&upstream, &raw).await;
                drop(in_flight);
                conn.write_all(&resp).await?;
            }
            Some(Fault::TruncateBody) => {
                let resp = forward(&upstream, &raw).await;
                drop(in_flight);
                conn.write_all(&truncate(&resp)).await?;
            }
        }
    }
    conn.flush().await?;
    conn.shutdown().await
}

async fn write_answer(
    conn: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &str,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body.as_bytes()).await
}

/// Reads one request; `None` at a clean end of the connection. Returns the parsed
/// request and its raw bytes with `Connection: close` forced (for forwarding).
async fn read_request(
    conn: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<(Request, Vec<u8>)>> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 8192];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let total = head_end + 4 + len;
    while buf.len() < total {
        let mut chunk = [0u8; 8192];
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end + 4..total].to_vec();
    let mut raw = format!("{first}\r\n").into_bytes();
    for (k, v) in &headers {
        if k != "connection" {
            raw.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
    }
    raw.extend_from_slice(b"connection: close\r\n\r\n");
    raw.extend_from_slice(&body);
    buf.drain(..total);
    Ok(Some((
        Request {
            method,
            target,
            headers,
            body,
        },
        raw,
    )))
}

/// Sends the raw request to the upstream and returns its raw answer (read to the end:
/// the request asked for `Connection: close`).
async fn forward(upstream: &Option<String>, raw: &[u8]) -> Vec<u8> {
    let bad_gateway = |why: String| {
        format!(
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{why}",
            why.len()
        )
        .into_bytes()
    };
    let Some(up) = upstream else {
        return bad_gateway("fault proxy: no upstream and no rule matched".into());
    };
    let result: std::io::Result<Vec<u8>> = async {
        let mut s = TcpStream::connect(up).await?;
        s.write_all(raw).await?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await?;
        Ok(out)
    }
    .await;
    match result {
        Ok(out) if !out.is_empty() => out,
        Ok(_) => bad_gateway(format!("fault proxy: upstream {up} sent nothing")),
        Err(e) => bad_gateway(format!("fault proxy: upstream {up}: {e}")),
    }
}

/// The response with the first half of its (de-chunked) body and a matching length.
fn truncate(resp: &[u8]) -> Vec<u8> {
    let Some(end) = find(resp, b"\r\n\r\n") else {
        return resp.to_vec();
    };
    let head = String::from_utf8_lossy(&resp[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("HTTP/1.1 200 OK");
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(&resp[end + 4..])
    } else {
        resp[end + 4..].to_vec()
    };
    let cut = &body[..body.len() / 2];
    let mut out = format!("{status_line}\r\n").into_bytes();
    for (k, v) in headers {
        let k_l = k.to_ascii_lowercase();
        if k_l != "content-length" && k_l != "transfer-encoding" && k_l != "connection" {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
    }
    out.extend_from_slice(
        format!("Connection: close\r\nContent-Length: {}\r\n\r\n", cut.len()).as_bytes(),
    );
    out.extend_from_slice(cut);
    out
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = find(data, b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..i]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        if size == 0 || data.len() < i + 2 + size {
            break;
        }
        out.extend_from_slice(&data[i + 2..i + 2 + size]);
        data = &data[(i + 4 + size).min(data.len())..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(url: &str, path: &str) -> std::io::Result<Vec<u8>> {
        let addr = url.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await?;
        Ok(out)
    }

    /// A tiny upstream that answers every request with a fixed JSON document.
    async fn upstream(body: &'static str) -> String {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut c, _)) = l.accept().await {
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let _ = read_request(&mut c, &mut buf).await;
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = c.write_all(resp.as_bytes()).await;
                });
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn forwards_unmatched_and_applies_a_counted_fault_first() {
        let up = upstream(r#"{"value":[1,2,3]}"#).await;
        let p = FaultProxy::start(Some(&up)).await.unwrap();
        p.inject(
            "busy",
            |r| r.path() == "/x",
            Fault::status_with(429, ("Retry-After", "1"), "{}"),
            Times::N(1),
        );
        let first = String::from_utf8(get(&p.url(), "/x").await.unwrap()).unwrap();
        assert!(first.starts_with("HTTP/1.1 429"), "{first}");
        assert!(first.contains("Retry-After: 1"), "{first}");
        let second = String::from_utf8(get(&p.url(), "/x").await.unwrap()).unwrap();
        assert!(second.ends_with(r#"{"value":[1,2,3]}"#), "{second}");
        assert_eq!(p.hits("busy"), 1);
        assert_eq!(p.requests().len(), 2);
    }

    #[tokio::test]
    async fn truncates_the_body_with_a_consistent_length() {
        let up = upstream(r#"{"value":[1,2,3]}"#).await;
        let p = FaultProxy::start(Some(&up)).await.unwrap();
        p.inject("cut", |_| true, Fault::TruncateBody, Times::Always);
        let resp = String::from_utf8(get(&p.url(), "/").await.unwrap()).unwrap();
        assert!(resp.contains("Content-Length: 8\r\n"), "{resp}");
        assert!(resp.ends_with(r#"{"value""#), "{resp}");
    }

    #[tokio::test]
    async fn reset_ends_the_connection_without_an_answer() {
        let p = FaultProxy::start(None).await.unwrap();
        p.inject("rst", |_| true, Fault::Reset, Times::Always);
        match get(&p.url(), "/").await {
            Ok(bytes) => assert!(bytes.is_empty(), "{bytes:?}"),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
        }
    }

    #[test]
    fn aws_operations_are_read_from_action_or_target() {
        let mut r = Request {
            method: "POST".into(),
            target: "/".into(),
            headers: vec![],
            body: b"Action=DescribeRegions&Version=2016-11-15".to_vec(),
        };
        assert_eq!(r.aws_operation().as_deref(), Some("DescribeRegions"));
        r.headers.push((
            "x-amz-target".into(),
            "ResourceGroupsTaggingAPI_20170126.GetResources".into(),
        ));
        assert_eq!(r.aws_operation().as_deref(), Some("GetResources"));
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
    }
}
