//! The yearly report to CIO Rijk: an xlsx workbook and one CSV per sheet.
//!
//! [`assemble`] reads a year of scans one at a time (so a million resources × 12 scans
//! never sit in memory together), evaluates each for the monthly series, keeps the
//! latest scan's full evaluation, and records first/last-seen per resource. [`write`]
//! then renders the template's sheets to xlsx (rust_xlsxwriter, constant-memory sheets
//! for the long ones, native charts on the summary) and CSV, each to a temporary file
//! renamed into place, so a crash never leaves a half-written report under the final name.

pub mod cells;
mod csv_out;
pub mod sheets;
pub mod template;
mod xlsx;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use chrono::{DateTime, NaiveDate, Utc};
use cloudcensus_core::{Coverage, JurisdictionClass, ScanData};

use crate::rules::{self, Context, Evaluation, Severity};
pub use template::Template;

/// One scan of the year, summarised for the cover, the coverage sheet and the charts.
#[derive(Debug, Clone)]
pub struct ScanSummary {
    /// Scan id.
    pub id: String,
    /// Period `YYYY-MM`.
    pub period: String,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// Content hash (tamper evidence), if the store keeps one.
    pub hash: String,
    /// Resources in the scan.
    pub resources: usize,
    /// Coverage entries.
    pub coverage: Vec<Coverage>,
    /// Coverage percent.
    pub coverage_percent: f64,
    /// Unsuppressed findings per severity.
    pub severities: BTreeMap<Severity, usize>,
    /// Resources per worst location class.
    pub by_class: BTreeMap<JurisdictionClass, usize>,
}

/// Everything a report needs, assembled from the store.
pub struct ReportData<'a> {
    /// Evaluation context (register, catalog, pack, settings, language).
    pub ctx: Context<'a>,
    /// Report year.
    pub year: i32,
    /// The scans of the year, oldest first.
    pub scans: Vec<ScanSummary>,
    /// The latest scan of the year: its meta, scopes, groups and coverage, and of its
    /// resources only those the sheets list (the evaluation's unregistered and excluded
    /// ones, in scan order; `eval`'s indexes point into this list). Counts of all
    /// resources are in `eval` (`resources_total`, `by_class`, ...).
    pub latest: ScanData,
    /// Its evaluation (with first/last seen over the year).
    pub eval: Evaluation,
    /// When the report was generated.
    pub generated_at: DateTime<Utc>,
    /// cloudcensus version.
    pub tool_version: String,
}

/// A scan read from the store with its hash.
pub struct StoredScan {
    /// The scan.
    pub data: ScanData,
    /// Its content hash.
    pub hash: String,
}

/// Reads the year's scans (oldest first) and builds the report data. Fails when there
/// is no scan in the year.
///
/// Memory: `scans` should load each scan lazily (e.g. a `map` over the scan list), so
/// only one scan is in memory at a time: a scan is dropped before the next is loaded,
/// except the last, which the sheets need. First/last seen is kept in a compact
/// [`SeenIndex`](rules::SeenIndex), and the latest scan is evaluated once (its monthly
/// counts come from the same evaluation: first/last seen changes no finding).
pub fn assemble<'a>(
    ctx: Context<'a>,
    year: i32,
    scans: impl ExactSizeIterator<Item = Result<StoredScan>>,
    generated_at: DateTime<Utc>,
) -> Result<ReportData<'a>> {
    let total = scans.len();
    let mut summaries = Vec::with_capacity(total);
    let mut seen = rules::SeenIndex::default();
    let mut latest: Option<(ScanData, Evaluation)> = None;
    for (i, scan) in scans.enumerate() {
        let StoredScan { data, hash } = scan?;
        let date = data.reference_date();
        for r in &data.resources {
            seen.record(&r.id, date);
        }
        let last = i + 1 == total;
        // Only the latest scan's resources are looked up, and by now `seen` holds every
        // scan up to it: its ranges are final.
        let eval = rules::evaluate(&ctx, &data, last.then_some(&seen as &dyn rules::SeenLookup));
        summaries.push(ScanSummary {
            id: data.meta.id.clone(),
            period: data.meta.period.clone(),
            finished_at: data.meta.finished_at,
            hash,
            resources: data.resources.len(),
            coverage: data.coverage.clone(),
            coverage_percent: data.coverage_percent(),
            severities: rules::count_by_severity(&eval.findings),
            by_class: eval.by_class.clone(),
        });
        if last {
            let (mut data, mut eval) = (data, eval);
            keep_listed_resources(&mut data, &mut eval);
            latest = Some((data, eval));
        }
        // Otherwise `data` and `eval` drop here, before the next scan is loaded.
    }
    let (latest, eval) = latest.with_context(|| {
        format!("no scans for {year} in the store: run `cloudcensus scan` (or `cloudcensus import`) first")
    })?;
    Ok(ReportData {
        ctx,
        year,
        scans: summaries,
        latest,
        eval,
        generated_at,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// Drops the resources no sheet lists (everything but the unregistered and excluded
/// ones) and renumbers the evaluation's indexes: a million-resource scan is ~1 GiB in
/// memory, and the workbook is written after this.
fn keep_listed_resources(scan: &mut ScanData, eval: &mut Evaluation) {
    let n = scan.resources.len();
    let mut new_index = vec![usize::MAX; n];
    for &(i, _) in &eval.unregistered {
        new_index[i] = 0;
    }
    for x in &eval.excluded {
        new_index[x.index] = 0;
    }
    let mut next = 0;
    for slot in new_index.iter_mut() {
        if *slot == 0 {
            *slot = next;
            next += 1;
        }
    }
    let mut i = 0;
    scan.resources.retain(|_| {
        let keep = new_index[i] != usize::MAX;
        i += 1;
        keep
    });
    scan.resources.shrink_to_fit();
    for (idx, _) in &mut eval.unregistered {
        *idx = new_index[*idx];
    }
    for x in &mut eval.excluded {
        x.index = new_index[x.index];
    }
}

/// Output options.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// Output directory (created if missing).
    pub out_dir: PathBuf,
    /// CSV delimiter (`,` or `;` for Dutch Excel).
    pub csv_delimiter: u8,
}

/// The files a report wrote.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    /// The workbook.
    pub xlsx: PathBuf,
    /// One CSV per sheet.
    pub csv: Vec<PathBuf>,
}

