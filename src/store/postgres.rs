//! The shared backend: a PostgreSQL database that many scanners and organisations write.
//!
//! Why these choices:
//!
//! * **tokio-postgres on a private current-thread runtime.** The [`Store`] trait is
//!   synchronous (the scan's writer thread and the report readers are plain threads), so
//!   every call is `block_on` on a runtime this store owns; the connection task only runs
//!   inside those calls, which keeps it off the scan's own runtime.
//! * **One transaction per scan, resources through binary `COPY`.** `begin_scan` opens the
//!   transaction and a `COPY resources … (FORMAT binary)`; each resource is encoded into the
//!   copy buffer and flushed in 4 KiB frames, so memory stays flat however large the scan.
//!   Scopes, groups and coverage (small) are kept until commit, because a connection in
//!   `COPY` accepts nothing else. A dropped writer aborts the copy and rolls back; a dropped
//!   connection makes the server roll back: the scan is absent, earlier scans untouched.
//! * **One writer per organisation.** A session-level advisory lock keyed on the
//!   organisation is taken before the transaction; the server releases it when the
//!   connection ends, however it ends. The holder is found again through `pg_locks` and
//!   `pg_stat_activity.application_name` (`cloudcensus <since> pid <pid>`), so a refused
//!   second writer names the first. Different organisations write concurrently.
//! * **Hash chain per organisation.** Each organisation's scans chain from the genesis
//!   hash in commit order (`commit_seq`), so concurrent organisations never wait for each
//!   other's chain head. Scan ids (`PERIOD-NNNN`) and `commit_seq` are allocated at commit
//!   under a short transaction-level advisory lock: only the final `INSERT` is serialised.
//! * **Same columns as SQLite** (text timestamps, JSON text), so both backends decode with
//!   the same code paths and hash identically.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use cloudcensus_core::Creator;
use cloudcensus_core::model::{Coverage, Resource, ResourceGroup, Scope};
use cloudcensus_core::scan::ScanMeta;
use futures::StreamExt;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row};

use super::hash::{self, ContentHasher, GENESIS, HASH_VERSION};
use super::migrations::{PG_MIGRATIONS, pg_latest};
use super::pgurl::{PgLocation, TlsMode};
use super::sqlite::{enum_name, parse_enum, parse_time, short};
use super::{
    Committed, Pruned, ResourceSeen, ResourceStream, Result, ScanSummary, ScanWriter, Store,
    StoreError, VerifyProblem, VerifyReport, validate_period,
};

/// Advisory-lock class of the per-organisation writer locks (`'CC'` + 1).
const WRITER_CLASS: i32 = 0x4343_0001;
/// Advisory-lock class of the short global locks below.
const GLOBAL_CLASS: i32 = 0x4343_0002;
/// Global lock: allocating scan ids and commit order.
const ID_LOCK: i32 = 1;
/// Global lock: schema migrations.
const MIGRATE_LOCK: i32 = 2;

/// Rows fetched per batch when streaming resources.
const BATCH: i64 = 10_000;

const RESOURCE_TYPES: &[Type] = &[
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
];

const COPY_RESOURCES: &str = "COPY resources (scan_seq, ord, provider, scope_id, resource_id,
    resource_type, category, name, location, replicas, resource_group, tags, created_at)
    FROM STDIN (FORMAT binary)";

/// A PostgreSQL store.
pub struct PgStore {
    rt: tokio::runtime::Runtime,
    client: Client,
    loc: PgLocation,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.loc.display)
            .finish()
    }
}

/// The writer-lock key of an organisation (first 31 bits of its SHA-256).
pub fn organisation_key(organisation: &str) -> i32 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(organisation.as_bytes());
    (u32::from_be_bytes([d[0], d[1], d[2], d[3]]) & 0x7fff_ffff) as i32
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The server's message with its code, detail and hint; never a password.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = format!(
                "{}: {} (SQLSTATE {})",
                db.severity(),
                db.message(),
                db.code().code()
            );
            if let Some(d) = db.detail() {
                m.push_str(&format!("; {d}"));
            }
            if let Some(h) = db.hint() {
                m.push_str(&format!("; hint: {h}"));
            }
            if db.code() == &tokio_postgres::error::SqlState::DISK_FULL {
                m.push_str(
                    "; the PostgreSQL server's disk is full: nothing of this scan was committed, free space on the server and scan again",
                );
            }
            m
        }
        None => {
            let mut m = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                m.push_str(&format!(": {s}"));
                src = s.source();
            }
            if e.is_closed() {
                m.push_str(
                    "; the connection to the server was lost: nothing of an open scan was committed",
                );
            }
            m
        }
    }
}

