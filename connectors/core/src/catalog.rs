//! The location catalog and jurisdiction table.
//!
//! Scanners report locations in many spellings (`EU` from S3, `EUROPE-WEST4` from Cloud
//! Storage, `West Europe` from the Azure portal, `eu-west-1a` from EC2). The catalog maps
//! each to a canonical location, each location to the ISO countries its data may sit in,
//! and each country to a [`JurisdictionClass`] **on a given date**: the EU–US Data Privacy
//! Framework only exists from 2023-07-10, the United Kingdom left the EEA on 2020-12-31.
//!
//! All facts are data files under `connectors/core/catalog/`, compiled into the binary and
//! overridable at run time with a TOML file (see [`Catalog::with_override_file`]), so a
//! department can follow a new adequacy decision without waiting for a release.
//!
//! Fail-safe rules: a location the catalog cannot place is [`JurisdictionClass::Unknown`],
//! never EEA; a location spanning several countries takes its worst country.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Provider;

const AWS_CSV: &str = include_str!("../catalog/aws.csv");
const AZURE_CSV: &str = include_str!("../catalog/azure.csv");
const GCP_CSV: &str = include_str!("../catalog/gcp.csv");
const GCP_PRODUCTS_CSV: &str = include_str!("../catalog/gcp-products.csv");
const GCP_PRODUCT_SERVICES_CSV: &str = include_str!("../catalog/gcp-product-services.csv");
const EEA_CSV: &str = include_str!("../catalog/eea.csv");
const ADEQUACY_CSV: &str = include_str!("../catalog/adequacy.csv");
const C2000_CSV: &str = include_str!("../catalog/c2000.csv");
const COUNTRIES_CSV: &str = include_str!("../catalog/countries.csv");
const PROVIDERS_CSV: &str = include_str!("../catalog/providers.csv");
const VERSION: &str = include_str!("../catalog/VERSION");

/// The jurisdiction class of a location on a date, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JurisdictionClass {
    /// Inside the European Economic Area (policy condition 9a).
    Eea,
    /// In a country with an EU adequacy decision in force (condition 9b).
    Adequacy,
    /// The catalog cannot place this location. Never treated as EEA.
    Unknown,
    /// Outside the EEA without adequacy: needs an art. 46 instrument (condition 9c).
    ThirdCountry,
    /// In a country excluded by the C2000 criteria (condition 7).
    C2000Excluded,
}

impl JurisdictionClass {
    /// Every class, best first.
    pub const ALL: [JurisdictionClass; 5] = [
        JurisdictionClass::Eea,
        JurisdictionClass::Adequacy,
        JurisdictionClass::Unknown,
        JurisdictionClass::ThirdCountry,
        JurisdictionClass::C2000Excluded,
    ];

    /// The kebab-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            JurisdictionClass::Eea => "eea",
            JurisdictionClass::Adequacy => "adequacy",
            JurisdictionClass::Unknown => "unknown",
            JurisdictionClass::ThirdCountry => "third-country",
            JurisdictionClass::C2000Excluded => "c2000-excluded",
        }
    }

    /// Outside the EEA and adequacy: a transfer needs a 9c safeguard (or is C2000-excluded).
    /// `unknown` is not included: it has its own rule (location unknown).
    pub fn needs_safeguards(self) -> bool {
        matches!(
            self,
            JurisdictionClass::ThirdCountry | JurisdictionClass::C2000Excluded
        )
    }

    /// Whether personal data may sit here under condition 9a or 9b without further
    /// safeguards.
    pub fn is_eea_or_adequate(self) -> bool {
        matches!(self, JurisdictionClass::Eea | JurisdictionClass::Adequacy)
    }
}

impl fmt::Display for JurisdictionClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of place a catalog location is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocationKind {
    /// A provider region.
    Region,
    /// A Google Cloud multi-region (`eu`, `us`, `asia`).
    MultiRegion,
    /// A Google Cloud predefined dual-region (`eur4`, `nam4`, ...).
    DualRegion,
    /// An AWS Local Zone (may sit in another country than its parent region).
    LocalZone,
    /// An AWS Wavelength Zone.
    WavelengthZone,
    /// Non-regional (`global`): no single location.
    Global,
}

impl FromStr for LocationKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "region" => LocationKind::Region,
            "multi-region" => LocationKind::MultiRegion,
            "dual-region" => LocationKind::DualRegion,
            "local-zone" => LocationKind::LocalZone,
            "wavelength-zone" => LocationKind::WavelengthZone,
            "global" => LocationKind::Global,
            other => {
                return Err(format!(
                    "unknown kind '{other}': expected region, multi-region, dual-region, \
                     local-zone, wavelength-zone or global"
                ));
            }
        })
    }
}

