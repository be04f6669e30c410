//! The commands against a real PostgreSQL store: the demo estate's twelve scans are
//! exported from SQLite, imported into PostgreSQL (the air-gapped scanner's route), and
//! every reading command must answer exactly as it does on the SQLite store.
//!
//! Needs the server `./scripts/test` starts (`CLOUDCENSUS_TEST_POSTGRES`); fails without it.

use std::path::{Path, PathBuf};

use crate::util::cloudcensus;

fn admin_url() -> String {
    std::env::var("CLOUDCENSUS_TEST_POSTGRES").expect(
        "CLOUDCENSUS_TEST_POSTGRES is not set: run the tests through ./scripts/test, which starts a PostgreSQL server",
    )
}

/// A new empty database on the test server; returns its URL.
fn fresh_database(tag: &str) -> String {
    let admin = admin_url();
    let name = format!(
        "cli_{tag}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_micros()
    );
    let loc = cloudcensus::store::pgurl::PgLocation::parse(&admin).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = loc.config.connect(tokio_postgres::NoTls).await.unwrap();
        let h = tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        drop(client);
        let _ = h.await;
    });
    admin.replacen("/postgres?", &format!("/{name}?"), 1)
}

fn run(config: &Path, args: &[&str]) -> std::process::Output {
    cloudcensus()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a store command (`--store`).
fn run_store(store: &str, args: &[&str]) -> std::process::Output {
    cloudcensus()
        .args(args)
        .args(["--store", store])
        .output()
        .unwrap()
}

struct Both {
    _dir: tempfile::TempDir,
    sqlite: PathBuf,
    postgres: PathBuf,
    sqlite_store: String,
    url: String,
    dir: PathBuf,
}

fn demo_on_both() -> Both {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    ok(
        cloudcensus()
            .args(["demo", "--out", demo.to_str().unwrap()])
            .output()
            .unwrap(),
        "demo",
    );
    let sqlite = demo.join("cloudcensus.toml");
    let url = fresh_database("demo");
    let text = std::fs::read_to_string(&sqlite).unwrap();
    assert!(text.contains("store = \"cloudcensus.db\""), "{text}");
    let postgres = demo.join("postgres.toml");
    std::fs::write(
        &postgres,
        text.replace("store = \"cloudcensus.db\"", &format!("store = \"{url}\"")),
    )
    .unwrap();
    let sqlite_store = demo.join("cloudcensus.db").display().to_string();
    let ids: Vec<String> = serde_json::from_str::<serde_json::Value>(&ok(
        run_store(&sqlite_store, &["scans", "--format", "json"]),
        "scans",
    ))
    .unwrap()
    .as_array()
    .unwrap()
    .iter()
    .map(|s| s["id"].as_str().unwrap().to_string())
    .collect();
    assert_eq!(ids.len(), 12);
    for id in &ids {
        let file = demo.join(format!("{id}.json"));
        ok(
            run_store(
                &sqlite_store,
                &["export", "--scan", id, "--out", file.to_str().unwrap()],
            ),
            "export",
        );
        ok(
            run_store(&url, &["import", file.to_str().unwrap()]),
            "import into PostgreSQL",
        );
    }
    Both {
        _dir: dir,
        sqlite,
        postgres,
        sqlite_store,
        url,
        dir: demo,
    }
}

#[test]
fn every_reading_command_answers_the_same_on_postgresql_as_on_sqlite() {
    let b = demo_on_both();
    for args in [
        &["findings", "--format", "json", "--include-suppressed"][..],
        &["unregistered", "--format", "json"],
    ] {
        // findings exits 1 when there are findings: compare exit code and output.
        let (a, p) = (run(&b.sqlite, args), run(&b.postgres, args));
        assert_eq!(
            a.status.code(),
            p.status.code(),
            "{args:?}: {}",
            String::from_utf8_lossy(&p.stderr)
        );
        let (a, p) = (
            String::from_utf8(a.stdout).unwrap(),
            String::from_utf8(p.stdout).unwrap(),
        );
        assert_eq!(a, p, "{args:?} differs between the backends");
        assert!(a.len() > 10, "{args:?} printed nothing: {a}");
    }
    let a = ok(run_store(&b.sqlite_store, &["diff"]), "diff on sqlite");
    let p = ok(run_store(&b.url, &["diff"]), "diff on postgres");
    assert_eq!(a, p, "diff differs between the backends");
    assert!(a.len() > 10, "diff printed nothing: {a}");
    // Same content, same content hashes; ids identical because imported in order.
    let hashes = |store: &str| -> Vec<(String, String)> {
        serde_json::from_str::<serde_json::Value>(&ok(
            run_store(store, &["scans", "--format", "json"]),
            "scans",
        ))
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["content_hash"].as_str().unwrap().to_string(),
            )
        })
        .collect()
    };
    assert_eq!(hashes(&b.sqlite_store), hashes(&b.url));
    let v = ok(run_store(&b.url, &["verify"]), "verify");
    assert!(v.contains("ok: 12 scan(s)"), "{v}");
    for (cfg, name) in [(&b.sqlite, "sqlite"), (&b.postgres, "postgres")] {
        let out = b.dir.join(format!("report-{name}"));
        ok(
            run(
                cfg,
                &["report", "--year", "2025", "--out", out.to_str().unwrap()],
            ),
            "report",
        );
    }
    let csvs = |name: &str| -> Vec<(String, String)> {
        let mut v: Vec<_> = std::fs::read_dir(b.dir.join(format!("report-{name}")))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                // The generation time is the only thing allowed to differ.
                let text: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.starts_with("Gegenereerd op,"))
                    .collect();
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    text.join("\n"),
                )
            })
            .collect();
        v.sort();
        v
    };
    let (a, p) = (csvs("sqlite"), csvs("postgres"));
    assert!(!a.is_empty(), "the report wrote no CSV");
    assert_eq!(a.len(), p.len());
    for ((name, x), (_, y)) in a.iter().zip(&p) {
        for (lx, ly) in x.lines().zip(y.lines()) {
            assert_eq!(lx, ly, "{name} differs between the backends");
        }
        assert_eq!(x.lines().count(), y.lines().count(), "{name}");
    }
    // Prune on PostgreSQL keeps the chain verifiable.
    let pruned = ok(run_store(&b.url, &["prune", "--keep-months", "3"]), "prune");
    assert!(pruned.contains("2025-01"), "{pruned}");
    let v = ok(run_store(&b.url, &["verify"]), "verify after prune");
    assert!(v.starts_with("ok: "), "{v}");
}

