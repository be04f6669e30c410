//! The cloud annex: the policy's cloud facts per activity, joined onto the register by
//! the register's own number.
//!
//! An art. 30 register (the AVG Register Rijksoverheid, a ministry's spreadsheet) holds
//! no classification, material use, provider, sub-processors, locations, CIO Rijk dates,
//! exit strategy or C2000 outcome. The annex does: one row per activity, `Nummer
//! verwerking` plus any of [`ANNEX_FIELDS`]. `cloudcensus register annex` writes it
//! pre-filled with every activity's number and name. A fact the annex has a column for
//! replaces the register's; a blank annex cell stays *not filled in*.

use std::collections::HashMap;

use super::columns::{ANNEX_FIELDS, Field, column};
use super::model::{Activity, Fact, Register, normalise_id};
use super::problem::{ColumnRef, Problem, Severity};
use super::validate::Outcome;

/// The fact a field answers, where rules track it as (un)filled.
fn fact_of(field: Field) -> Option<Fact> {
    Some(match field {
        Field::Classification => Fact::Classification,
        Field::Material => Fact::Material,
        Field::PersonalData => Fact::PersonalData,
        Field::LegalBasis => Fact::LegalBasis,
        Field::Providers => Fact::Providers,
        Field::SubProcessors => Fact::SubProcessors,
        Field::ServiceModel => Fact::ServiceModel,
        Field::CloudType => Fact::CloudType,
        Field::DeclaredLocations => Fact::DeclaredLocations,
        _ => return None,
    })
}

/// Copies one annex field onto a register activity.
fn copy(field: Field, to: &mut Activity, from: &Activity) {
    match field {
        Field::Classification => to.classification = from.classification,
        Field::Material => to.material = from.material,
        Field::MaterialReason => to.material_reason = from.material_reason.clone(),
        Field::Basisregistraties => to.basisregistraties = from.basisregistraties.clone(),
        Field::Providers => to.providers = from.providers.clone(),
        Field::SubProcessors => to.sub_processors = from.sub_processors.clone(),
        Field::ServiceModel => to.service_model = from.service_model,
        Field::CloudType => to.cloud_type = from.cloud_type,
        Field::DeclaredLocations => to.declared_locations = from.declared_locations.clone(),
        Field::TransferBasis => to.transfer_basis = from.transfer_basis,
        Field::TransferInstrument => to.transfer_instrument = from.transfer_instrument.clone(),
        Field::PrescanDpia => to.prescan_dpia = from.prescan_dpia,
        Field::FormalDpia => {
            to.formal_dpia = from.formal_dpia;
            to.formal_dpia_date = from.formal_dpia_date.or(to.formal_dpia_date);
        }
        Field::FormalDpiaDate => to.formal_dpia_date = from.formal_dpia_date,
        Field::HighRisk => to.high_risk = from.high_risk,
        Field::DpiaSentToCio => to.dpia_sent_to_cio = from.dpia_sent_to_cio,
        Field::ExplainReference => to.explain_reference = from.explain_reference.clone(),
        Field::CioAdviceDate => to.cio_advice_date = from.cio_advice_date,
        Field::ExitStrategy => to.exit_strategy = from.exit_strategy,
        Field::RightToAudit => to.right_to_audit = from.right_to_audit,
        Field::C2000Check => to.c2000_check = from.c2000_check,
        Field::WooPublication => to.woo_publication = from.woo_publication.clone(),
        Field::DecisionBody => to.decision_body = from.decision_body.clone(),
        Field::DecisionDate => to.decision_date = from.decision_date,
        Field::Status => to.status = from.status,
        Field::ScopeMappings => to.scope_mappings = from.scope_mappings.clone(),
        _ => {}
    }
}

/// Joins the validated `annex` onto `register`: returns the errors (annex rows whose
/// number is not in the register, numbers given twice) and warnings (activities without
/// an annex row).
pub fn apply(
    register: &mut Register,
    annex: &Outcome,
    annex_file: &str,
) -> (Vec<Problem>, Vec<Problem>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let index: HashMap<String, usize> = register
        .activities
        .iter()
        .enumerate()
        .map(|(i, a)| (normalise_id(&a.id), i))
        .collect();
    let fields: Vec<Field> = annex
        .fields
        .iter()
        .copied()
        .filter(|f| ANNEX_FIELDS.contains(f))
        .collect();
    let mut covered = vec![false; register.activities.len()];
    let id_col = ColumnRef {
        header: column(Field::Id).header.to_string(),
        letter: None,
    };
    for row in &annex.register.activities {
        let Some(&i) = index.get(&normalise_id(&row.id)) else {
            errors.push(Problem {
                severity: Severity::Error,
                file: annex_file.to_string(),
                sheet: None,
                row: Some(row.row),
                column: Some(id_col.clone()),
                value: Some(row.id.clone()),
                message: format!(
                    "activity {} is not in the register {}; correct the number or remove the row",
                    row.id, register.source
                ),
            });
            continue;
        };
        covered[i] = true;
        let to = &mut register.activities[i];
        for f in &fields {
            copy(*f, to, row);
            if let Some(fact) = fact_of(*f) {
                to.unfilled.retain(|u| *u != fact);
                if row.is_unfilled(fact) {
                    to.mark_unfilled(fact);
                }
            }
        }
    }
    let missing: Vec<&Activity> = register
        .activities
        .iter()
        .zip(&covered)
        .filter(|(_, c)| !**c)
        .map(|(a, _)| a)
        .collect();
    if !missing.is_empty() {
        let ids: Vec<&str> = missing.iter().take(10).map(|a| a.id.as_str()).collect();
        warnings.push(Problem {
            severity: Severity::Warning,
            file: annex_file.to_string(),
            sheet: None,
            row: None,
            column: Some(id_col),
            value: None,
            message: format!(
                "{} activit{} of the register have no row in the annex ({}{}); their cloud \
                 facts count as not filled in (`cloudcensus register annex` writes every row)",
                missing.len(),
                if missing.len() == 1 { "y" } else { "ies" },
                ids.join(", "),
                if missing.len() > 10 { ", ..." } else { "" }
            ),
        });
    }
    (errors, warnings)
}
