//! Who created a resource: the project's Admin Activity audit log (Cloud Logging).
//!
//! Every Google Cloud project keeps Admin Activity audit logs for **400 days** (the
//! `_Required` bucket; always on, free, read-only). A create call writes an entry whose
//! `protoPayload` (an `AuditLog`) names the method (`storage.buckets.create`,
//! `v1.compute.instances.insert`), the resource (`protoPayload.resourceName`, a
//! scheme-less name such as `projects/_/buckets/NAME` or
//! `projects/P/zones/Z/instances/N`) and the caller
//! (`authenticationInfo.principalEmail`). A long-running call writes two entries with one
//! `operation.id`, a first and a last.
//!
//! One request (`POST /v2/entries:list`, `resourceNames: ["projects/ID"]`, ordered
//! `timestamp asc`, 1 000 entries a page, every `nextPageToken` followed) asks for many
//! resources at once:
//!
//! ```text
//! logName="projects/ID/logs/cloudaudit.googleapis.com%2Factivity"
//! AND timestamp>="…"
//! AND protoPayload.resourceName=("projects/_/buckets/a" OR "projects/ID/zones/z/instances/b")
//! AND protoPayload.methodName:("storage.buckets.create" OR "compute.instances.insert")
//! ```
//!
//! `entries.list` is limited to **60 requests a minute** per project (the quota
//! `ReadRequestsPerMinutePerProject` of `logging.googleapis.com/read_requests`), charged
//! to the project that makes the request: one scanner's quota project for every project
//! it scans. So all requests of a connector, every attempt included, go through one
//! [`Pacer`] one second apart; the shared retry layer still absorbs a 429 (Cloud Logging
//! sends no `Retry-After`; a server that does is honoured), and a denial or throttling
//! that outlasts the retries stops the lookups of that project: the rest are answered
//! `failed` with the reason, not asked into the same wall.
//!
//! How a resource's full name maps to the logged `resourceName`, and which methods create
//! it, is data: `audit-log-creates.csv`. An entry is taken for a resource only when its
//! `resourceName` is exactly one of the resource's names (the same short name in another
//! project or zone is another name) and its method is one of the type's create methods;
//! an entry with an error `status` is a failed call and never counts. Entries of one
//! operation are folded together; with a known creation time (Cloud Asset
//! `createTime`, Cloud Storage `timeCreated`) the operation that started nearest to it
//! is the creation, otherwise the earliest. A resource created before the log's 400 days
//! is answered "older than 400 days" without a request.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use cloudcensus_core::creator::LOOKUP_SERVICE_PREFIX;
use cloudcensus_core::{
    Coverage, CoverageStatus, Creator, CreatorLookup, CreatorStatus, LookupTarget, Provider,
};
use google_cloud_auth::credentials::Credentials;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::Ctx;
use crate::error::ApiFailure;

/// How long the Admin Activity audit log keeps entries.
pub const RETENTION_DAYS: u32 = 400;

/// The IAM permission the lookup needs (in `roles/logging.viewer`).
pub const PERMISSION: &str = "logging.logEntries.list";

/// The least time between two `entries.list` requests of one connector: 60 a minute.
pub const REQUEST_INTERVAL: Duration = Duration::from_secs(1);

/// The API name in messages.
const API: &str = "logging";

/// Entries per page (the API's maximum).
const PAGE_SIZE: u32 = 1000;

/// Resource names per request, and the longest filter sent (the API takes 20 000
/// characters).
const MAX_NAMES: usize = 40;
const MAX_FILTER_CHARS: usize = 18_000;

/// How far before the earliest known creation time of a request's resources it looks.
const CREATED_AT_SLACK: chrono::Duration = chrono::Duration::days(1);

const TABLE_CSV: &str = include_str!("../audit-log-creates.csv");

/// The coverage service of audit-log lookups.
pub fn coverage_service() -> String {
    format!("{LOOKUP_SERVICE_PREFIX}audit-log")
}

/// Spaces requests at least `interval` apart, across every caller sharing it (one key:
/// the quota is the calling project's, whatever project is asked about).
pub(crate) use cloudcensus_core::retry::Pacer;

