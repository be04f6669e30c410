//! Store behaviour, one suite run against both backends: a real SQLite file in a
//! temporary directory and a real PostgreSQL database (a fresh one per test, on the server
//! `./scripts/test` starts and names in `CLOUDCENSUS_TEST_POSTGRES`). Each behaviour is a
//! function taking the backend; `both!` turns it into `sqlite::NAME` and `postgres::NAME`.

use super::*;
use crate::synth::Synth;

/// Which backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty store location of one backend.
pub(crate) struct Fixture {
    _dir: Option<tempfile::TempDir>,
    pub(crate) location: PathBuf,
    backend: Backend,
}

/// The test server's admin URL; fails (does not skip) without it.
pub(crate) fn pg_admin_url() -> String {
    std::env::var("CLOUDCENSUS_TEST_POSTGRES").expect(
        "CLOUDCENSUS_TEST_POSTGRES is not set: run the tests through ./scripts/test, which starts a PostgreSQL server",
    )
}

/// Runs SQL on a PostgreSQL URL with a plain client (set-up and tampering in tests).
pub(crate) fn pg_exec(url: &str, sql: &str) {
    let loc = pgurl::PgLocation::parse(url).expect("test URL");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, conn) = loc
            .config
            .connect(tokio_postgres::NoTls)
            .await
            .expect("connect to the test PostgreSQL server");
        let h = tokio::spawn(conn);
        client.batch_execute(sql).await.expect(sql);
        drop(client);
        let _ = h.await;
    });
}

/// A new empty database on the test server; returns its URL.
pub(crate) fn fresh_pg_database() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let admin = pg_admin_url();
    let name = format!(
        "cc_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        Utc::now().timestamp_micros() % 1_000_000
    );
    pg_exec(&admin, &format!("CREATE DATABASE {name}"));
    admin.replacen("/postgres?", &format!("/{name}?"), 1)
}

impl Fixture {
    pub(crate) fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let location = dir.path().join("store.db");
                Fixture {
                    _dir: Some(dir),
                    location,
                    backend,
                }
            }
            Backend::Postgres => Fixture {
                _dir: None,
                location: PathBuf::from(fresh_pg_database()),
                backend,
            },
        }
    }

    /// Runs SQL behind the store's back (tampering, as an attacker with write access would).
    fn raw(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => rusqlite::Connection::open(&self.location)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Backend::Postgres => pg_exec(&self.location.to_string_lossy(), sql),
        }
    }

    fn set_schema_version(&self, v: i64) {
        match self.backend {
            Backend::Sqlite => self.raw(&format!("PRAGMA user_version = {v}")),
            Backend::Postgres => self.raw(&format!("UPDATE cloudcensus_schema SET version = {v}")),
        }
    }
}

fn scan(seed: u64, period: &str, n: u64) -> ScanData {
    let s = Synth::new(seed);
    let mut d = s.scan_data(n);
    d.meta = s.meta(period);
    d
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(super::Backend::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name(super::Backend::Postgres) } )*
        }
    };
}

both!(
    written_scan_loads_back_identically_with_a_period_based_id,
    dropping_a_writer_without_commit_leaves_no_trace,
    second_writer_is_refused_while_one_is_open,
    verify_names_the_scan_whose_row_was_edited,
    verify_detects_a_deleted_scan_in_the_middle_of_the_chain,
    prune_keeps_recent_months_and_the_chain_verifiable,
    resolve_accepts_latest_full_ids_and_unique_prefixes,
    history_queries_group_by_period_year_and_resource,
    resource_stream_reads_more_than_one_batch_in_order,
    invalid_period_is_refused_before_anything_is_written,
    a_store_from_a_newer_version_is_refused,
    reading_a_missing_store_does_not_create_it,
    creators_load_back_in_order_are_hashed_and_pruned_with_their_scan,
    a_scan_committed_before_creators_existed_still_verifies,
);

/// Three creator answers of different kinds for resources of `data`.
fn with_creators(mut data: ScanData) -> ScanData {
    use cloudcensus_core::{Creator, CreatorStatus};
    let t = DateTime::parse_from_rfc3339("2026-02-27T08:15:30.5Z")
        .unwrap()
        .with_timezone(&Utc);
    let ids: Vec<(Provider, String)> = data
        .resources
        .iter()
        .take(3)
        .map(|r| (r.provider, r.id.clone()))
        .collect();
    data.creators = vec![
        Creator::found(
            ids[0].0,
            ids[0].1.clone(),
            "arn:aws:sts::111122223333:assumed-role/Dev/jan@example.nl",
            t,
            "cloudtrail:CreateBucket",
        ),
        Creator::older_than(ids[1].0, ids[1].1.clone(), "cloudtrail", 90),
        Creator::unknown(
            ids[2].0,
            ids[2].1.clone(),
            CreatorStatus::Failed,
            "activity-log",
            "denied: AuthorizationFailed",
        ),
    ];
    data
}

