//! Condition 4 (exit strategie) and condition 6's right-to-audit: what the contract must
//! hold (CB-EXIT, CB-AUDIT).

use super::ActivityView;
use crate::register::RightToAudit;
use crate::rules::emit::{Emitter, msg, t};

/// CB-EXIT (condition 4): no exit strategy in the contract.
pub(super) fn exit(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let lang = em.ctx.lang;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let sample = v.sample;

    if in_cloud && a.exit_strategy != Some(true) {
        em.activity(
            "CB-EXIT",
            a,
            sample,
            None,
            t!(
                lang,
                msg!("Voor '{name}' is geen exitstrategie in de overeenkomst geregistreerd."),
                msg!("No exit strategy in the contract is recorded for '{name}'."),
            ),
        );
    }
}

/// CB-AUDIT (condition 6): no right-to-audit nor SLM assurance.
pub(super) fn audit(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let lang = em.ctx.lang;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let sample = v.sample;

    if in_cloud
        && !matches!(
            a.right_to_audit,
            Some(RightToAudit::Yes | RightToAudit::ViaSlm)
        )
    {
        em.activity(
            "CB-AUDIT",
            a,
            sample,
            None,
            t!(
                lang,
                msg!("Voor '{name}' is geen right-to-audit of SLM-zekerheid geregistreerd."),
                msg!("No right-to-audit or SLM assurance is recorded for '{name}'."),
            ),
        );
    }
}
