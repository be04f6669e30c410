//! Scan orchestration: every configured source, one bounded pipeline, one atomic commit.
//!
//! Why it is shaped this way:
//!
//! * **Failures are coverage.** A source that cannot be built (bad credentials), whose
//!   identity or discovery fails (endpoint unreachable) becomes a coverage entry naming
//!   the source and its endpoint, and the scan goes on with the others. Only when nothing
//!   at all could be listed is nothing committed.
//! * **Visible limits.** Scope inventories run through one `buffer_unordered` bounded by
//!   the config's `max_concurrency`; per provider, a semaphore holds the scopes in flight
//!   to the largest `max_concurrency` of that provider's sources (each source also caps
//!   its own requests inside the connector).
//! * **Streaming, one writer.** Observations flow through a bounded channel into a single
//!   writer thread that owns the store and its open [`ScanWriter`](crate::store::ScanWriter)
//!   (SQLite connections are not shared across threads). A slow disk slows the listing
//!   down instead of filling memory.
//! * **Who created it.** After the listing, the resources a security team must chase
//!   (unregistered, unknown activity id; see [`crate::matching::Match::needs_owner`]) that
//!   the previous scan has no final answer for are looked up in the providers' audit logs
//!   ([`Connector::creators`]), at most `creator_lookup_max` per source; the rest are
//!   recorded as skipped. Answers and the lookups' coverage are part of the scan.
//! * **All or nothing.** The writer commits only on an explicit finish. Ctrl-C / SIGTERM,
//!   a failure, or "nothing scanned" drop the channel instead, and the writer's drop rolls
//!   the transaction back: the store is exactly as before.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cloudcensus_core::{
    Catalog, Connector, ConnectorError, Coverage, CoverageStatus, Creator, CreatorStatus,
    LookupTarget, Observation, Provider, Resource, ResourceGroup, ScanMeta, Scope,
};
use futures::StreamExt;
use tokio::sync::{Semaphore, mpsc};

use crate::config::Config;
use crate::matching::{MatchSettings, Matcher};
use crate::register::Register;
use crate::store::{self, Committed, StoreError};

/// How many records may wait for the writer before the listing pauses.
const CHANNEL_CAPACITY: usize = 4096;

/// Service name of coverage entries for a source that failed before listing anything.
pub const SOURCE_SERVICE: &str = "source";

/// Errors that stop a scan as a whole (not coverage: the tool itself failed).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// No `[[aws]]`, `[[azure]]` or `[[gcp]]` table in the configuration.
    #[error(
        "{0} configures no sources: add at least one [[aws]], [[azure]] or [[gcp]] table (see `cloudcensus config example`)"
    )]
    NoSources(String),
    /// The store refused the scan (locked, unreadable, invalid metadata).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The writer thread ended unexpectedly.
    #[error("the store writer stopped unexpectedly")]
    WriterLost,
}

/// One configured source, connected.
pub struct Source {
    /// The provider.
    pub provider: Provider,
    /// The configured name.
    pub name: String,
    /// Where it connects (for messages).
    pub endpoint: String,
    /// The source's own `max_concurrency`.
    pub limit: usize,
    /// `creator_lookup_max` when `creator_lookup` is on; `None`: no lookups.
    pub creator_lookup: Option<usize>,
    /// The connector.
    pub connector: Box<dyn Connector>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// A coverage entry for a source that failed as a whole, naming it and its endpoint.
pub fn source_failure(provider: Provider, endpoint: &str, err: &ConnectorError) -> Coverage {
    let status = match err {
        ConnectorError::Credentials { .. } => CoverageStatus::Denied,
        _ => CoverageStatus::Error,
    };
    Coverage::failed(
        provider,
        "*",
        "*",
        SOURCE_SERVICE,
        status,
        format!("{err} (endpoint {endpoint})"),
    )
}

/// Connects every configured source. A source that cannot be built becomes a coverage
/// entry instead (the scan goes on with the others).
pub async fn build_sources(
    // Unused only in a build without any connector feature.
    #[allow(unused_variables)] cfg: &Config,
    #[allow(unused_variables)] catalog: &Catalog,
) -> (Vec<Source>, Vec<Coverage>) {
    #[allow(unused_mut)]
    let mut sources: Vec<Source> = Vec::new();
    #[allow(unused_mut)]
    let mut failed: Vec<Coverage> = Vec::new();
    #[cfg(feature = "aws")]
    for s in &cfg.aws {
        let endpoint = s
            .endpoint_url
            .clone()
            .unwrap_or_else(|| "the AWS regional endpoints".into());
        match cloudcensus_aws::connect(s).await {
            Ok(c) => sources.push(Source {
                provider: Provider::Aws,
                name: s.name.clone(),
                endpoint,
                limit: s.max_concurrency,
                creator_lookup: s.creator_lookup.then_some(s.creator_lookup_max),
                connector: Box::new(c),
            }),
            Err(e) => failed.push(source_failure(Provider::Aws, &endpoint, &e)),
        }
    }
    #[cfg(feature = "azure")]
    for s in &cfg.azure {
        let endpoint = s.arm_base().to_string();
        match cloudcensus_azure::connect(s).await {
            Ok(c) => sources.push(Source {
                provider: Provider::Azure,
                name: s.name.clone(),
                endpoint,
                limit: s.max_concurrency,
                creator_lookup: s.creator_lookup.then_some(s.creator_lookup_max),
                connector: Box::new(c.with_catalog(catalog.clone())),
            }),
            Err(e) => failed.push(source_failure(Provider::Azure, &endpoint, &e)),
        }
    }
    #[cfg(feature = "gcp")]
    for s in &cfg.gcp {
        let endpoint = s
            .resourcemanager_endpoint
            .clone()
            .unwrap_or_else(|| "https://cloudresourcemanager.googleapis.com".into());
        match cloudcensus_gcp::connect(s).await {
            Ok(c) => {
                let endpoint = format!(
                    "{endpoint}, {}, {}",
                    s.asset_endpoint
                        .as_deref()
                        .unwrap_or("https://cloudasset.googleapis.com"),
                    c.storage_endpoint()
                );
                sources.push(Source {
                    provider: Provider::Gcp,
                    name: s.name.clone(),
                    endpoint,
                    limit: s.max_concurrency,
                    creator_lookup: s.creator_lookup.then_some(s.creator_lookup_max),
                    connector: Box::new(c),
                })
            }
            Err(e) => failed.push(source_failure(Provider::Gcp, &endpoint, &e)),
        }
    }
    (sources, failed)
}

/// What the orchestrator tells the user interface while it runs. Every method has a
/// no-op default; implementations must be cheap (they are called per observation).
pub trait Progress: Send + Sync {
    /// A source starts discovering its scopes.
    fn source_started(&self, _provider: Provider, _name: &str) {}
    /// A source found `n` scopes.
    fn scopes_found(&self, _provider: Provider, _n: usize) {}
    /// One scope's inventory is complete.
    fn scope_done(&self, _provider: Provider) {}
    /// One resource was observed.
    fn resource(&self, _provider: Provider) {}
    /// A coverage gap (denied, throttled, error) was recorded.
    fn gap(&self, _provider: Provider, _coverage: &Coverage) {}
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What the listing saw, as counted while streaming.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Scopes discovered, per provider.
    pub scopes: BTreeMap<Provider, usize>,
    /// Resources observed, per provider.
    pub resources: BTreeMap<Provider, u64>,
    /// Coverage entries with status `scanned`.
    pub scanned: usize,
    /// Coverage entries that are gaps.
    pub gaps: usize,
    /// Every coverage entry (small: scopes × services), for the summary and dry runs.
    pub coverage: Vec<Coverage>,
    /// Identities the sources ran as: `provider source 'name': identity`.
    pub identities: Vec<String>,
}

impl Tally {
    fn coverage(&mut self, c: &Coverage, progress: &dyn Progress) {
        if c.status == CoverageStatus::Scanned {
            self.scanned += 1;
        } else if c.status.is_gap() {
            self.gaps += 1;
            progress.gap(c.provider, c);
        }
        self.coverage.push(c.clone());
    }

