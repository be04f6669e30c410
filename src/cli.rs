//! Command-line definition and dispatch.
//!
//! Flags and their help live here; each command's work lives in `commands/<name>.rs`.
//! `main` maps errors to exit codes: 0 success, 1 failure, 2 usage error (clap). A broken
//! pipe (`cloudcensus regions | head`) exits quietly.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use cloudcensus_core::{Catalog, Provider};

use crate::commands;
use crate::output::OutputFormat;

/// cloudcensus — where is our public-cloud use, and is it registered?
///
/// Scans AWS, Azure and Google Cloud (read-only), matches every resource against the
/// register of processing activities, finds unregistered cloud use and data outside the
/// EEA, and writes the yearly report to CIO Rijk (Rijksbreed cloudbeleid 2022).
#[derive(Debug, Parser)]
#[command(name = "cloudcensus", version, max_term_width = 100)]
pub struct Cli {
    /// Location catalog override (TOML): add locations, adequacy decisions, change the
    /// C2000 list without recompiling. See docs/catalog.md.
    #[arg(long, global = true, value_name = "FILE", env = "CLOUDCENSUS_CATALOG")]
    pub catalog: Option<PathBuf>,

    /// The configuration file (default `./cloudcensus.toml`; see `cloudcensus config
    /// example`).
    #[arg(long, global = true, value_name = "FILE", env = "CLOUDCENSUS_CONFIG")]
    pub config: Option<PathBuf>,

    /// Log format on stderr: human-readable, or JSON lines for schedulers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// More log output (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan every configured source (read-only) into the store. Exit 0: complete;
    /// 3: committed with coverage gaps; 1: failed, nothing committed.
    Scan(commands::scan::ScanArgs),
    /// Check the configuration file, or print a commented example.
    Config(commands::config::ConfigArgs),
    /// Run the whole job offline on the bundled example estate: store, findings, report.
    Demo(commands::demo::DemoArgs),
    /// List every known cloud location with its countries and jurisdiction class.
    Regions(RegionsArgs),
    /// Place one provider location: countries, class (EEA / adequacy / third country /
    /// C2000) on a date.
    Locate(LocateArgs),
    /// List the rules of a rule pack: code, severity, policy clause, explanation.
    Rules(RulesArgs),
    /// Check a register of processing activities (csv/xlsx), or write a blank template.
    Register(commands::register::RegisterArgs),
    /// Evaluate a scan against the register: findings with code, severity, clause, action.
    Findings(commands::findings::FindingsArgs),
    /// Data-bearing resources that no register activity claims, newest first.
    Unregistered(commands::unregistered::UnregisteredArgs),
    /// Write the yearly report to CIO Rijk (xlsx + one CSV per sheet).
    Report(commands::report::ReportArgs),
    /// Government-wide roll-up for CIO Rijk: one row per organisation in the store for a
    /// year (xlsx with a chart + CSV); findings need each organisation's --org-config.
    Rollup(commands::rollup::RollupArgs),
    /// Write one scan's self-contained HTML page for the security team: headline, world
    /// map, findings, unregistered resources, coverage gaps, changes since the previous
    /// scan. Opens offline; loads nothing.
    Html(commands::html::HtmlArgs),
    /// List the scans in the store: id, period, counts, coverage, hash.
    Scans(commands::scans::ScansArgs),
    /// Recompute every scan's hash and the chain; exit 1 at the first broken link.
    Verify(commands::verify::VerifyArgs),
    /// Resources added, removed, moved or re-tagged between two scans (default: the two
    /// latest).
    Diff(commands::diff::DiffArgs),
    /// Write a scan's resources and coverage as JSON (re-importable) or CSV.
    Export(commands::export::ExportArgs),
    /// Add a JSON scan export (from another store or network) to the store as a new scan.
    Import(commands::import::ImportArgs),
    /// Remove scans older than N months; their hashes stay so the chain still verifies.
    Prune(commands::prune::PruneArgs),
}