fn creators_load_back_in_order_are_hashed_and_pruned_with_their_scan(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let mut st = open_or_create(&path).unwrap();
    let data = with_creators(scan(4, "2025-01", 30));
    let c = st.write_scan(&data).unwrap();
    assert_eq!(st.creators(&c.id).unwrap(), data.creators);
    assert_eq!(st.load_scan(&c.id).unwrap().creators, data.creators);
    let plain = st.write_scan(&scan(4, "2025-01", 30)).unwrap();
    assert_ne!(
        plain.content_hash, c.content_hash,
        "creators are part of the content"
    );
    assert!(st.creators(&plain.id).unwrap().is_empty());
    assert!(st.verify().unwrap().ok());
    fx.raw(&format!(
        "UPDATE creators SET principal = 'someone-else'
         WHERE scan_seq = (SELECT seq FROM scans WHERE id = '{}') AND ord = 0",
        c.id
    ));
    let rep = st.verify().unwrap();
    assert_eq!(rep.problems.len(), 1, "{:?}", rep.problems);
    assert_eq!(rep.problems[0].scan, c.id);
    st.write_scan(&scan(5, "2026-03", 5)).unwrap();
    let pruned = st
        .prune(2, NaiveDate::from_ymd_opt(2026, 3, 15).unwrap())
        .unwrap();
    assert_eq!(pruned.len(), 2);
    match b {
        Backend::Sqlite => {
            let n: i64 = rusqlite::Connection::open(&path)
                .unwrap()
                .query_row("SELECT COUNT(*) FROM creators", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 0, "pruned scans leave no creator rows");
        }
        // pg_exec fails the test when the statement raises.
        Backend::Postgres => fx.raw(
            "DO $$ BEGIN IF (SELECT COUNT(*) FROM creators) > 0 THEN
                 RAISE EXCEPTION 'pruned scans left creator rows';
             END IF; END $$",
        ),
    }
}

fn a_scan_committed_before_creators_existed_still_verifies(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let mut st = open_or_create(&path).unwrap();
    let data = scan(6, "2026-01", 40);
    let c = st.write_scan(&data).unwrap();
    // What a version-1 store holds: the v1 content hash under hash_version 1, and its
    // chain hash over it.
    let mut h = hash::ContentHasher::new();
    data.scopes.iter().for_each(|s| h.scope(s));
    data.groups.iter().for_each(|g| h.group(g));
    data.resources.iter().for_each(|r| h.resource(r));
    data.coverage.iter().for_each(|x| h.coverage(x));
    let mut meta = data.meta.clone();
    meta.finished_at = st.load_meta(&c.id).unwrap().finished_at;
    meta.identities = st.load_meta(&c.id).unwrap().identities;
    let v1 = h.finish_version(&meta, 1);
    let chain = hash::chain_hash(hash::GENESIS, &c.id, &v1);
    fx.raw(&format!(
        "UPDATE scans SET hash_version = 1, content_hash = '{v1}', hash = '{chain}' WHERE id = '{}'",
        c.id
    ));
    let rep = st.verify().unwrap();
    assert!(rep.ok(), "{:?}", rep.problems);
    assert_eq!(rep.head.as_deref(), Some(chain.as_str()));
}

fn written_scan_loads_back_identically_with_a_period_based_id(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let mut st = open_or_create(&path).unwrap();
    let data = scan(1, "2026-03", 500);
    let c = st.write_scan(&data).unwrap();
    assert_eq!(c.id, "2026-03-0001");
    assert_eq!(c.resources, 500);
    let back = st.load_scan(&c.id).unwrap();
    let mut want = data.clone();
    want.meta.id = c.id.clone();
    assert_eq!(back, want);
    let c2 = st.write_scan(&data).unwrap();
    assert_eq!(c2.id, "2026-03-0002");
    assert_eq!(
        c2.content_hash, c.content_hash,
        "same content, same content hash"
    );
    assert_ne!(c2.hash, c.hash, "chain hash differs");
}