    /// Whether anything at all was listed.
    pub fn anything_scanned(&self) -> bool {
        self.scanned > 0 || self.resources.values().any(|&n| n > 0)
    }
}

/// One record for the writer.
#[derive(Debug)]
pub enum Record {
    /// A discovered scope.
    Scope(Scope),
    /// A resource group.
    Group(ResourceGroup),
    /// A resource.
    Resource(cloudcensus_core::Resource),
    /// A coverage entry.
    Coverage(Coverage),
    /// Who created a resource.
    Creator(Creator),
}

/// Where records go: the store writer, or nowhere (dry run).
#[derive(Clone)]
pub struct Sink(Option<mpsc::Sender<Msg>>);

impl Sink {
    /// A sink that drops everything (dry run).
    pub fn discard() -> Self {
        Sink(None)
    }

    async fn send(&self, r: Record) -> Result<(), ()> {
        match &self.0 {
            Some(tx) => tx.send(Msg::Record(r)).await.map_err(|_| ()),
            None => Ok(()),
        }
    }
}

/// What discovery found for one source: identity, scopes, discovery coverage.
type Discovered = (String, Vec<Scope>, Vec<Coverage>);

/// Discovers every source's scopes, then lists every scope's inventory with bounded
/// concurrency, sending everything to `sink`. Returns what was counted, or `Err(())`
/// when the sink went away (the writer failed; its error says why).
pub async fn list_all(
    sources: &[Source],
    max_concurrency: usize,
    timeout: Option<Duration>,
    lookups: Option<&Lookups<'_>>,
    sink: &Sink,
    progress: &dyn Progress,
    tally: &mut Tally,
) -> Result<(), ()> {
    let max_concurrency = max_concurrency.max(1);
    let deadline = timeout.map(|t| Deadline {
        at: tokio::time::Instant::now() + t,
        secs: t.as_secs(),
    });
    // Phase 1: identity and discovery, all sources at once (bounded).
    let discovered: Vec<(usize, Result<Discovered, Coverage>)> =
        futures::stream::iter(sources.iter().enumerate())
            .map(|(i, s)| async move {
                progress.source_started(s.provider, &s.name);
                let discover = async {
                    let fail = |e: ConnectorError| source_failure(s.provider, &s.endpoint, &e);
                    let identity = s.connector.identity().await.map_err(fail)?;
                    let scopes = s.connector.scopes().await.map_err(fail)?;
                    let extra = s.connector.discovery_coverage();
                    Ok((identity, scopes, extra))
                };
                match within(deadline, discover).await {
                    Ok(outcome) => (i, outcome),
                    Err(d) => (i, Err(d.coverage(s.provider, "*"))),
                }
            })
            .buffer_unordered(max_concurrency)
            .collect()
            .await;
    let mut discovered = discovered;
    discovered.sort_by_key(|(i, _)| *i);

    let mut per_source: Vec<std::collections::VecDeque<(usize, Scope)>> = Vec::new();
    for (i, outcome) in discovered {
        let s = &sources[i];
        match outcome {
            Ok((identity, scopes, extra)) => {
                tracing::info!(provider = %s.provider, source = %s.name, scopes = scopes.len(), identity = %identity, "discovered");
                tally
                    .identities
                    .push(format!("{} source '{}': {identity}", s.provider, s.name));
                progress.scopes_found(s.provider, scopes.len());
                *tally.scopes.entry(s.provider).or_default() += scopes.len();
                for scope in &scopes {
                    sink.send(Record::Scope(scope.clone())).await?;
                }
                for c in extra {
                    tally.coverage(&c, progress);
                    sink.send(Record::Coverage(c)).await?;
                }
                per_source.push(scopes.into_iter().map(|sc| (i, sc)).collect());
            }
            Err(c) => {
                tracing::warn!(provider = %s.provider, source = %s.name, "{}", c.message.as_deref().unwrap_or(""));
                progress.scopes_found(s.provider, 0);
                tally.coverage(&c, progress);
                sink.send(Record::Coverage(c)).await?;
            }
        }
    }

    // Round-robin over the sources, so a provider at its own limit does not hold every
    // global slot while another provider's scopes wait.
    let mut work: Vec<(usize, Scope)> = Vec::new();
    while per_source.iter().any(|q| !q.is_empty()) {
        for q in per_source.iter_mut() {
            work.extend(q.pop_front());
        }
    }

    // Phase 2: inventories, bounded globally and per provider.
    let mut per_provider: HashMap<Provider, Arc<Semaphore>> = HashMap::new();
    for s in sources {
        let limit = sources
            .iter()
            .filter(|o| o.provider == s.provider)
            .map(|o| o.limit)
            .max()
            .unwrap_or(1)
            .clamp(1, max_concurrency);
        per_provider
            .entry(s.provider)
            .or_insert_with(|| Arc::new(Semaphore::new(limit)));
    }
    let tally_cell = std::sync::Mutex::new(std::mem::take(tally));
    let per_provider = &per_provider;
    let tally_ref = &tally_cell;
    // The resources that may need a creator lookup, gathered while they stream past (only
    // when the scan looks creators up): their own tags are judged now, inherited links
    // once every scope and group is known.
    let own_tags = lookups.map(|l| Matcher::new(&l.plan.register, &[], &[], &l.plan.settings));
    let gathered = std::sync::Mutex::new(Gathered {
        per_source: vec![Vec::new(); sources.len()],
        groups: Vec::new(),
    });
    let (own_tags, gathered_ref) = (&own_tags, &gathered);
    let results: Vec<Result<(), ()>> = futures::stream::iter(work.iter())
        .map(|(i, scope)| async move {
            let s = &sources[*i];
            let listing = async {
                let _permit = per_provider[&s.provider].acquire().await.map_err(|_| ())?;
                let mut stream = s.connector.inventory(scope);
                while let Some(item) = stream.next().await {
                    let record = match item {
                        Ok(Observation::Resource(r)) => {
                            progress.resource(s.provider);
                            *lock(tally_ref).resources.entry(s.provider).or_default() += 1;
                            if let (Some(m), Some(l)) = (own_tags, lookups)
                                && r.is_data_bearing()
                                && !linked_by_own_tags(m, &r)
                            {
                                let slim = slim(&r, &l.plan.settings);
                                lock_g(gathered_ref).per_source[*i].push(slim);
                            }
                            Record::Resource(r)
                        }
                        Ok(Observation::ResourceGroup(g)) => {
                            if lookups.is_some() {
                                lock_g(gathered_ref).groups.push(g.clone());
                            }
                            Record::Group(g)
                        }
                        Ok(Observation::Coverage(c)) => {
                            lock(tally_ref).coverage(&c, progress);
                            Record::Coverage(c)
                        }
                        Err(e) => {
                            // The connector failed as a whole while listing this scope: what
                            // was not listed is a gap for the scope.
                            let c = Coverage::failed(
                                s.provider,
                                scope.id.clone(),
                                "*",
                                SOURCE_SERVICE,
                                CoverageStatus::Error,
                                format!("{e} (endpoint {})", s.endpoint),
                            );
                            lock(tally_ref).coverage(&c, progress);
                            sink.send(Record::Coverage(c)).await?;
                            break;
                        }
                    };
                    sink.send(record).await?;
                }
                Ok(())
            };
            let outcome = match within(deadline, listing).await {
                Ok(r) => r,
                Err(d) => {
                    // Out of time: what this scope listed so far is kept; the rest of it
                    // is a gap, never "nothing there".
                    let c = d.coverage(s.provider, &scope.id);
                    lock(tally_ref).coverage(&c, progress);
                    sink.send(Record::Coverage(c)).await
                }
            };
            progress.scope_done(s.provider);
            outcome
        })
        .buffer_unordered(max_concurrency)
        .collect()
        .await;
    *tally = tally_cell.into_inner().unwrap_or_else(|p| p.into_inner());
    results.into_iter().collect::<Result<(), ()>>()?;
    match lookups {
        Some(l) => {
            let gathered = gathered.into_inner().unwrap_or_else(|p| p.into_inner());
            let plan = LookupRun {
                sources,
                work: &work,
                max_concurrency,
                deadline,
                sink,
                progress,
            };
            plan.run(l, gathered, tally).await
        }
        None => Ok(()),
    }
}

/// What the organisation's earlier scans and the register say about creator lookups.
#[derive(Debug, Clone)]
pub struct CreatorPlan {
    /// The register resources are matched against (who needs an owner).
    pub register: Register,
    /// The configuration's `[matching]`.
    pub settings: MatchSettings,
}

/// A [`CreatorPlan`] with the answers a scan may keep.
#[derive(Debug)]
pub struct Lookups<'a> {
    /// Register and matching.
    pub plan: &'a CreatorPlan,
    /// The final answers (found, older than the log) of the organisation's previous scan,
    /// by provider and lower-case resource id: kept instead of asked again.
    pub known: HashMap<(Provider, String), Creator>,
}

