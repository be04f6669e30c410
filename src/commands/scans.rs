//! `cloudcensus scans`: the committed scans of a store, oldest first.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use crate::cli::Cli;
use crate::commands::store_args::StoreArgs;
use crate::output::{OutputFormat, Tabular, write_rows};
use crate::store::ScanSummary;

/// Arguments of `cloudcensus scans`.
#[derive(Debug, clap::Args)]
pub struct ScansArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format (json includes the full hashes).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// One listed scan.
#[derive(Debug, Serialize)]
pub struct ScanRow {
    #[serde(flatten)]
    summary: ScanSummary,
    coverage_percent: f64,
    /// What the listings could see, per provider (`aws 62 types+tagged, azure all types`).
    visibility: String,
}

impl Tabular for ScanRow {
    fn headers() -> &'static [&'static str] {
        &[
            "id",
            "period",
            "organisation",
            "finished",
            "scopes",
            "resources",
            "coverage",
            "gaps",
            "visibility",
            "hash",
        ]
    }

    fn cells(&self) -> Vec<String> {
        let s = &self.summary;
        vec![
            s.id.clone(),
            s.period.clone(),
            s.organisation.clone(),
            s.finished_at.format("%Y-%m-%d %H:%M").to_string(),
            s.scopes.to_string(),
            s.resources.to_string(),
            format!("{:.1}%", self.coverage_percent),
            s.coverage_gaps.to_string(),
            self.visibility.clone(),
            s.hash[..s.hash.len().min(12)].to_string(),
        ]
    }
}

/// Runs the command.
pub fn run(cli: &Cli, args: &ScansArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let store = args.store.open(cli)?;
    let mut rows: Vec<ScanRow> = Vec::new();
    for summary in store.list_scans()? {
        let (_, _, coverage) = store.load_parts(&summary.id)?;
        rows.push(ScanRow {
            coverage_percent: summary.coverage_percent(),
            visibility: cloudcensus_core::visibility::short(&coverage),
            summary,
        });
    }
    write_rows(out, args.format, &rows)?;
    Ok(ExitCode::SUCCESS)
}