fn tls_config(loc: &PgLocation) -> Result<rustls::ClientConfig> {
    let bad = |reason: String| StoreError::BadLocation {
        location: loc.display.clone(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for c in native.certs {
        let _ = roots.add(c);
    }
    if let Some(path) = &loc.root_cert {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| bad(format!("sslrootcert {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(bad(format!(
                "sslrootcert {} holds no PEM certificate",
                path.display()
            )));
        }
        for c in certs {
            roots
                .add(c)
                .map_err(|e| bad(format!("sslrootcert {}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl PgStore {
    /// Connects and brings the schema up to date (`create`) or refuses a database without
    /// a cloudcensus schema (`!create`: read-only commands never create a store).
    pub fn open(url: &str, create: bool) -> Result<Self> {
        let loc = PgLocation::parse(url)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| StoreError::Io {
                path: "tokio runtime".into(),
                source,
            })?;
        let mut config = loc.config.clone();
        config.connect_timeout(std::time::Duration::from_secs(15));
        config.application_name("cloudcensus");
        let tls = match loc.tls {
            TlsMode::Disable => None,
            _ => Some(tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(
                &loc,
            )?)),
        };
        let client = rt.block_on(async {
            let client = match tls {
                None => {
                    let (client, conn) = config.connect(tokio_postgres::NoTls).await?;
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "PostgreSQL connection ended");
                        }
                    });
                    client
                }
                Some(tls) => {
                    let (client, conn) = config.connect(tls).await?;
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "PostgreSQL connection ended");
                        }
                    });
                    client
                }
            };
            Ok::<_, tokio_postgres::Error>(client)
        });
        let client = client.map_err(|e| connect_error(&loc, e))?;
        let store = PgStore { rt, client, loc };
        store.migrate(create)?;
        Ok(store)
    }

    fn err(&self, e: tokio_postgres::Error) -> StoreError {
        StoreError::Postgres {
            store: self.loc.display.clone(),
            message: describe(&e),
            source: e,
        }
    }

    fn run<T>(
        &self,
        fut: impl Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        self.rt.block_on(fut).map_err(|e| self.err(e))
    }

    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.run(self.client.query(sql, params))
    }

    fn exec(&self, sql: &str) -> Result<()> {
        self.run(self.client.batch_execute(sql))
    }

    fn schema_version(&self) -> Result<Option<i64>> {
        let exists: bool =
            self.query("SELECT to_regclass('cloudcensus_schema') IS NOT NULL", &[])?[0].get(0);
        if !exists {
            return Ok(None);
        }
        let rows = self.query("SELECT version FROM cloudcensus_schema", &[])?;
        Ok(Some(rows.first().map_or(0, |r| r.get::<_, i64>(0))))
    }

    fn migrate(&self, create: bool) -> Result<()> {
        let found = self.schema_version()?;
        if let Some(v) = found
            && v > pg_latest()
        {
            return Err(StoreError::TooNew {
                store: self.location(),
                found: v,
                supported: pg_latest(),
            });
        }
        if found == Some(pg_latest()) {
            return Ok(());
        }
        if found.is_none() && !create {
            return Err(StoreError::Missing(self.loc.display.clone().into()));
        }
        // Everything in one transaction (PostgreSQL DDL is transactional), serialised
        // against other processes migrating the same database.
        self.exec("BEGIN")?;
        let result = (|| {
            self.query(
                "SELECT pg_advisory_xact_lock($1, $2)",
                &[&GLOBAL_CLASS, &MIGRATE_LOCK],
            )?;
            self.exec("CREATE TABLE IF NOT EXISTS cloudcensus_schema (version BIGINT NOT NULL)")?;
            let rows = self.query("SELECT version FROM cloudcensus_schema", &[])?;
            let current = match rows.first() {
                Some(r) => r.get::<_, i64>(0),
                None => {
                    self.exec("INSERT INTO cloudcensus_schema (version) VALUES (0)")?;
                    0
                }
            };
            if current > pg_latest() {
                return Err(StoreError::TooNew {
                    store: self.location(),
                    found: current,
                    supported: pg_latest(),
                });
            }
            for (version, sql) in PG_MIGRATIONS {
                if *version <= current {
                    continue;
                }
                self.exec(sql)?;
                self.query("UPDATE cloudcensus_schema SET version = $1", &[version])?;
                if *version == 1 {
                    self.query(
                        "INSERT INTO store_info (key, value) VALUES ('created_at', $1)
                         ON CONFLICT DO NOTHING",
                        &[&hash::timestamp(&now())],
                    )?;
                }
                tracing::info!(store = %self.loc.display, version, "store schema migrated");
            }
            Ok(())
        })();
        match result {
            Ok(()) => self.exec("COMMIT"),
            Err(e) => {
                let _ = self.exec("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Who holds an organisation's writer lock, for the refusal message.
    fn holder(&self, organisation: &str, key: i32) -> String {
        let rows = self.query(
            "SELECT a.application_name, coalesce(host(a.client_addr), 'a local socket')
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
               AND l.classid::text = $1 AND l.objid::text = $2",
            &[&WRITER_CLASS.to_string(), &key.to_string()],
        );
        let who = match rows.as_deref() {
            Ok([r, ..]) => {
                let app: String = r.try_get(0).unwrap_or_default();
                let from: String = r.try_get(1).unwrap_or_default();
                let app = app.strip_prefix("cloudcensus ").unwrap_or(&app).to_string();
                format!("{app}, connected from {from}")
            }
            _ => "an unknown time".to_string(),
        };
        format!("{who} (organisation '{organisation}')")
    }

    fn unlock(&self, key: i32) {
        let r = self.query(
            "SELECT pg_advisory_unlock($1, $2), set_config('application_name', 'cloudcensus', false)",
            &[&WRITER_CLASS, &key],
        );
        if let Err(e) = r {
            tracing::debug!(error = %e, "writer lock not released (the connection is gone, so the server released it)");
        }
    }

    fn next_id(&self, period: &str) -> Result<String> {
        let like = format!("{period}-%");
        let max: Option<i64> = self.query(
            "SELECT MAX(CAST(substr(id, 9) AS BIGINT)) FROM (
               SELECT id FROM scans WHERE id LIKE $1
               UNION ALL SELECT id FROM pruned_scans WHERE id LIKE $1) t",
            &[&like],
        )?[0]
            .get(0);
        Ok(format!("{period}-{:04}", max.unwrap_or(0) + 1))
    }

    fn seq_of(&self, id: &str) -> Result<i64> {
        self.query("SELECT seq FROM scans WHERE id = $1", &[&id])?
            .first()
            .map(|r| r.get(0))
            .ok_or_else(|| StoreError::NoSuchScan {
                spec: id.to_string(),
                store: self.location(),
            })
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

    fn recompute(&self, id: &str) -> Result<(String, u64)> {
        let meta = self.load_meta(id)?;
        let version: i64 = self
            .query("SELECT hash_version FROM scans WHERE id = $1", &[&id])?
            .first()
            .map(|r| r.get(0))
            .unwrap_or(HASH_VERSION);
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

    fn fetch_resources(
        &self,
        scan: &str,
        seq: i64,
        from_ord: i64,
    ) -> Result<(i64, Vec<Result<Resource>>)> {
        let rows = self.query(
            "SELECT ord, provider, scope_id, resource_id, resource_type, category, name,
                    location, replicas, resource_group, tags, created_at
             FROM resources WHERE scan_seq = $1 AND ord >= $2 ORDER BY ord LIMIT $3",
            &[&seq, &from_ord, &BATCH],
        )?;
        let mut next = from_ord;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let ord: i64 = r.get(0);
            next = ord + 1;
            out.push(self.decode_resource(scan, ord, r));
        }
        Ok((next, out))
    }

    fn decode_resource(&self, scan: &str, ord: i64, r: &Row) -> Result<Resource> {
        let bad = |m: String| self.corrupt(scan, "resources", ord, m);
        let get = |i: usize| -> Result<Option<String>> {
            r.try_get::<_, Option<String>>(i)
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

    fn summary_from_row(&self, r: &Row) -> Result<ScanSummary> {
        let id: String = r.get("id");
        let seq: i64 = r.get("seq");
        let t = |col: &str| -> Result<DateTime<Utc>> {
            parse_time(&r.get::<_, String>(col)).map_err(|m| self.corrupt(&id, "scans", seq, m))
        };
        Ok(ScanSummary {
            seq,
            id: id.clone(),
            organisation: r.get("organisation"),
            period: r.get("period"),
            started_at: t("started_at")?,
            finished_at: t("finished_at")?,
            committed_at: t("committed_at")?,
            tool_version: r.get("tool_version"),
            scopes: r.get("scope_count"),
            resources: r.get("resource_count"),
            coverage: r.get("coverage_count"),
            coverage_gaps: r.get("coverage_gaps"),
            content_hash: r.get("content_hash"),
            prev_hash: r.get("prev_hash"),
            hash: r.get("hash"),
        })
    }
}

fn connect_error(loc: &PgLocation, e: tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if code == &SqlState::INVALID_PASSWORD
            || code == &SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return StoreError::AuthFailed {
                host: loc.host.clone(),
                dbname: loc.dbname.clone(),
                user: loc.user.clone(),
                reason: db.message().to_string(),
            };
        }
        if code == &SqlState::INVALID_CATALOG_NAME {
            return StoreError::BadLocation {
                location: loc.display.clone(),
                reason: format!(
                    "the server at {} has no database '{}': create it (`createdb -O {} {}`) or name an existing one",
                    loc.host, loc.dbname, loc.user, loc.dbname
                ),
            };
        }
    }
    let text = describe(&e);
    if text.contains("password missing") {
        return StoreError::AuthFailed {
            host: loc.host.clone(),
            dbname: loc.dbname.clone(),
            user: loc.user.clone(),
            reason: "the server asks for a password and none was found in PGPASSWORD or the password file".into(),
        };
    }
    StoreError::Unreachable {
        host: loc.host.clone(),
        store: loc.display.clone(),
        reason: text,
    }
}

/// An open scan on a [`PgStore`]: a transaction with a `COPY` into `resources` running.
struct PgWriter<'a> {
    store: &'a PgStore,
    copy: Option<Pin<Box<BinaryCopyInWriter>>>,
    scopes: Vec<Scope>,
    groups: Vec<ResourceGroup>,
    coverage: Vec<Coverage>,
    creators: Vec<Creator>,
    json_buf: Vec<u8>,
    tags_buf: Vec<u8>,
    id: String,
    seq: i64,
    key: i32,
    meta: ScanMeta,
    hasher: ContentHasher,
    resources: i64,
    gaps: i64,
    done: bool,
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn json_into<'b, T: serde::Serialize + ?Sized>(buf: &'b mut Vec<u8>, v: &T) -> &'b str {
    buf.clear();
    if serde_json::to_writer(&mut *buf, v).is_err() {
        buf.clear();
        buf.extend_from_slice(b"null");
    }
    std::str::from_utf8(buf).unwrap_or("null")
}

impl PgWriter<'_> {
    fn insert_small_parts(&self) -> Result<()> {
        let st = self.store;
        let c = &st.client;
        let seq = self.seq;
        st.rt.block_on(async {
            let ins = c
                .prepare(
                    "INSERT INTO scopes (scan_seq, ord, provider, kind, id, name, parents, tags)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .await?;
            for chunk in self.scopes.chunks(500).enumerate() {
                let (ci, chunk) = chunk;
                let futs = chunk.iter().enumerate().map(|(i, s)| {
                    let ord = (ci * 500 + i) as i64;
                    let kind = enum_name(&s.kind);
                    let parents = json(&s.parents);
                    let tags = json(&s.tags);
                    let ins = &ins;
                    async move {
                        c.execute(
                            ins,
                            &[&seq, &ord, &s.provider.as_str(), &kind, &s.id, &s.name, &parents, &tags],
                        )
                        .await
                    }
                });
                futures::future::try_join_all(futs).await?;
            }
            let ins = c
                .prepare(
                    "INSERT INTO resource_groups (scan_seq, ord, provider, scope_id, name, location, tags)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .await?;
            for (ci, chunk) in self.groups.chunks(500).enumerate() {
                let futs = chunk.iter().enumerate().map(|(i, g)| {
                    let ord = (ci * 500 + i) as i64;
                    let tags = json(&g.tags);
                    let ins = &ins;
                    async move {
                        c.execute(
                            ins,
                            &[&seq, &ord, &g.provider.as_str(), &g.scope_id, &g.name, &g.location, &tags],
                        )
                        .await
                    }
                });
                futures::future::try_join_all(futs).await?;
            }
            let ins = c
                .prepare(
                    "INSERT INTO coverage (scan_seq, ord, provider, scope_id, region, service, status, message)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .await?;
            for (ci, chunk) in self.coverage.chunks(500).enumerate() {
                let futs = chunk.iter().enumerate().map(|(i, cv)| {
                    let ord = (ci * 500 + i) as i64;
                    let ins = &ins;
                    async move {
                        c.execute(
                            ins,
                            &[
                                &seq,
                                &ord,
                                &cv.provider.as_str(),
                                &cv.scope_id,
                                &cv.region,
                                &cv.service,
                                &cv.status.as_str(),
                                &cv.message,
                            ],
                        )
                        .await
                    }
                });
                futures::future::try_join_all(futs).await?;
            }
            let ins = c
                .prepare(
                    "INSERT INTO creators (scan_seq, ord, provider, resource_id, status, principal,
                        event_time, source, detail)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .await?;
            for (ci, chunk) in self.creators.chunks(500).enumerate() {
                let futs = chunk.iter().enumerate().map(|(i, cr)| {
                    let ord = (ci * 500 + i) as i64;
                    let ins = &ins;
                    let event_time = cr.event_time.as_ref().map(hash::timestamp);
                    async move {
                        c.execute(
                            ins,
                            &[
                                &seq,
                                &ord,
                                &cr.provider.as_str(),
                                &cr.resource_id,
                                &cr.status.as_str(),
                                &cr.principal,
                                &event_time,
                                &cr.source,
                                &cr.detail,
                            ],
                        )
                        .await
                    }
                });
                futures::future::try_join_all(futs).await?;
            }
            Ok::<_, tokio_postgres::Error>(())
        })
        .map_err(|e| st.err(e))
    }
}

impl ScanWriter for PgWriter<'_> {
    fn id(&self) -> &str {
        &self.id
    }

    fn add_scope(&mut self, s: &Scope) -> Result<()> {
        self.hasher.scope(s);
        self.scopes.push(s.clone());
        Ok(())
    }

    fn add_group(&mut self, g: &ResourceGroup) -> Result<()> {
        self.hasher.group(g);
        self.groups.push(g.clone());
        Ok(())
    }

    fn add_resource(&mut self, r: &Resource) -> Result<()> {
        let Some(copy) = self.copy.as_mut() else {
            return Err(StoreError::InvalidMeta(
                "the scan's COPY was already closed".into(),
            ));
        };
        let ord = self.resources;
        let created = r.created_at.as_ref().map(hash::timestamp);
        let replicas = if r.replica_locations.is_empty() {
            "[]"
        } else {
            json_into(&mut self.json_buf, &r.replica_locations)
        };
        let tags = if r.tags.is_empty() {
            "{}"
        } else {
            json_into(&mut self.tags_buf, &r.tags)
        };
        let row: [&(dyn ToSql + Sync); 13] = [
            &self.seq,
            &ord,
            &r.provider.as_str(),
            &r.scope_id,
            &r.id,
            &r.resource_type,
            &r.category.as_str(),
            &r.name,
            &r.location,
            &replicas,
            &r.resource_group,
            &tags,
            &created,
        ];
        let store = self.store;
        store
            .rt
            .block_on(copy.as_mut().write(&row))
            .map_err(|e| store.err(e))?;
        self.resources += 1;
        self.hasher.resource(r);
        if self.resources % 100_000 == 0 {
            tracing::debug!(scan = %self.id, resources = self.resources, "writing scan");
        }
        Ok(())
    }

    fn add_coverage(&mut self, c: &Coverage) -> Result<()> {
        if c.status.is_gap() {
            self.gaps += 1;
        }
        self.hasher.coverage(c);
        self.coverage.push(c.clone());
        Ok(())
    }

    fn add_creator(&mut self, c: &Creator) -> Result<()> {
        self.hasher.creator(c);
        self.creators.push(c.clone());
        Ok(())
    }

    fn resource_count(&self) -> u64 {
        self.resources as u64
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
        let st = self.store;
        if let Some(mut copy) = self.copy.take() {
            st.run(copy.as_mut().finish())?;
        }
        self.insert_small_parts()?;
        let content_hash = std::mem::take(&mut self.hasher).finish(&self.meta);
        // Ids and commit order are global: serialise only this last step.
        st.query(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&GLOBAL_CLASS, &ID_LOCK],
        )?;
        self.id = st.next_id(&self.meta.period)?;
        let m = &self.meta;
        let head = st.query(
            "SELECT hash FROM (
               SELECT commit_seq, hash FROM scans WHERE organisation = $1
               UNION ALL SELECT commit_seq, hash FROM pruned_scans WHERE organisation = $1) t
             ORDER BY commit_seq DESC LIMIT 1",
            &[&m.organisation],
        )?;
        let prev: String = head
            .first()
            .map_or_else(|| GENESIS.to_string(), |r| r.get(0));
        let chain = hash::chain_hash(&prev, &self.id, &content_hash);
        st.query(
            "INSERT INTO scans (seq, commit_seq, id, organisation, period, started_at,
                finished_at, tool_version, identities, config_digest, committed_at, scope_count,
                group_count, resource_count, coverage_count, coverage_gaps, hash_version,
                content_hash, prev_hash, hash)
             SELECT $1, coalesce(max(c), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                $13, $14, $15, $16, $17, $18, $19
             FROM (SELECT max(commit_seq) AS c FROM scans
                   UNION ALL SELECT max(commit_seq) FROM pruned_scans) t",
            &[
                &self.seq,
                &self.id,
                &m.organisation,
                &m.period,
                &hash::timestamp(&m.started_at),
                &hash::timestamp(&m.finished_at),
                &m.tool_version,
                &json(&m.identities),
                &m.config_digest,
                &hash::timestamp(&now()),
                &(self.scopes.len() as i64),
                &(self.groups.len() as i64),
                &self.resources,
                &(self.coverage.len() as i64),
                &self.gaps,
                &HASH_VERSION,
                &content_hash,
                &prev,
                &chain,
            ],
        )?;
        st.exec("COMMIT")?;
        self.done = true;
        st.unlock(self.key);
        tracing::info!(scan = %self.id, resources = self.resources, hash = %chain, "scan committed");
        Ok(Committed {
            id: self.id.clone(),
            resources: self.resources as u64,
            coverage: self.coverage.len() as u64,
            content_hash,
            hash: chain,
        })
    }
}

