//! `cloudcensus rollup --year YYYY`: the government-wide roll-up for CIO Rijk, one row per
//! organisation in the store (xlsx with a chart + one CSV). See [`crate::report::rollup`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::cli::{Cli, load_catalog};
use crate::commands::report::parse_delimiter;
use crate::commands::setup::Setup;
use crate::commands::store_args::StoreArgs;
use crate::config::Config;
use crate::report::rollup::{self, Layout, OrgConfig};
use crate::rules::Lang;

/// Arguments of `cloudcensus rollup`.
#[derive(Debug, clap::Args)]
pub struct RollupArgs {
    /// The reporting year.
    #[arg(long)]
    pub year: i32,
    /// An organisation's own configuration file (its `cloudcensus.toml`: `organisation`,
    /// `register`, annex, rules), for the figures that need its register (unregistered
    /// resources, findings). Give one per organisation whose register you hold; several
    /// may follow one flag (`--org-config ministries/*.toml`). Organisations without one
    /// are still rolled up; those figures then read "not computed: no register". The
    /// global `--config` is not read.
    #[arg(long = "org-config", value_name = "FILE", num_args = 1..)]
    pub org_configs: Vec<PathBuf>,
    /// Output directory.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    /// Language of sheet names, headers and texts.
    #[arg(long, value_enum, default_value_t = Lang::Nl)]
    pub lang: Lang,
    /// CSV delimiter: `,` or `;` (Dutch Excel).
    #[arg(long, default_value = ",", value_parser = parse_delimiter)]
    pub csv_delimiter: u8,
    /// The store holding the organisations' scans.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Reads one organisation's config as written: the environment overrides
/// (`CLOUDCENSUS_ORGANISATION`, ...) are for one scanner's own config and would give
/// every organisation the same name.
fn load_org(path: &Path, catalog: Option<&Path>) -> Result<Setup> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --org-config {}", path.display()))?;
    let config = Config::parse(path, &text, |_| None)?;
    Setup::from_config(config, path, catalog)
        .with_context(|| format!("--org-config {}", path.display()))
}

/// Runs the command.
pub fn run(cli: &Cli, args: &RollupArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let layout = Layout::builtin()?;
    let catalog = load_catalog(cli.catalog.as_deref())?;
    let setups = args
        .org_configs
        .iter()
        .map(|p| load_org(p, cli.catalog.as_deref()).map(|s| (p, s)))
        .collect::<Result<Vec<_>>>()?;
    let configs: Vec<OrgConfig<'_>> = setups
        .iter()
        .map(|(p, s)| OrgConfig {
            label: p.display().to_string(),
            ctx: s.context(Some(args.lang)),
        })
        .collect();
    let store = args.store.open(cli)?;
    let data = rollup::assemble(
        store.as_ref(),
        args.year,
        args.lang,
        &catalog,
        &configs,
        chrono::Utc::now(),
    )?;
    let files = rollup::write(&data, &layout, &args.out, args.csv_delimiter)?;
    writeln!(out, "{}", files.xlsx.display())?;
    writeln!(out, "{}", files.csv.display())?;
    Ok(ExitCode::SUCCESS)
}
