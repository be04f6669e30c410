//! The workbook writer (rust_xlsxwriter).

use std::path::Path;

use anyhow::{Context as _, Result};
use cloudcensus_core::JurisdictionClass;
use rust_xlsxwriter::{
    Chart, ChartType, Color, DocProperties, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};

use super::ReportData;
use super::cells::{Cell, clean_text, clean_text_cow};
use super::sheets::{self, class_name, severity_name};
use super::template::{ColumnSpec, SheetSpec, Template};
use crate::rules::Severity;

/// Sheets written in normal mode: the summary writes its chart data beside rows it
/// already wrote, which constant-memory mode cannot do. Every other sheet is written in
/// constant-memory mode (a row goes to disk when the next starts): the per-activity
/// sheets hold a row per register activity, tens of thousands for a large department.
const IN_MEMORY: &[&str] = &["summary", "concentration"];

/// Rijksoverheid blue, used for header rows.
const HEADER_BLUE: u32 = 0x154273;

struct Formats {
    header: Format,
    text: Format,
    wrap: Format,
    int: Format,
    percent: Format,
    date: Format,
    datetime: Format,
}

impl Formats {
    fn new() -> Self {
        Formats {
            header: Format::new()
                .set_bold()
                .set_font_color(Color::White)
                .set_background_color(Color::RGB(HEADER_BLUE))
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_border_bottom(FormatBorder::Thin),
            text: Format::new().set_align(FormatAlign::Top),
            wrap: Format::new().set_align(FormatAlign::Top).set_text_wrap(),
            int: Format::new()
                .set_num_format("#,##0")
                .set_align(FormatAlign::Top),
            percent: Format::new()
                .set_num_format("0.0\"%\"")
                .set_align(FormatAlign::Top),
            date: Format::new()
                .set_num_format("dd-mm-yyyy")
                .set_align(FormatAlign::Top)
                .set_align(FormatAlign::Left),
            datetime: Format::new()
                .set_num_format("dd-mm-yyyy hh:mm")
                .set_align(FormatAlign::Top)
                .set_align(FormatAlign::Left),
        }
    }
}

/// Columns at least this wide wrap their text (messages, explanations).
const WRAP_WIDTH: f64 = 40.0;

/// A cell's style: what the column is formatted as, or what a cell needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Text,
    Wrap,
    Int,
    Percent,
    Date,
    DateTime,
}

impl Style {
    /// The style of a template column: text columns at least [`WRAP_WIDTH`] wide wrap.
    fn of_column(c: &ColumnSpec) -> Style {
        match c.format.as_str() {
            "int" => Style::Int,
            "percent" => Style::Percent,
            "date" => Style::Date,
            "datetime" => Style::DateTime,
            _ if c.width >= WRAP_WIDTH => Style::Wrap,
            _ => Style::Text,
        }
    }

    fn format(self, f: &Formats) -> &Format {
        match self {
            Style::Text => &f.text,
            Style::Wrap => &f.wrap,
            Style::Int => &f.int,
            Style::Percent => &f.percent,
            Style::Date => &f.date,
            Style::DateTime => &f.datetime,
        }
    }
}

