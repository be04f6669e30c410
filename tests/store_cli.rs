//! The scan store from the command line: import/export, verify, diff, prune, lock, crash.
//!
//! Scans get into a store through `cloudcensus import` of exports written by the
//! deterministic synthetic generator (`cloudcensus::synth`), the same path a scanner in
//! another network uses.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use cloudcensus::store::exchange::write_json;
use cloudcensus::synth::Synth;
use predicates::prelude::*;

use crate::util::cloudcensus;

/// Writes a JSON export of `n` synthetic resources (seed, period) and returns its path.
fn export_file(dir: &Path, name: &str, seed: u64, period: &str, n: u64) -> PathBuf {
    let s = Synth::new(seed);
    let path = dir.join(name);
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    write_json(
        &mut f,
        &s.meta(period),
        &s.scopes(),
        &s.groups(),
        s.resources(n).map(Ok),
        &s.coverage(),
        &[],
    )
    .unwrap();
    path
}

fn run_ok(args: &[&str]) -> String {
    let out = cloudcensus().args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "cloudcensus {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn import(store: &Path, file: &Path) -> String {
    run_ok(&["import", "--store", s(store), s(file)])
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn scans_json(store: &Path) -> Vec<serde_json::Value> {
    let out = run_ok(&["scans", "--store", s(store), "--format", "json"]);
    serde_json::from_str::<serde_json::Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn scan_ids(store: &Path) -> Vec<String> {
    scans_json(store)
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn import_lists_the_scan_and_verify_passes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let f = export_file(dir.path(), "a.json", 1, "2026-01", 300);
    let out = import(&db, &f);
    assert!(out.contains("as scan 2026-01-0001: 300 resources"), "{out}");
    let table = run_ok(&["scans", "--store", s(&db)]);
    assert!(table.starts_with("ID "), "{table}");
    assert!(
        table.contains("2026-01-0001  2026-01  Ministerie van Financiën"),
        "{table}"
    );
    let v = run_ok(&["verify", "--store", s(&db)]);
    assert!(
        v.contains("ok: 1 scan(s) and 300 resource(s) recomputed"),
        "{v}"
    );
    assert!(v.contains("chain head: "), "{v}");
}

#[test]
fn json_export_round_trips_through_import_with_the_same_content_hash() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    import(&a, &export_file(dir.path(), "x.json", 2, "2026-02", 250));
    import(&a, &export_file(dir.path(), "y.json", 3, "2026-03", 40));
    // Export the first scan by a unique prefix, import it elsewhere, export again.
    let e1 = dir.path().join("e1.json");
    run_ok(&[
        "export",
        "--store",
        s(&a),
        "--scan",
        "2026-02",
        "--out",
        s(&e1),
    ]);
    import(&b, &e1);
    let e2 = dir.path().join("e2.json");
    run_ok(&[
        "export",
        "--store",
        s(&b),
        "--scan",
        "latest",
        "--format",
        "json",
        "--out",
        s(&e2),
    ]);
    let mut d1: cloudcensus::core::ScanData =
        serde_json::from_slice(&std::fs::read(&e1).unwrap()).unwrap();
    let d2: cloudcensus::core::ScanData =
        serde_json::from_slice(&std::fs::read(&e2).unwrap()).unwrap();
    assert_eq!(d1.meta.id, "2026-02-0001");
    assert_eq!(d2.meta.id, "2026-02-0001");
    d1.meta.id = d2.meta.id.clone();
    assert_eq!(d1, d2);
    assert_eq!(d1.resources.len(), 250);
    let ha = scans_json(&a)[0]["content_hash"].clone();
    let hb = scans_json(&b)[0]["content_hash"].clone();
    assert_eq!(ha, hb, "a faithful transfer keeps the content hash");
}

#[test]
fn csv_export_writes_resources_and_coverage_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import(&db, &export_file(dir.path(), "a.json", 4, "2026-01", 120));
    let out = dir.path().join("csv");
    run_ok(&[
        "export",
        "--store",
        s(&db),
        "--format",
        "csv",
        "--out",
        s(&out),
    ]);
    let mut r = csv::Reader::from_path(out.join("resources.csv")).unwrap();
    let headers = r.headers().unwrap().clone();
    assert_eq!(&headers[3], "resource_id");
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 120);
    assert_eq!(&rows[0][3], Synth::new(4).resource(0).id);
    let cov = csv::Reader::from_path(out.join("coverage.csv"))
        .unwrap()
        .records()
        .count();
    assert_eq!(cov, Synth::new(4).coverage().len());
    cloudcensus()
        .args(["export", "--store", s(&db), "--format", "csv"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("pass --out DIR"));
}

