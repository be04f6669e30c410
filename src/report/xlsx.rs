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
use super::template::{SheetSpec, Template};
use crate::rules::Severity;

/// Sheets that can hold one row per resource or finding: written in constant-memory mode.
const LARGE: &[&str] = &["unregistered", "findings", "coverage"];

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

fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    f: &Formats,
    wrap: bool,
) -> Result<()> {
    match cell {
        Cell::Empty => {}
        // Always a string, never a formula: hostile tag values stay inert.
        Cell::Text(s) => {
            let fmt = if wrap { &f.wrap } else { &f.text };
            ws.write_string_with_format(row, col, clean_text_cow(s).as_ref(), fmt)?;
        }
        Cell::Int(n) => {
            ws.write_number_with_format(row, col, *n as f64, &f.int)?;
        }
        Cell::Percent(p) => {
            ws.write_number_with_format(row, col, *p, &f.percent)?;
        }
        Cell::Date(d) => {
            ws.write_datetime_with_format(row, col, d, &f.date)?;
        }
        Cell::DateTime(t) => {
            ws.write_datetime_with_format(row, col, t.naive_utc(), &f.datetime)?;
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
        let ws = if LARGE.contains(&sheet.key.as_str()) {
            wb.add_worksheet_with_constant_memory()?
        } else {
            wb.add_worksheet()
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
        let wraps: Vec<bool> = sheet
            .columns
            .iter()
            .map(|c| c.format == "text" && c.width >= WRAP_WIDTH)
            .collect();
        for (i, c) in sheet.columns.iter().enumerate() {
            ws.set_column_width(i as u16, c.width)?;
        }
        ws.set_row_height(0, 30)?;
        for (i, c) in sheet.columns.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, c.header(lang), &f.header)?;
        }
        ws.set_freeze_panes(1, 0)?;
        let mut row: u32 = 0;
        let widths: Vec<f64> = sheet.columns.iter().map(|c| c.width).collect();
        sheets::produce(d, &sheet.key, &mut |cells| {
            row += 1;
            // Spreadsheet programs do not grow a row for wrapped text on their own when
            // opening a generated file; set the height from the longest wrapped cell.
            let lines = proj
                .iter()
                .enumerate()
                .filter(|(col, _)| wraps[*col])
                .map(|(col, &src)| match &cells[src] {
                    Cell::Text(t) => wrapped_lines(t, widths[col]),
                    _ => 1,
                })
                .max()
                .unwrap_or(1);
            if lines > 1 {
                ws.set_row_height(row, 15.0 * lines.min(20) as f64)?;
            }
            for (col, &src) in proj.iter().enumerate() {
                write_cell(ws, row, col as u16, &cells[src], &f, wraps[col])?;
            }
            Ok(())
        })?;
        let last_col = sheet.columns.len().saturating_sub(1) as u16;
        ws.autofilter(0, 0, row.max(1), last_col)?;
        if sheet.key == "summary" {
            summary_charts(d, ws, sheet, &f)?;
        }
    }
    wb.save(path)
        .with_context(|| format!("cannot write workbook {}", path.display()))?;
    Ok(())
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