#[test]
fn a_password_in_the_config_store_url_is_refused_without_repeating_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "organisation = \"Ministerie van Voorbeeldzaken\"\nstore = \"postgresql://scanner:Geheim-99@db.example/census\"\n",
    )
    .unwrap();
    let out = run(&cfg, &["findings"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2") && err.contains("PGPASSWORD") && err.contains(".pgpass"),
        "{err}"
    );
    assert!(!err.contains("Geheim-99"), "{err}");
}

#[test]
fn a_wrong_pgpassword_is_refused_and_not_echoed() {
    let url = fresh_database("auth");
    let out = cloudcensus()
        .env("PGPASSWORD", "Wrong-Password-7")
        .args(["scans", "--store", &url])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused user 'cloudcensus'"), "{err}");
    assert!(!err.contains("Wrong-Password-7"), "{err}");
}

#[test]
fn rollup_of_three_ministries_in_one_postgresql_database_and_each_report_stays_its_own() {
    let b = demo_on_both();
    // Two more ministries deliver their December scan as an export (the air-gapped route).
    let dec = b.dir.join("december.json");
    ok(
        run_store(
            &b.url,
            &[
                "export",
                "--scan",
                "2025-12",
                "--out",
                dec.to_str().unwrap(),
            ],
        ),
        "export",
    );
    let text = std::fs::read_to_string(&dec).unwrap();
    let own = "\"organisation\":\"Ministerie van Voorbeeldzaken\"";
    assert!(text.contains(own));
    for (org, file) in [
        ("Ministerie van Financiën", "fin.json"),
        ("Ministerie van Infrastructuur en Waterstaat", "ienw.json"),
    ] {
        let path = b.dir.join(file);
        std::fs::write(
            &path,
            text.replacen(own, &format!("\"organisation\":\"{org}\""), 1),
        )
        .unwrap();
        ok(
            run_store(&b.url, &["import", path.to_str().unwrap()]),
            "import",
        );
    }
    // The department's own report reads only its own scans, as on its SQLite store.
    let read = |dir: &Path| -> String {
        let p = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with("-samenvatting.csv"))
            .unwrap();
        std::fs::read_to_string(p).unwrap()
    };
    for (cfg, name) in [(&b.sqlite, "sqlite"), (&b.postgres, "postgres")] {
        let out = b.dir.join(format!("own-{name}"));
        ok(
            run(
                cfg,
                &["report", "--year", "2025", "--out", out.to_str().unwrap()],
            ),
            "report",
        );
    }
    let summary = read(&b.dir.join("own-sqlite"));
    assert_eq!(summary, read(&b.dir.join("own-postgres")));
    let cover = std::fs::read_dir(b.dir.join("own-postgres"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-voorblad.csv"))
        .unwrap();
    let cover = std::fs::read_to_string(cover).unwrap();
    let december = cover.lines().find(|l| l.contains("scan 2025-12")).unwrap();
    assert!(
        december.contains("2025-12-0001 "),
        "December is the ministry's own scan, not a later one of another ministry: {december}"
    );

    // CIO Rijk's roll-up: three rows; the register figures only where a config was given.
    let out = b.dir.join("rollup");
    let printed = ok(
        cloudcensus()
            .args(["rollup", "--year", "2025", "--store", &b.url, "--out"])
            .arg(&out)
            .arg("--org-config")
            .arg(&b.postgres)
            .output()
            .unwrap(),
        "rollup",
    );
    assert!(
        printed.contains("cloudcensus-rollup-2025.xlsx"),
        "{printed}"
    );
    let csv = std::fs::read_to_string(out.join("cloudcensus-rollup-2025.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let orgs: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(
        orgs,
        [
            "Ministerie van Financiën",
            "Ministerie van Infrastructuur en Waterstaat",
            "Ministerie van Voorbeeldzaken",
            "Rijksbreed totaal (3 organisaties)"
        ]
    );
    let unreg = at("Niet geregistreerd (gegevens-dragend)");
    assert_eq!(&rows[0][unreg], "niet berekend: geen register");
    // Voorbeeldzaken's figure is its own report's.
    let own: Vec<String> = summary
        .lines()
        .find(|l| l.starts_with("Niet geregistreerd (gegevensdragend),"))
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    assert_eq!(rows[2][unreg], own[1]);
    assert_eq!(&rows[2][at("Maanden gescand")], "12");
    assert_eq!(&rows[0][at("Resources")], &rows[2][at("Resources")]);
    assert_eq!(&rows[3][unreg], "niet berekend voor 2 van 3");
}

/// A synthetic scan of `n` resources as a JSON export file.
fn synthetic_export(path: &Path, seed: u64, n: u64) {
    use cloudcensus::synth::Synth;
    let s = Synth::new(seed);
    let mut meta = s.meta("2026-03");
    meta.organisation = "Ministerie van Voorbeeldzaken".into();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    cloudcensus::store::exchange::write_json(
        &mut f,
        &meta,
        &s.scopes(),
        &s.groups(),
        s.resources(n).map(Ok),
        &s.coverage(),
        &[],
    )
    .unwrap();
}

/// Runs a query on a test database and returns the first column of the first row.
fn count(url: &str, sql: &str) -> i64 {
    let loc = cloudcensus::store::pgurl::PgLocation::parse(url).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = loc.config.connect(tokio_postgres::NoTls).await.unwrap();
        let h = tokio::spawn(conn);
        let n: i64 = client.query_one(sql, &[]).await.unwrap().get(0);
        drop(client);
        let _ = h.await;
        n
    })
}

