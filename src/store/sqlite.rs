//! The embedded default backend: one SQLite file in WAL mode.
//!
//! Why these choices: WAL lets reports and `diff` read while a scan is being written; a
//! scan is one `BEGIN IMMEDIATE … COMMIT` transaction, so a crash or `kill -9` mid-scan
//! leaves nothing behind (SQLite rolls the open transaction back on the next open); rows
//! are keyed `(scan_seq, ord)` in `WITHOUT ROWID` tables, so a scan is written as an
//! append and read back as one range in write order. Tags and replica lists are compact
//! JSON text: one column instead of a side table measured faster and keeps a resource one
//! row. Writers are serialised by an OS lock on the sidecar file `<store>.lock` (released by
//! the OS when a process dies) that also records who holds it and since when.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use cloudcensus_core::Creator;
use cloudcensus_core::model::{Coverage, Resource, ResourceGroup, Scope};
use cloudcensus_core::scan::ScanMeta;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::de::{DeserializeOwned, IntoDeserializer};

use super::hash::{self, ContentHasher, GENESIS, HASH_VERSION};
use super::migrations::{MIGRATIONS, latest};
use super::{
    Committed, Pruned, ResourceSeen, ResourceStream, Result, ScanSummary, ScanWriter, Store,
    StoreError, VerifyProblem, VerifyReport, validate_period,
};

const INSERT_RESOURCE: &str = "INSERT INTO resources (scan_seq, ord, provider, scope_id,
    resource_id, resource_type, category, name, location, replicas, resource_group, tags,
    created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

/// Rows fetched per batch when streaming resources.
const BATCH: i64 = 10_000;

/// A SQLite store file.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Parses an enum from its serde (kebab/lower-case) name.
pub(super) fn parse_enum<T: DeserializeOwned>(s: &str) -> std::result::Result<T, String> {
    T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(s))
        .map_err(|e| format!("'{s}': {e}"))
}

pub(super) fn parse_time(s: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("timestamp '{s}': {e}"))
}

