//! The register of processing activities (verwerkingsregister, GDPR art. 30).
//!
//! Ministries keep it in Excel; cloudcensus reads it (CSV or XLSX) and holds the scan
//! against it. [`model`] is the parsed form every other part of the tool uses; [`load`] is
//! the one way in: it reads, validates and returns the register with its warnings, or
//! every problem at once. The format is documented in `docs/register.md`.

pub mod annex;
pub mod avgr;
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
#[cfg(test)]
pub(crate) mod sources_tests;

use std::path::Path;

pub use model::*;
pub use problem::{ColumnRef, Problem, RegisterError, Severity};
pub use scope::ScopeMapping;
pub use validate::{ColumnMapping, Options};

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
    /// An AVG Register Rijksoverheid export: the ZIP, or one of its JSON files.
    AvgRegisterExport,
}

impl Format {
    /// The format of `path` by its extension.
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Some(Format::Spreadsheet),
            "zip" | "json" => Some(Format::AvgRegisterExport),
            _ => None,
        }
    }
}

/// Everything that says how to read a ministry's register (from the configuration).
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// Sheet of the register workbook (default the first).
    pub sheet: Option<String>,
    /// The register's own column names (`[register_columns]`).
    pub columns: ColumnMapping,
    /// The cloud annex (`register_annex`), joined on the activity number.
    pub annex: Option<std::path::PathBuf>,
    /// Sheet of the annex workbook.
    pub annex_sheet: Option<String>,
}

/// Reads the register at `path` and, when `source.annex` names one, the cloud annex,
/// joined on the activity number. Fails with every problem of both files at once.
pub fn load_source(path: &Path, source: &Source) -> Result<Loaded, RegisterError> {
    let opts = Options {
        columns: source.columns.clone(),
        annex: false,
    };
    let mut loaded = load_with(path, source.sheet.as_deref(), &opts)?;
    let Some(annex_path) = &source.annex else {
        loaded.warnings.extend(unfilled_summary(&loaded.register));
        return Ok(loaded);
    };
    let annex_opts = Options {
        columns: source.columns.clone(),
        annex: true,
    };
    let file = annex_path.display().to_string();
    let annex = read_outcome(annex_path, source.annex_sheet.as_deref(), &annex_opts)?;
    let mut errors = annex.errors.clone();
    let mut warnings = loaded.warnings.clone();
    warnings.extend(annex.warnings.clone());
    if errors.is_empty() {
        let (e, w) = annex::apply(&mut loaded.register, &annex, &file);
        errors.extend(e);
        warnings.extend(w);
    }
    if errors.is_empty() {
        warnings.extend(unfilled_summary(&loaded.register));
        loaded.warnings = warnings;
        Ok(loaded)
    } else {
        Err(RegisterError {
            file,
            problems: errors,
            warnings,
        })
    }
}

/// One warning per fact (not per row) for the facts the register and annex together left
/// unfilled, saying how they count.
fn unfilled_summary(register: &Register) -> Vec<Problem> {
    use columns::{Field, column};
    let facts: &[(Fact, Field, &str)] = &[
        (
            Fact::Classification,
            Field::Classification,
            "they count as unknown classification and the rules report it (CB-FACTS)",
        ),
        (
            Fact::Material,
            Field::Material,
            "they count as material cloud use and the rules report it (CB-FACTS)",
        ),
        (
            Fact::PersonalData,
            Field::PersonalData,
            "they count as processing personal data",
        ),
        (
            Fact::LegalBasis,
            Field::LegalBasis,
            "no lawful basis (art. 6 AVG) is recorded for them",
        ),
    ];
    let mut out = Vec::new();
    for (fact, field, then) in facts {
        let rows: Vec<&Activity> = register
            .activities
            .iter()
            .filter(|a| a.is_unfilled(*fact))
            .filter(|a| *fact != Fact::LegalBasis || a.personal_data)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let shown: Vec<&str> = rows.iter().take(10).map(|a| a.id.as_str()).collect();
        let more = if rows.len() > 10 { ", ..." } else { "" };
        out.push(Problem {
            severity: Severity::Warning,
            file: register.source.clone(),
            sheet: None,
            row: None,
            column: Some(ColumnRef {
                header: column(*field).header.to_string(),
                letter: None,
            }),
            value: None,
            message: format!(
                "{} not filled in for {} activit{} ({}{more}); {then}; fill it in in the register or the cloud annex",
                column(*field).header,
                rows.len(),
                if rows.len() == 1 { "y" } else { "ies" },
                shown.join(", ")
            ),
        });
    }
    out
}

/// Reads and validates the register at `path` (`.csv`, `.xlsx`, or an AVG Register
/// Rijksoverheid export; `sheet` picks a sheet, default the first). Fails with every
/// problem found, each naming file, sheet, row and column.
pub fn load(path: &Path, sheet: Option<&str>) -> Result<Loaded, RegisterError> {
    load_source(
        path,
        &Source {
            sheet: sheet.map(str::to_string),
            ..Source::default()
        },
    )
}

/// [`load`] with options.
pub fn load_with(
    path: &Path,
    sheet: Option<&str>,
    opts: &Options,
) -> Result<Loaded, RegisterError> {
    let file = path.display().to_string();
    into_loaded(&file, read_outcome(path, sheet, opts)?)
}

fn into_loaded(file: &str, out: validate::Outcome) -> Result<Loaded, RegisterError> {
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

/// Reads and validates one file into an outcome (errors are in it, not returned), or
/// fails when the file cannot be read at all.
fn read_outcome(
    path: &Path,
    sheet: Option<&str>,
    opts: &Options,
) -> Result<validate::Outcome, RegisterError> {
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
            "unknown file type: a register is a .csv or .xlsx file, or an AVG Register \
             Rijksoverheid export (.zip or .json)"
                .to_string(),
        ));
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    outcome_of_bytes(&file, bytes, format, sheet, opts)
}

/// [`load`] on bytes already read; `file` is the name used in messages.
pub fn load_bytes(
    file: &str,
    bytes: Vec<u8>,
    format: Format,
    sheet: Option<&str>,
) -> Result<Loaded, RegisterError> {
    into_loaded(
        file,
        outcome_of_bytes(file, bytes, format, sheet, &Options::default())?,
    )
}

fn outcome_of_bytes(
    file: &str,
    bytes: Vec<u8>,
    format: Format,
    sheet: Option<&str>,
    opts: &Options,
) -> Result<validate::Outcome, RegisterError> {
    if format == Format::AvgRegisterExport {
        if opts.annex {
            return Err(RegisterError {
                file: file.to_string(),
                problems: vec![Problem {
                    severity: Severity::Error,
                    file: file.to_string(),
                    sheet: None,
                    row: None,
                    column: None,
                    value: None,
                    message:
                        "the cloud annex is a spreadsheet or CSV (`cloudcensus register annex` \
                              writes one), not a register export"
                            .into(),
                }],
                warnings: Vec::new(),
            });
        }
        return Ok(avgr::read(file, &bytes));
    }
    let grid = match format {
        Format::AvgRegisterExport => unreachable!("handled above"),
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
    let out = validate::validate_with(&grid, file, opts);
    tracing::debug!(
        file,
        activities = out.register.activities.len(),
        errors = out.errors.len(),
        warnings = out.warnings.len(),
        "register read"
    );
    Ok(out)
}
