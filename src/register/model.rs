//! The parsed register: one [`Activity`] per processing activity.
//!
//! Readers (CSV, XLSX) produce this model; rules and reports consume it. Values are
//! already validated: enums are enums, dates are dates. Where the register may leave a
//! cell empty the field is an `Option` (or an empty `Vec`/`String`), and the rules decide
//! what an empty cell means (usually a finding, never a crash).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A whole register.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    /// The file it was read from (for messages and the report cover).
    pub source: String,
    /// The activities, in file order.
    pub activities: Vec<Activity>,
}

impl Register {
    /// The activity with this id (ids are compared after tag normalisation).
    pub fn get(&self, id: &str) -> Option<&Activity> {
        let key = normalise_id(id);
        self.activities.iter().find(|a| normalise_id(&a.id) == key)
    }
}

/// Normalises an activity id the way Google Cloud labels force it: lower case, and every
/// character outside `[a-z0-9_-]` becomes `-`. `VA-2024-017` → `va-2024-017`. Tags on all
/// three clouds are matched against ids in this form.
pub fn normalise_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    normalise_id_into(id, &mut out);
    out
}

/// [`normalise_id`] into a reused buffer (cleared first): matching normalises every id
/// in every resource's tags, a million resources per evaluation.
pub fn normalise_id_into(id: &str, out: &mut String) {
    out.clear();
    out.extend(id.trim().chars().map(|c| {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            c
        } else {
            '-'
        }
    }));
}

/// One processing activity (verwerking), possibly one row per activity × cloud service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Nummer verwerking, e.g. `VA-2024-017`.
    pub id: String,
    /// Naam verwerking.
    pub name: String,
    /// Organisatieonderdeel.
    pub unit: String,
    /// Verwerkingsverantwoordelijke.
    pub controller: String,
    /// Doel.
    pub purpose: String,
    /// Grondslagen (art. 6 AVG): every basis the register names (one per purpose in the
    /// AVG Register Rijksoverheid); empty = not filled in.
    pub legal_bases: Vec<LegalBasis>,
    /// What the register writes after the basis (`"<basis>: <toelichting>"`), or a basis
    /// text that is none of the six (a law, a Wpg article).
    pub legal_basis_note: String,
    /// Persoonsgegevens ja/nee.
    pub personal_data: bool,
    /// Bijzondere persoonsgegevens: which art. 9 categories (empty = none).
    pub special_categories: Vec<SpecialCategory>,
    /// Strafrechtelijke gegevens of BSN.
    pub criminal_or_bsn: bool,
    /// Basisregistraties this activity holds as source (BRP, BRK, ...; empty = none).
    pub basisregistraties: Vec<String>,
    /// Rubricering.
    pub classification: Option<Classification>,
    /// Materieel cloudgebruik.
    pub material: bool,
    /// Why (not) material; for sandboxes the reason they are excluded.
    pub material_reason: String,
    /// Cloud providers (free text as written: `AWS`, `Microsoft Azure`, `Google Cloud`).
    pub providers: Vec<String>,
    /// Sub-processors (onderaannemers).
    pub sub_processors: Vec<String>,
    /// SaaS / PaaS / IaaS.
    pub service_model: Option<ServiceModel>,
    /// Public / private / hybrid / community.
    pub cloud_type: Option<CloudType>,
    /// Declared storage/processing locations: provider regions or ISO countries.
    pub declared_locations: Vec<String>,
    /// Doorgiftegrondslag (policy condition 9a/9b/9c).
    pub transfer_basis: Option<TransferBasis>,
    /// The art. 46 instrument for 9c (e.g. `SCC 2021/914`, `BCR`).
    pub transfer_instrument: String,
    /// Pre-scan DPIA date.
    pub prescan_dpia: Option<NaiveDate>,
    /// Formal DPIA: yes / no / not applicable.
    pub formal_dpia: Option<YesNoNa>,
    /// Formal DPIA date.
    pub formal_dpia_date: Option<NaiveDate>,
    /// Hoog risico.
    pub high_risk: bool,
    /// DPIA sent to CIO Rijk (date).
    pub dpia_sent_to_cio: Option<NaiveDate>,
    /// Explain reference (comply-or-explain).
    pub explain_reference: String,
    /// CIO Rijk advice date (basisregistraties: advice beforehand).
    pub cio_advice_date: Option<NaiveDate>,
    /// Exit strategy in the contract.
    pub exit_strategy: Option<bool>,
    /// Right-to-audit.
    pub right_to_audit: Option<RightToAudit>,
    /// C2000 check outcome.
    pub c2000_check: Option<C2000Check>,
    /// Woo publication: date or link (empty = not published).
    pub woo_publication: String,
    /// Decision body (besluit door).
    pub decision_body: String,
    /// Decision date.
    pub decision_date: Option<NaiveDate>,
    /// Planned / in use / ended.
    pub status: Option<ActivityStatus>,
    /// Categorieën betrokkenen (art. 30(1)(c)), as written.
    pub data_subjects: Vec<String>,
    /// Categorieën persoonsgegevens (art. 30(1)(c)), as written.
    pub data_categories: Vec<String>,
    /// Bewaartermijn(en) (art. 30(1)(f)), as written.
    pub retention: String,
    /// Ontvangers (art. 30(1)(d)), as written.
    pub recipients: Vec<String>,
    /// Facts the register (and annex) left unfilled — a blank cell, a missing column,
    /// `unknown` — by [`Fact`]. A blank is never read as "none"; only `geen`, `-` or
    /// `n.v.t.` are. Where a rule needs such a fact it names it.
    pub unfilled: Vec<Fact>,
    /// Scopes whose resources all belong to this activity: `aws:123456789012`,
    /// `azure:<subscription-id>`, `azure:<subscription-id>/<resource-group>`,
    /// `gcp:<project-id>`.
    pub scope_mappings: Vec<String>,
    /// 1-based row in the source sheet/file (header is row 1), for messages.
    pub row: usize,
}

