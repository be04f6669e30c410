//! Writing register workbooks: the blank template, and a register with rows (used to
//! produce `examples/register.xlsx` from `examples/register.csv`).
//!
//! The template is how a ministry starts: Dutch headers in the documented order, a note on
//! each header saying what to write, a frozen header row, sensible widths, and a drop-down
//! on every yes/no and fixed-choice column so most mistakes cannot be typed in the first
//! place. What the drop-downs cannot catch, `register check` does.

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, DocProperties, ExcelDateTime, Format, FormatAlign,
    Note, Workbook, XlsxError,
};

use super::columns::{COLUMNS, Column, Kind};
use super::read::{Cell, Grid};
use super::values::parse_date;

/// The register sheet's name.
pub const SHEET_NAME: &str = "Verwerkingsregister";

/// How many rows below the header get drop-downs and date formatting.
pub const TEMPLATE_ROWS: u32 = 1000;

const DATE_FORMAT: &str = "dd-mm-yyyy";

fn note_text(c: &Column) -> String {
    let mut s = format!("{} (English: {})\n\n{}", c.header, c.alias, c.help);
    let choices = c.choices();
    if !choices.is_empty() {
        s.push_str(&format!("\n\nWaarden / values: {}", choices.join(" | ")));
    }
    s.push_str(&format!(
        "\n\nVoorbeeld / example: {}\n{}",
        c.example,
        if c.required {
            "Verplichte kolom / required column."
        } else {
            "Optionele kolom / optional column."
        }
    ));
    s
}

fn validation(c: &Column) -> Result<Option<DataValidation>, XlsxError> {
    let choices = c.choices();
    if choices.is_empty() {
        return Ok(None);
    }
    let multi = c.kind == Kind::MultiChoice;
    let v = DataValidation::new()
        .allow_list_strings(&choices)?
        .set_input_title(truncate(c.header, 32))?
        .set_input_message(truncate(
            if multi {
                "Kies een waarde, of typ er meer gescheiden door ; / pick one, or type several separated by ;"
            } else {
                "Kies uit de lijst / pick from the list"
            },
            255,
        ))?
        .set_error_title("Onbekende waarde / unknown value")?
        .set_error_message(truncate(
            &format!("Toegestaan / allowed: {}", choices.join(", ")),
            255,
        ))?
        // Several values (`gezondheid; biometrische gegevens`) must stay possible.
        .set_error_style(if multi {
            DataValidationErrorStyle::Information
        } else {
            DataValidationErrorStyle::Stop
        });
    Ok(Some(v))
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn excel_date(d: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
}

/// A register workbook: the template layout, with `rows` (cells in [`COLUMNS`] order)
/// below the header. Dates are written as real Excel dates.
pub fn workbook(rows: &[Vec<Cell>]) -> Result<Workbook, XlsxError> {
    let columns: Vec<&Column> = COLUMNS.iter().collect();
    workbook_of(&columns, SHEET_NAME, rows)
}

/// The annex sheet's name.
pub const ANNEX_SHEET_NAME: &str = "Cloudbijlage";

/// The cloud annex (`register annex`): the id and name of every activity of `register`,
/// and an empty, drop-down-guarded column for each cloud fact the policy asks for.
pub fn annex_workbook(register: &super::Register) -> Result<Workbook, XlsxError> {
    use super::columns::{ANNEX_FIELDS, Field, column};
    let mut columns: Vec<&Column> = vec![column(Field::Id), column(Field::Name)];
    columns.extend(ANNEX_FIELDS.iter().map(|f| column(*f)));
    let rows: Vec<Vec<Cell>> = register
        .activities
        .iter()
        .map(|a| vec![Cell::Text(a.id.clone()), Cell::Text(a.name.clone())])
        .collect();
    workbook_of(&columns, ANNEX_SHEET_NAME, &rows)
}

fn workbook_of(
    columns: &[&Column],
    sheet: &str,
    rows: &[Vec<Cell>],
) -> Result<Workbook, XlsxError> {
    let mut wb = Workbook::new();
    // A fixed creation time keeps regenerated files byte-stable.
    let created = ExcelDateTime::from_ymd(2026, 1, 1)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title("Register van verwerkingsactiviteiten")
            .set_author("cloudcensus")
            .set_creation_datetime(&created),
    );
    let header_fmt = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_background_color(0xDDEBF7);
    let date_fmt = Format::new().set_num_format(DATE_FORMAT);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let ws = wb.add_worksheet();
    ws.set_name(sheet)?;
    for (i, c) in columns.iter().enumerate() {
        let col = i as u16;
        ws.set_column_width(col, c.width)?;
        if c.kind == Kind::Date {
            ws.set_column_format(col, &date_fmt)?;
        }
        ws.write_with_format(0, col, c.header, &header_fmt)?;
        ws.insert_note(
            0,
            col,
            &Note::new(note_text(c))
                .set_author("cloudcensus")
                .add_author_prefix(false)
                .set_width(360)
                .set_height(220),
        )?;
        if let Some(v) = validation(c)? {
            ws.add_data_validation(1, col, TEMPLATE_ROWS, col, &v)?;
        }
    }
    ws.set_row_height(0, 45)?;
    ws.set_freeze_panes(1, 1)?;
    ws.autofilter(0, 0, TEMPLATE_ROWS, (columns.len() - 1) as u16)?;
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => {
                    ws.write_with_format(r, c, s.as_str(), &wrap)?;
                }
                Cell::Number(n) => {
                    ws.write(r, c, *n)?;
                }
                Cell::Bool(b) => {
                    ws.write(r, c, *b)?;
                }
                Cell::Date(d) => {
                    ws.write_date_with_format(r, c, &excel_date(*d)?, &date_fmt)?;
                }
                Cell::Error(e) => {
                    ws.write(r, c, e.as_str())?;
                }
            }
        }
    }
    Ok(wb)
}

