//! Evaluation benchmark: one scan of N synthetic resources against a register of K
//! activities (issue 4: 1 000 000 × 10 000 in ≤ 2 s).
//!
//! `cargo bench --bench evaluate` (or the built binary with `--full`) builds the scan in
//! memory once (not timed), then times [`cloudcensus::rules::evaluate`] RUNS times (default
//! 5) and prints each run, the median and the load average. Under `cargo test
//! --all-targets` (no `--bench`/`--full`) it runs once with 20 000 × 1 000 as a smoke test.
//!
//! Environment: `EVAL_N` (resources), `EVAL_K` (activities), `EVAL_RUNS`.

mod support;
use support as common;

use std::time::Instant;

use cloudcensus::core::{Catalog, ScanData};
use cloudcensus::matching::MatchSettings;
use cloudcensus::rules::{self, Context, Lang, RulePack, RuleSettings};
use cloudcensus::synth::Synth;

fn main() {
    let full = common::full_size();
    let n = common::env_u64("EVAL_N", if full { 1_000_000 } else { 20_000 });
    let k = common::env_u64("EVAL_K", if full { 10_000 } else { 1_000 });
    let runs = common::env_u64("EVAL_RUNS", if full { 5 } else { 1 }).max(1);

    let synth = Synth::new(2026).with_activities(k);
    let t = Instant::now();
    let register = synth.register();
    let scan = ScanData {
        meta: synth.meta("2026-03"),
        scopes: synth.scopes(),
        groups: synth.groups(),
        resources: synth.resources(n).collect(),
        coverage: synth.coverage(),
        creators: Vec::new(),
    };
    println!(
        "setup (not timed): {n} resources, {k} activities in {:.2} s",
        t.elapsed().as_secs_f64()
    );
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

    let mut secs = Vec::new();
    let mut cpus = Vec::new();
    for run in 1..=runs {
        let load = common::load();
        let cpu0 = common::cpu_secs().unwrap_or(0.0);
        let t = Instant::now();
        let eval = rules::evaluate(&ctx, &scan, None);
        let s = t.elapsed().as_secs_f64();
        let cpu = common::cpu_secs().unwrap_or(0.0) - cpu0;
        println!(
            "run {run}: {s:.3} s ({:.0} resources/s; CPU {cpu:.2} s), {} findings, {} activities with facts, load {load}",
            n as f64 / s,
            eval.findings.len(),
            eval.activities.len(),
        );
        assert!(
            !eval.findings.is_empty(),
            "the synthetic estate has findings"
        );
        drop(eval);
        secs.push(s);
        cpus.push(cpu);
    }
    println!(
        "median of {runs}: {:.3} s (CPU {:.2} s) for {n} resources x {k} activities (target <= 2 s), load {}",
        common::median(secs),
        common::median(cpus),
        common::load()
    );
    if let Some(kib) = common::peak_rss_kib() {
        println!("peak RSS: {:.0} MiB", kib as f64 / 1024.0);
    }
}