impl Activity {
    /// Whether any special category (art. 9) is processed.
    pub fn has_special_categories(&self) -> bool {
        !self.special_categories.is_empty()
    }

    /// Whether the activity holds (a source of) a basisregistratie.
    pub fn has_basisregistratie(&self) -> bool {
        !self.basisregistraties.is_empty()
    }

    /// Whether the classification is staatsgeheim (any level).
    pub fn is_staatsgeheim(&self) -> bool {
        self.classification
            .is_some_and(Classification::is_staatsgeheim)
    }

    /// Whether the register declares public (or hybrid) cloud use.
    pub fn declares_public_cloud(&self) -> bool {
        matches!(self.cloud_type, Some(CloudType::Public | CloudType::Hybrid))
    }

    /// Whether the activity has not ended.
    pub fn is_active(&self) -> bool {
        self.status != Some(ActivityStatus::Ended)
    }

    /// Whether CIO Rijk's advice came before the decision (condition 11: "vooraf").
    /// Without a decision date an advice counts as prior; without an advice it is not.
    pub fn cio_advice_prior(&self) -> bool {
        match (self.cio_advice_date, self.decision_date) {
            (Some(advice), Some(decision)) => advice <= decision,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Whether `fact` was left unfilled.
    pub fn is_unfilled(&self, fact: Fact) -> bool {
        self.unfilled.contains(&fact)
    }

    /// Records that `fact` was left unfilled (once).
    pub fn mark_unfilled(&mut self, fact: Fact) {
        if !self.unfilled.contains(&fact) {
            self.unfilled.push(fact);
            self.unfilled.sort();
        }
    }

    /// The id normalised for tag matching.
    pub fn tag_value(&self) -> String {
        normalise_id(&self.id)
    }
}

macro_rules! labelled_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The canonical (Dutch where the policy is Dutch) label.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

labelled_enum!(
    /// A fact a rule needs that the register or the annex may leave unfilled.
    Fact {
        /// Rubricering.
        Classification => "rubricering",
        /// Materieel cloudgebruik.
        Material => "materieel cloudgebruik",
        /// Persoonsgegevens ja/nee.
        PersonalData => "persoonsgegevens",
        /// Grondslag.
        LegalBasis => "grondslag",
        /// Dienstverlener.
        Providers => "dienstverlener",
        /// Onderaannemers.
        SubProcessors => "subverwerkers",
        /// Type dienstverlening.
        ServiceModel => "type dienstverlening",
        /// Type cloud.
        CloudType => "type cloud",
        /// Regio/locatie.
        DeclaredLocations => "regio/locatie",
    }
);

impl Fact {
    /// The English name.
    pub fn label_en(self) -> &'static str {
        match self {
            Fact::Classification => "classification",
            Fact::Material => "material cloud use",
            Fact::PersonalData => "personal data",
            Fact::LegalBasis => "legal basis",
            Fact::Providers => "provider",
            Fact::SubProcessors => "sub-processors",
            Fact::ServiceModel => "service model",
            Fact::CloudType => "cloud type",
            Fact::DeclaredLocations => "region/location",
        }
    }
}

labelled_enum!(
    /// The six lawful bases of GDPR art. 6(1).
    LegalBasis {
        /// a. consent
        Consent => "toestemming",
        /// b. contract
        Contract => "overeenkomst",
        /// c. legal obligation
        LegalObligation => "wettelijke verplichting",
        /// d. vital interests
        VitalInterests => "vitale belangen",
        /// e. public task
        PublicTask => "algemeen belang / openbaar gezag",
        /// f. legitimate interests
        LegitimateInterests => "gerechtvaardigd belang",
    }
);

labelled_enum!(
    /// The special categories of GDPR art. 9(1).
    SpecialCategory {
        /// racial or ethnic origin
        Ethnicity => "ras of etnische afkomst",
        /// political opinions
        Politics => "politieke opvattingen",
        /// religious or philosophical beliefs
        Religion => "religieuze of levensbeschouwelijke overtuigingen",
        /// trade union membership
        TradeUnion => "lidmaatschap vakbond",
        /// genetic data
        Genetic => "genetische gegevens",
        /// biometric data for identification
        Biometric => "biometrische gegevens",
        /// health
        Health => "gezondheid",
        /// sex life or sexual orientation
        SexLife => "seksueel gedrag of seksuele gerichtheid",
    }
);

labelled_enum!(
    /// Rubricering (classification) levels of the Rijksoverheid.
    Classification {
        /// Public.
        Openbaar => "openbaar",
        /// Unclassified / internal use.
        Ongerubriceerd => "ongerubriceerd",
        /// Departementaal vertrouwelijk: the highest level a minister may allow in public cloud.
        DepartementaalVertrouwelijk => "departementaal vertrouwelijk",
        /// Staatsgeheim confidentieel.
        StgConfidentieel => "stg. confidentieel",
        /// Staatsgeheim geheim.
        StgGeheim => "stg. geheim",
        /// Staatsgeheim zeer geheim.
        StgZeerGeheim => "stg. zeer geheim",
    }
);

impl Classification {
    /// Any staatsgeheim level.
    pub fn is_staatsgeheim(self) -> bool {
        matches!(
            self,
            Classification::StgConfidentieel
                | Classification::StgGeheim
                | Classification::StgZeerGeheim
        )
    }