/// Resources gathered during the listing for the lookups.
#[derive(Debug, Default)]
struct Gathered {
    /// Per source (index into the sources), the data-bearing resources their own tags do
    /// not link, with only the activity tags kept.
    per_source: Vec<Vec<Resource>>,
    /// Every resource group (their tags link resources too).
    groups: Vec<ResourceGroup>,
}

fn lock_g(m: &std::sync::Mutex<Gathered>) -> std::sync::MutexGuard<'_, Gathered> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether the resource's own tags already link it to known activities only (then no
/// inherited tag or mapping can make it unregistered).
fn linked_by_own_tags(own_tags: &Matcher<'_>, r: &Resource) -> bool {
    let m = own_tags.resource(r);
    m.source == Some(crate::matching::LinkSource::ResourceTag)
        && !m.activities.is_empty()
        && m.unknown_ids.is_empty()
}

/// The resource with only the tags matching reads (memory: thousands may be kept).
fn slim(r: &Resource, settings: &MatchSettings) -> Resource {
    let tags = r
        .tags
        .iter()
        .filter(|(k, _)| {
            settings
                .tag_keys
                .iter()
                .any(|want| want.trim().eq_ignore_ascii_case(k.trim()))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Resource {
        tags,
        replica_locations: Vec::new(),
        ..r.clone()
    }
}

/// Phase 3 of a scan: the creator lookups.
struct LookupRun<'a> {
    sources: &'a [Source],
    work: &'a [(usize, Scope)],
    max_concurrency: usize,
    deadline: Option<Deadline>,
    sink: &'a Sink,
    progress: &'a dyn Progress,
}

impl LookupRun<'_> {
    async fn run(self, l: &Lookups<'_>, gathered: Gathered, tally: &mut Tally) -> Result<(), ()> {
        let scopes: Vec<Scope> = self.work.iter().map(|(_, s)| s.clone()).collect();
        let matcher = Matcher::new(
            &l.plan.register,
            &scopes,
            &gathered.groups,
            &l.plan.settings,
        );
        let mut calls: Vec<(usize, &Scope, Vec<LookupTarget>)> = Vec::new();
        for (i, s) in self.sources.iter().enumerate() {
            let mut ask: Vec<&Resource> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for r in &gathered.per_source[i] {
                if !matcher.resource(r).needs_owner(r) || !seen.insert(r.id.to_ascii_lowercase()) {
                    continue;
                }
                match l.known.get(&(r.provider, r.id.to_ascii_lowercase())) {
                    Some(c) if c.status.is_final() => {
                        let kept = Creator {
                            resource_id: r.id.clone(),
                            ..c.clone()
                        };
                        self.sink.send(Record::Creator(kept)).await?;
                    }
                    _ => ask.push(r),
                }
            }
            let Some(max) = s.creator_lookup else {
                continue; // lookups off: earlier answers are kept, nothing is asked
            };
            // Newest first: they are the likeliest to be in the log, and the likeliest to
            // matter. Unknown creation times last, then by id (deterministic).
            ask.sort_by(|a, b| {
                b.created_at
                    .cmp(&a.created_at)
                    .then_with(|| a.id.cmp(&b.id))
            });
            let now = ask.len().min(max);
            if ask.len() > now {
                tracing::warn!(provider = %s.provider, source = %s.name, asked = now, skipped = ask.len() - now,
                    "creator_lookup_max reached: the rest are looked up in a later scan");
            }
            for r in &ask[now..] {
                let c = Creator::unknown(
                    r.provider,
                    r.id.clone(),
                    CreatorStatus::Skipped,
                    "none",
                    format!(
                        "not looked up in this scan: creator_lookup_max = {max} of source '{}' \
                         was reached; it is tried again in the next scan",
                        s.name
                    ),
                );
                self.sink.send(Record::Creator(c)).await?;
            }
            let mut by_scope: BTreeMap<&str, Vec<LookupTarget>> = BTreeMap::new();
            for r in &ask[..now] {
                by_scope
                    .entry(r.scope_id.as_str())
                    .or_default()
                    .push(LookupTarget {
                        resource_id: r.id.clone(),
                        name: r.name.clone(),
                        resource_type: r.resource_type.clone(),
                        location: r.location.clone(),
                        created_at: r.created_at,
                    });
            }
            for (scope_id, targets) in by_scope {
                match self
                    .work
                    .iter()
                    .find(|(j, sc)| *j == i && sc.id == scope_id)
                {
                    Some((_, scope)) => calls.push((i, scope, targets)),
                    None => {
                        for t in targets {
                            let c = Creator::unknown(
                                s.provider,
                                t.resource_id,
                                CreatorStatus::Failed,
                                "none",
                                format!("its scope {scope_id} is not one this source discovered"),
                            );
                            self.sink.send(Record::Creator(c)).await?;
                        }
                    }
                }
            }
        }
        let (sources, deadline) = (self.sources, self.deadline);
        let answers: Vec<_> = futures::stream::iter(calls)
            .map(|(i, scope, targets)| async move {
                let s = &sources[i];
                let ids: Vec<String> = targets.iter().map(|t| t.resource_id.clone()).collect();
                let answer = within(deadline, s.connector.creators(scope, &targets)).await;
                (i, scope, ids, answer)
            })
            .buffer_unordered(self.max_concurrency)
            .collect()
            .await;
        for (i, scope, ids, answer) in answers {
            let provider = self.sources[i].provider;
            let mut answer = answer.unwrap_or_else(|d| cloudcensus_core::CreatorLookup {
                creators: Vec::new(),
                coverage: vec![Coverage::failed(
                    provider,
                    scope.id.clone(),
                    "*",
                    format!("{}scan", cloudcensus_core::creator::LOOKUP_SERVICE_PREFIX),
                    CoverageStatus::Error,
                    format!(
                        "the scan reached scan_timeout_secs = {} before the creator lookups of \
                         this scope finished; raise scan_timeout_secs or lower \
                         creator_lookup_max",
                        d.secs
                    ),
                )],
            });
            // Every target gets an answer: the connector's, or why there is none.
            let answered: std::collections::HashSet<String> = answer
                .creators
                .iter()
                .map(|c| c.resource_id.to_ascii_lowercase())
                .collect();
            for id in ids {
                if !answered.contains(&id.to_ascii_lowercase()) {
                    answer.creators.push(Creator::unknown(
                        provider,
                        id,
                        CreatorStatus::Failed,
                        "none",
                        "the lookup gave no answer (see this scope's creator-lookup coverage)",
                    ));
                }
            }
            for c in answer.coverage {
                tally.coverage(&c, self.progress);
                self.sink.send(Record::Coverage(c)).await?;
            }
            for c in answer.creators {
                self.sink.send(Record::Creator(c)).await?;
            }
        }
        Ok(())
    }
}

/// When the whole scan must end (`scan_timeout_secs`).
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: tokio::time::Instant,
    secs: u64,
}

