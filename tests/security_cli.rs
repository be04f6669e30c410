//! The reliability/security matrix without a live scan: hostile tag values, invalid
//! UTF-8 in an import, SIGKILL during report writing, a read-only store directory, a full
//! disk, and secrets in the environment. Everything runs the real binary on a store built
//! by `demo` plus imports, the way a CIO office receives scans from another network.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use cloudcensus::core::{Category, Provider, Resource};
use cloudcensus::report::cells::{TRUNCATED, XLSX_MAX_CHARS};

use crate::util::cloudcensus;

/// Values an attacker with tag-write access to one cloud account can plant.
fn hostile_values() -> Vec<String> {
    vec![
        "=HYPERLINK(\"http://evil.example\",\"klik\")".into(),
        "+cmd|' /C calc'!A0".into(),
        "-2+3+cmd|' /C calc'!A0".into(),
        "@SUM(1+1)*cmd|' /C calc'!A0".into(),
        "\t=1+1".into(),
        "\r=1+1".into(),
        "ok\u{0}nul\u{7}bell\u{1b}[31mred\u{1b}[0m".into(),
        "\u{202E}gpj.exe\u{202C} \u{2066}isolate\u{2069} \u{200F}rlm".into(),
        format!("={}", "A".repeat(1 << 20)),
    ]
}

fn is_forbidden_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}'
        )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A demo store (12 scans of 2025) and its config, in a temp dir.
struct Estate {
    dir: tempfile::TempDir,
}

impl Estate {
    fn new() -> Estate {
        let dir = tempfile::tempdir().unwrap();
        let out = cloudcensus()
            .args(["demo", "--out", s(dir.path())])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Estate { dir }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn store(&self) -> PathBuf {
        self.path().join("cloudcensus.db")
    }
    fn config(&self) -> PathBuf {
        self.path().join("cloudcensus.toml")
    }
    fn run(&self, args: &[&str]) -> std::process::Output {
        cloudcensus()
            .arg("--config")
            .arg(self.config())
            .args(args)
            .output()
            .unwrap()
    }
    /// Runs and returns stdout; success, or exit 4 (findings at or above --fail-on).
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success() || out.status.code() == Some(4),
            "cloudcensus {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
    fn scan_count(&self) -> usize {
        let v: serde_json::Value = serde_json::from_str(&self.ok(&[
            "scans",
            "--format",
            "json",
            "--store",
            s(&self.store()),
        ]))
        .unwrap();
        v.as_array().unwrap().len()
    }
}

/// The demo's December scan, re-stamped one hour later, with `extra` resources added.
fn december_with(extra: Vec<Resource>) -> String {
    let mut scan = cloudcensus::example_estate::scan(12);
    scan.meta.finished_at += chrono::Duration::hours(1);
    scan.resources.extend(extra);
    cloudcensus::example_estate::export_json(&scan)
}

fn hostile_resources() -> Vec<Resource> {
    let base = cloudcensus::example_estate::scan(12);
    let scope = base
        .resources
        .iter()
        .find(|r| r.provider == Provider::Aws)
        .unwrap()
        .scope_id
        .clone();
    hostile_values()
        .into_iter()
        .enumerate()
        .map(|(i, v)| Resource {
            provider: Provider::Aws,
            scope_id: scope.clone(),
            id: format!("arn:aws:s3:::hostile-{i}"),
            resource_type: "s3:bucket".into(),
            category: Category::DataStore,
            name: v.chars().take(200).collect(),
            location: Some("eu-west-1".into()),
            replica_locations: vec![],
            resource_group: None,
            tags: [
                ("owner".to_string(), v.clone()),
                ("team".to_string(), v.clone()),
                // An unknown activity id carrying the payload: it reaches finding messages.
                (
                    "verwerking".to_string(),
                    v.chars().take(64).collect::<String>(),
                ),
            ]
            .into(),
            created_at: None,
        })
        .collect()
}

fn check_csv_cells(path: &Path, delimiter: u8) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    let mut cells = 0;
    for rec in rdr.records() {
        for cell in rec.unwrap().iter() {
            cells += 1;
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{}: live formula prefix in {:?}",
                path.display(),
                &cell[..cell.len().min(60)]
            );
            assert!(
                !cell.chars().any(is_forbidden_char),
                "{}: control/bidi character in {:?}",
                path.display(),
                &cell[..cell.len().min(60)]
            );
            assert!(cell.chars().count() <= XLSX_MAX_CHARS + 1, "cell not cut");
        }
    }
    cells
}

