//! The offline demo, and `findings`, `unregistered` and `report` on the store it builds.

use std::path::{Path, PathBuf};

use calamine::{Reader, Xlsx, open_workbook};
use predicates::prelude::*;

use crate::util::cloudcensus;

struct Demo {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Demo {
    fn new() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo");
        let out = cloudcensus()
            .args(["demo", "--out", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Demo { _dir: dir, path }
    }

    fn config(&self) -> String {
        self.path.join("cloudcensus.toml").display().to_string()
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        cloudcensus()
            .arg("--config")
            .arg(self.config())
            .args(args)
            .output()
            .unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
    }

    fn workbook(&self) -> PathBuf {
        self.path
            .join("cloudcensus-ministerie-van-voorbeeldzaken-2025.xlsx")
    }
}

fn scan_ids(store: &Path) -> Vec<String> {
    let out = cloudcensus()
        .args([
            "scans",
            "--format",
            "json",
            "--store",
            store.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn demo_builds_a_store_of_twelve_scans_and_the_dutch_workbook() {
    let demo = Demo::new();
    assert_eq!(scan_ids(&demo.path.join("cloudcensus.db")).len(), 12);
    let mut wb: Xlsx<_> = open_workbook(demo.workbook()).unwrap();
    assert_eq!(
        wb.sheet_names(),
        [
            "Voorblad",
            "Samenvatting",
            "Gekend gebruik",
            "Materieel cloudgebruik",
            "Doorgifte buiten EER",
            "Bijzondere persoonsgegevens",
            "Basisregistraties",
            "Concentratie",
            "Explain naar CIO Rijk",
            "Niet geregistreerd",
            "Bevindingen",
            "Dekking",
            "Toelichting",
        ]
    );
    let findings = demo.json(&["findings", "--format", "json", "--include-suppressed"]);
    let sheet = wb.worksheet_range("Bevindingen").unwrap();
    assert_eq!(sheet.height() - 1, findings.as_array().unwrap().len());
    let unreg = wb.worksheet_range("Niet geregistreerd").unwrap();
    let listed = demo.json(&["unregistered", "--format", "json"]);
    assert_eq!(unreg.height() - 1, listed.as_array().unwrap().len());
    // Twelve scans, one CSV per sheet.
    let csvs = std::fs::read_dir(&demo.path)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "csv")
        })
        .count();
    assert_eq!(csvs, 13);
    // And the security team's page of the latest scan (tests/html_cli.rs opens it).
    let page = std::fs::read_to_string(
        demo.path
            .join("cloudcensus-ministerie-van-voorbeeldzaken-2025-12.html"),
    )
    .unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<html lang=\"nl\">"));
    assert!(page.contains("data-metric=\"resources\">40<"));
}

#[test]
fn demo_concentration_sheet_has_a_row_per_provider_per_month_and_the_summary_headline_is_its_largest_share()
 {
    let demo = Demo::new();
    let mut wb: Xlsx<_> = open_workbook(demo.workbook()).unwrap();
    let sheet = wb.worksheet_range("Concentratie").unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows[0][0], "Periode");
    // The table: 12 months × 3 providers, then a blank row and the chart data below it.
    let table: Vec<&Vec<String>> = rows[1..].iter().take_while(|r| !r[0].is_empty()).collect();
    assert_eq!(table.len(), 36, "{rows:?}");
    let last_period = table.last().unwrap()[0].clone();
    let latest: Vec<&&Vec<String>> = table.iter().filter(|r| r[0] == last_period).collect();
    assert_eq!(latest.len(), 3);
    for r in &latest {
        assert!(r[3].starts_with("US — "), "jurisdiction {r:?}");
        assert!(r[4].contains("CLOUD Act"), "laws {r:?}");
    }
    let largest = latest
        .iter()
        .map(|r| r[6].parse::<f64>().unwrap())
        .fold(0.0, f64::max);
    assert!(largest > 0.0, "{latest:?}");
    let summary = wb.worksheet_range("Samenvatting").unwrap();
    let headline = summary
        .rows()
        .find(|r| {
            r[0].to_string()
                .starts_with("Materiële verwerkingen bij één provider")
        })
        .expect("headline row");
    let value: f64 = headline[1].to_string().parse().unwrap();
    assert!((value - largest).abs() < 1e-9, "{value} vs {largest}");
    assert!(
        headline[2].to_string().contains(&last_period),
        "{headline:?}"
    );
    // The sheet carries a native chart (the workbook has three: two on the summary).
    let zip = zip::ZipArchive::new(std::fs::File::open(demo.workbook()).unwrap()).unwrap();
    let charts = zip
        .file_names()
        .filter(|n| n.as_ref().is_ok_and(|n| n.starts_with("xl/charts/chart")))
        .count();
    assert_eq!(charts, 3);
}

