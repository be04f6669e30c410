//! `cloudcensus register check FILE` and `cloudcensus register template --out FILE.xlsx`.
//!
//! `check` is what a privacy officer runs after editing the register: every problem at
//! once, then one summary line; exit 0 when the register loads (warnings allowed), 1 when
//! it does not. `template` writes the blank workbook to start from.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use crate::cli::Cli;
use crate::register::{self, Problem};

/// Arguments of `cloudcensus register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(subcommand)]
    pub command: RegisterCommand,
}

/// The `register` subcommands.
#[derive(Debug, Subcommand)]
pub enum RegisterCommand {
    /// Validate a register (.csv or .xlsx): list every problem, then a summary line.
    /// Exit 0 when it loads (warnings allowed), 1 when it does not.
    Check(CheckArgs),
    /// Write a blank register workbook: headers, notes per column, drop-downs.
    Template(TemplateArgs),
}

/// Output of `register check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// One line per problem and a summary.
    Text,
    /// One JSON object: file, loadable, activities, errors, warnings.
    Json,
}

/// Arguments of `cloudcensus register check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The register: .csv (UTF-8, `,` or `;`) or .xlsx.
    pub file: PathBuf,
    /// The sheet to read (XLSX); default the first sheet.
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

/// Arguments of `cloudcensus register template`.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Where to write the workbook (.xlsx).
    #[arg(long, value_name = "FILE.xlsx")]
    pub out: PathBuf,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Runs `cloudcensus register ...`.
pub fn run(_cli: &Cli, args: &RegisterArgs, out: &mut dyn Write) -> Result<ExitCode> {
    match &args.command {
        RegisterCommand::Check(a) => check(a, out),
        RegisterCommand::Template(a) => template(a, out),
    }
}

#[derive(Serialize)]
struct CheckReport<'a> {
    file: String,
    loadable: bool,
    activities: usize,
    errors: &'a [Problem],
    warnings: &'a [Problem],
}

fn check(args: &CheckArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let file = args.file.display().to_string();
    let (activities, errors, warnings) = match register::load(&args.file, args.sheet.as_deref()) {
        Ok(l) => (l.register.activities.len(), Vec::new(), l.warnings),
        Err(e) => (0, e.problems, e.warnings),
    };
    let loadable = errors.is_empty();
    match args.format {
        CheckFormat::Json => {
            let report = CheckReport {
                file: file.clone(),
                loadable,
                activities,
                errors: &errors,
                warnings: &warnings,
            };
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        CheckFormat::Text => {
            for p in errors.iter().chain(&warnings) {
                writeln!(out, "{p}")?;
            }
            let plural = |n: usize, s: &str| format!("{n} {s}{}", if n == 1 { "" } else { "s" });
            if loadable {
                writeln!(
                    out,
                    "{file}: OK, {}, {}",
                    plural(activities, "activity").replace("activitys", "activities"),
                    plural(warnings.len(), "warning")
                )?;
            } else {
                writeln!(
                    out,
                    "{file}: NOT LOADABLE, {}, {}",
                    plural(errors.len(), "error"),
                    plural(warnings.len(), "warning")
                )?;
            }
        }
    }
    Ok(if loadable {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn template(args: &TemplateArgs, out: &mut dyn Write) -> Result<ExitCode> {
    if args.out.exists() && !args.force {
        bail!(
            "{} exists; choose another --out or pass --force to overwrite it",
            args.out.display()
        );
    }
    register::template::write_template(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    writeln!(
        out,
        "wrote {} ({} columns); fill it in and run `cloudcensus register check {}`",
        args.out.display(),
        register::columns::COLUMNS.len(),
        args.out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}