/// The Cloud Logging client of one connector.
pub(crate) struct LoggingClient {
    pub http: reqwest::Client,
    /// Base URL without trailing slash.
    pub endpoint: String,
    /// `None` for anonymous sources.
    pub credentials: Option<Credentials>,
    pub pacer: Pacer,
}

/// One row of `audit-log-creates.csv`.
#[derive(Debug, Clone)]
struct Kind {
    resource_name: String,
    methods: Vec<String>,
}

/// The table, keyed by lower-case asset type.
fn table() -> Result<&'static HashMap<String, Kind>, String> {
    static TABLE: OnceLock<Result<HashMap<String, Kind>, String>> = OnceLock::new();
    TABLE
        .get_or_init(|| parse_table(TABLE_CSV))
        .as_ref()
        .map_err(Clone::clone)
}

fn parse_table(text: &str) -> Result<HashMap<String, Kind>, String> {
    let mut out = HashMap::new();
    let mut header = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !header {
            header = true;
            if !line.starts_with("asset_type,resource_name,create_methods") {
                return Err(format!(
                    "audit-log-creates.csv:{}: expected the header asset_type,resource_name,create_methods,reference",
                    n + 1
                ));
            }
            continue;
        }
        let cells: Vec<&str> = line.splitn(4, ',').map(str::trim).collect();
        let (ty, name, methods) = match cells.as_slice() {
            [ty, name, methods, ..] if !ty.is_empty() && !name.is_empty() => (ty, name, methods),
            _ => {
                return Err(format!(
                    "audit-log-creates.csv:{}: needs asset_type, resource_name and create_methods",
                    n + 1
                ));
            }
        };
        let methods: Vec<String> = methods.split_whitespace().map(str::to_string).collect();
        if methods.is_empty() {
            return Err(format!(
                "audit-log-creates.csv:{}: {ty} has no create method",
                n + 1
            ));
        }
        if out
            .insert(
                ty.to_ascii_lowercase(),
                Kind {
                    resource_name: name.to_string(),
                    methods,
                },
            )
            .is_some()
        {
            return Err(format!("audit-log-creates.csv:{}: {ty} twice", n + 1));
        }
    }
    Ok(out)
}

/// The logged `resourceName`s of a resource: the row's template filled in, and for a
/// name under `projects/ID/` the same with the project number when it is known.
fn resource_names(
    template: &str,
    full_name: &str,
    project: &str,
    number: Option<&str>,
) -> Option<Vec<String>> {
    let path = full_name
        .strip_prefix("//")
        .and_then(|rest| rest.split_once('/'))
        .map(|(_, p)| p)
        .unwrap_or(full_name);
    let last = path.rsplit('/').next().filter(|s| !s.is_empty())?;
    if template.contains("{path}") && !full_name.starts_with("//") {
        return None;
    }
    let name = template.replace("{path}", path).replace("{name}", last);
    let mut names = vec![name.clone()];
    if let (Some(rest), Some(num)) = (name.strip_prefix(&format!("projects/{project}/")), number) {
        names.push(format!("projects/{num}/{rest}"));
    }
    Some(names)
}

/// Whether a logged method name is `method`, or `method` behind a version prefix.
fn method_matches(logged: &str, method: &str) -> bool {
    logged.eq_ignore_ascii_case(method)
        || (logged.len() > method.len()
            && logged.as_bytes()[logged.len() - method.len() - 1] == b'.'
            && logged[logged.len() - method.len()..].eq_ignore_ascii_case(method))
}

/// A string literal of the Logging query language.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The filter of one request.
pub(crate) fn filter(
    project: &str,
    since: DateTime<Utc>,
    names: &[String],
    methods: &[String],
) -> String {
    let or = |v: &[String]| v.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(" OR ");
    format!(
        "logName=\"projects/{project}/logs/cloudaudit.googleapis.com%2Factivity\" \
         AND timestamp>=\"{}\" AND protoPayload.resourceName=({}) AND protoPayload.methodName:({})",
        since.to_rfc3339_opts(SecondsFormat::Secs, true),
        or(names),
        or(methods)
    )
}