    /// Above departementaal vertrouwelijk (not allowed in public cloud).
    pub fn is_above_dv(self) -> bool {
        self > Classification::DepartementaalVertrouwelijk
    }
}

labelled_enum!(
    /// Cloud service model.
    ServiceModel {
        /// Software as a service.
        Saas => "SaaS",
        /// Platform as a service.
        Paas => "PaaS",
        /// Infrastructure as a service.
        Iaas => "IaaS",
    }
);

labelled_enum!(
    /// Cloud type (policy condition 6: publieke/private/hybride/community cloud).
    CloudType {
        /// Public cloud.
        Public => "publiek",
        /// Private cloud.
        Private => "privaat",
        /// Hybrid cloud.
        Hybrid => "hybride",
        /// Community cloud.
        Community => "community",
        /// Not known.
        Unknown => "onbekend",
    }
);

labelled_enum!(
    /// Transfer basis under policy condition 9.
    TransferBasis {
        /// 9a: storage and processing within the EEA.
        Eea => "9a",
        /// 9b: a country with an adequacy decision.
        Adequacy => "9b",
        /// 9c: an art. 46 instrument (SCC, BCR, ...).
        Safeguards => "9c",
        /// None.
        None => "geen",
    }
);

labelled_enum!(
    /// Yes / no / not applicable.
    YesNoNa {
        /// Yes.
        Yes => "ja",
        /// No.
        No => "nee",
        /// Not applicable.
        NotApplicable => "n.v.t.",
    }
);

labelled_enum!(
    /// Right-to-audit (policy condition 6).
    RightToAudit {
        /// Contractual right to audit.
        Yes => "ja",
        /// None.
        No => "nee",
        /// Sufficient assurance via Strategisch Leveranciersmanagement.
        ViaSlm => "via SLM",
    }
);

labelled_enum!(
    /// Outcome of the C2000 check (policy condition 7).
    C2000Check {
        /// Passed: no supplier or service from an excluded country.
        Passed => "voldoet",
        /// Failed.
        Failed => "voldoet niet",
        /// Not performed.
        NotPerformed => "niet uitgevoerd",
    }
);

labelled_enum!(
    /// Lifecycle of the activity.
    ActivityStatus {
        /// Planned.
        Planned => "gepland",
        /// In use.
        InUse => "in gebruik",
        /// Ended.
        Ended => "beëindigd",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_normalise_like_google_labels() {
        assert_eq!(normalise_id("VA-2024-017"), "va-2024-017");
        assert_eq!(normalise_id(" VA 2024/017 "), "va-2024-017");
        assert_eq!(normalise_id("va_2024_017"), "va_2024_017");
    }

    #[test]
    fn staatsgeheim_levels_are_above_dv() {
        assert!(Classification::StgConfidentieel.is_staatsgeheim());
        assert!(Classification::StgConfidentieel.is_above_dv());
        assert!(!Classification::DepartementaalVertrouwelijk.is_above_dv());
        assert!(!Classification::Openbaar.is_staatsgeheim());
    }

    #[test]
    fn register_lookup_ignores_case() {
        let reg = Register {
            source: "x".into(),
            activities: vec![Activity {
                id: "VA-1".into(),
                ..Default::default()
            }],
        };
        assert!(reg.get("va-1").is_some());
        assert!(reg.get("VA-2").is_none());
    }
}