/// Writes one cell. Every column carries its style as a column format, which the writer
/// gives to each cell written without one; a cell is written with an explicit format only
/// when its type differs from its column's (looking a format up costs a hash of the whole
/// format per cell, which on a million-row sheet was most of the writer's overhead).
fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    f: &Formats,
    column: Style,
) -> Result<()> {
    let own = |natural: Style| (natural != column).then(|| natural.format(f));
    match cell {
        Cell::Empty => {}
        // Always a string, never a formula: hostile tag values stay inert.
        Cell::Text(s) => {
            let text = clean_text_cow(s);
            let natural = if column == Style::Wrap {
                Style::Wrap
            } else {
                Style::Text
            };
            match own(natural) {
                Some(fmt) => ws.write_string_with_format(row, col, text.as_ref(), fmt)?,
                None => ws.write_string(row, col, text.as_ref())?,
            };
        }
        Cell::Int(n) => {
            match own(Style::Int) {
                Some(fmt) => ws.write_number_with_format(row, col, *n as f64, fmt)?,
                None => ws.write_number(row, col, *n as f64)?,
            };
        }
        Cell::Percent(p) => {
            match own(Style::Percent) {
                Some(fmt) => ws.write_number_with_format(row, col, *p, fmt)?,
                None => ws.write_number(row, col, *p)?,
            };
        }
        Cell::Date(d) => {
            match own(Style::Date) {
                Some(fmt) => ws.write_datetime_with_format(row, col, d, fmt)?,
                None => ws.write_datetime(row, col, d)?,
            };
        }
        Cell::DateTime(t) => {
            match own(Style::DateTime) {
                Some(fmt) => ws.write_datetime_with_format(row, col, t.naive_utc(), fmt)?,
                None => ws.write_datetime(row, col, t.naive_utc())?,
            };
        }
    }
    Ok(())
}

/// For each template column, the index of that key in the producer's row.
pub(super) fn projection(sheet: &SheetSpec) -> Result<Vec<usize>> {
    let keys = sheets::columns(&sheet.key)
        .with_context(|| format!("unknown sheet key '{}'", sheet.key))?;
    sheet
        .columns
        .iter()
        .map(|c| {
            keys.iter()
                .position(|k| *k == c.key)
                .with_context(|| format!("sheet '{}': unknown column '{}'", sheet.key, c.key))
        })
        .collect()
}

/// Writes the workbook to `path`.
pub fn write(d: &ReportData<'_>, template: &Template, path: &Path) -> Result<()> {
    let lang = d.ctx.lang;
    let f = Formats::new();
    let mut wb = Workbook::new();
    if let Some(dir) = path.parent() {
        // Constant-memory sheets spill to temporary files; keep them next to the output.
        let _ = wb.set_tempdir(dir);
    }
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!("{} {}", template.title(lang), d.year))
            .set_company(d.ctx.organisation)
            .set_author("cloudcensus")
            .set_comment(format!("cloudcensus {}", d.tool_version)),
    );
    for sheet in &template.sheets {
        let proj = projection(sheet)?;
        let ws = if IN_MEMORY.contains(&sheet.key.as_str()) {
            wb.add_worksheet()
        } else {
            wb.add_worksheet_with_constant_memory()?
        };
        ws.set_name(sheet.name(lang))?;
        // Print as an official would: A4 landscape, one page wide, header row repeated,
        // organisation and sheet in the header, page numbers in the footer.
        ws.set_paper_size(9)
            .set_landscape()
            .set_print_fit_to_pages(1, 0)
            .set_header(format!(
                "&L&8{} — {} {}&R&8{}",
                header_text(d.ctx.organisation),
                header_text(template.title(lang)),
                d.year,
                header_text(sheet.name(lang))
            ))
            .set_footer(match lang {
                crate::rules::Lang::Nl => "&L&8cloudcensus&R&8Pagina &P van &N",
                crate::rules::Lang::En => "&L&8cloudcensus&R&8Page &P of &N",
            });
        ws.set_repeat_rows(0, 0)?;
        let styles: Vec<Style> = sheet.columns.iter().map(Style::of_column).collect();
        for (i, c) in sheet.columns.iter().enumerate() {
            ws.set_column_width(i as u16, c.width)?;
            ws.set_column_format(i as u16, styles[i].format(&f))?;
        }
        ws.set_row_height(0, 30)?;
        for (i, c) in sheet.columns.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, c.header(lang), &f.header)?;
        }
        ws.set_freeze_panes(1, 0)?;
        let widths: Vec<f64> = sheet.columns.iter().map(|c| c.width).collect();
        let default_lines = sheet.row_lines.clamp(1, MAX_LINES);
        if default_lines > 1 {
            ws.set_default_row_height(row_height(default_lines));
        }
        let mut rows = RowWriter {
            proj: &proj,
            styles: &styles,
            widths: &widths,
            f: &f,
            row: 0,
            default_lines,
        };
        sheets::produce(d, &sheet.key, &mut |cells| rows.write(ws, &cells))?;
        let row = rows.row;
        let last_col = sheet.columns.len().saturating_sub(1) as u16;
        ws.autofilter(0, 0, row.max(1), last_col)?;
        if sheet.key == "summary" {
            summary_charts(d, ws, sheet, &f)?;
        }
        if sheet.key == "concentration" {
            concentration_chart(d, ws, sheet, &f)?;
        }
    }
    wb.save(path)
        .with_context(|| format!("cannot write workbook {}", path.display()))?;
    Ok(())
}