/// Arguments of `cloudcensus regions`.
#[derive(Debug, clap::Args)]
pub struct RegionsArgs {
    /// Only this provider.
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    /// Classify as on this date (YYYY-MM-DD); default today.
    #[arg(long, value_parser = parse_date)]
    pub date: Option<NaiveDate>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Arguments of `cloudcensus locate`.
#[derive(Debug, clap::Args)]
pub struct LocateArgs {
    /// Provider: aws, azure or gcp.
    #[arg(value_enum)]
    pub provider: ProviderArg,
    /// Location in any provider spelling: `eu-west-1`, `EU` (S3), `eu-west-1a`,
    /// `West Europe`, `EUROPE-WEST4`, `EUR4`; a Google code as one product uses it:
    /// `spanner/eur5`.
    pub location: String,
    /// Google Cloud: the product whose spelling this is (`spanner`, `firestore`,
    /// `bigquery`, `artifactregistry`, `kms`, `secretmanager`, `storage`). The same code
    /// can mean other places in other products (`eur5`); without it such a code answers
    /// `unknown` and lists its meanings.
    #[arg(long)]
    pub product: Option<String>,
    /// Classify as on this date (YYYY-MM-DD); default today.
    #[arg(long, value_parser = parse_date)]
    pub date: Option<NaiveDate>,
    /// Treat the provider as not certified under the EU–US Data Privacy Framework.
    #[arg(long)]
    pub not_dpf_certified: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Arguments of `cloudcensus rules`.
#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Rule pack.
    #[arg(long, default_value = "cloudbeleid-2022")]
    pub pack: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
    /// Language of titles and explanations.
    #[arg(long, value_enum, default_value_t = LangArg::Nl)]
    pub lang: LangArg,
}

/// Output formats of `rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// Aligned columns.
    Table,
    /// JSON array.
    Json,
    /// Markdown document (the rule reference in docs/rules.md is generated this way).
    Markdown,
}

/// Report and message language.
pub type LangArg = crate::rules::Lang;

/// A provider on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    /// Amazon Web Services.
    Aws,
    /// Microsoft Azure.
    Azure,
    /// Google Cloud.
    Gcp,
}

impl From<ProviderArg> for Provider {
    fn from(p: ProviderArg) -> Self {
        match p {
            ProviderArg::Aws => Provider::Aws,
            ProviderArg::Azure => Provider::Azure,
            ProviderArg::Gcp => Provider::Gcp,
        }
    }
}

/// Parses `YYYY-MM-DD` or Dutch `dd-mm-jjjj`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s.trim(), "%d-%m-%Y"))
        .map_err(|_| format!("'{s}' is not a date: use YYYY-MM-DD (or dd-mm-jjjj)"))
}

impl Cli {
    /// `--config`, or `./cloudcensus.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_PATH))
    }
}

/// Today's date (UTC), the default reference date.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Loads the built-in catalog and applies `--catalog` if given.
pub fn load_catalog(path: Option<&std::path::Path>) -> Result<Catalog> {
    let catalog = Catalog::builtin().context("the built-in location catalog is invalid")?;
    match path {
        Some(p) => catalog
            .with_override_file(p)
            .with_context(|| format!("cannot apply catalog override {}", p.display())),
        None => Ok(catalog),
    }
}

fn init_logging(cli: &Cli) {
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLOUDCENSUS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr);
    let _ = match cli.log_format {
        LogFormat::Human => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match run(&cli, &mut out) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let _ = out.flush();
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Dispatches one parsed command, writing its output to `out`.
pub fn run(cli: &Cli, out: &mut dyn Write) -> Result<ExitCode> {
    match &cli.command {
        Command::Scan(args) => commands::scan::run(cli, args, out),
        Command::Config(args) => commands::config::run(cli, args, out),
        Command::Demo(args) => commands::demo::run(cli, args, out),
        Command::Regions(args) => commands::regions::run(cli, args, out),
        Command::Locate(args) => commands::locate::run(cli, args, out),
        Command::Rules(args) => commands::rules::run(cli, args, out),
        Command::Register(args) => commands::register::run(cli, args, out),
        Command::Findings(args) => commands::findings::run(cli, args, out),
        Command::Unregistered(args) => commands::unregistered::run(cli, args, out),
        Command::Report(args) => commands::report::run(cli, args, out),
        Command::Rollup(args) => commands::rollup::run(cli, args, out),
        Command::Html(args) => commands::html::run(cli, args, out),
        Command::Scans(args) => commands::scans::run(cli, args, out),
        Command::Verify(args) => commands::verify::run(cli, args, out),
        Command::Diff(args) => commands::diff::run(cli, args, out),
        Command::Export(args) => commands::export::run(cli, args, out),
        Command::Import(args) => commands::import::run(cli, args, out),
        Command::Prune(args) => commands::prune::run(cli, args, out),
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || e.downcast_ref::<csv::Error>().is_some_and(|c| {
                matches!(c.kind(), csv::ErrorKind::Io(io) if io.kind() == io::ErrorKind::BrokenPipe)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn dates_accept_iso_and_dutch_forms() {
        let want = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        assert_eq!(parse_date("2024-03-01").unwrap(), want);
        assert_eq!(parse_date("01-03-2024").unwrap(), want);
        assert!(parse_date("2024/03/01").unwrap_err().contains("YYYY-MM-DD"));
    }
}