impl Deadline {
    /// The gap left by a scope (or, with `*`, a whole source) the deadline cut short.
    fn coverage(self, provider: Provider, scope_id: &str) -> Coverage {
        Coverage::failed(
            provider,
            scope_id,
            "*",
            SOURCE_SERVICE,
            CoverageStatus::Error,
            format!(
                "the scan reached scan_timeout_secs = {} before this was completely listed; \
                 what was listed is kept. Raise scan_timeout_secs, or split the sources over \
                 several configurations",
                self.secs
            ),
        )
    }
}

/// Runs `f` until `deadline`; `Err` with the deadline when it came first.
async fn within<F: Future>(deadline: Option<Deadline>, f: F) -> Result<F::Output, Deadline> {
    match deadline {
        None => Ok(f.await),
        Some(d) => tokio::time::timeout_at(d.at, f).await.map_err(|_| d),
    }
}

fn lock(m: &std::sync::Mutex<Tally>) -> std::sync::MutexGuard<'_, Tally> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Inputs of [`run`].
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// The store file.
    pub store: PathBuf,
    /// Organisation.
    pub organisation: String,
    /// Period `YYYY-MM`.
    pub period: String,
    /// SHA-256 of the configuration text.
    pub config_digest: String,
    /// Global limit on scopes in flight.
    pub max_concurrency: usize,
    /// Longest the listing may take (`scan_timeout_secs`); `None`: no limit.
    pub timeout: Option<Duration>,
    /// Creator lookups (needs the register); `None`: none, and no answers kept.
    pub creator_plan: Option<CreatorPlan>,
}