#[test]
fn edited_resource_row_makes_verify_name_that_scan_and_fail() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    for (i, p) in ["2026-01", "2026-02", "2026-03"].iter().enumerate() {
        import(
            &db,
            &export_file(dir.path(), &format!("{i}.json"), i as u64, p, 100),
        );
    }
    let raw = rusqlite::Connection::open(&db).unwrap();
    let n = raw
        .execute(
            "UPDATE resources SET tags = '{\"verwerking\":\"VA-0000-000\"}'
             WHERE scan_seq = (SELECT seq FROM scans WHERE id = '2026-02-0001') AND ord = 42",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(raw);
    cloudcensus()
        .args(["verify", "--store", s(&db)])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("BROKEN  scan 2026-02-0001"))
        .stdout(predicate::str::contains("content changed after commit"))
        .stdout(predicate::str::contains("2026-01-0001").not())
        .stdout(predicate::str::contains("2026-03-0001").not())
        .stderr(predicate::str::contains(
            "first broken link is scan 2026-02-0001",
        ));
}

#[test]
fn second_writer_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let f = export_file(dir.path(), "a.json", 5, "2026-01", 10);
    let mut store = cloudcensus::store::open_or_create(&db).unwrap();
    let writer = store.begin_scan(Synth::new(5).meta("2026-01")).unwrap();
    let expected = format!("another scan is being written to {} since ", db.display());
    cloudcensus()
        .args(["import", "--store", s(&db), s(&f)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(expected))
        .stderr(predicate::str::contains(
            "wait for it or use another --store",
        ));
    cloudcensus()
        .args(["prune", "--store", s(&db), "--keep-months", "1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("another scan is being written"));
    drop(writer);
    drop(store);
    assert!(import(&db, &f).contains("as scan 2026-01-0001"));
}

#[test]
fn kill_9_during_an_import_leaves_exactly_the_earlier_scans() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import(&db, &export_file(dir.path(), "a.json", 6, "2026-01", 200));
    import(&db, &export_file(dir.path(), "b.json", 7, "2026-02", 200));
    let before = scans_json(&db);
    let big = export_file(dir.path(), "big.json", 8, "2026-03", 200_000);

    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cloudcensus"))
        .args([
            "-vv",
            "--log-format",
            "json",
            "import",
            "--store",
            s(&db),
            s(&big),
        ])
        .env_remove("CLOUDCENSUS_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.contains("\"resources\":100000") {
                let _ = tx.send(());
            }
        }
    });
    // The writer logs every 100 000 resources: the transaction is open and half written.
    rx.recv_timeout(Duration::from_secs(300))
        .expect("import reached 100 000 resources");
    child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "import was killed, not finished: {status:?}"
    );

    let v = run_ok(&["verify", "--store", s(&db)]);
    assert!(v.contains("ok: 2 scan(s) and 400 resource(s)"), "{v}");
    assert_eq!(
        scans_json(&db),
        before,
        "exactly the earlier scans, unchanged"
    );
    // The lock died with the process and the half scan left no trace: its id is free.
    let out = import(&db, &export_file(dir.path(), "c.json", 9, "2026-03", 5));
    assert!(out.contains("as scan 2026-03-0001"), "{out}");
}