/// One resource being looked up.
#[derive(Debug)]
struct Job {
    index: usize,
    names: Vec<String>,
    methods: Vec<String>,
    created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntriesPage {
    #[serde(default)]
    entries: Vec<Value>,
    #[serde(default)]
    next_page_token: String,
}

/// Why the lookups of a project stopped.
#[derive(Debug, Clone)]
struct Stop {
    status: CoverageStatus,
    message: String,
}

/// Looks up who created each of `targets` (all in `project`).
pub(crate) async fn lookup(
    ctx: &Ctx,
    client: &LoggingClient,
    project: &str,
    number: Option<&str>,
    targets: &[LookupTarget],
    now: DateTime<Utc>,
) -> CreatorLookup {
    let start = now - chrono::Duration::days(RETENTION_DAYS.into());
    let mut answers: Vec<Option<Creator>> = vec![None; targets.len()];
    let unknown = |t: &LookupTarget, status: CreatorStatus, detail: String| {
        Creator::unknown(
            Provider::Gcp,
            t.resource_id.clone(),
            status,
            "audit-log",
            detail,
        )
    };
    let table = match table() {
        Ok(t) => t,
        Err(e) => {
            return CreatorLookup {
                creators: targets
                    .iter()
                    .map(|t| unknown(t, CreatorStatus::Failed, e.clone()))
                    .collect(),
                coverage: Vec::new(),
            };
        }
    };
    let mut jobs = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        if t.created_at.is_some_and(|c| c < start) {
            answers[i] = Some(Creator::older_than(
                Provider::Gcp,
                t.resource_id.clone(),
                "inventory:created_at",
                RETENTION_DAYS,
            ));
            continue;
        }
        let Some(kind) = table.get(&t.resource_type.to_ascii_lowercase()) else {
            answers[i] = Some(unknown(
                t,
                CreatorStatus::NotLookedUp,
                format!(
                    "no create method is known for {} (add it to connectors/gcp/audit-log-creates.csv)",
                    t.resource_type
                ),
            ));
            continue;
        };
        match resource_names(&kind.resource_name, &t.resource_id, project, number) {
            Some(names) => jobs.push(Job {
                index: i,
                names,
                methods: kind.methods.clone(),
                created_at: t.created_at,
            }),
            None => {
                answers[i] = Some(unknown(
                    t,
                    CreatorStatus::NotLookedUp,
                    format!(
                        "cannot derive the audit-log resource name from '{}' ({} in audit-log-creates.csv)",
                        t.resource_id, kind.resource_name
                    ),
                ));
            }
        }
    }
    // Resources created close together share a request, and its window.
    jobs.sort_by_key(|j| (j.created_at.is_some(), j.created_at));
    let mut batches: Vec<Vec<Job>> = Vec::new();
    for job in jobs {
        let fits = batches.last().is_some_and(|b: &Vec<Job>| {
            let names: usize = b.iter().map(|j| j.names.len()).sum::<usize>() + job.names.len();
            let chars: usize = b
                .iter()
                .chain(std::iter::once(&job))
                .flat_map(|j| j.names.iter().chain(&j.methods))
                .map(|s| s.len() + 6)
                .sum();
            names <= MAX_NAMES && chars + 300 <= MAX_FILTER_CHARS
        });
        match batches.last_mut() {
            Some(b) if fits => b.push(job),
            _ => batches.push(vec![job]),
        }
    }