/// How a scan ended.
#[derive(Debug)]
pub enum Outcome {
    /// Committed.
    Committed {
        /// What the store committed.
        committed: Committed,
        /// What was counted while listing.
        tally: Tally,
    },
    /// Nothing could be listed at all; nothing was committed.
    NothingScanned {
        /// What was counted (the gaps say why).
        tally: Tally,
    },
    /// Interrupted (Ctrl-C / SIGTERM); nothing was committed.
    Interrupted,
}

/// A message to the writer thread.
#[derive(Debug)]
pub enum Msg {
    /// Write one record.
    Record(Record),
    /// Commit with the final metadata.
    Finish {
        /// End of the scan.
        finished_at: DateTime<Utc>,
        /// Identities the sources ran as.
        identities: Vec<String>,
    },
}

/// The writer thread: owns the store and the open scan; commits only on `Finish`.
fn writer_loop(
    path: &Path,
    meta: ScanMeta,
    mut rx: mpsc::Receiver<Msg>,
    ready: std::sync::mpsc::Sender<Option<(String, Known)>>,
) -> Result<Option<Committed>, StoreError> {
    let mut store = match store::open_or_create(path) {
        Ok(s) => s,
        Err(e) => {
            let _ = ready.send(None);
            return Err(e);
        }
    };
    let known = previous_creators(store.as_ref(), &meta.organisation);
    let mut writer = match store.begin_scan(meta) {
        Ok(w) => w,
        Err(e) => {
            let _ = ready.send(None);
            return Err(e);
        }
    };
    let _ = ready.send(Some((writer.id().to_string(), known)));
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Msg::Record(Record::Scope(s)) => writer.add_scope(&s)?,
            Msg::Record(Record::Group(g)) => writer.add_group(&g)?,
            Msg::Record(Record::Resource(r)) => writer.add_resource(&r)?,
            Msg::Record(Record::Coverage(c)) => writer.add_coverage(&c)?,
            Msg::Record(Record::Creator(c)) => writer.add_creator(&c)?,
            Msg::Finish {
                finished_at,
                identities,
            } => {
                writer.finish_meta(finished_at, identities)?;
                return writer.commit().map(Some);
            }
        }
    }
    // The channel closed without Finish: dropping the writer rolls the scan back.
    Ok(None)
}

/// Final creator answers by provider and lower-case resource id.
type Known = HashMap<(Provider, String), Creator>;

/// The final creator answers of the organisation's latest committed scan. A store that
/// cannot say (an unreadable row) costs only a repeated lookup, so it is logged, not fatal.
fn previous_creators(store: &dyn store::Store, organisation: &str) -> Known {
    let latest = match store.list_scans() {
        Ok(scans) => scans
            .into_iter()
            .filter(|s| s.organisation == organisation)
            .max_by_key(|s| (s.finished_at, s.seq)),
        Err(e) => {
            tracing::warn!(error = %e, "cannot list earlier scans: every creator is looked up again");
            None
        }
    };
    let Some(latest) = latest else {
        return Known::new();
    };
    match store.creators(&latest.id) {
        Ok(creators) => creators
            .into_iter()
            .filter(|c| c.status.is_final())
            .map(|c| ((c.provider, c.resource_id.to_ascii_lowercase()), c))
            .collect(),
        Err(e) => {
            tracing::warn!(scan = %latest.id, error = %e, "cannot read the creators of the previous scan: they are looked up again");
            Known::new()
        }
    }
}

