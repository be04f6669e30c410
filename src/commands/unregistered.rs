//! `cloudcensus unregistered`: data-bearing resources no register activity claims, newest
//! first, with the tags that hint at an owner and who created them (from the providers'
//! audit logs, looked up by the scan) — the security team's chase list.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use chrono::NaiveDate;
use cloudcensus_core::{ClassifyOptions, ScanData};
use serde::Serialize;

use crate::cli::Cli;
use crate::commands::setup::{Setup, seen_map};
use crate::commands::store_args::StoreArgs;
use crate::output::{OutputFormat, Tabular, write_rows};
use crate::report::sheets::owner_hints;
use crate::rules::{self, Context, Evaluation};

/// Arguments of `cloudcensus unregistered`.
#[derive(Debug, clap::Args)]
pub struct UnregisteredArgs {
    /// Which scan to list from: `latest`, an id or a unique prefix.
    #[arg(long, default_value = "latest")]
    pub scan: String,
    /// Only resources first seen in or after this scan (id or prefix).
    #[arg(long)]
    pub since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// One unregistered resource as the command lists it (also the HTML page's rows).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// First seen in the store.
    pub first_seen: NaiveDate,
    /// Last seen in the store.
    pub last_seen: NaiveDate,
    /// Provider.
    pub provider: String,
    /// Account / subscription / project.
    pub scope: String,
    /// Canonical location.
    pub region: String,
    /// Its countries, `+`-joined.
    pub countries: String,
    /// Jurisdiction class (kebab-case; `unknown` without a location).
    pub class: String,
    /// Resource type.
    pub resource_type: String,
    /// Display name.
    pub name: String,
    /// Provider id.
    pub resource_id: String,
    /// `key=value; …` of the tags that hint at an owner.
    pub owner_hints: String,
    /// Who created it, from the provider's audit log: a principal, or `unknown (why)`.
    pub creator: String,
    /// When the creating call was made (absent when the log does not say).
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    /// Which log and call the creator comes from (`cloudtrail:CreateBucket`), or `none`.
    pub creator_source: String,
    /// Set when a configured suppression accepts this resource's CB-UNREG finding: its
    /// reason.
    pub suppressed: Option<String>,
    /// The last day that suppression applies.
    pub suppressed_until: Option<NaiveDate>,
}

impl Tabular for Row {
    fn headers() -> &'static [&'static str] {
        &[
            "first_seen",
            "provider",
            "scope",
            "region",
            "class",
            "type",
            "name",
            "owner_hints",
            "creator",
            "created",
            "suppressed",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.first_seen.to_string(),
            self.provider.clone(),
            self.scope.clone(),
            self.region.clone(),
            self.class.clone(),
            self.resource_type.clone(),
            self.name.clone(),
            self.owner_hints.clone(),
            self.creator.clone(),
            // Empty when the log does not say; the creator column says why.
            self.created
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            match (&self.suppressed, self.suppressed_until) {
                (Some(reason), Some(until)) => format!("{reason} (until {until})"),
                (Some(reason), None) => reason.clone(),
                _ => String::new(),
            },
        ]
    }
}

