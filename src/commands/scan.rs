//! `cloudcensus scan`: every configured source into the store, with progress and an end
//! summary a scheduler can act on (exit 0 complete, 3 committed with gaps, 1 failed).
//!
//! The work is in [`crate::scan_pipeline`]; this module loads the configuration, draws progress
//! bars (only on a terminal, never with `--quiet` or `--log-format json`), and prints
//! the summary.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result, bail};
use chrono::Datelike;
use cloudcensus_core::{Catalog, Coverage, Provider};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{Cli, LogFormat};
use crate::commands::store_args::StoreArgs;
use crate::config::Config;
use crate::register::{self, Register};
use crate::rules::{self, RulePack};
use crate::scan_pipeline::{self as scan, Outcome, Progress, ScanRequest, Sink, Tally};
use crate::store;

/// Exit code: committed, but part of the estate could not be listed.
pub const EXIT_GAPS: u8 = 3;
/// Exit code: interrupted by Ctrl-C or SIGTERM; nothing committed.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Arguments of `cloudcensus scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Reporting period `YYYY-MM` the scan belongs to; default the current month (UTC).
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<String>,
    /// Discover scopes and check access without writing a scan: prints what would be
    /// scanned and what is denied.
    #[arg(long)]
    pub dry_run: bool,
    /// No progress bars (they are also off when stderr is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Runs the command.
