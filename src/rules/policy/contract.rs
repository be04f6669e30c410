//! Condition 4 (exit strategie) and condition 6's right-to-audit: what the contract must
//! hold (CB-EXIT, CB-AUDIT).

use super::ActivityView;
use crate::register::RightToAudit;
use crate::rules::emit::Emitter;
use crate::rules::message::Message;

/// CB-EXIT: no exit strategy recorded.
pub(super) static EXIT_MISSING: Message = Message::new("CB-EXIT", "missing", &["name"]);
/// CB-AUDIT: no right-to-audit or SLM assurance recorded.
pub(super) static AUDIT_MISSING: Message = Message::new("CB-AUDIT", "missing", &["name"]);

/// The messages of this module.
pub(super) static MESSAGES: &[&Message] = &[&EXIT_MISSING, &AUDIT_MISSING];

/// CB-EXIT (condition 4): no exit strategy in the contract.
pub(super) fn exit(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let sample = v.sample;

    if in_cloud && a.exit_strategy != Some(true) {
        em.activity(&EXIT_MISSING, a, sample, None, &[&name]);
    }
}

/// CB-AUDIT (condition 6): no right-to-audit nor SLM assurance.
pub(super) fn audit(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let sample = v.sample;

    if in_cloud
        && !matches!(
            a.right_to_audit,
            Some(RightToAudit::Yes | RightToAudit::ViaSlm)
        )
    {
        em.activity(&AUDIT_MISSING, a, sample, None, &[&name]);
    }
}
