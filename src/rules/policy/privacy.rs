//! Personal data: the DPIA before use (introduction, conditions 2 and 5: CB-DPIA), its
//! publication (condition 8: CB-WOO), and where the data may be (conditions 9 and 10:
//! CB-PD-LOC, CB-BPD-LOC).

use super::ActivityView;
use crate::register::{TransferBasis, YesNoNa};
use crate::rules::ObservedLocation;
use crate::rules::emit::Emitter;
use crate::rules::message::Message;

/// CB-DPIA: personal data without an approved pre-scan DPIA.
pub(super) static NO_PRESCAN: Message = Message::new("CB-DPIA", "no_prescan", &["name"]);
/// CB-DPIA: high risk without a dated formal DPIA.
pub(super) static NO_FORMAL: Message = Message::new("CB-DPIA", "no_formal", &["name"]);
/// CB-WOO: the DPIA decision is not published.
pub(super) static UNPUBLISHED: Message = Message::new("CB-WOO", "unpublished", &["name"]);
/// CB-BPD-LOC: 9c with an explain, not sent to CIO Rijk.
pub(super) static EXPLAIN_NOT_SENT: Message = Message::new(
    "CB-BPD-LOC",
    "explain_not_sent",
    &["name", "location", "countries"],
);
/// CB-BPD-LOC: special categories outside the EEA without 9c and an explain.
pub(super) static UNEXPLAINED: Message = Message::new(
    "CB-BPD-LOC",
    "unexplained",
    &["name", "location", "countries", "class"],
);
/// CB-PD-LOC: 9c in place, DPIA not sent to CIO Rijk.
pub(super) static DPIA_NOT_SENT: Message = Message::new(
    "CB-PD-LOC",
    "dpia_not_sent",
    &["name", "location", "countries"],
);
/// CB-PD-LOC: personal data outside the EEA without a 9c safeguard.
pub(super) static NO_SAFEGUARD: Message = Message::new(
    "CB-PD-LOC",
    "no_safeguard",
    &["name", "location", "countries", "class"],
);

/// The messages of this module.
pub(super) static MESSAGES: &[&Message] = &[
    &NO_PRESCAN,
    &NO_FORMAL,
    &UNPUBLISHED,
    &EXPLAIN_NOT_SENT,
    &UNEXPLAINED,
    &DPIA_NOT_SENT,
    &NO_SAFEGUARD,
];

/// CB-DPIA: personal data in public cloud without an approved pre-scan DPIA, or high risk
/// without a dated formal DPIA.
pub(super) fn dpia(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let sample = v.sample;

    if in_cloud && a.personal_data {
        if a.prescan_dpia.is_none() {
            em.activity(&NO_PRESCAN, a, sample, None, &[&name]);
        }
        let formal_done = a.formal_dpia == Some(YesNoNa::Yes) && a.formal_dpia_date.is_some();
        if a.high_risk && !formal_done {
            em.activity(&NO_FORMAL, a, sample, None, &[&name]);
        }
    }
}

/// CB-WOO (condition 8): the decision on the cloud use and its DPIA is published by
/// default.
pub(super) fn woo(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let name = &a.name;
    let in_cloud = v.in_cloud();

    let decided =
        a.prescan_dpia.is_some() || a.formal_dpia_date.is_some() || a.decision_date.is_some();
    if in_cloud && decided && a.woo_publication.trim().is_empty() {
        em.activity(&UNPUBLISHED, a, None, None, &[&name]);
    }
}

/// CB-BPD-LOC and CB-PD-LOC (conditions 10 and 9): (special-category) personal data
/// observed outside the EEA and adequacy countries.
pub(super) fn transfers(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let f = v.facts;
    let name = &a.name;

    let outside: Vec<&ObservedLocation> = f
        .locations
        .iter()
        .filter(|l| l.class.needs_safeguards())
        .collect();
    let safeguards = a.transfer_basis == Some(TransferBasis::Safeguards);
    let sent = a.dpia_sent_to_cio.is_some();
    if a.has_special_categories() {
        let explained = safeguards && !a.explain_reference.trim().is_empty();
        for l in &outside {
            if explained && sent {
                continue;
            }
            let countries = l.countries.join("+");
            if explained {
                em.activity(
                    &EXPLAIN_NOT_SENT,
                    a,
                    None,
                    Some(l),
                    &[&name, &l.location, &countries],
                );
            } else {
                em.activity(
                    &UNEXPLAINED,
                    a,
                    None,
                    Some(l),
                    &[&name, &l.location, &countries, &l.class],
                );
            }
        }
    } else if a.personal_data {
        for l in &outside {
            if safeguards && sent {
                continue;
            }
            let countries = l.countries.join("+");
            if safeguards {
                em.activity(
                    &DPIA_NOT_SENT,
                    a,
                    None,
                    Some(l),
                    &[&name, &l.location, &countries],
                );
            } else {
                em.activity(
                    &NO_SAFEGUARD,
                    a,
                    None,
                    Some(l),
                    &[&name, &l.location, &countries, &l.class],
                );
            }
        }
    }
}
