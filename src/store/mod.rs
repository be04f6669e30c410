//! The scan store: every committed scan, its history, and the tamper-evident hash chain.
//!
//! Monthly scans accumulate here; the yearly report, `diff`, `unregistered` and the
//! auditors read from it. Callers only see the [`Store`] and [`ScanWriter`] traits and
//! [`open`]; a location that is a path is a [`sqlite`] file, a `postgresql://` URL a
//! [`postgres`] database that many scanners and organisations share.
//!
//! Writing is streamed: [`Store::begin_scan`] returns a [`ScanWriter`] that takes records
//! one at a time inside one transaction; [`ScanWriter::commit`] makes the scan visible with
//! its content hash and chain link. Dropping a writer without committing rolls everything
//! back, and a killed process leaves no trace of the scan. One writer at a time (SQLite: per
//! file; PostgreSQL: per organisation): a second one is refused with
//! [`StoreError::Locked`]. See `docs/store.md`.

pub mod diff;
pub mod exchange;
pub mod hash;
pub mod migrations;
pub mod pgurl;
pub mod postgres;
pub mod sqlite;

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use cloudcensus_core::model::{Coverage, Provider, Resource, ResourceGroup, Scope};
use cloudcensus_core::scan::{ScanData, ScanMeta};
use cloudcensus_core::{Creator, CreatorStatus};
use serde::Serialize;

/// Errors of the store. Every variant says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process is writing a scan.
    #[error(
        "another scan is being written to {store} since {since}; wait for it or use another --store"
    )]
    Locked {
        /// The store.
        store: String,
        /// When the other writer started (and who it is), as far as known.
        since: String,
    },
    /// The store's directory cannot be written (read-only file system, permissions):
    /// SQLite needs it for the write-ahead log and the writer lock.
    #[error(
        "cannot open the store {store} for writing: its directory {dir} is not writable ({reason}); fix the mount or permissions, or pass --store PATH on a writable disk"
    )]
    NotWritable {
        /// The store.
        store: String,
        /// Its directory.
        dir: String,
        /// The operating system's answer (e.g. "Read-only file system").
        reason: String,
    },
    /// The store file does not exist (read-only commands never create one).
    #[error(
        "no store at {0}: run `cloudcensus scan` or `cloudcensus import` first, or pass --store PATH"
    )]
    Missing(PathBuf),
    /// No scan matches the given id or prefix.
    #[error("no scan '{spec}' in {store}; `cloudcensus scans --store {store}` lists them")]
    NoSuchScan {
        /// What the user typed.
        spec: String,
        /// The store.
        store: String,
    },
    /// A prefix matches several scans.
    #[error("scan id '{spec}' is ambiguous: it matches {}; type more of the id", matches.join(", "))]
    Ambiguous {
        /// What the user typed.
        spec: String,
        /// The matching ids.
        matches: Vec<String>,
    },
    /// The store holds no scans.
    #[error("{0} holds no scans yet")]
    Empty(String),
    /// Scan metadata is invalid.
    #[error("invalid scan metadata: {0}")]
    InvalidMeta(String),
    /// The store was written by a newer cloudcensus.
    #[error(
        "{store} has schema version {found}, newer than this cloudcensus supports ({supported}); upgrade cloudcensus"
    )]
    TooNew {
        /// The store.
        store: String,
        /// Version found.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// A stored row cannot be decoded (corrupted or edited store).
    #[error("{store}: scan {scan}: {table} row {row}: {message}")]
    Corrupt {
        /// The store.
        store: String,
        /// Scan id.
        scan: String,
        /// Table.
        table: &'static str,
        /// Row number within the scan (0-based).
        row: i64,
        /// What is wrong.
        message: String,
    },
    /// The store location cannot be used as written.
    #[error("store location '{location}': {reason}")]
    BadLocation {
        /// The location (never holds a password).
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// A PostgreSQL location carries a password.
    #[error(
        "the store location holds a password: remove it from the URL (config file, --store or CLOUDCENSUS_STORE) and give it in PGPASSWORD, a ~/.pgpass file, PGPASSFILE or the URL's passfile=PATH"
    )]
    PasswordInLocation,
    /// The PostgreSQL server cannot be reached.
    #[error(
        "cannot connect to the PostgreSQL server at {host} (store {store}): {reason}; check that the server runs and that the URL names the right host and port"
    )]
    Unreachable {
        /// `host:port`.
        host: String,
        /// The location.
        store: String,
        /// The cause.
        reason: String,
    },
    /// The PostgreSQL server refused the credentials.
    #[error(
        "the PostgreSQL server at {host} refused user '{user}' for database '{dbname}': {reason}; check PGPASSWORD or the password file entry {host}:{dbname}:{user} (the password is not shown)"
    )]
    AuthFailed {
        /// `host:port`.
        host: String,
        /// Database.
        dbname: String,
        /// User.
        user: String,
        /// The server's message (never holds the password).
        reason: String,
    },
    /// PostgreSQL failed.
    #[error("{store}: {message}")]
    Postgres {
        /// The store.
        store: String,
        /// The server's or driver's message, with its detail.
        message: String,
        /// The cause.
        #[source]
        source: tokio_postgres::Error,
    },
    /// SQLite failed.
    #[error("{store}: {source}")]
    Sqlite {
        /// The store.
        store: String,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// File-system failure (lock file, directories).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Result alias of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One committed scan as listed by [`Store::list_scans`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanSummary {
    /// Scan id, e.g. `2026-03-0001`.
    pub id: String,
    /// Position in the chain (1 = first scan ever committed to this store).
    pub seq: i64,
    /// Organisation.
    pub organisation: String,
    /// Period `YYYY-MM`.
    pub period: String,
    /// Start of the scan.
    pub started_at: DateTime<Utc>,
    /// End of the scan.
    pub finished_at: DateTime<Utc>,
    /// When the store committed it.
    pub committed_at: DateTime<Utc>,
    /// Tool version that ran it.
    pub tool_version: String,
    /// Number of scopes.
    pub scopes: i64,
    /// Number of resources.
    pub resources: i64,
    /// Number of coverage entries.
    pub coverage: i64,
    /// Coverage entries that are gaps (denied, throttled, error).
    pub coverage_gaps: i64,
    /// SHA-256 over the canonical content (hex).
    pub content_hash: String,
    /// The previous scan's chain hash (hex).
    pub prev_hash: String,
    /// This scan's chain hash (hex).
    pub hash: String,
}

