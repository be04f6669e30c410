//! Matching resources to register activities.
//!
//! A resource belongs to an activity when its activity tag names it. Tags are inherited:
//! the resource's own tag wins, then its resource group's tag (Azure), then its scope's
//! tag (account tag, subscription tag, project label), then a scope mapping in the
//! register ("every resource in account 1234 belongs to VA-2024-017"; a mapping of an
//! Azure resource group beats one of its subscription). The first level that names
//! anything decides; a tag may name several activities (`VA-1,VA-2`) and the resource
//! keeps all of them.
//!
//! Ids are compared after the normalisation Google labels force on them
//! ([`normalise_id`]): `VA-2024-017` matches the label `va-2024-017`.
//!
//! This is a pure function of (register, scopes, groups, settings) and a resource.

use std::collections::HashMap;

use cloudcensus_core::{Provider, Resource, ResourceGroup, Scope};
use serde::{Deserialize, Serialize};

use crate::register::{Register, normalise_id, normalise_id_into};
use crate::rules::shared::FastMap;

/// The default tag keys that carry an activity id.
pub const DEFAULT_TAG_KEYS: [&str; 3] = ["verwerking", "processing-activity", "va-id"];

/// Where a resource's activity link came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkSource {
    /// The resource's own tag or label.
    ResourceTag,
    /// Its resource group's tag.
    GroupTag,
    /// Its account / subscription / project tag.
    ScopeTag,
    /// A register scope mapping of its resource group.
    GroupMapping,
    /// A register scope mapping of its account / subscription / project.
    ScopeMapping,
}

impl LinkSource {
    /// Short label for output.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkSource::ResourceTag => "resource-tag",
            LinkSource::GroupTag => "group-tag",
            LinkSource::ScopeTag => "scope-tag",
            LinkSource::GroupMapping => "group-mapping",
            LinkSource::ScopeMapping => "scope-mapping",
        }
    }
}

/// The outcome of matching one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    /// Indexes into `register.activities` of the activities the resource belongs to.
    pub activities: Vec<usize>,
    /// Where the link came from (None when unlinked).
    pub source: Option<LinkSource>,
    /// Tag values that name no activity in the register (`(tag key, value)`).
    pub unknown_ids: Vec<(String, String)>,
    /// Set when the resource sits in a scope excluded by configuration: the reason.
    pub excluded: Option<String>,
}

impl Match {
    /// Whether the security team must find this resource's owner: a data-bearing resource
    /// in a scope that is not excluded, linked to no activity (CB-UNREG) or carrying an
    /// activity id the register does not know (CB-UNKNOWN-ID). The scan looks these
    /// resources' creators up in the audit logs.
    pub fn needs_owner(&self, r: &Resource) -> bool {
        r.is_data_bearing()
            && self.excluded.is_none()
            && (self.activities.is_empty() || !self.unknown_ids.is_empty())
    }
}

/// Matching settings (config `[matching]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchSettings {
    /// Tag/label keys that carry activity ids (compared case-insensitively).
    #[serde(default = "default_tag_keys")]
    pub tag_keys: Vec<String>,
    /// Scopes that are not material use (sandboxes), with the reason. Resources there are
    /// reported as excluded, not as unregistered.
    #[serde(default)]
    pub exclude_scopes: Vec<ExcludedScope>,
}

/// A scope excluded from material use by configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedScope {
    /// `aws:<account>`, `azure:<subscription>[/<resource-group>]`, `gcp:<project>`.
    pub scope: String,
    /// Why it is not material (required).
    pub reason: String,
}

fn default_tag_keys() -> Vec<String> {
    DEFAULT_TAG_KEYS.iter().map(|s| s.to_string()).collect()
}

impl Default for MatchSettings {
    fn default() -> Self {
        MatchSettings {
            tag_keys: default_tag_keys(),
            exclude_scopes: Vec::new(),
        }
    }
}

