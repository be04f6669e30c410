//! Condition 6 (toegespitste risicoanalyse): market concentration and political and
//! geographic spread (CB-CONC), per activity and for the organisation as a whole. The
//! facts (which provider, which jurisdiction) are computed in
//! [`rules::concentration`](crate::rules::concentration), which the report shares.

use crate::rules::Evaluation;
use crate::rules::emit::Emitter;
use crate::rules::message::Message;

use super::ActivityView;

/// CB-CONC: special categories with a provider under non-EU law.
pub(super) static SPECIAL_CATEGORIES: Message =
    Message::new("CB-CONC", "special_categories", &["name", "providers"]);
/// CB-CONC: a key register with a provider under non-EU law.
pub(super) static KEY_REGISTER: Message =
    Message::new("CB-CONC", "key_register", &["name", "providers"]);
/// CB-CONC: too large a share of material activities on one provider.
pub(super) static ORGANISATION: Message = Message::new(
    "CB-CONC",
    "organisation",
    &["count", "total", "share", "provider", "threshold"],
);

/// The messages of this module.
pub(super) static MESSAGES: &[&Message] = &[&SPECIAL_CATEGORIES, &KEY_REGISTER, &ORGANISATION];

/// CB-CONC for one activity: special categories or a key register on a provider under a
/// non-EU jurisdiction need an exit strategy or an explain.
pub(super) fn activity(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let f = v.facts;
    let name = &a.name;
    let in_cloud = v.in_cloud();
    let date = v.date;
    let sample = v.sample;

    if in_cloud
        && (a.has_special_categories() || a.has_basisregistratie())
        && a.exit_strategy != Some(true)
        && a.explain_reference.trim().is_empty()
    {
        let reach = crate::rules::concentration::non_eea_reach(em.ctx.catalog, a, f, date);
        if !reach.is_empty() {
            let msg = if a.has_special_categories() {
                &SPECIAL_CATEGORIES
            } else {
                &KEY_REGISTER
            };
            let who = reach
                .iter()
                .map(|p| {
                    if p.laws.is_empty() {
                        format!("{} ({})", p.name, p.home_country)
                    } else {
                        format!("{} ({}: {})", p.name, p.home_country, p.laws.join(", "))
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            em.activity(msg, a, sample, None, &[&name, &who]);
        }
    }
}

/// CB-CONC for the organisation: more than `rules.max_provider_share` percent of the
/// material activities depend on one provider.
pub(super) fn organisation(em: &mut Emitter<'_>, eval: &Evaluation) {
    let ctx = em.ctx;
    let c = crate::rules::concentration::concentration(ctx.register, eval);
    let max = f64::from(ctx.rules.max_provider_share);
    for p in &c.providers {
        let share = c.share(p.material);
        if c.material_total < ctx.rules.concentration_min_activities.max(1) || share <= max {
            continue;
        }
        let (n, total, provider) = (p.material, c.material_total, p.provider);
        if let Some(mut f) = em.base(
            &ORGANISATION,
            &[
                &n,
                &total,
                &format!("{share:.0}"),
                &provider,
                &format!("{max:.0}"),
            ],
        ) {
            f.provider = Some(provider);
            em.out.push(f);
        }
    }
}
