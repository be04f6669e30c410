//! Problems found while reading a register, and the error that carries them.
//!
//! A register is read in one pass that collects *every* problem (cargo-deny style), so a
//! ministry fixes its spreadsheet once instead of once per run. Each problem points at the
//! file, sheet, row and column (header name and spreadsheet letter) and quotes the value.

use std::fmt;

use serde::Serialize;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Loading still succeeds; the rules may turn the gap into a finding.
    Warning,
    /// The register cannot be loaded until this is fixed.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A column as the user sees it: the header text in the file and its letter (`A`, `AB`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnRef {
    /// The header as written in the file (or the documented Dutch header when the column
    /// is missing).
    pub header: String,
    /// The spreadsheet column letter, when the column exists.
    pub letter: Option<String>,
}

/// One problem in a register, with everything needed to find and fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The file as given on the command line.
    pub file: String,
    /// The sheet (XLSX only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// 1-based row as a spreadsheet shows it (header row included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// The column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<ColumnRef>,
    /// The offending cell value, as read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, ", sheet '{sheet}'")?;
        }
        if let Some(row) = self.row {
            // A JSON export has records, not rows.
            if self.file.to_ascii_lowercase().ends_with(".json") {
                write!(f, ", record {row}")?;
            } else {
                write!(f, ", row {row}")?;
            }
        }
        if let Some(col) = &self.column {
            match &col.letter {
                Some(letter) => write!(f, ", column {letter} '{}'", col.header)?,
                None if self.file.to_ascii_lowercase().ends_with(".json") => {
                    write!(f, ", key '{}'", col.header)?
                }
                None => write!(f, ", column '{}'", col.header)?,
            }
        }
        if let Some(value) = &self.value {
            write!(f, ", value '{value}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The register could not be loaded. Lists every error (and the warnings found on the
/// way); `Display` prints them one per line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", render(.file, .problems))]
pub struct RegisterError {
    /// The file as given.
    pub file: String,
    /// Every error, in file order.
    pub problems: Vec<Problem>,
    /// Warnings found while reading (for completeness; they do not cause the failure).
    pub warnings: Vec<Problem>,
}

fn render(file: &str, problems: &[Problem]) -> String {
    let mut s = format!(
        "register {file} cannot be loaded: {} problem{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        s.push('\n');
        s.push_str(&p.to_string());
    }
    s
}

/// The spreadsheet letter of a 0-based column index: 0 → `A`, 26 → `AA`.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_follow_the_spreadsheet() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn a_problem_names_file_sheet_row_column_and_value() {
        let p = Problem {
            severity: Severity::Error,
            file: "reg.xlsx".into(),
            sheet: Some("Register".into()),
            row: Some(7),
            column: Some(ColumnRef {
                header: "Rubricering".into(),
                letter: Some("L".into()),
            }),
            value: Some("geheim".into()),
            message: "unknown value".into(),
        };
        assert_eq!(
            p.to_string(),
            "error: reg.xlsx, sheet 'Register', row 7, column L 'Rubricering', value 'geheim': unknown value"
        );
    }

    #[test]
    fn the_error_lists_every_problem_one_per_line() {
        let p = |row| Problem {
            severity: Severity::Error,
            file: "r.csv".into(),
            sheet: None,
            row: Some(row),
            column: None,
            value: None,
            message: "bad".into(),
        };
        let e = RegisterError {
            file: "r.csv".into(),
            problems: vec![p(2), p(3)],
            warnings: vec![],
        };
        let s = e.to_string();
        assert_eq!(s.lines().count(), 3, "{s}");
        assert!(s.contains("2 problems"));
        assert!(s.contains("row 3"));
    }
}
