//! `cloudcensus locate PROVIDER LOCATION`: one location, placed and classified.
//!
//! An unknown location is not an error: it prints class `unknown` (never EEA) and exits 0,
//! so scripts can feed it anything a provider returns.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use cloudcensus_core::ClassifyOptions;

use crate::cli::{Cli, LocateArgs, load_catalog, today};
use crate::commands::regions::PlacementRow;
use crate::output::write_rows;

/// Runs the command.
pub fn run(cli: &Cli, args: &LocateArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let catalog = load_catalog(cli.catalog.as_deref())?;
    let date = args.date.unwrap_or_else(today);
    let opts = ClassifyOptions {
        dpf_certified: !args.not_dpf_certified,
    };
    let provider = args.provider.into();
    let location = catalog.normalise_for(provider, args.product.as_deref(), &args.location);
    let placement = catalog.classify(provider, &location, date, opts);
    write_rows(out, args.format, &[PlacementRow::new(placement, date)])?;
    Ok(ExitCode::SUCCESS)
}
