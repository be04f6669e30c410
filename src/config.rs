//! The configuration file `cloudcensus.toml`.
//!
//! Parsed in two phases, like cargo-deny: serde reads the typed structure, then a
//! validation pass collects *every* problem (unknown keys with their line, empty names,
//! missing files, duplicate source names, suppressions without a reason) so the user gets
//! the full list to fix at once. `CLOUDCENSUS_*` environment variables override the
//! top-level keys (for schedulers and containers). Relative paths are relative to the
//! directory of the config file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::Digest as _;

use crate::matching::MatchSettings;

mod keys;
use crate::rules::{Lang, RulePack, RuleSettings};
pub use keys::accepted_keys;

/// The default config file name.
pub const DEFAULT_PATH: &str = "cloudcensus.toml";

/// `cloudcensus.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// The organisation (ministry) this configuration scans, e.g.
    /// `Ministerie van Voorbeeldzaken`. Appears on the report cover and in file names.
    pub organisation: String,
    /// The register of processing activities (`.xlsx` or `.csv`).
    #[serde(default)]
    pub register: Option<PathBuf>,
    /// Sheet of the register workbook (default: the first sheet).
    #[serde(default)]
    pub register_sheet: Option<String>,
    /// The cloud annex (`.xlsx` or `.csv`, written by `cloudcensus register annex`): the
    /// policy's cloud facts per activity, joined on the activity number.
    #[serde(default)]
    pub register_annex: Option<PathBuf>,
    /// Sheet of the annex workbook (default: the first sheet).
    #[serde(default)]
    pub register_annex_sheet: Option<String>,
    /// The register's own column names: `"Onze kolomnaam" = "purpose"` (keys as in
    /// docs/register.md). They win over the built-in header names.
    #[serde(default)]
    pub register_columns: std::collections::BTreeMap<String, String>,
    /// The scan store: a SQLite file (relative to the config file), or a
    /// `postgresql://USER@HOST:PORT/DB` URL without a password (PGPASSWORD or .pgpass).
    #[serde(default = "default_store")]
    pub store: PathBuf,
    /// The rule pack.
    #[serde(default = "default_pack")]
    pub rule_pack: String,
    /// Upper bound on concurrent provider requests across all sources.
    #[serde(default = "default_concurrency")]
    pub max_concurrency: usize,
    /// Longest a whole scan may take, in seconds (default: no limit). When it is reached,
    /// what was listed is kept and every scope not completely listed is `error` coverage.
    #[serde(default)]
    pub scan_timeout_secs: Option<u64>,
    /// Location catalog override file (TOML).
    #[serde(default)]
    pub catalog: Option<PathBuf>,
    /// Language of findings and reports: `nl` (default) or `en`.
    #[serde(default)]
    pub lang: Lang,
    /// How resources are matched to activities.
    #[serde(default)]
    pub matching: MatchSettings,
    /// Severity overrides, suppressions, DPF certification.
    #[serde(default)]
    pub rules: RuleSettings,
    /// AWS sources (`[[aws]]`).
    #[cfg(feature = "aws")]
    #[serde(default)]
    pub aws: Vec<cloudcensus_aws::AwsSourceConfig>,
    /// Azure sources (`[[azure]]`).
    #[cfg(feature = "azure")]
    #[serde(default)]
    pub azure: Vec<cloudcensus_azure::AzureSourceConfig>,
    /// Google Cloud sources (`[[gcp]]`).
    #[cfg(feature = "gcp")]
    #[serde(default)]
    pub gcp: Vec<cloudcensus_gcp::GcpSourceConfig>,
    /// Where the file was read from.
    #[serde(skip)]
    pub path: PathBuf,
    /// SHA-256 (hex) of the file's text as read, recorded with every scan for audit.
    #[serde(skip)]
    pub digest: String,
}

impl Config {
    /// How to read the register (sheet, own column names, annex), from this configuration.
    pub fn register_source(&self) -> crate::register::Source {
        crate::register::Source {
            sheet: self.register_sheet.clone(),
            columns: self
                .register_columns
                .iter()
                .filter_map(|(h, k)| {
                    crate::register::columns::Field::from_key(k).map(|f| (h.clone(), f))
                })
                .collect(),
            annex: self.register_annex.clone(),
            annex_sheet: self.register_annex_sheet.clone(),
        }
    }
}

fn default_store() -> PathBuf {
    PathBuf::from("cloudcensus.db")
}

fn default_pack() -> String {
    "cloudbeleid-2022".into()
}