#[test]
fn a_full_disk_on_the_server_fails_the_import_clearly_and_keeps_the_earlier_scans() {
    // A database whose tables live on a 16 MiB file system (scripts/test mounts it): the
    // server's real "No space left on device".
    let tablespace = std::env::var("CLOUDCENSUS_TEST_PG_SMALL_TABLESPACE").expect(
        "CLOUDCENSUS_TEST_PG_SMALL_TABLESPACE is not set: ./scripts/test creates it on a 16 MiB tmpfs, which needs root (as in CI)",
    );
    let admin = admin_url();
    let name = format!("cli_diskfull_{}", std::process::id());
    let exec = |sql: &str| {
        let loc = cloudcensus::store::pgurl::PgLocation::parse(&admin).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, conn) = loc.config.connect(tokio_postgres::NoTls).await.unwrap();
            let h = tokio::spawn(conn);
            client.batch_execute(sql).await.unwrap();
            drop(client);
            let _ = h.await;
        });
    };
    exec(&format!("CREATE DATABASE {name} TABLESPACE {tablespace}"));
    let url = admin.replacen("/postgres?", &format!("/{name}?"), 1);
    let dir = tempfile::tempdir().unwrap();
    let (small, big) = (dir.path().join("small.json"), dir.path().join("big.json"));
    synthetic_export(&small, 1, 500);
    // ~30 MiB of rows: more than the file system holds.
    synthetic_export(&big, 2, 80_000);
    ok(
        run_store(&url, &["import", small.to_str().unwrap()]),
        "first import",
    );
    let before = ok(run_store(&url, &["scans", "--format", "json"]), "scans");

    let out = run_store(&url, &["import", big.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("No space left on device")
            && err.contains("SQLSTATE 53100")
            && err.contains("disk is full")
            && err.contains("nothing of this scan was committed"),
        "{err}"
    );
    // Nothing half-written: no scan row, no resource row beyond the first scan's.
    assert_eq!(count(&url, "SELECT count(*) FROM scans"), 1);
    assert_eq!(count(&url, "SELECT count(*) FROM resources"), 500);
    // Earlier scans intact and readable on the full disk.
    assert_eq!(
        ok(run_store(&url, &["scans", "--format", "json"]), "scans"),
        before
    );
    let v = ok(run_store(&url, &["verify"]), "verify");
    assert!(v.starts_with("ok: 1 scan(s) and 500 resource(s)"), "{v}");
    // Free the file system for other runs.
    exec(&format!("DROP DATABASE {name}"));
}
