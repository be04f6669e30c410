//! `cloudcensus html` in a real headless Chromium (Debian's `chromium`, driven by
//! `scripts/browser/page.cjs` through puppeteer-core). Needs the browser and the npm
//! packages `./scripts/test` installs (`CLOUDCENSUS_TEST_CHROMIUM`,
//! `CLOUDCENSUS_TEST_NODE_MODULES`); fails without them.
//!
//! Screenshots and the PDF print land in `$CARGO_TARGET_TMPDIR/html-screenshots/` (the
//! path is printed) — look at them after changing the page.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::cloudcensus;

fn browser_env() -> (String, String) {
    let chromium = std::env::var("CLOUDCENSUS_TEST_CHROMIUM").expect(
        "CLOUDCENSUS_TEST_CHROMIUM is not set: run the tests through ./scripts/test, which installs Debian's chromium",
    );
    let modules = std::env::var("CLOUDCENSUS_TEST_NODE_MODULES").expect(
        "CLOUDCENSUS_TEST_NODE_MODULES is not set: run the tests through ./scripts/test, which installs puppeteer-core",
    );
    (chromium, modules)
}

/// Runs the driver over `page` and returns what it saw.
fn drive(page: &Path, code: &str, shots: &Path, search: &str) -> Value {
    let (chromium, modules) = browser_env();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/browser/page.cjs");
    let out = Command::new("node")
        .arg(script)
        .arg("check")
        .arg(page)
        .args(["--code", code, "--search", search, "--shots"])
        .arg(shots)
        .env("CLOUDCENSUS_TEST_CHROMIUM", chromium)
        .env("CLOUDCENSUS_TEST_NODE_MODULES", modules)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "the browser driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("driver prints JSON")
}

fn shots_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("html-screenshots")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    eprintln!("screenshots: {}", dir.display());
    dir
}

