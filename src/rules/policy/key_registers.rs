//! Condition 11 (basisregistraties): a key register (source) in public cloud needs an
//! explain and prior advice of CIO Rijk (CB-BASIS).

use super::ActivityView;
use crate::rules::emit::{Emitter, msg, t};

/// CB-BASIS (condition 11): a key register in public cloud without an explain and prior
/// CIO Rijk advice.
pub(super) fn basis(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let lang = em.ctx.lang;
    let name = &a.name;
    let linked = v.linked();
    let sample = v.sample;

    if a.has_basisregistratie() && linked {
        let regs = a.basisregistraties.join(", ");
        let explained = !a.explain_reference.trim().is_empty();
        let advice_prior = a.cio_advice_prior();
        if !explained || !advice_prior {
            let why_nl = if !explained {
                "zonder explain".to_string()
            } else if a.cio_advice_date.is_none() {
                "zonder advies van CIO Rijk".to_string()
            } else {
                "met advies van CIO Rijk ná het besluit".to_string()
            };
            let why_en = if !explained {
                "without an explain".to_string()
            } else if a.cio_advice_date.is_none() {
                "without CIO Rijk advice".to_string()
            } else {
                "with CIO Rijk advice dated after the decision".to_string()
            };
            em.activity(
                "CB-BASIS",
                a,
                sample,
                None,
                t!(
                    lang,
                    msg!("'{name}' bevat basisregistratie {regs} in de publieke cloud {why_nl}."),
                    msg!("'{name}' holds key register {regs} in public cloud {why_en}."),
                ),
            );
        }
    }
}