/// Wrapped cells taller than this many lines are cut off (the full text is in the cell).
const MAX_LINES: usize = 20;

/// Points for a row of `lines` lines.
fn row_height(lines: usize) -> f64 {
    15.0 * lines as f64
}

/// Writes a sheet's rows below the header.
///
/// Spreadsheet programs do not grow a row for wrapped text on their own when opening a
/// generated file, so a row whose wrapped text needs more lines than the sheet's
/// `row_lines` (the template's; the sheet's default height) gets a height of its own.
/// The writer keeps every such row in memory until it saves (~0.3 KiB each), which is
/// why long sheets set `row_lines` to what most of their rows need.
struct RowWriter<'a> {
    proj: &'a [usize],
    styles: &'a [Style],
    widths: &'a [f64],
    f: &'a Formats,
    /// The last row written.
    row: u32,
    /// Rows of up to this many lines need no height of their own.
    default_lines: usize,
}

impl RowWriter<'_> {
    /// Lines the row's tallest wrapped cell takes.
    fn lines(&self, cells: &[Cell]) -> usize {
        self.proj
            .iter()
            .enumerate()
            .filter(|(col, _)| self.styles[*col] == Style::Wrap)
            .map(|(col, &src)| match &cells[src] {
                Cell::Text(t) => wrapped_lines(t, self.widths[col]).min(MAX_LINES),
                _ => 1,
            })
            .max()
            .unwrap_or(1)
    }

    fn write(&mut self, ws: &mut Worksheet, cells: &[Cell]) -> Result<()> {
        self.row += 1;
        let lines = self.lines(cells);
        if lines > self.default_lines {
            ws.set_row_height(self.row, row_height(lines))?;
        }
        for (col, &src) in self.proj.iter().enumerate() {
            write_cell(
                ws,
                self.row,
                col as u16,
                &cells[src],
                self.f,
                self.styles[col],
            )?;
        }
        Ok(())
    }
}

/// How many lines `text` takes in a wrapped column `width` characters wide.
fn wrapped_lines(text: &str, width: f64) -> usize {
    let per_line = (width * 1.15).max(1.0) as usize;
    // Bytes bound characters: short text on one line needs no counting.
    if text.len() <= per_line && !text.contains('\n') {
        return 1;
    }
    text.split('\n')
        .map(|l| l.chars().count().div_ceil(per_line).max(1))
        .sum()
}

/// Text for a header/footer: `&` is a control character there.
fn header_text(s: &str) -> String {
    clean_text(s).replace('&', "&&")
}

