//! Personal data: the DPIA before use (introduction, conditions 2 and 5: CB-DPIA), its
//! publication (condition 8: CB-WOO), and where the data may be (conditions 9 and 10:
//! CB-PD-LOC, CB-BPD-LOC).

use super::ActivityView;
use crate::register::{TransferBasis, YesNoNa};
use crate::rules::ObservedLocation;
use crate::rules::emit::{Emitter, msg, t};

/// CB-DPIA: personal data in public cloud without an approved pre-scan DPIA, or high risk
/// without a dated formal DPIA.
pub(super) fn dpia(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let lang = em.ctx.lang;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let sample = v.sample;

    if in_cloud && a.personal_data {
        if a.prescan_dpia.is_none() {
            em.activity(
                "CB-DPIA",
                a,
                sample,
                None,
                t!(
                    lang,
                    msg!("'{name}' verwerkt persoonsgegevens in de publieke cloud zonder vastgestelde pre-scan DPIA."),
                    msg!("'{name}' processes personal data in public cloud without an approved pre-scan DPIA."),
                ),
            );
        }
        let formal_done = a.formal_dpia == Some(YesNoNa::Yes) && a.formal_dpia_date.is_some();
        if a.high_risk && !formal_done {
            em.activity(
                "CB-DPIA",
                a,
                sample,
                None,
                t!(
                    lang,
                    msg!("'{name}' heeft een hoog risico maar geen formele DPIA met datum."),
                    msg!("'{name}' is high risk but has no dated formal DPIA."),
                ),
            );
        }
    }
}

/// CB-WOO (condition 8): the decision on the cloud use and its DPIA is published by
/// default.
pub(super) fn woo(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let lang = em.ctx.lang;
    let name = &a.name;
    let in_cloud = v.in_cloud();

    let decided =
        a.prescan_dpia.is_some() || a.formal_dpia_date.is_some() || a.decision_date.is_some();
    if in_cloud && decided && a.woo_publication.trim().is_empty() {
        em.activity(
            "CB-WOO",
            a,
            None,
            None,
            t!(
                lang,
                msg!("Het DPIA-besluit voor '{name}' is niet gepubliceerd (Woo)."),
                msg!("The DPIA decision for '{name}' is not published (Woo)."),
            ),
        );
    }
}

/// CB-BPD-LOC and CB-PD-LOC (conditions 10 and 9): (special-category) personal data
/// observed outside the EEA and adequacy countries.
pub(super) fn transfers(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let f = v.facts;
    let lang = em.ctx.lang;
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
            let (nl, en) = if explained {
                (
                    msg!(
                        "Bijzondere persoonsgegevens van '{name}' staan in {} ({}); 9c met explain, maar de explain is niet naar CIO Rijk gestuurd.",
                        l.location,
                        l.countries.join("+")
                    ),
                    msg!(
                        "Special-category data of '{name}' is in {} ({}); 9c with an explain, but the explain was not sent to CIO Rijk.",
                        l.location,
                        l.countries.join("+")
                    ),
                )
            } else {
                (
                    msg!(
                        "Bijzondere persoonsgegevens van '{name}' staan in {} ({}, {}) zonder 9c met explain.",
                        l.location,
                        l.countries.join("+"),
                        l.class
                    ),
                    msg!(
                        "Special-category data of '{name}' is in {} ({}, {}) without 9c and an explain.",
                        l.location,
                        l.countries.join("+"),
                        l.class
                    ),
                )
            };
            em.activity("CB-BPD-LOC", a, None, Some(l), t!(lang, nl, en));
        }
    } else if a.personal_data {
        for l in &outside {
            if safeguards && sent {
                continue;
            }
            let (nl, en) = if safeguards {
                (
                    msg!(
                        "Persoonsgegevens van '{name}' staan in {} ({}); 9c is geregeld, maar de DPIA is niet naar CIO Rijk gestuurd.",
                        l.location,
                        l.countries.join("+")
                    ),
                    msg!(
                        "Personal data of '{name}' is in {} ({}); 9c is in place, but the DPIA was not sent to CIO Rijk.",
                        l.location,
                        l.countries.join("+")
                    ),
                )
            } else {
                (
                    msg!(
                        "Persoonsgegevens van '{name}' staan in {} ({}, {}) zonder 9c-waarborg.",
                        l.location,
                        l.countries.join("+"),
                        l.class
                    ),
                    msg!(
                        "Personal data of '{name}' is in {} ({}, {}) without a 9c safeguard.",
                        l.location,
                        l.countries.join("+"),
                        l.class
                    ),
                )
            };
            em.activity("CB-PD-LOC", a, None, Some(l), t!(lang, nl, en));
        }
    }
}