/// Runs a whole scan: opens the scan in the store (failing fast when it is locked),
/// lists every source into it, and commits — unless `cancel` completes first, a
/// failure stops the writer, or nothing at all could be listed.
pub fn run(
    req: &ScanRequest,
    sources: Vec<Source>,
    failed_sources: Vec<Coverage>,
    progress: &dyn Progress,
    runtime: &tokio::runtime::Runtime,
    cancel: impl Future<Output = ()>,
) -> Result<Outcome, ScanError> {
    let started_at = Utc::now();
    let meta = ScanMeta {
        id: String::new(),
        organisation: req.organisation.clone(),
        period: req.period.clone(),
        started_at,
        finished_at: started_at,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        identities: Vec::new(),
        config_digest: req.config_digest.clone(),
    };
    let (tx, rx) = mpsc::channel::<Msg>(CHANNEL_CAPACITY);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let store_path = req.store.clone();
        let writer = scope.spawn(move || writer_loop(&store_path, meta, rx, ready_tx));
        let join = |w: std::thread::ScopedJoinHandle<'_, Result<Option<Committed>, StoreError>>| {
            w.join().map_err(|_| ScanError::WriterLost)
        };
        let known = match ready_rx.recv() {
            Ok(Some((id, known))) => {
                tracing::info!(scan = %id, "scan opened");
                known
            }
            Ok(None) | Err(_) => {
                drop(tx);
                return match join(writer)? {
                    Err(e) => Err(ScanError::Store(e)),
                    Ok(_) => Err(ScanError::WriterLost),
                };
            }
        };
        let lookups = req
            .creator_plan
            .as_ref()
            .map(|plan| Lookups { plan, known });
        let sink = Sink(Some(tx.clone()));
        let listed = runtime.block_on(async {
            let work = async {
                let mut tally = Tally::default();
                let mut ok = Ok(());
                for c in failed_sources {
                    tally.coverage(&c, progress);
                    if sink.send(Record::Coverage(c)).await.is_err() {
                        ok = Err(());
                    }
                }
                if ok.is_ok() {
                    ok = list_all(
                        &sources,
                        req.max_concurrency,
                        req.timeout,
                        lookups.as_ref(),
                        &sink,
                        progress,
                        &mut tally,
                    )
                    .await;
                }
                drop(sink);
                (ok, tally)
            };
            tokio::select! {
                r = work => Some(r),
                () = cancel => None,
            }
        });
        let Some((ok, tally)) = listed else {
            drop(tx);
            return match join(writer)? {
                Err(e) => Err(ScanError::Store(e)),
                Ok(_) => Ok(Outcome::Interrupted),
            };
        };
        if ok.is_err() || !tally.anything_scanned() {
            drop(tx);
            return match join(writer)? {
                Err(e) => Err(ScanError::Store(e)),
                Ok(_) if ok.is_err() => Err(ScanError::WriterLost),
                Ok(_) => Ok(Outcome::NothingScanned { tally }),
            };
        }
        let mut identities = tally.identities.clone();
        identities.sort();
        let finish = Msg::Finish {
            finished_at: Utc::now().max(started_at),
            identities,
        };
        let sent = tx.blocking_send(finish);
        drop(tx);
        match join(writer)? {
            Err(e) => Err(ScanError::Store(e)),
            Ok(Some(committed)) if sent.is_ok() => Ok(Outcome::Committed { committed, tally }),
            Ok(_) => Err(ScanError::WriterLost),
        }
    })
}

