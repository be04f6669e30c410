//! Every command that reads or writes a store finds it the same way: `--store`, else
//! `CLOUDCENSUS_STORE`, else the config file's `store` (relative to the config file), else
//! `./cloudcensus.db`. Each command runs from a directory that holds no store, with only
//! `--config` pointing at the demo's configuration.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use crate::util::cloudcensus;

/// The demo (config, register, store of twelve scans) and an empty working directory.
struct Fixture {
    _dir: tempfile::TempDir,
    demo: PathBuf,
    elsewhere: PathBuf,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let demo = dir.path().join("demo");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let out = cloudcensus()
            .args(["demo", "--out", demo.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        Fixture {
            _dir: dir,
            demo,
            elsewhere,
        }
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `cloudcensus --config CONFIG ARGS` in `cwd`.
fn run_in(cwd: &Path, config: &Path, args: &[&str]) -> Output {
    cloudcensus()
        .current_dir(cwd)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

/// Runs a command against the demo's config from the empty directory; asserts it ran.
fn demo_command(args: &[&str]) -> Output {
    let f = fixture();
    let out = run_in(&f.elsewhere, &f.demo.join("cloudcensus.toml"), args);
    assert!(
        out.status.success() || out.status.code() == Some(4),
        "cloudcensus {args:?} did not use the config's store: {}",
        stderr(&out)
    );
    assert!(
        !f.elsewhere.join("cloudcensus.db").exists(),
        "cloudcensus {args:?} created a store in the working directory"
    );
    out
}

/// A copy of the demo directory (for the commands that write the store).
fn demo_copy() -> tempfile::TempDir {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&f.demo).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    dir
}

#[test]
fn scans_reads_the_store_the_config_names() {
    let out = demo_command(&["scans", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 12);
}

#[test]
fn verify_reads_the_store_the_config_names() {
    let out = demo_command(&["verify"]);
    assert!(out.status.success());
}

#[test]
fn diff_reads_the_store_the_config_names() {
    let out = demo_command(&["diff", "--format", "json"]);
    assert!(out.status.success());
    let _: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
}

#[test]
fn export_reads_the_store_the_config_names() {
    let out = demo_command(&["export", "--scan", "latest"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["resources"].as_array().is_some_and(|r| !r.is_empty()));
}

#[test]
fn findings_reads_the_store_the_config_names() {
    let out = demo_command(&["findings", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v.as_array().unwrap().is_empty());
}

#[test]
fn unregistered_reads_the_store_the_config_names() {
    let out = demo_command(&["unregistered", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v.as_array().unwrap().is_empty());
}

#[test]
fn report_reads_the_store_the_config_names() {
    let f = fixture();
    let out_dir = tempfile::tempdir().unwrap();
    demo_command(&[
        "report",
        "--year",
        "2025",
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    let written: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        written.iter().any(|n| n.ends_with(".xlsx")),
        "{written:?} (demo at {})",
        f.demo.display()
    );
}

#[test]
fn import_writes_into_the_store_the_config_names_beside_the_config() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cloudcensus.toml");
    std::fs::write(
        &config,
        "organisation = \"Ministerie van Voorbeeldzaken\"\nstore = \"imported.db\"\n",
    )
    .unwrap();
    let export = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/estate/scan-2025-01.json");
    let out = run_in(&f.elsewhere, &config, &["import", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("imported.db").exists());
    assert!(!f.elsewhere.join("cloudcensus.db").exists());
}

#[test]
fn prune_writes_the_store_the_config_names() {
    let f = fixture();
    let copy = demo_copy();
    let out = run_in(
        &f.elsewhere,
        &copy.path().join("cloudcensus.toml"),
        &["prune", "--keep-months", "1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let after = run_in(
        &f.elsewhere,
        &copy.path().join("cloudcensus.toml"),
        &["scans", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert!(
        v.as_array().unwrap().len() < 12,
        "prune removed nothing from the config's store: {v}"
    );
}

#[test]
fn the_environment_beats_the_config_and_the_flag_beats_the_environment() {
    let f = fixture();
    let config = f.demo.join("cloudcensus.toml");
    let missing = f.elsewhere.join("from-env.db");
    let out = cloudcensus()
        .current_dir(&f.elsewhere)
        .env("CLOUDCENSUS_STORE", &missing)
        .arg("--config")
        .arg(&config)
        .args(["scans"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("from-env.db"), "{}", stderr(&out));
    let out = cloudcensus()
        .current_dir(&f.elsewhere)
        .env("CLOUDCENSUS_STORE", &missing)
        .arg("--config")
        .arg(&config)
        .args(["scans", "--store"])
        .arg(f.demo.join("cloudcensus.db"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn without_a_config_the_store_is_cloudcensus_db_in_the_working_directory() {
    let f = fixture();
    let out = cloudcensus()
        .current_dir(&f.elsewhere)
        .args(["scans"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no store at cloudcensus.db"),
        "{}",
        stderr(&out)
    );
    // ./cloudcensus.toml is the configuration when none is named.
    let copy = demo_copy();
    let out = cloudcensus()
        .current_dir(copy.path())
        .args(["verify"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
