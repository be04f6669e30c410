//! Who created a resource: the AWS CloudTrail event history (`LookupEvents`).
//!
//! Tags rarely name an owner, but CloudTrail's event history (on in every account, free,
//! read-only) keeps the last 90 days of management events per region, creation calls
//! included. For each resource the scan asks about, this module finds the call that
//! created it and reads who made it from the record's `userIdentity`.
//!
//! The history answers at most **2 requests per second per account and region**. Every
//! request goes through one [`Pacer`] per connector that spaces requests for one
//! (account, region) at least half a second apart, shared by all concurrent lookups; the
//! SDK's retry (the source's `max_attempts`) still absorbs a throttling answer, and a
//! lookup whose retries run out is `throttled` coverage.
//!
//! Requests are the cost, so lookups are batched. Per (account, region, resource type)
//! with several resources, one **sweep** pages through the type's create events
//! (`LookupAttribute EventName = CreateVolume`, 50 per page) and matches every event
//! against all of them at once. It stops when every resource is found, when the pages run
//! out (then whatever was not found has no creation event in the history: older than 90
//! days), or once it has cost as many pages as resources are left, when a lookup per
//! resource (`ResourceName = vol-…`) is the cheaper way for the rest.
//!
//! The facts per type (event source, create events, CloudTrail's resource type) are data:
//! `creator-events.csv`. An event is taken for a resource only when its name is a create
//! event of the resource's type, the call did not fail (`errorCode`), and one of its
//! `Resources` names the resource (name or ARN) with that type's CloudTrail type, or,
//! without a type, the event comes from the type's service: a DynamoDB table and an S3
//! bucket both called `payroll` are never mistaken for each other.
//!
//! Results come newest first, so the first matching event is the last successful creation
//! under that name: the one that made the resource that exists now (a name can be reused
//! after a delete). Where the inventory knows when the resource was created, events after
//! that (plus ten minutes) are not its creation, and a resource created before the
//! history's 90 days is answered "older than 90 days" without a call.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use aws_sdk_cloudtrail::operation::lookup_events::LookupEventsOutput;
use aws_sdk_cloudtrail::types::{Event, LookupAttribute, LookupAttributeKey, Resource};
use aws_types::SdkConfig;
use chrono::{DateTime, Utc};
use cloudcensus_core::creator::LOOKUP_SERVICE_PREFIX;
use cloudcensus_core::{
    Coverage, CoverageStatus, Creator, CreatorLookup, CreatorStatus, LookupTarget, Provider,
};
use futures::StreamExt;
use serde_json::Value;

use crate::connector::AwsConnector;
use crate::errors::{CallError, call_error};

/// How long the event history keeps events.
pub const RETENTION_DAYS: u32 = 90;

/// `LookupEvents` requests per second per account and region that CloudTrail allows.
pub const REQUESTS_PER_SECOND: u32 = 2;

/// The coverage service of CloudTrail creator lookups.
pub fn coverage_service() -> String {
    format!("{LOOKUP_SERVICE_PREFIX}cloudtrail")
}

/// Events per page (the API's maximum).
const PAGE_SIZE: i32 = 50;

/// Pages read per `ResourceName` before a lookup gives up on one resource (1 000 events).
const MAX_PAGES_PER_NAME: usize = 20;

/// An event this long after the inventory's creation time may still be the creation
/// (clocks, and services that report the time the resource became available).
const CREATED_AT_SLACK_MINUTES: i64 = 10;

/// The IAM action and operation, as messages name it.
const OP: &str = "cloudtrail:LookupEvents";

const CREATOR_EVENTS_CSV: &str = include_str!("../creator-events.csv");

/// What a per-resource lookup sends as `ResourceName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LookupBy {
    /// The resource's name or id (bucket name, `vol-…`, table name).
    Name,
    /// The resource's ARN.
    Arn,
}