pub(super) fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The link fields of one chain entry (live or pruned).
struct Link {
    seq: i64,
    id: String,
    content_hash: String,
    prev_hash: String,
    hash: String,
    pruned: bool,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let opened = Connection::open(path)
            .map_err(|e| sql_err(path, e))
            .and_then(|conn| {
                let store = SqliteStore {
                    conn,
                    path: path.to_path_buf(),
                };
                store.configure()?;
                store.migrate()?;
                Ok(store)
            });
        // SQLite only says "unable to open database file"; name the likely cause.
        opened.map_err(|e| unwritable_dir(path).unwrap_or(e))
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        sql_err(&self.path, e)
    }

    fn configure(&self) -> Result<()> {
        self.conn
            .busy_timeout(Duration::from_secs(10))
            .map_err(|e| self.err(e))?;
        self.conn
            .execute_batch(
                "PRAGMA page_size = 16384;
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA cache_size = -65536;
                 PRAGMA temp_store = MEMORY;",
            )
            .map_err(|e| self.err(e))?;
        self.conn.set_prepared_statement_cache_capacity(32);
        Ok(())
    }

    fn user_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn migrate(&self) -> Result<()> {
        let found = self.user_version()?;
        if found > latest() {
            return Err(StoreError::TooNew {
                store: self.location(),
                found,
                supported: latest(),
            });
        }
        if found == latest() {
            return Ok(());
        }
        for (version, sql) in MIGRATIONS {
            let tx =
                rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
                    .map_err(|e| self.err(e))?;
            // Re-read inside the write lock: another process may have migrated meanwhile.
            let current: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(|e| self.err(e))?;
            if current >= *version {
                continue;
            }
            tx.execute_batch(sql).map_err(|e| self.err(e))?;
            tx.execute_batch(&format!("PRAGMA user_version = {version}"))
                .map_err(|e| self.err(e))?;
            if *version == 1 {
                tx.execute(
                    "INSERT OR IGNORE INTO store_info (key, value) VALUES ('created_at', ?1)",
                    [hash::timestamp(&now())],
                )
                .map_err(|e| self.err(e))?;
            }
            tx.commit().map_err(|e| self.err(e))?;
            tracing::info!(store = %self.path.display(), version, "store schema migrated");
        }
        Ok(())
    }

    fn lock_path(&self) -> PathBuf {
        let mut p = self.path.as_os_str().to_owned();
        p.push(".lock");
        PathBuf::from(p)
    }

    /// Takes the writer lock or explains who holds it.
    fn acquire_writer_lock(&self) -> Result<File> {
        let path = self.lock_path();
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(StoreError::Locked {
                    store: self.location(),
                    since: if holder.is_empty() {
                        "an unknown time".to_string()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let info = format!(
            "{} (process {})",
            now().to_rfc3339_opts(SecondsFormat::Secs, true),
            std::process::id()
        );
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(info.as_bytes()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(file)
    }

    fn begin_immediate(&self) -> Result<()> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))
    }

    fn seq_of(&self, id: &str) -> Result<i64> {
        self.conn
            .query_row("SELECT seq FROM scans WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NoSuchScan {
                spec: id.to_string(),
                store: self.location(),
            })
    }

    fn head(&self) -> Result<(i64, String)> {
        self.conn
            .query_row(
                "SELECT seq, hash FROM (SELECT seq, hash FROM scans
                   UNION ALL SELECT seq, hash FROM pruned_scans) ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
            .map(|o| o.unwrap_or_else(|| (0, GENESIS.to_string())))
    }

    fn next_id(&self, period: &str) -> Result<String> {
        let like = format!("{period}-%");
        let max: Option<i64> = self
            .conn
            .query_row(
                "SELECT MAX(CAST(substr(id, 9) AS INTEGER)) FROM (
                   SELECT id FROM scans WHERE id LIKE ?1
                   UNION ALL SELECT id FROM pruned_scans WHERE id LIKE ?1)",
                [&like],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(format!("{period}-{:04}", max.unwrap_or(0) + 1))
    }

    fn corrupt(&self, scan: &str, table: &'static str, row: i64, message: String) -> StoreError {
        StoreError::Corrupt {
            store: self.location(),
            scan: scan.to_string(),
            table,
            row,
            message,
        }
    }

    fn summary_from_row(&self, r: &Row<'_>) -> rusqlite::Result<(ScanSummary, Vec<String>)> {
        let mut bad = Vec::new();
        let mut t = |s: String| {
            parse_time(&s).unwrap_or_else(|e| {
                bad.push(e);
                DateTime::<Utc>::default()
            })
        };
        let s = ScanSummary {
            seq: r.get("seq")?,
            id: r.get("id")?,
            organisation: r.get("organisation")?,
            period: r.get("period")?,
            started_at: t(r.get("started_at")?),
            finished_at: t(r.get("finished_at")?),
            committed_at: t(r.get("committed_at")?),
            tool_version: r.get("tool_version")?,
            scopes: r.get("scope_count")?,
            resources: r.get("resource_count")?,
            coverage: r.get("coverage_count")?,
            coverage_gaps: r.get("coverage_gaps")?,
            content_hash: r.get("content_hash")?,
            prev_hash: r.get("prev_hash")?,
            hash: r.get("hash")?,
        };
        Ok((s, bad))
    }

    fn links(&self) -> Result<Vec<Link>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, id, content_hash, prev_hash, hash, 0 FROM scans
                 UNION ALL
                 SELECT seq, id, content_hash, prev_hash, hash, 1 FROM pruned_scans
                 ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Link {
                    seq: r.get(0)?,
                    id: r.get(1)?,
                    content_hash: r.get(2)?,
                    prev_hash: r.get(3)?,
                    hash: r.get(4)?,
                    pruned: r.get::<_, i64>(5)? == 1,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// Recomputes one live scan's content hash; returns (hash, resources read).
    fn recompute(&self, id: &str) -> Result<(String, u64)> {
        let meta = self.load_meta(id)?;
        let version: i64 = self
            .conn
            .query_row("SELECT hash_version FROM scans WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        let (scopes, groups, coverage) = self.load_parts(id)?;
        let mut h = ContentHasher::new();
        scopes.iter().for_each(|s| h.scope(s));
        groups.iter().for_each(|g| h.group(g));
        for r in self.resources(id)? {
            h.resource(&r?);
        }
        coverage.iter().for_each(|c| h.coverage(c));
        self.creators(id)?.iter().for_each(|c| h.creator(c));
        let n = h.resource_count();
        Ok((h.finish_version(&meta, version), n))
    }

    /// One batch from `from_ord` on: (ord after the last row read, rows).
    fn fetch_resources(
        &self,
        scan: &str,
        seq: i64,
        from_ord: i64,
    ) -> Result<(i64, Vec<Result<Resource>>)> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT ord, provider, scope_id, resource_id, resource_type, category, name,
                        location, replicas, resource_group, tags, created_at
                 FROM resources WHERE scan_seq = ?1 AND ord >= ?2 ORDER BY ord LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params![seq, from_ord, BATCH])
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(BATCH as usize);
        let mut next = from_ord;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let ord: i64 = r.get(0).map_err(|e| self.err(e))?;
            next = ord + 1;
            out.push(self.decode_resource(scan, r));
        }
        Ok((next, out))
    }

    fn decode_resource(&self, scan: &str, r: &Row<'_>) -> Result<Resource> {
        let ord: i64 = r.get(0).map_err(|e| self.err(e))?;
        let bad = |m: String| self.corrupt(scan, "resources", ord, m);
        let get = |i: usize| -> Result<Option<String>> {
            r.get::<_, Option<String>>(i)
                .map_err(|e| bad(format!("column {i}: {e}")))
        };
        let req = |i: usize, name: &str| -> Result<String> {
            get(i)?.ok_or_else(|| bad(format!("{name} is NULL")))
        };
        Ok(Resource {
            provider: parse_enum(&req(1, "provider")?).map_err(&bad)?,
            scope_id: req(2, "scope_id")?,
            id: req(3, "resource_id")?,
            resource_type: req(4, "resource_type")?,
            category: parse_enum(&req(5, "category")?).map_err(&bad)?,
            name: req(6, "name")?,
            location: get(7)?,
            replica_locations: serde_json::from_str(&req(8, "replicas")?)
                .map_err(|e| bad(format!("replicas: {e}")))?,
            resource_group: get(9)?,
            tags: serde_json::from_str(&req(10, "tags")?).map_err(|e| bad(format!("tags: {e}")))?,
            created_at: get(11)?.map(|s| parse_time(&s)).transpose().map_err(&bad)?,
        })
    }
}

