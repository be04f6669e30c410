//! What changed between two scans: resources added, removed, moved, re-tagged.
//!
//! The security team follows the estate month by month: a new bucket in a new region, a
//! replica that appeared in the US, a resource whose processing-activity tag changed. The
//! comparison is keyed by (provider, resource id); the older scan is held as a compact
//! map, the newer one is streamed.

use std::collections::{BTreeMap, HashMap};

use cloudcensus_core::model::{Provider, Resource};
use serde::Serialize;

use super::StoreError;

/// Tag keys that name the processing activity by default (matched case-insensitively).
pub const DEFAULT_ACTIVITY_TAG_KEYS: &[&str] = &["verwerking", "processing-activity", "va-id"];

/// The activity id a resource's own tags name (first matching key wins), as written.
pub fn activity_tag<'a>(tags: &'a BTreeMap<String, String>, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| {
        tags.iter()
            .find(|(tk, v)| tk.trim().eq_ignore_ascii_case(k) && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    })
}

fn norm(v: Option<&str>) -> Option<String> {
    v.map(|s| s.trim().to_lowercase())
}

/// The kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// In the newer scan only.
    Added,
    /// In the older scan only.
    Removed,
    /// Primary location or replica locations differ.
    Moved,
    /// The activity tag value differs (or appeared / disappeared).
    ActivityChanged,
}

impl ChangeKind {
    /// Kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Moved => "moved",
            ChangeKind::ActivityChanged => "activity-changed",
        }
    }
}

/// One change of one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What changed.
    pub change: ChangeKind,
    /// Provider.
    pub provider: Provider,
    /// Scope id.
    pub scope_id: String,
    /// Resource id.
    pub resource_id: String,
    /// Resource type.
    pub resource_type: String,
    /// The value before (location(s) or activity), empty for `added`.
    pub before: String,
    /// The value after, empty for `removed`.
    pub after: String,
    /// For `added`: who created it, from the newer scan's audit-log lookups (a
    /// principal or `unknown (why)`); set by the caller, which has the creators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
}

#[derive(Debug)]
struct Slim {
    scope_id: String,
    resource_type: String,
    locations: String,
    activity: Option<String>,
}

/// `eu-west-1` or `eu-west-1 + replicas us-east-1, us-west-2` (replicas sorted).
fn locations(r: &Resource) -> String {
    let mut reps: Vec<&str> = r.replica_locations.iter().map(String::as_str).collect();
    reps.sort_unstable();
    reps.dedup();
    let primary = r.location.as_deref().unwrap_or("(unknown)");
    if reps.is_empty() {
        primary.to_string()
    } else {
        format!("{primary} + replicas {}", reps.join(", "))
    }
}

fn slim(r: &Resource, keys: &[&str]) -> Slim {
    Slim {
        scope_id: r.scope_id.clone(),
        resource_type: r.resource_type.clone(),
        locations: locations(r),
        activity: activity_tag(&r.tags, keys).map(str::to_string),
    }
}

