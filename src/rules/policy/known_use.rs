//! Condition 3 (gekend gebruik) and the register facts it rests on: every material use is
//! known (CB-UNREG, CB-UNKNOWN-ID), the register does not claim use that is not there
//! (CB-STALE), and it records the characteristics (condition 6: CB-CHAR) and the facts
//! the first checks need (condition 1 and 3: CB-FACTS).

use std::collections::BTreeSet;

use cloudcensus_core::Provider;

use super::{ActivityView, ResourceView};
use crate::register::{Activity, ActivityStatus, CloudType, Fact};
use crate::rules::Lang;
use crate::rules::emit::Emitter;
use crate::rules::message::Message;

/// CB-UNREG: a data-bearing resource linked to no activity.
pub(super) static UNLINKED: Message =
    Message::new("CB-UNREG", "unlinked", &["type", "name", "category"]);
/// CB-UNKNOWN-ID: a tag names an unknown activity.
pub(super) static UNKNOWN_ID: Message = Message::new(
    "CB-UNKNOWN-ID",
    "unknown_id",
    &["key", "value", "type", "name"],
);
/// CB-FACTS: classification or material use not filled in.
pub(super) static UNFILLED: Message = Message::new("CB-FACTS", "unfilled", &["name", "facts"]);
/// CB-CHAR: the characteristics the register lacks.
pub(super) static CHAR_MISSING: Message = Message::new("CB-CHAR", "missing", &["name", "missing"]);
/// CB-CHAR word: the provider.
pub(super) static WORD_PROVIDER: Message = Message::new("CB-CHAR", "provider", &[]);
/// CB-CHAR word: the sub-processors.
pub(super) static WORD_SUB_PROCESSORS: Message = Message::new("CB-CHAR", "sub_processors", &[]);
/// CB-CHAR word: the service model.
pub(super) static WORD_SERVICE_MODEL: Message = Message::new("CB-CHAR", "service_model", &[]);
/// CB-CHAR word: the cloud type.
pub(super) static WORD_CLOUD_TYPE: Message = Message::new("CB-CHAR", "cloud_type", &[]);
/// CB-CHAR word: the region/location.
pub(super) static WORD_LOCATION: Message = Message::new("CB-CHAR", "location", &[]);
/// CB-STALE: in use on a scanned provider, but nothing found.
pub(super) static NOT_FOUND: Message =
    Message::new("CB-STALE", "not_found", &["name", "providers"]);

/// The messages of this module.
pub(super) static MESSAGES: &[&Message] = &[
    &UNLINKED,
    &UNKNOWN_ID,
    &UNFILLED,
    &CHAR_MISSING,
    &WORD_PROVIDER,
    &WORD_SUB_PROCESSORS,
    &WORD_SERVICE_MODEL,
    &WORD_CLOUD_TYPE,
    &WORD_LOCATION,
    &NOT_FOUND,
];

/// CB-UNREG: a data-bearing resource linked to no register activity.
pub(super) fn unregistered(em: &mut Emitter<'_>, v: &ResourceView<'_>) {
    if !v.unregistered {
        return;
    }
    let r = v.resource;
    em.resource(
        &UNLINKED,
        r,
        v.first_place,
        None,
        &[&r.resource_type, &r.name, &r.category],
    );
}

/// CB-UNKNOWN-ID: a tag names an activity id the register does not have.
pub(super) fn unknown_id(em: &mut Emitter<'_>, v: &ResourceView<'_>) {
    let r = v.resource;
    for (key, value) in v.unknown_ids {
        em.resource(
            &UNKNOWN_ID,
            r,
            v.first_place,
            None,
            &[key, value, &r.resource_type, &r.name],
        );
    }
}

/// CB-FACTS: the facts the policy's first checks rest on (classification, material use)
/// are not filled in; unknown is not "fine".
pub(super) fn facts(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let sample = v.sample;

    if in_cloud {
        let facts: Vec<&str> = [Fact::Classification, Fact::Material]
            .into_iter()
            .filter(|f| a.is_unfilled(*f))
            .map(|f| {
                if em.ctx.lang == Lang::Nl {
                    f.label()
                } else {
                    f.label_en()
                }
            })
            .collect();
        if !facts.is_empty() {
            em.activity(&UNFILLED, a, sample, None, &[&name, &facts.join(", ")]);
        }
    }
}

/// CB-CHAR (condition 6): the register lacks the characteristics of the cloud use.
pub(super) fn characteristics(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let sample = v.sample;

    if in_cloud {
        let mut missing: Vec<&str> = Vec::new();
        if a.providers.is_empty() {
            missing.push(em.word(&WORD_PROVIDER));
        }
        // A blank sub-processors cell is "not filled in"; `geen` is an answer.
        if a.is_unfilled(Fact::SubProcessors) {
            missing.push(em.word(&WORD_SUB_PROCESSORS));
        }
        if a.service_model.is_none() {
            missing.push(em.word(&WORD_SERVICE_MODEL));
        }
        if matches!(a.cloud_type, None | Some(CloudType::Unknown)) {
            missing.push(em.word(&WORD_CLOUD_TYPE));
        }
        if a.declared_locations.is_empty() {
            missing.push(em.word(&WORD_LOCATION));
        }
        if !missing.is_empty() {
            em.activity(
                &CHAR_MISSING,
                a,
                sample,
                None,
                &[&name, &missing.join(", ")],
            );
        }
    }
}

/// CB-STALE (condition 3): the register says the activity is in use on a scanned
/// provider, but no resource was found for it.
pub(super) fn stale(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let name = &a.name;
    let linked = v.linked();
    let scanned = v.scanned;

    let watched: BTreeSet<Provider> = register_providers(a)
        .intersection(scanned)
        .copied()
        .collect();
    if !linked
        && a.status == Some(ActivityStatus::InUse)
        && a.declares_public_cloud()
        && !watched.is_empty()
    {
        let list = watched
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        em.activity(&NOT_FOUND, a, None, None, &[&name, &list]);
    }
}

/// Maps the free-text provider names of the register to scanned providers.
pub(crate) fn register_providers(a: &Activity) -> BTreeSet<Provider> {
    let mut out = BTreeSet::new();
    for p in &a.providers {
        let l = p.to_ascii_lowercase();
        if l.contains("aws") || l.contains("amazon") {
            out.insert(Provider::Aws);
        }
        if l.contains("azure") || l.contains("microsoft") {
            out.insert(Provider::Azure);
        }
        if l.contains("google") || l.contains("gcp") {
            out.insert(Provider::Gcp);
        }
    }
    out
}