/// One location of one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocationEntry {
    /// The provider.
    pub provider: Provider,
    /// Canonical lower-case name (`eu-west-1`, `westeurope`, `europe-west4`, `eur4`).
    pub location: String,
    /// Region, multi-region, zone, ...
    pub kind: LocationKind,
    /// ISO 3166-1 alpha-2 countries the data may sit in. Empty for `global`.
    pub countries: Vec<String>,
    /// City or area.
    pub city: String,
    /// Provider partition or cloud (`aws`, `aws-cn`, `public`, `china`, `usgov`).
    pub partition: String,
    /// AWS: whether the region must be opted in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_in: Option<bool>,
    /// AWS Local/Wavelength Zones: the parent region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Azure: the paired region (geo-redundant storage secondary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pair: Option<String>,
    /// Google dual-regions: the member regions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// Free-text note.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A country's membership of the EEA (for data-protection purposes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EeaMember {
    /// ISO alpha-2.
    pub country: String,
    /// English short name.
    pub name: String,
    /// First day of membership.
    pub since: NaiveDate,
    /// Last day of membership (the UK: 2020-12-31).
    pub until: Option<NaiveDate>,
}

/// An EU adequacy decision for one country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdequacyDecision {
    /// ISO alpha-2.
    pub country: String,
    /// Decision id, e.g. `(EU) 2023/1795`.
    pub decision: String,
    /// Title or short description.
    pub title: String,
    /// Adoption date.
    pub adopted: NaiveDate,
    /// First day the decision applies.
    pub valid_from: NaiveDate,
    /// Last day the decision applies, if it ended or has an end date.
    pub valid_until: Option<NaiveDate>,
    /// Scope note (partial decisions: Canada commercial organisations, Japan private sector).
    pub scope: String,
    /// True when transfers are adequate only to certified organisations (EU–US DPF).
    pub requires_certification: bool,
    /// Free-text note.
    pub note: String,
}

impl AdequacyDecision {
    /// Whether the decision applies on `date`.
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_until.is_none_or(|u| date <= u)
    }
}

/// Who a provider or sub-processor answers to: its parent company, the country of that
/// parent's home jurisdiction, and the laws there that reach its data wherever it is kept
/// (`providers.csv`, `[[provider]]` in an override file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderFacts {
    /// Key: `aws`, `azure`, `gcp` for the scanned providers; any other name for a
    /// sub-processor.
    pub provider: String,
    /// Lower-case words that name it in the register (matched as substrings).
    pub aliases: Vec<String>,
    /// Display name.
    pub name: String,
    /// Parent company.
    pub parent: String,
    /// ISO alpha-2 country of the parent's home jurisdiction.
    pub home_country: String,
    /// Laws of that jurisdiction that reach the provider's data outside it.
    pub laws: Vec<String>,
    /// Where the facts come from (URLs).
    pub sources: Vec<String>,
    /// Free-text note.
    pub note: String,
}

impl ProviderFacts {
    /// Whether `name` (a register cell) names this provider.
    pub fn matches(&self, name: &str) -> bool {
        let l = name.to_ascii_lowercase();
        self.aliases.iter().any(|a| l.contains(a.as_str()))
    }
}

/// Settings that change the class of a country for a particular provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassifyOptions {
    /// Whether the provider is certified under the EU–US Data Privacy Framework. Decisions
    /// that require certification only count when this is true.
    pub dpf_certified: bool,
}

impl Default for ClassifyOptions {
    /// Amazon, Microsoft and Google are DPF-certified; the default reflects that.
    fn default() -> Self {
        ClassifyOptions {
            dpf_certified: true,
        }
    }
}

/// The class of one country on one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountryClass {
    /// ISO alpha-2.
    pub country: String,
    /// Its class.
    pub class: JurisdictionClass,
    /// Why: `EEA`, the adequacy decision id, `C2000`, or why there is no adequacy.
    pub basis: String,
}

/// Where a provider location is and what that means on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// The provider.
    pub provider: Provider,
    /// The spelling that was asked about.
    pub input: String,
    /// Canonical spelling (even when unknown: lower-cased, trimmed).
    pub location: String,
    /// Kind of location, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<LocationKind>,
    /// City or area, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Countries the data may sit in.
    pub countries: Vec<String>,
    /// The worst class over the countries.
    pub class: JurisdictionClass,
    /// Why, in a few words.
    pub basis: String,
    /// The class of each country.
    pub per_country: Vec<CountryClass>,
    /// For a code several products use (`eur5`: Cloud Storage and Spanner): every meaning,
    /// as `product/code` (or the plain code for the meaning of products without a row of
    /// their own), with its countries. Empty when the code has one meaning.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
}

/// A problem in the catalog data or an override file.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// One or more rows are invalid. Every problem is listed.
    #[error("invalid location catalog:\n{}", .problems.join("\n"))]
    Invalid {
        /// One line per problem, each naming file and row.
        problems: Vec<String>,
    },
    /// The override file could not be read.
    #[error("cannot read catalog override file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The location catalog and jurisdiction table.
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: BTreeMap<(Provider, String), LocationEntry>,
    eea: Vec<EeaMember>,
    adequacy: Vec<AdequacyDecision>,
    c2000: BTreeSet<String>,
    countries: BTreeMap<String, String>,
    /// Cloud Asset Inventory service (`spanner.googleapis.com`) → catalog product (`spanner`).
    gcp_services: BTreeMap<String, String>,
    /// Provider facts by key.
    providers: BTreeMap<String, ProviderFacts>,
    version: String,
}