impl ScanSummary {
    /// Share of coverage entries without a gap, in percent (100 without entries).
    pub fn coverage_percent(&self) -> f64 {
        if self.coverage == 0 {
            100.0
        } else {
            (self.coverage - self.coverage_gaps) as f64 * 100.0 / self.coverage as f64
        }
    }
}

/// What [`ScanWriter::commit`] returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Committed {
    /// The new scan id.
    pub id: String,
    /// Resources written.
    pub resources: u64,
    /// Coverage entries written.
    pub coverage: u64,
    /// Content hash (hex).
    pub content_hash: String,
    /// Chain hash (hex).
    pub hash: String,
}

/// Where a resource (by provider and id) was seen across the stored scans.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceSeen {
    /// Provider.
    pub provider: Provider,
    /// Provider resource id.
    pub resource_id: String,
    /// The earliest scan (by finish time) that saw it.
    pub first_scan: String,
    /// When that scan finished.
    pub first_seen: DateTime<Utc>,
    /// The latest scan that saw it.
    pub last_scan: String,
    /// When that scan finished.
    pub last_seen: DateTime<Utc>,
    /// In how many scans it was seen.
    pub scans: i64,
}

/// One problem found by [`Store::verify`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyProblem {
    /// The scan whose link is broken.
    pub scan: String,
    /// Chain position.
    pub seq: i64,
    /// What is wrong.
    pub message: String,
}

/// The outcome of [`Store::verify`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    /// Scans whose content was recomputed.
    pub scans_checked: u64,
    /// Pruned scans whose link (not content) was checked.
    pub pruned_links_checked: u64,
    /// Resources re-read and hashed.
    pub resources_checked: u64,
    /// The chain hash of the newest scan (archive it to anchor the chain).
    pub head: Option<String>,
    /// Problems in chain order; the first is the first broken link.
    pub problems: Vec<VerifyProblem>,
}

impl VerifyReport {
    /// Whether the whole chain verified.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One scan removed by [`Store::prune`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pruned {
    /// Scan id.
    pub id: String,
    /// Period.
    pub period: String,
    /// Resources deleted.
    pub resources: i64,
}