fn dropping_a_writer_without_commit_leaves_no_trace(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let mut st = open_or_create(&path).unwrap();
    st.write_scan(&scan(1, "2026-01", 10)).unwrap();
    {
        let mut w = st.begin_scan(Synth::new(2).meta("2026-02")).unwrap();
        for r in Synth::new(2).resources(1000) {
            w.add_resource(&r).unwrap();
        }
    }
    let scans = st.list_scans().unwrap();
    assert_eq!(scans.len(), 1);
    assert!(st.verify().unwrap().ok());
    // The id is reused: nothing of the rolled-back scan remains.
    let c = st.write_scan(&scan(2, "2026-02", 5)).unwrap();
    assert_eq!(c.id, "2026-02-0001");
}

fn second_writer_is_refused_while_one_is_open(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let mut a = open_or_create(&path).unwrap();
    let mut b = open(&path).unwrap();
    let w = a.begin_scan(Synth::new(1).meta("2026-01")).unwrap();
    let err = match b.begin_scan(Synth::new(2).meta("2026-01")) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("second writer was allowed"),
    };
    assert!(
        err.contains("another scan is being written to")
            && err.contains("since 20")
            && err.contains("wait for it or use another --store"),
        "{err}"
    );
    // Readers are not blocked.
    assert!(b.list_scans().unwrap().is_empty());
    w.commit().unwrap();
    b.write_scan(&scan(2, "2026-01", 3)).unwrap();
    assert_eq!(b.list_scans().unwrap().len(), 2);
}

fn verify_names_the_scan_whose_row_was_edited(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let mut st = open_or_create(&path).unwrap();
    for (i, p) in ["2026-01", "2026-02", "2026-03"].iter().enumerate() {
        st.write_scan(&scan(i as u64, p, 50)).unwrap();
    }
    assert!(st.verify().unwrap().ok());
    fx.raw(
        "UPDATE resources SET location = 'us-east-1'
         WHERE scan_seq = (SELECT seq FROM scans WHERE id = '2026-02-0001') AND ord = 7",
    );
    let rep = st.verify().unwrap();
    assert_eq!(rep.problems.len(), 1, "{:?}", rep.problems);
    assert_eq!(rep.problems[0].scan, "2026-02-0001");
    assert!(rep.problems[0].message.contains("content changed"));
}

fn verify_detects_a_deleted_scan_in_the_middle_of_the_chain(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let mut st = open_or_create(&path).unwrap();
    for p in ["2026-01", "2026-02", "2026-03"] {
        st.write_scan(&scan(1, p, 5)).unwrap();
    }
    fx.raw("DELETE FROM scans WHERE id = '2026-02-0001'");
    let rep = st.verify().unwrap();
    assert_eq!(rep.problems[0].scan, "2026-03-0001");
    assert!(rep.problems[0].message.contains("removed"), "{:?}", rep);
}

fn prune_keeps_recent_months_and_the_chain_verifiable(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let mut st = open_or_create(&path).unwrap();
    for p in ["2025-10", "2025-11", "2026-01", "2026-02", "2026-03"] {
        st.write_scan(&scan(1, p, 20)).unwrap();
    }
    let today = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
    let pruned = st.prune(3, today).unwrap();
    let ids: Vec<_> = pruned.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["2025-10-0001", "2025-11-0001"]);
    let left: Vec<_> = st
        .list_scans()
        .unwrap()
        .into_iter()
        .map(|s| s.period)
        .collect();
    assert_eq!(left, ["2026-01", "2026-02", "2026-03"]);
    let rep = st.verify().unwrap();
    assert!(rep.ok(), "{:?}", rep.problems);
    assert_eq!(rep.pruned_links_checked, 2);
    // A later scan still links to the chain, and a pruned id is never reused.
    let c = st.write_scan(&scan(1, "2025-10", 1)).unwrap();
    assert_eq!(c.id, "2025-10-0002");
    assert!(st.verify().unwrap().ok());
}

fn resolve_accepts_latest_full_ids_and_unique_prefixes(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let mut st = open_or_create(&path).unwrap();
    for p in ["2026-01", "2026-02", "2026-02"] {
        st.write_scan(&scan(1, p, 1)).unwrap();
    }
    assert_eq!(st.resolve("latest").unwrap(), "2026-02-0002");
    assert_eq!(st.resolve("2026-01").unwrap(), "2026-01-0001");
    assert_eq!(st.resolve("2026-02-0001").unwrap(), "2026-02-0001");
    let amb = st.resolve("2026-02").unwrap_err().to_string();
    assert!(amb.contains("2026-02-0001, 2026-02-0002"), "{amb}");
    let none = st.resolve("2025").unwrap_err().to_string();
    assert!(none.contains("no scan '2025'"), "{none}");
}

