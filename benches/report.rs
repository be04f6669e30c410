//! Yearly-report benchmark (issue 6): N resources × M monthly scans in a real SQLite
//! store, then the report as `cloudcensus report` makes it.
//!
//! `cargo bench --bench report` (or the built binary with `--full`): 1 000 000 resources ×
//! 12 scans (1 % churn and some region moves per month) against a register of 10 000
//! activities. The store is built once (timed separately, not part of the report), then
//! RUNS times (default 5):
//!
//! * **assemble**: read the 12 scans from the store one at a time, evaluate each, keep
//!   first/last seen (what `report` does before writing);
//! * **workbook**: the xlsx alone ([`cloudcensus::report::write_workbook`]);
//! * **csv**: all CSVs ([`cloudcensus::report::write`] minus the workbook);
//! * **bare dump**: the same cells (the same `sheets::produce` rows, projected to the
//!   template's columns) written with rust_xlsxwriter without formats, print settings,
//!   cleaning, row heights or charts: the floor for writing these cells. The ratio
//!   workbook / bare dump is the target (≤ 1.3×).
//!
//! Peak RSS (VmHWM) is printed for the whole process and, where the kernel allows
//! resetting it, for the report alone (after the store is built). Under `cargo test
//! --all-targets` it runs once with 5 000 resources × 3 scans × 500 activities.
//!
//! Environment: `REPORT_N`, `REPORT_MONTHS`, `REPORT_K`, `REPORT_RUNS`, `REPORT_DIR`
//! (work directory, default the system temp dir), `REPORT_STORE` (reuse this store file
//! if it exists, else build it there and keep it; a `postgresql://…` URL of an existing
//! database is reused when it holds scans, else filled: the same report from PostgreSQL),
//! `REPORT_CSV_DIR` (keep the report CSVs there, e.g. for `benches/report_pandas.py`).

mod support;

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use cloudcensus::core::Catalog;
use cloudcensus::matching::MatchSettings;
use cloudcensus::report::cells::Cell;
use cloudcensus::report::{self, StoredScan, Template, WriteOptions, sheets};
use cloudcensus::rules::{Context, Lang, RulePack, RuleSettings};
use cloudcensus::store::{self, Store};
use cloudcensus::synth::Synth;
use rust_xlsxwriter::{Format, Workbook};
use support as common;

fn build_store(path: &Path, synth: Synth, n: u64, months: u32) {
    let t = Instant::now();
    let mut st = store::open_or_create(path).expect("store");
    for (m, period) in Synth::periods(2026, months).iter().enumerate() {
        let mut w = st.begin_scan(synth.meta(period)).expect("begin");
        for s in synth.scopes() {
            w.add_scope(&s).expect("scope");
        }
        for g in synth.groups() {
            w.add_group(&g).expect("group");
        }
        for r in synth.month_resources(n, m as u32, 10) {
            w.add_resource(&r).expect("resource");
        }
        for c in synth.coverage() {
            w.add_coverage(&c).expect("coverage");
        }
        w.commit().expect("commit");
    }
    println!(
        "store built (not part of the report): {n} x {months} scans in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

fn assemble<'a>(st: &dyn Store, ctx: Context<'a>) -> Result<report::ReportData<'a>> {
    let mut scans = st.latest_scan_per_period()?;
    scans.sort_by(|a, b| a.period.cmp(&b.period));
    let iter = scans.iter().map(|s| StoredScan::from_store(st, s));
    report::assemble(ctx, 2026, iter, chrono::Utc::now())
}

/// The same cells as the workbook, written with rust_xlsxwriter and nothing else.
fn bare_dump(d: &report::ReportData<'_>, t: &Template, path: &Path) -> Result<u64> {
    let mut wb = Workbook::new();
    if let Some(dir) = path.parent() {
        wb.set_tempdir(dir)?;
    }
    let date = Format::new().set_num_format("dd-mm-yyyy");
    let mut cells_written = 0u64;
    for sheet in &t.sheets {
        let keys = sheets::columns(&sheet.key).expect("sheet key");
        let proj: Vec<usize> = sheet
            .columns
            .iter()
            .map(|c| keys.iter().position(|k| *k == c.key).expect("column"))
            .collect();
        let ws = wb.add_worksheet_with_constant_memory()?;
        ws.set_name(sheet.name(d.ctx.lang))?;
        for (i, c) in sheet.columns.iter().enumerate() {
            ws.write_string(0, i as u16, c.header(d.ctx.lang))?;
        }
        let mut row = 0u32;
        sheets::produce(d, &sheet.key, &mut |cells| {
            row += 1;
            for (col, &src) in proj.iter().enumerate() {
                let col = col as u16;
                match &cells[src] {
                    Cell::Empty => {}
                    Cell::Text(s) => {
                        ws.write_string(row, col, s)?;
                    }
                    Cell::Int(n) => {
                        ws.write_number(row, col, *n as f64)?;
                    }
                    Cell::Percent(p) => {
                        ws.write_number(row, col, *p)?;
                    }
                    Cell::Date(x) => {
                        ws.write_datetime_with_format(row, col, x, &date)?;
                    }
                    Cell::DateTime(x) => {
                        ws.write_datetime_with_format(row, col, x.naive_utc(), &date)?;
                    }
                }
                cells_written += 1;
            }
            Ok(())
        })?;
    }
    wb.save(path)?;
    Ok(cells_written)
}

/// Prints the peak RSS since the last reset, then resets it, so each phase shows its own
/// peak; the overall peak (the final line) is kept in `PEAK`.
fn phase_peak(run: u64, phase: &str) {
    let kib = common::peak_rss_kib().unwrap_or(0);
    PEAK.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
    println!(
        "  run {run} peak RSS during {phase}: {:.0} MiB",
        kib as f64 / 1024.0
    );
    common::reset_peak_rss();
}

