//! Rule packs as data: which codes apply, their severity, clause and texts, and the
//! messages of their findings (templates with named placeholders, see
//! [`message`](super::message)), checked and parsed once when the pack loads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::message::{Message, Template};
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
    /// The messages of its findings by key (`[rule.messages.KEY]`), with placeholders.
    #[serde(default)]
    pub messages: BTreeMap<String, MessageText>,
}

/// One finding message of a rule, in each language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageText {
    /// Dutch template.
    pub nl: String,
    /// English template.
    pub en: String,
}

impl MessageText {
    /// The template in `lang`.
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nl => &self.nl,
            Lang::En => &self.en,
        }
    }
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
    /// The messages parsed against what the rules fill in, by (code, key); [nl, en].
    #[serde(skip)]
    templates: BTreeMap<(String, String), [Template; 2]>,
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
        let mut pack = pack;
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
        let templates = parse_messages(&pack.rules, super::policy::messages(), &mut problems);
        if problems.is_empty() {
            pack.templates = templates;
            Ok(pack)
        } else {
            Err(RulePackError::Invalid {
                name: name.to_string(),
                problems,
            })
        }
    }

    /// The parsed template of `msg` in `lang`, when the pack has the rule.
    pub(crate) fn template(&self, msg: &Message, lang: Lang) -> Option<&Template> {
        let t = self
            .templates
            .get(&(msg.code.to_string(), msg.key.to_string()))?;
        Some(match lang {
            Lang::Nl => &t[0],
            Lang::En => &t[1],
        })
    }

    /// The rule with `code`, if the pack has it.
    pub fn rule(&self, code: &str) -> Option<&RuleInfo> {
        self.rules.iter().find(|r| r.code == code)
    }
}

/// Checks every rule's messages against the ones its code emits (`known`) and parses them:
/// a missing message, an unknown key, an unknown or unused placeholder is a problem naming
/// the rule, the key and the language.
fn parse_messages(
    rules: &[RuleInfo],
    known: impl Iterator<Item = &'static Message> + Clone,
    problems: &mut Vec<String>,
) -> BTreeMap<(String, String), [Template; 2]> {
    let mut out = BTreeMap::new();
    for r in rules {
        let expected: Vec<&Message> = known.clone().filter(|m| m.code == r.code).collect();
        for m in &expected {
            let Some(text) = r.messages.get(m.key) else {
                problems.push(format!(
                    "rule {}: message '{}' is missing: add [rule.messages.{}] with nl and en ({})",
                    r.code,
                    m.key,
                    m.key,
                    m.describe()
                ));
                continue;
            };
            let mut parsed = Vec::with_capacity(2);
            for (lang, t) in [("nl", &text.nl), ("en", &text.en)] {
                match Template::parse(m, t) {
                    Ok(p) => parsed.push(p),
                    Err(e) => problems.push(format!(
                        "rule {}, message '{}' ({lang}): {e}",
                        r.code, m.key
                    )),
                }
            }
            if let Ok(pair) = <[Template; 2]>::try_from(parsed) {
                out.insert((r.code.clone(), m.key.to_string()), pair);
            }
        }
        for key in r.messages.keys() {
            if !expected.iter().any(|m| m.key == key) {
                let keys: Vec<&str> = expected.iter().map(|m| m.key).collect();
                problems.push(format!(
                    "rule {}: unknown message '{key}'; this rule's messages are {}",
                    r.code,
                    if keys.is_empty() {
                        "none".to_string()
                    } else {
                        keys.join(", ")
                    }
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin_text() -> &'static str {
        BUILTIN[0].1
    }

    #[test]
    fn an_unknown_placeholder_is_an_error_naming_the_rule_and_key() {
        let text = builtin_text().replacen(
            "{type} '{name}' ({category}) is aan geen verwerking gekoppeld.",
            "{type} '{naam}' ({category}) is aan geen verwerking gekoppeld.",
            1,
        );
        let e = RulePack::parse("test", &text).unwrap_err().to_string();
        assert!(
            e.contains("rule CB-UNREG, message 'unlinked' (nl): unknown placeholder {naam}"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_placeholder_is_an_error_naming_the_rule_and_key() {
        let text = builtin_text().replacen(
            "{type} '{name}' ({category}) is linked to no register activity.",
            "{type} '{name}' is linked to no register activity.",
            1,
        );
        let e = RulePack::parse("test", &text).unwrap_err().to_string();
        assert!(
            e.contains("rule CB-UNREG, message 'unlinked' (en): placeholder {category} is missing"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_or_unknown_message_is_an_error_naming_the_rule_and_key() {
        let text =
            builtin_text().replacen("[rule.messages.unlinked]", "[rule.messages.unlinkd]", 1);
        let e = RulePack::parse("test", &text).unwrap_err().to_string();
        assert!(
            e.contains("rule CB-UNREG: message 'unlinked' is missing"),
            "{e}"
        );
        assert!(
            e.contains(
                "rule CB-UNREG: unknown message 'unlinkd'; this rule's messages are unlinked"
            ),
            "{e}"
        );
    }

    #[test]
    fn every_message_a_rule_emits_is_in_the_builtin_pack_in_both_languages() {
        let pack = RulePack::builtin("cloudbeleid-2022").unwrap();
        for m in super::super::policy::messages() {
            for lang in [Lang::Nl, Lang::En] {
                assert!(
                    pack.template(m, lang).is_some(),
                    "{} {} ({lang:?})",
                    m.code,
                    m.key
                );
            }
        }
    }
}