    let mut stop: Option<Stop> = None;
    let (mut calls, mut failed_batches, mut not_tried) = (0usize, 0usize, 0usize);
    let mut first_failure: Option<ApiFailure> = None;
    for batch in batches {
        if let Some(s) = &stop {
            for j in &batch {
                not_tried += 1;
                answers[j.index] = Some(unknown(
                    &targets[j.index],
                    CreatorStatus::Failed,
                    format!(
                        "not looked up: an earlier audit-log lookup in project {project} was {}: {}",
                        s.status, s.message
                    ),
                ));
            }
            continue;
        }
        let since = if batch.iter().all(|j| j.created_at.is_some()) {
            batch
                .iter()
                .filter_map(|j| j.created_at)
                .min()
                .map_or(start, |c| (c - CREATED_AT_SLACK).max(start))
        } else {
            start
        };
        let (mut names, mut methods): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        for j in &batch {
            for n in &j.names {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
            for m in &j.methods {
                if !methods.contains(m) {
                    methods.push(m.clone());
                }
            }
        }
        let filter = filter(project, since, &names, &methods);
        calls += 1;
        match list_entries(ctx, client, project, &filter).await {
            Ok(entries) => {
                for j in &batch {
                    answers[j.index] = Some(answer(&targets[j.index], j, &entries, since));
                }
            }
            Err(f) => {
                failed_batches += 1;
                if matches!(f.status, CoverageStatus::Denied | CoverageStatus::Throttled) {
                    stop = Some(Stop {
                        status: f.status,
                        message: f.message.clone(),
                    });
                }
                for j in &batch {
                    answers[j.index] = Some(unknown(
                        &targets[j.index],
                        CreatorStatus::Failed,
                        format!("audit-log lookup {}: {}", f.status, f.message),
                    ));
                }
                first_failure.get_or_insert(f);
            }
        }
    }
    let coverage = if calls == 0 {
        Vec::new()
    } else {
        vec![match first_failure {
            None => Coverage::scanned(Provider::Gcp, project, "*", coverage_service()),
            Some(f) => {
                let mut note = String::new();
                if not_tried > 0 {
                    note.push_str(&format!(
                        "; {not_tried} more resources not looked up after that"
                    ));
                }
                if f.status == CoverageStatus::Denied {
                    note.push_str(&format!(
                        "; grant {PERMISSION} (roles/logging.viewer) on projects/{project}"
                    ));
                }
                Coverage::failed(
                    Provider::Gcp,
                    project,
                    "*",
                    coverage_service(),
                    f.status,
                    format!(
                        "{failed_batches} of {calls} audit-log requests failed, the creators of \
                         their resources are unknown: {}{note}",
                        f.message
                    ),
                )
            }
        }]
    };
    CreatorLookup {
        creators: answers
            .into_iter()
            .zip(targets)
            .map(|(a, t)| {
                a.unwrap_or_else(|| {
                    unknown(
                        t,
                        CreatorStatus::Failed,
                        "no answer (internal error)".into(),
                    )
                })
            })
            .collect(),
        coverage,
    }
}

/// Every entry the filter matches, all pages.
async fn list_entries(
    ctx: &Ctx,
    client: &LoggingClient,
    project: &str,
    filter: &str,
) -> Result<Vec<Value>, ApiFailure> {
    let url = format!("{}/v2/entries:list", client.endpoint);
    let mut token = String::new();
    let mut entries = Vec::new();
    let mut pages = 0u32;
    loop {
        let mut body = json!({
            "resourceNames": [format!("projects/{project}")],
            "filter": filter,
            "orderBy": "timestamp asc",
            "pageSize": PAGE_SIZE,
        });
        if !token.is_empty() {
            body["pageToken"] = json!(token);
        }
        let body = body.to_string();
        let page: EntriesPage = ctx
            .call(|| {
                let req = client
                    .http
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
                async move {
                    client.pacer.wait("entries.list").await;
                    crate::api::send_json(
                        API,
                        "entries.list response",
                        client.credentials.as_ref(),
                        req,
                    )
                    .await
                }
            })
            .await
            .map_err(|f| settle(f, pages + 1, entries.len()))?;
        pages += 1;
        entries.extend(page.entries);
        match crate::api::next_token(API, &token, page.next_page_token)? {
            Some(t) => token = t,
            None => break,
        }
    }
    tracing::debug!(project, pages, entries = entries.len(), "audit-log lookup");
    Ok(entries)
}

/// A failed request as the lookup reports it: a disabled Logging API is a gap here (the
/// resources exist; their creators are unknown), and a later page's failure says so.
fn settle(mut f: ApiFailure, page: u32, kept: usize) -> ApiFailure {
    if f.status == CoverageStatus::NotEnabled {
        f.status = CoverageStatus::Error;
        f.message = format!(
            "{} (enable logging.googleapis.com in {})",
            f.message,
            f.consumer
                .as_deref()
                .unwrap_or("the scanner's quota project")
        );
    }
    if page > 1 {
        f.message = format!(
            "page {page} failed, the {kept} entries of the earlier pages are not used: {}",
            f.message
        );
    }
    f
}

/// One create operation of a resource: its entries folded together.
#[derive(Debug)]
struct Operation {
    start: DateTime<Utc>,
    method: String,
    principal: Option<(DateTime<Utc>, String)>,
    failed: bool,
}

/// The answer for one resource from the entries of its request.
fn answer(t: &LookupTarget, job: &Job, entries: &[Value], since: DateTime<Utc>) -> Creator {
    let names: HashSet<&str> = job.names.iter().map(String::as_str).collect();
    let mut ops: BTreeMap<String, Operation> = BTreeMap::new();
    for e in entries {
        let Some(pp) = e.get("protoPayload") else {
            continue;
        };
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (name, method) = (s(pp, "resourceName"), s(pp, "methodName"));
        if !names.contains(name.as_str()) || !job.methods.iter().any(|m| method_matches(&method, m))
        {
            continue;
        }
        let Some(time) = e
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|d| d.with_timezone(&Utc))
        else {
            continue;
        };
        let failed = pp
            .pointer("/status/code")
            .and_then(Value::as_i64)
            .is_some_and(|c| c != 0);
        let key = e
            .pointer("/operation/id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|id| format!("op:{id}"))
            .unwrap_or_else(|| format!("entry:{}", s(e, "insertId")));
        let op = ops.entry(key).or_insert_with(|| Operation {
            start: time,
            method: method.clone(),
            principal: None,
            failed: false,
        });
        op.start = op.start.min(time);
        op.failed |= failed;
        if let Some(p) = principal(pp)
            && op.principal.as_ref().is_none_or(|(at, _)| time < *at)
        {
            op.principal = Some((time, p));
        }
    }
    let candidates = ops.into_values().filter(|o| !o.failed);
    let chosen = match t.created_at {
        Some(c) => candidates.min_by_key(|o| ((o.start - c).abs(), o.start)),
        None => candidates.min_by_key(|o| o.start),
    };
    match (chosen, t.created_at) {
        (Some(op), _) => Creator::found(
            Provider::Gcp,
            t.resource_id.clone(),
            op.principal.map(|(_, p)| p).unwrap_or_else(|| {
                "unnamed principal (the entry carries no authenticationInfo)".to_string()
            }),
            op.start,
            format!("audit-log:{}", op.method),
        ),
        (None, Some(c)) => Creator::unknown(
            Provider::Gcp,
            t.resource_id.clone(),
            CreatorStatus::Failed,
            "audit-log",
            format!(
                "the Admin Activity audit log holds no successful {} of {} since {} although it \
                 was created at {} (within the {RETENTION_DAYS} days the log keeps)",
                job.methods.join(" / "),
                job.names.join(" or "),
                since.to_rfc3339_opts(SecondsFormat::Secs, true),
                c.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
        ),
        (None, None) => Creator::older_than(
            Provider::Gcp,
            t.resource_id.clone(),
            "audit-log",
            RETENTION_DAYS,
        ),
    }
}

/// Who made the call: `principalEmail` (else `principalSubject`), with the principals
/// that delegated to a service account (`serviceAccountDelegationInfo`).
fn principal(pp: &Value) -> Option<String> {
    let auth = pp.get("authenticationInfo")?;
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let own = text(auth, "principalEmail").or_else(|| text(auth, "principalSubject"));
    let delegated: Vec<String> = auth
        .get("serviceAccountDelegationInfo")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| {
            d.get("firstPartyPrincipal")
                .and_then(|p| text(p, "principalEmail"))
                .or_else(|| {
                    d.pointer("/thirdPartyPrincipal/thirdPartyClaims")
                        .and_then(|c| text(c, "email").or_else(|| text(c, "sub")))
                })
                .or_else(|| text(d, "principalSubject"))
        })
        .collect();
    match own {
        Some(p) if !delegated.is_empty() => {
            Some(format!("{p} (delegated by {})", delegated.join(", ")))
        }
        Some(p) => Some(p),
        None => delegated.into_iter().next(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses_and_every_row_has_a_create_method() {
        let t = table().unwrap();
        assert!(t.len() >= 5, "{t:?}");
        let bucket = &t["storage.googleapis.com/bucket"];
        assert_eq!(bucket.resource_name, "projects/_/buckets/{name}");
        assert_eq!(bucket.methods, ["storage.buckets.create"]);
        assert!(parse_table("asset_type,resource_name,create_methods\nx/Y,{path},\n").is_err());
        assert!(parse_table("nope\n").is_err());
    }

    #[test]
    fn resource_names_follow_the_table_and_add_the_project_number() {
        assert_eq!(
            resource_names(
                "projects/_/buckets/{name}",
                "//storage.googleapis.com/b-1",
                "p",
                Some("9")
            )
            .unwrap(),
            ["projects/_/buckets/b-1"]
        );
        assert_eq!(
            resource_names(
                "{path}",
                "//compute.googleapis.com/projects/alpha-prod/zones/europe-west4-a/instances/vm-1",
                "alpha-prod",
                Some("111111111111")
            )
            .unwrap(),
            [
                "projects/alpha-prod/zones/europe-west4-a/instances/vm-1",
                "projects/111111111111/zones/europe-west4-a/instances/vm-1"
            ]
        );
        assert!(resource_names("{path}", "not-a-full-name", "p", None).is_none());
    }

    #[test]
    fn a_version_prefix_matches_but_another_method_does_not() {
        assert!(method_matches(
            "v1.compute.instances.insert",
            "compute.instances.insert"
        ));
        assert!(method_matches(
            "beta.compute.instances.insert",
            "compute.instances.insert"
        ));
        assert!(method_matches(
            "storage.buckets.create",
            "storage.buckets.create"
        ));
        assert!(!method_matches(
            "v1.compute.instances.insertX",
            "compute.instances.insert"
        ));
        assert!(!method_matches(
            "xcompute.instances.insert",
            "compute.instances.insert"
        ));
        assert!(!method_matches(
            "v1.compute.disks.createSnapshot",
            "compute.disks.insert"
        ));
    }

    #[test]
    fn the_filter_names_log_window_resources_and_methods() {
        let since = "2025-11-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            filter(
                "alpha-prod",
                since,
                &["projects/_/buckets/a".into(), "x\"y".into()],
                &["storage.buckets.create".into()]
            ),
            "logName=\"projects/alpha-prod/logs/cloudaudit.googleapis.com%2Factivity\" AND \
             timestamp>=\"2025-11-01T00:00:00Z\" AND protoPayload.resourceName=(\"projects/_/buckets/a\" \
             OR \"x\\\"y\") AND protoPayload.methodName:(\"storage.buckets.create\")"
        );
    }

    #[test]
    fn a_delegated_call_names_the_service_account_and_who_delegated() {
        let pp = json!({"authenticationInfo": {
        "principalEmail": "deployer@p.iam.gserviceaccount.com",
        "serviceAccountDelegationInfo": [
            {"firstPartyPrincipal": {"principalEmail": "jan@minvoorbeeld.nl"}}
        ]}});
        assert_eq!(
            principal(&pp).unwrap(),
            "deployer@p.iam.gserviceaccount.com (delegated by jan@minvoorbeeld.nl)"
        );
        let only = json!({"authenticationInfo": {"principalSubject": "serviceAccount:x@p.iam.gserviceaccount.com"}});
        assert_eq!(
            principal(&only).unwrap(),
            "serviceAccount:x@p.iam.gserviceaccount.com"
        );
        assert!(principal(&json!({"authenticationInfo": {}})).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_pacer_spaces_requests_one_interval_apart() {
        let p = std::sync::Arc::new(Pacer::new(Duration::from_secs(1)));
        let t0 = tokio::time::Instant::now();
        let mut handles = Vec::new();
        for _ in 0..3 {
            let p = p.clone();
            handles.push(tokio::spawn(async move {
                p.wait("entries.list").await;
                tokio::time::Instant::now()
            }));
        }
        let mut times = Vec::new();
        for h in handles {
            times.push(h.await.unwrap() - t0);
        }
        times.sort();
        assert_eq!(
            times,
            [
                Duration::ZERO,
                Duration::from_secs(1),
                Duration::from_secs(2)
            ]
        );
    }
}