/// A stream of records into one open scan; see [`Store::begin_scan`].
///
/// Dropping the writer without [`commit`](ScanWriter::commit) rolls the scan back.
pub trait ScanWriter {
    /// The id the scan will have when committed.
    fn id(&self) -> &str;
    /// Adds a scope.
    fn add_scope(&mut self, scope: &Scope) -> Result<()>;
    /// Adds a resource group.
    fn add_group(&mut self, group: &ResourceGroup) -> Result<()>;
    /// Adds a resource.
    fn add_resource(&mut self, resource: &Resource) -> Result<()>;
    /// Adds a coverage entry.
    fn add_coverage(&mut self, coverage: &Coverage) -> Result<()>;
    /// Adds who created one resource (the audit-log lookup of an unregistered one).
    fn add_creator(&mut self, creator: &Creator) -> Result<()>;
    /// Resources added so far.
    fn resource_count(&self) -> u64;
    /// Sets what is only known when a streamed scan ends: its finish time and the
    /// identities the connectors ran as. Call before [`commit`](ScanWriter::commit); the
    /// content hash covers the final values.
    fn finish_meta(&mut self, finished_at: DateTime<Utc>, identities: Vec<String>) -> Result<()>;
    /// Seals the scan (hash + chain link) and commits it atomically.
    fn commit(self: Box<Self>) -> Result<Committed>;
}

/// A lazily read stream of one scan's resources, in the order they were written.
pub type ResourceStream<'a> = Box<dyn Iterator<Item = Result<Resource>> + 'a>;

/// The scan store. Implemented by [`sqlite::SqliteStore`] and [`postgres::PgStore`]; get one
/// with [`open`].
pub trait Store {
    /// Where the store is (for messages).
    fn location(&self) -> String;

    /// Starts writing a scan. `meta.id` is ignored: the store assigns the id
    /// (`PERIOD-NNNN`). Fails with [`StoreError::Locked`] while another writer is open.
    fn begin_scan(&mut self, meta: ScanMeta) -> Result<Box<dyn ScanWriter + '_>>;

    /// Writes a whole in-memory scan (convenience over [`Store::begin_scan`]).
    fn write_scan(&mut self, data: &ScanData) -> Result<Committed> {
        let mut w = self.begin_scan(data.meta.clone())?;
        for s in &data.scopes {
            w.add_scope(s)?;
        }
        for g in &data.groups {
            w.add_group(g)?;
        }
        for r in &data.resources {
            w.add_resource(r)?;
        }
        for c in &data.coverage {
            w.add_coverage(c)?;
        }
        for c in &data.creators {
            w.add_creator(c)?;
        }
        w.commit()
    }

    /// Every committed scan, oldest commit first.
    fn list_scans(&self) -> Result<Vec<ScanSummary>>;

    /// The latest scan (by finish time) of each period, oldest period first.
    fn latest_scan_per_period(&self) -> Result<Vec<ScanSummary>> {
        Ok(latest_per_period(self.list_scans()?))
    }

    /// Every scan whose period lies in `year`, oldest commit first.
    fn scans_in_year(&self, year: i32) -> Result<Vec<ScanSummary>> {
        let prefix = format!("{year:04}-");
        Ok(self
            .list_scans()?
            .into_iter()
            .filter(|s| s.period.starts_with(&prefix))
            .collect())
    }

    /// Resolves `latest`, a full id or a unique id prefix to a scan id.
    fn resolve(&self, spec: &str) -> Result<String> {
        let scans = self.list_scans()?;
        let spec_t = spec.trim();
        if spec_t.eq_ignore_ascii_case("latest") {
            return scans
                .last()
                .map(|s| s.id.clone())
                .ok_or_else(|| StoreError::Empty(self.location()));
        }
        if let Some(s) = scans.iter().find(|s| s.id == spec_t) {
            return Ok(s.id.clone());
        }
        let matches: Vec<String> = scans
            .iter()
            .filter(|s| !spec_t.is_empty() && s.id.starts_with(spec_t))
            .map(|s| s.id.clone())
            .collect();
        match matches.len() {
            1 => Ok(matches.into_iter().next().unwrap_or_default()),
            0 => Err(StoreError::NoSuchScan {
                spec: spec.to_string(),
                store: self.location(),
            }),
            _ => Err(StoreError::Ambiguous {
                spec: spec.to_string(),
                matches,
            }),
        }
    }