/// How CloudTrail records the creation of one resource type (a row of
/// `creator-events.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreateEvents {
    /// Our type (`s3:bucket`).
    pub(crate) resource_type: String,
    /// The events' `EventSource` (`s3.amazonaws.com`).
    pub(crate) event_source: String,
    /// The event names that create such a resource.
    pub(crate) events: Vec<String>,
    /// CloudTrail's `Resources[].ResourceType` for it (may be empty: unknown).
    pub(crate) trail_types: Vec<String>,
    /// What per-resource lookups send, in order.
    pub(crate) lookup_by: Vec<LookupBy>,
}

/// Parses a table in the `creator-events.csv` format; every problem is reported at once.
pub(crate) fn parse_table(text: &str) -> Result<Vec<CreateEvents>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let want = [
        "resource_type",
        "event_source",
        "create_events",
        "trail_types",
        "lookup_by",
        "note",
    ];
    let headers = reader
        .headers()
        .map_err(|e| format!("creator-events.csv: {e}"))?
        .clone();
    if headers.iter().collect::<Vec<_>>() != want {
        return Err(format!(
            "creator-events.csv: the header must be {}",
            want.join(",")
        ));
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (n, rec) in reader.records().enumerate() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("creator-events.csv row {}: {e}", n + 1));
                continue;
            }
        };
        let cell = |i: usize| rec.get(i).unwrap_or("").to_string();
        let words =
            |i: usize| -> Vec<String> { cell(i).split_whitespace().map(str::to_string).collect() };
        let ty = cell(0);
        let at = format!("creator-events.csv row {} ({ty})", n + 1);
        if !ty.contains(':') {
            problems.push(format!("{at}: resource_type must be service:type"));
        }
        if !seen.insert(ty.to_ascii_lowercase()) {
            problems.push(format!("{at}: listed twice"));
        }
        let source = cell(1);
        if !source.ends_with(".amazonaws.com") {
            problems.push(format!(
                "{at}: event_source '{source}' is not a service endpoint name (….amazonaws.com)"
            ));
        }
        let events = words(2);
        if events.is_empty() {
            problems.push(format!("{at}: create_events is empty"));
        }
        let mut lookup_by = Vec::new();
        for w in words(4) {
            match w.as_str() {
                "name" => lookup_by.push(LookupBy::Name),
                "arn" => lookup_by.push(LookupBy::Arn),
                other => {
                    problems.push(format!("{at}: lookup_by '{other}' is neither name nor arn"))
                }
            }
        }
        if lookup_by.is_empty() {
            problems.push(format!("{at}: lookup_by is empty (name, arn or both)"));
        }
        rows.push(CreateEvents {
            resource_type: ty,
            event_source: source,
            events,
            trail_types: words(3),
            lookup_by,
        });
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems.join("; "))
    }
}

type Table = HashMap<String, CreateEvents>;

/// The built-in table, keyed by lower-case resource type.
fn table() -> &'static Result<Table, String> {
    static TABLE: OnceLock<Result<Table, String>> = OnceLock::new();
    TABLE.get_or_init(|| {
        parse_table(CREATOR_EVENTS_CSV).map(|rows| {
            rows.into_iter()
                .map(|r| (r.resource_type.to_ascii_lowercase(), r))
                .collect()
        })
    })
}

/// Spaces `LookupEvents` requests per (account, region) at least `1 / rate` apart,
/// across every lookup of one connector (key `account/region`).
pub(crate) use cloudcensus_core::retry::Pacer;

/// One resource to look up in one region.
struct Job {
    index: usize,
    /// The resource's provider id (ARN).
    id: String,
    /// Its name or id as the inventory shows it.
    name: String,
    kind: &'static CreateEvents,
    /// Events after this are not its creation (the inventory's creation time + slack).
    not_after: Option<DateTime<Utc>>,
}

impl Job {
    fn new(index: usize, target: &LookupTarget, kind: &'static CreateEvents) -> Self {
        Job {
            index,
            id: target.resource_id.clone(),
            name: target.name.clone(),
            kind,
            not_after: target
                .created_at
                .map(|c| c + chrono::Duration::minutes(CREATED_AT_SLACK_MINUTES)),
        }
    }

