//! `cloudcensus verify`: recompute every scan's content hash and the chain.
//!
//! Exit 0 when the whole chain verifies; otherwise every problem is listed, the first
//! broken link is named, and the exit code is 1.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::cli::Cli;
use crate::commands::store_args::StoreArgs;

/// Arguments of `cloudcensus verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs the command.
pub fn run(cli: &Cli, args: &VerifyArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let store = args.store.open(cli)?;
    let report = store.verify()?;
    for p in &report.problems {
        writeln!(
            out,
            "BROKEN  scan {} (chain position {}): {}",
            p.scan, p.seq, p.message
        )?;
    }
    if let Some(first) = report.problems.first() {
        out.flush()?;
        bail!(
            "{} does not verify: first broken link is scan {} ({} problem(s) listed above)",
            store.location(),
            first.scan,
            report.problems.len()
        );
    }
    writeln!(
        out,
        "ok: {} scan(s) and {} resource(s) recomputed, {} pruned link(s) checked",
        report.scans_checked, report.resources_checked, report.pruned_links_checked
    )?;
    match &report.head {
        Some(h) => writeln!(out, "chain head: {h} (archive it to anchor the chain)")?,
        None => writeln!(out, "the store holds no scans yet")?,
    }
    Ok(ExitCode::SUCCESS)
}