pub fn run(cli: &Cli, args: &ScanArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let cfg = Config::load(&cli.config_path())?;
    let period = match &args.period {
        Some(p) => {
            store::validate_period(p.trim())?;
            p.trim().to_string()
        }
        None => {
            let t = chrono::Utc::now();
            format!("{:04}-{:02}", t.year(), t.month())
        }
    };
    let catalog = crate::cli::load_catalog(cli.catalog.as_deref().or(cfg.catalog.as_deref()))?;
    if cfg.source_names().is_empty() {
        bail!(scan::ScanError::NoSources(cfg.path.display().to_string()));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(scan::ScanError::Runtime)?;
    let (sources, failed) = runtime.block_on(scan::build_sources(&cfg, &catalog));
    let show_bars =
        !args.quiet && cli.log_format == LogFormat::Human && std::io::stderr().is_terminal();
    let bars = Bars::new(show_bars, sources.iter().map(|s| s.provider));

    let timeout = cfg.scan_timeout_secs.map(std::time::Duration::from_secs);
    if args.dry_run {
        let mut tally = Tally::default();
        for c in &failed {
            tally.coverage.push(c.clone());
        }
        let sink = Sink::discard();
        let listed = runtime.block_on(async {
            tokio::select! {
                r = scan::list_all(&sources, cfg.max_concurrency, timeout, None, &sink, &bars, &mut tally) => Some(r),
                () = scan::shutdown_signal() => None,
            }
        });
        bars.clear();
        if listed.is_none() {
            writeln!(out, "interrupted")?;
            return Ok(ExitCode::from(EXIT_INTERRUPTED));
        }
        return dry_run_report(&tally, out);
    }

    let store_path = crate::commands::store_args::resolve(args.store.store.as_deref(), Some(&cfg));
    let req = ScanRequest {
        store: store_path.clone(),
        organisation: cfg.organisation.clone(),
        period,
        config_digest: cfg.digest.clone(),
        max_concurrency: cfg.max_concurrency,
        timeout,
        creator_plan: creator_plan(&cfg),
    };
    let outcome = scan::run(
        &req,
        sources,
        failed,
        &bars,
        &runtime,
        scan::shutdown_signal(),
    );
    bars.clear();
    match outcome? {
        Outcome::Interrupted => {
            writeln!(
                out,
                "interrupted: nothing committed; {} is unchanged",
                store_path.display()
            )?;
            Ok(ExitCode::from(EXIT_INTERRUPTED))
        }
        Outcome::NothingScanned { tally } => {
            writeln!(
                out,
                "nothing could be scanned; nothing committed to {}",
                store_path.display()
            )?;
            write_gaps(out, &tally.coverage)?;
            writeln!(out, "exit 1: failed (fix the sources above and run again)")?;
            Ok(ExitCode::FAILURE)
        }
        Outcome::Committed { committed, tally } => {
            summary(&cfg, &catalog, &store_path, &committed.id, &tally, out)
        }
    }
}

/// What the creator lookups need: the register (without one nothing is judged
/// unregistered, so nothing is looked up) and `[matching]`.
fn creator_plan(cfg: &Config) -> Option<scan::CreatorPlan> {
    let path = cfg.register.as_ref()?;
    match register::load_source(path, &cfg.register_source()) {
        Ok(l) => Some(scan::CreatorPlan {
            register: l.register,
            settings: cfg.matching.clone(),
        }),
        Err(e) => {
            tracing::warn!(register = %path.display(), error = %e,
                "the register does not load: no creator lookups in this scan");
            None
        }
    }
}

fn write_gaps(out: &mut dyn Write, coverage: &[Coverage]) -> Result<()> {
    let gaps: Vec<&Coverage> = coverage.iter().filter(|c| c.status.is_gap()).collect();
    if gaps.is_empty() {
        return Ok(());
    }
    writeln!(out, "coverage gaps ({}):", gaps.len())?;
    for c in gaps {
        writeln!(
            out,
            "  {:<6} {} {} {}: {} — {}",
            c.provider,
            c.scope_id,
            c.region,
            c.service,
            c.status,
            c.message.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

fn summary(
    cfg: &Config,
    catalog: &Catalog,
    store_path: &std::path::Path,
    id: &str,
    tally: &Tally,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let store = store::open(store_path)?;
    let data = store.load_scan(id)?;
    let (register, register_note) = match &cfg.register {
        Some(p) => match register::load_source(p, &cfg.register_source()) {
            Ok(l) => (Some(l.register), None),
            Err(e) => (
                None,
                Some(format!(
                    "register {} does not load, so unregistered use was not judged:\n{e}",
                    p.display()
                )),
            ),
        },
        None => (
            None,
            Some("no register configured: unregistered use was not judged".to_string()),
        ),
    };
    let empty = Register {
        source: String::new(),
        activities: Vec::new(),
    };
    let pack = RulePack::builtin(&cfg.rule_pack).context("rule pack")?;
    let ctx = rules::Context {
        organisation: &cfg.organisation,
        register: register.as_ref().unwrap_or(&empty),
        catalog,
        pack: &pack,
        rules: &cfg.rules,
        matching: &cfg.matching,
        lang: cfg.lang,
    };
    let eval = rules::evaluate(&ctx, &data, None);
    let gaps = data.coverage.iter().filter(|c| c.status.is_gap()).count();

    writeln!(
        out,
        "scan {id} committed to {} (period {}, {} scopes, {} resources)",
        store_path.display(),
        data.meta.period,
        data.scopes.len(),
        data.resources.len()
    )?;
    writeln!(out, "resources per provider:")?;
    let mut per_provider: BTreeMap<Provider, usize> = eval.by_provider.clone();
    for p in tally.scopes.keys() {
        per_provider.entry(*p).or_insert(0);
    }
    for (p, n) in &per_provider {
        writeln!(out, "  {:<16} {n}", p.as_str())?;
    }
    writeln!(
        out,
        "resources per location class (worst location, on {}):",
        eval.reference_date
    )?;
    for (class, n) in &eval.by_class {
        writeln!(out, "  {:<16} {n}", class.as_str())?;
    }
    match register_note {
        None => writeln!(
            out,
            "unregistered data-bearing resources: {} (of {} data-bearing)",
            eval.unregistered.len(),
            eval.data_bearing_total
        )?,
        Some(note) => writeln!(out, "{note}")?,
    }
    for line in crate::output::coverage_footer(&data.coverage, false) {
        writeln!(out, "{line}")?;
    }
    write_gaps(out, &data.coverage)?;
    if gaps == 0 {
        writeln!(out, "exit 0: complete")?;
        Ok(ExitCode::SUCCESS)
    } else {
        writeln!(
            out,
            "exit {EXIT_GAPS}: committed with coverage gaps (the report will say what was not scanned)"
        )?;
        Ok(ExitCode::from(EXIT_GAPS))
    }
}

fn dry_run_report(tally: &Tally, out: &mut dyn Write) -> Result<ExitCode> {
    writeln!(out, "dry run: nothing was written")?;
    for id in &tally.identities {
        writeln!(out, "identity: {id}")?;
    }
    let mut by_scope: BTreeMap<(Provider, &str), Vec<&Coverage>> = BTreeMap::new();
    for c in &tally.coverage {
        by_scope
            .entry((c.provider, c.scope_id.as_str()))
            .or_default()
            .push(c);
    }
    let mut would = 0;
    let mut denied = 0;
    for ((provider, scope), entries) in &by_scope {
        writeln!(out, "{provider} {scope}:")?;
        for c in entries {
            let verdict = if c.status.is_gap() {
                denied += 1;
                format!("{} — {}", c.status, c.message.as_deref().unwrap_or(""))
            } else {
                would += 1;
                format!("{} (would be scanned)", c.status)
            };
            writeln!(out, "  {:<7} {:<40} {verdict}", c.region, c.service)?;
        }
    }
    let resources: u64 = tally.resources.values().sum();
    writeln!(
        out,
        "{would} scope × service entries readable, {denied} not ({resources} resources seen, not stored)"
    )?;
    Ok(if would == 0 {
        ExitCode::FAILURE
    } else if denied > 0 {
        ExitCode::from(EXIT_GAPS)
    } else {
        ExitCode::SUCCESS
    })
}

/// Per-provider progress bars on stderr (hidden when not wanted).
struct Bars {
    multi: MultiProgress,
    bars: BTreeMap<Provider, ProviderBar>,
}

struct ProviderBar {
    bar: ProgressBar,
    resources: AtomicU64,
    errors: AtomicU64,
}

impl ProviderBar {
    fn refresh(&self) {
        let r = self.resources.load(Ordering::Relaxed);
        let e = self.errors.load(Ordering::Relaxed);
        self.bar.set_message(format!("{r} resources, {e} errors"));
    }
}

impl Bars {
    fn new(show: bool, providers: impl Iterator<Item = Provider>) -> Self {
        let target = if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let style = ProgressStyle::with_template(
            "{prefix:>6} [{bar:30}] {pos}/{len} scopes  {msg}  {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let mut bars = BTreeMap::new();
        for p in providers {
            bars.entry(p).or_insert_with(|| {
                let bar = multi.add(ProgressBar::new(0));
                bar.set_style(style.clone());
                bar.set_prefix(p.as_str());
                bar.set_message("discovering");
                ProviderBar {
                    bar,
                    resources: AtomicU64::new(0),
                    errors: AtomicU64::new(0),
                }
            });
        }
        Bars { multi, bars }
    }

    fn clear(&self) {
        for b in self.bars.values() {
            b.bar.finish();
        }
        let _ = self.multi.clear();
    }
}

impl Progress for Bars {
    fn scopes_found(&self, provider: Provider, n: usize) {
        if let Some(b) = self.bars.get(&provider) {
            b.bar.inc_length(n as u64);
            b.refresh();
        }
    }

    fn scope_done(&self, provider: Provider) {
        if let Some(b) = self.bars.get(&provider) {
            b.bar.inc(1);
            b.refresh();
        }
    }

    fn resource(&self, provider: Provider) {
        if let Some(b) = self.bars.get(&provider) {
            let n = b.resources.fetch_add(1, Ordering::Relaxed) + 1;
            if n % 50 == 0 {
                b.refresh();
            }
        }
    }

    fn gap(&self, provider: Provider, _coverage: &Coverage) {
        if let Some(b) = self.bars.get(&provider) {
            b.errors.fetch_add(1, Ordering::Relaxed);
            b.refresh();
        }
    }
}
