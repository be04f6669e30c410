//! Condition 3's completeness: a part of the estate that could not be scanned (access
//! denied, throttled, region disabled) must show in the report (CB-COVERAGE).

use cloudcensus_core::Coverage;

use crate::rules::emit::Emitter;
use crate::rules::message::Message;

/// CB-COVERAGE: one coverage gap.
pub(super) static GAP: Message = Message::new(
    "CB-COVERAGE",
    "gap",
    &["provider", "scope", "region", "service", "status", "detail"],
);

/// The messages of this module.
pub(super) static MESSAGES: &[&Message] = &[&GAP];

/// CB-COVERAGE: one finding per coverage gap.
pub(super) fn gaps(em: &mut Emitter<'_>, coverage: &[Coverage]) {
    for c in coverage.iter().filter(|c| c.status.is_gap()) {
        if let Some(mut f) = em.base(
            &GAP,
            &[
                &c.provider,
                &c.scope_id,
                &c.region,
                &c.service,
                &c.status,
                &c.message.as_deref().unwrap_or("-"),
            ],
        ) {
            f.provider = Some(c.provider);
            f.scope = Some(em.intern.str(&c.scope_id));
            f.region = Some(em.intern.str(&c.region));
            em.out.push(f);
        }
    }
}
