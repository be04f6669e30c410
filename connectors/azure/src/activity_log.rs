//! Who created a resource: the subscription's Azure Activity Log.
//!
//! Tags rarely name an owner, but every subscription keeps an Activity Log of the last
//! 90 days, free and read-only, with one record per step of every Resource Manager write:
//! `Started` when the request arrives, `Accepted` for an asynchronous operation, and
//! `Succeeded` or `Failed` when it ends (Azure Monitor, "Activity log event schema",
//! Administrative category). The steps of one operation share a `correlationId` and
//! name the same `caller`.
//!
//! One lookup is one list call per resource (`ActivityLogs_List`, api-version
//! 2015-04-01) with the only filter shape the API offers for a resource:
//! `eventTimestamp ge '…' and eventTimestamp le '…' and resourceUri eq '{id}'`, every
//! `nextLink` page followed. `$select` is not sent: `caller` is not among the properties
//! it may name. Where the inventory knows when the resource was created (ARM
//! `createdTime`), the window is that time ± one day (few pages); a resource created
//! before the log's 90 days is answered "older than 90 days" without a call.
//!
//! Which record is the creation: the write operations (`operationName` ending in
//! `/write`) on exactly this resource id (compared case-insensitively; an event for
//! another resource, such as one of the same name in another resource group, is never
//! taken), grouped by `correlationId`, leaving out every operation with a `Failed` step.
//! A `Started` or `Accepted` step alone does not prove the write took effect, so an
//! operation with a `Succeeded` step wins over one without. With a known creation time
//! the operation that started nearest to it is taken; without one, the earliest
//! succeeded operation that answered `201 Created` (`subStatus` or
//! `properties.statusCode`), else the earliest succeeded one, else the earliest that did
//! not fail. The time reported is the operation's first step: when the call was made.
//!
//! No write in the log means the resource is older than the log, with one exception: a
//! blob container made through the data plane is never in it (only Resource Manager
//! writes are), so its answer says that it cannot tell.
//!
//! The principal is the event's `caller` (a UPN for a user, an object id for a service
//! principal or managed identity); for an application token (`idtyp` = `app`, or an
//! `appid` claim without a UPN) it reads `app {appid} ({caller})`.
//!
//! Throttling: the Activity Log publishes no limit of its own; its calls count against
//! Resource Manager's subscription read limits. The source's client retries 429 after
//! `Retry-After`, at most two lookups of a subscription run at once, and a denial or
//! throttling that outlasts the retries stops the lookups of that subscription: the
//! rest are answered `failed` with the reason instead of being asked into the same wall.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use cloudcensus_core::creator::LOOKUP_SERVICE_PREFIX;
use cloudcensus_core::{
    Coverage, CoverageStatus, Creator, CreatorLookup, CreatorStatus, LookupTarget, Provider,
};
use futures::StreamExt;
use serde_json::Value;

use crate::arm::{Arm, CallError};

/// How long the Activity Log keeps events.
pub const RETENTION_DAYS: u32 = 90;

/// The Activity Log API version (`ActivityLogs_List`).
pub const API_ACTIVITY_LOG: &str = "2015-04-01";

/// The Resource Manager action the lookup needs (in the Reader role and `custom-role.json`).
pub const READ_ACTION: &str = "Microsoft.Insights/eventtypes/values/read";

/// Lookups of one subscription in flight at once.
const LOOKUP_CONCURRENCY: usize = 2;

/// How far from the inventory's creation time the creating call is looked for.
const CREATED_AT_SLACK: Duration = Duration::days(1);

/// The window starts this much inside the 90 days: the API refuses a start time older
/// than its retention, and the clocks of scanner and service differ.
const RETENTION_MARGIN: Duration = Duration::hours(1);

/// The coverage service of Activity Log lookups.
pub fn coverage_service() -> String {
    format!("{LOOKUP_SERVICE_PREFIX}activity-log")
}

