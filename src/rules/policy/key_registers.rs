//! Condition 11 (basisregistraties): a key register (source) in public cloud needs an
//! explain and prior advice of CIO Rijk (CB-BASIS).

use super::ActivityView;
use crate::rules::emit::Emitter;
use crate::rules::message::Message;

/// CB-BASIS: without an explain.
pub(super) static NO_EXPLAIN: Message =
    Message::new("CB-BASIS", "no_explain", &["name", "registers"]);
/// CB-BASIS: without CIO Rijk advice.
pub(super) static NO_ADVICE: Message =
    Message::new("CB-BASIS", "no_advice", &["name", "registers"]);
/// CB-BASIS: with CIO Rijk advice dated after the decision.
pub(super) static LATE_ADVICE: Message =
    Message::new("CB-BASIS", "late_advice", &["name", "registers"]);

/// The messages of this module.
pub(super) static MESSAGES: &[&Message] = &[&NO_EXPLAIN, &NO_ADVICE, &LATE_ADVICE];

/// CB-BASIS (condition 11): a key register in public cloud without an explain and prior
/// CIO Rijk advice.
pub(super) fn basis(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let name = &a.name;
    let linked = v.linked();
    let sample = v.sample;

    if a.has_basisregistratie() && linked {
        let regs = a.basisregistraties.join(", ");
        let explained = !a.explain_reference.trim().is_empty();
        let advice_prior = a.cio_advice_prior();
        if !explained || !advice_prior {
            let msg = if !explained {
                &NO_EXPLAIN
            } else if a.cio_advice_date.is_none() {
                &NO_ADVICE
            } else {
                &LATE_ADVICE
            };
            em.activity(msg, a, sample, None, &[&name, &regs]);
        }
    }
}