fn history_queries_group_by_period_year_and_resource(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let mut st = open_or_create(&path).unwrap();
    let mut a = scan(1, "2025-12", 10);
    let mut b = scan(1, "2026-01", 10);
    b.resources.truncate(8);
    let mut c = scan(1, "2026-01", 10);
    c.resources.truncate(5);
    c.meta.finished_at += chrono::Duration::hours(1);
    a.resources.truncate(10);
    for d in [&a, &b, &c] {
        st.write_scan(d).unwrap();
    }
    let latest: Vec<_> = st
        .latest_scan_per_period()
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(latest, ["2025-12-0001", "2026-01-0002"]);
    assert_eq!(st.scans_in_year(2026).unwrap().len(), 2);
    assert_eq!(st.scans_in_year(2025).unwrap().len(), 1);
    let hist = st.resource_history().unwrap();
    assert_eq!(hist.len(), 10);
    let r9 = &a.resources[9];
    let h9 = hist.iter().find(|h| h.resource_id == r9.id).unwrap();
    assert_eq!(
        (h9.first_scan.as_str(), h9.last_scan.as_str()),
        ("2025-12-0001", "2025-12-0001")
    );
    let r0 = &a.resources[0];
    let h0 = hist.iter().find(|h| h.resource_id == r0.id).unwrap();
    assert_eq!(h0.last_scan, "2026-01-0002");
    assert_eq!(h0.scans, 3);
}

fn resource_stream_reads_more_than_one_batch_in_order(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let mut st = open_or_create(&path).unwrap();
    let n = 25_003;
    let mut w = st.begin_scan(Synth::new(9).meta("2026-04")).unwrap();
    for r in Synth::new(9).resources(n) {
        w.add_resource(&r).unwrap();
    }
    let id = w.commit().unwrap().id;
    let mut count = 0u64;
    for (i, r) in st.resources(&id).unwrap().enumerate() {
        assert_eq!(r.unwrap(), Synth::new(9).resource(i as u64));
        count += 1;
    }
    assert_eq!(count, n);
}

fn invalid_period_is_refused_before_anything_is_written(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let mut st = open_or_create(&path).unwrap();
    let mut meta = Synth::new(1).meta("2026-01");
    meta.period = "2026-13".into();
    let err = st.begin_scan(meta).err().unwrap().to_string();
    assert!(err.contains("'2026-13' is not YYYY-MM"), "{err}");
}

fn a_store_from_a_newer_version_is_refused(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    drop(open_or_create(&path).unwrap());
    fx.set_schema_version(999);
    let err = open(&path).err().expect("refused").to_string();
    assert!(
        err.contains("schema version 999") && err.contains("upgrade"),
        "{err}"
    );
}

fn reading_a_missing_store_does_not_create_it(b: Backend) {
    let fx = Fixture::new(b);
    let path = fx.location.clone();
    let err = open(&path).err().expect("refused").to_string();
    assert!(err.contains("no store at"), "{err}");
    match b {
        Backend::Sqlite => assert!(!path.exists()),
        // The database exists (an operator creates it); no table was made in it.
        Backend::Postgres => fx.raw(
            "DO $$ BEGIN IF to_regclass('cloudcensus_schema') IS NOT NULL
             THEN RAISE EXCEPTION 'a read created the schema'; END IF; END $$",
        ),
    }
}

/// What only a shared server has: several organisations, connections that drop.
mod postgres_only {
    use super::*;

    fn meta(seed: u64, org: &str, period: &str) -> ScanMeta {
        let mut m = Synth::new(seed).meta(period);
        m.organisation = org.to_string();
        m
    }

