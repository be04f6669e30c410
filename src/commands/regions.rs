//! `cloudcensus regions`: the whole location catalog, classified on a date.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use chrono::NaiveDate;
use cloudcensus_core::{Catalog, ClassifyOptions, Placement, Provider};
use serde::Serialize;

use crate::cli::{Cli, RegionsArgs, load_catalog, today};
use crate::output::{Tabular, write_rows};

/// One printed line: a location and its class.
#[derive(Debug, Serialize)]
pub struct PlacementRow {
    /// Provider.
    pub provider: Provider,
    /// Canonical location.
    pub location: String,
    /// Countries joined by `+`.
    pub countries: String,
    /// Jurisdiction class.
    pub class: String,
    /// Adequacy decision id, `EEA`, `C2000`, or why there is no adequacy.
    pub basis: String,
    /// Kind of location (region, dual-region, local-zone...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// City or area.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// The date the class applies to.
    pub date: NaiveDate,
    /// Every meaning of a Google code several products use (`eur5`, `spanner/eur5`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
}

impl PlacementRow {
    /// Builds a row from a placement.
    pub fn new(p: Placement, date: NaiveDate) -> Self {
        PlacementRow {
            provider: p.provider,
            location: p.location,
            countries: p.countries.join("+"),
            class: p.class.to_string(),
            basis: p.basis,
            kind: p.kind.map(|k| {
                serde_json::to_value(k)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            }),
            city: p.city,
            date,
            candidates: p.candidates,
        }
    }
}

impl Tabular for PlacementRow {
    fn headers() -> &'static [&'static str] {
        &["provider", "location", "countries", "class", "basis"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.provider.to_string(),
            self.location.clone(),
            self.countries.clone(),
            self.class.clone(),
            self.basis.clone(),
        ]
    }
}

/// Every catalog location (optionally of one provider) classified on `date`.
pub fn placements(
    catalog: &Catalog,
    provider: Option<Provider>,
    date: NaiveDate,
) -> Vec<PlacementRow> {
    catalog
        .entries()
        .filter(|e| provider.is_none_or(|p| p == e.provider))
        .map(|e| {
            let p = catalog.classify_entry(e, date, ClassifyOptions::default());
            PlacementRow::new(p, date)
        })
        .collect()
}

/// Runs the command.
pub fn run(cli: &Cli, args: &RegionsArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let catalog = load_catalog(cli.catalog.as_deref())?;
    let date = args.date.unwrap_or_else(today);
    let rows = placements(&catalog, args.provider.map(Into::into), date);
    write_rows(out, args.format, &rows)?;
    Ok(ExitCode::SUCCESS)
}
