//! The government-wide roll-up for CIO Rijk: one row per organisation in a store that
//! holds several (a PostgreSQL database that many ministries' scanners write, or imported
//! exports), for one year, as a workbook with a native chart and one CSV.
//!
//! Where the figures come from, and why some may be "not computed": the store keeps per
//! scan its meta, scopes, groups, resources and coverage — and so does a JSON export — but
//! not the organisation's register of processing activities, nor any finding (findings are
//! evaluated, never stored). So everything that depends only on the scan (resources,
//! data-bearing resources, location classes, coverage, visibility, the last scan date and
//! its chain hash) is computed for every organisation; unregistered resources and findings
//! only for organisations whose own configuration (naming their register) is passed in.
//! For the others those cells say so ("niet berekend: geen register"), never 0 or blank.
//! An organisation without a scan in the year gets a row that says that in every figure.
//!
//! Each organisation's latest scan is streamed in chunks, as the yearly report does, so a
//! store of million-resource scans is rolled up in bounded memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use cloudcensus_core::catalog::ClassifyOptions;
use cloudcensus_core::{Catalog, JurisdictionClass, Resource};
use rust_xlsxwriter::{
    Chart, ChartType, Color, DocProperties, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};
use serde::Deserialize;

use super::cells::{Cell, clean_text, csv_safe};
use super::template::ColumnSpec;
use crate::rules::{self, Context, Lang, RuleSettings, Severity};
use crate::store::{ScanSummary, Store};

/// The built-in roll-up layout (columns, headers, notes), embedded at build time.
pub const LAYOUT: &str = include_str!("../../report-templates/rollup.toml");

/// Every column the roll-up produces, in the order of [`OrgRow::cells`].
pub const KEYS: &[&str] = &[
    "organisation",
    "months",
    "latest_scan",
    "last_scan_date",
    "resources",
    "data_bearing",
    "unregistered",
    "outside_eea",
    "c2000",
    "unknown_location",
    "eea",
    "adequacy",
    "third_country",
    "findings_blocking",
    "findings_high",
    "findings_medium",
    "findings_low",
    "findings_info",
    "coverage",
    "visibility",
    "register",
    "scan_hash",
];

/// The location-class columns of the chart, in stacking order, with their colours.
const CHART_CLASSES: &[(&str, JurisdictionClass, u32)] = &[
    ("eea", JurisdictionClass::Eea, 0x39870C),
    ("adequacy", JurisdictionClass::Adequacy, 0x8FCAE7),
    ("third_country", JurisdictionClass::ThirdCountry, 0xE17000),
    ("c2000", JurisdictionClass::C2000Excluded, 0xB00020),
    ("unknown_location", JurisdictionClass::Unknown, 0x999999),
];

/// Resources read (and evaluated) at a time.
const CHUNK: usize = 50_000;

/// The roll-up layout: sheet names, columns and notes in Dutch and English.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    title_nl: String,
    title_en: String,
    sheet_nl: String,
    sheet_en: String,
    notes_nl: String,
    notes_en: String,
    chart_nl: String,
    chart_en: String,
    columns: Vec<ColumnSpec>,
    notes_lines_nl: Vec<String>,
    notes_lines_en: Vec<String>,
}

fn pick<'s>(lang: Lang, nl: &'s str, en: &'s str) -> &'s str {
    match lang {
        Lang::Nl => nl,
        Lang::En => en,
    }
}

impl Layout {
    /// The built-in layout, checked: every key of [`KEYS`] exactly once.
    pub fn builtin() -> Result<Layout> {
        let layout: Layout = toml::from_str(LAYOUT)
            .map_err(|e| anyhow::anyhow!("report-templates/rollup.toml: {e}"))?;
        layout
            .validate()
            .map_err(|e| anyhow::anyhow!("report-templates/rollup.toml: {e}"))?;
        Ok(layout)
    }

    fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        for c in &self.columns {
            if !KEYS.contains(&c.key.as_str()) {
                problems.push(format!(
                    "unknown column '{}' (valid: {})",
                    c.key,
                    KEYS.join(", ")
                ));
            }
        }
        for k in KEYS {
            match self.columns.iter().filter(|c| c.key == *k).count() {
                1 => {}
                0 => problems.push(format!("column '{k}' is missing")),
                n => problems.push(format!("column '{k}' appears {n} times")),
            }
        }
        for c in &self.columns {
            if !["text", "int", "date", "percent"].contains(&c.format.as_str()) {
                problems.push(format!(
                    "column '{}': format '{}' is not text, int, date or percent",
                    c.key, c.format
                ));
            }
        }
        for (what, name) in [("sheet_nl", &self.sheet_nl), ("sheet_en", &self.sheet_en)] {
            if name.chars().count() > 31 {
                problems.push(format!("{what} '{name}' is longer than 31 characters"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    fn title(&self, lang: Lang) -> &str {
        pick(lang, &self.title_nl, &self.title_en)
    }

    fn sheet(&self, lang: Lang) -> &str {
        pick(lang, &self.sheet_nl, &self.sheet_en)
    }

    fn notes(&self, lang: Lang) -> &str {
        pick(lang, &self.notes_nl, &self.notes_en)
    }

    fn chart(&self, lang: Lang) -> &str {
        pick(lang, &self.chart_nl, &self.chart_en)
    }

    fn notes_lines(&self, lang: Lang) -> &[String] {
        match lang {
            Lang::Nl => &self.notes_lines_nl,
            Lang::En => &self.notes_lines_en,
        }
    }

    /// For each column, the index of its key in a row of [`KEYS`].
    fn projection(&self) -> Vec<usize> {
        self.columns
            .iter()
            .map(|c| KEYS.iter().position(|k| *k == c.key).unwrap_or(0))
            .collect()
    }

    fn column_index(&self, key: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.key == key)
    }
}

/// An organisation's own configuration, for the figures that need its register.
pub struct OrgConfig<'a> {
    /// Where it was read from (shown on the notes sheet).
    pub label: String,
    /// Its evaluation context: register, catalog, rule pack and settings. Its
    /// `organisation` must be the name its scans carry.
    pub ctx: Context<'a>,
}

/// What only a register gives: unregistered resources and findings.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated {
    /// Data-bearing resources no activity claims (CB-UNREG).
    pub unregistered: usize,
    /// Unsuppressed findings per severity.
    pub severities: BTreeMap<Severity, usize>,
    /// The register file.
    pub register: String,
}

/// One organisation's latest scan of the year, summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct Latest {
    /// Scan id.
    pub id: String,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// Its chain hash.
    pub hash: String,
    /// Resources.
    pub resources: usize,
    /// Data-bearing resources.
    pub data_bearing: usize,
    /// Resources per worst location class (replicas included), on the scan date.
    pub by_class: BTreeMap<JurisdictionClass, usize>,
    /// Coverage entries.
    pub coverage_entries: usize,
    /// Coverage entries that are gaps.
    pub coverage_gaps: usize,
    /// What the listings could see (`visibility::short`).
    pub visibility: String,
    /// With a register: its figures; without one, `None`.
    pub evaluated: Option<Evaluated>,
}

impl Latest {
    fn class(&self, c: JurisdictionClass) -> usize {
        self.by_class.get(&c).copied().unwrap_or(0)
    }

    fn coverage_percent(&self) -> f64 {
        if self.coverage_entries == 0 {
            100.0
        } else {
            (self.coverage_entries - self.coverage_gaps) as f64 * 100.0
                / self.coverage_entries as f64
        }
    }
}

/// One row of the roll-up.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgRow {
    /// Organisation, as its scans name it.
    pub organisation: String,
    /// Months of the year with at least one scan.
    pub months: usize,
    /// The configuration file given for it, if any.
    pub config: Option<String>,
    /// Its latest scan of the year; `None` when it has none.
    pub latest: Option<Latest>,
}