/// The key of a scope mapping: `aws:123456789012`, `azure:<sub>`, `azure:<sub>/<rg>`,
/// `gcp:<project>`, lower-cased.
pub fn scope_key(provider: Provider, scope_id: &str, group: Option<&str>) -> String {
    match group {
        Some(g) => format!("{provider}:{}/{}", scope_id, g).to_ascii_lowercase(),
        None => format!("{provider}:{scope_id}").to_ascii_lowercase(),
    }
}

/// Normalises a mapping as written in the register or config to a [`scope_key`].
pub fn normalise_mapping(mapping: &str) -> String {
    let m = mapping.trim().to_ascii_lowercase();
    // Accept an ARM-style "azure:<sub>/resourceGroups/<rg>" as well as "azure:<sub>/<rg>".
    m.replace("/resourcegroups/", "/")
}

/// A matcher built once per (register, scan); [`Matcher::resource`] is then cheap.
pub struct Matcher<'a> {
    register: &'a Register,
    by_id: FastMap<String, usize>,
    mappings: HashMap<String, Vec<usize>>,
    excluded: HashMap<String, String>,
    scope_tags: HashMap<(Provider, String), Vec<(String, String)>>,
    group_tags: HashMap<String, Vec<(String, String)>>,
    keys: Vec<String>,
}