impl Drop for PgWriter<'_> {
    fn drop(&mut self) {
        if !self.done {
            tracing::warn!(scan = %self.id, "scan not committed: rolling back");
            // Dropping the sink aborts the COPY (CopyFail); then the transaction ends.
            drop(self.copy.take());
            if let Err(e) = self.store.exec("ROLLBACK") {
                tracing::debug!(scan = %self.id, error = %e, "rollback not sent (the connection is gone, so the server rolled back)");
            }
            self.store.unlock(self.key);
        }
    }
}

impl Store for PgStore {
    fn location(&self) -> String {
        self.loc.display.clone()
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
        let key = organisation_key(&meta.organisation);
        let app = format!(
            "cloudcensus {} (process {})",
            now().to_rfc3339_opts(SecondsFormat::Secs, true),
            std::process::id()
        );
        let got: bool = self.query(
            "SELECT pg_try_advisory_lock($1, $2)",
            &[&WRITER_CLASS, &key],
        )?[0]
            .get(0);
        if !got {
            return Err(StoreError::Locked {
                store: self.location(),
                since: self.holder(&meta.organisation, key),
            });
        }
        let setup = (|| {
            self.query("SELECT set_config('application_name', $1, false)", &[&app])?;
            self.exec("BEGIN")?;
            let seq: i64 = self.query("SELECT nextval('scan_seq')", &[])?[0].get(0);
            let id = self.next_id(&meta.period)?;
            let sink = self.run(self.client.copy_in(COPY_RESOURCES))?;
            let copy = Box::pin(BinaryCopyInWriter::new(sink, RESOURCE_TYPES));
            Ok::<_, StoreError>((seq, id, copy))
        })();
        let (seq, id, copy) = match setup {
            Ok(v) => v,
            Err(e) => {
                let _ = self.exec("ROLLBACK");
                self.unlock(key);
                return Err(e);
            }
        };
        meta.id = id.clone();
        tracing::info!(scan = %id, store = %self.loc.display, "writing scan");
        Ok(Box::new(PgWriter {
            store: self,
            copy: Some(copy),
            scopes: Vec::new(),
            groups: Vec::new(),
            coverage: Vec::new(),
            creators: Vec::new(),
            json_buf: Vec::with_capacity(256),
            tags_buf: Vec::with_capacity(1024),
            id,
            seq,
            key,
            meta,
            hasher: ContentHasher::new(),
            resources: 0,
            gaps: 0,
            done: false,
        }))
    }

