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
    /// Write the cloud annex for a register: every activity's number and name, and a
    /// drop-down-guarded column for each cloud fact the policy asks for (classification,
    /// material use, provider, locations, DPIA and CIO Rijk dates, exit, audit, C2000, ...).
    Annex(AnnexArgs),
}

/// Arguments of `cloudcensus register annex`.
#[derive(Debug, Args)]
pub struct AnnexArgs {
    /// The register (.csv, .xlsx, or an AVG Register Rijksoverheid export .zip/.json).
    pub register: PathBuf,
    /// Where to write the annex (.xlsx).
    #[arg(long, value_name = "FILE.xlsx")]
    pub out: PathBuf,
    /// The sheet of the register to read (XLSX); default the first sheet.
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
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
    /// The register: .csv (UTF-8, `,` or `;`), .xlsx, or an AVG Register Rijksoverheid
    /// export (.zip, or one of its .json files).
    pub file: PathBuf,
    /// The sheet to read (XLSX); default the first sheet.
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// The cloud annex to join on the activity number (.csv or .xlsx).
    #[arg(long, value_name = "FILE")]
    pub annex: Option<PathBuf>,
    /// Use the configuration's `[register_columns]`, `register_annex` and sheets (the
    /// configuration file given with --config, default cloudcensus.toml, when it exists).
    #[arg(long)]
    pub with_config: bool,
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
pub fn run(cli: &Cli, args: &RegisterArgs, out: &mut dyn Write) -> Result<ExitCode> {
    match &args.command {
        RegisterCommand::Check(a) => check(cli, a, out),
        RegisterCommand::Template(a) => template(a, out),
        RegisterCommand::Annex(a) => annex(a, out),
    }
}

fn annex(args: &AnnexArgs, out: &mut dyn Write) -> Result<ExitCode> {
    if args.out.exists() && !args.force {
        bail!(
            "{} exists; choose another --out or pass --force to overwrite it",
            args.out.display()
        );
    }
    let loaded = match register::load(&args.register, args.sheet.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            for p in &e.problems {
                writeln!(out, "{p}")?;
            }
            bail!(
                "the register {} does not load ({} errors); fix it first (`cloudcensus register check`)",
                args.register.display(),
                e.problems.len()
            );
        }
    };
    let mut wb = register::template::annex_workbook(&loaded.register)
        .context("building the annex workbook")?;
    let tmp = args.out.with_extension("xlsx.tmp");
    wb.save(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &args.out).with_context(|| format!("writing {}", args.out.display()))?;
    writeln!(
        out,
        "wrote {} with {} activities; fill in the cloud facts and name it as register_annex in the configuration",
        args.out.display(),
        loaded.register.activities.len()
    )?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct CheckReport<'a> {
    file: String,
    loadable: bool,
    activities: usize,
    errors: &'a [Problem],
    warnings: &'a [Problem],
}

fn check(cli: &Cli, args: &CheckArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let file = args.file.display().to_string();
    let mut source = register::Source {
        sheet: args.sheet.clone(),
        ..register::Source::default()
    };
    if args.with_config {
        let cfg = crate::config::Config::load(&cli.config_path())?;
        source = cfg.register_source();
        if args.sheet.is_some() {
            source.sheet = args.sheet.clone();
        }
    }
    if let Some(a) = &args.annex {
        source.annex = Some(a.clone());
    }
    let (activities, errors, warnings) = match register::load_source(&args.file, &source) {
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