/// Compares an older and a newer scan's resources. Output order: kind, provider, id.
pub fn diff(
    older: impl Iterator<Item = Result<Resource, StoreError>>,
    newer: impl Iterator<Item = Result<Resource, StoreError>>,
    keys: &[&str],
) -> Result<Vec<Change>, StoreError> {
    let mut before: HashMap<(Provider, String), Slim> = HashMap::new();
    for r in older {
        let r = r?;
        let s = slim(&r, keys);
        before.insert((r.provider, r.id), s);
    }
    let mut out = Vec::new();
    for r in newer {
        let r = r?;
        let now = slim(&r, keys);
        let change = |kind, before: String, after: String| Change {
            change: kind,
            provider: r.provider,
            scope_id: r.scope_id.clone(),
            resource_id: r.id.clone(),
            resource_type: r.resource_type.clone(),
            before,
            after,
            creator: None,
        };
        match before.remove(&(r.provider, r.id.clone())) {
            None => out.push(change(
                ChangeKind::Added,
                String::new(),
                now.locations.clone(),
            )),
            Some(old) => {
                if old.locations != now.locations {
                    out.push(change(
                        ChangeKind::Moved,
                        old.locations,
                        now.locations.clone(),
                    ));
                }
                if norm(old.activity.as_deref()) != norm(now.activity.as_deref()) {
                    out.push(change(
                        ChangeKind::ActivityChanged,
                        old.activity.unwrap_or_default(),
                        now.activity.clone().unwrap_or_default(),
                    ));
                }
            }
        }
    }
    for ((provider, resource_id), old) in before {
        out.push(Change {
            change: ChangeKind::Removed,
            provider,
            scope_id: old.scope_id,
            resource_id,
            resource_type: old.resource_type,
            before: old.locations,
            after: String::new(),
            creator: None,
        });
    }
    out.sort_by(|a, b| {
        (a.change, a.provider, &a.resource_id).cmp(&(b.change, b.provider, &b.resource_id))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Synth;

    fn ok(v: Vec<Resource>) -> impl Iterator<Item = Result<Resource, StoreError>> {
        v.into_iter().map(Ok)
    }

    #[test]
    fn diff_finds_added_removed_moved_and_retagged_resources() {
        let s = Synth::new(11);
        let old: Vec<Resource> = s.resources(6).collect();
        let mut new = old.clone();
        new.remove(0); // removed
        new[0].location = Some("us-east-1".into()); // moved (old[1])
        new[1].replica_locations = vec!["westus".into()]; // replica change (old[2])
        new[2].tags.retain(|k, _| !activity_keys_match(k));
        new[2]
            .tags
            .insert("VERWERKING".into(), "VA-9999-001".into()); // activity (old[3])
        new[3].tags = old[4]
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.to_uppercase()))
            .collect(); // case-only change: not a change
        new.push(s.resource(100)); // added
        let changes = diff(ok(old.clone()), ok(new), DEFAULT_ACTIVITY_TAG_KEYS).unwrap();
        let kinds: Vec<(ChangeKind, &str)> = changes
            .iter()
            .map(|c| (c.change, c.resource_id.as_str()))
            .collect();
        let mut want = vec![
            (ChangeKind::Added, s.resource(100).id),
            (ChangeKind::Removed, old[0].id.clone()),
            (ChangeKind::Moved, old[1].id.clone()),
            (ChangeKind::Moved, old[2].id.clone()),
            (ChangeKind::ActivityChanged, old[3].id.clone()),
        ];
        let got: Vec<(ChangeKind, String)> =
            kinds.iter().map(|(k, id)| (*k, id.to_string())).collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        want.sort();
        assert_eq!(got_sorted, want, "{changes:#?}");
        let replica = changes.iter().find(|c| c.resource_id == old[2].id).unwrap();
        assert!(replica.after.contains("replicas westus"), "{replica:?}");
        let act = changes
            .iter()
            .find(|c| c.change == ChangeKind::ActivityChanged)
            .unwrap();
        assert_eq!(act.after, "VA-9999-001");
    }

    fn activity_keys_match(k: &str) -> bool {
        DEFAULT_ACTIVITY_TAG_KEYS
            .iter()
            .any(|d| d.eq_ignore_ascii_case(k))
    }

    #[test]
    fn activity_tag_keys_match_case_insensitively_in_priority_order() {
        let tags = BTreeMap::from([
            ("VA-ID".to_string(), "va-1".to_string()),
            ("Verwerking".to_string(), " VA-2 ".to_string()),
        ]);
        assert_eq!(activity_tag(&tags, DEFAULT_ACTIVITY_TAG_KEYS), Some("VA-2"));
        assert_eq!(
            activity_tag(&BTreeMap::new(), DEFAULT_ACTIVITY_TAG_KEYS),
            None
        );
    }
}