    /// Whether an event's `Resources[].ResourceName` names this resource (name or ARN).
    fn is_named(&self, n: &str) -> bool {
        (!self.name.is_empty() && n == self.name) || (!self.id.is_empty() && n == self.id)
    }

    fn failed(&self, detail: impl Into<String>) -> Creator {
        Creator::unknown(
            Provider::Aws,
            self.id.clone(),
            CreatorStatus::Failed,
            "cloudtrail:LookupEvents",
            detail,
        )
    }

    /// No creation event in the history. Without a creation time that means the
    /// resource is older than the history; with one inside it (older ones are answered
    /// without a call), "older" would contradict the inventory, so the answer says so
    /// (the same rule as the Azure and Google lookups).
    fn older(&self) -> Creator {
        match self.not_after {
            Some(t) => self.failed(format!(
                "no creation event in the last {RETENTION_DAYS} days of CloudTrail event \
                 history, although the inventory dates the resource {} (created through \
                 another region's endpoint, or the date is a later start)",
                (t - chrono::Duration::minutes(CREATED_AT_SLACK_MINUTES)).format("%Y-%m-%d")
            )),
            None => Creator::older_than(
                Provider::Aws,
                self.id.clone(),
                "cloudtrail:LookupEvents",
                RETENTION_DAYS,
            ),
        }
    }
}

/// The state of the lookups in one (account, region).
struct Region<'a> {
    account: &'a str,
    region: &'a str,
    client: aws_sdk_cloudtrail::Client,
    /// The start of the history's retention.
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    calls: usize,
    first_error: Option<CallError>,
    /// A denial or exhausted throttling: nothing more is asked here.
    stop: Option<CallError>,
    answers: Vec<(usize, Creator)>,
}

fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn to_smithy(t: DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}

/// Whether `res` of `ev` has the CloudTrail type of `kind` (or, without a type, `ev`
/// comes from the type's service).
fn type_matches(kind: &CreateEvents, ev: &Event, res: &Resource) -> bool {
    match res.resource_type().filter(|t| !t.is_empty()) {
        Some(t) if !kind.trail_types.is_empty() => kind.trail_types.iter().any(|k| k == t),
        _ => ev.event_source() == Some(kind.event_source.as_str()),
    }
}