/// A file-name-safe slug of the organisation name.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Writes the workbook and the CSVs.
pub fn write(
    data: &ReportData<'_>,
    template: &Template,
    opts: &WriteOptions,
) -> Result<ReportFiles> {
    std::fs::create_dir_all(&opts.out_dir)
        .with_context(|| format!("cannot create output directory {}", opts.out_dir.display()))?;
    let base = format!("cloudcensus-{}-{}", slug(data.ctx.organisation), data.year);
    let xlsx_path = opts.out_dir.join(format!("{base}.xlsx"));
    atomic_write(&xlsx_path, |tmp| xlsx::write(data, template, tmp))?;
    let mut csv = Vec::new();
    for sheet in &template.sheets {
        let path = opts
            .out_dir
            .join(format!("{base}-{}.csv", slug(sheet.name(data.ctx.lang))));
        atomic_write(&path, |tmp| {
            csv_out::write(data, sheet, opts.csv_delimiter, tmp)
        })?;
        csv.push(path);
    }
    Ok(ReportFiles {
        xlsx: xlsx_path,
        csv,
    })
}

/// Writes only the workbook to `path` (through a temporary file renamed into place).
/// [`write`] does this and the CSVs; the report benchmark times the workbook alone.
pub fn write_workbook(data: &ReportData<'_>, template: &Template, path: &Path) -> Result<()> {
    atomic_write(path, |tmp| xlsx::write(data, template, tmp))
}

/// Writes through a temporary file in the same directory and renames it into place.
fn atomic_write(path: &Path, f: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("report");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = f(&tmp).and_then(|()| {
        // Durable before it gets the final name (a power cut must not leave an empty file).
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot sync {}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot move {} into place", path.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// The date as Dutch text (`31-12-2026`).
pub fn nl_date(d: NaiveDate) -> String {
    d.format("%d-%m-%Y").to_string()
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn slug_is_file_name_safe() {
        assert_eq!(
            slug("Ministerie van Voorbeeldzaken"),
            "ministerie-van-voorbeeldzaken"
        );
        assert_eq!(slug("  BZK / DGDOO "), "bzk-dgdoo");
    }

    #[test]
    fn every_builtin_template_is_valid() {
        for (name, _) in template::BUILTIN {
            Template::load(name).unwrap();
        }
    }

    #[test]
    fn template_with_unknown_column_lists_the_valid_keys() {
        let t: Template = toml::from_str(
            r#"
name = "x"
title_nl = "x"
title_en = "x"
[[sheet]]
key = "findings"
name_nl = "B"
name_en = "F"
columns = [{ key = "nonsense", header_nl = "a", header_en = "a" }]
"#,
        )
        .unwrap();
        let err = t.validate("x.toml").unwrap_err();
        assert!(
            err.contains("nonsense") && err.contains("severity"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod tests;