#[test]
fn hostile_tag_values_are_inert_in_report_findings_and_exports() {
    let e = Estate::new();
    let file = e.path().join("hostile.json");
    std::fs::write(&file, december_with(hostile_resources())).unwrap();
    e.ok(&["import", "--store", s(&e.store()), s(&file)]);
    let out = e.path().join("report");
    e.ok(&[
        "report",
        "--year",
        "2025",
        "--out",
        s(&out),
        "--csv-delimiter",
        ";",
    ]);

    // xlsx: no formula in any sheet, no control/bidi character in any string, cells cut.
    let xlsx = out.join("cloudcensus-ministerie-van-voorbeeldzaken-2025.xlsx");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&xlsx).unwrap()).unwrap();
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .collect();
    for name in names.iter().filter(|n| n.starts_with("xl/worksheets/")) {
        let mut xml = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
        assert!(
            !xml.contains("<f>") && !xml.contains("<f "),
            "{name}: formula"
        );
    }
    use calamine::{Data, Reader};
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    let mut seen_payload = false;
    let mut seen_cut = false;
    for sheet in wb.sheet_names() {
        let range = wb.worksheet_range(&sheet).unwrap();
        for cell in range.cells() {
            if let (_, _, Data::String(t)) = cell {
                assert!(!t.chars().any(is_forbidden_char), "{sheet}: {t:?}");
                assert!(
                    t.chars().count() <= XLSX_MAX_CHARS,
                    "{sheet}: over-long cell"
                );
                seen_payload |= t.contains("=HYPERLINK(\"http://evil.example\"");
                seen_cut |= t.ends_with(TRUNCATED);
            }
        }
    }
    assert!(seen_payload, "the payload is kept as visible text");
    assert!(seen_cut, "the 1 MiB value is cut with a visible marker");

    // Report CSVs.
    let mut csvs = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv") {
            check_csv_cells(&p, b';');
            csvs += 1;
        }
    }
    assert!(csvs > 0);

    // findings / unregistered as CSV: neutralised the same way.
    for cmd in ["findings", "unregistered"] {
        let text = e.ok(&[cmd, "--format", "csv"]);
        let p = e.path().join(format!("{cmd}.csv"));
        std::fs::write(&p, &text).unwrap();
        assert!(check_csv_cells(&p, b',') > 0);
        assert!(text.contains("HYPERLINK"), "{cmd}: payload kept as text");
    }
    // JSON: valid, no raw control bytes, and the value survives exactly (it is data).
    let json = e.ok(&["findings", "--format", "json"]);
    assert!(
        !json.bytes().any(|b| b < 0x20 && b != b'\n'),
        "raw control byte in JSON"
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v.as_array().unwrap().iter().any(|f| {
        f["activity_id"]
            .as_str()
            .is_some_and(|a| a.contains("HYPERLINK"))
            || f["message"]
                .as_str()
                .is_some_and(|m| m.contains("HYPERLINK"))
    }));
    // Scan export as CSV (SIEM): formula prefixes neutralised, JSON export lossless.
    let exp = e.path().join("export");
    e.ok(&[
        "export",
        "--store",
        s(&e.store()),
        "--scan",
        "latest",
        "--format",
        "csv",
        "--out",
        s(&exp),
    ]);
    let text = std::fs::read_to_string(exp.join("resources.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    for rec in rdr.records() {
        for cell in rec.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "export CSV: live formula prefix in {:?}",
                &cell[..cell.len().min(60)]
            );
        }
    }
    let exp_json = e.path().join("export.json");
    e.ok(&[
        "export",
        "--store",
        s(&e.store()),
        "--scan",
        "latest",
        "--format",
        "json",
        "--out",
        s(&exp_json),
    ]);
    let back: cloudcensus::core::ScanData =
        serde_json::from_slice(&std::fs::read(&exp_json).unwrap()).unwrap();
    let megabyte = back
        .resources
        .iter()
        .find(|r| r.id == "arn:aws:s3:::hostile-8")
        .unwrap();
    assert_eq!(
        megabyte.tags["owner"].len(),
        (1 << 20) + 1,
        "export is lossless"
    );
}

