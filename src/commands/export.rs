//! `cloudcensus export`: a scan's resources and coverage as JSON (round-trips through
//! `import`) or CSV (for evidence archives and SIEM import).
//!
//! Files are written to a temporary name next to the target and renamed when complete, so
//! an interrupted export never leaves a truncated file that looks whole.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;

use crate::cli::Cli;
use crate::commands::store_args::StoreArgs;
use crate::store::exchange::write_json;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One JSON document in the scan's own shape (meta, scopes, groups, resources, coverage).
    Json,
    /// A directory with resources.csv and coverage.csv.
    Csv,
}

/// Arguments of `cloudcensus export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The scan: `latest`, an id or a unique id prefix.
    #[arg(long, default_value = "latest")]
    pub scan: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
    pub format: ExportFormat,
    /// Output file (json; default stdout) or directory (csv; required).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

fn temp_name(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".partial-{}", std::process::id()));
    target.with_file_name(name)
}

/// Writes a file via a temporary name and renames it into place.
fn write_atomically(
    target: &Path,
    f: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let tmp = temp_name(target);
    let file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let result = f(&mut w).and_then(|()| {
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(())
    });
    match result {
        Ok(()) => fs::rename(&tmp, target)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), target.display())),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e.context(format!("export to {} failed", target.display())))
        }
    }
}

/// Runs the command.
pub fn run(cli: &Cli, args: &ExportArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let store = args.store.open(cli)?;
    let id = store.resolve(&args.scan)?;
    let meta = store.load_meta(&id)?;
    let (scopes, groups, coverage) = store.load_parts(&id)?;
    let creators = store.creators(&id)?;
    match args.format {
        ExportFormat::Json => {
            let write = |w: &mut dyn Write| -> Result<u64> {
                let mut w = w;
                Ok(write_json(
                    &mut w,
                    &meta,
                    &scopes,
                    &groups,
                    store.resources(&id)?,
                    &coverage,
                    &creators,
                )?)
            };
            match &args.out {
                None => {
                    write(out)?;
                }
                Some(path) => {
                    let mut n = 0;
                    write_atomically(path, |w| {
                        n = write(w)?;
                        Ok(())
                    })?;
                    eprintln!("exported scan {id} ({n} resources) to {}", path.display());
                }
            }
        }
        ExportFormat::Csv => {
            let Some(dir) = &args.out else {
                bail!(
                    "--format csv writes a directory (resources.csv, coverage.csv, creators.csv): pass --out DIR"
                );
            };
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            let mut n = 0u64;
            write_atomically(&dir.join("resources.csv"), |w| {
                let mut csv = csv::Writer::from_writer(w);
                csv.write_record([
                    "scan_id",
                    "provider",
                    "scope_id",
                    "resource_id",
                    "resource_type",
                    "category",
                    "name",
                    "location",
                    "replica_locations",
                    "resource_group",
                    "tags",
                    "created_at",
                ])?;
                for r in store.resources(&id)? {
                    let r = r?;
                    // Formula prefixes neutralised (tag values reach this file); the
                    // JSON export is the lossless format.
                    let safe = crate::report::cells::csv_neutralise;
                    csv.write_record([
                        id.as_str(),
                        r.provider.as_str(),
                        &safe(&r.scope_id),
                        &safe(&r.id),
                        &safe(&r.resource_type),
                        r.category.as_str(),
                        &safe(&r.name),
                        &safe(r.location.as_deref().unwrap_or("")),
                        &safe(&r.replica_locations.join(";")),
                        &safe(r.resource_group.as_deref().unwrap_or("")),
                        &serde_json::to_string(&r.tags)?,
                        &r.created_at
                            .map(|t| crate::store::hash::timestamp(&t))
                            .unwrap_or_default(),
                    ])?;
                    n += 1;
                }
                csv.flush()?;
                Ok(())
            })?;
            write_atomically(&dir.join("coverage.csv"), |w| {
                let mut csv = csv::Writer::from_writer(w);
                csv.write_record([
                    "scan_id", "provider", "scope_id", "region", "service", "status", "message",
                ])?;
                for c in &coverage {
                    let safe = crate::report::cells::csv_neutralise;
                    csv.write_record([
                        id.as_str(),
                        c.provider.as_str(),
                        &safe(&c.scope_id),
                        &safe(&c.region),
                        &safe(&c.service),
                        c.status.as_str(),
                        &safe(c.message.as_deref().unwrap_or("")),
                    ])?;
                }
                csv.flush()?;
                Ok(())
            })?;
            write_atomically(&dir.join("creators.csv"), |w| {
                let mut csv = csv::Writer::from_writer(w);
                csv.write_record([
                    "scan_id",
                    "provider",
                    "resource_id",
                    "status",
                    "creator",
                    "event_time",
                    "source",
                    "detail",
                ])?;
                for c in &creators {
                    let safe = crate::report::cells::csv_neutralise;
                    csv.write_record([
                        id.as_str(),
                        c.provider.as_str(),
                        &safe(&c.resource_id),
                        c.status.as_str(),
                        &safe(&c.display()),
                        &c.event_time
                            .map(|t| crate::store::hash::timestamp(&t))
                            .unwrap_or_default(),
                        &safe(&c.source),
                        &safe(c.detail.as_deref().unwrap_or("")),
                    ])?;
                }
                csv.flush()?;
                Ok(())
            })?;
            eprintln!(
                "exported scan {id} ({n} resources, {} coverage entries, {} creators) to {}",
                coverage.len(),
                creators.len(),
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
