//! Scope mappings: "every resource in this account / subscription / resource group /
//! project belongs to this activity".
//!
//! Written in a register cell as `aws:123456789012`, `azure:<subscription-id>`,
//! `azure:<subscription-id>/<resource-group>` or `gcp:<project-id>`. The syntax is checked
//! here so a typo is a register error, not a resource that silently matches nothing.

use std::fmt;
use std::str::FromStr;

/// One parsed scope mapping. `Display` gives the canonical form stored in
/// [`Activity::scope_mappings`](super::Activity::scope_mappings).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScopeMapping {
    /// An AWS account (12 digits).
    Aws {
        /// Account id.
        account: String,
    },
    /// An Azure subscription, or one resource group in it.
    Azure {
        /// Subscription id (GUID, lower case).
        subscription: String,
        /// Resource group name as written (Azure compares these case-insensitively).
        resource_group: Option<String>,
    },
    /// A Google Cloud project (project id, not number).
    Gcp {
        /// Project id.
        project: String,
    },
}

impl ScopeMapping {
    /// A key for comparing two mappings: Azure resource groups compare case-insensitively.
    pub fn key(&self) -> String {
        self.to_string().to_ascii_lowercase()
    }
}

impl fmt::Display for ScopeMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeMapping::Aws { account } => write!(f, "aws:{account}"),
            ScopeMapping::Azure {
                subscription,
                resource_group: None,
            } => write!(f, "azure:{subscription}"),
            ScopeMapping::Azure {
                subscription,
                resource_group: Some(rg),
            } => write!(f, "azure:{subscription}/{rg}"),
            ScopeMapping::Gcp { project } => write!(f, "gcp:{project}"),
        }
    }
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Azure: 1–90 characters, letters, digits, `_ - . ( )`, not ending in `.`.
fn is_resource_group(s: &str) -> bool {
    (1..=90).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'))
        && !s.ends_with('.')
}

/// Google: 6–30 characters, lower-case letters, digits and hyphens, starting with a letter,
/// not ending with a hyphen.
fn is_project_id(s: &str) -> bool {
    (6..=30).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

const SYNTAX: &str = "write aws:<12-digit account>, azure:<subscription-id>, \
azure:<subscription-id>/<resource-group> or gcp:<project-id>";

impl FromStr for ScopeMapping {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let Some((provider, rest)) = t.split_once(':') else {
            return Err(format!("'{t}' is not a scope mapping; {SYNTAX}"));
        };
        let rest = rest.trim();
        match provider.trim().to_ascii_lowercase().as_str() {
            "aws" => {
                if rest.len() == 12 && rest.chars().all(|c| c.is_ascii_digit()) {
                    Ok(ScopeMapping::Aws {
                        account: rest.to_string(),
                    })
                } else {
                    Err(format!(
                        "'{t}': an AWS account id is 12 digits (aws:123456789012)"
                    ))
                }
            }
            "azure" => {
                let (sub, rg) = match rest.split_once('/') {
                    Some((s, r)) => (s.trim(), Some(r.trim())),
                    None => (rest, None),
                };
                if !is_guid(sub) {
                    return Err(format!(
                        "'{t}': an Azure subscription id is a GUID \
                         (azure:0b1f6d2e-1c3a-4e5f-8a9b-0c1d2e3f4a5b)"
                    ));
                }
                if let Some(rg) = rg
                    && !is_resource_group(rg)
                {
                    return Err(format!(
                        "'{t}': '{rg}' is not an Azure resource group name (1-90 letters, \
                         digits, _ - . ( ), not ending in .)"
                    ));
                }
                Ok(ScopeMapping::Azure {
                    subscription: sub.to_ascii_lowercase(),
                    resource_group: rg.map(str::to_string),
                })
            }
            "gcp" | "google" => {
                if is_project_id(rest) {
                    Ok(ScopeMapping::Gcp {
                        project: rest.to_string(),
                    })
                } else {
                    Err(format!(
                        "'{t}': a Google Cloud project id is 6-30 lower-case letters, digits \
                         and hyphens, starting with a letter (gcp:minvz-analytics)"
                    ))
                }
            }
            other => Err(format!("'{t}': unknown provider '{other}'; {SYNTAX}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<ScopeMapping, String> {
        s.parse()
    }

    #[test]
    fn the_four_forms_parse_to_their_canonical_text() {
        assert_eq!(
            p(" AWS:111122223333 ").unwrap().to_string(),
            "aws:111122223333"
        );
        assert_eq!(
            p("azure:0B1F6D2E-1C3A-4E5F-8A9B-0C1D2E3F4A5B")
                .unwrap()
                .to_string(),
            "azure:0b1f6d2e-1c3a-4e5f-8a9b-0c1d2e3f4a5b"
        );
        let rg = p("azure:7c8d9e0f-1a2b-4c3d-8e5f-6a7b8c9d0e1f/rg-zorgdata").unwrap();
        assert_eq!(
            rg,
            ScopeMapping::Azure {
                subscription: "7c8d9e0f-1a2b-4c3d-8e5f-6a7b8c9d0e1f".into(),
                resource_group: Some("rg-zorgdata".into())
            }
        );
        assert_eq!(
            p("gcp:minvz-analytics").unwrap().to_string(),
            "gcp:minvz-analytics"
        );
    }

    #[test]
    fn malformed_scopes_say_what_is_expected() {
        assert!(p("aws:1234").unwrap_err().contains("12 digits"));
        assert!(p("azure:not-a-guid").unwrap_err().contains("GUID"));
        assert!(
            p("azure:7c8d9e0f-1a2b-4c3d-8e5f-6a7b8c9d0e1f/rg.")
                .unwrap_err()
                .contains("resource group")
        );
        assert!(p("gcp:Minvz").unwrap_err().contains("project id"));
        assert!(p("gcp:abc").is_err());
        assert!(p("oracle:x").unwrap_err().contains("unknown provider"));
        assert!(p("111122223333").unwrap_err().contains("aws:<12-digit"));
    }

    #[test]
    fn resource_group_keys_ignore_case() {
        let a = p("azure:7c8d9e0f-1a2b-4c3d-8e5f-6a7b8c9d0e1f/RG-Zorgdata").unwrap();
        let b = p("azure:7c8d9e0f-1a2b-4c3d-8e5f-6a7b8c9d0e1f/rg-zorgdata").unwrap();
        assert_eq!(a.key(), b.key());
    }
}
