//! Store behaviour against a real SQLite file in a temporary directory.

use super::*;
use crate::synth::Synth;

fn temp_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.db");
    (dir, path)
}

fn scan(seed: u64, period: &str, n: u64) -> ScanData {
    let s = Synth::new(seed);
    let mut d = s.scan_data(n);
    d.meta = s.meta(period);
    d
}

#[test]
fn written_scan_loads_back_identically_with_a_period_based_id() {
    let (_d, path) = temp_store();
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

#[test]
fn dropping_a_writer_without_commit_leaves_no_trace() {
    let (_d, path) = temp_store();
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

#[test]
fn second_writer_is_refused_while_one_is_open() {
    let (_d, path) = temp_store();
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

#[test]
fn verify_names_the_scan_whose_row_was_edited() {
    let (_d, path) = temp_store();
    let mut st = open_or_create(&path).unwrap();
    for (i, p) in ["2026-01", "2026-02", "2026-03"].iter().enumerate() {
        st.write_scan(&scan(i as u64, p, 50)).unwrap();
    }
    assert!(st.verify().unwrap().ok());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute(
        "UPDATE resources SET location = 'us-east-1' WHERE scan_seq = 2 AND ord = 7",
        [],
    )
    .unwrap();
    let rep = st.verify().unwrap();
    assert_eq!(rep.problems.len(), 1, "{:?}", rep.problems);
    assert_eq!(rep.problems[0].scan, "2026-02-0001");
    assert!(rep.problems[0].message.contains("content changed"));
}

#[test]
fn verify_detects_a_deleted_scan_in_the_middle_of_the_chain() {
    let (_d, path) = temp_store();
    let mut st = open_or_create(&path).unwrap();
    for p in ["2026-01", "2026-02", "2026-03"] {
        st.write_scan(&scan(1, p, 5)).unwrap();
    }
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("DELETE FROM scans WHERE seq = 2", []).unwrap();
    let rep = st.verify().unwrap();
    assert_eq!(rep.problems[0].scan, "2026-03-0001");
    assert!(rep.problems[0].message.contains("removed"), "{:?}", rep);
}

#[test]
fn prune_keeps_recent_months_and_the_chain_verifiable() {
    let (_d, path) = temp_store();
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

#[test]
fn resolve_accepts_latest_full_ids_and_unique_prefixes() {
    let (_d, path) = temp_store();
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

#[test]
fn history_queries_group_by_period_year_and_resource() {
    let (_d, path) = temp_store();
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

#[test]
fn resource_stream_reads_more_than_one_batch_in_order() {
    let (_d, path) = temp_store();
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

#[test]
fn invalid_period_is_refused_before_anything_is_written() {
    let (_d, path) = temp_store();
    let mut st = open_or_create(&path).unwrap();
    let mut meta = Synth::new(1).meta("2026-01");
    meta.period = "2026-13".into();
    let err = st.begin_scan(meta).err().unwrap().to_string();
    assert!(err.contains("'2026-13' is not YYYY-MM"), "{err}");
}

#[test]
fn a_store_from_a_newer_version_is_refused() {
    let (_d, path) = temp_store();
    drop(open_or_create(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("PRAGMA user_version = 999").unwrap();
    let err = open(&path).err().expect("refused").to_string();
    assert!(
        err.contains("schema version 999") && err.contains("upgrade"),
        "{err}"
    );
}

#[test]
fn reading_a_missing_store_does_not_create_it() {
    let (_d, path) = temp_store();
    let err = open(&path).err().expect("refused").to_string();
    assert!(err.contains("no store at"), "{err}");
    assert!(!path.exists());
}
