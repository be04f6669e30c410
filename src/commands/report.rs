//! `cloudcensus report --year YYYY`: the yearly report to CIO Rijk (xlsx + CSV).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::cli::Cli;
use crate::commands::setup::Setup;
use crate::commands::store_args::StoreArgs;
use crate::report::{self, StoredScan, Template, WriteOptions};
use crate::rules::Lang;

/// Arguments of `cloudcensus report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The reporting year.
    #[arg(long)]
    pub year: i32,
    /// Output directory.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    /// Language of sheet names, headers and texts (default: the config's `lang`).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// Template: a built-in name (`cio-rijk`) or a `.toml` file.
    #[arg(long, default_value = "cio-rijk")]
    pub template: String,
    /// CSV delimiter: `,` or `;` (Dutch Excel).
    #[arg(long, default_value = ",", value_parser = parse_delimiter)]
    pub csv_delimiter: u8,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub(crate) fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "," => Ok(b','),
        ";" => Ok(b';'),
        _ => Err(format!("'{s}' is not a supported delimiter: use , or ;")),
    }
}

/// Runs the command.
pub fn run(cli: &Cli, args: &ReportArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let setup = Setup::load(cli)?;
    let template = Template::load(&args.template).map_err(anyhow::Error::msg)?;
    let store = setup.open_store(&args.store)?;
    let files = write_year(
        &setup,
        store.as_ref(),
        args.year,
        args.lang,
        &template,
        &WriteOptions {
            out_dir: args.out.clone(),
            csv_delimiter: args.csv_delimiter,
        },
    )?;
    writeln!(out, "{}", files.xlsx.display())?;
    for c in &files.csv {
        writeln!(out, "{}", c.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds and writes the report for `year` from `store` (shared with `demo`).
pub fn write_year(
    setup: &Setup,
    store: &dyn crate::store::Store,
    year: i32,
    lang: Option<Lang>,
    template: &Template,
    opts: &WriteOptions,
) -> Result<report::ReportFiles> {
    let prefix = format!("{year:04}-");
    // A shared store holds several organisations' scans: the report is the config's.
    let organisation = setup.config.organisation.as_str();
    let all = store.list_scans()?;
    let mut others: Vec<&str> = all
        .iter()
        .filter(|s| s.organisation != organisation)
        .map(|s| s.organisation.as_str())
        .collect();
    others.sort_unstable();
    others.dedup();
    let others = others.join("', '");
    let mut scans: Vec<_> = crate::store::latest_per_period(
        all.iter()
            .filter(|s| s.organisation == organisation && s.period.starts_with(&prefix))
            .cloned(),
    );
    if scans.is_empty() {
        if others.is_empty() {
            bail!(
                "the store {} has no scans for {year}: run `cloudcensus scan` (or `cloudcensus import`) first",
                store.location()
            );
        }
        bail!(
            "the store {} has no scans of '{organisation}' (the config's `organisation`) for {year}; it holds scans of '{others}': check `organisation`, or run `cloudcensus rollup` for every organisation",
            store.location()
        );
    }
    scans.sort_by(|a, b| a.period.cmp(&b.period));
    let ctx = setup.context(lang);
    let iter = scans.iter().map(|s| StoredScan::from_store(store, s));
    let data = report::assemble(ctx, year, iter, chrono::Utc::now())?;
    report::write(&data, template, opts)
}