/// The first moment the log still holds at `now`.
pub(crate) fn retention_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(RETENTION_DAYS.into()) + RETENTION_MARGIN
}

/// The `$filter` for one resource and time window, in the grammar the API documents.
pub(crate) fn filter(resource_id: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "eventTimestamp ge '{}' and eventTimestamp le '{}' and resourceUri eq '{}'",
        from.to_rfc3339_opts(SecondsFormat::Secs, true),
        to.to_rfc3339_opts(SecondsFormat::Secs, true),
        resource_id.replace('\'', "''")
    )
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Why the lookups of a subscription stopped.
#[derive(Debug, Clone)]
struct Stop {
    status: CoverageStatus,
    message: String,
}

/// Looks up who created each of `targets` (all in subscription `sub`).
pub(crate) async fn lookup(
    arm: &Arm,
    sub: &str,
    targets: &[LookupTarget],
    now: DateTime<Utc>,
) -> CreatorLookup {
    let start = retention_start(now);
    let stop: Mutex<Option<Stop>> = Mutex::new(None);
    // Futures collected first (see `AzureConnector::sql_replicas`).
    let jobs: Vec<_> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let stop = &stop;
            async move { (i, lookup_one(arm, sub, t, start, now, stop).await) }
        })
        .collect();
    let mut done: Vec<(usize, Outcome)> = futures::stream::iter(jobs)
        .buffer_unordered(LOOKUP_CONCURRENCY)
        .collect()
        .await;
    done.sort_by_key(|(i, _)| *i);
    let (mut calls, mut not_tried) = (0usize, 0usize);
    let mut failures: Vec<CallError> = Vec::new();
    let mut creators = Vec::with_capacity(done.len());
    for (_, o) in done {
        calls += usize::from(o.called);
        not_tried += usize::from(o.not_tried);
        failures.extend(o.failure);
        creators.push(o.creator);
    }
    let coverage = if calls == 0 {
        Vec::new()
    } else {
        vec![match failures.first() {
            None => Coverage::scanned(Provider::Azure, sub, "*", coverage_service()),
            Some(e) => {
                let mut need = if not_tried > 0 {
                    format!("; {not_tried} more not tried after that")
                } else {
                    String::new()
                };
                if e.status() == CoverageStatus::Denied {
                    need.push_str(&format!("; grant {READ_ACTION} (the Reader role has it)"));
                }
                Coverage::failed(
                    Provider::Azure,
                    sub,
                    "*",
                    coverage_service(),
                    e.status(),
                    format!(
                        "{} of {calls} Activity Log lookups failed, their creators are unknown: {}{need}",
                        failures.len(),
                        e.message()
                    ),
                )
            }
        }]
    };
    CreatorLookup { creators, coverage }
}

/// What one target's lookup came to.
struct Outcome {
    creator: Creator,
    /// The failure of its call.
    failure: Option<CallError>,
    /// Whether a call was made.
    called: bool,
    /// Not asked because an earlier lookup was denied or throttled.
    not_tried: bool,
}

impl Outcome {
    fn without_call(creator: Creator, not_tried: bool) -> Self {
        Outcome {
            creator,
            failure: None,
            called: false,
            not_tried,
        }
    }
}

