//! `cloudcensus html`: the scan's self-contained HTML page for the security team
//! (see [`crate::html`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;

use crate::cli::Cli;
use crate::commands::setup::{Setup, seen_map};
use crate::commands::unregistered;
use crate::html::{self, Changes, PageInput};
use crate::rules::{self, Lang};
use crate::store::Store;
use crate::store::diff::{DEFAULT_ACTIVITY_TAG_KEYS, diff};

/// Arguments of `cloudcensus html`.
#[derive(Debug, clap::Args)]
pub struct HtmlArgs {
    /// Which scan: `latest`, an id or a unique id prefix.
    #[arg(long, default_value = "latest")]
    pub scan: String,
    /// The file to write (default `cloudcensus-<organisation>-<period>.html` in the
    /// current directory).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Page language (default: the config's `lang`).
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    #[command(flatten)]
    pub store: crate::commands::store_args::StoreArgs,
}

/// Runs the command: writes the page and prints its path.
pub fn run(cli: &Cli, args: &HtmlArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let setup = Setup::load(cli)?;
    let store = setup.open_store(&args.store)?;
    let path = write_page(
        &setup,
        store.as_ref(),
        &args.scan,
        args.lang,
        args.out.as_deref(),
        Path::new("."),
    )?;
    writeln!(out, "{}", path.display())?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the page of scan `spec` to `out` (or the default name in `dir`) and returns
/// its path (shared with `demo`).
pub fn write_page(
    setup: &Setup,
    store: &dyn Store,
    spec: &str,
    lang: Option<Lang>,
    out: Option<&Path>,
    dir: &Path,
) -> Result<PathBuf> {
    let id = store.resolve(spec)?;
    let scan = store.load_scan(&id)?;
    let seen = seen_map(store)?;
    let ctx = setup.context(lang);
    let eval = rules::evaluate(&ctx, &scan, Some(&seen));
    let unregistered = unregistered::rows(&ctx, &scan, &eval);
    // The previous scan in the store's order, as `diff` takes the two latest.
    let scans = store.list_scans()?;
    let changes = match scans.iter().position(|s| s.id == id) {
        Some(i) if i > 0 => {
            let prev = &scans[i - 1];
            Some(Changes {
                previous: prev.id.clone(),
                previous_period: prev.period.clone(),
                changes: diff(
                    store.resources(&prev.id)?,
                    store.resources(&id)?,
                    DEFAULT_ACTIVITY_TAG_KEYS,
                )?,
            })
        }
        _ => None,
    };
    let path = match out {
        Some(p) => p.to_path_buf(),
        None => dir.join(html::default_file_name(
            &setup.config.organisation,
            &scan.meta.period,
        )),
    };
    html::write(
        &PageInput {
            ctx: &ctx,
            scan: &scan,
            eval: &eval,
            unregistered: &unregistered,
            changes: changes.as_ref(),
            generated_at: chrono::Utc::now(),
        },
        &path,
    )?;
    Ok(path)
}