/// `Some(NotWritable)` when the store's directory cannot take a new file.
fn unwritable_dir(path: &Path) -> Option<StoreError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let probe = dir.join(format!(".cloudcensus-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => Some(StoreError::NotWritable {
            store: path.display().to_string(),
            dir: dir.display().to_string(),
            reason: e.to_string(),
        }),
    }
}

fn sql_err(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        store: path.display().to_string(),
        source,
    }
}

/// An open scan transaction on a [`SqliteStore`].
struct SqliteWriter<'a> {
    store: &'a SqliteStore,
    insert_resource: rusqlite::Statement<'a>,
    json_buf: Vec<u8>,
    tags_buf: Vec<u8>,
    _lock: File,
    id: String,
    seq: i64,
    meta: ScanMeta,
    hasher: ContentHasher,
    ords: [i64; 4],
    creators: i64,
    gaps: i64,
    done: bool,
}

impl SqliteWriter<'_> {
    fn err(&self, e: rusqlite::Error) -> StoreError {
        self.store.err(e)
    }

    fn json<T: serde::Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap_or_else(|_| "null".into())
    }

    /// Serialises into a reused buffer (no allocation per row once warm).
    fn json_into<'b, T: serde::Serialize + ?Sized>(
        buf: &'b mut Vec<u8>,
        v: &T,
    ) -> std::result::Result<&'b str, rusqlite::Error> {
        buf.clear();
        serde_json::to_writer(&mut *buf, v)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        std::str::from_utf8(buf).map_err(|e| rusqlite::Error::Utf8Error(0, e))
    }
}