/// One target's lookup.
async fn lookup_one(
    arm: &Arm,
    sub: &str,
    t: &LookupTarget,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    stop: &Mutex<Option<Stop>>,
) -> Outcome {
    let failed = |detail: String| {
        Creator::unknown(
            Provider::Azure,
            t.resource_id.clone(),
            CreatorStatus::Failed,
            "activity-log",
            detail,
        )
    };
    if let Some(c) = t.created_at
        && c < start
    {
        let old = Creator::older_than(
            Provider::Azure,
            t.resource_id.clone(),
            "inventory:created_at",
            RETENTION_DAYS,
        );
        return Outcome::without_call(old, false);
    }
    if let Some(s) = stop.lock().unwrap_or_else(|p| p.into_inner()).clone() {
        let detail = format!(
            "not looked up: an earlier Activity Log lookup in this subscription was {}: {}",
            s.status, s.message
        );
        return Outcome::without_call(failed(detail), true);
    }
    let (from, to) = match t.created_at {
        Some(c) => (
            (c - CREATED_AT_SLACK).max(start),
            (c + CREATED_AT_SLACK).min(now),
        ),
        None => (start, now),
    };
    let path = format!(
        "/subscriptions/{sub}/providers/Microsoft.Insights/eventtypes/management/values?api-version={API_ACTIVITY_LOG}&$filter={}",
        encode(&filter(&t.resource_id, from, to))
    );
    let mut events: Vec<Value> = Vec::new();
    let result = match arm.url(&path) {
        Ok(url) => arm.list_pages(url, |page| events.extend(page)).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        let status = e.status();
        if matches!(status, CoverageStatus::Denied | CoverageStatus::Throttled) {
            let mut guard = stop.lock().unwrap_or_else(|p| p.into_inner());
            guard.get_or_insert(Stop {
                status,
                message: e.message(),
            });
        }
        let detail = format!("Activity Log lookup {status}: {}", e.message());
        return Outcome {
            creator: failed(detail),
            failure: Some(e),
            called: true,
            not_tried: false,
        };
    }
    let creator = match creation(&events, t) {
        Some(op) => Creator::found(
            Provider::Azure,
            t.resource_id.clone(),
            op.principal.map(|(_, p)| p).unwrap_or_else(|| {
                "unnamed principal (the events carry no caller or claims)".to_string()
            }),
            op.start,
            format!("activity-log:{}", op.operation),
        ),
        None => match t.created_at {
            // Created inside the window, yet no write is logged near that time.
            Some(c) => failed(format!(
                "the Activity Log holds no successful write of this resource between {} and {} \
                 although it was created at {} (within the {RETENTION_DAYS} days the log keeps)",
                from.to_rfc3339_opts(SecondsFormat::Secs, true),
                to.to_rfc3339_opts(SecondsFormat::Secs, true),
                c.to_rfc3339_opts(SecondsFormat::Secs, true)
            )),
            // A container made through the blob data plane never reaches the Activity
            // Log (only Resource Manager writes do): its absence says nothing about age.
            None if t
                .resource_type
                .eq_ignore_ascii_case(crate::mapping::CONTAINER_TYPE) =>
            {
                failed(format!(
                    "no Resource Manager write of this container in the {RETENTION_DAYS} days the \
                     Activity Log keeps: it is older, or was created through the blob data \
                     plane, which the Activity Log does not record"
                ))
            }
            None => Creator::older_than(
                Provider::Azure,
                t.resource_id.clone(),
                "activity-log",
                RETENTION_DAYS,
            ),
        },
    };
    Outcome {
        creator,
        failure: None,
        called: true,
        not_tried: false,
    }
}

/// One write operation on the resource: its steps folded together.
#[derive(Debug, Clone)]
struct Operation {
    start: DateTime<Utc>,
    operation: String,
    /// The principal of the earliest step naming one, with that step's time.
    principal: Option<(DateTime<Utc>, String)>,
    succeeded: bool,
    failed: bool,
    created: bool,
}