    /// The summary of one scan (by exact id).
    fn summary(&self, id: &str) -> Result<ScanSummary> {
        self.list_scans()?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| StoreError::NoSuchScan {
                spec: id.to_string(),
                store: self.location(),
            })
    }

    /// Metadata of one scan.
    fn load_meta(&self, id: &str) -> Result<ScanMeta>;

    /// The scopes, groups and coverage of a scan (small), without its resources.
    fn load_parts(&self, id: &str) -> Result<(Vec<Scope>, Vec<ResourceGroup>, Vec<Coverage>)>;

    /// Streams a scan's resources in write order, reading in batches.
    fn resources(&self, id: &str) -> Result<ResourceStream<'_>>;

    /// Who created the resources the scan looked up (small: at most the sources'
    /// `creator_lookup_max`), in write order.
    fn creators(&self, id: &str) -> Result<Vec<Creator>>;

    /// Loads a whole scan into memory.
    fn load_scan(&self, id: &str) -> Result<ScanData> {
        let meta = self.load_meta(id)?;
        let (scopes, groups, coverage) = self.load_parts(id)?;
        let resources = self.resources(id)?.collect::<Result<Vec<_>>>()?;
        let creators = self.creators(id)?;
        Ok(ScanData {
            meta,
            scopes,
            groups,
            resources,
            coverage,
            creators,
        })
    }

    /// First and last sighting of every resource across the stored scans.
    fn resource_history(&self) -> Result<Vec<ResourceSeen>>;

    /// Recomputes every content hash and the chain; reports the first broken link first.
    fn verify(&self) -> Result<VerifyReport>;

    /// Deletes the scans whose period is more than `keep_months` months before `today`'s
    /// month, keeping their chain links (id, hashes) so `verify` still passes.
    fn prune(&mut self, keep_months: u32, today: NaiveDate) -> Result<Vec<Pruned>>;
}

/// Of each period the latest scan (by finish time, then commit order), oldest period
/// first. Filter by organisation first: in a shared store every organisation has its own.
pub fn latest_per_period(scans: impl IntoIterator<Item = ScanSummary>) -> Vec<ScanSummary> {
    let mut by_period: std::collections::BTreeMap<String, ScanSummary> = Default::default();
    for s in scans {
        match by_period.get(&s.period) {
            Some(cur) if (cur.finished_at, cur.seq) >= (s.finished_at, s.seq) => {}
            _ => {
                by_period.insert(s.period.clone(), s);
            }
        }
    }
    by_period.into_values().collect()
}

/// The columns of a `creators` row after `ord` — provider, resource_id, status,
/// principal, event_time, source, detail — as text, decoded (both backends store them
/// alike). `Err` says which column is wrong.
pub(crate) fn decode_creator(c: &[Option<String>]) -> std::result::Result<Creator, String> {
    let need = |i: usize, name: &str| {
        c.get(i)
            .cloned()
            .flatten()
            .ok_or_else(|| format!("{name} is NULL"))
    };
    let provider = need(0, "provider")?;
    let status = need(2, "status")?;
    Ok(Creator {
        provider: provider
            .parse()
            .map_err(|e: cloudcensus_core::model::UnknownProvider| e.to_string())?,
        resource_id: need(1, "resource_id")?,
        status: CreatorStatus::parse(&status)
            .ok_or_else(|| format!("status '{status}' is unknown"))?,
        principal: c.get(3).cloned().flatten(),
        event_time: c
            .get(4)
            .cloned()
            .flatten()
            .map(|t| {
                DateTime::parse_from_rfc3339(&t)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| format!("event_time '{t}': {e}"))
            })
            .transpose()?,
        source: need(5, "source")?,
        detail: c.get(6).cloned().flatten(),
    })
}

/// Default store file name (in the current directory).
pub const DEFAULT_STORE: &str = "cloudcensus.db";

/// Opens an existing store for reading and writing; fails with [`StoreError::Missing`]
/// when there is none (read-only commands must not create empty stores).
pub fn open(location: &Path) -> Result<Box<dyn Store>> {
    if let Some(url) = postgres_url(location) {
        return Ok(Box::new(postgres::PgStore::open(&url, false)?));
    }
    if !location.exists() {
        return Err(StoreError::Missing(location.to_path_buf()));
    }
    Ok(Box::new(sqlite::SqliteStore::open(location)?))
}

/// Opens a store, creating it (and its schema) when it does not exist.
pub fn open_or_create(location: &Path) -> Result<Box<dyn Store>> {
    if let Some(url) = postgres_url(location) {
        return Ok(Box::new(postgres::PgStore::open(&url, true)?));
    }
    Ok(Box::new(sqlite::SqliteStore::open(location)?))
}

/// The URL when `location` names a PostgreSQL database (`postgresql://`, `postgres://`).
pub fn postgres_url(location: &Path) -> Option<String> {
    let s = location.to_string_lossy();
    pgurl::is_postgres(&s).then(|| s.trim().to_string())
}

/// Checks a period is `YYYY-MM` with a month 01–12.
pub fn validate_period(period: &str) -> Result<()> {
    let ok = period.len() == 7
        && period.as_bytes()[4] == b'-'
        && period[..4].bytes().all(|b| b.is_ascii_digit())
        && period[5..]
            .parse::<u32>()
            .is_ok_and(|m| (1..=12).contains(&m));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidMeta(format!(
            "period '{period}' is not YYYY-MM (e.g. 2026-03)"
        )))
    }
}

#[cfg(test)]
pub(crate) mod tests;