impl ScanWriter for SqliteWriter<'_> {
    fn id(&self) -> &str {
        &self.id
    }

    fn add_scope(&mut self, s: &Scope) -> Result<()> {
        let ord = self.ords[0];
        self.store
            .conn
            .prepare_cached(
                "INSERT INTO scopes (scan_seq, ord, provider, kind, id, name, parents, tags)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    self.seq,
                    ord,
                    s.provider.as_str(),
                    enum_name(&s.kind),
                    s.id,
                    s.name,
                    Self::json(&s.parents),
                    Self::json(&s.tags),
                ])
            })
            .map_err(|e| self.err(e))?;
        self.ords[0] += 1;
        self.hasher.scope(s);
        Ok(())
    }

    fn add_group(&mut self, g: &ResourceGroup) -> Result<()> {
        let ord = self.ords[1];
        self.store
            .conn
            .prepare_cached(
                "INSERT INTO resource_groups (scan_seq, ord, provider, scope_id, name, location, tags)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    self.seq,
                    ord,
                    g.provider.as_str(),
                    g.scope_id,
                    g.name,
                    g.location,
                    Self::json(&g.tags),
                ])
            })
            .map_err(|e| self.err(e))?;
        self.ords[1] += 1;
        self.hasher.group(g);
        Ok(())
    }

    fn add_resource(&mut self, r: &Resource) -> Result<()> {
        let ord = self.ords[2];
        let created = r.created_at.as_ref().map(hash::timestamp);
        let result = (|| {
            let replicas = if r.replica_locations.is_empty() {
                "[]"
            } else {
                Self::json_into(&mut self.json_buf, &r.replica_locations)?
            };
            let tags = if r.tags.is_empty() {
                "{}"
            } else {
                Self::json_into(&mut self.tags_buf, &r.tags)?
            };
            self.insert_resource.execute(params![
                self.seq,
                ord,
                r.provider.as_str(),
                r.scope_id,
                r.id,
                r.resource_type,
                r.category.as_str(),
                r.name,
                r.location,
                replicas,
                r.resource_group,
                tags,
                created,
            ])
        })();
        result.map_err(|e| self.store.err(e))?;
        self.ords[2] += 1;
        self.hasher.resource(r);
        if self.ords[2] % 100_000 == 0 {
            tracing::debug!(scan = %self.id, resources = self.ords[2], "writing scan");
        }
        Ok(())
    }

    fn add_coverage(&mut self, c: &Coverage) -> Result<()> {
        let ord = self.ords[3];
        self.store
            .conn
            .prepare_cached(
                "INSERT INTO coverage (scan_seq, ord, provider, scope_id, region, service, status, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    self.seq,
                    ord,
                    c.provider.as_str(),
                    c.scope_id,
                    c.region,
                    c.service,
                    c.status.as_str(),
                    c.message,
                ])
            })
            .map_err(|e| self.err(e))?;
        self.ords[3] += 1;
        if c.status.is_gap() {
            self.gaps += 1;
        }
        self.hasher.coverage(c);
        Ok(())
    }

    fn add_creator(&mut self, c: &Creator) -> Result<()> {
        let ord = self.creators;
        let event_time = c.event_time.as_ref().map(hash::timestamp);
        self.store
            .conn
            .prepare_cached(
                "INSERT INTO creators (scan_seq, ord, provider, resource_id, status, principal,
                    event_time, source, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    self.seq,
                    ord,
                    c.provider.as_str(),
                    c.resource_id,
                    c.status.as_str(),
                    c.principal,
                    event_time,
                    c.source,
                    c.detail,
                ])
            })
            .map_err(|e| self.err(e))?;
        self.creators += 1;
        self.hasher.creator(c);
        Ok(())
    }

    fn resource_count(&self) -> u64 {
        self.ords[2] as u64
    }

    fn finish_meta(&mut self, finished_at: DateTime<Utc>, identities: Vec<String>) -> Result<()> {
        if finished_at < self.meta.started_at {
            return Err(StoreError::InvalidMeta(format!(
                "finished_at {finished_at} is before started_at {}",
                self.meta.started_at
            )));
        }
        self.meta.finished_at = finished_at;
        self.meta.identities = identities;
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<Committed> {
        let content_hash = std::mem::take(&mut self.hasher).finish(&self.meta);
        let (_, prev) = self.store.head()?;
        let chain = hash::chain_hash(&prev, &self.id, &content_hash);
        let m = &self.meta;
        self.store
            .conn
            .execute(
                "INSERT INTO scans (seq, id, organisation, period, started_at, finished_at,
                    tool_version, identities, config_digest, committed_at, scope_count,
                    group_count, resource_count, coverage_count, coverage_gaps, hash_version,
                    content_hash, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18, ?19)",
                params![
                    self.seq,
                    self.id,
                    m.organisation,
                    m.period,
                    hash::timestamp(&m.started_at),
                    hash::timestamp(&m.finished_at),
                    m.tool_version,
                    Self::json(&m.identities),
                    m.config_digest,
                    hash::timestamp(&now()),
                    self.ords[0],
                    self.ords[1],
                    self.ords[2],
                    self.ords[3],
                    self.gaps,
                    HASH_VERSION,
                    content_hash,
                    prev,
                    chain,
                ],
            )
            .map_err(|e| self.err(e))?;
        self.store
            .conn
            .execute_batch("COMMIT")
            .map_err(|e| self.err(e))?;
        self.done = true;
        tracing::info!(scan = %self.id, resources = self.ords[2], hash = %chain, "scan committed");
        Ok(Committed {
            id: self.id.clone(),
            resources: self.ords[2] as u64,
            coverage: self.ords[3] as u64,
            content_hash,
            hash: chain,
        })
    }
}