/// A location row as written in `aws.csv` / `azure.csv` / `gcp.csv` and in the
/// `[[location]]` tables of an override file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationRow {
    #[serde(default)]
    provider: Option<String>,
    location: String,
    kind: String,
    #[serde(default)]
    countries: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    partition: String,
    #[serde(default)]
    opt_in: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    pair: String,
    #[serde(default)]
    components: String,
    #[serde(default)]
    note: String,
}

/// A row of `gcp-products.csv`: a location code as one product uses it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductLocationRow {
    product: String,
    location: String,
    kind: String,
    countries: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    components: String,
    #[serde(default)]
    note: String,
}

/// A row of `gcp-product-services.csv`: asset-type service → catalog product.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductServiceRow {
    service: String,
    product: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EeaRow {
    country: String,
    #[serde(default)]
    name: String,
    since: String,
    #[serde(default)]
    until: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdequacyRow {
    country: String,
    decision: String,
    #[serde(default)]
    title: String,
    adopted: String,
    valid_from: String,
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    requires_certification: String,
    #[serde(default)]
    note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryRow {
    country: String,
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: String,
}

/// A row of `providers.csv` and of `[[provider]]` in an override file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderRow {
    provider: String,
    #[serde(default)]
    aliases: String,
    #[serde(default)]
    name: String,
    parent: String,
    home_country: String,
    #[serde(default)]
    laws: String,
    sources: String,
    #[serde(default)]
    note: String,
}

/// The run-time override file (TOML). Entries replace built-in entries with the same key
/// and add new ones; `c2000_excluded`, when present, replaces the default list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideFile {
    #[serde(default)]
    c2000_excluded: Option<Vec<String>>,
    #[serde(default)]
    location: Vec<LocationRow>,
    #[serde(default)]
    eea: Vec<EeaRow>,
    #[serde(default)]
    adequacy: Vec<AdequacyRow>,
    #[serde(default)]
    country: Vec<CountryRow>,
    #[serde(default)]
    provider: Vec<ProviderRow>,
}

/// Collects problems while parsing so every one is reported at once.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, at: &str, msg: impl fmt::Display) {
        self.0.push(format!("{at}: {msg}"));
    }

    fn date(&mut self, at: &str, field: &str, value: &str) -> Option<NaiveDate> {
        match NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.push(
                    at,
                    format!("{field} '{value}' is not a date (expected YYYY-MM-DD)"),
                );
                None
            }
        }
    }

    fn opt_date(&mut self, at: &str, field: &str, value: &str) -> Option<NaiveDate> {
        if value.trim().is_empty() {
            None
        } else {
            self.date(at, field, value)
        }
    }

    fn country(&mut self, at: &str, value: &str) -> Option<String> {
        let c = value.trim();
        if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
            Some(c.to_string())
        } else {
            self.push(
                at,
                format!("'{value}' is not an ISO 3166-1 alpha-2 code (two upper-case letters)"),
            );
            None
        }
    }

    fn bool(&mut self, at: &str, field: &str, value: &str) -> Option<bool> {
        match value.trim() {
            "" => None,
            "true" => Some(true),
            "false" => Some(false),
            other => {
                self.push(
                    at,
                    format!("{field} '{other}' must be true, false or empty"),
                );
                None
            }
        }
    }
}

fn read_csv<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
    problems: &mut Problems,
) -> Vec<(String, T)> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.push(file, e);
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let at = format!("{file} line {line}");
                match record.deserialize::<T>(Some(&headers)) {
                    Ok(v) => out.push((at, v)),
                    Err(e) => problems.push(&at, e),
                }
            }
            Ok(false) => break,
            Err(e) => {
                problems.push(file, e);
                break;
            }
        }
    }
    out
}

fn split_plus(value: &str) -> Vec<String> {
    value
        .split('+')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn non_empty(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_string())
}

