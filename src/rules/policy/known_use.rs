//! Condition 3 (gekend gebruik) and the register facts it rests on: every material use is
//! known (CB-UNREG, CB-UNKNOWN-ID), the register does not claim use that is not there
//! (CB-STALE), and it records the characteristics (condition 6: CB-CHAR) and the facts
//! the first checks need (condition 1 and 3: CB-FACTS).

use std::collections::BTreeSet;

use cloudcensus_core::Provider;

use super::{ActivityView, ResourceView};
use crate::register::{Activity, ActivityStatus, CloudType, Fact};
use crate::rules::Lang;
use crate::rules::emit::{Emitter, msg, t};

/// CB-UNREG: a data-bearing resource linked to no register activity.
pub(super) fn unregistered(em: &mut Emitter<'_>, v: &ResourceView<'_>) {
    if !v.unregistered {
        return;
    }
    let lang = em.ctx.lang;
    let r = v.resource;
    em.resource(
        "CB-UNREG",
        r,
        v.first_place,
        None,
        t!(
            lang,
            msg!(
                "{} '{}' ({}) is aan geen verwerking gekoppeld.",
                r.resource_type,
                r.name,
                r.category
            ),
            msg!(
                "{} '{}' ({}) is linked to no register activity.",
                r.resource_type,
                r.name,
                r.category
            ),
        ),
    );
}

/// CB-UNKNOWN-ID: a tag names an activity id the register does not have.
pub(super) fn unknown_id(em: &mut Emitter<'_>, v: &ResourceView<'_>) {
    let lang = em.ctx.lang;
    let r = v.resource;
    for (key, value) in v.unknown_ids {
        em.resource(
            "CB-UNKNOWN-ID",
            r,
            v.first_place,
            None,
            t!(
                lang,
                msg!(
                    "Tag {key}={value} op {} '{}' noemt een verwerking die niet in het register staat.",
                    r.resource_type, r.name
                ),
                msg!(
                    "Tag {key}={value} on {} '{}' names an activity the register does not have.",
                    r.resource_type, r.name
                ),
            ),
        );
    }
}

/// CB-FACTS: the facts the policy's first checks rest on (classification, material use)
/// are not filled in; unknown is not "fine".
pub(super) fn facts(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let lang = em.ctx.lang;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let sample = v.sample;

    if in_cloud {
        let facts: Vec<&str> = [Fact::Classification, Fact::Material]
            .into_iter()
            .filter(|f| a.is_unfilled(*f))
            .map(|f| {
                if lang == Lang::Nl {
                    f.label()
                } else {
                    f.label_en()
                }
            })
            .collect();
        if !facts.is_empty() {
            em.activity(
                "CB-FACTS",
                a,
                sample,
                None,
                t!(
                    lang,
                    msg!(
                        "Voor '{name}' is niet ingevuld: {}; de verwerking geldt als materieel met onbekende rubricering.",
                        facts.join(", ")
                    ),
                    msg!(
                        "For '{name}' not filled in: {}; the activity counts as material with unknown classification.",
                        facts.join(", ")
                    ),
                ),
            );
        }
    }
}

/// CB-CHAR (condition 6): the register lacks the characteristics of the cloud use.
pub(super) fn characteristics(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let lang = em.ctx.lang;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let sample = v.sample;

    if in_cloud {
        let mut missing: Vec<&str> = Vec::new();
        if a.providers.is_empty() {
            missing.push(if lang == Lang::Nl {
                "dienstverlener"
            } else {
                "provider"
            });
        }
        // A blank sub-processors cell is "not filled in"; `geen` is an answer.
        if a.is_unfilled(Fact::SubProcessors) {
            missing.push(if lang == Lang::Nl {
                "subverwerkers"
            } else {
                "sub-processors"
            });
        }
        if a.service_model.is_none() {
            missing.push(if lang == Lang::Nl {
                "type dienstverlening"
            } else {
                "service model"
            });
        }
        if matches!(a.cloud_type, None | Some(CloudType::Unknown)) {
            missing.push(if lang == Lang::Nl {
                "type cloud"
            } else {
                "cloud type"
            });
        }
        if a.declared_locations.is_empty() {
            missing.push(if lang == Lang::Nl {
                "regio/locatie"
            } else {
                "region/location"
            });
        }
        if !missing.is_empty() {
            em.activity(
                "CB-CHAR",
                a,
                sample,
                None,
                t!(
                    lang,
                    msg!("Het register mist voor '{name}': {}.", missing.join(", ")),
                    msg!("The register lacks for '{name}': {}.", missing.join(", ")),
                ),
            );
        }
    }
}

/// CB-STALE (condition 3): the register says the activity is in use on a scanned
/// provider, but no resource was found for it.
pub(super) fn stale(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let lang = em.ctx.lang;
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
        em.activity(
            "CB-STALE",
            a,
            None,
            None,
            t!(
                lang,
                msg!("'{name}' staat in gebruik bij {list}, maar de scan vond geen resources die erbij horen."),
                msg!("'{name}' is in use on {list}, but the scan found no resources for it."),
            ),
        );
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