fn default_concurrency() -> usize {
    16
}

/// Every problem found in a config file.
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) in {path}:\n{}", .problems.len(), .problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    /// The file.
    pub path: String,
    /// One line each, with line numbers where known.
    pub problems: Vec<String>,
}

/// The environment overrides: variable → top-level key.
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("CLOUDCENSUS_ORGANISATION", "organisation"),
    ("CLOUDCENSUS_REGISTER", "register"),
    ("CLOUDCENSUS_STORE", "store"),
    ("CLOUDCENSUS_RULE_PACK", "rule_pack"),
    ("CLOUDCENSUS_MAX_CONCURRENCY", "max_concurrency"),
    ("CLOUDCENSUS_LANG", "lang"),
];

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Finds the line of a key path (`aws[0].regions`) in the TOML text.
fn locate(text: &str, path: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).ok()?;
    let mut table: &DeTable = doc.get_ref();
    let mut line = None;
    let segments: Vec<&str> = path.split('.').collect();
    for (i, seg) in segments.iter().enumerate() {
        let (name, index) = match seg.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (*seg, None),
        };
        let (key, value) = table.iter().find(|(k, _)| k.get_ref() == name)?;
        line = Some(line_of(text, key.span().start));
        let mut value = value.get_ref();
        if let (Some(ix), DeValue::Array(items)) = (index, value) {
            let item = items.get(ix)?;
            line = Some(line_of(text, item.span().start));
            value = item.get_ref();
        }
        if i + 1 < segments.len() {
            match value {
                DeValue::Table(t) => table = t,
                _ => return line,
            }
        }
    }
    line
}

