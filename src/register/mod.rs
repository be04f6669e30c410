//! The register of processing activities (verwerkingsregister, GDPR art. 30).
//!
//! Ministries keep it in Excel; cloudcensus reads it (CSV or XLSX) and holds the scan
//! against it. [`model`] is the parsed form every other part of the tool uses; [`load`] is
//! the one way in: it reads, validates and returns the register with its warnings, or
//! every problem at once. The format is documented in `docs/register.md`.

pub mod columns;
pub mod model;
pub mod problem;
pub mod read;
pub mod scope;
pub mod template;
pub mod validate;
pub mod values;

#[cfg(test)]
mod fuzz_tests;

use std::path::Path;

pub use model::*;
pub use problem::{ColumnRef, Problem, RegisterError, Severity};
pub use scope::ScopeMapping;

/// A register that loaded, with the warnings found on the way (gaps the rules report).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The register.
    pub register: Register,
    /// Warnings; they do not prevent loading.
    pub warnings: Vec<Problem>,
}

/// The file formats a register can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma- or semicolon-separated text.
    Csv,
    /// A spreadsheet (XLSX, also XLSM/XLSB/XLS/ODS).
    Spreadsheet,
}

impl Format {
    /// The format of `path` by its extension.
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Some(Format::Spreadsheet),
            _ => None,
        }
    }
}

/// Reads and validates the register at `path` (`.csv` or `.xlsx`; `sheet` picks a sheet,
/// default the first). Fails with every problem found, each naming file, sheet, row and
/// column.
pub fn load(path: &Path, sheet: Option<&str>) -> Result<Loaded, RegisterError> {
    let file = path.display().to_string();
    let fail = |message: String| RegisterError {
        file: file.clone(),
        problems: vec![Problem {
            severity: Severity::Error,
            file: file.clone(),
            sheet: sheet.map(str::to_string),
            row: None,
            column: None,
            value: None,
            message,
        }],
        warnings: Vec::new(),
    };
    let Some(format) = Format::of(path) else {
        return Err(fail(
            "unknown file type: a register is a .csv or .xlsx file".to_string(),
        ));
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    load_bytes(&file, bytes, format, sheet)
}

/// [`load`] on bytes already read; `file` is the name used in messages.
pub fn load_bytes(
    file: &str,
    bytes: Vec<u8>,
    format: Format,
    sheet: Option<&str>,
) -> Result<Loaded, RegisterError> {
    let grid = match format {
        Format::Csv if sheet.is_some() => {
            Err("--sheet applies to spreadsheets only; a CSV file has one table".to_string())
        }
        Format::Csv => read::read_csv(&bytes),
        Format::Spreadsheet => read::read_workbook(bytes, sheet),
    };
    let grid = grid.map_err(|message| RegisterError {
        file: file.to_string(),
        problems: vec![Problem {
            severity: Severity::Error,
            file: file.to_string(),
            sheet: sheet.map(str::to_string),
            row: None,
            column: None,
            value: None,
            message,
        }],
        warnings: Vec::new(),
    })?;
    let out = validate::validate(&grid, file);
    tracing::debug!(
        file,
        activities = out.register.activities.len(),
        errors = out.errors.len(),
        warnings = out.warnings.len(),
        "register read"
    );
    if out.errors.is_empty() {
        Ok(Loaded {
            register: out.register,
            warnings: out.warnings,
        })
    } else {
        Err(RegisterError {
            file: file.to_string(),
            problems: out.errors,
            warnings: out.warnings,
        })
    }
}