/// Resolves when the process receives Ctrl-C (SIGINT) or, on Unix, SIGTERM (what
/// Kubernetes and systemd send to stop a job).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = async {
            match signal(SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = term => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::warn!("interrupted: stopping the scan, nothing will be committed");
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use cloudcensus_core::{Category, Resource};
    use futures::stream::BoxStream;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts scopes in flight: per fake, per provider, and overall.
    #[derive(Default)]
    struct Gauge {
        now: AtomicUsize,
        max: AtomicUsize,
    }

    impl Gauge {
        fn enter(&self) {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(n, Ordering::SeqCst);
        }
        fn leave(&self) {
            self.now.fetch_sub(1, Ordering::SeqCst);
        }
    }

    struct Fake {
        provider: Provider,
        scopes: usize,
        fail_discovery: bool,
        fail_scope: Option<usize>,
        /// This scope's listing sends one resource, then never finishes.
        hang_scope: Option<usize>,
        provider_gauge: Arc<Gauge>,
        global: Arc<Gauge>,
    }

    #[async_trait]
    impl Connector for Fake {
        fn provider(&self) -> Provider {
            self.provider
        }
        fn name(&self) -> &str {
            "fake"
        }
        async fn identity(&self) -> cloudcensus_core::connector::Result<String> {
            Ok("fake-principal".into())
        }
        async fn scopes(&self) -> cloudcensus_core::connector::Result<Vec<Scope>> {
            if self.fail_discovery {
                return Err(ConnectorError::Unreachable {
                    provider: self.provider,
                    source_name: "fake".into(),
                    endpoint: "http://127.0.0.1:9".into(),
                    message: "connection refused".into(),
                });
            }
            Ok((0..self.scopes)
                .map(|i| Scope::new(self.provider, format!("s{i}")))
                .collect())
        }
        fn inventory<'a>(
            &'a self,
            scope: &'a Scope,
        ) -> BoxStream<'a, cloudcensus_core::connector::Result<Observation>> {
            futures::stream::once(async move {
                self.provider_gauge.enter();
                self.global.enter();
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                self.global.leave();
                self.provider_gauge.leave();
                let failing = self.fail_scope.map(|i| format!("s{i}")) == Some(scope.id.clone());
                let hanging = self.hang_scope.map(|i| format!("s{i}")) == Some(scope.id.clone());
                let mut items = vec![Ok(Observation::Resource(Resource {
                    provider: self.provider,
                    scope_id: scope.id.clone(),
                    id: format!("{}/r", scope.id),
                    resource_type: "t".into(),
                    category: Category::DataStore,
                    name: "r".into(),
                    location: None,
                    replica_locations: Vec::new(),
                    resource_group: None,
                    tags: Default::default(),
                    created_at: None,
                }))];
                if hanging {
                    return futures::stream::iter(items)
                        .chain(futures::stream::pending())
                        .boxed();
                }
                if failing {
                    items.push(Err(ConnectorError::Other {
                        provider: self.provider,
                        source_name: "fake".into(),
                        message: "token expired".into(),
                    }));
                } else {
                    items.push(Ok(Observation::Coverage(Coverage::scanned(
                        self.provider,
                        scope.id.clone(),
                        "*",
                        "svc",
                    ))));
                }
                futures::stream::iter(items).boxed()
            })
            .flatten()
            .boxed()
        }
    }

    fn source(provider: Provider, limit: usize, fake: Fake) -> Source {
        Source {
            provider,
            name: format!("{provider}-fake"),
            endpoint: "http://127.0.0.1:9".into(),
            limit,
            creator_lookup: None,
            connector: Box::new(fake),
        }
    }

    #[tokio::test]
    async fn inventories_respect_the_global_and_per_provider_limits_and_failures_become_coverage() {
        let global = Arc::new(Gauge::default());
        let azure = Arc::new(Gauge::default());
        let gcp = Arc::new(Gauge::default());
        let fake = |provider, scopes, gauge: &Arc<Gauge>| Fake {
            provider,
            scopes,
            fail_discovery: false,
            fail_scope: None,
            hang_scope: None,
            provider_gauge: gauge.clone(),
            global: global.clone(),
        };
        let mut failing = fake(Provider::Azure, 0, &azure);
        failing.fail_discovery = true;
        let mut broken_scope = fake(Provider::Gcp, 3, &gcp);
        broken_scope.fail_scope = Some(1);
        let sources = vec![
            source(Provider::Azure, 2, fake(Provider::Azure, 8, &azure)),
            source(Provider::Gcp, 8, fake(Provider::Gcp, 8, &gcp)),
            source(Provider::Azure, 1, failing),
            source(Provider::Gcp, 8, broken_scope),
        ];
        let mut tally = Tally::default();
        list_all(
            &sources,
            3,
            None,
            None,
            &Sink::discard(),
            &NoProgress,
            &mut tally,
        )
        .await
        .unwrap();
        let (g, a) = (
            global.max.load(Ordering::SeqCst),
            azure.max.load(Ordering::SeqCst),
        );
        assert!((2..=3).contains(&g), "global in flight {g}");
        assert!(a <= 2, "azure in flight {a}");
        assert_eq!(tally.resources[&Provider::Azure], 8);
        assert_eq!(tally.resources[&Provider::Gcp], 11);
        assert_eq!(tally.scanned, 8 + 8 + 2);
        assert_eq!(tally.identities.len(), 3);
        let gaps: Vec<&Coverage> = tally
            .coverage
            .iter()
            .filter(|c| c.status.is_gap())
            .collect();
        assert_eq!(gaps.len(), 2, "{gaps:?}");
        let discovery = gaps.iter().find(|c| c.scope_id == "*").unwrap();
        let msg = discovery.message.as_deref().unwrap();
        assert!(
            msg.contains("source 'fake'") && msg.contains("http://127.0.0.1:9"),
            "{msg}"
        );
        let scope = gaps.iter().find(|c| c.scope_id == "s1").unwrap();
        assert_eq!(scope.provider, Provider::Gcp);
        assert!(scope.message.as_deref().unwrap().contains("token expired"));
    }

    /// A connector whose inventory is a fixed list and whose audit log knows the
    /// resources whose name starts with `new-`; it records what it was asked.
    struct Audited {
        resources: Vec<Resource>,
        asked: Arc<std::sync::Mutex<Vec<String>>>,
    }

    #[async_trait]
    impl Connector for Audited {
        fn provider(&self) -> Provider {
            Provider::Aws
        }
        fn name(&self) -> &str {
            "audited"
        }
        async fn identity(&self) -> cloudcensus_core::connector::Result<String> {
            Ok("arn:aws:iam::111122223333:user/scanner".into())
        }
        async fn scopes(&self) -> cloudcensus_core::connector::Result<Vec<Scope>> {
            Ok(vec![Scope::new(Provider::Aws, "111122223333"), {
                let mut s = Scope::new(Provider::Aws, "444455556666");
                s.name = Some("sandbox".into());
                s
            }])
        }
        fn inventory<'a>(
            &'a self,
            scope: &'a Scope,
        ) -> BoxStream<'a, cloudcensus_core::connector::Result<Observation>> {
            let mut items: Vec<_> = self
                .resources
                .iter()
                .filter(|r| r.scope_id == scope.id)
                .cloned()
                .map(|r| Ok(Observation::Resource(r)))
                .collect();
            items.push(Ok(Observation::Coverage(Coverage::scanned(
                Provider::Aws,
                scope.id.clone(),
                "eu-west-1",
                "s3",
            ))));
            futures::stream::iter(items).boxed()
        }
        async fn creators(
            &self,
            scope: &Scope,
            targets: &[cloudcensus_core::LookupTarget],
        ) -> cloudcensus_core::CreatorLookup {
            let t = chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc);
            let mut asked = self.asked.lock().unwrap();
            cloudcensus_core::CreatorLookup {
                creators: targets
                    .iter()
                    .filter_map(|x| {
                        asked.push(x.name.clone());
                        // "mute-" targets get no answer at all: the pipeline must say so.
                        (!x.name.starts_with("mute-")).then(|| {
                            if x.name.starts_with("new-") {
                                Creator::found(
                                    Provider::Aws,
                                    x.resource_id.clone(),
                                    "arn:aws:iam::111122223333:user/jan",
                                    t,
                                    "cloudtrail:CreateBucket",
                                )
                            } else {
                                Creator::older_than(
                                    Provider::Aws,
                                    x.resource_id.clone(),
                                    "cloudtrail",
                                    90,
                                )
                            }
                        })
                    })
                    .collect(),
                coverage: vec![Coverage::scanned(
                    Provider::Aws,
                    scope.id.clone(),
                    "eu-west-1",
                    "creator-lookup:cloudtrail",
                )],
            }
        }
    }

    fn bucket(scope: &str, name: &str, tags: &[(&str, &str)], days_old: i64) -> Resource {
        Resource {
            provider: Provider::Aws,
            scope_id: scope.into(),
            id: format!("arn:aws:s3:::{name}"),
            resource_type: "s3:bucket".into(),
            category: Category::DataStore,
            name: name.into(),
            location: Some("eu-west-1".into()),
            replica_locations: Vec::new(),
            resource_group: None,
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            created_at: Some(Utc::now() - chrono::Duration::days(days_old)),
        }
    }

    #[tokio::test]
    async fn only_unowned_resources_are_looked_up_newest_first_within_the_cap_and_every_one_gets_an_answer()
     {
        let acct = "111122223333";
        let mut vm = bucket(acct, "vm-untagged", &[], 1);
        vm.resource_type = "ec2:security-group".into();
        vm.category = Category::classify(Provider::Aws, "ec2:security-group");
        assert!(!vm.is_data_bearing());
        let resources = vec![
            bucket(acct, "tagged-known", &[("verwerking", "VA-2026-001")], 1),
            bucket(acct, "new-untagged", &[], 2),
            bucket(acct, "old-unknown-id", &[("verwerking", "VA-9999-999")], 30),
            bucket(acct, "mute-untagged", &[], 40),
            bucket(acct, "kept-from-last-scan", &[], 50),
            bucket(acct, "over-the-cap", &[], 400),
            vm,
            bucket("444455556666", "sandbox-bucket", &[], 1),
        ];
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let audited = Audited {
            resources,
            asked: asked.clone(),
        };
        let plan = CreatorPlan {
            register: Register {
                source: "test".into(),
                activities: vec![crate::register::Activity {
                    id: "VA-2026-001".into(),
                    ..Default::default()
                }],
            },
            settings: MatchSettings {
                exclude_scopes: vec![crate::matching::ExcludedScope {
                    scope: "aws:444455556666".into(),
                    reason: "sandbox".into(),
                }],
                ..Default::default()
            },
        };
        let kept = Creator::found(
            Provider::Aws,
            "ARN:AWS:S3:::KEPT-FROM-LAST-SCAN",
            "arn:aws:iam::111122223333:user/piet",
            Utc::now(),
            "cloudtrail:CreateBucket",
        );
        let lookups = Lookups {
            plan: &plan,
            known: [(
                (Provider::Aws, kept.resource_id.to_ascii_lowercase()),
                kept.clone(),
            )]
            .into_iter()
            .collect(),
        };
        let sources = vec![Source {
            provider: Provider::Aws,
            name: "audited".into(),
            endpoint: "http://127.0.0.1:9".into(),
            limit: 4,
            creator_lookup: Some(3),
            connector: Box::new(audited),
        }];
        let (tx, mut rx) = mpsc::channel(1024);
        let mut tally = Tally::default();
        list_all(
            &sources,
            4,
            None,
            Some(&lookups),
            &Sink(Some(tx)),
            &NoProgress,
            &mut tally,
        )
        .await
        .unwrap();
        let mut creators = Vec::new();
        while let Ok(Msg::Record(r)) = rx.try_recv() {
            if let Record::Creator(c) = r {
                creators.push(c);
            }
        }
        let by_name = |n: &str| {
            creators
                .iter()
                .find(|c| c.resource_id == format!("arn:aws:s3:::{n}"))
                .unwrap_or_else(|| panic!("no creator for {n}: {creators:?}"))
        };
        assert_eq!(creators.len(), 5, "{creators:#?}");
        assert_eq!(
            by_name("new-untagged").display(),
            "arn:aws:iam::111122223333:user/jan"
        );
        assert_eq!(
            by_name("old-unknown-id").display(),
            "unknown (older than 90 days)"
        );
        assert_eq!(by_name("mute-untagged").status, CreatorStatus::Failed);
        assert_eq!(by_name("kept-from-last-scan").principal, kept.principal);
        let skipped = by_name("over-the-cap");
        assert_eq!(skipped.status, CreatorStatus::Skipped);
        assert!(
            skipped.display().contains("creator_lookup_max = 3"),
            "{}",
            skipped.display()
        );
        // Asked: the three newest that need an owner; not the kept one, the tagged one,
        // the security group or the excluded sandbox.
        let mut asked = asked.lock().unwrap().clone();
        asked.sort();
        assert_eq!(asked, ["mute-untagged", "new-untagged", "old-unknown-id"]);
        assert!(
            tally
                .coverage
                .iter()
                .any(|c| c.service == "creator-lookup:cloudtrail")
        );
    }

    #[tokio::test]
    async fn the_scan_timeout_ends_a_hanging_scope_as_a_gap_and_keeps_what_was_listed() {
        let global = Arc::new(Gauge::default());
        let gauge = Arc::new(Gauge::default());
        let sources = vec![source(
            Provider::Gcp,
            4,
            Fake {
                provider: Provider::Gcp,
                scopes: 4,
                fail_discovery: false,
                fail_scope: None,
                hang_scope: Some(2),
                provider_gauge: gauge,
                global,
            },
        )];
        let mut tally = Tally::default();
        let started = std::time::Instant::now();
        list_all(
            &sources,
            4,
            Some(Duration::from_secs(1)),
            None,
            &Sink::discard(),
            &NoProgress,
            &mut tally,
        )
        .await
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(10));
        // Every scope's resource was listed, the hanging one's included.
        assert_eq!(tally.resources[&Provider::Gcp], 4);
        let gaps: Vec<&Coverage> = tally
            .coverage
            .iter()
            .filter(|c| c.status.is_gap())
            .collect();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0].scope_id, "s2");
        assert_eq!(gaps[0].status, CoverageStatus::Error);
        assert!(
            gaps[0]
                .message
                .as_deref()
                .is_some_and(|m| m.contains("scan_timeout_secs = 1")),
            "{gaps:?}"
        );
    }
}