#[test]
fn every_rule_except_defensie_fires_somewhere_in_the_demo_year() {
    let demo = Demo::new();
    let mut codes = std::collections::BTreeSet::new();
    for id in scan_ids(&demo.path.join("cloudcensus.db")) {
        for f in demo
            .json(&[
                "findings",
                "--scan",
                &id,
                "--format",
                "json",
                "--include-suppressed",
            ])
            .as_array()
            .unwrap()
        {
            codes.insert(f["code"].as_str().unwrap().to_string());
        }
    }
    let rules = crate::util::stdout_of(&["rules", "--format", "json"]);
    let all: Vec<String> = serde_json::from_str::<serde_json::Value>(&rules)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect();
    for code in all {
        if code == "CB-DEF" {
            assert!(!codes.contains(&code), "the demo ministry is not Defensie");
        } else {
            assert!(
                codes.contains(&code),
                "{code} never fires in the demo estate"
            );
        }
    }
}

#[test]
fn findings_json_has_the_documented_fields_and_is_deterministic() {
    let demo = Demo::new();
    let a = demo.run(&["findings", "--format", "json"]);
    let b = demo.run(&["findings", "--format", "json"]);
    assert_eq!(a.stdout, b.stdout, "byte-identical");
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    for f in v.as_array().unwrap() {
        for key in [
            "code",
            "severity",
            "clause",
            "provider",
            "scope",
            "region",
            "countries",
            "class",
            "resource_id",
            "resource_type",
            "activity_id",
            "message",
            "action",
        ] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
    }
    let replica = v
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "CB-DRIFT" && f["activity_id"] == "VA-2026-019")
        .expect("the November replication rule shows as drift");
    assert_eq!(replica["region"], "us-east-1");
}

#[test]
fn findings_exit_code_gates_on_fail_on() {
    let demo = Demo::new();
    assert_eq!(
        demo.run(&["findings"]).status.code(),
        Some(4),
        "blocking findings exist"
    );
    assert_eq!(
        demo.run(&["findings", "--code", "CB-WOO", "--fail-on", "high"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        demo.run(&["findings", "--code", "CB-UNREG", "--fail-on", "high"])
            .status
            .code(),
        Some(4)
    );
}

#[test]
fn unregistered_lists_newest_first_with_owner_hints() {
    let demo = Demo::new();
    let v = demo.json(&["unregistered", "--format", "json"]);
    let rows = v.as_array().unwrap();
    assert_eq!(rows[0]["name"], "minvz-projectx", "first seen in December");
    assert_eq!(rows[1]["name"], "minvz-logs-hk", "first seen in September");
    assert_eq!(rows[1]["class"], "c2000-excluded");
    assert_eq!(rows[1]["first_seen"], "2025-09-28");
    assert!(
        rows[1]["owner_hints"]
            .as_str()
            .unwrap()
            .contains("created-by=cdk-deploy")
    );
    let since = demo.json(&["unregistered", "--format", "json", "--since", "2025-09"]);
    let names: Vec<&str> = since
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["minvz-projectx", "minvz-logs-hk"]);
}

#[test]
fn unregistered_csv_carries_who_created_each_resource_and_unknown_for_ones_older_than_the_log() {
    let demo = Demo::new();
    let out = demo.run(&["unregistered", "--format", "csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut csv = csv::Reader::from_reader(&out.stdout[..]);
    let headers = csv.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {headers:?}"))
    };
    let (name, creator, created) = (col("name"), col("creator"), col("created"));
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.unwrap()).collect();
    assert!(rows.len() >= 5, "{rows:?}");
    for r in &rows {
        assert!(!r[creator].trim().is_empty(), "a blank creator: {r:?}");
    }
    let row = |n: &str| {
        rows.iter()
            .find(|r| &r[name] == n)
            .unwrap_or_else(|| panic!("{n} is not listed"))
    };
    // Created in December: CloudTrail still has the call.
    let projectx = row("minvz-projectx");
    assert!(projectx[creator].starts_with("arn:aws:"), "{projectx:?}");
    assert!(projectx[created].starts_with("2025-12-"), "{projectx:?}");
    // There since January: older than CloudTrail's 90 days.
    let old = rows
        .iter()
        .find(|r| r[creator].contains("older than 90 days"))
        .expect("an AWS or Azure resource from before the year");
    assert_eq!(&old[creator], "unknown (older than 90 days)");
    assert_eq!(&old[created], "", "the creator column says why: {old:?}");
    // The JSON output names the log and call each answer came from.
    let v = demo.json(&["unregistered", "--format", "json"]);
    let px = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "minvz-projectx")
        .unwrap();
    assert_eq!(px["creator_source"], "cloudtrail:CreateBucket");
}

