//! Condition 6 (toegespitste risicoanalyse): market concentration and political and
//! geographic spread (CB-CONC), per activity and for the organisation as a whole. The
//! facts (which provider, which jurisdiction) are computed in
//! [`rules::concentration`](crate::rules::concentration), which the report shares.

use crate::rules::Evaluation;
use crate::rules::emit::{Emitter, msg, t};

use super::ActivityView;

/// CB-CONC for one activity: special categories or a key register on a provider under a
/// non-EU jurisdiction need an exit strategy or an explain.
pub(super) fn activity(em: &mut Emitter<'_>, v: &ActivityView<'_>) {
    let a = v.activity;
    let f = v.facts;
    let lang = em.ctx.lang;
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
            let what_nl = if a.has_special_categories() {
                "bijzondere persoonsgegevens"
            } else {
                "een basisregistratie"
            };
            let what_en = if a.has_special_categories() {
                "special-category data"
            } else {
                "a key register"
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
            em.activity(
                "CB-CONC",
                a,
                sample,
                None,
                t!(
                    lang,
                    msg!("'{name}' verwerkt {what_nl} bij een dienstverlener onder niet-EU-recht ({who}), zonder exitstrategie en zonder explain."),
                    msg!("'{name}' processes {what_en} with a provider under non-EU law ({who}), without an exit strategy and without an explain."),
                ),
            );
        }
    }
}

/// CB-CONC for the organisation: more than `rules.max_provider_share` percent of the
/// material activities depend on one provider.
pub(super) fn organisation(em: &mut Emitter<'_>, eval: &Evaluation) {
    let ctx = em.ctx;
    let lang = ctx.lang;
    let c = crate::rules::concentration::concentration(ctx.register, eval);
    let max = f64::from(ctx.rules.max_provider_share);
    for p in &c.providers {
        let share = c.share(p.material);
        if c.material_total < ctx.rules.concentration_min_activities.max(1) || share <= max {
            continue;
        }
        let (n, total, provider) = (p.material, c.material_total, p.provider);
        if let Some(mut f) = em.base(
            "CB-CONC",
            t!(
                lang,
                msg!("{n} van de {total} materiële verwerkingen ({share:.0} %) hangen af van {provider}; de drempel is {max:.0} %."),
                msg!("{n} of the {total} material activities ({share:.0} %) depend on {provider}; the threshold is {max:.0} %."),
            ),
        ) {
            f.provider = Some(provider);
            em.out.push(f);
        }
    }
}