/// A string field, or a `LocalizableString`'s `value`.
fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    match v.get(key)? {
        Value::String(s) => Some(s.as_str()),
        Value::Object(o) => o.get("value").and_then(Value::as_str),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

/// The resource an event is about: `resourceId`, else the authorization scope.
fn event_resource(ev: &Value) -> Option<&str> {
    text(ev, "resourceId").or_else(|| ev.pointer("/authorization/scope").and_then(Value::as_str))
}

/// The creation operation of `t` among `events`, as the module docs describe.
fn creation(events: &[Value], t: &LookupTarget) -> Option<Operation> {
    let mut ops: BTreeMap<String, Operation> = BTreeMap::new();
    for ev in events {
        let Some(op_name) = text(ev, "operationName") else {
            continue;
        };
        if !op_name.to_ascii_lowercase().ends_with("/write")
            || !event_resource(ev).is_some_and(|r| r.eq_ignore_ascii_case(&t.resource_id))
        {
            continue;
        }
        let Some(time) = text(ev, "eventTimestamp")
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
        else {
            continue;
        };
        let status = text(ev, "status").unwrap_or_default();
        let created = text(ev, "subStatus").is_some_and(|s| s.eq_ignore_ascii_case("Created"))
            || ev
                .pointer("/properties/statusCode")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("Created"));
        let key = text(ev, "correlationId")
            .or_else(|| text(ev, "eventDataId"))
            .unwrap_or("")
            .to_ascii_lowercase();
        let entry = ops.entry(key).or_insert_with(|| Operation {
            start: time,
            operation: op_name.to_string(),
            principal: None,
            succeeded: false,
            failed: false,
            created: false,
        });
        entry.start = entry.start.min(time);
        // The principal of the earliest step that names one.
        if let Some(p) = principal(ev)
            && entry.principal.as_ref().is_none_or(|(at, _)| time < *at)
        {
            entry.principal = Some((time, p));
        }
        entry.succeeded |= status.eq_ignore_ascii_case("Succeeded");
        entry.failed |= status.eq_ignore_ascii_case("Failed");
        entry.created |= created;
    }
    let candidates = ops.into_values().filter(|o| !o.failed);
    match t.created_at {
        Some(c) => candidates.min_by_key(|o| ((o.start - c).abs(), !o.succeeded, o.start)),
        None => candidates.min_by_key(|o| (!(o.succeeded && o.created), !o.succeeded, o.start)),
    }
}