#[test]
fn unregistered_marks_the_resource_a_live_suppression_accepts_with_reason_and_expiry() {
    let demo = Demo::new();
    let v = demo.json(&["unregistered", "--format", "json"]);
    let rows = v.as_array().unwrap();
    let accepted: Vec<&serde_json::Value> =
        rows.iter().filter(|r| !r["suppressed"].is_null()).collect();
    assert_eq!(accepted.len(), 1, "{rows:?}");
    assert_eq!(accepted[0]["name"], "minvz-migratie-tijdelijk");
    assert!(
        accepted[0]["suppressed"]
            .as_str()
            .unwrap()
            .contains("RFC-2025-118")
    );
    assert_eq!(accepted[0]["suppressed_until"], "2026-03-31");
    // The expired suppression does not mark its resource; accepted rows come last.
    let expired = rows
        .iter()
        .find(|r| r["name"] == "minvz-tmp-export")
        .expect("the resource of the expired suppression is listed");
    assert!(expired["suppressed"].is_null());
    assert_eq!(rows.last().unwrap()["name"], "minvz-migratie-tijdelijk");
    let table = demo.run(&["unregistered"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("(until 2026-03-31)"), "{text}");
}

#[test]
fn report_in_english_with_semicolons() {
    let demo = Demo::new();
    let out_dir = demo.path.join("en");
    let out = demo.run(&[
        "report",
        "--year",
        "2025",
        "--lang",
        "en",
        "--csv-delimiter",
        ";",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut wb: Xlsx<_> =
        open_workbook(out_dir.join("cloudcensus-ministerie-van-voorbeeldzaken-2025.xlsx")).unwrap();
    assert_eq!(wb.sheet_names()[0], "Cover");
    let f = wb.worksheet_range("Findings").unwrap();
    let header: Vec<String> = f
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header[1], "Severity");
    let csv = std::fs::read_to_string(
        out_dir.join("cloudcensus-ministerie-van-voorbeeldzaken-2025-findings.csv"),
    )
    .unwrap();
    assert!(csv.lines().next().unwrap().contains("Code;Severity"));
}

#[test]
fn report_for_a_year_without_scans_says_what_to_do() {
    let demo = Demo::new();
    let out = demo.run(&[
        "report",
        "--year",
        "2019",
        "--out",
        demo.path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no scans for 2019"));
}

#[test]
fn demo_can_be_run_again_but_never_overwrites_a_real_store() {
    let demo = Demo::new();
    cloudcensus()
        .args(["demo", "--out", demo.path.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(scan_ids(&demo.path.join("cloudcensus.db")).len(), 12);
    // A store with another organisation's scan is refused and left alone.
    let other = demo.path.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let export = demo.path.join("x.json");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/estate/scan-2025-01.json"),
    )
    .unwrap()
    .replace("Ministerie van Voorbeeldzaken", "Ministerie van Echt");
    std::fs::write(&export, text).unwrap();
    let store = other.join("cloudcensus.db");
    cloudcensus()
        .args([
            "import",
            export.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ])
        .assert()
        .success();
    cloudcensus()
        .args(["demo", "--out", other.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not from the demo"));
    assert_eq!(scan_ids(&store).len(), 1);
}

#[test]
fn findings_without_a_config_file_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    cloudcensus()
        .current_dir(dir.path())
        .args(["findings"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cloudcensus config example"));
}