static PEAK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn size_mib(p: &Path) -> f64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0
}

fn main() -> Result<()> {
    let full = common::full_size();
    let n = common::env_u64("REPORT_N", if full { 1_000_000 } else { 5_000 });
    let months = common::env_u64("REPORT_MONTHS", if full { 12 } else { 3 }) as u32;
    let k = common::env_u64("REPORT_K", if full { 10_000 } else { 500 });
    let runs = common::env_u64("REPORT_RUNS", if full { 5 } else { 1 }).max(1);
    let base = std::env::var_os("REPORT_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let work = tempfile::tempdir_in(&base)?;
    let synth = Synth::new(2026).with_activities(k);

    let store_path = match std::env::var_os("REPORT_STORE") {
        Some(p) => std::path::PathBuf::from(p),
        None => work.path().join("bench.db"),
    };
    // A PostgreSQL URL is reused when its database already holds scans.
    let reuse = if store::postgres_url(&store_path).is_some() {
        store::open(&store_path)
            .and_then(|s| s.list_scans())
            .is_ok_and(|l| !l.is_empty())
    } else {
        store_path.exists()
    };
    if !reuse {
        build_store(&store_path, synth, n, months);
    } else {
        println!("reusing store {}", store_path.display());
    }
    let register = synth.register();
    let catalog = Catalog::builtin()?;
    let pack = RulePack::builtin("cloudbeleid-2022")?;
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
    let template = Template::load("cio-rijk").map_err(anyhow::Error::msg)?;
    let before = common::peak_rss_kib().unwrap_or(0);
    let reset = common::reset_peak_rss();
    println!(
        "peak RSS before the report: {:.0} MiB (reset for the report: {reset})",
        before as f64 / 1024.0
    );

    let (mut t_asm, mut t_xlsx, mut t_csv, mut t_bare, mut t_total) =
        (vec![], vec![], vec![], vec![], vec![]);
    for run in 1..=runs {
        let load = common::load();
        let out = work.path().join(format!("out-{run}"));
        let st = store::open(&store_path)?;
        let t0 = Instant::now();
        let data = assemble(st.as_ref(), ctx)?;
        let asm = t0.elapsed().as_secs_f64();
        println!(
            "  run {run} after assemble: RSS {:.0} MiB",
            common::rss_kib().unwrap_or(0) as f64 / 1024.0,
        );
        phase_peak(run, "assemble");

        let xlsx_path = out.join("report.xlsx");
        std::fs::create_dir_all(&out)?;
        let t1 = Instant::now();
        report::write_workbook(&data, &template, &xlsx_path)?;
        let xlsx = t1.elapsed().as_secs_f64();
        phase_peak(run, "workbook");

        // The full `report` output (workbook + CSVs); CSV time = full − workbook.
        let csv_dir = out.join("full");
        let t2 = Instant::now();
        let files = report::write(
            &data,
            &template,
            &WriteOptions {
                out_dir: csv_dir.clone(),
                csv_delimiter: b',',
            },
        )?;
        let full_write = t2.elapsed().as_secs_f64();
        phase_peak(run, "workbook + CSVs");
        let csv = (full_write - xlsx).max(0.0);

        let bare_path = out.join("bare.xlsx");
        let t3 = Instant::now();
        let cells = bare_dump(&data, &template, &bare_path)?;
        let bare = t3.elapsed().as_secs_f64();
        phase_peak(run, "bare dump");
        let total = asm + full_write;
        println!(
            "run {run}: assemble {asm:.2} s, workbook {xlsx:.2} s ({:.1} MiB), csv {csv:.2} s, \
             report total {total:.2} s | bare dump {bare:.2} s ({cells} cells, {:.1} MiB) \
             -> ratio {:.2}x | {} findings, latest scan {} resources ({} kept for the sheets) | load {load}",
            size_mib(&xlsx_path),
            size_mib(&bare_path),
            xlsx / bare,
            data.eval.findings.len(),
            data.eval.resources_total,
            data.listed.len(),
        );
        if let Some(keep) = std::env::var_os("REPORT_CSV_DIR").filter(|_| run == 1) {
            std::fs::create_dir_all(&keep)?;
            for f in &files.csv {
                std::fs::copy(f, Path::new(&keep).join(f.file_name().expect("name")))?;
            }
        }
        drop(data);
        std::fs::remove_dir_all(&out)?;
        t_asm.push(asm);
        t_xlsx.push(xlsx);
        t_csv.push(csv);
        t_bare.push(bare);
        t_total.push(total);
    }
    let ratio = common::median(t_xlsx.clone()) / common::median(t_bare.clone());
    println!(
        "median of {runs} ({n} resources x {months} scans, {k} activities): report total {:.2} s \
         = assemble {:.2} s + workbook {:.2} s + csv {:.2} s; bare dump {:.2} s; \
         workbook/bare ratio {ratio:.2}x (target <= 1.3); load {}",
        common::median(t_total),
        common::median(t_asm),
        common::median(t_xlsx),
        common::median(t_csv),
        common::median(t_bare),
        common::load()
    );
    if let Some(kib) =
        common::peak_rss_kib().map(|k| k.max(PEAK.load(std::sync::atomic::Ordering::Relaxed)))
    {
        println!(
            "peak RSS {}: {:.0} MiB (target < 1024)",
            if reset {
                "of the report phase"
            } else {
                "of the process"
            },
            kib as f64 / 1024.0
        );
    }
    Ok(())
}
