//! Rule packs as data: which codes apply, their severity, clause and texts.

use serde::{Deserialize, Serialize};

use super::{Lang, Severity};

/// The built-in packs: (name, TOML text).
const BUILTIN: &[(&str, &str)] = &[(
    "cloudbeleid-2022",
    include_str!("packs/cloudbeleid-2022.toml"),
)];

/// The codes the engine implements. A pack may only use these.
pub const KNOWN_CODES: &[&str] = &[
    "CB-STG",
    "CB-DEF",
    "CB-RUB",
    "CB-UNREG",
    "CB-UNKNOWN-ID",
    "CB-DPIA",
    "CB-EXIT",
    "CB-AUDIT",
    "CB-CHAR",
    "CB-FACTS",
    "CB-C2000",
    "CB-WOO",
    "CB-PD-LOC",
    "CB-BPD-LOC",
    "CB-BASIS",
    "CB-DRIFT",
    "CB-LOC-UNKNOWN",
    "CB-COVERAGE",
    "CB-STALE",
    "CB-SUPPRESS-EXPIRED",
    "CB-SUPPRESS-UNMATCHED",
    "CB-CONC",
];

/// One rule as described by a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInfo {
    /// Stable code.
    pub code: String,
    /// Default severity.
    pub severity: Severity,
    /// Policy clause (Dutch title + number).
    pub clause: String,
    /// Dutch title.
    pub title_nl: String,
    /// English title.
    pub title_en: String,
    /// Dutch explanation.
    pub explanation_nl: String,
    /// English explanation.
    pub explanation_en: String,
    /// Dutch action.
    pub action_nl: String,
    /// English action.
    pub action_en: String,
}

impl RuleInfo {
    /// Title in `lang`.
    pub fn title(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nl => &self.title_nl,
            Lang::En => &self.title_en,
        }
    }

    /// Explanation in `lang`.
    pub fn explanation(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nl => &self.explanation_nl,
            Lang::En => &self.explanation_en,
        }
    }

    /// Action in `lang`.
    pub fn action(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nl => &self.action_nl,
            Lang::En => &self.action_en,
        }
    }
}

/// A rule pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePack {
    /// Pack name (config `rule_pack`).
    pub name: String,
    /// Human title.
    pub title: String,
    /// The policy document it implements.
    pub source: String,
    /// The rules, in documentation order.
    #[serde(rename = "rule")]
    pub rules: Vec<RuleInfo>,
}

/// A rule pack that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RulePackError {
    /// No pack with that name.
    #[error("unknown rule pack '{name}': available packs are {available}")]
    Unknown {
        /// Requested name.
        name: String,
        /// Comma-separated list.
        available: String,
    },
    /// The pack's data is invalid.
    #[error("rule pack '{name}' is invalid:\n{}", .problems.join("\n"))]
    Invalid {
        /// Pack name.
        name: String,
        /// Every problem.
        problems: Vec<String>,
    },
}

impl RulePack {
    /// Names of the built-in packs.
    pub fn names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// Loads a built-in pack by name.
    pub fn builtin(name: &str) -> Result<RulePack, RulePackError> {
        let (_, text) =
            BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| RulePackError::Unknown {
                    name: name.to_string(),
                    available: Self::names().join(", "),
                })?;
        Self::parse(name, text)
    }

    /// Parses and checks a pack: valid TOML, unique codes, only codes the engine knows.
    pub fn parse(name: &str, text: &str) -> Result<RulePack, RulePackError> {
        let pack: RulePack = toml::from_str(text).map_err(|e| RulePackError::Invalid {
            name: name.to_string(),
            problems: vec![e.to_string()],
        })?;
        let mut problems = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for r in &pack.rules {
            if !seen.insert(r.code.as_str()) {
                problems.push(format!("code {} appears twice", r.code));
            }
            if !KNOWN_CODES.contains(&r.code.as_str()) {
                problems.push(format!(
                    "code {} has no implementation; known codes: {}",
                    r.code,
                    KNOWN_CODES.join(", ")
                ));
            }
        }
        if problems.is_empty() {
            Ok(pack)
        } else {
            Err(RulePackError::Invalid {
                name: name.to_string(),
                problems,
            })
        }
    }

    /// The rule with `code`, if the pack has it.
    pub fn rule(&self, code: &str) -> Option<&RuleInfo> {
        self.rules.iter().find(|r| r.code == code)
    }
}