impl Drop for SqliteWriter<'_> {
    fn drop(&mut self) {
        if !self.done {
            tracing::warn!(scan = %self.id, "scan not committed: rolling back");
            if let Err(e) = self.store.conn.execute_batch("ROLLBACK") {
                tracing::error!(scan = %self.id, error = %e, "rollback failed");
            }
        }
    }
}

impl Store for SqliteStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn begin_scan(&mut self, mut meta: ScanMeta) -> Result<Box<dyn ScanWriter + '_>> {
        validate_period(&meta.period)?;
        if meta.organisation.trim().is_empty() {
            return Err(StoreError::InvalidMeta("organisation is empty".into()));
        }
        if meta.finished_at < meta.started_at {
            return Err(StoreError::InvalidMeta(format!(
                "finished_at {} is before started_at {}",
                meta.finished_at, meta.started_at
            )));
        }
        let lock = self.acquire_writer_lock()?;
        self.begin_immediate()?;
        let setup = (|| {
            let (seq, _) = self.head()?;
            let id = self.next_id(&meta.period)?;
            Ok::<_, StoreError>((seq + 1, id))
        })();
        let (seq, id) = match setup {
            Ok(v) => v,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        meta.id = id.clone();
        let insert_resource = match self.conn.prepare(INSERT_RESOURCE) {
            Ok(s) => s,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(self.err(e));
            }
        };
        tracing::info!(scan = %id, store = %self.path.display(), "writing scan");
        Ok(Box::new(SqliteWriter {
            store: self,
            insert_resource,
            json_buf: Vec::with_capacity(256),
            tags_buf: Vec::with_capacity(1024),
            _lock: lock,
            id,
            seq,
            meta,
            hasher: ContentHasher::new(),
            ords: [0; 4],
            creators: 0,
            gaps: 0,
            done: false,
        }))
    }

    fn list_scans(&self) -> Result<Vec<ScanSummary>> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM scans ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let (s, bad) = self.summary_from_row(r).map_err(|e| self.err(e))?;
            if let Some(m) = bad.into_iter().next() {
                return Err(self.corrupt(&s.id, "scans", s.seq, m));
            }
            out.push(s);
        }
        Ok(out)
    }

    fn load_meta(&self, id: &str) -> Result<ScanMeta> {
        let row = self
            .conn
            .query_row(
                "SELECT seq, id, organisation, period, started_at, finished_at, tool_version,
                        identities, config_digest FROM scans WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, String>(8)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::NoSuchScan {
                spec: id.to_string(),
                store: self.location(),
            })?;
        let bad = |m: String| self.corrupt(id, "scans", row.0, m);
        Ok(ScanMeta {
            id: row.1,
            organisation: row.2,
            period: row.3,
            started_at: parse_time(&row.4).map_err(bad)?,
            finished_at: parse_time(&row.5).map_err(bad)?,
            tool_version: row.6,
            identities: serde_json::from_str(&row.7)
                .map_err(|e| bad(format!("identities: {e}")))?,
            config_digest: row.8,
        })
    }

    fn load_parts(&self, id: &str) -> Result<(Vec<Scope>, Vec<ResourceGroup>, Vec<Coverage>)> {
        let seq = self.seq_of(id)?;
        let fetch = |sql: &str| -> Result<Vec<(i64, Vec<Option<String>>)>> {
            let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
            let n = stmt.column_count();
            let rows = stmt
                .query_map([seq], |r| {
                    let ord: i64 = r.get(0)?;
                    let mut v = Vec::with_capacity(n - 1);
                    for i in 1..n {
                        v.push(r.get::<_, Option<String>>(i)?);
                    }
                    Ok((ord, v))
                })
                .map_err(|e| self.err(e))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| self.err(e))
        };
        let need = |table: &'static str, ord: i64, v: &Option<String>, name: &str| {
            v.clone()
                .ok_or_else(|| self.corrupt(id, table, ord, format!("{name} is NULL")))
        };
        let mut scopes = Vec::new();
        for (ord, c) in fetch(
            "SELECT ord, provider, kind, id, name, parents, tags FROM scopes
             WHERE scan_seq = ?1 ORDER BY ord",
        )? {
            let bad = |m: String| self.corrupt(id, "scopes", ord, m);
            scopes.push(Scope {
                provider: parse_enum(&need("scopes", ord, &c[0], "provider")?).map_err(bad)?,
                kind: parse_enum(&need("scopes", ord, &c[1], "kind")?).map_err(bad)?,
                id: need("scopes", ord, &c[2], "id")?,
                name: c[3].clone(),
                parents: serde_json::from_str(&need("scopes", ord, &c[4], "parents")?)
                    .map_err(|e| bad(format!("parents: {e}")))?,
                tags: serde_json::from_str(&need("scopes", ord, &c[5], "tags")?)
                    .map_err(|e| bad(format!("tags: {e}")))?,
            });
        }
        let mut groups = Vec::new();
        for (ord, c) in fetch(
            "SELECT ord, provider, scope_id, name, location, tags FROM resource_groups
             WHERE scan_seq = ?1 ORDER BY ord",
        )? {
            let t = "resource_groups";
            let bad = |m: String| self.corrupt(id, t, ord, m);
            groups.push(ResourceGroup {
                provider: parse_enum(&need(t, ord, &c[0], "provider")?).map_err(bad)?,
                scope_id: need(t, ord, &c[1], "scope_id")?,
                name: need(t, ord, &c[2], "name")?,
                location: c[3].clone(),
                tags: serde_json::from_str(&need(t, ord, &c[4], "tags")?)
                    .map_err(|e| bad(format!("tags: {e}")))?,
            });
        }
        let mut coverage = Vec::new();
        for (ord, c) in fetch(
            "SELECT ord, provider, scope_id, region, service, status, message FROM coverage
             WHERE scan_seq = ?1 ORDER BY ord",
        )? {
            let t = "coverage";
            let bad = |m: String| self.corrupt(id, t, ord, m);
            coverage.push(Coverage {
                provider: parse_enum(&need(t, ord, &c[0], "provider")?).map_err(bad)?,
                scope_id: need(t, ord, &c[1], "scope_id")?,
                region: need(t, ord, &c[2], "region")?,
                service: need(t, ord, &c[3], "service")?,
                status: parse_enum(&need(t, ord, &c[4], "status")?).map_err(bad)?,
                message: c[5].clone(),
            });
        }
        Ok((scopes, groups, coverage))
    }

    fn resources(&self, id: &str) -> Result<ResourceStream<'_>> {
        let seq = self.seq_of(id)?;
        Ok(Box::new(ResourceBatches {
            store: self,
            scan: id.to_string(),
            seq,
            next_ord: 0,
            buf: VecDeque::new(),
            done: false,
        }))
    }

    fn creators(&self, id: &str) -> Result<Vec<Creator>> {
        let seq = self.seq_of(id)?;
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT ord, provider, resource_id, status, principal, event_time, source, detail
                 FROM creators WHERE scan_seq = ?1 ORDER BY ord",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([seq], |r| {
                let ord: i64 = r.get(0)?;
                let cols = (1..8)
                    .map(|i| r.get::<_, Option<String>>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok((ord, cols))
            })
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(ord, cols)| {
                super::decode_creator(&cols).map_err(|m| self.corrupt(id, "creators", ord, m))
            })
            .collect()
    }

    fn resource_history(&self) -> Result<Vec<ResourceSeen>> {
        let scans: HashMap<i64, (DateTime<Utc>, String)> = self
            .list_scans()?
            .into_iter()
            .map(|s| (s.seq, (s.finished_at, s.id)))
            .collect();
        let mut stmt = self
            .conn
            .prepare("SELECT provider, resource_id, scan_seq FROM resources")
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        // (provider, id) -> (first (time, seq), last (time, seq), count)
        type Key = (DateTime<Utc>, i64);
        let mut agg: HashMap<(String, String), (Key, Key, i64)> = HashMap::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let provider: String = r.get(0).map_err(|e| self.err(e))?;
            let rid: String = r.get(1).map_err(|e| self.err(e))?;
            let seq: i64 = r.get(2).map_err(|e| self.err(e))?;
            let Some((t, _)) = scans.get(&seq) else {
                continue;
            };
            let k = (*t, seq);
            agg.entry((provider, rid))
                .and_modify(|(first, last, n)| {
                    if k < *first {
                        *first = k;
                    }
                    if k > *last {
                        *last = k;
                    }
                    *n += 1;
                })
                .or_insert((k, k, 1));
        }
        let mut out = Vec::with_capacity(agg.len());
        for ((provider, resource_id), (first, last, n)) in agg {
            out.push(ResourceSeen {
                provider: parse_enum(&provider)
                    .map_err(|m| self.corrupt("?", "resources", 0, m))?,
                resource_id,
                first_scan: scans[&first.1].1.clone(),
                first_seen: first.0,
                last_scan: scans[&last.1].1.clone(),
                last_seen: last.0,
                scans: n,
            });
        }
        out.sort_by(|a, b| (a.provider, &a.resource_id).cmp(&(b.provider, &b.resource_id)));
        Ok(out)
    }

    fn verify(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport {
            scans_checked: 0,
            pruned_links_checked: 0,
            resources_checked: 0,
            head: None,
            problems: Vec::new(),
        };
        let check: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if check != "ok" {
            report.problems.push(VerifyProblem {
                scan: "-".into(),
                seq: 0,
                message: format!("SQLite integrity check failed: {check}"),
            });
        }
        let summaries: HashMap<String, ScanSummary> = self
            .list_scans()?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        let mut prev_hash = GENESIS.to_string();
        let mut prev_id = String::from("(start of chain)");
        for link in self.links()? {
            let mut problem = |message: String| {
                report.problems.push(VerifyProblem {
                    scan: link.id.clone(),
                    seq: link.seq,
                    message,
                })
            };
            if link.prev_hash != prev_hash {
                problem(format!(
                    "its previous-scan hash {} does not match {} of {}: a scan before it was removed, inserted or altered",
                    short(&link.prev_hash),
                    short(&prev_hash),
                    prev_id
                ));
            }
            let recomputed = hash::chain_hash(&link.prev_hash, &link.id, &link.content_hash);
            if recomputed != link.hash {
                problem(format!(
                    "its chain hash {} does not match the recomputed {}: the scan's id or hashes were altered",
                    short(&link.hash),
                    short(&recomputed)
                ));
            }
            if link.pruned {
                report.pruned_links_checked += 1;
            } else {
                match self.recompute(&link.id) {
                    Ok((content, n)) => {
                        report.resources_checked += n;
                        if content != link.content_hash {
                            problem(format!(
                                "its content changed after commit: recomputed content hash {} but {} was stored",
                                short(&content),
                                short(&link.content_hash)
                            ));
                        }
                        if let Some(s) = summaries.get(&link.id)
                            && s.resources != n as i64
                        {
                            problem(format!(
                                "it holds {n} resources but {} were committed",
                                s.resources
                            ));
                        }
                    }
                    Err(e) => problem(format!("its rows cannot be read: {e}")),
                }
                report.scans_checked += 1;
            }
            prev_hash = link.hash.clone();
            prev_id = format!("scan {}", link.id);
        }
        if prev_hash != GENESIS {
            report.head = Some(prev_hash);
        }
        Ok(report)
    }

    fn prune(&mut self, keep_months: u32, today: NaiveDate) -> Result<Vec<Pruned>> {
        if keep_months == 0 {
            return Err(StoreError::InvalidMeta(
                "--keep-months must be at least 1 (the current month)".into(),
            ));
        }
        let months = today.year() * 12 + today.month0() as i32 - (keep_months as i32 - 1);
        let cutoff = format!(
            "{:04}-{:02}",
            months.div_euclid(12),
            months.rem_euclid(12) + 1
        );
        let _lock = self.acquire_writer_lock()?;
        let victims: Vec<ScanSummary> = self
            .list_scans()?
            .into_iter()
            .filter(|s| s.period < cutoff)
            .collect();
        if victims.is_empty() {
            return Ok(Vec::new());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_err(&self.path, e))?;
        let mut out = Vec::new();
        for s in &victims {
            tx.execute(
                "INSERT INTO pruned_scans (seq, id, period, finished_at, resource_count,
                    content_hash, prev_hash, hash, pruned_at)
                 SELECT seq, id, period, finished_at, resource_count, content_hash, prev_hash,
                    hash, ?2 FROM scans WHERE seq = ?1",
                params![s.seq, hash::timestamp(&now())],
            )
            .map_err(|e| sql_err(&self.path, e))?;
            for table in [
                "resources",
                "scopes",
                "resource_groups",
                "coverage",
                "creators",
            ] {
                tx.execute(&format!("DELETE FROM {table} WHERE scan_seq = ?1"), [s.seq])
                    .map_err(|e| sql_err(&self.path, e))?;
            }
            tx.execute("DELETE FROM scans WHERE seq = ?1", [s.seq])
                .map_err(|e| sql_err(&self.path, e))?;
            out.push(Pruned {
                id: s.id.clone(),
                period: s.period.clone(),
                resources: s.resources,
            });
        }
        tx.commit().map_err(|e| sql_err(&self.path, e))?;
        tracing::info!(pruned = out.len(), cutoff = %cutoff, "scans pruned");
        Ok(out)
    }
}

pub(super) fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

/// Streams one scan's resources in batches of [`BATCH`] rows.
struct ResourceBatches<'a> {
    store: &'a SqliteStore,
    scan: String,
    seq: i64,
    next_ord: i64,
    buf: VecDeque<Result<Resource>>,
    done: bool,
}

impl Iterator for ResourceBatches<'_> {
    type Item = Result<Resource>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() && !self.done {
            match self
                .store
                .fetch_resources(&self.scan, self.seq, self.next_ord)
            {
                Ok((next, batch)) => {
                    if (batch.len() as i64) < BATCH {
                        self.done = true;
                    }
                    self.next_ord = next;
                    self.buf.extend(batch);
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        self.buf.pop_front()
    }
}