#[test]
fn diff_of_the_two_latest_scans_lists_each_kind_of_change() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let s7 = Synth::new(7);
    let old: Vec<_> = s7.resources(5).collect();
    let mut new = old.clone();
    new.remove(0);
    new[0].location = Some("us-east-1".into());
    new[1].replica_locations = vec!["southcentralus".into()];
    new[2].tags.retain(|k, _| {
        !["verwerking", "processing-activity", "va-id"]
            .iter()
            .any(|d| d.eq_ignore_ascii_case(k))
    });
    new[2]
        .tags
        .insert("Processing-Activity".into(), "VA-2030-001".into());
    new.push(s7.resource(99));
    for (name, period, rs) in [("o.json", "2026-01", &old), ("n.json", "2026-02", &new)] {
        let path = dir.path().join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        write_json(
            &mut f,
            &s7.meta(period),
            &[],
            &[],
            rs.iter().cloned().map(Ok),
            &[],
            &[],
        )
        .unwrap();
        import(&db, &path);
    }
    let out = run_ok(&["diff", "--store", s(&db), "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let kinds: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["change"].as_str().unwrap(),
                r["resource_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("added", s7.resource(99).id.as_str())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("removed", old[0].id.as_str())),
        "{kinds:?}"
    );
    assert!(kinds.contains(&("moved", old[1].id.as_str())), "{kinds:?}");
    assert!(kinds.contains(&("moved", old[2].id.as_str())), "{kinds:?}");
    assert!(
        kinds.contains(&("activity-changed", old[3].id.as_str())),
        "{kinds:?}"
    );
    assert_eq!(rows.len(), 5, "{kinds:?}");
    let table = run_ok(&["diff", "--store", s(&db), "2026-01", "2026-02-0001"]);
    assert!(
        table.contains(
            "2026-01-0001 -> 2026-02-0001: 1 added, 1 removed, 2 moved, 1 activity changed"
        ),
        "{table}"
    );
}

#[test]
fn bad_import_file_names_the_json_path_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let good = export_file(dir.path(), "a.json", 10, "2026-01", 20);
    let text = std::fs::read_to_string(&good).unwrap();
    // Break the 13th resource's category.
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("\"resources\""))
        .unwrap();
    let mut lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let i = start + 13;
    let cat = &lines[i].clone();
    let field = cat
        .split("\"category\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    lines[i] = cat.replace(
        &format!("\"category\":\"{field}\""),
        "\"category\":\"bucket\"",
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    cloudcensus()
        .args(["import", "--store", s(&db), s(&bad)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "bad.json is not a valid scan export",
        ))
        .stderr(predicate::str::contains(
            "at JSON path `resources[12].category`",
        ))
        .stderr(predicate::str::contains("bucket"));
    assert!(!db.exists(), "nothing written, not even an empty store");
}

#[test]
fn prune_removes_old_scans_and_verify_still_passes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let this_month = chrono::Utc::now().format("%Y-%m").to_string();
    for (i, p) in ["2020-01", "2020-02", this_month.as_str()]
        .iter()
        .enumerate()
    {
        import(
            &db,
            &export_file(dir.path(), &format!("{i}.json"), i as u64, p, 30),
        );
    }
    let out = run_ok(&["prune", "--store", s(&db), "--keep-months", "12"]);
    assert!(
        out.contains("pruned  2020-01-0001") && out.contains("pruned  2020-02-0001"),
        "{out}"
    );
    assert_eq!(scan_ids(&db), [format!("{this_month}-0001")]);
    let v = run_ok(&["verify", "--store", s(&db)]);
    assert!(
        v.contains("ok: 1 scan(s)") && v.contains("2 pruned link(s) checked"),
        "{v}"
    );
}

#[test]
fn reading_commands_on_a_missing_store_say_what_to_do_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    for cmd in [&["scans"][..], &["verify"], &["diff"], &["export"]] {
        cloudcensus()
            .args(cmd)
            .args(["--store", s(&db)])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("no store at"))
            .stderr(predicate::str::contains("--store PATH"));
    }
    assert!(!db.exists());
}

#[test]
fn ambiguous_scan_prefix_lists_the_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let f = export_file(dir.path(), "a.json", 1, "2026-05", 3);
    import(&db, &f);
    import(&db, &f);
    cloudcensus()
        .args(["export", "--store", s(&db), "--scan", "2026-05"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "scan id '2026-05' is ambiguous: it matches 2026-05-0001, 2026-05-0002",
        ));
}
