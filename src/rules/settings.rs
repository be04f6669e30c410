//! Rule settings from the configuration file (`[rules]`): severity overrides per code,
//! suppressions with a reason and an expiry date, and DPF certification per provider.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cloudcensus_core::Provider;
use serde::{Deserialize, Serialize};

use super::Severity;

/// `[rules]` in `cloudcensus.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSettings {
    /// Per code: `allow` (drop), `warn` (severity low), `deny` (severity blocking), or a
    /// severity name.
    #[serde(default)]
    pub severity: BTreeMap<String, SeverityOverride>,
    /// Suppressions of individual findings.
    #[serde(default)]
    pub suppress: Vec<Suppression>,
    /// Whether each provider is certified under the EU–US Data Privacy Framework
    /// (default: AWS, Microsoft and Google are).
    #[serde(default = "default_dpf")]
    pub dpf_certified: BTreeMap<Provider, bool>,
    /// Tag keys that carry a classification (rubricering) on a resource.
    #[serde(default = "default_classification_keys")]
    pub classification_tag_keys: Vec<String>,
    /// CB-CONC: the largest share (percent, 1–100) of the material activities that may
    /// depend on one provider before it is reported as concentration (default 75).
    #[serde(default = "default_max_provider_share")]
    pub max_provider_share: u8,
    /// CB-CONC: below this many material activities the share on one provider says little
    /// and is not reported (default 10).
    #[serde(default = "default_concentration_min_activities")]
    pub concentration_min_activities: usize,
}

fn default_concentration_min_activities() -> usize {
    10
}

fn default_max_provider_share() -> u8 {
    75
}

fn default_dpf() -> BTreeMap<Provider, bool> {
    Provider::ALL.into_iter().map(|p| (p, true)).collect()
}

fn default_classification_keys() -> Vec<String> {
    vec!["rubricering".into(), "classification".into()]
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            severity: BTreeMap::new(),
            suppress: Vec::new(),
            dpf_certified: default_dpf(),
            classification_tag_keys: default_classification_keys(),
            max_provider_share: default_max_provider_share(),
            concentration_min_activities: default_concentration_min_activities(),
        }
    }
}

impl RuleSettings {
    /// Whether `provider` counts as DPF-certified.
    pub fn dpf(&self, provider: Provider) -> bool {
        self.dpf_certified.get(&provider).copied().unwrap_or(true)
    }
}

/// A per-code severity override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityOverride {
    /// Do not report this code.
    Allow,
    /// Report as `low`.
    Warn,
    /// Report as `blocking`.
    Deny,
    /// Report as `info`.
    Info,
    /// Report as `low`.
    Low,
    /// Report as `medium`.
    Medium,
    /// Report as `high`.
    High,
    /// Report as `blocking`.
    Blocking,
}

impl SeverityOverride {
    /// The resulting severity, or `None` for `allow`.
    pub fn apply(self) -> Option<Severity> {
        match self {
            SeverityOverride::Allow => None,
            SeverityOverride::Warn | SeverityOverride::Low => Some(Severity::Low),
            SeverityOverride::Deny | SeverityOverride::Blocking => Some(Severity::Blocking),
            SeverityOverride::Info => Some(Severity::Info),
            SeverityOverride::Medium => Some(Severity::Medium),
            SeverityOverride::High => Some(Severity::High),
        }
    }
}

/// A suppression: this code for this resource or activity is accepted until `expires`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// The rule code.
    pub code: String,
    /// Resource id it applies to (exact, case-insensitive).
    #[serde(default)]
    pub resource: Option<String>,
    /// Activity id it applies to.
    #[serde(default)]
    pub activity: Option<String>,
    /// Why (mandatory).
    pub reason: String,
    /// Last day it applies (mandatory).
    pub expires: NaiveDate,
}
