//! Uitzonderingen and the introduction's ceiling: Defensie is out of scope (CB-DEF);
//! staatsgeheim never goes to public cloud (CB-STG); nothing above departementaal
//! vertrouwelijk goes to public cloud (CB-RUB, from the register or a resource tag).

use cloudcensus_core::Resource;

use super::{ActivityView, ResourceView};
use crate::register::Classification;
use crate::rules::emit::Emitter;
use crate::rules::message::Message;
use crate::rules::{Context, Finding};

/// CB-DEF: the organisation is outside the policy's scope.
pub(super) static OUT_OF_SCOPE: Message = Message::new("CB-DEF", "out_of_scope", &["organisation"]);
/// CB-RUB: a resource tagged with a classification above DV.
pub(super) static TAGGED: Message =
    Message::new("CB-RUB", "tagged", &["type", "name", "classification"]);
/// CB-RUB: the register states public cloud use above DV.
pub(super) static DECLARED: Message =
    Message::new("CB-RUB", "declared", &["name", "classification"]);
/// CB-STG: a staatsgeheim activity with public-cloud resources.
pub(super) static CLASSIFIED: Message = Message::new(
    "CB-STG",
    "classified",
    &["name", "classification", "resources"],
);

/// The messages of this module.
pub(super) static MESSAGES: &[&Message] = &[&OUT_OF_SCOPE, &TAGGED, &DECLARED, &CLASSIFIED];

/// Whether the organisation is the Ministry of Defence (outside the policy's scope).
pub(super) fn is_defence(organisation: &str) -> bool {
    let org = organisation.to_lowercase();
    org.contains("defensie") || org.contains("ministry of defence")
}

/// CB-DEF: the one finding of an organisation outside the policy's scope.
pub(super) fn defence(em: &mut Emitter<'_>) -> Option<Finding> {
    let ctx = em.ctx;
    em.base(&OUT_OF_SCOPE, &[&ctx.organisation])
}

/// CB-RUB for a resource: tagged with a classification above departementaal vertrouwelijk.
pub(super) fn resource_tag(em: &mut Emitter<'_>, v: &ResourceView<'_>) {
    let r = v.resource;
    if let Some(c) = classification_tag(em.ctx, r).filter(|c| c.is_above_dv()) {
        em.resource(
            &TAGGED,
            r,
            v.first_place,
            v.first_activity,
            &[&r.resource_type, &r.name, &c],
        );
    }
}

/// The classification a resource's tag names (configured keys), if it is one above
/// openbaar that the policy treats specially.
fn classification_tag(ctx: &Context<'_>, r: &Resource) -> Option<Classification> {
    let keys = &ctx.rules.classification_tag_keys;
    let value = r
        .tags
        .iter()
        .find(|(k, _)| keys.iter().any(|want| want.eq_ignore_ascii_case(k.trim())))?
        .1;
    let v: String = value
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    match v.as_str() {
        "stgconfidentieel" | "staatsgeheimconfidentieel" => Some(Classification::StgConfidentieel),
        "stggeheim" | "staatsgeheimgeheim" => Some(Classification::StgGeheim),
        "stgzeergeheim" | "staatsgeheimzeergeheim" => Some(Classification::StgZeerGeheim),
        "departementaalvertrouwelijk" | "dv" => Some(Classification::DepartementaalVertrouwelijk),
        _ => None,
    }
}

/// CB-STG: an activity classified staatsgeheim has public-cloud resources; CB-RUB: the
/// register states public cloud use for a classification above departementaal vertrouwelijk.
pub(super) fn classified(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let f = v.facts;
    let name = &a.name;
    let linked = v.linked();
    let sample = v.sample;

    if a.is_staatsgeheim() && linked {
        em.activity(
            &CLASSIFIED,
            a,
            sample,
            None,
            &[
                &name,
                &a.classification.map(|c| c.label()).unwrap_or_default(),
                &f.resources,
            ],
        );
    } else if a.classification.is_some_and(Classification::is_above_dv)
        && a.declares_public_cloud()
        && a.is_active()
    {
        em.activity(
            &DECLARED,
            a,
            None,
            None,
            &[
                &name,
                &a.classification.map(|c| c.label()).unwrap_or_default(),
            ],
        );
    }
}