/// Chart data next to the summary table, and two native charts: resources by location
/// class, and findings by severity per month.
fn summary_charts(
    d: &ReportData<'_>,
    ws: &mut Worksheet,
    sheet: &SheetSpec,
    f: &Formats,
) -> Result<()> {
    let lang = d.ctx.lang;
    let name = sheet.name(lang).to_string();
    let c0: u16 = sheet.columns.len() as u16 + 1;
    let l = |nl: &str, en: &str| match lang {
        crate::rules::Lang::Nl => nl.to_string(),
        crate::rules::Lang::En => en.to_string(),
    };
    ws.set_column_width(c0, 20)?;
    for j in 1..=5 {
        ws.set_column_width(c0 + j, 12)?;
    }
    ws.write_string_with_format(0, c0, l("Locatieklasse", "Location class"), &f.header)?;
    ws.write_string_with_format(0, c0 + 1, l("Resources", "Resources"), &f.header)?;
    for (i, c) in JurisdictionClass::ALL.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string_with_format(r, c0, class_name(lang, *c), &f.text)?;
        let n = d.eval.by_class.get(c).copied().unwrap_or(0);
        ws.write_number_with_format(r, c0 + 1, n as f64, &f.int)?;
    }
    let n_classes = JurisdictionClass::ALL.len() as u32;
    let mut pie = Chart::new(ChartType::Column);
    pie.title()
        .set_name(l("Resources per locatieklasse", "Resources by location class").as_str());
    pie.add_series()
        .set_categories((name.as_str(), 1, c0, n_classes, c0))
        .set_values((name.as_str(), 1, c0 + 1, n_classes, c0 + 1))
        .set_name(l("Resources", "Resources").as_str());
    pie.legend().set_hidden();
    // Charts go right of both data tables (class table 2 columns, monthly table 6).
    let chart_col = c0 + 7;
    ws.insert_chart(0, chart_col, &pie)?;

    // Monthly severities.
    let top = n_classes + 3;
    let months = sheets::monthly_severities(d);
    let sev: Vec<Severity> = Severity::ALL.iter().rev().copied().collect();
    ws.write_string_with_format(top, c0, l("Periode", "Period"), &f.header)?;
    for (j, s) in sev.iter().enumerate() {
        ws.write_string_with_format(top, c0 + 1 + j as u16, severity_name(lang, *s), &f.header)?;
    }
    for (i, (period, counts)) in months.iter().enumerate() {
        let r = top + 1 + i as u32;
        ws.write_string_with_format(r, c0, period, &f.text)?;
        for (j, s) in sev.iter().enumerate() {
            let n = counts.get(s).copied().unwrap_or(0);
            ws.write_number_with_format(r, c0 + 1 + j as u16, n as f64, &f.int)?;
        }
    }
    if !months.is_empty() {
        let last = top + months.len() as u32;
        let mut chart = Chart::new(ChartType::ColumnStacked);
        chart.title().set_name(
            l(
                "Bevindingen per ernst per maand",
                "Findings by severity per month",
            )
            .as_str(),
        );
        let colours = [0xB00020u32, 0xE17000, 0xF9E11E, 0x39870C, 0x8FCAE7];
        for (j, _) in sev.iter().enumerate() {
            let col = c0 + 1 + j as u16;
            chart
                .add_series()
                .set_name((name.as_str(), top, col))
                .set_categories((name.as_str(), top + 1, c0, last, c0))
                .set_values((name.as_str(), top + 1, col, last, col))
                .set_format(rust_xlsxwriter::ChartFormat::new().set_solid_fill(
                    rust_xlsxwriter::ChartSolidFill::new().set_color(Color::RGB(colours[j])),
                ));
        }
        ws.insert_chart(16, chart_col, &chart)?;
    }
    Ok(())
}

