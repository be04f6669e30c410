//! `cloudcensus findings`: evaluate a scan from the store against the register.
//!
//! Exit 0 when no unsuppressed finding is at or above `--fail-on` (default `blocking`),
//! 4 otherwise, so a pipeline can gate on it.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use crate::cli::Cli;
use crate::commands::setup::Setup;
use crate::commands::store_args::StoreArgs;
use crate::output::{OutputFormat, Tabular, write_rows};
use crate::rules::{self, Finding, Lang, Severity};

/// Exit code when findings at or above `--fail-on` exist.
pub const EXIT_FINDINGS: u8 = 4;

/// Arguments of `cloudcensus findings`.
#[derive(Debug, clap::Args)]
pub struct FindingsArgs {
    /// Which scan: `latest`, an id or a unique id prefix.
    #[arg(long, default_value = "latest")]
    pub scan: String,
    /// Only findings at or above this severity.
    #[arg(long, value_parser = parse_severity)]
    pub severity: Option<Severity>,
    /// Only these codes (repeatable, e.g. `--code CB-UNREG`).
    #[arg(long)]
    pub code: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Exit 4 when a finding at or above this severity remains (after filters).
    #[arg(long, value_parser = parse_severity, default_value = "blocking")]
    pub fail_on: Severity,
    /// Also list findings that a configured suppression accepts.
    #[arg(long)]
    pub include_suppressed: bool,
    /// Message language (default: the config's `lang`).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

#[derive(Serialize)]
struct Row<'a>(&'a Finding);

impl Tabular for Row<'_> {
    fn headers() -> &'static [&'static str] {
        &[
            "severity", "code", "activity", "scope", "region", "class", "resource", "message",
        ]
    }

    fn cells(&self) -> Vec<String> {
        let f = self.0;
        vec![
            f.severity.to_string(),
            f.code.to_string(),
            f.activity_id.as_deref().unwrap_or_default().to_string(),
            f.scope.as_deref().unwrap_or_default().to_string(),
            f.region.as_deref().unwrap_or_default().to_string(),
            f.class.map(|c| c.to_string()).unwrap_or_default(),
            f.resource_id.clone().unwrap_or_default(),
            f.message.clone(),
        ]
    }
}

/// Runs the command.
pub fn run(cli: &Cli, args: &FindingsArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let setup = Setup::load(cli)?;
    let store = setup.open_store(&args.store)?;
    let id = store.resolve(&args.scan)?;
    let scan = store.load_scan(&id)?;
    let ctx = setup.context(args.lang);
    let eval = rules::evaluate(&ctx, &scan, None);
    let codes: Vec<String> = args.code.iter().map(|c| c.to_ascii_uppercase()).collect();
    let shown: Vec<&Finding> = eval
        .findings
        .iter()
        .filter(|f| args.include_suppressed || f.suppressed.is_none())
        .filter(|f| args.severity.is_none_or(|s| f.severity >= s))
        .filter(|f| codes.is_empty() || codes.iter().any(|c| f.code == *c))
        .collect();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &shown)?;
            writeln!(out)?;
        }
        format => {
            let rows: Vec<Row<'_>> = shown.iter().map(|f| Row(f)).collect();
            write_rows(out, format, &rows)?;
        }
    }
    if args.format == OutputFormat::Table {
        let counts =
            rules::count_by_severity(&shown.iter().map(|f| (*f).clone()).collect::<Vec<_>>());
        let parts: Vec<String> = Severity::ALL
            .iter()
            .rev()
            .filter_map(|s| counts.get(s).map(|n| format!("{n} {s}")))
            .collect();
        writeln!(
            out,
            "\n{} finding(s) in scan {id} ({}){}",
            shown.len(),
            if parts.is_empty() {
                "none".to_string()
            } else {
                parts.join(", ")
            },
            if eval.out_of_scope {
                " — out of scope (Defensie)"
            } else {
                ""
            }
        )?;
        for line in crate::output::coverage_footer(&scan.coverage, false) {
            writeln!(out, "{line}")?;
        }
    } else {
        for line in crate::output::coverage_footer(&scan.coverage, false) {
            eprintln!("{line}");
        }
    }
    let gate = shown
        .iter()
        .any(|f| f.suppressed.is_none() && f.severity >= args.fail_on);
    Ok(if gate {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}