/// The data rows of `grid` rearranged into [`COLUMNS`] order (by header), with text in
/// date columns turned into date cells, ready for [`workbook`]. Converts a CSV register
/// into a workbook; columns the format does not know are dropped.
pub fn rows_in_template_order(grid: &Grid) -> Vec<Vec<Cell>> {
    let Some((header, data)) = grid.rows.split_first() else {
        return Vec::new();
    };
    let positions: Vec<Option<usize>> = COLUMNS
        .iter()
        .map(|c| {
            header
                .cells
                .iter()
                .position(|h| matches!(h, Cell::Text(t) if c.matches(t)))
        })
        .collect();
    data.iter()
        .map(|row| {
            COLUMNS
                .iter()
                .zip(&positions)
                .map(|(c, pos)| {
                    let cell = pos.map(|i| row.cell(i).clone()).unwrap_or(Cell::Empty);
                    match (&cell, c.kind) {
                        (Cell::Text(t), Kind::Date) => {
                            parse_date(t).map(Cell::Date).unwrap_or(cell)
                        }
                        _ => cell,
                    }
                })
                .collect()
        })
        .collect()
}

/// Writes the blank template to `path`.
pub fn write_template(path: &Path) -> Result<(), XlsxError> {
    workbook(&[])?.save(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::{Format as RegFormat, load_bytes};

    #[test]
    fn every_drop_down_fits_excels_limit() {
        for c in COLUMNS {
            validation(c).unwrap_or_else(|e| panic!("{}: {e}", c.header));
        }
    }

    #[test]
    fn the_blank_template_loads_as_an_empty_register() {
        let bytes = workbook(&[]).unwrap().save_to_buffer().unwrap();
        let loaded = load_bytes("template.xlsx", bytes, RegFormat::Spreadsheet, None).unwrap();
        assert!(loaded.register.activities.is_empty());
        assert!(
            loaded
                .warnings
                .iter()
                .any(|w| w.message.contains("no activities")),
            "{:?}",
            loaded.warnings
        );
        // Every column is present: no "missing column" warning.
        assert!(
            !loaded
                .warnings
                .iter()
                .any(|w| w.message.contains("missing"))
        );
    }
}
