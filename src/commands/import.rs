//! `cloudcensus import FILE`: add a JSON scan export to the store as a new scan.
//!
//! The file is validated completely first (errors name the JSON path, line and column) and
//! only then streamed into one transaction, so a bad file writes nothing and a crash
//! mid-import leaves no partial scan. The scan gets a new id and joins this store's chain;
//! its content hash equals the exporting store's, which proves a faithful transfer.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::Cli;
use crate::commands::store_args::StoreArgs;
use crate::store::exchange::{stream_into, validate};

/// Arguments of `cloudcensus import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// A file written by `cloudcensus export --format json`.
    pub file: PathBuf,
}

fn reader(path: &PathBuf) -> Result<BufReader<File>> {
    let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(BufReader::with_capacity(1 << 20, f))
}

/// Runs the command.
pub fn run(cli: &Cli, args: &ImportArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let (meta, counts) = validate(reader(&args.file)?)
        .with_context(|| format!("{} is not a valid scan export", args.file.display()))?;
    tracing::info!(file = %args.file.display(), resources = counts.resources, "export validated");
    let original_id = meta.id.clone();
    let mut store = args.store.open_or_create(cli)?;
    let mut writer = store.begin_scan(meta)?;
    stream_into(reader(&args.file)?, writer.as_mut()).with_context(|| {
        format!(
            "import of {} failed; nothing was written",
            args.file.display()
        )
    })?;
    let c = writer.commit()?;
    let from = if original_id.is_empty() {
        String::new()
    } else {
        format!(" (exported as {original_id})")
    };
    writeln!(
        out,
        "imported {}{from} as scan {}: {} resources, {} coverage entries; content hash {}",
        args.file.display(),
        c.id,
        c.resources,
        c.coverage,
        c.content_hash
    )?;
    Ok(ExitCode::SUCCESS)
}