/// The roll-up of one year.
#[derive(Debug, Clone)]
pub struct Rollup {
    /// The year.
    pub year: i32,
    /// Language of labels and texts.
    pub lang: Lang,
    /// The store it was read from.
    pub store: String,
    /// One row per organisation, by name.
    pub rows: Vec<OrgRow>,
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// cloudcensus version.
    pub tool_version: String,
}

fn l(lang: Lang, nl: &str, en: &str) -> String {
    pick(lang, nl, en).to_string()
}

/// Reads every organisation's latest scan of `year` from `store` (and, for the
/// organisations in `configs`, evaluates it against their register). `catalog` places the
/// locations of organisations without a configuration (with the default DPF settings).
pub fn assemble(
    store: &dyn Store,
    year: i32,
    lang: Lang,
    catalog: &Catalog,
    configs: &[OrgConfig<'_>],
    generated_at: DateTime<Utc>,
) -> Result<Rollup> {
    let mut by_org: BTreeMap<String, Vec<ScanSummary>> = BTreeMap::new();
    for s in store.list_scans()? {
        by_org.entry(s.organisation.clone()).or_default().push(s);
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for c in configs {
        if let Some(first) = seen.insert(c.ctx.organisation, &c.label) {
            bail!(
                "{first} and {} both configure organisation '{}': pass one configuration per organisation",
                c.label,
                c.ctx.organisation
            );
        }
        let scans = by_org.entry(c.ctx.organisation.to_string()).or_default();
        if scans.is_empty() {
            tracing::warn!(
                "{}: the store holds no scan of organisation '{}': its row reads 'no scan'; check the config's `organisation`",
                c.label,
                c.ctx.organisation
            );
        }
    }
    if by_org.is_empty() {
        bail!(
            "the store {} holds no scans and no --org-config was given: nothing to roll up",
            store.location()
        );
    }
    let prefix = format!("{year:04}-");
    let default_rules = RuleSettings::default();
    let mut rows = Vec::with_capacity(by_org.len());
    for (organisation, scans) in by_org {
        // Of each month the latest scan counts, as in the yearly report.
        let per_period = crate::store::latest_per_period(
            scans.into_iter().filter(|s| s.period.starts_with(&prefix)),
        );
        let config = configs.iter().find(|c| c.ctx.organisation == organisation);
        let latest = match per_period.last() {
            None => None,
            Some(s) => Some(
                latest_of(store, s, config, catalog, &default_rules).with_context(|| {
                    format!(
                        "cannot roll up organisation '{organisation}' (scan {})",
                        s.id
                    )
                })?,
            ),
        };
        rows.push(OrgRow {
            organisation,
            months: per_period.len(),
            config: config.map(|c| c.label.clone()),
            latest,
        });
    }
    Ok(Rollup {
        year,
        lang,
        store: store.location(),
        rows,
        generated_at,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// Streams one scan: counts what needs no register, and evaluates it when `config` holds one.
fn latest_of(
    store: &dyn Store,
    s: &ScanSummary,
    config: Option<&OrgConfig<'_>>,
    catalog: &Catalog,
    default_rules: &RuleSettings,
) -> Result<Latest> {
    let meta = store.load_meta(&s.id)?;
    let (scopes, groups, coverage) = store.load_parts(&s.id)?;
    let date = meta.reference_date();
    let (catalog, settings) = match config {
        Some(c) => (c.ctx.catalog, c.ctx.rules),
        None => (catalog, default_rules),
    };
    let mut ev = config.map(|c| {
        rules::Evaluator::new(
            &c.ctx,
            &meta,
            &scopes,
            &groups,
            usize::try_from(s.resources).unwrap_or(0),
        )
    });
    let mut counts = Counts::default();
    let mut stream = store.resources(&s.id)?;
    loop {
        let chunk: Vec<Resource> = stream
            .by_ref()
            .take(CHUNK)
            .collect::<Result<_, _>>()
            .with_context(|| format!("cannot read scan {}", s.id))?;
        if chunk.is_empty() {
            break;
        }
        for r in &chunk {
            counts.add(r, catalog, settings, date);
        }
        if let Some(ev) = &mut ev {
            ev.add(&chunk, None);
        }
    }
    drop(stream);
    let evaluated = match (ev, config) {
        (Some(ev), Some(c)) => {
            let eval = ev.finish(&coverage);
            Some(Evaluated {
                unregistered: eval.unregistered.len(),
                severities: rules::count_by_severity(&eval.findings),
                register: c.ctx.register.source.clone(),
            })
        }
        _ => None,
    };
    let gaps = coverage.iter().filter(|c| c.status.is_gap()).count();
    Ok(Latest {
        id: s.id.clone(),
        finished_at: meta.finished_at,
        hash: s.hash.clone(),
        resources: counts.resources,
        data_bearing: counts.data_bearing,
        by_class: counts.by_class,
        coverage_entries: coverage.len(),
        coverage_gaps: gaps,
        visibility: cloudcensus_core::visibility::short(&coverage),
        evaluated,
    })
}

/// What the roll-up counts of a scan without its register.
#[derive(Default)]
struct Counts {
    resources: usize,
    data_bearing: usize,
    by_class: BTreeMap<JurisdictionClass, usize>,
    /// Classified (provider, location spelling) pairs: a scan has few distinct ones.
    placed: BTreeMap<(cloudcensus_core::Provider, String), JurisdictionClass>,
}

impl Counts {
    /// Counts one resource; its class is the worst of its location and replica locations
    /// (unknown without any), as the rules classify it.
    fn add(&mut self, r: &Resource, catalog: &Catalog, settings: &RuleSettings, date: NaiveDate) {
        self.resources += 1;
        if r.category.is_data_bearing() {
            self.data_bearing += 1;
        }
        let opts = ClassifyOptions {
            dpf_certified: settings.dpf(r.provider),
        };
        let mut worst: Option<JurisdictionClass> = None;
        for raw in r.location.iter().chain(r.replica_locations.iter()) {
            let key = (r.provider, raw.clone());
            let class = match self.placed.get(&key) {
                Some(c) => *c,
                None => {
                    let c = catalog.classify(r.provider, raw, date, opts).class;
                    self.placed.insert(key, c);
                    c
                }
            };
            worst = worst.max(Some(class));
        }
        *self
            .by_class
            .entry(worst.unwrap_or(JurisdictionClass::Unknown))
            .or_insert(0) += 1;
    }
}

impl Rollup {
    /// Text for a figure that needs a register the roll-up was not given.
    fn no_register(&self) -> Cell {
        Cell::text(l(
            self.lang,
            "niet berekend: geen register",
            "not computed: no register",
        ))
    }

    fn no_scan(&self) -> Cell {
        Cell::text(match self.lang {
            Lang::Nl => format!("geen scan in {}", self.year),
            Lang::En => format!("no scan in {}", self.year),
        })
    }

    /// The cells of one organisation, in [`KEYS`] order.
    pub fn cells(&self, row: &OrgRow) -> Vec<Cell> {
        let lang = self.lang;
        let register = Cell::text(match (&row.latest, &row.config) {
            (
                Some(Latest {
                    evaluated: Some(e), ..
                }),
                _,
            ) => e.register.clone(),
            (_, Some(cfg)) => format!("{} ({cfg})", l(lang, "configuratie", "configuration")),
            (_, None) => l(lang, "geen register opgegeven", "no register given"),
        });
        let Some(s) = &row.latest else {
            let mut out = vec![Cell::text(&row.organisation), Cell::int(row.months)];
            out.extend((2..KEYS.len() - 2).map(|_| self.no_scan()));
            out.push(register);
            out.push(self.no_scan());
            return out;
        };
        let sev = |v: Severity| match &s.evaluated {
            Some(e) => Cell::int(e.severities.get(&v).copied().unwrap_or(0)),
            None => self.no_register(),
        };
        use JurisdictionClass as J;
        vec![
            Cell::text(&row.organisation),
            Cell::int(row.months),
            Cell::text(&s.id),
            Cell::Date(s.finished_at.date_naive()),
            Cell::int(s.resources),
            Cell::int(s.data_bearing),
            match &s.evaluated {
                Some(e) => Cell::int(e.unregistered),
                None => self.no_register(),
            },
            Cell::int(s.class(J::ThirdCountry) + s.class(J::C2000Excluded)),
            Cell::int(s.class(J::C2000Excluded)),
            Cell::int(s.class(J::Unknown)),
            Cell::int(s.class(J::Eea)),
            Cell::int(s.class(J::Adequacy)),
            Cell::int(s.class(J::ThirdCountry)),
            sev(Severity::Blocking),
            sev(Severity::High),
            sev(Severity::Medium),
            sev(Severity::Low),
            sev(Severity::Info),
            Cell::Percent(s.coverage_percent()),
            Cell::text(&s.visibility),
            register,
            // As `cloudcensus scans` shows it; the notes sheet has it in full.
            Cell::text(s.hash.get(..12).unwrap_or(&s.hash)),
        ]
    }

    /// The government-wide total row, in [`KEYS`] order. A sum stands only where every
    /// organisation has the figure; otherwise the cell says how many lack it.
    pub fn total(&self) -> Vec<Cell> {
        let lang = self.lang;
        let rows: Vec<Vec<Cell>> = self.rows.iter().map(|r| self.cells(r)).collect();
        let n = self.rows.len();
        let na = || Cell::text(l(lang, "n.v.t.", "n/a"));
        let mut out = Vec::with_capacity(KEYS.len());
        for (i, key) in KEYS.iter().enumerate() {
            let cell = match *key {
                "organisation" => Cell::text(match lang {
                    Lang::Nl => format!("Rijksbreed totaal ({n} organisaties)"),
                    Lang::En => format!("Government-wide total ({n} organisations)"),
                }),
                "coverage" => {
                    let with: Vec<&Latest> =
                        self.rows.iter().filter_map(|r| r.latest.as_ref()).collect();
                    if with.is_empty() {
                        self.no_scan()
                    } else {
                        let entries: usize = with.iter().map(|s| s.coverage_entries).sum();
                        let gaps: usize = with.iter().map(|s| s.coverage_gaps).sum();
                        Cell::Percent(if entries == 0 {
                            100.0
                        } else {
                            (entries - gaps) as f64 * 100.0 / entries as f64
                        })
                    }
                }
                "last_scan_date" => {
                    // The stalest of the latest scans is what CIO Rijk chases.
                    match self
                        .rows
                        .iter()
                        .filter_map(|r| r.latest.as_ref())
                        .map(|s| s.finished_at.date_naive())
                        .min()
                    {
                        Some(d) => Cell::text(format!(
                            "{} {}",
                            l(lang, "oudste", "oldest"),
                            super::nl_date(d)
                        )),
                        None => self.no_scan(),
                    }
                }
                "resources" | "data_bearing" | "unregistered" | "outside_eea" | "c2000"
                | "unknown_location" | "eea" | "adequacy" | "third_country"
                | "findings_blocking" | "findings_high" | "findings_medium" | "findings_low"
                | "findings_info" => {
                    let missing = rows
                        .iter()
                        .filter(|r| !matches!(r[i], Cell::Int(_)))
                        .count();
                    if missing == 0 {
                        Cell::Int(
                            rows.iter()
                                .map(|r| match r[i] {
                                    Cell::Int(v) => v,
                                    _ => 0,
                                })
                                .sum(),
                        )
                    } else {
                        Cell::text(match lang {
                            Lang::Nl => format!("niet berekend voor {missing} van {n}"),
                            Lang::En => format!("not computed for {missing} of {n}"),
                        })
                    }
                }
                _ => na(),
            };
            out.push(cell);
        }
        out
    }
}

/// The files a roll-up wrote.
#[derive(Debug, Clone)]
pub struct RollupFiles {
    /// The workbook.
    pub xlsx: PathBuf,
    /// The CSV.
    pub csv: PathBuf,
}

/// Writes `cloudcensus-rollup-YEAR.xlsx` and `.csv` into `out_dir` (each through a
/// temporary file renamed into place).
pub fn write(r: &Rollup, layout: &Layout, out_dir: &Path, delimiter: u8) -> Result<RollupFiles> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;
    let base = format!("cloudcensus-rollup-{}", r.year);
    let xlsx = out_dir.join(format!("{base}.xlsx"));
    super::atomic_write(&xlsx, |tmp| write_xlsx(r, layout, tmp))?;
    let csv = out_dir.join(format!("{base}.csv"));
    super::atomic_write(&csv, |tmp| write_csv(r, layout, delimiter, tmp))?;
    Ok(RollupFiles { xlsx, csv })
}

/// The organisation rows and the total row, projected onto the layout's columns.
fn table(r: &Rollup, layout: &Layout) -> Vec<Vec<Cell>> {
    let proj = layout.projection();
    r.rows
        .iter()
        .map(|row| r.cells(row))
        .chain(std::iter::once(r.total()))
        .map(|cells| proj.iter().map(|&i| cells[i].clone()).collect())
        .collect()
}

fn write_csv(r: &Rollup, layout: &Layout, delimiter: u8, path: &Path) -> Result<()> {
    use std::io::Write as _;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all("\u{FEFF}".as_bytes())?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(file);
    w.write_record(layout.columns.iter().map(|c| csv_safe(c.header(r.lang))))?;
    for row in table(r, layout) {
        w.write_record(row.iter().map(|c| match c {
            Cell::Text(s) => csv_safe(s),
            other => other.to_plain(),
        }))?;
    }
    let file = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    file.into_inner()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .sync_all()?;
    Ok(())
}

struct Formats {
    header: Format,
    text: Format,
    wrap: Format,
    int: Format,
    percent: Format,
    date: Format,
    total: Format,
    note: Format,
}

impl Formats {
    fn new() -> Self {
        let top = || Format::new().set_align(FormatAlign::Top);
        Formats {
            header: Format::new()
                .set_bold()
                .set_font_color(Color::White)
                .set_background_color(Color::RGB(0x154273))
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_border_bottom(FormatBorder::Thin),
            text: top(),
            wrap: top().set_text_wrap().set_indent(1),
            int: top().set_num_format("#,##0"),
            percent: top().set_num_format("0.0\"%\""),
            date: top()
                .set_num_format("dd-mm-yyyy")
                .set_align(FormatAlign::Left),
            total: Format::new().set_bold().set_border_top(FormatBorder::Thin),
            // A figure that was not computed: grey italic, wrapped, so it is read as text.
            note: top()
                .set_italic()
                .set_font_color(Color::RGB(0x6F6F6F))
                .set_text_wrap(),
        }
    }
}

fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    format: &str,
    f: &Formats,
    total: bool,
) -> Result<()> {
    let merged = |base: &Format| {
        if total {
            base.clone().set_bold().set_border_top(FormatBorder::Thin)
        } else {
            base.clone()
        }
    };
    match cell {
        Cell::Empty => {
            ws.write_blank(row, col, &merged(&f.total))?;
        }
        Cell::Text(s) => {
            let text = clean_text(s);
            // Text in a number column is a figure that could not be computed.
            let base = if format == "text" { &f.wrap } else { &f.note };
            ws.write_string_with_format(row, col, &text, &merged(base))?;
        }
        Cell::Int(n) => {
            ws.write_number_with_format(row, col, *n as f64, &merged(&f.int))?;
        }
        Cell::Percent(p) => {
            ws.write_number_with_format(row, col, *p, &merged(&f.percent))?;
        }
        Cell::Date(d) => {
            ws.write_datetime_with_format(row, col, d, &merged(&f.date))?;
        }
        Cell::DateTime(t) => {
            ws.write_datetime_with_format(row, col, t.naive_utc(), &merged(&f.date))?;
        }
    }
    Ok(())
}

/// Lines a wrapped text takes in a column `width` characters wide.
fn lines(text: &str, width: f64) -> usize {
    // Bold and italic text is wider than the column's nominal characters.
    let per_line = (width * 0.85).max(1.0) as usize;
    text.split('\n')
        .map(|l| l.chars().count().div_ceil(per_line).max(1))
        .sum()
}

fn write_xlsx(r: &Rollup, layout: &Layout, path: &Path) -> Result<()> {
    let lang = r.lang;
    let f = Formats::new();
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!("{} {}", layout.title(lang), r.year))
            .set_company("CIO Rijk")
            .set_author("cloudcensus")
            .set_comment(format!("cloudcensus {}", r.tool_version)),
    );
    let table = table(r, layout);
    let n = table.len() as u32; // organisations + total
    {
        let ws = wb.add_worksheet();
        ws.set_name(layout.sheet(lang))?;
        ws.set_paper_size(9)
            .set_landscape()
            .set_print_fit_to_pages(1, 0)
            .set_header(format!(
                "&L&8{} {}&R&8{}",
                layout.title(lang).replace('&', "&&"),
                r.year,
                layout.sheet(lang).replace('&', "&&")
            ))
            .set_footer(match lang {
                Lang::Nl => "&L&8cloudcensus&R&8Pagina &P van &N",
                Lang::En => "&L&8cloudcensus&R&8Page &P of &N",
            });
        ws.set_repeat_rows(0, 0)?;
        for (i, c) in layout.columns.iter().enumerate() {
            ws.set_column_width(i as u16, c.width)?;
        }
        let header_lines = layout
            .columns
            .iter()
            .map(|c| lines(c.header(lang), c.width))
            .max()
            .unwrap_or(1);
        ws.set_row_height(0, 15.0 * (header_lines + 1) as f64)?;
        for (i, c) in layout.columns.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, c.header(lang), &f.header)?;
        }
        ws.set_freeze_panes(1, 1)?;
        for (k, cells) in table.iter().enumerate() {
            let row = k as u32 + 1;
            let total = k + 1 == table.len();
            let mut tallest = 1;
            for (i, (cell, c)) in cells.iter().zip(&layout.columns).enumerate() {
                write_cell(ws, row, i as u16, cell, &c.format, &f, total)?;
                if let Cell::Text(t) = cell {
                    tallest = tallest.max(lines(t, c.width));
                }
            }
            ws.set_row_height(row, 15.0 * tallest.min(8) as f64)?;
        }
        ws.autofilter(0, 0, n - 1, layout.columns.len().saturating_sub(1) as u16)?;
        // The chart: one stacked column per organisation (not the total row).
        let orgs = r.rows.len() as u32;
        if let (Some(org_col), true) = (layout.column_index("organisation"), orgs > 0) {
            let name = layout.sheet(lang);
            let mut chart = Chart::new(ChartType::ColumnStacked);
            chart.title().set_name(layout.chart(lang));
            chart
                .x_axis()
                .set_name(pick(lang, "Organisatie", "Organisation"));
            chart.y_axis().set_name("Resources");
            for (key, _, colour) in CHART_CLASSES {
                let Some(col) = layout.column_index(key) else {
                    continue;
                };
                chart
                    .add_series()
                    .set_name((name, 0, col as u16))
                    .set_categories((name, 1, org_col as u16, orgs, org_col as u16))
                    .set_values((name, 1, col as u16, orgs, col as u16))
                    .set_format(rust_xlsxwriter::ChartFormat::new().set_solid_fill(
                        rust_xlsxwriter::ChartSolidFill::new().set_color(Color::RGB(*colour)),
                    ));
            }
            chart.set_width(960).set_height(420);
            ws.insert_chart(n + 2, 0, &chart)?;
        }
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name(layout.notes(lang))?;
        ws.set_paper_size(9).set_print_fit_to_pages(1, 0);
        ws.set_column_width(0, 34)?;
        ws.set_column_width(1, 100)?;
        let title = Format::new().set_bold().set_font_size(14);
        ws.write_string_with_format(0, 0, format!("{} {}", layout.title(lang), r.year), &title)?;
        let mut row = 2u32;
        let kv = |ws: &mut Worksheet, row: &mut u32, k: &str, v: &str| -> Result<()> {
            ws.write_string_with_format(*row, 0, k, &f.text)?;
            ws.write_string_with_format(*row, 1, clean_text(v), &f.wrap)?;
            ws.set_row_height(*row, 15.0 * lines(v, 100.0).min(8) as f64)?;
            *row += 1;
            Ok(())
        };
        kv(ws, &mut row, &l(lang, "Jaar", "Year"), &r.year.to_string())?;
        kv(
            ws,
            &mut row,
            &l(lang, "Gemaakt op", "Generated at"),
            &r.generated_at.format("%d-%m-%Y %H:%M UTC").to_string(),
        )?;
        kv(ws, &mut row, &l(lang, "Scanopslag", "Scan store"), &r.store)?;
        kv(ws, &mut row, "cloudcensus", &r.tool_version)?;
        kv(
            ws,
            &mut row,
            &l(lang, "Organisaties", "Organisations"),
            &r.rows.len().to_string(),
        )?;
        for (i, line) in layout.notes_lines(lang).iter().enumerate() {
            let k = if i == 0 {
                l(
                    lang,
                    "Herkomst van de cijfers",
                    "Where the figures come from",
                )
            } else {
                String::new()
            };
            kv(
                ws,
                &mut row,
                &k,
                &line.replace("{year}", &r.year.to_string()),
            )?;
        }
        row += 1;
        ws.write_string_with_format(row, 0, l(lang, "Organisatie", "Organisation"), &f.header)?;
        ws.write_string_with_format(
            row,
            1,
            l(
                lang,
                "Bron van de registergegevens",
                "Source of the register figures",
            ),
            &f.header,
        )?;
        row += 1;
        for o in &r.rows {
            let src = match (&o.config, &o.latest) {
                (
                    Some(cfg),
                    Some(Latest {
                        evaluated: Some(e),
                        id,
                        hash,
                        ..
                    }),
                ) => match lang {
                    Lang::Nl => format!(
                        "{cfg}: register {}; scan {id}, ketenhash {hash}",
                        e.register
                    ),
                    Lang::En => format!(
                        "{cfg}: register {}; scan {id}, chain hash {hash}",
                        e.register
                    ),
                },
                (Some(cfg), _) => match lang {
                    Lang::Nl => format!("{cfg}; geen scan in {}", r.year),
                    Lang::En => format!("{cfg}; no scan in {}", r.year),
                },
                (None, Some(s)) => match lang {
                    Lang::Nl => format!(
                        "geen register opgegeven (--org-config): niet geregistreerd en bevindingen niet berekend; scan {}, ketenhash {}",
                        s.id, s.hash
                    ),
                    Lang::En => format!(
                        "no register given (--org-config): unregistered and findings not computed; scan {}, chain hash {}",
                        s.id, s.hash
                    ),
                },
                (None, None) => match lang {
                    Lang::Nl => format!("geen register opgegeven; geen scan in {}", r.year),
                    Lang::En => format!("no register given; no scan in {}", r.year),
                },
            };
            kv(ws, &mut row, &o.organisation, &src)?;
        }
    }
    wb.save(path)
        .with_context(|| format!("cannot write workbook {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests;