/// Runs the command.
pub fn run(cli: &Cli, args: &UnregisteredArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let setup = Setup::load(cli)?;
    let store = setup.open_store(&args.store)?;
    let id = store.resolve(&args.scan)?;
    let scan = store.load_scan(&id)?;
    let seen = seen_map(store.as_ref())?;
    let since = match &args.since {
        Some(spec) => {
            let sid = store.resolve(spec)?;
            Some(store.summary(&sid)?.finished_at.date_naive())
        }
        None => None,
    };
    let ctx = setup.context(None);
    let eval = rules::evaluate(&ctx, &scan, Some(&seen));
    let rows: Vec<Row> = rows(&ctx, &scan, &eval)
        .into_iter()
        .filter(|r| since.is_none_or(|d| r.first_seen >= d))
        .collect();
    write_rows(out, args.format, &rows)?;
    if args.format == OutputFormat::Table {
        let accepted = rows.iter().filter(|r| r.suppressed.is_some()).count();
        writeln!(
            out,
            "\n{} unregistered data-bearing resource(s) in scan {id} ({accepted} of them accepted by a suppression until its expiry); {} excluded as not material",
            rows.len(),
            eval.excluded.len()
        )?;
        for line in crate::output::coverage_footer(&scan.coverage, false) {
            writeln!(out, "{line}")?;
        }
    } else {
        for line in crate::output::coverage_footer(&scan.coverage, false) {
            eprintln!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The unregistered data-bearing resources of `eval` (an evaluation of `scan`), newest
/// first, each placed by the catalog on the scan date; the ones a live suppression of
/// CB-UNREG accepts come last, marked with its reason and expiry.
pub fn rows(ctx: &Context<'_>, scan: &ScanData, eval: &Evaluation) -> Vec<Row> {
    let date = eval.reference_date;
    let suppressed = suppressed_unreg(&eval.findings, &ctx.rules.suppress, date);
    let creators = cloudcensus_core::creator::index(&scan.creators);
    let mut rows: Vec<Row> = eval
        .unregistered
        .iter()
        .map(|(i, s)| {
            let r = &scan.resources[*i];
            let place = r.location.as_deref().map(|l| {
                ctx.catalog.classify(
                    r.provider,
                    l,
                    date,
                    ClassifyOptions {
                        dpf_certified: ctx.rules.dpf(r.provider),
                    },
                )
            });
            let (reason, until) = suppressed
                .get(r.id.to_ascii_lowercase().as_str())
                .cloned()
                .unzip();
            let creator = creators
                .get(&(r.provider, r.id.to_ascii_lowercase()))
                .copied();
            Row {
                suppressed: reason,
                suppressed_until: until,
                first_seen: s.first,
                last_seen: s.last,
                provider: r.provider.to_string(),
                scope: r.scope_id.clone(),
                region: place
                    .as_ref()
                    .map(|p| p.location.clone())
                    .unwrap_or_default(),
                countries: place
                    .as_ref()
                    .map(|p| p.countries.join("+"))
                    .unwrap_or_default(),
                class: place
                    .as_ref()
                    .map(|p| p.class.to_string())
                    .unwrap_or_else(|| "unknown".into()),
                resource_type: r.resource_type.clone(),
                name: r.name.clone(),
                resource_id: r.id.clone(),
                owner_hints: owner_hints(&r.tags),
                creator: cloudcensus_core::creator::shown(creator),
                created: creator.and_then(|c| c.event_time),
                creator_source: creator.map_or_else(|| "none".to_string(), |c| c.source.clone()),
            }
        })
        .collect();
    // The ones still to chase first; accepted (suppressed) ones after them, marked.
    rows.sort_by(|a, b| {
        a.suppressed
            .is_some()
            .cmp(&b.suppressed.is_some())
            .then_with(|| b.first_seen.cmp(&a.first_seen))
            .then_with(|| a.resource_id.cmp(&b.resource_id))
    });
    rows
}

/// Per resource id (lower case): the reason and expiry of the live suppression that
/// accepts its CB-UNREG finding.
fn suppressed_unreg(
    findings: &[rules::Finding],
    suppress: &[rules::Suppression],
    date: NaiveDate,
) -> BTreeMap<String, (String, NaiveDate)> {
    let mut out = BTreeMap::new();
    for f in findings.iter().filter(|f| f.code == "CB-UNREG") {
        let (Some(reason), Some(id)) = (&f.suppressed, &f.resource_id) else {
            continue;
        };
        let until = suppress
            .iter()
            .filter(|s| s.code == "CB-UNREG" && s.expires >= date && &s.reason == reason)
            .find(|s| {
                s.resource
                    .as_deref()
                    .is_some_and(|want| want.eq_ignore_ascii_case(id))
            })
            .map(|s| s.expires);
        if let Some(until) = until {
            out.insert(id.to_ascii_lowercase(), (reason.clone(), until));
        }
    }
    out
}
