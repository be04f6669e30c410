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
pub mod rollup;
pub mod sheets;
pub mod template;
mod xlsx;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use chrono::{DateTime, NaiveDate, Utc};
use cloudcensus_core::{
    Coverage, Creator, JurisdictionClass, Provider, Resource, ResourceGroup, ScanData, ScanMeta,
    Scope,
};

use crate::rules::shared::Interner;
use crate::rules::{self, Context, Evaluation, Severity, SharedStr};
use crate::store::{ResourceStream, Store};
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
    /// Material activities per provider (condition 6, the *Concentratie* sheet).
    pub concentration: rules::concentration::Concentration,
}

/// Everything a report needs, assembled from the store.
pub struct ReportData<'a> {
    /// Evaluation context (register, catalog, pack, settings, language).
    pub ctx: Context<'a>,
    /// Report year.
    pub year: i32,
    /// The scans of the year, oldest first.
    pub scans: Vec<ScanSummary>,
    /// The latest scan of the year: its meta, scopes, groups and coverage. Its resources
    /// are not kept (counts of all of them are in `eval`: `resources_total`, `by_class`,
    /// ...); the ones the sheets list are in `listed`.
    pub latest: ScanData,
    /// Of the latest scan's resources, those the sheets list: the evaluation's
    /// unregistered and excluded ones, in scan order (`eval`'s indexes point into this
    /// list), with only what the sheets show.
    pub listed: Vec<ListedResource>,
    /// Its evaluation (with first/last seen over the year).
    pub eval: Evaluation,
    /// When the report was generated.
    pub generated_at: DateTime<Utc>,
    /// cloudcensus version.
    pub tool_version: String,
}

/// A resource a sheet lists, with only what the sheets show: a million-resource scan can
/// list hundreds of thousands, and a full [`Resource`] with its tag map is ~1 KiB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedResource {
    /// Provider.
    pub provider: Provider,
    /// Account / subscription / project.
    pub scope_id: SharedStr,
    /// Provider id.
    pub id: String,
    /// Resource type.
    pub resource_type: SharedStr,
    /// Display name.
    pub name: String,
    /// Primary location as the provider reported it.
    pub location: Option<SharedStr>,
    /// The tags that hint at an owner, as `key=value; …` ([`sheets::owner_hints`]).
    pub owner_hints: String,
    /// Who created it (the audit-log lookup): a principal or `unknown (why)`.
    pub creator: String,
    /// When, where the log says.
    pub created: Option<DateTime<Utc>>,
}

impl ListedResource {
    fn new(r: Resource, intern: &mut Interner, creator: Option<&Creator>) -> Self {
        ListedResource {
            creator: cloudcensus_core::creator::shown(creator),
            created: creator.and_then(|c| c.event_time),
            provider: r.provider,
            scope_id: intern.str(&r.scope_id),
            resource_type: intern.str(&r.resource_type),
            location: r.location.as_deref().map(|l| intern.str(l)),
            owner_hints: sheets::owner_hints(&r.tags),
            id: r.id,
            name: r.name,
        }
    }
}

/// A scan for the report: its small parts and hash, and its resources as a stream, so a
/// million-resource scan is read and evaluated in chunks instead of held whole.
pub struct StoredScan<'s> {
    /// Metadata.
    pub meta: ScanMeta,
    /// Scopes (with tags for inheritance).
    pub scopes: Vec<Scope>,
    /// Resource groups.
    pub groups: Vec<ResourceGroup>,
    /// Coverage.
    pub coverage: Vec<Coverage>,
    /// Who created the resources it looked up.
    pub creators: Vec<Creator>,
    /// Its content hash.
    pub hash: String,
    /// Its resources, in scan order.
    pub resources: ResourceStream<'s>,
    /// How many resources to expect (sizes buffers; 0 if unknown).
    pub resource_count: usize,
}

impl StoredScan<'static> {
    /// A scan already in memory.
    pub fn in_memory(data: ScanData, hash: String) -> Self {
        let ScanData {
            meta,
            scopes,
            groups,
            resources,
            coverage,
            creators,
        } = data;
        StoredScan {
            meta,
            scopes,
            groups,
            coverage,
            creators,
            hash,
            resource_count: resources.len(),
            resources: Box::new(resources.into_iter().map(Ok)),
        }
    }
}

impl<'s> StoredScan<'s> {
    /// Scan `scan` of `store`, its resources streamed.
    pub fn from_store(store: &'s dyn Store, scan: &crate::store::ScanSummary) -> Result<Self> {
        let meta = store.load_meta(&scan.id)?;
        let (scopes, groups, coverage) = store.load_parts(&scan.id)?;
        let creators = store.creators(&scan.id)?;
        Ok(StoredScan {
            meta,
            scopes,
            groups,
            coverage,
            creators,
            hash: scan.hash.clone(),
            resources: store.resources(&scan.id)?,
            resource_count: usize::try_from(scan.resources).unwrap_or(0),
        })
    }
}

/// Resources read and evaluated at a time: two threads' worth of evaluation, ~60 MiB of
/// resources in memory (two chunks at a time: one read, one evaluated).
const CHUNK: usize = 50_000;

/// Reads the year's scans (oldest first) and builds the report data. Fails when there
/// is no scan in the year.
///
/// Memory: `scans` should open each scan lazily (e.g. a `map` over the scan list). Each
/// scan's resources are read and evaluated in chunks of [`CHUNK`] ([`rules::Evaluator`]),
/// so no scan is ever whole in memory; of the latest scan only the resources the sheets
/// list are kept (unregistered and excluded ones), with only what the sheets show.
/// First/last seen is kept in a compact [`SeenIndex`](rules::SeenIndex), and the latest
/// scan is evaluated once (its monthly counts come from the same evaluation: first/last
/// seen changes no finding).
pub fn assemble<'a, 's>(
    ctx: Context<'a>,
    year: i32,
    scans: impl ExactSizeIterator<Item = Result<StoredScan<'s>>>,
    generated_at: DateTime<Utc>,
) -> Result<ReportData<'a>> {
    assemble_in_chunks(ctx, year, scans, generated_at, CHUNK)
}