    fn list_scans(&self) -> Result<Vec<ScanSummary>> {
        self.query("SELECT * FROM scans ORDER BY commit_seq", &[])?
            .iter()
            .map(|r| self.summary_from_row(r))
            .collect()
    }

    fn load_meta(&self, id: &str) -> Result<ScanMeta> {
        let rows = self.query(
            "SELECT seq, id, organisation, period, started_at, finished_at, tool_version,
                    identities, config_digest FROM scans WHERE id = $1",
            &[&id],
        )?;
        let r = rows.first().ok_or_else(|| StoreError::NoSuchScan {
            spec: id.to_string(),
            store: self.location(),
        })?;
        let seq: i64 = r.get(0);
        let bad = |m: String| self.corrupt(id, "scans", seq, m);
        Ok(ScanMeta {
            id: r.get(1),
            organisation: r.get(2),
            period: r.get(3),
            started_at: parse_time(&r.get::<_, String>(4)).map_err(bad)?,
            finished_at: parse_time(&r.get::<_, String>(5)).map_err(bad)?,
            tool_version: r.get(6),
            identities: serde_json::from_str(&r.get::<_, String>(7))
                .map_err(|e| bad(format!("identities: {e}")))?,
            config_digest: r.get(8),
        })
    }

    fn load_parts(&self, id: &str) -> Result<(Vec<Scope>, Vec<ResourceGroup>, Vec<Coverage>)> {
        let seq = self.seq_of(id)?;
        let fetch = |sql: &str| -> Result<Vec<(i64, Vec<Option<String>>)>> {
            let rows = self.query(sql, &[&seq])?;
            Ok(rows
                .iter()
                .map(|r| {
                    let ord: i64 = r.get(0);
                    let v = (1..r.len())
                        .map(|i| r.try_get::<_, Option<String>>(i).ok().flatten())
                        .collect();
                    (ord, v)
                })
                .collect())
        };
        let need = |table: &'static str, ord: i64, v: &Option<String>, name: &str| {
            v.clone()
                .ok_or_else(|| self.corrupt(id, table, ord, format!("{name} is NULL")))
        };
        let mut scopes = Vec::new();
        for (ord, c) in fetch(
            "SELECT ord, provider, kind, id, name, parents, tags FROM scopes
             WHERE scan_seq = $1 ORDER BY ord",
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
             WHERE scan_seq = $1 ORDER BY ord",
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
             WHERE scan_seq = $1 ORDER BY ord",
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

    fn creators(&self, id: &str) -> Result<Vec<Creator>> {
        let seq = self.seq_of(id)?;
        let rows = self.query(
            "SELECT ord, provider, resource_id, status, principal, event_time, source, detail
             FROM creators WHERE scan_seq = $1 ORDER BY ord",
            &[&seq],
        )?;
        rows.iter()
            .map(|r| {
                let ord: i64 = r.get(0);
                let cols: Vec<Option<String>> = (1..8).map(|i| r.get(i)).collect();
                super::decode_creator(&cols).map_err(|m| self.corrupt(id, "creators", ord, m))
            })
            .collect()
    }

    fn resources(&self, id: &str) -> Result<ResourceStream<'_>> {
        let seq = self.seq_of(id)?;
        Ok(Box::new(PgBatches {
            store: self,
            scan: id.to_string(),
            seq,
            next_ord: 0,
            buf: std::collections::VecDeque::new(),
            done: false,
        }))
    }