fn demo(dir: &Path) -> PathBuf {
    let out = cloudcensus()
        .args(["demo", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = dir.join("cloudcensus-ministerie-van-voorbeeldzaken-2025-12.html");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("page ") && stdout.contains(page.file_name().unwrap().to_str().unwrap())
    );
    page
}

fn json_of(dir: &Path, args: &[&str]) -> Value {
    let out = cloudcensus()
        .arg("--config")
        .arg(dir.join("cloudcensus.toml"))
        .args(args)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn assert_clean(seen: &Value) {
    for k in ["requests", "dialogs", "errors", "console"] {
        assert_eq!(seen[k], serde_json::json!([]), "the page made {k}: {seen}");
    }
}

#[test]
fn demo_page_in_chromium_shows_the_findings_numbers_and_filters_by_code() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let page = demo(&dir);
    let shots = shots_dir("demo");
    let got = drive(&page, "CB-UNREG", &shots, "minvz-logs-hk");
    assert_clean(&got["seen"]);

    // Headline against `findings --format json` (unsuppressed, as the page counts).
    let findings = json_of(&dir, &["findings", "--format", "json", "--fail-on", "info"]);
    let findings = findings.as_array().unwrap();
    for sev in ["blocking", "high", "medium", "low", "info"] {
        let n = findings.iter().filter(|f| f["severity"] == sev).count();
        assert_eq!(
            got["metrics"][format!("findings-{sev}")],
            n.to_string(),
            "{sev} findings"
        );
    }
    let all = json_of(
        &dir,
        &["findings", "--format", "json", "--include-suppressed"],
    );
    let all = all.as_array().unwrap();
    assert_eq!(got["tables"]["findings"]["total"], all.len());
    assert_eq!(got["tables"]["findings"]["shown"], findings.len());
    assert_eq!(
        got["metrics"]["suppressed"],
        (all.len() - findings.len()).to_string()
    );
    let unreg = json_of(&dir, &["unregistered", "--format", "json"]);
    assert_eq!(
        got["metrics"]["unregistered"],
        unreg.as_array().unwrap().len().to_string()
    );
    assert_eq!(
        got["tables"]["unregistered"]["total"],
        unreg.as_array().unwrap().len()
    );
    let scans = json_of(
        &dir,
        &[
            "scans",
            "--format",
            "json",
            "--store",
            dir.join("cloudcensus.db").to_str().unwrap(),
        ],
    );
    let latest = scans.as_array().unwrap().last().unwrap();
    assert_eq!(got["metrics"]["resources"], latest["resources"].to_string());
    let c2000 = findings
        .iter()
        .filter(|f| f["code"] == "CB-C2000" && f["resource_id"].is_string())
        .count();
    assert!(c2000 > 0);
    assert_eq!(got["metrics"]["c2000"], "1", "one resource in Hong Kong");

    // Filtering by a code shows exactly that code's rows.
    let unreg_findings = findings.iter().filter(|f| f["code"] == "CB-UNREG").count();
    assert!(got["filter"]["matched"].as_bool().unwrap());
    assert_eq!(got["filter"]["shown"], unreg_findings);
    let codes = got["filter"]["codes"].as_array().unwrap();
    assert_eq!(codes.len(), unreg_findings);
    assert!(codes.iter().all(|c| c == "CB-UNREG"), "{codes:?}");
    // Searching narrows the rows to those mentioning the text.
    let hk = findings
        .iter()
        .filter(|f| f.to_string().contains("minvz-logs-hk"))
        .count();
    assert!(hk > 0);
    assert!(got["search"]["shown"].as_u64().unwrap() >= hk as u64);
    assert!(got["search"]["shown"].as_u64().unwrap() < findings.len() as u64);

    // The map: Hong Kong (C2000) and the US (replicas) are coloured and counted.
    let countries = got["countries"].as_array().unwrap();
    assert_eq!(countries[0]["country"], "HK", "worst class first");
    let us = countries.iter().find(|c| c["country"] == "US").unwrap();
    assert!(us["replica_only"].as_u64().unwrap() > 0);
    assert!(got["map_paths"].as_u64().unwrap() > 200);
    for c in ["HK", "US", "NL", "IE"] {
        assert!(
            got["coloured"].as_array().unwrap().iter().any(|x| x == c),
            "{c}"
        );
    }
    // Offline and self-contained; fits a phone without sideways scrolling.
    assert_eq!(got["images"], 0);
    assert!(
        got["links"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l.as_str().unwrap().starts_with('#'))
    );
    assert_eq!(
        got["narrow_overflow"], 0,
        "the narrow page scrolls sideways"
    );
    for f in [
        "desktop.png",
        "desktop-filtered.png",
        "narrow.png",
        "print.pdf",
    ] {
        let len = std::fs::metadata(shots.join(f)).unwrap().len();
        assert!(len > 10_000, "{f} is {len} bytes");
    }
}

#[test]
fn hostile_tag_values_render_as_text_and_run_nothing_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir);
    let store = dir.join("cloudcensus.db");
    let out = cloudcensus()
        .args([
            "export",
            "--format",
            "json",
            "--store",
            store.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    // A new scan of the same estate plus one bucket whose name and tags are attacks.
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // The export's first line is `{"meta":{...},`.
    let first: Value =
        serde_json::from_str(&format!("{}}}", lines[0].trim_end_matches(','))).unwrap();
    let mut meta = first["meta"].clone();
    meta["id"] = "2025-12-9999".into();
    lines[0] = format!("{{\"meta\":{},", meta);
    let evil = serde_json::json!({
        "provider": "aws", "scope_id": "111122223333",
        "id": "arn:aws:s3:::</script><script>window.__pwned=1</script>",
        "resource_type": "s3:bucket", "category": "data-store",
        "name": "<img src=x onerror=\"window.__pwned=2\">",
        "location": "eu-west-1", "replica_locations": [],
        "tags": {"owner": "javascript:window.__pwned=3", "verwerking": "VA-<b>X</b>\u{2028}"}
    });
    let at = lines
        .iter()
        .position(|l| l.starts_with("\"resources\":["))
        .expect("resources line");
    lines.insert(at + 1, format!("{evil},"));
    let file = tmp.path().join("evil.json");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = cloudcensus()
        .args([
            "import",
            file.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = dir.join("evil.html");
    let out = cloudcensus()
        .arg("--config")
        .arg(dir.join("cloudcensus.toml"))
        .args(["html", "--lang", "en", "--out", page.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "html: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shots = shots_dir("hostile");
    let got = drive(&page, "CB-UNKNOWN-ID", &shots, "pwned");
    assert_clean(&got["seen"]);
    assert_eq!(got["pwned"], Value::Null, "a tag value ran as script");
    assert_eq!(got["scripts"], 2, "only the page's own scripts");
    assert_eq!(got["images"], 0, "a tag value became an element");
    let text = got["text"].as_str().unwrap();
    for literal in [
        "<img src=x onerror=\"window.__pwned=2\">",
        "javascript:window.__pwned=3",
        "</script><script>window.__pwned=1</script>",
    ] {
        assert!(text.contains(literal), "{literal} is not shown as text");
    }
    assert!(
        got["filter"]["shown"].as_u64().unwrap() >= 1,
        "CB-UNKNOWN-ID row"
    );
    assert!(got["search"]["shown"].as_u64().unwrap() >= 1);
}

#[test]
fn html_names_an_unknown_scan_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir);
    let page = dir.join("x.html");
    let out = cloudcensus()
        .arg("--config")
        .arg(dir.join("cloudcensus.toml"))
        .args(["html", "--scan", "nope", "--out", page.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
    assert!(!page.exists());
}