/// The creating principal: `userIdentity.arn` (an assumed-role session ARN as it is: the
/// session name is often the person), else `principalId`, else `invokedBy` (a service),
/// else the event's `Username`.
fn principal(record: Option<&Value>, ev: &Event) -> Option<String> {
    let identity = record.and_then(|r| r.get("userIdentity"));
    let field = |k: &str| {
        identity
            .and_then(|u| u.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    field("arn")
        .or_else(|| field("principalId"))
        .or_else(|| field("invokedBy"))
        .or_else(|| ev.username().filter(|s| !s.is_empty()).map(str::to_string))
}

/// The creator `ev` names for `job`, if `ev` is its creation.
fn creation(job: &Job, ev: &Event) -> Option<Creator> {
    let name = ev.event_name()?;
    if !job.kind.events.iter().any(|e| e == name) {
        return None;
    }
    let time = ev.event_time().and_then(to_chrono)?;
    if job.not_after.is_some_and(|n| time > n) {
        return None;
    }
    let names_it = ev.resources().iter().any(|res| {
        res.resource_name().is_some_and(|n| job.is_named(n)) && type_matches(job.kind, ev, res)
    });
    if !names_it {
        return None;
    }
    let record: Option<Value> = ev
        .cloud_trail_event()
        .and_then(|s| serde_json::from_str(s).ok());
    // A failed call is recorded too (a name already taken, a denied create).
    let failed = record
        .as_ref()
        .and_then(|r| r.get("errorCode"))
        .is_some_and(|c| !c.is_null() && c.as_str() != Some(""));
    if failed {
        return None;
    }
    let source = format!("cloudtrail:{name}");
    Some(match principal(record.as_ref(), ev) {
        Some(p) => Creator::found(Provider::Aws, job.id.clone(), p, time, source),
        None => Creator::unknown(
            Provider::Aws,
            job.id.clone(),
            CreatorStatus::Failed,
            source,
            format!(
                "the creation event {} names no principal",
                ev.event_id().unwrap_or("(no id)")
            ),
        ),
    })
}

/// The newest end time a sweep over `jobs` needs.
fn sweep_end(jobs: &[Job], now: DateTime<Utc>) -> DateTime<Utc> {
    jobs.iter()
        .map(|j| j.not_after.map_or(now, |n| n.min(now)))
        .max()
        .unwrap_or(now)
}

impl AwsConnector {
    fn cloudtrail(&self, sdk: &SdkConfig) -> aws_sdk_cloudtrail::Client {
        let mut b =
            aws_sdk_cloudtrail::config::Builder::from(sdk).interceptor(self.recorder.clone());
        if let Some(url) = self.cfg.endpoint_urls.get("cloudtrail") {
            b = b.endpoint_url(url);
        }
        aws_sdk_cloudtrail::Client::from_conf(b.build())
    }

    /// The region whose event history holds a target's creation: its location, or the
    /// home region for global resources and those without a location.
    fn lookup_region(&self, t: &LookupTarget) -> String {
        match t.location.as_deref().map(str::trim) {
            Some(l) if !l.is_empty() && l != "global" && l != "*" => l.to_ascii_lowercase(),
            _ => self.home_region.clone(),
        }
    }

    /// Looks up who created each target in `account` (see the module docs).
    pub(crate) async fn lookup_creators(
        &self,
        account: &str,
        targets: &[LookupTarget],
    ) -> CreatorLookup {
        let now = Utc::now();
        let start = now - chrono::Duration::days(RETENTION_DAYS.into());
        let mut answers: Vec<Option<Creator>> = vec![None; targets.len()];
        let mut coverage = Vec::new();
        let not_looked_up = |t: &LookupTarget, why: String| {
            Creator::unknown(
                Provider::Aws,
                t.resource_id.clone(),
                CreatorStatus::NotLookedUp,
                "cloudtrail",
                why,
            )
        };
        let table = match table() {
            Ok(t) if self.cfg.creator_lookup => t,
            Ok(_) => {
                let why = || "creator_lookup = false for this source".to_string();
                return CreatorLookup {
                    creators: targets.iter().map(|t| not_looked_up(t, why())).collect(),
                    coverage,
                };
            }
            Err(e) => {
                return CreatorLookup {
                    creators: targets
                        .iter()
                        .map(|t| {
                            Creator::unknown(
                                Provider::Aws,
                                t.resource_id.clone(),
                                CreatorStatus::Failed,
                                "cloudtrail",
                                e.clone(),
                            )
                        })
                        .collect(),
                    coverage,
                };
            }
        };
        let mut by_region: BTreeMap<String, Vec<Job>> = BTreeMap::new();
        for (i, t) in targets.iter().enumerate() {
            if t.created_at.is_some_and(|c| c < start) {
                // Created before the history's retention: it cannot be in it.
                answers[i] = Some(Creator::older_than(
                    Provider::Aws,
                    t.resource_id.clone(),
                    "inventory:created_at",
                    RETENTION_DAYS,
                ));
                continue;
            }
            let Some(kind) = table.get(&t.resource_type.to_ascii_lowercase()) else {
                answers[i] = Some(not_looked_up(
                    t,
                    format!(
                        "no CloudTrail create event is known for {} (connectors/aws/creator-events.csv)",
                        t.resource_type
                    ),
                ));
                continue;
            };
            by_region
                .entry(self.lookup_region(t))
                .or_default()
                .push(Job::new(i, t, kind));
        }
        if !by_region.is_empty() {
            match self.account_sdk(account).await {
                Err(cov) => {
                    let why = format!(
                        "not looked up: {}",
                        cov.message
                            .as_deref()
                            .unwrap_or("the account could not be reached")
                    );
                    for (region, jobs) in &by_region {
                        coverage.push(Coverage::failed(
                            Provider::Aws,
                            account,
                            region,
                            coverage_service(),
                            cov.status,
                            why.clone(),
                        ));
                        for j in jobs {
                            answers[j.index] = Some(j.failed(why.clone()));
                        }
                    }
                }
                Ok(sdk) => {
                    let done: Vec<(Vec<(usize, Creator)>, Coverage)> =
                        futures::stream::iter(by_region)
                            .map(|(region, jobs)| {
                                let sdk = &sdk;
                                async move {
                                    self.region_lookups(account, sdk, &region, jobs, start, now)
                                        .await
                                }
                            })
                            .buffer_unordered(self.cfg.max_concurrency.max(1))
                            .collect()
                            .await;
                    for (found, cov) in done {
                        for (i, c) in found {
                            answers[i] = Some(c);
                        }
                        coverage.push(cov);
                    }
                }
            }
        }
        coverage.sort();
        CreatorLookup {
            creators: answers
                .into_iter()
                .zip(targets)
                .map(|(a, t)| {
                    a.unwrap_or_else(|| {
                        Creator::unknown(
                            Provider::Aws,
                            t.resource_id.clone(),
                            CreatorStatus::Failed,
                            "cloudtrail",
                            "no answer was recorded for this resource (a defect: please report it)",
                        )
                    })
                })
                .collect(),
            coverage,
        }
    }

    /// Every lookup in one (account, region): a sweep per type with several resources,
    /// then one lookup per resource left. Returns the answers and the region's coverage.
    async fn region_lookups(
        &self,
        account: &str,
        sdk: &SdkConfig,
        region: &str,
        jobs: Vec<Job>,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> (Vec<(usize, Creator)>, Coverage) {
        let asked = jobs.len();
        let mut r = Region {
            account,
            region,
            client: self.cloudtrail(&self.region_sdk(sdk, region)),
            start,
            now,
            calls: 0,
            first_error: None,
            stop: None,
            answers: Vec::new(),
        };
        let mut groups: BTreeMap<&str, Vec<Job>> = BTreeMap::new();
        for j in jobs {
            groups
                .entry(j.kind.resource_type.as_str())
                .or_default()
                .push(j);
        }
        for (_, group) in groups {
            let left = if group.len() >= 2 {
                self.sweep(&mut r, group).await
            } else {
                group
            };
            for job in left {
                self.lookup_one(&mut r, job).await;
            }
        }
        let failed = r
            .answers
            .iter()
            .filter(|(_, c)| c.status == CreatorStatus::Failed)
            .count();
        let found = r
            .answers
            .iter()
            .filter(|(_, c)| c.status == CreatorStatus::Found)
            .count();
        tracing::debug!(
            %account, %region, asked, found, failed, calls = r.calls,
            "creator lookups"
        );
        let cov = match r.stop.as_ref().or(r.first_error.as_ref()) {
            None => Coverage::scanned(Provider::Aws, account, region, coverage_service()),
            Some(e) => Coverage::failed(
                Provider::Aws,
                account,
                region,
                coverage_service(),
                e.status,
                format!(
                    "{}; {failed} of {asked} creator lookups here failed (see each resource's creator)",
                    e.message
                ),
            ),
        };
        (r.answers, cov)
    }

    /// One page of `LookupEvents`, paced. A denial or exhausted throttling stops every
    /// later call in this region.
    async fn page(
        &self,
        r: &mut Region<'_>,
        key: LookupAttributeKey,
        value: &str,
        end: DateTime<Utc>,
        token: Option<String>,
    ) -> Result<LookupEventsOutput, CallError> {
        if let Some(stop) = &r.stop {
            return Err(CallError {
                message: format!("not asked after an earlier failure here: {}", stop.message),
                ..stop.clone()
            });
        }
        let attribute = LookupAttribute::builder()
            .attribute_key(key)
            .attribute_value(value)
            .build()
            .map_err(|e| CallError {
                status: CoverageStatus::Error,
                code: None,
                message: format!("{OP}: {e}"),
            })?;
        self.trail_pacer
            .wait(&format!("{}/{}", r.account, r.region))
            .await;
        r.calls += 1;
        let out = r
            .client
            .lookup_events()
            .lookup_attributes(attribute)
            .start_time(to_smithy(r.start))
            .end_time(to_smithy(end.max(r.start)))
            .max_results(PAGE_SIZE)
            .set_next_token(token)
            .send()
            .await;
        out.map_err(|e| {
            let err = call_error(OP, &e);
            if matches!(
                err.status,
                CoverageStatus::Denied | CoverageStatus::Throttled | CoverageStatus::NotEnabled
            ) {
                r.stop.get_or_insert_with(|| err.clone());
            }
            r.first_error.get_or_insert_with(|| err.clone());
            err
        })
    }

    /// Sweeps the create events of one type for all of `jobs` at once; returns the jobs
    /// still to be looked up one by one.
    async fn sweep(&self, r: &mut Region<'_>, mut left: Vec<Job>) -> Vec<Job> {
        let kind = left[0].kind;
        let mut pages = 0usize;
        let mut complete = true;
        'events: for name in &kind.events {
            let end = sweep_end(&left, r.now);
            let mut token: Option<String> = None;
            loop {
                if left.is_empty() {
                    break 'events;
                }
                if pages >= left.len() {
                    complete = false;
                    break 'events;
                }
                let page = match self
                    .page(r, LookupAttributeKey::EventName, name, end, token.take())
                    .await
                {
                    Ok(p) => p,
                    Err(_) => {
                        complete = false;
                        break 'events;
                    }
                };
                pages += 1;
                for ev in page.events() {
                    left.retain(|job| match creation(job, ev) {
                        Some(c) => {
                            r.answers.push((job.index, c));
                            false
                        }
                        None => true,
                    });
                }
                match page.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_string()),
                    _ => break,
                }
            }
        }
        if complete {
            // Every create event of the type in the history was read.
            for job in left.drain(..) {
                r.answers.push((job.index, job.older()));
            }
        }
        left
    }

    /// Looks one resource up by `ResourceName` (its name, then its ARN, as the table says).
    async fn lookup_one(&self, r: &mut Region<'_>, job: Job) {
        let end = job.not_after.map_or(r.now, |n| n.min(r.now));
        for by in &job.kind.lookup_by {
            let value = match by {
                LookupBy::Name => job.name.as_str(),
                LookupBy::Arn => job.id.as_str(),
            };
            if value.is_empty() {
                continue;
            }
            let mut token: Option<String> = None;
            let mut pages = 0usize;
            loop {
                let page = match self
                    .page(
                        r,
                        LookupAttributeKey::ResourceName,
                        value,
                        end,
                        token.take(),
                    )
                    .await
                {
                    Ok(p) => p,
                    Err(e) => {
                        r.answers.push((job.index, job.failed(e.message)));
                        return;
                    }
                };
                pages += 1;
                if let Some(c) = page.events().iter().find_map(|ev| creation(&job, ev)) {
                    r.answers.push((job.index, c));
                    return;
                }
                match page.next_token() {
                    Some(t) if !t.is_empty() => {
                        if pages >= MAX_PAGES_PER_NAME {
                            r.answers.push((
                                job.index,
                                job.failed(format!(
                                    "{OP}: stopped after {pages} pages of events naming {value} \
                                     without reaching its creation; the next scan asks again"
                                )),
                            ));
                            return;
                        }
                        token = Some(t.to_string());
                    }
                    _ => break,
                }
            }
        }
        r.answers.push((job.index, job.older()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::types::Resource as TrailResource;
    use std::sync::Arc;
    use std::time::Duration;

    fn kind(ty: &str) -> &'static CreateEvents {
        table().as_ref().unwrap().get(ty).unwrap()
    }

    fn target(id: &str, name: &str, ty: &str) -> LookupTarget {
        LookupTarget {
            resource_id: id.into(),
            name: name.into(),
            resource_type: ty.into(),
            location: Some("eu-west-1".into()),
            created_at: None,
        }
    }

    fn event(name: &str, source: &str, res: &[(Option<&str>, &str)], record: Value) -> Event {
        let mut b = Event::builder()
            .event_id("e-1")
            .event_name(name)
            .event_source(source)
            .event_time(aws_smithy_types::DateTime::from_secs(1_780_000_000))
            .username("fallback-user")
            .cloud_trail_event(record.to_string());
        for (t, n) in res {
            let mut r = TrailResource::builder().resource_name(*n);
            if let Some(t) = t {
                r = r.resource_type(*t);
            }
            b = b.resources(r.build());
        }
        b.build()
    }

    fn by(arn: &str) -> Value {
        serde_json::json!({"userIdentity": {"type": "AssumedRole", "arn": arn, "principalId": "AROA:x"}})
    }

    #[test]
    fn the_shipped_table_parses_and_covers_the_directly_listed_and_cloud_control_types() {
        let t = table().as_ref().unwrap();
        for ty in [
            "s3:bucket",
            "ec2:volume",
            "ec2:instance",
            "rds:db",
            "rds:cluster",
            "dynamodb:table",
            "lambda:function",
            "elasticfilesystem:file-system",
        ] {
            assert!(t.contains_key(ty), "{ty}");
        }
        for cc in cloudcensus_core::visibility::cloud_control_types() {
            assert!(
                t.contains_key(&cc.arn_type.to_ascii_lowercase()),
                "{} ({}) has no row in creator-events.csv",
                cc.type_name,
                cc.arn_type
            );
        }
    }

    #[test]
    fn a_bad_table_is_refused_with_every_problem_named() {
        let bad = "resource_type,event_source,create_events,trail_types,lookup_by,note\n\
                   s3bucket,s3,,,id,\n\
                   ec2:volume,ec2.amazonaws.com,CreateVolume,,name,\n\
                   ec2:volume,ec2.amazonaws.com,CreateVolume,,name,\n";
        let e = parse_table(bad).unwrap_err();
        for want in [
            "service:type",
            "event_source 's3'",
            "create_events is empty",
            "lookup_by 'id'",
            "listed twice",
        ] {
            assert!(e.contains(want), "{want}: {e}");
        }
    }

    #[test]
    fn an_event_for_a_different_resource_with_the_same_name_is_not_taken() {
        let bucket = target("arn:aws:s3:::payroll", "payroll", "s3:bucket");
        let table_t = target(
            "arn:aws:dynamodb:eu-west-1:111122223333:table/payroll",
            "payroll",
            "dynamodb:table",
        );
        let jb = Job::new(0, &bucket, kind("s3:bucket"));
        let jt = Job::new(1, &table_t, kind("dynamodb:table"));
        let ddb = event(
            "CreateTable",
            "dynamodb.amazonaws.com",
            &[(Some("AWS::DynamoDB::Table"), "payroll")],
            by("arn:aws:sts::111122223333:assumed-role/admin/jan"),
        );
        let glue = event(
            "CreateTable",
            "glue.amazonaws.com",
            &[(None, "payroll")],
            by("arn:aws:sts::111122223333:assumed-role/etl/piet"),
        );
        let s3 = event(
            "CreateBucket",
            "s3.amazonaws.com",
            &[(Some("AWS::S3::Bucket"), "payroll")],
            by("arn:aws:sts::111122223333:assumed-role/admin/kees"),
        );
        assert!(creation(&jb, &ddb).is_none());
        assert!(creation(&jt, &s3).is_none());
        assert!(
            creation(&jt, &glue).is_none(),
            "a Glue table is not a DynamoDB table"
        );
        assert_eq!(
            creation(&jt, &ddb).unwrap().principal.as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/admin/jan")
        );
        let c = creation(&jb, &s3).unwrap();
        assert_eq!(
            (c.status, c.source.as_str()),
            (CreatorStatus::Found, "cloudtrail:CreateBucket")
        );
        // Without a ResourceType the event source decides.
        let untyped = event(
            "CreateTable",
            "dynamodb.amazonaws.com",
            &[(None, "payroll")],
            by("arn:aws:iam::111122223333:user/ops"),
        );
        assert!(creation(&jt, &untyped).is_some());
    }

    #[test]
    fn a_failed_create_call_or_one_after_the_creation_time_is_not_the_creation() {
        let mut t = target("arn:aws:s3:::data", "data", "s3:bucket");
        let failed = event(
            "CreateBucket",
            "s3.amazonaws.com",
            &[(Some("AWS::S3::Bucket"), "data")],
            serde_json::json!({"errorCode": "BucketAlreadyOwnedByYou", "userIdentity": {"arn": "arn:aws:iam::1:user/x"}}),
        );
        assert!(creation(&Job::new(0, &t, kind("s3:bucket")), &failed).is_none());
        let ok = event(
            "CreateBucket",
            "s3.amazonaws.com",
            &[(Some("AWS::S3::Bucket"), "arn:aws:s3:::data")],
            by("arn:aws:iam::1:user/x"),
        );
        assert!(
            creation(&Job::new(0, &t, kind("s3:bucket")), &ok).is_some(),
            "the ARN names it too"
        );
        t.created_at = DateTime::from_timestamp(1_780_000_000 - 3600, 0);
        assert!(creation(&Job::new(0, &t, kind("s3:bucket")), &ok).is_none());
    }

    #[test]
    fn the_principal_is_the_identity_arn_then_principal_id_invoked_by_and_username() {
        let ev = |record: Value| event("CreateVolume", "ec2.amazonaws.com", &[], record);
        let session = "arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_0123/jan@example.nl";
        let r = by(session);
        assert_eq!(
            principal(Some(&r), &ev(r.clone())).as_deref(),
            Some(session)
        );
        let r = serde_json::json!({"userIdentity": {"type": "Unknown", "principalId": "AIDA123"}});
        assert_eq!(
            principal(Some(&r), &ev(r.clone())).as_deref(),
            Some("AIDA123")
        );
        let r = serde_json::json!({"userIdentity": {"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"}});
        assert_eq!(
            principal(Some(&r), &ev(r.clone())).as_deref(),
            Some("cloudformation.amazonaws.com")
        );
        let r = serde_json::json!({});
        assert_eq!(principal(None, &ev(r)).as_deref(), Some("fallback-user"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_pacer_spaces_requests_per_account_and_region_and_not_across_them() {
        let p = Arc::new(Pacer::per_second(REQUESTS_PER_SECOND));
        let t0 = tokio::time::Instant::now();
        let mut handles = Vec::new();
        for i in 0..6 {
            let p = p.clone();
            let region = if i % 2 == 0 {
                "eu-west-1"
            } else {
                "eu-central-1"
            };
            handles.push(tokio::spawn(async move {
                p.wait(&format!("111122223333/{region}")).await;
                (region, tokio::time::Instant::now() - t0)
            }));
        }
        let mut times: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
        for h in handles {
            let (r, t) = h.await.unwrap();
            times.entry(r).or_default().push(t);
        }
        for (r, mut ts) in times {
            ts.sort();
            assert_eq!(ts.len(), 3, "{r}");
            assert_eq!(ts[0], Duration::ZERO, "{r}: the first goes at once");
            for w in ts.windows(2) {
                assert!(w[1] - w[0] >= Duration::from_millis(500), "{r}: {ts:?}");
            }
        }
    }
}
