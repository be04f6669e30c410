//! `cloudcensus diff [A] [B]`: what changed between two scans (default: the two latest).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::cli::Cli;
use crate::commands::store_args::StoreArgs;
use crate::output::{OutputFormat, Tabular, write_rows};
use crate::store::diff::{Change, ChangeKind, DEFAULT_ACTIVITY_TAG_KEYS, diff};

/// Arguments of `cloudcensus diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The older scan (id, unique id prefix or `latest`); default the second-latest scan.
    #[arg(value_name = "A")]
    pub older: Option<String>,
    /// The newer scan; default the latest scan.
    #[arg(value_name = "B")]
    pub newer: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

impl Tabular for Change {
    fn headers() -> &'static [&'static str] {
        &[
            "change", "provider", "scope", "type", "resource", "before", "after", "creator",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.change.as_str().to_string(),
            self.provider.to_string(),
            self.scope_id.clone(),
            self.resource_type.clone(),
            self.resource_id.clone(),
            self.before.clone(),
            self.after.clone(),
            self.creator.clone().unwrap_or_else(|| "-".into()),
        ]
    }
}

/// Runs the command.
pub fn run(cli: &Cli, args: &DiffArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let store = args.store.open(cli)?;
    let (a, b) = match (&args.older, &args.newer) {
        (Some(a), Some(b)) => (store.resolve(a)?, store.resolve(b)?),
        (Some(a), None) => (store.resolve(a)?, store.resolve("latest")?),
        (None, _) => {
            let scans = store.list_scans()?;
            if scans.len() < 2 {
                bail!(
                    "diff needs two scans and {} holds {}; name them as `cloudcensus diff A B`",
                    store.location(),
                    scans.len()
                );
            }
            (
                scans[scans.len() - 2].id.clone(),
                scans[scans.len() - 1].id.clone(),
            )
        }
    };
    let mut changes = diff(
        store.resources(&a)?,
        store.resources(&b)?,
        DEFAULT_ACTIVITY_TAG_KEYS,
    )?;
    // Who created what appeared: the newer scan's audit-log answers.
    let creators = store.creators(&b)?;
    let creator_of = cloudcensus_core::creator::index(&creators);
    for c in changes.iter_mut().filter(|c| c.change == ChangeKind::Added) {
        let known = creator_of
            .get(&(c.provider, c.resource_id.to_ascii_lowercase()))
            .copied();
        c.creator = Some(cloudcensus_core::creator::shown(known));
    }
    write_rows(out, args.format, &changes)?;
    if args.format == OutputFormat::Table {
        let count = |k: ChangeKind| changes.iter().filter(|c| c.change == k).count();
        writeln!(
            out,
            "\n{a} -> {b}: {} added, {} removed, {} moved, {} activity changed",
            count(ChangeKind::Added),
            count(ChangeKind::Removed),
            count(ChangeKind::Moved),
            count(ChangeKind::ActivityChanged)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
