//! Condition 6 of the policy weighs "marktconcentratie en politieke en geografische
//! spreiding": how many of the material activities hang on one provider, and which
//! providers answer to a jurisdiction outside the EEA whatever the region. Shared by rule
//! CB-CONC and the *Concentratie* sheet, so both count the same way.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cloudcensus_core::{Catalog, Provider, ProviderFacts};

use super::policy::known_use::register_providers;
use super::{ActivityFacts, Evaluation};
use crate::register::{Activity, Fact, Register};

/// The material activities per provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Concentration {
    /// Material activities in public cloud (an activity on two providers counts once).
    pub material_total: usize,
    /// Data-bearing resources.
    pub data_bearing_total: usize,
    /// Per scanned provider, in provider order.
    pub providers: Vec<ProviderRow>,
}

/// A provider's row of [`Concentration`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRow {
    /// The provider.
    pub provider: Provider,
    /// Material activities on it.
    pub material: usize,
    /// Of those, with personal data.
    pub personal: usize,
    /// Of those, with special categories.
    pub special: usize,
    /// Of those, with a key register.
    pub basis: usize,
    /// Of those, without an exit strategy.
    pub no_exit: usize,
    /// Data-bearing resources on it (registered or not).
    pub data_bearing: usize,
}

impl Concentration {
    /// `n` as a percentage of the material activities (0 when there are none).
    pub fn share(&self, n: usize) -> f64 {
        if self.material_total == 0 {
            0.0
        } else {
            n as f64 * 100.0 / self.material_total as f64
        }
    }

    /// The provider with the most material activities (the first on a tie).
    pub fn largest(&self) -> Option<&ProviderRow> {
        self.providers.iter().filter(|p| p.material > 0).fold(
            None,
            |best: Option<&ProviderRow>, p| match best {
                Some(b) if b.material >= p.material => Some(b),
                _ => Some(p),
            },
        )
    }
}

/// Whether an activity counts as material public-cloud use: it has resources or declares
/// public cloud while active, and is material or leaves material use unfilled (which
/// counts as material, see CB-FACTS).
pub fn is_material(a: &Activity, f: &ActivityFacts) -> bool {
    let in_cloud = f.resources > 0 || (a.declares_public_cloud() && a.is_active());
    in_cloud && (a.material || a.is_unfilled(Fact::Material))
}

/// The providers an activity depends on: those its resources were seen on, and those the
/// register names.
pub fn providers_of(a: &Activity, f: &ActivityFacts) -> Vec<Provider> {
    let mut out = f.providers.clone();
    out.extend(register_providers(a));
    out.into_iter().collect()
}

/// Counts the material activities per provider in `eval`.
pub fn concentration(register: &Register, eval: &Evaluation) -> Concentration {
    let mut rows: BTreeMap<Provider, ProviderRow> = Provider::ALL
        .into_iter()
        .map(|provider| {
            (
                provider,
                ProviderRow {
                    provider,
                    material: 0,
                    personal: 0,
                    special: 0,
                    basis: 0,
                    no_exit: 0,
                    data_bearing: eval
                        .data_bearing_by_provider
                        .get(&provider)
                        .copied()
                        .unwrap_or(0),
                },
            )
        })
        .collect();
    let mut total = 0;
    for (a, f) in register.activities.iter().zip(&eval.activities) {
        if !is_material(a, f) {
            continue;
        }
        total += 1;
        for p in providers_of(a, f) {
            if let Some(r) = rows.get_mut(&p) {
                r.material += 1;
                r.personal += usize::from(a.personal_data);
                r.special += usize::from(a.has_special_categories());
                r.basis += usize::from(a.has_basisregistratie());
                r.no_exit += usize::from(a.exit_strategy != Some(true));
            }
        }
    }
    Concentration {
        material_total: total,
        data_bearing_total: eval.data_bearing_total,
        providers: rows.into_values().collect(),
    }
}

/// The providers and sub-processors of an activity whose home jurisdiction is outside the
/// EEA on `date`, per the catalog's provider facts.
pub fn non_eea_reach<'c>(
    catalog: &'c Catalog,
    a: &Activity,
    f: &ActivityFacts,
    date: NaiveDate,
) -> Vec<&'c ProviderFacts> {
    let mut out: Vec<&ProviderFacts> = providers_of(a, f)
        .into_iter()
        .filter_map(|p| catalog.facts_of(p))
        .collect();
    for name in a.providers.iter().chain(&a.sub_processors) {
        out.extend(catalog.facts_named(name));
    }
    out.sort_by(|x, y| x.provider.cmp(&y.provider));
    out.dedup_by(|x, y| x.provider == y.provider);
    out.retain(|p| !catalog.is_eea_member(&p.home_country, date));
    out
}