impl Catalog {
    /// The catalog compiled into this binary.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        let mut problems = Problems::default();
        let mut catalog = Catalog {
            entries: BTreeMap::new(),
            eea: Vec::new(),
            adequacy: Vec::new(),
            c2000: BTreeSet::new(),
            countries: BTreeMap::new(),
            gcp_services: BTreeMap::new(),
            providers: BTreeMap::new(),
            version: String::new(),
        };
        for (file, provider, text) in [
            ("aws.csv", Provider::Aws, AWS_CSV),
            ("azure.csv", Provider::Azure, AZURE_CSV),
            ("gcp.csv", Provider::Gcp, GCP_CSV),
        ] {
            for (at, row) in read_csv::<LocationRow>(file, text, &mut problems) {
                catalog.add_location(&at, provider, row, &mut problems);
            }
        }
        for (at, row) in
            read_csv::<ProductLocationRow>("gcp-products.csv", GCP_PRODUCTS_CSV, &mut problems)
        {
            let product = row.product.trim().to_ascii_lowercase();
            if product.is_empty() || product.contains('/') {
                problems.push(
                    &at,
                    format!("product '{product}' must be a name without '/'"),
                );
                continue;
            }
            let location = LocationRow {
                provider: None,
                location: format!("{product}/{}", row.location.trim()),
                kind: row.kind,
                countries: row.countries,
                city: row.city,
                partition: "public".to_string(),
                opt_in: String::new(),
                parent: String::new(),
                pair: String::new(),
                components: row.components,
                note: row.note,
            };
            catalog.add_location(&at, Provider::Gcp, location, &mut problems);
        }
        for (_, row) in read_csv::<ProductServiceRow>(
            "gcp-product-services.csv",
            GCP_PRODUCT_SERVICES_CSV,
            &mut problems,
        ) {
            catalog.gcp_services.insert(
                row.service.trim().to_ascii_lowercase(),
                row.product.trim().to_ascii_lowercase(),
            );
        }
        for (at, row) in read_csv::<EeaRow>("eea.csv", EEA_CSV, &mut problems) {
            catalog.add_eea(&at, row, &mut problems);
        }
        for (at, row) in read_csv::<AdequacyRow>("adequacy.csv", ADEQUACY_CSV, &mut problems) {
            catalog.add_adequacy(&at, row, &mut problems);
        }
        for (at, row) in read_csv::<CountryRow>("c2000.csv", C2000_CSV, &mut problems) {
            if let Some(c) = problems.country(&at, &row.country) {
                catalog.c2000.insert(c);
            }
        }
        for (at, row) in read_csv::<CountryRow>("countries.csv", COUNTRIES_CSV, &mut problems) {
            if let Some(c) = problems.country(&at, &row.country) {
                catalog.countries.insert(c, row.name);
            }
        }
        for (at, row) in read_csv::<ProviderRow>("providers.csv", PROVIDERS_CSV, &mut problems) {
            catalog.add_provider(&at, row, &mut problems);
        }
        let mut hasher = Sha256::new();
        for text in [
            AWS_CSV,
            AZURE_CSV,
            GCP_CSV,
            GCP_PRODUCTS_CSV,
            GCP_PRODUCT_SERVICES_CSV,
            EEA_CSV,
            ADEQUACY_CSV,
            C2000_CSV,
            COUNTRIES_CSV,
            PROVIDERS_CSV,
        ] {
            hasher.update(text.as_bytes());
        }
        catalog.version = format!("{}+{}", VERSION.trim(), short_hex(&hasher.finalize()));
        catalog.check_references(&mut problems);
        if problems.0.is_empty() {
            Ok(catalog)
        } else {
            Err(CatalogError::Invalid {
                problems: problems.0,
            })
        }
    }

    /// Applies a user override file (TOML) on top of this catalog. Every problem in the
    /// file is reported at once; on error the catalog is returned unchanged to no one.
    pub fn with_override_file(self, path: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
            path: path.display().to_string(),
            source,
        })?;
        self.with_override_str(&path.display().to_string(), &text)
    }

    /// Applies an override given as TOML text; `name` is used in error messages.
    pub fn with_override_str(mut self, name: &str, text: &str) -> Result<Catalog, CatalogError> {
        let file: OverrideFile = toml::from_str(text).map_err(|e| CatalogError::Invalid {
            problems: vec![format!("{name}: {e}")],
        })?;
        let mut problems = Problems::default();
        if let Some(list) = &file.c2000_excluded {
            let mut set = BTreeSet::new();
            for (i, c) in list.iter().enumerate() {
                if let Some(c) = problems.country(&format!("{name} c2000_excluded[{i}]"), c) {
                    set.insert(c);
                }
            }
            self.c2000 = set;
        }
        for (i, row) in file.location.into_iter().enumerate() {
            let at = format!("{name} [[location]] #{}", i + 1);
            let provider = match row.provider.as_deref().map(str::parse::<Provider>) {
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    problems.push(&at, e);
                    continue;
                }
                None => {
                    problems.push(&at, "missing key 'provider' (aws, azure or gcp)");
                    continue;
                }
            };
            self.add_location(&at, provider, row, &mut problems);
        }
        for (i, row) in file.eea.into_iter().enumerate() {
            let at = format!("{name} [[eea]] #{}", i + 1);
            let country = row.country.clone();
            self.eea.retain(|m| m.country != country);
            self.add_eea(&at, row, &mut problems);
        }
        for (i, row) in file.adequacy.into_iter().enumerate() {
            let at = format!("{name} [[adequacy]] #{}", i + 1);
            let key = (row.country.clone(), row.decision.clone());
            self.adequacy
                .retain(|d| (d.country.as_str(), d.decision.as_str()) != (&key.0, &key.1));
            self.add_adequacy(&at, row, &mut problems);
        }
        for (i, row) in file.country.into_iter().enumerate() {
            let at = format!("{name} [[country]] #{}", i + 1);
            if let Some(c) = problems.country(&at, &row.country) {
                self.countries.insert(c, row.name);
            }
        }
        for (i, row) in file.provider.into_iter().enumerate() {
            let at = format!("{name} [[provider]] #{}", i + 1);
            self.add_provider(&at, row, &mut problems);
        }
        self.check_references(&mut problems);
        if !problems.0.is_empty() {
            return Err(CatalogError::Invalid {
                problems: problems.0,
            });
        }
        let digest = Sha256::digest(text.as_bytes());
        self.version = format!("{}+override.{}", self.version, short_hex(&digest));
        Ok(self)
    }

    fn add_location(
        &mut self,
        at: &str,
        provider: Provider,
        row: LocationRow,
        problems: &mut Problems,
    ) {
        let location = row.location.trim().to_ascii_lowercase();
        if location.is_empty() {
            problems.push(at, "empty location");
            return;
        }
        let kind = match row.kind.parse::<LocationKind>() {
            Ok(k) => k,
            Err(e) => {
                problems.push(at, e);
                return;
            }
        };
        let mut countries = Vec::new();
        for c in split_plus(&row.countries) {
            if let Some(c) = problems.country(at, &c) {
                countries.push(c);
            }
        }
        if countries.is_empty() && kind != LocationKind::Global {
            problems.push(
                at,
                format!("location '{location}' has no countries (only kind 'global' may)"),
            );
        }
        let opt_in = problems.bool(at, "opt_in", &row.opt_in);
        let entry = LocationEntry {
            provider,
            location: location.clone(),
            kind,
            countries,
            city: row.city.trim().to_string(),
            partition: row.partition.trim().to_string(),
            opt_in,
            parent: non_empty(&row.parent).map(|s| s.to_ascii_lowercase()),
            pair: non_empty(&row.pair).map(|s| s.to_ascii_lowercase()),
            components: split_plus(&row.components.to_ascii_lowercase()),
            note: row.note.trim().to_string(),
        };
        self.entries.insert((provider, location), entry);
    }

    fn add_eea(&mut self, at: &str, row: EeaRow, problems: &mut Problems) {
        let country = problems.country(at, &row.country);
        let since = problems.date(at, "since", &row.since);
        let until = problems.opt_date(at, "until", &row.until);
        if let (Some(country), Some(since)) = (country, since) {
            self.eea.push(EeaMember {
                country,
                name: row.name,
                since,
                until,
            });
        }
    }

    fn add_adequacy(&mut self, at: &str, row: AdequacyRow, problems: &mut Problems) {
        let country = problems.country(at, &row.country);
        let adopted = problems.date(at, "adopted", &row.adopted);
        let valid_from = problems.date(at, "valid_from", &row.valid_from);
        let valid_until = problems.opt_date(at, "valid_until", &row.valid_until);
        let requires_certification = problems
            .bool(at, "requires_certification", &row.requires_certification)
            .unwrap_or(false);
        if row.decision.trim().is_empty() {
            problems.push(at, "empty decision id");
            return;
        }
        if let (Some(country), Some(adopted), Some(valid_from)) = (country, adopted, valid_from) {
            self.adequacy.push(AdequacyDecision {
                country,
                decision: row.decision.trim().to_string(),
                title: row.title.trim().to_string(),
                adopted,
                valid_from,
                valid_until,
                scope: row.scope.trim().to_string(),
                requires_certification,
                note: row.note.trim().to_string(),
            });
        }
    }

    fn add_provider(&mut self, at: &str, row: ProviderRow, problems: &mut Problems) {
        let key = row.provider.trim().to_ascii_lowercase();
        if key.is_empty() {
            problems.push(
                at,
                "empty provider key (aws, azure, gcp or a sub-processor name)",
            );
            return;
        }
        let country = problems.country(at, &row.home_country);
        let sources = split_plus(&row.sources);
        if sources.is_empty() {
            problems.push(
                at,
                format!(
                    "provider '{key}' cites no source: name where its facts come from in 'sources'"
                ),
            );
        }
        let mut aliases = split_plus(&row.aliases.to_ascii_lowercase());
        if aliases.is_empty() {
            aliases.push(key.clone());
        }
        if let Some(home_country) = country {
            let name = non_empty(&row.name).unwrap_or_else(|| key.clone());
            self.providers.insert(
                key.clone(),
                ProviderFacts {
                    provider: key,
                    aliases,
                    name,
                    parent: row.parent.trim().to_string(),
                    home_country,
                    laws: split_plus(&row.laws),
                    sources,
                    note: row.note.trim().to_string(),
                },
            );
        }
    }

    /// Cross-checks: pairs, parents and components must exist.
    fn check_references(&self, problems: &mut Problems) {
        for ((provider, location), e) in &self.entries {
            let refs = e
                .pair
                .iter()
                .chain(e.parent.iter())
                .chain(e.components.iter());
            for r in refs {
                if !self.entries.contains_key(&(*provider, r.clone())) {
                    problems.push(
                        &format!("{provider} location '{location}'"),
                        format!("refers to '{r}', which is not in the catalog"),
                    );
                }
            }
        }
    }

    /// Every provider's facts, by key.
    pub fn provider_facts(&self) -> impl Iterator<Item = &ProviderFacts> {
        self.providers.values()
    }

    /// The facts of a scanned provider.
    pub fn facts_of(&self, provider: Provider) -> Option<&ProviderFacts> {
        self.providers.get(provider.as_str())
    }

    /// The facts of the providers and sub-processors a register cell names.
    pub fn facts_named(&self, name: &str) -> impl Iterator<Item = &ProviderFacts> {
        self.providers.values().filter(move |p| p.matches(name))
    }

    /// Whether `country` is an EEA member on `date`.
    pub fn is_eea_member(&self, country: &str, date: NaiveDate) -> bool {
        self.eea
            .iter()
            .any(|m| m.country == country && m.since <= date && m.until.is_none_or(|u| date <= u))
    }

    /// The catalog's version: data date plus a digest of the data (and of any override).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every location, ordered by provider then name.
    pub fn entries(&self) -> impl Iterator<Item = &LocationEntry> {
        self.entries.values()
    }

    /// Every adequacy decision in the table.
    pub fn adequacy_decisions(&self) -> &[AdequacyDecision] {
        &self.adequacy
    }

    /// EEA membership rows.
    pub fn eea_members(&self) -> &[EeaMember] {
        &self.eea
    }

    /// The C2000-excluded countries in effect.
    pub fn c2000_excluded(&self) -> &BTreeSet<String> {
        &self.c2000
    }

    /// English name of a country code, if known.
    pub fn country_name(&self, code: &str) -> Option<&str> {
        self.countries.get(code).map(String::as_str)
    }

    /// The entry for an already-canonical location.
    pub fn get(&self, provider: Provider, location: &str) -> Option<&LocationEntry> {
        self.entries.get(&(provider, location.to_string()))
    }

    /// Normalises a provider's spelling of a location to the catalog's canonical form.
    ///
    /// * AWS: S3's empty/`null` constraint is `us-east-1`, legacy `EU` is `eu-west-1`;
    ///   availability zones (`eu-west-1a`) become their region; Local Zones
    ///   (`us-east-1-qro-1a`) become their zone group (`us-east-1-qro-1`), which the
    ///   catalog places in its own country.
    /// * Azure: display names (`West Europe`, `(Europe) West Europe`) become programmatic
    ///   names (`westeurope`).
    /// * Google Cloud: upper case (`EUROPE-WEST4`, `EU`, `NAM4`) becomes lower case;
    ///   zones (`europe-west4-a`) become their region.
    ///
    /// A spelling the catalog does not know is returned trimmed and lower-cased; it then
    /// classifies as unknown.
    pub fn normalise(&self, provider: Provider, raw: &str) -> String {
        let t = raw.trim().to_ascii_lowercase();
        match provider {
            Provider::Aws => {
                if t.is_empty() || t == "null" || t == "none" || t == "us-standard" {
                    return "us-east-1".to_string();
                }
                if t == "eu" {
                    return "eu-west-1".to_string();
                }
                if self.get(provider, &t).is_some() {
                    return t;
                }
                // Availability zone or Local Zone: one trailing letter after a digit.
                let bytes = t.as_bytes();
                if bytes.len() > 2
                    && bytes[bytes.len() - 1].is_ascii_lowercase()
                    && bytes[bytes.len() - 2].is_ascii_digit()
                {
                    let stripped = &t[..t.len() - 1];
                    if self.get(provider, stripped).is_some() {
                        return stripped.to_string();
                    }
                }
                t
            }
            Provider::Azure => {
                // "(Europe) West Europe" -> "West Europe"
                let without_prefix = match (t.starts_with('('), t.find(')')) {
                    (true, Some(end)) => &t[end + 1..],
                    _ => t.as_str(),
                };
                without_prefix
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect()
            }
            Provider::Gcp => match t.split_once('/') {
                Some((product, code)) => self.gcp_for_product(product, code),
                None => {
                    let code = self.gcp_code(None, &t);
                    // A code only one product uses is that product's (`nam5` → Firestore).
                    match self.gcp_candidates(&code).as_slice() {
                        [only] if only.location.contains('/') => only.location.clone(),
                        _ => code,
                    }
                }
            },
        }
    }

    /// The catalog product of a resource type (Cloud Asset Inventory `assetType`,
    /// `spanner.googleapis.com/Instance` → `spanner`), from `gcp-product-services.csv`.
    pub fn gcp_product(&self, resource_type: &str) -> Option<&str> {
        let service = resource_type.split('/').next()?.trim().to_ascii_lowercase();
        self.gcp_services.get(&service).map(String::as_str)
    }

    /// Normalises a location as one product reports it. Use this whenever the product is
    /// known (a connector knows it from the resource type): the same code can mean other
    /// places in other products (`eur5` in Cloud Storage vs Spanner).
    ///
    /// The result is the product's row (`spanner/eur5`) when `gcp-products.csv` has one;
    /// else the plain code when that is unambiguous; else `product/code` (which reads as
    /// the plain code's meaning), so a stored location never becomes ambiguous later.
    pub fn normalise_for(&self, provider: Provider, product: Option<&str>, raw: &str) -> String {
        match (provider, product) {
            (Provider::Gcp, Some(product)) => {
                let t = raw.trim().to_ascii_lowercase();
                let code = t.split_once('/').map_or(t.as_str(), |(_, c)| c);
                self.gcp_for_product(&product.trim().to_ascii_lowercase(), code)
            }
            _ => self.normalise(provider, raw),
        }
    }

    /// [`Catalog::normalise_for`] with the product taken from the resource type.
    pub fn normalise_for_type(&self, provider: Provider, resource_type: &str, raw: &str) -> String {
        self.normalise_for(provider, self.gcp_product(resource_type), raw)
    }

    fn gcp_for_product(&self, product: &str, code: &str) -> String {
        let code = self.gcp_code(Some(product), code);
        let qualified = format!("{product}/{code}");
        if self.get(Provider::Gcp, &qualified).is_some() {
            return qualified;
        }
        let candidates = self.gcp_candidates(&code);
        if candidates.len() > 1 && !gcp_meanings_agree(&candidates) {
            // The plain code alone is ambiguous; keep the product so it stays resolvable.
            return qualified;
        }
        if self.get(Provider::Gcp, &code).is_some() {
            code
        } else {
            // Unknown to the catalog: keep the product, so the answer can say what to do.
            qualified
        }
    }

    /// Lower case; a zone becomes its region; Spanner's `regional-REGION` becomes REGION.
    fn gcp_code(&self, product: Option<&str>, raw: &str) -> String {
        let t = raw.trim().to_ascii_lowercase();
        let t = match (product, t.strip_prefix("regional-")) {
            (Some("spanner"), Some(region)) => region.to_string(),
            _ => t,
        };
        let known = |c: &str| {
            self.get(Provider::Gcp, c).is_some()
                || product.is_some_and(|p| self.get(Provider::Gcp, &format!("{p}/{c}")).is_some())
                || !self.gcp_candidates(c).is_empty()
        };
        if known(&t) {
            return t;
        }
        // Zone: region + "-" + one letter.
        if let Some((region, zone)) = t.rsplit_once('-')
            && zone.len() == 1
            && zone.bytes().all(|b| b.is_ascii_lowercase())
            && known(region)
        {
            return region.to_string();
        }
        t
    }

    /// Every meaning of a plain Google code: the row of `gcp.csv` (the meaning for every
    /// product without a row of its own) and each product's row, in catalog order.
    fn gcp_candidates(&self, code: &str) -> Vec<&LocationEntry> {
        self.entries
            .values()
            .filter(|e| e.provider == Provider::Gcp)
            .filter(|e| match e.location.split_once('/') {
                Some((_, c)) => c == code,
                None => e.location == code,
            })
            .collect()
    }

    /// The entry a canonical location reads as: its own row, or for `product/code`
    /// without a row of its own, the plain code's row.
    fn entry_for(&self, provider: Provider, location: &str) -> Option<&LocationEntry> {
        self.get(provider, location).or_else(|| match provider {
            Provider::Gcp => location
                .split_once('/')
                .and_then(|(_, code)| self.get(provider, code)),
            _ => None,
        })
    }

    /// Looks up a location in any provider spelling. A Google code that several products
    /// use with different places (`eur5`) has no single entry: `None`.
    pub fn lookup(&self, provider: Provider, raw: &str) -> Option<&LocationEntry> {
        let location = self.normalise(provider, raw);
        if self.ambiguous(provider, &location).is_some() {
            return None;
        }
        self.entry_for_agreeing(provider, &location)
    }

    /// [`Catalog::entry_for`], or for a plain Google code that only products define and
    /// whose meanings all span the same countries (`eur3`: Firestore and Spanner), the
    /// first of them — the countries, and so the class, are the same whichever it is.
    fn entry_for_agreeing(&self, provider: Provider, location: &str) -> Option<&LocationEntry> {
        self.entry_for(provider, location)
            .or_else(|| match provider {
                Provider::Gcp if !location.contains('/') => {
                    let all = self.gcp_candidates(location);
                    (gcp_meanings_agree(&all))
                        .then(|| all.first().copied())
                        .flatten()
                }
                _ => None,
            })
    }

    /// The differing meanings of a plain Google code, when it has more than one.
    /// A code whose only plain meaning is `global` (no countries, so `unknown` already)
    /// is not reported as ambiguous: `unknown` is the fail-safe answer either way.
    fn ambiguous(&self, provider: Provider, location: &str) -> Option<Vec<&LocationEntry>> {
        if provider != Provider::Gcp || location.contains('/') {
            return None;
        }
        if self
            .get(provider, location)
            .is_some_and(|e| e.countries.is_empty())
        {
            return None;
        }
        let candidates = self.gcp_candidates(location);
        (candidates.len() > 1 && !gcp_meanings_agree(&candidates)).then_some(candidates)
    }

    /// The class of one country on `date`.
    pub fn classify_country(
        &self,
        country: &str,
        date: NaiveDate,
        opts: ClassifyOptions,
    ) -> CountryClass {
        let mk = |class, basis: String| CountryClass {
            country: country.to_string(),
            class,
            basis,
        };
        if self.c2000.contains(country) {
            return mk(JurisdictionClass::C2000Excluded, "C2000".to_string());
        }
        let in_eea = self
            .eea
            .iter()
            .any(|m| m.country == country && m.since <= date && m.until.is_none_or(|u| date <= u));
        if in_eea {
            return mk(JurisdictionClass::Eea, "EEA".to_string());
        }
        let decisions: Vec<&AdequacyDecision> = self
            .adequacy
            .iter()
            .filter(|d| d.country == country)
            .collect();
        let mut in_force: Vec<&&AdequacyDecision> =
            decisions.iter().filter(|d| d.in_force_on(date)).collect();
        in_force.sort_by_key(|d| std::cmp::Reverse(d.valid_from));
        if let Some(d) = in_force
            .iter()
            .find(|d| !d.requires_certification || opts.dpf_certified)
        {
            return mk(JurisdictionClass::Adequacy, d.decision.clone());
        }
        let basis = if let Some(d) = in_force.first() {
            format!(
                "no adequacy: {} covers certified organisations only and the provider is \
                 not certified",
                d.decision
            )
        } else if let Some(d) = decisions
            .iter()
            .filter(|d| d.valid_until.is_some_and(|u| u < date))
            .max_by_key(|d| d.valid_until)
        {
            format!(
                "no adequacy decision in force ({} ended {})",
                d.decision,
                d.valid_until.map(|u| u.to_string()).unwrap_or_default()
            )
        } else if let Some(d) = decisions
            .iter()
            .filter(|d| d.valid_from > date)
            .min_by_key(|d| d.valid_from)
        {
            format!(
                "no adequacy decision in force ({} applies from {})",
                d.decision, d.valid_from
            )
        } else {
            "no adequacy decision".to_string()
        };
        mk(JurisdictionClass::ThirdCountry, basis)
    }

    /// Places a location (in any provider spelling) and classifies it on `date`.
    pub fn classify(
        &self,
        provider: Provider,
        raw: &str,
        date: NaiveDate,
        opts: ClassifyOptions,
    ) -> Placement {
        let location = self.normalise(provider, raw);
        if let Some(candidates) = self.ambiguous(provider, &location) {
            let names: Vec<String> = candidates
                .iter()
                .map(|e| format!("{} ({})", e.location, e.countries.join("+")))
                .collect();
            return Placement {
                provider,
                input: raw.to_string(),
                basis: format!(
                    "ambiguous: '{location}' means different places in different products: \
                     {}; name the product (locate --product, or PRODUCT/{location})",
                    names.join(", ")
                ),
                location,
                kind: None,
                city: None,
                countries: Vec::new(),
                class: JurisdictionClass::Unknown,
                per_country: Vec::new(),
                candidates: candidates.iter().map(|e| e.location.clone()).collect(),
            };
        }
        let Some(entry) = self.entry_for_agreeing(provider, &location) else {
            let basis = match provider {
                Provider::Aws if location.matches('-').count() >= 3 => {
                    "not in catalog (unknown Local Zone: it may be in another country \
                     than its parent region)"
                        .to_string()
                }
                Provider::Gcp if location.starts_with("spanner/custom-") => {
                    "not in catalog: a custom Spanner instance configuration; its regions are \
                     the replicas[].location of `gcloud spanner instance-configs describe` — add \
                     it to a catalog override as gcp location 'spanner/custom-…'"
                        .to_string()
                }
                _ => "not in catalog".to_string(),
            };
            return Placement {
                provider,
                input: raw.to_string(),
                location,
                kind: None,
                city: None,
                countries: Vec::new(),
                class: JurisdictionClass::Unknown,
                basis,
                per_country: Vec::new(),
                candidates: Vec::new(),
            };
        };
        let candidates: Vec<String> = match provider {
            Provider::Gcp if !location.contains('/') => {
                let all = self.gcp_candidates(&location);
                if all.len() > 1 {
                    all.iter().map(|e| e.location.clone()).collect()
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        };
        self.place(entry, raw, location, candidates, date, opts)
    }

    /// One catalog entry placed in its own meaning (for listings such as `regions`, where
    /// the plain row of a code several products use must still show its countries).
    pub fn classify_entry(
        &self,
        entry: &LocationEntry,
        date: NaiveDate,
        opts: ClassifyOptions,
    ) -> Placement {
        self.place(
            entry,
            &entry.location,
            entry.location.clone(),
            Vec::new(),
            date,
            opts,
        )
    }

    fn place(
        &self,
        entry: &LocationEntry,
        raw: &str,
        location: String,
        candidates: Vec<String>,
        date: NaiveDate,
        opts: ClassifyOptions,
    ) -> Placement {
        let provider = entry.provider;
        let per_country: Vec<CountryClass> = entry
            .countries
            .iter()
            .map(|c| self.classify_country(c, date, opts))
            .collect();
        let (class, basis) = match per_country.iter().map(|c| c.class).max() {
            None => (
                JurisdictionClass::Unknown,
                "global: no single location".to_string(),
            ),
            Some(worst) => {
                let mut bases: Vec<String> = Vec::new();
                let mixed = per_country.iter().any(|c| c.class != worst);
                for c in per_country.iter().filter(|c| c.class == worst) {
                    let b = if mixed || per_country.len() > 1 && !all_same_basis(&per_country) {
                        format!("{}: {}", c.country, c.basis)
                    } else {
                        c.basis.clone()
                    };
                    if !bases.contains(&b) {
                        bases.push(b);
                    }
                }
                (worst, bases.join("; "))
            }
        };
        Placement {
            provider,
            input: raw.to_string(),
            location,
            kind: Some(entry.kind),
            city: Some(entry.city.clone()),
            countries: entry.countries.clone(),
            class,
            basis,
            per_country,
            candidates,
        }
    }
}

/// Whether every meaning of a code spans the same countries: then a lookup without the
/// product is certain about the jurisdiction and need not be refused.
fn gcp_meanings_agree(candidates: &[&LocationEntry]) -> bool {
    let set = |e: &LocationEntry| e.countries.iter().cloned().collect::<BTreeSet<String>>();
    candidates.windows(2).all(|w| set(w[0]) == set(w[1]))
}

fn all_same_basis(per_country: &[CountryClass]) -> bool {
    per_country.windows(2).all(|w| w[0].basis == w[1].basis)
}

fn short_hex(digest: &[u8]) -> String {
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
