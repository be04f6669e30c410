//! Reading a CSV or spreadsheet into a grid of cells, before any meaning is given to them.
//!
//! Both readers produce the same [`Grid`], and one validator turns a grid into a
//! [`Register`](super::Register); that is what makes CSV and XLSX load to the same model.
//! Rows are numbered as a spreadsheet shows them (1-based, header included), columns by
//! 0-based index (shown as letters in messages).

use std::io::Cursor;

use calamine::{Data, DataType, Reader};
use chrono::NaiveDate;

/// One cell as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Empty.
    Empty,
    /// Text (CSV cells are always text).
    Text(String),
    /// A number cell (XLSX).
    Number(f64),
    /// A boolean cell (XLSX).
    Bool(bool),
    /// A date cell (XLSX).
    Date(NaiveDate),
    /// An Excel error value such as `#N/A`.
    Error(String),
}

impl Cell {
    /// Whether the cell holds nothing but whitespace.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text, the way the user sees it: whole numbers without `.0`, dates ISO,
    /// booleans `true`/`false`.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Cell::Number(f) => f.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Error(e) => e.clone(),
        }
    }
}

/// One row: its spreadsheet number and its cells from column A on.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based row number.
    pub number: usize,
    /// Cells, column A first.
    pub cells: Vec<Cell>,
}

impl Row {
    /// Whether every cell is blank.
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(Cell::is_blank)
    }

    /// The cell in column `i` (empty beyond the end).
    pub fn cell(&self, i: usize) -> &Cell {
        self.cells.get(i).unwrap_or(&Cell::Empty)
    }
}

/// A whole sheet (or CSV file) as rows of cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid {
    /// The sheet name (XLSX) or `None` (CSV).
    pub sheet: Option<String>,
    /// The rows in order; rows may be blank.
    pub rows: Vec<Row>,
}

/// Reads CSV bytes: UTF-8 with or without BOM, `,` or `;` separated (detected from the
/// header line), quoted cells may span lines.
pub fn read_csv(bytes: &[u8]) -> Result<Grid, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        let at = e.valid_up_to();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(format!(
            "the file is not UTF-8 (first bad byte at line {line}, byte {at}); save it as \
             'CSV UTF-8' in Excel, or use the .xlsx file"
        ));
    }
    let delimiter = detect_delimiter(bytes);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for (i, rec) in rdr.byte_records().enumerate() {
        let rec = rec.map_err(|e| format!("record {}: {e}", i + 1))?;
        let cells = rec
            .iter()
            .map(|f| {
                let s = String::from_utf8_lossy(f).into_owned();
                if s.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(s)
                }
            })
            .collect();
        rows.push(Row {
            number: i + 1,
            cells,
        });
    }
    Ok(Grid { sheet: None, rows })
}

/// The separator of the line (among the first 20, outside quotes) with the most `;` or `,`:
/// that is the header row even when a title line sits above it. Dutch Excel writes `;`.
fn detect_delimiter(bytes: &[u8]) -> u8 {
    let (mut best, mut best_count) = (b',', 0usize);
    let (mut commas, mut semis, mut quoted, mut lines) = (0usize, 0usize, false, 0usize);
    for &b in bytes.iter().chain(std::iter::once(&b'\n')) {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                if semis.max(commas) > best_count {
                    best_count = semis.max(commas);
                    best = if semis > commas { b';' } else { b',' };
                }
                (commas, semis) = (0, 0);
                lines += 1;
                if lines == 20 {
                    break;
                }
            }
            b',' if !quoted => commas += 1,
            b';' if !quoted => semis += 1,
            _ => {}
        }
    }
    best
}

/// Reads one sheet of a spreadsheet (XLSX; also XLSM, XLSB, XLS, ODS through calamine):
/// the named sheet, or the first one.
pub fn read_workbook(bytes: Vec<u8>, sheet: Option<&str>) -> Result<Grid, String> {
    // A damaged or hostile file must be an error, never a crash: the spreadsheet reader
    // is third-party code, so a panic inside it is caught and reported like any other
    // unreadable workbook.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_workbook_inner(bytes, sheet)))
        .unwrap_or_else(|_| {
            Err("cannot read the workbook: the file is damaged (the spreadsheet reader gave up on it); open it in Excel or LibreOffice and save it again, or export the sheet as CSV".to_string())
        })
}