impl Config {
    /// Reads, overrides from the environment, parses and validates `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.display().to_string(),
            problems: vec![if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "file not found. Create one with `cloudcensus config example > {}` and edit it, or pass --config PATH",
                    path.display()
                )
            } else {
                e.to_string()
            }],
        })?;
        Self::parse(path, &text, |k| std::env::var(k).ok())
    }

    /// Parses config text; `env` looks up override variables.
    pub fn parse(
        path: &Path,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let name = path.display().to_string();
        let fail = |problems: Vec<String>| ConfigError {
            path: name.clone(),
            problems,
        };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| fail(vec![e.to_string()]))?;
        let mut problems = Vec::new();
        for (var, key) in ENV_OVERRIDES {
            if let Some(v) = env(var) {
                let value = if *key == "max_concurrency" {
                    match v.trim().parse::<i64>() {
                        Ok(n) => toml::Value::Integer(n),
                        Err(_) => {
                            problems.push(format!(
                                "{var}='{v}': max_concurrency must be a whole number"
                            ));
                            continue;
                        }
                    }
                } else {
                    toml::Value::String(v)
                };
                table.insert(key.to_string(), value);
            }
        }
        let mut unknown = Vec::new();
        let de = toml::Value::Table(table.clone());
        let parsed: Result<Config, _> =
            serde_ignored::deserialize(de, |p| unknown.push(p.to_string()));
        // serde stops at the first bad value, so the keys after it are never visited:
        // check each top-level key on its own to name every unknown key and bad value.
        let mut value_errors = Vec::new();
        if parsed.is_err() {
            for (key, value) in &table {
                let single =
                    toml::Value::Table(toml::Table::from_iter([(key.clone(), value.clone())]));
                let r: Result<Config, _> = serde_ignored::deserialize(single, |p| {
                    let p = p.to_string();
                    if !unknown.contains(&p) {
                        unknown.push(p);
                    }
                });
                if let Err(e) = r {
                    let message = e.to_string();
                    if !message.contains("missing field") {
                        value_errors.push(key_error(text, key, &message));
                    }
                }
            }
        }
        for p in &unknown {
            let at = locate(text, p)
                .map(|l| format!("line {l}: "))
                .unwrap_or_default();
            match disabled_provider(p) {
                Some(provider) => problems.push(format!(
                    "{at}[[{provider}]] sources need the `{provider}` feature, and this cloudcensus was built without it: rebuild with `--features {provider}` or remove the table"
                )),
                None => problems.push(format!("{at}unknown key '{p}'")),
            }
        }
        let mut cfg = match parsed {
            Ok(c) => c,
            Err(e) => {
                if value_errors.is_empty() {
                    problems.push(source_field_error(text, &e.to_string()));
                }
                problems.extend(value_errors);
                return Err(fail(problems));
            }
        };
        cfg.path = path.to_path_buf();
        cfg.digest = crate::store::hash::to_hex(&sha2::Sha256::digest(text.as_bytes()));
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        if crate::store::postgres_url(&cfg.store).is_some() {
            // A URL is not a path; and a password never sits in the config file.
            if let Err(e) = crate::store::pgurl::refuse_password(&cfg.store.to_string_lossy()) {
                let at = locate(text, "store")
                    .map(|l| format!("line {l}: "))
                    .unwrap_or_default();
                problems.push(format!("{at}store: {e}"));
            }
        } else {
            cfg.store = resolve(&base, &cfg.store);
        }
        cfg.register = cfg.register.as_deref().map(|p| resolve(&base, p));
        cfg.register_annex = cfg.register_annex.as_deref().map(|p| resolve(&base, p));
        cfg.catalog = cfg.catalog.as_deref().map(|p| resolve(&base, p));
        cfg.validate(text, &mut problems);
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(fail(problems))
        }
    }

    fn validate(&self, text: &str, problems: &mut Vec<String>) {
        let at = |key: &str| {
            locate(text, key)
                .map(|l| format!("line {l}: "))
                .unwrap_or_default()
        };
        if self.organisation.trim().is_empty() {
            problems.push(format!("{}organisation is empty: name the ministry, e.g. \"Ministerie van Voorbeeldzaken\"", at("organisation")));
        }
        if let Some(r) = &self.register
            && !r.exists()
        {
            problems.push(format!(
                "{}register file {} does not exist",
                at("register"),
                r.display()
            ));
        }
        if let Some(r) = &self.register_annex
            && !r.exists()
        {
            problems.push(format!(
                "{}register_annex file {} does not exist (write one with `cloudcensus register annex`)",
                at("register_annex"),
                r.display()
            ));
        }
        if self.register_annex.is_some() && self.register.is_none() {
            problems.push(format!(
                "{}register_annex needs register: the annex is joined onto the register",
                at("register_annex")
            ));
        }
        for (header, key) in &self.register_columns {
            if crate::register::columns::Field::from_key(key).is_none() {
                problems.push(format!(
                    "{}register_columns.\"{header}\" = \"{key}\": unknown field; expected one of {}",
                    at("register_columns"),
                    crate::register::columns::Field::keys().join(", ")
                ));
            }
        }
        if let Some(c) = &self.catalog
            && !c.exists()
        {
            problems.push(format!(
                "{}catalog file {} does not exist",
                at("catalog"),
                c.display()
            ));
        }
        if self.max_concurrency == 0 {
            problems.push(format!(
                "{}max_concurrency must be at least 1",
                at("max_concurrency")
            ));
        }
        if self.scan_timeout_secs == Some(0) {
            problems.push(format!(
                "{}scan_timeout_secs must be at least 1 (leave it out for no limit)",
                at("scan_timeout_secs")
            ));
        }
        if let Err(e) = RulePack::builtin(&self.rule_pack) {
            problems.push(format!("{}{e}", at("rule_pack")));
        }
        if self.matching.tag_keys.is_empty() {
            problems.push(format!(
                "{}matching.tag_keys is empty: at least one tag key is needed",
                at("matching.tag_keys")
            ));
        }
        for (i, e) in self.matching.exclude_scopes.iter().enumerate() {
            let key = format!("matching.exclude_scopes[{i}]");
            if e.reason.trim().is_empty() {
                problems.push(format!("{}{key}: reason is required", at(&key)));
            }
            if !is_scope_mapping(&e.scope) {
                problems.push(format!(
                    "{}{key}: scope '{}' must look like aws:<account>, azure:<subscription>[/<resource-group>] or gcp:<project>",
                    at(&key),
                    e.scope
                ));
            }
        }
        let known: BTreeSet<String> = RulePack::builtin(&self.rule_pack)
            .map(|p| p.rules.into_iter().map(|r| r.code).collect())
            .unwrap_or_default();
        for code in self.rules.severity.keys() {
            if !known.is_empty() && !known.contains(code) {
                problems.push(format!(
                    "{}rules.severity: unknown code '{code}' (see `cloudcensus rules`)",
                    at("rules.severity")
                ));
            }
        }
        if !(1..=100).contains(&self.rules.max_provider_share) {
            problems.push(format!(
                "{}rules.max_provider_share = {}: give a percentage from 1 to 100 (the largest share of the material activities one provider may carry before CB-CONC reports it; default 75)",
                at("rules.max_provider_share"),
                self.rules.max_provider_share
            ));
        }
        if self.rules.concentration_min_activities == 0 {
            problems.push(format!(
                "{}rules.concentration_min_activities = 0: give at least 1 (below this many material activities CB-CONC does not weigh the share on one provider; default 10)",
                at("rules.concentration_min_activities"),
            ));
        }
        for (i, s) in self.rules.suppress.iter().enumerate() {
            let key = format!("rules.suppress[{i}]");
            if s.reason.trim().is_empty() {
                problems.push(format!("{}{key}: reason is required", at(&key)));
            }
            if s.resource.is_none() && s.activity.is_none() {
                problems.push(format!(
                    "{}{key}: give a resource or an activity it applies to",
                    at(&key)
                ));
            }
            if !known.is_empty() && !known.contains(&s.code) {
                problems.push(format!("{}{key}: unknown code '{}'", at(&key), s.code));
            }
        }
        self.validate_sources(text, problems);
        let mut names = BTreeSet::new();
        for (provider, name) in self.source_names() {
            if !names.insert((provider, name.clone())) {
                problems.push(format!(
                    "two [[{provider}]] sources are named '{name}': names must be unique"
                ));
            }
        }
    }

    /// Every problem of the `[[aws]]`, `[[azure]]` and `[[gcp]]` tables, each with the
    /// table's line.
    fn validate_sources(&self, text: &str, problems: &mut Vec<String>) {
        #[allow(unused_mut, unused_variables)]
        let mut push = |key: String, source: &str, p: Vec<String>| {
            let at = locate(text, &key)
                .map(|l| format!("line {l}: "))
                .unwrap_or_default();
            for one in p {
                problems.push(format!("{at}{key} ('{source}'): {one}"));
            }
        };
        #[cfg(feature = "aws")]
        for (i, s) in self.aws.iter().enumerate() {
            push(
                format!("aws[{i}]"),
                &s.name,
                s.validate().err().into_iter().collect(),
            );
        }
        #[cfg(feature = "azure")]
        for (i, s) in self.azure.iter().enumerate() {
            push(format!("azure[{i}]"), &s.name, s.problems());
        }
        #[cfg(feature = "gcp")]
        for (i, s) in self.gcp.iter().enumerate() {
            push(
                format!("gcp[{i}]"),
                &s.name,
                s.validate().err().unwrap_or_default(),
            );
        }
    }

    /// One line per configured source for `config check` and the scan's log: provider,
    /// name and what it points at (never a secret).
    pub fn source_summaries(&self) -> Vec<SourceSummary> {
        #[allow(unused_mut)]
        let mut out: Vec<SourceSummary> = Vec::new();
        #[cfg(feature = "aws")]
        out.extend(self.aws.iter().map(|s| SourceSummary {
            provider: "aws",
            name: s.name.clone(),
            detail: format!(
                "{}; endpoint {}",
                if s.organization {
                    "every account of the organization"
                } else {
                    "the credentials' account"
                },
                s.endpoint_url.as_deref().unwrap_or("AWS")
            ),
        }));
        #[cfg(feature = "azure")]
        out.extend(self.azure.iter().map(|s| {
            let subs = if s.subscriptions.is_empty() {
                "every readable subscription".to_string()
            } else {
                format!("{} subscription(s)", s.subscriptions.len())
            };
            let mg = s
                .management_group
                .as_deref()
                .map(|m| format!(" below management group {m}"))
                .unwrap_or_default();
            SourceSummary {
                provider: "azure",
                name: s.name.clone(),
                detail: format!(
                    "{subs}{mg}; credential {}; endpoint {}{}",
                    s.credential.as_str(),
                    s.arm_base(),
                    if s.storage_data_plane {
                        "; blob containers"
                    } else {
                        ""
                    }
                ),
            }
        }));
        #[cfg(feature = "gcp")]
        out.extend(self.gcp.iter().map(|s| SourceSummary {
            provider: "gcp",
            name: s.name.clone(),
            detail: format!(
                "{}; endpoints {}",
                s.scope,
                [
                    s.resourcemanager_endpoint.as_deref(),
                    s.asset_endpoint.as_deref(),
                    s.storage_endpoint.as_deref()
                ]
                .iter()
                .map(|e| e.unwrap_or("Google's"))
                .collect::<Vec<_>>()
                .join(", ")
            ),
        }));
        out
    }

    /// `(provider, name)` of every configured source.
    pub fn source_names(&self) -> Vec<(&'static str, String)> {
        #[allow(unused_mut)]
        let mut out: Vec<(&'static str, String)> = Vec::new();
        #[cfg(feature = "aws")]
        out.extend(self.aws.iter().map(|s| ("aws", s.name.clone())));
        #[cfg(feature = "azure")]
        out.extend(self.azure.iter().map(|s| ("azure", s.name.clone())));
        #[cfg(feature = "gcp")]
        out.extend(self.gcp.iter().map(|s| ("gcp", s.name.clone())));
        out
    }
}