    #[test]
    fn two_organisations_write_concurrently_and_both_chains_verify() {
        let fx = Fixture::new(Backend::Postgres);
        let mut a = open_or_create(&fx.location).unwrap();
        let mut b = open(&fx.location).unwrap();
        let mut c = open(&fx.location).unwrap();
        {
            let mut wa = a.begin_scan(meta(1, "Ministerie A", "2026-03")).unwrap();
            let mut wb = b.begin_scan(meta(2, "Ministerie B", "2026-03")).unwrap();
            // A second writer of the same organisation is refused, naming the first.
            let err = match c.begin_scan(meta(3, "Ministerie A", "2026-03")) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("second writer of the same organisation was allowed"),
            };
            assert!(
                err.contains("another scan is being written to")
                    && err.contains("since 20")
                    && err.contains(&format!("process {}", std::process::id()))
                    && err.contains("organisation 'Ministerie A'"),
                "{err}"
            );
            for (ra, rb) in Synth::new(1)
                .resources(3000)
                .zip(Synth::new(2).resources(3000))
            {
                wa.add_resource(&ra).unwrap();
                wb.add_resource(&rb).unwrap();
            }
            let cb = wb.commit().unwrap();
            let ca = wa.commit().unwrap();
            assert_eq!(cb.id, "2026-03-0001", "ids follow commit order");
            assert_eq!(ca.id, "2026-03-0002");
        }
        // Each organisation's chain starts at the genesis hash and continues on its own.
        c.write_scan(&{
            let mut d = scan(4, "2026-04", 10);
            d.meta.organisation = "Ministerie A".into();
            d
        })
        .unwrap();
        let scans = c.list_scans().unwrap();
        assert_eq!(scans.len(), 3);
        let by_id = |id: &str| scans.iter().find(|s| s.id == id).unwrap().clone();
        assert_eq!(by_id("2026-03-0001").prev_hash, hash::GENESIS);
        assert_eq!(by_id("2026-03-0002").prev_hash, hash::GENESIS);
        assert_eq!(by_id("2026-04-0001").prev_hash, by_id("2026-03-0002").hash);
        let rep = c.verify().unwrap();
        assert!(rep.ok(), "{:?}", rep.problems);
        assert_eq!(rep.scans_checked, 3);
        assert_eq!(rep.resources_checked, 6010);
        assert_eq!(
            rep.head.as_deref(),
            Some(by_id("2026-04-0001").hash.as_str())
        );
    }

    #[test]
    fn a_connection_dropped_mid_scan_leaves_no_scan_and_earlier_scans_intact() {
        let fx = Fixture::new(Backend::Postgres);
        let url = fx.location.to_string_lossy().into_owned();
        let db = url
            .split('/')
            .nth(3)
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let mut st = open_or_create(&fx.location).unwrap();
        let first = st.write_scan(&scan(1, "2026-01", 200)).unwrap();
        let err = {
            let mut w = st.begin_scan(Synth::new(2).meta("2026-02")).unwrap();
            let mut rs = Synth::new(2).resources(200_000);
            for r in rs.by_ref().take(5000) {
                w.add_resource(&r).unwrap();
            }
            // The server ends the writer's connection, as a failover or a network cut would.
            pg_exec(
                &pg_admin_url(),
                &format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = '{db}' AND application_name LIKE 'cloudcensus 20%'"
                ),
            );
            let mut failed = None;
            for r in rs {
                if let Err(e) = w.add_resource(&r) {
                    failed = Some(e);
                    break;
                }
            }
            match failed {
                Some(e) => e,
                None => w.commit().expect_err("commit on a dead connection"),
            }
        };
        let msg = err.to_string();
        assert!(msg.contains(&url), "the error names the store: {msg}");
        let again = open(&fx.location).unwrap();
        let scans = again.list_scans().unwrap();
        assert_eq!(
            scans.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            [first.id.as_str()]
        );
        assert!(again.verify().unwrap().ok());
        // The server released the dead writer's lock: the organisation can scan again.
        let mut again = again;
        let c = again.write_scan(&scan(2, "2026-02", 3)).unwrap();
        assert_eq!(c.id, "2026-02-0001");
    }

    #[test]
    fn a_server_that_is_down_is_named_and_nothing_is_written() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("postgresql://cloudcensus@127.0.0.1:{port}/census?sslmode=disable");
        let err = open_or_create(Path::new(&url))
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains(&format!(
                "cannot connect to the PostgreSQL server at 127.0.0.1:{port}"
            )) && err.contains("check that the server runs"),
            "{err}"
        );
    }

    #[test]
    fn wrong_credentials_are_refused_without_echoing_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let pass = dir.path().join("pgpass");
        std::fs::write(&pass, "*:*:*:*:not-the-Secret-42\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let admin = pg_admin_url();
        let base = admin.split('?').next().unwrap();
        let url = format!("{base}?sslmode=disable&passfile={}", pass.display());
        let err = open_or_create(Path::new(&url))
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains("refused user 'cloudcensus'") && err.contains("PGPASSWORD"),
            "{err}"
        );
        assert!(!err.contains("not-the-Secret-42"), "{err}");
    }

    #[test]
    fn the_schema_is_created_once_and_reopening_migrates_nothing() {
        let fx = Fixture::new(Backend::Postgres);
        drop(open_or_create(&fx.location).unwrap());
        let mut st = open_or_create(&fx.location).unwrap();
        st.write_scan(&scan(1, "2026-01", 1)).unwrap();
        fx.raw(&format!(
            "DO $$ BEGIN IF (SELECT version FROM cloudcensus_schema) <> {} OR
               (SELECT count(*) FROM cloudcensus_schema) <> 1
             THEN RAISE EXCEPTION 'schema version row wrong'; END IF; END $$",
            migrations::pg_latest()
        ));
    }
}