/// [`assemble`], reading `chunk` resources at a time.
fn assemble_in_chunks<'a, 's>(
    ctx: Context<'a>,
    year: i32,
    scans: impl ExactSizeIterator<Item = Result<StoredScan<'s>>>,
    generated_at: DateTime<Utc>,
    chunk_size: usize,
) -> Result<ReportData<'a>> {
    let total = scans.len();
    let mut summaries = Vec::with_capacity(total);
    let mut seen = rules::SeenIndex::default();
    let mut latest: Option<(ScanData, Vec<ListedResource>, Evaluation)> = None;
    let mut intern = Interner::default();
    let chunk_size = chunk_size.max(1);
    for (i, scan) in scans.enumerate() {
        let StoredScan {
            meta,
            scopes,
            groups,
            coverage,
            creators,
            hash,
            mut resources,
            resource_count,
        } = scan?;
        let creator_of = cloudcensus_core::creator::index(&creators);
        let creator_of = &creator_of;
        let date = meta.reference_date();
        let last = i + 1 == total;
        let ev = rules::Evaluator::new(&ctx, &meta, &scopes, &groups, resource_count);
        // This thread reads the next chunk from the store while a worker evaluates the
        // last one. The channel holds no chunk of its own (rendezvous), so at most two
        // chunks are in memory: the one being read and the one being evaluated.
        let (seen, intern) = (&mut seen, &mut intern);
        let (ev, mut kept) =
            std::thread::scope(|s| -> Result<(rules::Evaluator<'_>, Vec<ListedResource>)> {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Resource>>(0);
                let worker = s.spawn(move || {
                    let mut ev = ev;
                    let mut kept: Vec<ListedResource> = Vec::new();
                    for mut chunk in rx {
                        let start = ev.resources();
                        for r in &chunk {
                            seen.record(&r.id, date);
                        }
                        // Only the latest scan's resources are looked up, and by now `seen`
                        // holds every scan up to it, this chunk included: its ranges are final.
                        let listed =
                            ev.add(&chunk, last.then_some(&*seen as &dyn rules::SeenLookup));
                        if last {
                            let mut next = listed.into_iter().peekable();
                            for (k, r) in chunk.drain(..).enumerate() {
                                if next.next_if_eq(&(start + k)).is_some() {
                                    let c = creator_of
                                        .get(&(r.provider, r.id.to_ascii_lowercase()))
                                        .copied();
                                    kept.push(ListedResource::new(r, intern, c));
                                }
                            }
                        }
                    }
                    (ev, kept)
                });
                let mut failed = None;
                loop {
                    let mut chunk = Vec::with_capacity(chunk_size);
                    for r in resources.by_ref().take(chunk_size) {
                        match r {
                            Ok(r) => chunk.push(r),
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    // A send fails only when the worker is gone: its panic surfaces below.
                    if failed.is_some() || chunk.is_empty() || tx.send(chunk).is_err() {
                        break;
                    }
                }
                drop(tx);
                let done = worker
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e));
                match failed {
                    Some(e) => {
                        Err(anyhow::Error::new(e).context(format!("cannot read scan {}", meta.id)))
                    }
                    None => Ok(done),
                }
            })?;
        drop(resources);
        let eval = ev.finish(&coverage);
        summaries.push(ScanSummary {
            id: meta.id.clone(),
            period: meta.period.clone(),
            finished_at: meta.finished_at,
            hash,
            resources: eval.resources_total,
            coverage_percent: eval.coverage_percent,
            coverage: coverage.clone(),
            severities: rules::count_by_severity(&eval.findings),
            by_class: eval.by_class.clone(),
            concentration: rules::concentration::concentration(ctx.register, &eval),
        });
        if last {
            let mut eval = eval;
            renumber_listed(&mut eval);
            kept.shrink_to_fit();
            let data = ScanData {
                meta,
                scopes,
                groups,
                resources: Vec::new(),
                coverage,
                creators: creators.clone(),
            };
            latest = Some((data, kept, eval));
        }
        // Otherwise the scan's evaluation drops here, before the next scan is read.
    }
    let (latest, listed, eval) = latest.with_context(|| {
        format!("no scans for {year} in the store: run `cloudcensus scan` (or `cloudcensus import`) first")
    })?;
    Ok(ReportData {
        ctx,
        year,
        scans: summaries,
        latest,
        listed,
        eval,
        generated_at,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// Points the evaluation's indexes into the kept resources: the unregistered and
/// excluded ones, in scan order.
fn renumber_listed(eval: &mut Evaluation) {
    let old = eval.listed();
    let new = |i: usize| old.binary_search(&i).unwrap_or(usize::MAX);
    for (idx, _) in &mut eval.unregistered {
        *idx = new(*idx);
    }
    for x in &mut eval.excluded {
        x.index = new(x.index);
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
pub(crate) fn atomic_write(path: &Path, f: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
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
    fn template_row_lines_outside_1_to_20_is_refused_naming_the_sheet() {
        let text = template::BUILTIN[0]
            .1
            .replacen("row_lines = 3", "row_lines = 0", 1);
        let t: Template = toml::from_str(&text).unwrap();
        let err = t.validate("bad.toml").unwrap_err();
        assert!(
            err.contains("sheet 'findings': row_lines = 0 must be between 1 and 20"),
            "{err}"
        );
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
