//! Configured suppressions (`[[rules.suppress]]`): mark the findings they match, and
//! report a suppression that has expired (CB-SUPPRESS-EXPIRED) or matched nothing
//! (CB-SUPPRESS-UNMATCHED), so a stale exception cannot hide quietly.

use chrono::NaiveDate;

use crate::rules::emit::Emitter;
use crate::rules::message::Message;
use crate::rules::{Context, Finding, SharedStr};

/// CB-SUPPRESS-EXPIRED: a suppression past its expiry still matches.
pub(super) static EXPIRED: Message = Message::new(
    "CB-SUPPRESS-EXPIRED",
    "expired",
    &["code", "target", "expires", "reason"],
);
/// CB-SUPPRESS-UNMATCHED: a suppression matches no finding.
pub(super) static UNMATCHED: Message =
    Message::new("CB-SUPPRESS-UNMATCHED", "unmatched", &["code", "target"]);

/// The messages of this module.
pub(super) static MESSAGES: &[&Message] = &[&EXPIRED, &UNMATCHED];

/// Marks the findings in `out` that a live suppression matches; returns the suppression
/// diagnostics to add.
pub(crate) fn apply(ctx: &Context<'_>, out: &mut [Finding], date: NaiveDate) -> Vec<Finding> {
    let mut extra = Vec::new();
    let em = Emitter::new(ctx);
    for s in &ctx.rules.suppress {
        let expired = s.expires < date;
        let mut matched = 0usize;
        for f in out.iter_mut().filter(|f| f.code == s.code) {
            let res_ok = s.resource.as_deref().is_none_or(|want| {
                f.resource_id
                    .as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(want))
            });
            let act_ok = s.activity.as_deref().is_none_or(|want| {
                f.activity_id.as_deref().is_some_and(|id| {
                    crate::register::normalise_id(id) == crate::register::normalise_id(want)
                })
            });
            if res_ok && act_ok && (s.resource.is_some() || s.activity.is_some()) {
                matched += 1;
                if !expired {
                    f.suppressed = Some(s.reason.clone());
                }
            }
        }
        let target = s
            .resource
            .clone()
            .or_else(|| s.activity.clone())
            .unwrap_or_default();
        if expired && matched > 0 {
            if let Some(mut f) = em.base(&EXPIRED, &[&s.code, &target, &s.expires, &s.reason]) {
                f.resource_id = s.resource.clone();
                f.activity_id = s.activity.as_deref().map(SharedStr::from);
                extra.push(f);
            }
        } else if matched == 0
            && let Some(mut f) = em.base(&UNMATCHED, &[&s.code, &target])
        {
            f.resource_id = s.resource.clone();
            f.activity_id = s.activity.as_deref().map(SharedStr::from);
            extra.push(f);
        }
    }
    extra
}