impl<'a> Matcher<'a> {
    /// Indexes the register, the scopes' and groups' tags, and the settings.
    pub fn new(
        register: &'a Register,
        scopes: &[Scope],
        groups: &[ResourceGroup],
        settings: &MatchSettings,
    ) -> Self {
        let keys: Vec<String> = settings
            .tag_keys
            .iter()
            .map(|k| k.trim().to_ascii_lowercase())
            .collect();
        let mut by_id = FastMap::default();
        let mut mappings: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, a) in register.activities.iter().enumerate() {
            by_id.entry(normalise_id(&a.id)).or_insert(i);
            for m in &a.scope_mappings {
                mappings.entry(normalise_mapping(m)).or_default().push(i);
            }
        }
        let pick = |tags: &std::collections::BTreeMap<String, String>| -> Vec<(String, String)> {
            tags.iter()
                .filter(|(k, _)| keys.contains(&k.trim().to_ascii_lowercase()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let scope_tags = scopes
            .iter()
            .map(|s| ((s.provider, s.id.to_ascii_lowercase()), pick(&s.tags)))
            .filter(|(_, t)| !t.is_empty())
            .collect();
        let group_tags = groups
            .iter()
            .map(|g| {
                (
                    scope_key(g.provider, &g.scope_id, Some(&g.name)),
                    pick(&g.tags),
                )
            })
            .filter(|(_, t)| !t.is_empty())
            .collect();
        let excluded = settings
            .exclude_scopes
            .iter()
            .map(|e| (normalise_mapping(&e.scope), e.reason.clone()))
            .collect();
        Matcher {
            register,
            by_id,
            mappings,
            excluded,
            scope_tags,
            group_tags,
            keys,
        }
    }

    /// The register this matcher was built for.
    pub fn register(&self) -> &Register {
        self.register
    }

    fn resolve<K: AsRef<str>, V: AsRef<str>>(&self, tags: &[(K, V)], out: &mut Match) {
        let mut id = String::new();
        for (key, value) in tags {
            let (key, value) = (key.as_ref(), value.as_ref());
            for part in value.split([',', ';', ' ', '+']) {
                if part.trim().is_empty() {
                    continue;
                }
                normalise_id_into(part, &mut id);
                match self.by_id.get(id.as_str()) {
                    Some(&i) => {
                        if !out.activities.contains(&i) {
                            out.activities.push(i);
                        }
                    }
                    None => out
                        .unknown_ids
                        .push((key.to_string(), part.trim().to_string())),
                }
            }
        }
    }

    fn own_tags<'r>(&self, r: &'r Resource) -> Vec<(&'r str, &'r str)> {
        r.tags
            .iter()
            .filter(|(k, _)| {
                let k = k.trim();
                self.keys.iter().any(|want| want.eq_ignore_ascii_case(k))
            })
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// Matches one resource.
    pub fn resource(&self, r: &Resource) -> Match {
        let mut out = Match::default();
        // The scope keys are formatted only when a table could hold them (a million
        // resources are matched per evaluation).
        let scope = (!self.excluded.is_empty() || !self.mappings.is_empty())
            .then(|| scope_key(r.provider, &r.scope_id, None));
        let group =
            (!self.excluded.is_empty() || !self.mappings.is_empty() || !self.group_tags.is_empty())
                .then(|| {
                    r.resource_group
                        .as_deref()
                        .map(|g| scope_key(r.provider, &r.scope_id, Some(g)))
                })
                .flatten();
        out.excluded = group
            .as_ref()
            .and_then(|g| self.excluded.get(g))
            .or_else(|| scope.as_ref().and_then(|s| self.excluded.get(s)))
            .cloned();

        let own = self.own_tags(r);
        if !own.is_empty() {
            out.source = Some(LinkSource::ResourceTag);
            self.resolve(&own, &mut out);
            return out;
        }
        if let Some(tags) = group.as_ref().and_then(|g| self.group_tags.get(g)) {
            out.source = Some(LinkSource::GroupTag);
            self.resolve(tags, &mut out);
            return out;
        }
        if let Some(tags) = self
            .scope_tags
            .get(&(r.provider, r.scope_id.to_ascii_lowercase()))
        {
            out.source = Some(LinkSource::ScopeTag);
            self.resolve(tags, &mut out);
            return out;
        }
        if let Some(ids) = group.as_ref().and_then(|g| self.mappings.get(g)) {
            out.source = Some(LinkSource::GroupMapping);
            out.activities = ids.clone();
            return out;
        }
        if let Some(ids) = scope.as_ref().and_then(|s| self.mappings.get(s)) {
            out.source = Some(LinkSource::ScopeMapping);
            out.activities = ids.clone();
            return out;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::Activity;
    use cloudcensus_core::Category;
    use std::collections::BTreeMap;

    fn register() -> Register {
        let act = |id: &str, maps: &[&str]| Activity {
            id: id.into(),
            scope_mappings: maps.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        Register {
            source: "test".into(),
            activities: vec![
                act("VA-2026-001", &["aws:111122223333"]),
                act("VA-2026-002", &["azure:sub-1/rg-zorg"]),
                act("VA-2026-003", &["azure:sub-1"]),
                act("VA-2026-004", &[]),
            ],
        }
    }

    fn res(provider: Provider, scope: &str, rg: Option<&str>, tags: &[(&str, &str)]) -> Resource {
        Resource {
            provider,
            scope_id: scope.into(),
            id: format!("id-{scope}-{tags:?}"),
            resource_type: "s3:bucket".into(),
            category: Category::DataStore,
            name: "n".into(),
            location: Some("eu-west-1".into()),
            replica_locations: vec![],
            resource_group: rg.map(str::to_string),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            created_at: None,
        }
    }

    fn ids(reg: &Register, m: &Match) -> Vec<String> {
        m.activities
            .iter()
            .map(|&i| reg.activities[i].id.clone())
            .collect()
    }

    #[test]
    fn resource_tag_matches_case_insensitively_after_label_normalisation() {
        let reg = register();
        let m = Matcher::new(&reg, &[], &[], &MatchSettings::default());
        let r = res(Provider::Gcp, "p", None, &[("Verwerking", "va-2026-004")]);
        let got = m.resource(&r);
        assert_eq!(ids(&reg, &got), ["VA-2026-004"]);
        assert_eq!(got.source, Some(LinkSource::ResourceTag));
    }

    #[test]
    fn a_tag_naming_two_activities_keeps_both() {
        let reg = register();
        let m = Matcher::new(&reg, &[], &[], &MatchSettings::default());
        let r = res(
            Provider::Aws,
            "9",
            None,
            &[("va-id", "VA-2026-001, VA-2026-004")],
        );
        assert_eq!(ids(&reg, &m.resource(&r)), ["VA-2026-001", "VA-2026-004"]);
    }

    #[test]
    fn unknown_tag_value_is_reported_not_dropped() {
        let reg = register();
        let m = Matcher::new(&reg, &[], &[], &MatchSettings::default());
        let r = res(Provider::Aws, "9", None, &[("verwerking", "VA-9999-999")]);
        let got = m.resource(&r);
        assert!(got.activities.is_empty());
        assert_eq!(
            got.unknown_ids,
            [("verwerking".to_string(), "VA-9999-999".to_string())]
        );
    }

    #[test]
    fn inheritance_order_is_resource_then_group_then_scope_tag_then_mappings() {
        let reg = register();
        let mut scope = Scope::new(Provider::Azure, "sub-1");
        scope.tags = BTreeMap::from([("verwerking".into(), "VA-2026-004".into())]);
        let group = ResourceGroup {
            provider: Provider::Azure,
            scope_id: "sub-1".into(),
            name: "rg-tagged".into(),
            location: None,
            tags: BTreeMap::from([("processing-activity".into(), "VA-2026-001".into())]),
        };
        let m = Matcher::new(&reg, &[scope], &[group], &MatchSettings::default());

        let own = res(
            Provider::Azure,
            "sub-1",
            Some("rg-tagged"),
            &[("va-id", "VA-2026-003")],
        );
        assert_eq!(ids(&reg, &m.resource(&own)), ["VA-2026-003"]);

        let in_group = res(Provider::Azure, "sub-1", Some("rg-tagged"), &[]);
        let got = m.resource(&in_group);
        assert_eq!(ids(&reg, &got), ["VA-2026-001"]);
        assert_eq!(got.source, Some(LinkSource::GroupTag));

        let in_scope = res(Provider::Azure, "sub-1", Some("rg-other"), &[]);
        let got = m.resource(&in_scope);
        assert_eq!(ids(&reg, &got), ["VA-2026-004"]);
        assert_eq!(got.source, Some(LinkSource::ScopeTag));
    }

    #[test]
    fn group_mapping_beats_subscription_mapping() {
        let reg = register();
        let m = Matcher::new(&reg, &[], &[], &MatchSettings::default());
        let in_rg = res(Provider::Azure, "SUB-1", Some("RG-Zorg"), &[]);
        let got = m.resource(&in_rg);
        assert_eq!(ids(&reg, &got), ["VA-2026-002"]);
        assert_eq!(got.source, Some(LinkSource::GroupMapping));
        let elsewhere = res(Provider::Azure, "sub-1", Some("rg-x"), &[]);
        assert_eq!(ids(&reg, &m.resource(&elsewhere)), ["VA-2026-003"]);
    }

    #[test]
    fn account_mapping_links_untagged_resources() {
        let reg = register();
        let m = Matcher::new(&reg, &[], &[], &MatchSettings::default());
        let r = res(Provider::Aws, "111122223333", None, &[("Name", "x")]);
        let got = m.resource(&r);
        assert_eq!(ids(&reg, &got), ["VA-2026-001"]);
        assert_eq!(got.source, Some(LinkSource::ScopeMapping));
        let other = res(Provider::Aws, "999", None, &[]);
        assert!(m.resource(&other).activities.is_empty());
    }

    #[test]
    fn configured_tag_keys_replace_the_defaults() {
        let reg = register();
        let settings = MatchSettings {
            tag_keys: vec!["AVG-Register".into()],
            exclude_scopes: vec![],
        };
        let m = Matcher::new(&reg, &[], &[], &settings);
        let r = res(Provider::Aws, "9", None, &[("avg-register", "VA-2026-004")]);
        assert_eq!(ids(&reg, &m.resource(&r)), ["VA-2026-004"]);
        let default_key = res(Provider::Aws, "9", None, &[("verwerking", "VA-2026-004")]);
        assert!(m.resource(&default_key).activities.is_empty());
    }

    #[test]
    fn excluded_scope_carries_its_reason() {
        let reg = register();
        let settings = MatchSettings {
            exclude_scopes: vec![ExcludedScope {
                scope: "aws:444455556666".into(),
                reason: "sandbox".into(),
            }],
            ..Default::default()
        };
        let m = Matcher::new(&reg, &[], &[], &settings);
        let r = res(Provider::Aws, "444455556666", None, &[]);
        assert_eq!(m.resource(&r).excluded.as_deref(), Some("sandbox"));
    }
}