    fn resource_history(&self) -> Result<Vec<ResourceSeen>> {
        let scans: HashMap<i64, (DateTime<Utc>, String)> = self
            .list_scans()?
            .into_iter()
            .map(|s| (s.seq, (s.finished_at, s.id)))
            .collect();
        type Key = (DateTime<Utc>, i64);
        let mut agg: HashMap<(String, String), (Key, Key, i64)> = HashMap::new();
        // Streamed row by row: the history of a year of scans does not fit in memory twice.
        let stream = self.run(self.client.query_raw(
            "SELECT provider, resource_id, scan_seq FROM resources",
            std::iter::empty::<i64>(),
        ))?;
        let mut stream = Box::pin(stream);
        while let Some(row) = self.rt.block_on(stream.next()) {
            let r = row.map_err(|e| self.err(e))?;
            let provider: String = r.get(0);
            let rid: String = r.get(1);
            let seq: i64 = r.get(2);
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
        let summaries: HashMap<String, ScanSummary> = self
            .list_scans()?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        let links = self.query(
            "SELECT organisation, commit_seq, id, content_hash, prev_hash, hash, false FROM scans
             UNION ALL
             SELECT organisation, commit_seq, id, content_hash, prev_hash, hash, true FROM pruned_scans
             ORDER BY 1, 2",
            &[],
        )?;
        // One chain per organisation; the report's head is the newest commit's chain hash.
        let mut prev: HashMap<String, (String, String)> = HashMap::new();
        let mut newest: Option<(i64, String)> = None;
        let mut problems: Vec<(i64, VerifyProblem)> = Vec::new();
        for l in &links {
            let org: String = l.get(0);
            let cseq: i64 = l.get(1);
            let id: String = l.get(2);
            let content_hash: String = l.get(3);
            let prev_hash: String = l.get(4);
            let link_hash: String = l.get(5);
            let pruned: bool = l.get(6);
            let seq = summaries.get(&id).map_or(cseq, |s| s.seq);
            let mut problem = |message: String| {
                problems.push((
                    cseq,
                    VerifyProblem {
                        scan: id.clone(),
                        seq,
                        message,
                    },
                ))
            };
            let (want_prev, prev_id) = prev
                .get(&org)
                .cloned()
                .unwrap_or_else(|| (GENESIS.to_string(), "(start of chain)".to_string()));
            if prev_hash != want_prev {
                problem(format!(
                    "its previous-scan hash {} does not match {} of {} (organisation '{org}'): a scan before it was removed, inserted or altered",
                    short(&prev_hash),
                    short(&want_prev),
                    prev_id
                ));
            }
            let recomputed = hash::chain_hash(&prev_hash, &id, &content_hash);
            if recomputed != link_hash {
                problem(format!(
                    "its chain hash {} does not match the recomputed {}: the scan's id or hashes were altered",
                    short(&link_hash),
                    short(&recomputed)
                ));
            }
            if pruned {
                report.pruned_links_checked += 1;
            } else {
                match self.recompute(&id) {
                    Ok((content, n)) => {
                        report.resources_checked += n;
                        if content != content_hash {
                            problem(format!(
                                "its content changed after commit: recomputed content hash {} but {} was stored",
                                short(&content),
                                short(&content_hash)
                            ));
                        }
                        if let Some(s) = summaries.get(&id)
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
            if newest.as_ref().is_none_or(|(c, _)| cseq > *c) {
                newest = Some((cseq, link_hash.clone()));
            }
            prev.insert(org, (link_hash, format!("scan {id}")));
        }
        problems.sort_by_key(|(c, _)| *c);
        report.problems = problems.into_iter().map(|(_, p)| p).collect();
        report.head = newest.map(|(_, h)| h);
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
        let victims: Vec<ScanSummary> = self
            .list_scans()?
            .into_iter()
            .filter(|s| s.period < cutoff)
            .collect();
        if victims.is_empty() {
            return Ok(Vec::new());
        }
        // Every organisation concerned must have no writer while its scans move.
        let mut orgs: Vec<&str> = victims.iter().map(|s| s.organisation.as_str()).collect();
        orgs.sort();
        orgs.dedup();
        let mut held = Vec::new();
        for org in &orgs {
            let key = organisation_key(org);
            let got: bool = self.query(
                "SELECT pg_try_advisory_lock($1, $2)",
                &[&WRITER_CLASS, &key],
            )?[0]
                .get(0);
            if !got {
                let since = self.holder(org, key);
                held.iter().for_each(|k| self.unlock(*k));
                return Err(StoreError::Locked {
                    store: self.location(),
                    since,
                });
            }
            held.push(key);
        }
        let result = (|| {
            self.exec("BEGIN")?;
            let mut out = Vec::new();
            let at = hash::timestamp(&now());
            for s in &victims {
                self.query(
                    "INSERT INTO pruned_scans (seq, commit_seq, id, organisation, period,
                        finished_at, resource_count, content_hash, prev_hash, hash, pruned_at)
                     SELECT seq, commit_seq, id, organisation, period, finished_at,
                        resource_count, content_hash, prev_hash, hash, $2
                     FROM scans WHERE seq = $1",
                    &[&s.seq, &at],
                )?;
                for table in [
                    "resources",
                    "scopes",
                    "resource_groups",
                    "coverage",
                    "creators",
                ] {
                    self.query(
                        &format!("DELETE FROM {table} WHERE scan_seq = $1"),
                        &[&s.seq],
                    )?;
                }
                self.query("DELETE FROM scans WHERE seq = $1", &[&s.seq])?;
                out.push(Pruned {
                    id: s.id.clone(),
                    period: s.period.clone(),
                    resources: s.resources,
                });
            }
            self.exec("COMMIT")?;
            Ok(out)
        })();
        if result.is_err() {
            let _ = self.exec("ROLLBACK");
        }
        held.iter().for_each(|k| self.unlock(*k));
        let out = result?;
        tracing::info!(pruned = out.len(), cutoff = %cutoff, "scans pruned");
        Ok(out)
    }
}

/// Streams one scan's resources in batches of [`BATCH`] rows.
struct PgBatches<'a> {
    store: &'a PgStore,
    scan: String,
    seq: i64,
    next_ord: i64,
    buf: std::collections::VecDeque<Result<Resource>>,
    done: bool,
}

impl Iterator for PgBatches<'_> {
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
