//! HTML page benchmark (issue 22): a scan with ≥ 100 000 findings as one page, then the
//! page in headless Chromium: open, filter by a code, search, sort.
//!
//! `cargo bench --bench html` (or the built binary with `--full`): HTML_N synthetic
//! resources (default 60 000, which gives ~100 000+ findings against 1 000 activities).
//! Not timed: building the scan and evaluating it. Timed RUNS times (default 5): rendering
//! and writing the page. Then, when `CLOUDCENSUS_TEST_CHROMIUM` and
//! `CLOUDCENSUS_TEST_NODE_MODULES` are set (scripts/test sets them), `scripts/browser/page.cjs
//! bench` opens the page RUNS times in a fresh tab and prints load-to-ready, filter, search
//! and sort times measured in the page, with medians. The target is: open and filter
//! 100 000 findings in under 2 s. Under `cargo test --all-targets` it runs once with
//! 2 000 resources as a smoke test.
//!
//! Environment: `HTML_N`, `HTML_K` (activities), `HTML_RUNS`, `HTML_OUT` (keep the page).

mod support;
use support as common;

use std::path::PathBuf;
use std::time::Instant;

use cloudcensus::core::{Catalog, ScanData};
use cloudcensus::html::{self, PageInput};
use cloudcensus::matching::MatchSettings;
use cloudcensus::rules::{self, Context, Lang, RulePack, RuleSettings};
use cloudcensus::synth::Synth;

fn main() {
    let full = common::full_size();
    let n = common::env_u64("HTML_N", if full { 60_000 } else { 2_000 });
    let k = common::env_u64("HTML_K", if full { 1_000 } else { 100 });
    let runs = common::env_u64("HTML_RUNS", if full { 5 } else { 1 }).max(1);

    let synth = Synth::new(2026).with_activities(k);
    let register = synth.register();
    let scan = ScanData {
        meta: synth.meta("2026-03"),
        scopes: synth.scopes(),
        groups: synth.groups(),
        resources: synth.resources(n).collect(),
        coverage: synth.coverage(),
        creators: Vec::new(),
    };
    let catalog = Catalog::builtin().expect("catalog");
    let pack = RulePack::builtin("cloudbeleid-2022").expect("rule pack");
    let settings = RuleSettings::default();
    let matching = MatchSettings::default();
    let ctx = Context {
        organisation: "Ministerie van Financiën",
        register: &register,
        catalog: &catalog,
        pack: &pack,
        rules: &settings,
        matching: &matching,
        lang: Lang::Nl,
    };
    let eval = rules::evaluate(&ctx, &scan, None);
    let unregistered = cloudcensus::commands::unregistered::rows(&ctx, &scan, &eval);
    println!(
        "setup (not timed): {n} resources, {k} activities: {} findings, {} unregistered",
        eval.findings.len(),
        unregistered.len()
    );
    let path = std::env::var("HTML_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            std::env::temp_dir().join(format!("cloudcensus-bench-{}.html", std::process::id()))
        });
    let mut secs = Vec::new();
    for run in 1..=runs {
        let load = common::load();
        let t = Instant::now();
        html::write(
            &PageInput {
                ctx: &ctx,
                scan: &scan,
                eval: &eval,
                unregistered: &unregistered,
                changes: None,
                generated_at: chrono::Utc::now(),
            },
            &path,
        )
        .expect("page");
        let s = t.elapsed().as_secs_f64();
        println!("run {run}: render + write {s:.3} s, load {load}");
        secs.push(s);
    }
    let size = std::fs::metadata(&path).expect("page written").len();
    println!(
        "median of {runs}: render + write {:.3} s; page {:.1} MB ({size} bytes) for {} findings",
        common::median(secs),
        size as f64 / 1e6,
        eval.findings.len()
    );
    if let (Ok(chromium), Ok(modules)) = (
        std::env::var("CLOUDCENSUS_TEST_CHROMIUM"),
        std::env::var("CLOUDCENSUS_TEST_NODE_MODULES"),
    ) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/browser/page.cjs");
        let out = std::process::Command::new("node")
            .arg(script)
            .arg("bench")
            .arg(&path)
            .args([
                "--code",
                "CB-UNREG",
                "--search",
                "vm-1",
                "--runs",
                &runs.to_string(),
            ])
            .env("CLOUDCENSUS_TEST_CHROMIUM", chromium)
            .env("CLOUDCENSUS_TEST_NODE_MODULES", modules)
            .output()
            .expect("node runs");
        assert!(
            out.status.success(),
            "browser bench failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let col = |k: &str| -> Vec<f64> {
            v["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r[k].as_f64().unwrap_or(f64::NAN))
                .collect()
        };
        for (i, r) in v["runs"].as_array().unwrap().iter().enumerate() {
            println!(
                "browser run {}: ready {:.0} ms (script {:.0} ms), filter by code {:.0} ms ({} rows), search {:.0} ms ({} rows), sort {:.0} ms, errors {}",
                i + 1,
                r["load_ms"].as_f64().unwrap_or(0.0),
                r["script_ms"].as_f64().unwrap_or(0.0),
                r["filter_code_ms"].as_f64().unwrap_or(0.0),
                r["filter_shown"],
                r["search_ms"].as_f64().unwrap_or(0.0),
                r["search_shown"],
                r["sort_ms"].as_f64().unwrap_or(0.0),
                r["errors"]
            );
        }
        let ready = common::median(col("load_ms"));
        let filter = common::median(col("filter_code_ms"));
        println!(
            "browser median of {runs}: ready {ready:.0} ms, filter {filter:.0} ms, ready + filter {:.0} ms (target < 2000 ms), search {:.0} ms, sort {:.0} ms, load {}",
            ready + filter,
            common::median(col("search_ms")),
            common::median(col("sort_ms")),
            common::load()
        );
    } else {
        println!(
            "browser part skipped: CLOUDCENSUS_TEST_CHROMIUM / CLOUDCENSUS_TEST_NODE_MODULES not set (run through scripts/test's environment)"
        );
    }
    if std::env::var("HTML_OUT").is_err() {
        let _ = std::fs::remove_file(&path);
    }
}
