//! `cloudcensus prune --keep-months N`: delete old scans, keep the chain verifiable.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, today};
use crate::commands::store_args::StoreArgs;

/// Arguments of `cloudcensus prune`.
#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Keep the scans of the last N months, counting the current month (1 = this month only).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep_months: u32,
}

/// Runs the command.
pub fn run(cli: &Cli, args: &PruneArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let mut store = args.store.open(cli)?;
    let pruned = store.prune(args.keep_months, today())?;
    if pruned.is_empty() {
        writeln!(
            out,
            "nothing to prune: every scan is within the last {} month(s)",
            args.keep_months
        )?;
    }
    for p in &pruned {
        writeln!(
            out,
            "pruned  {}  period {}  {} resources",
            p.id, p.period, p.resources
        )?;
    }
    if !pruned.is_empty() {
        writeln!(
            out,
            "{} scan(s) pruned; their hashes stay in the chain, so `cloudcensus verify` still passes",
            pruned.len()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