/// Who made the call of one event (see the module docs).
fn principal(ev: &Value) -> Option<String> {
    let caller = text(ev, "caller").map(str::trim).filter(|s| !s.is_empty());
    let claims = ev.get("claims").and_then(Value::as_object);
    let claim = |k: &str| {
        claims
            .and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let upn = claim("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn").or(claim("upn"));
    let appid = claim("appid").or(claim("azp"));
    let app_token = claim("idtyp").is_some_and(|t| t.eq_ignore_ascii_case("app"))
        || (upn.is_none() && appid.is_some() && !caller.is_some_and(|c| c.contains('@')));
    match (app_token, appid, caller) {
        (true, Some(a), Some(c)) if !a.eq_ignore_ascii_case(c) => Some(format!("app {a} ({c})")),
        (true, Some(a), _) => Some(format!("app {a}")),
        (_, _, Some(c)) => Some(c.to_string()),
        _ => upn
            .or(claim(
                "http://schemas.microsoft.com/identity/claims/objectidentifier",
            ))
            .map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(id: &str, created: Option<&str>) -> LookupTarget {
        LookupTarget {
            resource_id: id.into(),
            name: id.rsplit('/').next().unwrap().into(),
            resource_type: "Microsoft.Storage/storageAccounts".into(),
            location: Some("westeurope".into()),
            created_at: created.map(|c| c.parse().unwrap()),
        }
    }

    fn ev(id: &str, corr: &str, status: &str, sub: &str, time: &str, caller: &str) -> Value {
        json!({
            "caller": caller,
            "correlationId": corr,
            "operationName": {"value": "Microsoft.Storage/storageAccounts/write",
                              "localizedValue": "Create/Update Storage Account"},
            "status": {"value": status, "localizedValue": status},
            "subStatus": {"value": sub, "localizedValue": sub},
            "eventTimestamp": time,
            "resourceId": id,
            "claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": caller,
                       "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"}
        })
    }

    const ID: &str =
        "/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.Storage/storageAccounts/st";

    #[test]
    fn the_filter_follows_the_documented_grammar_and_escapes_quotes() {
        let from = "2026-09-03T12:00:00Z".parse().unwrap();
        let to = "2026-12-02T12:00:00Z".parse().unwrap();
        assert_eq!(
            filter("/subscriptions/s/x/o'neil", from, to),
            "eventTimestamp ge '2026-09-03T12:00:00Z' and eventTimestamp le \
             '2026-12-02T12:00:00Z' and resourceUri eq '/subscriptions/s/x/o''neil'"
        );
        assert_eq!(encode("a b/'c'"), "a%20b%2F%27c%27");
    }

    #[test]
    fn a_failed_operation_and_another_resources_write_are_never_the_creation() {
        let other = ID.replace("rg-a", "rg-b");
        let events = vec![
            ev(
                &other,
                "c0",
                "Succeeded",
                "Created",
                "2026-11-01T08:00:00Z",
                "eve@x.nl",
            ),
            ev(ID, "c1", "Started", "", "2026-11-02T08:00:00Z", "bob@x.nl"),
            ev(
                ID,
                "c1",
                "Failed",
                "Conflict",
                "2026-11-02T08:00:05Z",
                "bob@x.nl",
            ),
            ev(ID, "c2", "Started", "", "2026-11-03T09:00:00Z", "jan@x.nl"),
            ev(
                ID,
                "c2",
                "Accepted",
                "Accepted",
                "2026-11-03T09:00:02Z",
                "jan@x.nl",
            ),
            ev(
                ID,
                "c2",
                "Succeeded",
                "",
                "2026-11-03T09:01:00Z",
                "jan@x.nl",
            ),
            ev(
                ID,
                "c3",
                "Succeeded",
                "OK",
                "2026-11-20T09:00:00Z",
                "piet@x.nl",
            ),
        ];
        let op = creation(&events, &t(&ID.to_uppercase(), None)).unwrap();
        assert_eq!(op.principal.unwrap().1, "jan@x.nl");
        assert_eq!(op.start.to_rfc3339(), "2026-11-03T09:00:00+00:00");
        assert_eq!(op.operation, "Microsoft.Storage/storageAccounts/write");
        // With a known creation time the nearest operation wins, even a later one.
        let op = creation(&events, &t(ID, Some("2026-11-20T08:59:30Z"))).unwrap();
        assert_eq!(op.principal.unwrap().1, "piet@x.nl");
    }

    #[test]
    fn a_created_answer_wins_over_an_earlier_update_when_the_creation_time_is_unknown() {
        let events = vec![
            ev(
                ID,
                "u",
                "Succeeded",
                "OK",
                "2026-10-01T08:00:00Z",
                "upd@x.nl",
            ),
            ev(
                ID,
                "k",
                "Succeeded",
                "Created",
                "2026-10-05T08:00:00Z",
                "mk@x.nl",
            ),
        ];
        assert_eq!(
            creation(&events, &t(ID, None))
                .unwrap()
                .principal
                .unwrap()
                .1,
            "mk@x.nl"
        );
    }

    #[test]
    fn an_application_caller_is_named_as_an_app() {
        let sp = json!({"caller": "9e1f3f1a-0000-4000-8000-00000000beef",
            "claims": {"appid": "1234abcd-0000-4000-8000-000000000001", "idtyp": "app"}});
        assert_eq!(
            principal(&sp).unwrap(),
            "app 1234abcd-0000-4000-8000-000000000001 (9e1f3f1a-0000-4000-8000-00000000beef)"
        );
        let same = json!({"caller": "1234abcd-0000-4000-8000-000000000001",
            "claims": {"appid": "1234abcd-0000-4000-8000-000000000001"}});
        assert_eq!(
            principal(&same).unwrap(),
            "app 1234abcd-0000-4000-8000-000000000001"
        );
        // A user signs in through an app too (the portal): still the user.
        let user = json!({"caller": "admin@contoso.com", "claims": {
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "admin@contoso.com",
            "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"}});
        assert_eq!(principal(&user).unwrap(), "admin@contoso.com");
    }
}