#[test]
fn invalid_utf8_or_lone_surrogates_in_an_import_are_refused_and_nothing_is_stored() {
    let e = Estate::new();
    let before = e.scan_count();
    let good = december_with(hostile_resources()[..1].to_vec());
    // Raw invalid UTF-8 bytes inside a tag value, and a lone surrogate escape.
    let at = good.find("hostile-0").unwrap();
    let mut raw = good.as_bytes().to_vec();
    raw.splice(at..at, [0xC3, 0x28, 0xFF]);
    let surrogate = good.replacen("hostile-0", "hostile-\\udc80", 1);
    for (name, bytes) in [
        ("raw.json", raw),
        ("surrogate.json", surrogate.into_bytes()),
    ] {
        let file = e.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let out = e.run(&["import", "--store", s(&e.store()), s(&file)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} accepted");
        assert!(err.contains(name), "{name}: error names the file: {err}");
        assert!(
            err.contains("line") || err.contains("JSON path"),
            "{name}: error says where: {err}"
        );
    }
    assert_eq!(e.scan_count(), before, "nothing half-imported");
    e.ok(&["verify", "--store", s(&e.store())]);
}

/// Builds a store holding one large synthetic scan of 2026 (so the report takes a while).
fn large_store(dir: &Path, n: u64) -> PathBuf {
    use cloudcensus::synth::Synth;
    let synth = Synth::new(5);
    let export = dir.join("large.json");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&export).unwrap());
    cloudcensus::store::exchange::write_json(
        &mut f,
        &synth.meta("2026-06"),
        &synth.scopes(),
        &synth.groups(),
        synth.resources(n).map(Ok),
        &synth.coverage(),
        &[],
    )
    .unwrap();
    drop(f);
    let store = dir.join("large.db");
    let out = cloudcensus()
        .args(["import", "--store", s(&store), s(&export)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    store
}

#[test]
fn sigkill_during_report_writing_leaves_no_file_under_the_final_name() {
    use std::os::unix::process::ExitStatusExt;
    let e = Estate::new();
    let store = large_store(e.path(), 25_000);
    let out = e.path().join("report");
    std::fs::create_dir_all(&out).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("cloudcensus");
    // `report` reads only the config's organisation: the synthetic scan's.
    let config = e.path().join("financien.toml");
    let text = std::fs::read_to_string(e.config()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("organisation = "))
        .unwrap();
    std::fs::write(
        &config,
        text.replace(line, "organisation = \"Ministerie van Financiën\""),
    )
    .unwrap();
    let mut child = StdCommand::new(&bin)
        .arg("--config")
        .arg(&config)
        .args([
            "report",
            "--year",
            "2026",
            "--store",
            s(&store),
            "--out",
            s(&out),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill as soon as anything appears in the output directory: the report is writing.
    let t = Instant::now();
    loop {
        if std::fs::read_dir(&out).unwrap().next().is_some() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "report never started writing"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "report ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "killed mid-write, not finished: {status:?}"
    );
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    for name in &left {
        assert!(
            !name.starts_with("cloudcensus-"),
            "half-written report under its final name: {name} (all: {left:?})"
        );
    }
    // The next run writes the complete report.
    let again = StdCommand::new(&bin)
        .arg("--config")
        .arg(&config)
        .args([
            "report",
            "--year",
            "2026",
            "--store",
            s(&store),
            "--out",
            s(&out),
        ])
        .output()
        .unwrap();
    assert!(
        again.status.success() || again.status.code() == Some(4),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let xlsx = out.join("cloudcensus-ministerie-van-financi-n-2026.xlsx");
    let wb: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    use calamine::Reader;
    assert_eq!(wb.sheet_names().len(), 13);
}

/// Runs `sh -c script` where the store directory is read-only: a read-only bind mount in a
/// private mount namespace when running as root (root ignores file modes), else chmod.
fn run_with_read_only_dir(dir: &Path, cmd: &str) -> std::process::Output {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .is_some_and(|l| l.split_whitespace().nth(2) == Some("0"));
    if root {
        let d = s(dir);
        StdCommand::new("unshare")
            .args(["-m", "sh", "-c"])
            .arg(format!(
                "mount --bind '{d}' '{d}' && mount -o remount,bind,ro '{d}' && {cmd}"
            ))
            .output()
            .expect("unshare (util-linux) runs")
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let out = StdCommand::new("sh").args(["-c", cmd]).output().unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        out
    }
}

#[test]
fn read_only_store_directory_is_a_clear_error_and_loses_nothing() {
    let e = Estate::new();
    let before = e.scan_count();
    let file = e.path().join("december.json");
    std::fs::write(&file, december_with(Vec::new())).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("cloudcensus");
    let out = run_with_read_only_dir(
        e.path(),
        &format!(
            "'{}' import --store '{}' '{}'",
            bin.display(),
            s(&e.store()),
            s(&file)
        ),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "import into a read-only store succeeded"
    );
    assert!(err.contains("cloudcensus.db"), "names the store: {err}");
    assert!(err.contains("not writable"), "says why: {err}");
    assert_eq!(e.scan_count(), before);
    e.ok(&["verify", "--store", s(&e.store())]);
    // A later import with a writable directory succeeds.
    e.ok(&["import", "--store", s(&e.store()), s(&file)]);
    assert_eq!(e.scan_count(), before + 1);
}

#[test]
fn full_disk_during_import_is_a_clear_error_and_earlier_scans_survive() {
    let e = Estate::new();
    let before = e.scan_count();
    let dir = e.path().join("big");
    std::fs::create_dir_all(&dir).unwrap();
    let store_copy = large_store(&dir, 1);
    // A second, large scan into a copy of the store, with the file-size limit (RLIMIT_FSIZE)
    // standing in for a full disk: the write fails with EFBIG mid-import.
    let export = dir.join("large.json");
    {
        use cloudcensus::synth::Synth;
        let synth = Synth::new(6);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&export).unwrap());
        cloudcensus::store::exchange::write_json(
            &mut f,
            &synth.meta("2026-07"),
            &synth.scopes(),
            &synth.groups(),
            synth.resources(40_000).map(Ok),
            &synth.coverage(),
            &[],
        )
        .unwrap();
    }
    let size = std::fs::metadata(&store_copy).unwrap().len();
    let limit_blocks = size / 1024 + 2048; // ~2 MiB of room: far less than the scan needs
    let bin = assert_cmd::cargo::cargo_bin("cloudcensus");
    let out = StdCommand::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {limit_blocks}; exec '{}' import --store '{}' '{}'",
            bin.display(),
            s(&store_copy),
            s(&export)
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "import into a full disk succeeded");
    assert!(
        err.contains("large.db") || err.contains("large.json"),
        "names the file: {err}"
    );
    assert!(
        err.to_lowercase().contains("full")
            || err.to_lowercase().contains("too large")
            || err.to_lowercase().contains("i/o"),
        "says why: {err}"
    );
    // The store opens, verifies and holds exactly the earlier scan.
    e.ok(&["verify", "--store", s(&store_copy)]);
    let v: serde_json::Value =
        serde_json::from_str(&e.ok(&["scans", "--format", "json", "--store", s(&store_copy)]))
            .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(e.scan_count(), before);
}

#[test]
fn credentials_in_the_environment_never_reach_logs_store_exports_or_reports() {
    let e = Estate::new();
    let secrets = [
        ("AZURE_CLIENT_SECRET", "azsecret-7f3c9e1b-DO-NOT-LEAK"),
        ("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555"),
        ("AWS_SECRET_ACCESS_KEY", "awssecret+wJalrXUtnFEMI/K7MDENG"),
        ("AWS_SESSION_TOKEN", "awstoken-IQoJb3JpZ2luX2VjEJr"),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.gcptoken-DO-NOT-LEAK"),
        ("CLOUDCENSUS_GCP_TOKEN", "ya29.access-token-env-DO-NOT-LEAK"),
    ];
    let file = e.path().join("december.json");
    std::fs::write(&file, december_with(Vec::new())).unwrap();
    let out_dir = e.path().join("out");
    let runs: Vec<Vec<String>> = vec![
        vec![
            "import".into(),
            "--store".into(),
            s(&e.store()).into(),
            s(&file).into(),
        ],
        vec!["findings".into(), "--format".into(), "json".into()],
        vec!["unregistered".into(), "--format".into(), "csv".into()],
        vec!["scans".into(), "--store".into(), s(&e.store()).into()],
        vec![
            "export".into(),
            "--store".into(),
            s(&e.store()).into(),
            "--scan".into(),
            "latest".into(),
            "--format".into(),
            "csv".into(),
            "--out".into(),
            s(&out_dir.join("export")).into(),
        ],
        vec![
            "report".into(),
            "--year".into(),
            "2025".into(),
            "--out".into(),
            s(&out_dir).into(),
        ],
    ];
    let mut logged = 0;
    for args in &runs {
        for format in ["human", "json"] {
            let mut cmd = cloudcensus();
            cmd.arg("--config").arg(e.config()).arg("-vvv");
            cmd.args(["--log-format", format]);
            for (k, v) in secrets {
                cmd.env(k, v);
            }
            let out = cmd.args(args).output().unwrap();
            assert!(
                out.status.success() || out.status.code() == Some(4),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let all = [out.stdout, out.stderr].concat();
            logged += all.len();
            let text = String::from_utf8_lossy(&all);
            for (k, v) in secrets {
                assert!(!text.contains(v), "{args:?} -vvv printed {k}");
            }
        }
    }
    assert!(logged > 0);
    // Every file written: the store (+ WAL), exports, report.
    let mut files = 0;
    let mut stack = vec![e.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let mut hay = bytes.clone();
            // xlsx is a zip: look inside too.
            if p.extension().is_some_and(|x| x == "xlsx") {
                let mut zip = zip::ZipArchive::new(std::fs::File::open(&p).unwrap()).unwrap();
                for i in 0..zip.len() {
                    zip.by_index(i).unwrap().read_to_end(&mut hay).unwrap();
                }
            }
            for (k, v) in secrets {
                assert!(
                    !hay.windows(v.len()).any(|w| w == v.as_bytes()),
                    "{k} found in {}",
                    p.display()
                );
            }
            files += 1;
        }
    }
    assert!(
        files > 10,
        "store, exports and report were checked ({files} files)"
    );
}
