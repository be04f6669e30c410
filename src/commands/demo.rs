//! `cloudcensus demo`: the whole job on the bundled example estate, offline.
//!
//! Writes `DIR/register.xlsx` and `DIR/cloudcensus.toml`, imports the twelve monthly scan
//! exports of 2025 into `DIR/cloudcensus.db` (the same import path a CIO office uses), and
//! writes the yearly report. Afterwards every other command works in `DIR`:
//! `cd DIR && cloudcensus findings`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::cli::Cli;
use crate::commands::report::write_year;
use crate::commands::setup::Setup;
use crate::commands::store_args::StoreArgs;
use crate::example_estate::{EMBEDDED, ORGANISATION, REGISTER_XLSX, YEAR};
use crate::report::{Template, WriteOptions};
use crate::rules::{self, Lang, Severity};
use crate::store::exchange::{stream_into, validate};

/// Arguments of `cloudcensus demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Directory for the demo store, config, register and report.
    #[arg(long, default_value = "cloudcensus-demo")]
    pub out: PathBuf,
    /// Report language.
    #[arg(long, value_enum, default_value_t = Lang::Nl)]
    pub lang: Lang,
}

const CONFIG: &str = r#"# Configuration written by `cloudcensus demo` for the example estate.
organisation = "Ministerie van Voorbeeldzaken"
register = "register.xlsx"
store = "cloudcensus.db"
rule_pack = "cloudbeleid-2022"
lang = "nl"

[rules]
# A suppression: this finding is accepted until the migration ends.
[[rules.suppress]]
code = "CB-UNREG"
resource = "arn:aws:s3:::minvz-migratie-tijdelijk"
reason = "tijdelijke migratiebucket, wordt in Q1 2026 opgeruimd (RFC-2025-118)"
expires = 2026-03-31

# An expired suppression: the finding counts again, and the expiry is reported.
[[rules.suppress]]
code = "CB-UNREG"
resource = "arn:aws:s3:::minvz-tmp-export"
reason = "export voor WOO-verzoek, zou eind juni 2025 weg zijn"
expires = 2025-06-30

# A suppression that matches nothing any more is reported too.
[[rules.suppress]]
code = "CB-UNREG"
resource = "arn:aws:s3:::minvz-oude-backup"
reason = "oude back-up, in 2024 verwijderd"
expires = 2026-12-31
"#;

/// Removes a previous demo store, refusing to touch a store that holds anything else.
fn clear_previous(store_path: &Path) -> Result<()> {
    if !store_path.exists() {
        return Ok(());
    }
    let orgs: Vec<String> = crate::store::open(store_path)?
        .list_scans()?
        .into_iter()
        .map(|s| s.organisation)
        .collect();
    if orgs.iter().any(|o| o != ORGANISATION) {
        bail!(
            "{} holds scans that are not from the demo ({}); choose another --out",
            store_path.display(),
            orgs.join(", ")
        );
    }
    for suffix in ["", "-wal", "-shm", ".lock"] {
        let p = PathBuf::from(format!("{}{suffix}", store_path.display()));
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
        }
    }
    Ok(())
}

/// Runs the command.
pub fn run(cli: &Cli, args: &DemoArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let store_path = dir.join("cloudcensus.db");
    clear_previous(&store_path)?;
    std::fs::write(dir.join("register.xlsx"), REGISTER_XLSX)?;
    std::fs::write(dir.join("cloudcensus.toml"), CONFIG)?;

    let mut store = crate::store::open_or_create(&store_path)?;
    for (period, json) in EMBEDDED {
        let (meta, _) = validate(json.as_bytes())
            .with_context(|| format!("bundled scan {period} is invalid"))?;
        let mut w = store.begin_scan(meta)?;
        stream_into(json.as_bytes(), w.as_mut())?;
        w.commit()?;
    }
    drop(store);

    let demo_cli = Cli {
        config: Some(dir.join("cloudcensus.toml")),
        catalog: cli.catalog.clone(),
        log_format: cli.log_format,
        verbose: cli.verbose,
        command: crate::cli::Command::Demo(DemoArgs {
            out: dir.clone(),
            lang: args.lang,
        }),
    };
    let setup = Setup::load(&demo_cli)?;
    let store = setup.open_store(&StoreArgs::default())?;
    let template = Template::load("cio-rijk").map_err(anyhow::Error::msg)?;
    let files = write_year(
        &setup,
        store.as_ref(),
        YEAR,
        Some(args.lang),
        &template,
        &WriteOptions {
            out_dir: dir.clone(),
            csv_delimiter: b';',
        },
    )?;

    // The security team's page of the latest scan.
    let page = crate::commands::html::write_page(
        &setup,
        store.as_ref(),
        "latest",
        Some(args.lang),
        None,
        dir,
    )?;

    // A short summary of the latest scan, so the newcomer sees what the report holds.
    let latest = store.load_scan(&store.resolve("latest")?)?;
    let eval = rules::evaluate(&setup.context(Some(args.lang)), &latest, None);
    let counts = rules::count_by_severity(&eval.findings);
    let sev = Severity::ALL
        .iter()
        .rev()
        .map(|s| format!("{} {s}", counts.get(s).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", ");
    writeln!(out, "cloudcensus demo — {ORGANISATION}, {YEAR}")?;
    writeln!(
        out,
        "  store     {} (12 monthly scans)",
        store_path.display()
    )?;
    writeln!(out, "  register  {}", dir.join("register.xlsx").display())?;
    writeln!(
        out,
        "  config    {}",
        dir.join("cloudcensus.toml").display()
    )?;
    writeln!(out, "  report    {}", files.xlsx.display())?;
    writeln!(
        out,
        "            + {} CSV files (one per sheet, ';'-separated)",
        files.csv.len()
    )?;
    writeln!(out, "  page      {}", page.display())?;
    writeln!(
        out,
        "\nLatest scan ({}): {} resources, {} unregistered, coverage {:.1}%; findings: {sev}",
        latest.meta.period,
        eval.resources_total,
        eval.unregistered.len(),
        eval.coverage_percent
    )?;
    writeln!(out, "\nNext, try:")?;
    let d = dir.display();
    writeln!(
        out,
        "  cloudcensus --config {d}/cloudcensus.toml findings --severity high"
    )?;
    writeln!(
        out,
        "  cloudcensus --config {d}/cloudcensus.toml unregistered"
    )?;
    writeln!(out, "  cloudcensus diff --store {d}/cloudcensus.db")?;
    writeln!(out, "  cloudcensus verify --store {d}/cloudcensus.db")?;
    Ok(ExitCode::SUCCESS)
}