fn read_workbook_inner(bytes: Vec<u8>, sheet: Option<&str>) -> Result<Grid, String> {
    let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| format!("cannot open the workbook: {e}"))?;
    let names = wb.sheet_names();
    let name = match sheet {
        Some(want) => names
            .iter()
            .find(|n| n.as_str() == want)
            .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(want)))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "the workbook has no sheet '{want}'; its sheets are: {}",
                    names.join(", ")
                )
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| "the workbook has no sheets".to_string())?,
    };
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| format!("cannot read sheet '{name}': {e}"))?;
    let (row0, col0) = range.start().unwrap_or((0, 0));
    // Excel's limits: 1 048 576 rows × 16 384 columns. Beyond them the file is damaged.
    if col0 >= 16_384 || row0 >= 1_048_576 {
        return Err(format!(
            "cannot read sheet '{name}': it claims to start at row {} column {}, beyond Excel's limits; the file is damaged",
            row0 as u64 + 1,
            col0 as u64 + 1
        ));
    }
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, r)| {
            let mut cells = vec![Cell::Empty; col0 as usize];
            cells.extend(r.iter().map(convert));
            Row {
                number: row0 as usize + i + 1,
                cells,
            }
        })
        .collect();
    Ok(Grid {
        sheet: Some(name),
        rows,
    })
}

fn convert(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => {
            if s.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(s.clone())
            }
        }
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(_) | Data::DateTimeIso(_) => match d.as_date() {
            Some(date) => Cell::Date(date),
            None => Cell::Text(d.to_string()),
        },
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(format!("#{e:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_detects_semicolons_and_strips_the_bom() {
        let g = read_csv(b"\xEF\xBB\xBFa;b\n1;\"x;y\"\n").unwrap();
        assert_eq!(g.rows.len(), 2);
        assert_eq!(
            g.rows[0].cells,
            [Cell::Text("a".into()), Cell::Text("b".into())]
        );
        assert_eq!(g.rows[1].cell(1), &Cell::Text("x;y".into()));
        assert_eq!(g.rows[1].number, 2);
    }

    #[test]
    fn csv_with_commas_and_multiline_cells_keeps_record_numbers() {
        let g = read_csv(b"a,b\n\"line1\nline2\",2\n3,4\n").unwrap();
        assert_eq!(g.rows[2].number, 3);
        assert_eq!(g.rows[1].cell(0).text(), "line1\nline2");
    }

    #[test]
    fn the_separator_comes_from_the_header_not_a_title_line() {
        assert_eq!(
            detect_delimiter(b"Register, versie 2\na;b;c;d\n1;2;3;4\n"),
            b';'
        );
        assert_eq!(detect_delimiter(b"a,b,c\n\"x;y;z;w\",2,3\n"), b',');
        assert_eq!(detect_delimiter(b""), b',');
    }

    #[test]
    fn non_utf8_csv_says_how_to_save_it() {
        let err = read_csv(b"naam\ncaf\xe9\n").unwrap_err();
        assert!(err.contains("line 2") && err.contains("CSV UTF-8"), "{err}");
    }

    #[test]
    fn a_missing_sheet_lists_the_sheets_there_are() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.add_worksheet().set_name("Register").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let err = read_workbook(bytes, Some("Verwerkingen")).unwrap_err();
        assert!(
            err.contains("'Verwerkingen'") && err.contains("Register"),
            "{err}"
        );
    }

    #[test]
    fn workbook_cells_keep_their_position_and_type() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write(2, 1, "id").unwrap();
        ws.write(3, 1, 17).unwrap();
        ws.write(3, 2, true).unwrap();
        let fmt = rust_xlsxwriter::Format::new().set_num_format("dd-mm-yyyy");
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 3, 14).unwrap();
        ws.write_date_with_format(3, 3, &date, &fmt).unwrap();
        let g = read_workbook(wb.save_to_buffer().unwrap(), None).unwrap();
        assert_eq!(g.rows[0].number, 3);
        assert_eq!(g.rows[0].cell(1), &Cell::Text("id".into()));
        assert_eq!(g.rows[1].cell(1).text(), "17");
        assert_eq!(g.rows[1].cell(2), &Cell::Bool(true));
        assert_eq!(
            g.rows[1].cell(3),
            &Cell::Date(NaiveDate::from_ymd_opt(2025, 3, 14).unwrap())
        );
    }
}