/// One configured source, described for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSummary {
    /// `aws`, `azure` or `gcp`.
    pub provider: &'static str,
    /// The source's `name`.
    pub name: String,
    /// What it scans and where it connects.
    pub detail: String,
}

/// The provider whose table `key` is when that provider's feature is not built in.
fn disabled_provider(key: &str) -> Option<&'static str> {
    let top = key.split(['.', '[']).next().unwrap_or(key);
    match top {
        "aws" if cfg!(not(feature = "aws")) => Some("aws"),
        "azure" if cfg!(not(feature = "azure")) => Some("azure"),
        "gcp" if cfg!(not(feature = "gcp")) => Some("gcp"),
        _ => None,
    }
}

/// A bad value under top-level `key`, with its line: serde's message names neither.
fn key_error(text: &str, key: &str, message: &str) -> String {
    if message.contains("unknown field `") {
        return source_field_error(text, message);
    }
    let at = locate(text, key)
        .map(|l| format!("line {l}: "))
        .unwrap_or_default();
    // toml adds "\nin `key`" on a line of its own: the key is named already.
    let message = message.lines().next().unwrap_or(message).trim();
    format!("{at}{key}: {message}")
}

/// Adds the line to serde's "unknown field `x`" error, which the connector tables raise
/// (they deny unknown fields) without a position: the first source table holding that
/// key is the one.
fn source_field_error(text: &str, message: &str) -> String {
    let Some(field) = message
        .split_once("unknown field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(f, _)| f)
    else {
        return message.to_string();
    };
    for provider in ["aws", "azure", "gcp"] {
        for i in 0.. {
            let table = format!("{provider}[{i}]");
            if locate(text, &table).is_none() {
                break;
            }
            let key = format!("{table}.{field}");
            if let Some(line) = locate(text, &key) {
                return format!("line {line}: unknown key '{key}' ({message})");
            }
        }
    }
    message.to_string()
}

/// `p` relative to `base` unless absolute.
fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Whether a string is a scope mapping (`aws:…`, `azure:…`, `gcp:…`).
pub fn is_scope_mapping(s: &str) -> bool {
    let Some((p, rest)) = s.trim().split_once(':') else {
        return false;
    };
    matches!(p.to_ascii_lowercase().as_str(), "aws" | "azure" | "gcp") && !rest.trim().is_empty()
}

/// A commented example configuration (`cloudcensus config example`).
pub const EXAMPLE: &str = include_str!("../examples/cloudcensus.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/tmp/cloudcensus.toml"), text, |_| None)
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse("organisation = \"Ministerie van Voorbeeldzaken\"\n").unwrap();
        assert_eq!(c.rule_pack, "cloudbeleid-2022");
        assert_eq!(c.max_concurrency, 16);
        assert_eq!(c.store, Path::new("/tmp/cloudcensus.db"));
        assert_eq!(
            c.matching.tag_keys,
            ["verwerking", "processing-activity", "va-id"]
        );
    }

    #[test]
    fn a_wrong_typed_value_is_named_with_its_line_and_keys_after_it_are_still_checked() {
        let err = parse(
            "organisation = \"M\"\nmax_concurrency = \"many\"\nlang = 5\nzzz_extra = 1\n[matching]\ncolour = 1\n",
        )
        .unwrap_err();
        let msg = err.to_string();
        for want in [
            "line 2: max_concurrency: invalid type: string \"many\"",
            "line 3: lang: invalid type",
            "line 4: unknown key 'zzz_extra'",
            "line 6: unknown key 'matching.colour'",
        ] {
            assert!(msg.contains(want), "missing {want:?} in {msg}");
        }
    }

    #[test]
    fn every_problem_is_reported_at_once_with_lines() {
        let err = parse(
            "organisation = \"\"\nmax_concurrency = 0\nstoer = \"x.db\"\n\n[matching]\ntag_keys = []\ncolour = \"blue\"\n\n[[rules.suppress]]\ncode = \"CB-NOPE\"\nreason = \"\"\nexpires = 2027-01-01\n",
        )
        .unwrap_err();
        let msg = err.to_string();
        for want in [
            "line 3: unknown key 'stoer'",
            "line 7: unknown key 'matching.colour'",
            "organisation is empty",
            "max_concurrency must be at least 1",
            "tag_keys is empty",
            "unknown code 'CB-NOPE'",
            "reason is required",
            "give a resource or an activity",
        ] {
            assert!(msg.contains(want), "missing '{want}' in:\n{msg}");
        }
    }

    #[test]
    fn concentration_settings_out_of_range_are_refused_with_their_lines() {
        let err = parse(
            "organisation = \"M\"\n[rules]\nmax_provider_share = 0\nconcentration_min_activities = 0\n",
        )
        .unwrap_err()
        .to_string();
        for want in [
            "line 3: rules.max_provider_share = 0: give a percentage from 1 to 100",
            "line 4: rules.concentration_min_activities = 0: give at least 1",
        ] {
            assert!(err.contains(want), "missing {want:?} in {err}");
        }
        let c = parse("organisation = \"M\"\n[rules]\nmax_provider_share = 60\nconcentration_min_activities = 4\n")
            .unwrap();
        assert_eq!(
            (
                c.rules.max_provider_share,
                c.rules.concentration_min_activities
            ),
            (60, 4)
        );
        let err = parse("organisation = \"M\"\n[rules]\nmax_provider_share = 101\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_provider_share = 101"), "{err}");
    }

    #[test]
    fn scan_timeout_is_optional_and_zero_is_refused_with_its_line() {
        assert_eq!(
            parse("organisation = \"M\"\n").unwrap().scan_timeout_secs,
            None
        );
        let c = parse("organisation = \"M\"\nscan_timeout_secs = 7200\n").unwrap();
        assert_eq!(c.scan_timeout_secs, Some(7200));
        let err = parse("organisation = \"M\"\nscan_timeout_secs = 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2: scan_timeout_secs must be at least 1"),
            "{err}"
        );
    }

    #[test]
    fn environment_overrides_top_level_keys() {
        let c = Config::parse(
            Path::new("/etc/cloudcensus/cloudcensus.toml"),
            "organisation = \"A\"\n",
            |k| match k {
                "CLOUDCENSUS_ORGANISATION" => Some("Ministerie B".into()),
                "CLOUDCENSUS_MAX_CONCURRENCY" => Some("4".into()),
                _ => None,
            },
        )
        .unwrap();
        assert_eq!(c.organisation, "Ministerie B");
        assert_eq!(c.max_concurrency, 4);
    }

    #[test]
    fn bad_environment_number_is_named() {
        let err = Config::parse(Path::new("c.toml"), "organisation = \"A\"\n", |k| {
            (k == "CLOUDCENSUS_MAX_CONCURRENCY").then(|| "many".into())
        })
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("CLOUDCENSUS_MAX_CONCURRENCY='many'")
        );
    }

    #[test]
    #[cfg(all(feature = "azure", feature = "gcp"))]
    fn the_shipped_example_parses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cloudcensus.toml");
        // The example refers to the example register relative to the repository root.
        let text = EXAMPLE.replace(
            "register = \"examples/register.xlsx\"",
            &format!(
                "register = \"{}/examples/register.csv\"",
                env!("CARGO_MANIFEST_DIR")
            ),
        );
        let c = Config::parse(&path, &text, |_| None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.organisation, "Ministerie van Voorbeeldzaken");
        assert_eq!(
            c.source_names(),
            [
                ("azure", "minvz-azure".to_string()),
                ("gcp", "minvz-gcp".to_string())
            ]
        );
        assert_eq!(c.digest.len(), 64);
    }

    #[test]
    #[cfg(all(feature = "azure", feature = "gcp"))]
    fn unknown_and_invalid_source_keys_are_reported_with_their_line() {
        let err = parse(
            "organisation = \"A\"\n\n[[gcp]]\nname = \"g\"\nscope = \"projects/x\"\n\n[[azure]]\nname = \"a\"\nsubscription = \"s\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 9: unknown key 'azure[0].subscription'"),
            "{err}"
        );
        let err = parse(
            "organisation = \"A\"\n\n[[gcp]]\nname = \"g\"\nscope = \"projects/x\"\n\n[[azure]]\nname = \"a\"\nsubscriptions = [\"nope\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 3: gcp[0] ('g'): scope"), "{err}");
        assert!(err.contains("line 7: azure[0] ('a')"), "{err}");
        assert!(err.contains("\"nope\""), "{err}");
    }
}