/// Beside the *Concentratie* table: per month the share of the material activities on
/// each provider, charted against the organisation's threshold (`max_provider_share`),
/// with the latest month's headline as the title.
fn concentration_chart(
    d: &ReportData<'_>,
    ws: &mut Worksheet,
    sheet: &SheetSpec,
    f: &Formats,
) -> Result<()> {
    let lang = d.ctx.lang;
    let name = sheet.name(lang).to_string();
    let l = |nl: &str, en: &str| match lang {
        crate::rules::Lang::Nl => nl.to_string(),
        crate::rules::Lang::En => en.to_string(),
    };
    // Below the table (a row per provider per month), so the chart never covers it.
    let providers = cloudcensus_core::Provider::ALL;
    let top = (d.scans.len() * providers.len()) as u32 + 3;
    let threshold = f64::from(d.ctx.rules.max_provider_share);
    ws.write_string_with_format(top, 0, l("Periode", "Period"), &f.header)?;
    for (j, p) in providers.iter().enumerate() {
        ws.write_string_with_format(top, 1 + j as u16, p.company(), &f.header)?;
    }
    let tcol = 1 + providers.len() as u16;
    ws.write_string_with_format(
        top,
        tcol,
        format!("{} ({threshold:.0} %)", l("Drempel", "Threshold")),
        &f.header,
    )?;
    for (i, s) in d.scans.iter().enumerate() {
        let r = top + 1 + i as u32;
        ws.write_string_with_format(r, 0, &s.period, &f.text)?;
        for (j, p) in providers.iter().enumerate() {
            let n = s
                .concentration
                .providers
                .iter()
                .find(|x| x.provider == *p)
                .map_or(0, |x| x.material);
            ws.write_number_with_format(r, 1 + j as u16, s.concentration.share(n), &f.percent)?;
        }
        ws.write_number_with_format(r, tcol, threshold, &f.percent)?;
    }
    if d.scans.is_empty() {
        return Ok(());
    }
    let last = top + d.scans.len() as u32;
    let title = match d
        .scans
        .last()
        .and_then(|s| sheets::concentration_headline(lang, s))
    {
        Some((share, _)) => match lang {
            crate::rules::Lang::Nl => {
                format!("{share:.0} % van de materiële verwerkingen bij één provider")
            }
            crate::rules::Lang::En => {
                format!("{share:.0} % of material activities depend on one provider")
            }
        },
        None => l(
            "Geen materiële verwerkingen in de publieke cloud",
            "No material activities in public cloud",
        ),
    };
    let mut chart = Chart::new(ChartType::Column);
    chart.title().set_name(title.as_str());
    let colours = [0xE17000u32, 0x01689B, 0x39870C];
    for (j, _) in providers.iter().enumerate() {
        let col = 1 + j as u16;
        chart
            .add_series()
            .set_name((name.as_str(), top, col))
            .set_categories((name.as_str(), top + 1, 0, last, 0))
            .set_values((name.as_str(), top + 1, col, last, col))
            .set_format(rust_xlsxwriter::ChartFormat::new().set_solid_fill(
                rust_xlsxwriter::ChartSolidFill::new().set_color(Color::RGB(colours[j % 3])),
            ));
    }
    chart
        .y_axis()
        .set_name(l("% van materiële verwerkingen", "% of material activities").as_str())
        .set_min(0)
        .set_max(100);
    let mut line = Chart::new(ChartType::Line);
    line.add_series()
        .set_name((name.as_str(), top, tcol))
        .set_categories((name.as_str(), top + 1, 0, last, 0))
        .set_values((name.as_str(), top + 1, tcol, last, tcol))
        .set_format(
            rust_xlsxwriter::ChartFormat::new().set_line(
                rust_xlsxwriter::ChartLine::new()
                    .set_color(Color::RGB(0xB00020))
                    .set_dash_type(rust_xlsxwriter::ChartLineDashType::Dash),
            ),
        );
    chart.combine(&line);
    chart.set_width(720).set_height(340);
    ws.insert_chart(last + 2, 0, &chart)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_carries_its_own_format_only_when_its_type_differs_from_its_column() {
        let f = Formats::new();
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_column_format(0, Style::Date.format(&f)).unwrap();
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        write_cell(ws, 1, 0, &Cell::Date(d), &f, Style::Date).unwrap();
        write_cell(ws, 2, 0, &Cell::Int(7), &f, Style::Date).unwrap();
        let dir = std::env::temp_dir().join(format!("cc-xlsx-style-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.xlsx");
        wb.save(&path).unwrap();
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(
            &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
            &mut xml,
        )
        .unwrap();
        std::fs::remove_dir_all(&dir).ok();
        // The date takes the column's style; the number gets a style of its own.
        let style = |cell: &str| {
            let at = xml.find(&format!("<c r=\"{cell}\"")).unwrap();
            let tag = &xml[at..at + xml[at..].find('>').unwrap()];
            tag.split("s=\"")
                .nth(1)
                .map(|s| s[..s.find('"').unwrap()].to_string())
        };
        assert!(style("A2").is_some());
        assert_ne!(style("A2"), style("A3"), "{xml}");
    }
}
