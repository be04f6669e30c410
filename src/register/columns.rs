//! The register's columns: Dutch header, English alias, what a cell may hold.
//!
//! This table is the single source for the reader (header matching), the template
//! (headers, notes, drop-downs, widths) and `docs/register.md`; a test keeps the doc in
//! step. Headers are matched after [`fold`]: case, spaces, punctuation and accents do not
//! matter, so `Nummer verwerking`, `nummer_verwerking` and `ACTIVITY ID` all find the id.

use super::model::{
    ActivityStatus, C2000Check, Classification, CloudType, LegalBasis, RightToAudit, ServiceModel,
    SpecialCategory, TransferBasis, YesNoNa,
};

/// Lower-cases, strips accents and drops everything that is not an ASCII letter or digit:
/// `Beëindigd` → `beeindigd`, `stg. Geheim` → `stggeheim`, `n.v.t.` → `nvt`.
pub fn fold(s: &str) -> String {
    folded_chars(s).collect()
}

/// [`fold`] as an iterator, so comparisons need not allocate.
pub fn folded_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().flat_map(char::to_lowercase).flat_map(|c| {
        let mapped: &'static str = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
            'ç' => "c",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'ñ' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'ý' | 'ÿ' => "y",
            'ß' => "ss",
            'æ' => "ae",
            'œ' => "oe",
            'ĳ' => "ij",
            c if c.is_ascii_alphanumeric() => {
                return Folded::One(Some(c));
            }
            _ => "",
        };
        Folded::Many(mapped.chars())
    })
}

/// Whether `raw` folds to `key` (which is already folded).
pub fn folds_to(raw: &str, key: &str) -> bool {
    folded_chars(raw).eq(key.chars())
}

enum Folded {
    One(Option<char>),
    Many(std::str::Chars<'static>),
}

impl Iterator for Folded {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        match self {
            Folded::One(c) => c.take(),
            Folded::Many(it) => it.next(),
        }
    }
}

/// Which field of [`Activity`](super::Activity) a column fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Field {
    Id,
    Name,
    Unit,
    Controller,
    Purpose,
    LegalBasis,
    PersonalData,
    SpecialCategories,
    SpecialCategoryKinds,
    CriminalOrBsn,
    Basisregistraties,
    Classification,
    Material,
    MaterialReason,
    Providers,
    SubProcessors,
    ServiceModel,
    CloudType,
    DeclaredLocations,
    TransferBasis,
    TransferInstrument,
    PrescanDpia,
    FormalDpia,
    FormalDpiaDate,
    HighRisk,
    DpiaSentToCio,
    ExplainReference,
    CioAdviceDate,
    ExitStrategy,
    RightToAudit,
    C2000Check,
    WooPublication,
    DecisionBody,
    DecisionDate,
    Status,
    LegalBasisNote,
    DataSubjects,
    DataCategories,
    Retention,
    Recipients,
    ScopeMappings,
}

impl Field {
    /// The field's key in `[register_columns]` (`purpose`, `legal_basis`, ...).
    pub fn key(self) -> &'static str {
        FIELD_KEYS
            .iter()
            .find(|(f, _)| *f == self)
            .map(|(_, k)| *k)
            .unwrap_or("?")
    }

    /// The field a `[register_columns]` key names.
    pub fn from_key(key: &str) -> Option<Field> {
        let k = key.trim().to_ascii_lowercase().replace('-', "_");
        FIELD_KEYS.iter().find(|(_, n)| *n == k).map(|(f, _)| *f)
    }

    /// Every key, for messages.
    pub fn keys() -> Vec<&'static str> {
        FIELD_KEYS.iter().map(|(_, k)| *k).collect()
    }
}

const FIELD_KEYS: &[(Field, &str)] = &[
    (Field::Id, "id"),
    (Field::Name, "name"),
    (Field::Unit, "unit"),
    (Field::Controller, "controller"),
    (Field::Purpose, "purpose"),
    (Field::LegalBasis, "legal_basis"),
    (Field::PersonalData, "personal_data"),
    (Field::SpecialCategories, "special_categories"),
    (Field::SpecialCategoryKinds, "special_category_kinds"),
    (Field::CriminalOrBsn, "criminal_or_bsn"),
    (Field::Basisregistraties, "basisregistraties"),
    (Field::Classification, "classification"),
    (Field::Material, "material"),
    (Field::MaterialReason, "material_reason"),
    (Field::Providers, "providers"),
    (Field::SubProcessors, "sub_processors"),
    (Field::ServiceModel, "service_model"),
    (Field::CloudType, "cloud_type"),
    (Field::DeclaredLocations, "declared_locations"),
    (Field::TransferBasis, "transfer_basis"),
    (Field::TransferInstrument, "transfer_instrument"),
    (Field::PrescanDpia, "prescan_dpia"),
    (Field::FormalDpia, "formal_dpia"),
    (Field::FormalDpiaDate, "formal_dpia_date"),
    (Field::HighRisk, "high_risk"),
    (Field::DpiaSentToCio, "dpia_sent_to_cio"),
    (Field::ExplainReference, "explain_reference"),
    (Field::CioAdviceDate, "cio_advice_date"),
    (Field::ExitStrategy, "exit_strategy"),
    (Field::RightToAudit, "right_to_audit"),
    (Field::C2000Check, "c2000_check"),
    (Field::WooPublication, "woo_publication"),
    (Field::DecisionBody, "decision_body"),
    (Field::DecisionDate, "decision_date"),
    (Field::Status, "status"),
    (Field::LegalBasisNote, "legal_basis_note"),
    (Field::DataSubjects, "data_subjects"),
    (Field::DataCategories, "data_categories"),
    (Field::Retention, "retention"),
    (Field::Recipients, "recipients"),
    (Field::ScopeMappings, "scope_mappings"),
];

/// The fields the cloud annex holds (besides id and name): the policy's cloud facts no
/// art. 30 register records.
pub const ANNEX_FIELDS: &[Field] = &[
    Field::Classification,
    Field::Material,
    Field::MaterialReason,
    Field::Basisregistraties,
    Field::Providers,
    Field::SubProcessors,
    Field::ServiceModel,
    Field::CloudType,
    Field::DeclaredLocations,
    Field::TransferBasis,
    Field::TransferInstrument,
    Field::PrescanDpia,
    Field::FormalDpia,
    Field::FormalDpiaDate,
    Field::HighRisk,
    Field::DpiaSentToCio,
    Field::ExplainReference,
    Field::CioAdviceDate,
    Field::ExitStrategy,
    Field::RightToAudit,
    Field::C2000Check,
    Field::WooPublication,
    Field::DecisionBody,
    Field::DecisionDate,
    Field::Status,
    Field::ScopeMappings,
];

/// What a cell of a column may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text.
    Text,
    /// Free text, several values separated by `;` or new lines.
    TextList,
    /// Codes, several separated by `;`, `,` or new lines.
    CodeList,
    /// ja / nee (yes / no ...).
    YesNo,
    /// One value of a fixed list.
    Choice,
    /// Several values of a fixed list.
    MultiChoice,
    /// A date.
    Date,
    /// A date or a link.
    DateOrLink,
    /// Scope mappings (`aws:…`, `azure:…`, `gcp:…`).
    Scopes,
}

/// One column of the register format.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The field it fills.
    pub field: Field,
    /// The Dutch header (written by the template).
    pub header: &'static str,
    /// The English alias (accepted as well).
    pub alias: &'static str,
    /// Further accepted spellings.
    pub other_names: &'static [&'static str],
    /// Whether the column must be present.
    pub required: bool,
    /// What a cell holds.
    pub kind: Kind,
    /// What to write (Dutch, with English), shown as the header note in the template.
    pub help: &'static str,
    /// An example value.
    pub example: &'static str,
    /// Column width in the template (characters).
    pub width: f64,
}

impl Column {
    /// The values offered in the template's drop-down (empty when the column has none).
    pub fn choices(&self) -> Vec<&'static str> {
        fn labels<T: Copy + std::fmt::Display>(
            all: &[T],
            label: fn(T) -> &'static str,
        ) -> Vec<&'static str> {
            all.iter().map(|v| label(*v)).collect()
        }
        match self.field {
            _ if self.kind == Kind::YesNo => vec!["ja", "nee"],
            Field::LegalBasis => labels(LegalBasis::ALL, LegalBasis::label),
            Field::SpecialCategoryKinds => labels(SpecialCategory::ALL, SpecialCategory::label),
            Field::Basisregistraties => {
                let mut v = vec!["geen"];
                v.extend(BASISREGISTRATIES.iter().map(|(code, _)| *code));
                v
            }
            Field::Classification => labels(Classification::ALL, Classification::label),
            Field::ServiceModel => labels(ServiceModel::ALL, ServiceModel::label),
            Field::CloudType => labels(CloudType::ALL, CloudType::label),
            Field::TransferBasis => labels(TransferBasis::ALL, TransferBasis::label),
            Field::FormalDpia => labels(YesNoNa::ALL, YesNoNa::label),
            Field::RightToAudit => labels(RightToAudit::ALL, RightToAudit::label),
            Field::C2000Check => labels(C2000Check::ALL, C2000Check::label),
            Field::Status => labels(ActivityStatus::ALL, ActivityStatus::label),
            _ => Vec::new(),
        }
    }

    /// Whether the header text `h` names this column.
    pub fn matches(&self, h: &str) -> bool {
        let h = fold(h);
        !h.is_empty()
            && (folds_to(self.header, &h)
                || folds_to(self.alias, &h)
                || self.other_names.iter().any(|n| folds_to(n, &h)))
    }
}

/// The key registers (basisregistraties) a register may name, with their full names.
pub const BASISREGISTRATIES: &[(&str, &str)] = &[
    ("BRP", "Basisregistratie Personen"),
    ("BRK", "Basisregistratie Kadaster"),
    ("BAG", "Basisregistratie Adressen en Gebouwen"),
    ("HR", "Handelsregister"),
    ("BRT", "Basisregistratie Topografie"),
    ("BRV", "Basisregistratie Voertuigen"),
    ("BGT", "Basisregistratie Grootschalige Topografie"),
    ("BRO", "Basisregistratie Ondergrond"),
    ("WOZ", "Basisregistratie Waarde Onroerende Zaken"),
    ("BRI", "Basisregistratie Inkomen"),
    (
        "BLAU",
        "Basisregistratie Lonen, Arbeidsverhoudingen en Uitkeringen",
    ),
];

macro_rules! col {
    ($field:ident, $header:literal, $alias:literal, [$($other:literal),*], $req:literal, $kind:ident, $width:literal, $example:literal, $help:literal) => {
        Column {
            field: Field::$field,
            header: $header,
            alias: $alias,
            other_names: &[$($other),*],
            required: $req,
            kind: Kind::$kind,
            help: $help,
            example: $example,
            width: $width,
        }
    };
}

/// Every column, in template order.
pub const COLUMNS: &[Column] = &[
    col!(
        Id,
        "Nummer verwerking",
        "Activity id",
        [
            "nummer",
            "verwerkingsnummer",
            "va-id",
            "processing activity id",
            "dspcode",
            "id"
        ],
        true,
        Text,
        16.0,
        "VA-2026-001",
        "Uniek nummer van de verwerking; dit nummer staat als tag/label `verwerking` op de cloudresources. Alleen letters, cijfers, - en _ (max. 63 tekens). / Unique activity id, used as the tag value on resources."
    ),
    col!(
        Name,
        "Naam verwerking",
        "Activity name",
        [
            "naam",
            "name",
            "verwerking",
            "naam verwerkingsactiviteit",
            "verwerkingsactiviteit"
        ],
        true,
        Text,
        34.0,
        "Subsidieaanvragen burgers",
        "Korte naam van de verwerking. / Short name of the processing activity."
    ),
    col!(
        Unit,
        "Organisatieonderdeel",
        "Organisational unit",
        [
            "directie",
            "afdeling",
            "unit",
            "organizational unit",
            "dienst",
            "avg verantwoordelijke dienst",
            "naam afdeling",
            "organisatie"
        ],
        false,
        Text,
        22.0,
        "DG Digitale Zaken",
        "Directie of dienst die de verwerking uitvoert. / Directorate or agency."
    ),
    col!(
        Controller,
        "Verwerkingsverantwoordelijke",
        "Controller",
        [
            "verantwoordelijke",
            "data controller",
            "verwerkingsverantwoordelijken",
            "verantwoordelijken"
        ],
        false,
        Text,
        26.0,
        "Minister van Voorbeeldzaken",
        "Verwerkingsverantwoordelijke (art. 4 AVG). / Controller (GDPR art. 4)."
    ),
    col!(
        Purpose,
        "Doel",
        "Purpose",
        [
            "doel van de verwerking",
            "doeleinden",
            "purpose of processing",
            "avg doelen",
            "doelen",
            "doeleinde",
            "verwerkingsdoeleinden",
            "verwerkingsdoel"
        ],
        false,
        Text,
        34.0,
        "Beoordelen en uitbetalen van subsidies",
        "Doel van de verwerking. / Purpose of the processing."
    ),
    col!(
        LegalBasis,
        "Grondslag",
        "Legal basis",
        [
            "rechtmatige grondslag",
            "rechtsgrond",
            "avg rechtsgrond",
            "grondslag art 6",
            "lawful basis",
            "grondslagen"
        ],
        false,
        Choice,
        26.0,
        "wettelijke verplichting",
        "Grondslag art. 6 lid 1 AVG (a t/m f). / GDPR art. 6(1) lawful basis (a-f)."
    ),
    col!(
        PersonalData,
        "Persoonsgegevens",
        "Personal data",
        ["verwerkt persoonsgegevens", "pg"],
        false,
        YesNo,
        14.0,
        "ja",
        "Worden persoonsgegevens verwerkt? ja/nee. / Is personal data processed?"
    ),
    col!(
        SpecialCategories,
        "Bijzondere persoonsgegevens",
        "Special categories",
        ["bijzondere categorieen", "bpg", "art 9"],
        false,
        YesNo,
        16.0,
        "ja",
        "Bijzondere persoonsgegevens (art. 9 AVG)? ja/nee; welke in de volgende kolom. / Special-category data? yes/no; which in the next column."
    ),
    col!(
        SpecialCategoryKinds,
        "Soorten bijzondere persoonsgegevens",
        "Special category kinds",
        [
            "welke bijzondere persoonsgegevens",
            "special categories which",
            "special category types"
        ],
        false,
        MultiChoice,
        30.0,
        "gezondheid",
        "Welke art. 9-categorieën, gescheiden door ; (bijv. gezondheid; biometrische gegevens). / Which art. 9 categories, separated by ;."
    ),
    col!(
        CriminalOrBsn,
        "Strafrechtelijke gegevens of BSN",
        "Criminal data or BSN",
        ["strafrechtelijke gegevens", "bsn", "criminal data"],
        false,
        YesNo,
        16.0,
        "nee",
        "Strafrechtelijke persoonsgegevens (art. 10 AVG) of BSN? ja/nee. / Criminal-offence data or citizen service number?"
    ),
    col!(
        Basisregistraties,
        "Basisregistratie",
        "Key register",
        [
            "basisregistraties",
            "basisregistratie bron",
            "key registers",
            "base register"
        ],
        false,
        MultiChoice,
        16.0,
        "geen",
        "Is de verwerking (bron van) een basisregistratie? geen, of de afkorting(en): BRP, BRK, BAG, HR, BRT, BRV, BGT, BRO, WOZ, BRI, BLAU. / None, or which key register(s)."
    ),
    col!(
        Classification,
        "Rubricering",
        "Classification",
        ["classificatie", "vertrouwelijkheid", "classification level"],
        false,
        Choice,
        24.0,
        "departementaal vertrouwelijk",
        "Hoogste rubricering van de gegevens (VIR-BI). Staatsgeheim hoort niet in publieke cloud. / Highest classification of the data."
    ),
    col!(
        Material,
        "Materieel cloudgebruik",
        "Material use",
        ["materieel", "material cloud use", "materieel gebruik"],
        false,
        YesNo,
        14.0,
        "ja",
        "Is de cloudtoepassing essentieel voor de primaire taak? ja/nee. Nee + reden + scopekoppeling markeert sandboxes. / Essential for the primary task?"
    ),
    col!(
        MaterialReason,
        "Reden materieel",
        "Material use reason",
        [
            "toelichting materieel",
            "reden niet materieel",
            "material reason"
        ],
        false,
        Text,
        26.0,
        "primair proces",
        "Waarom het gebruik (niet) materieel is; bij sandboxes bijv. `sandbox/experimenten`. / Why (not) material."
    ),
    col!(
        Providers,
        "Cloudleverancier",
        "Cloud provider",
        [
            "cloudleveranciers",
            "leverancier",
            "cloud providers",
            "provider"
        ],
        false,
        TextList,
        20.0,
        "AWS",
        "Cloudleverancier(s), gescheiden door ; (AWS, Microsoft Azure, Google Cloud, ...). / Cloud provider(s)."
    ),
    col!(
        SubProcessors,
        "Subverwerkers",
        "Sub-processors",
        ["onderaannemers", "subverwerker", "subprocessors"],
        false,
        TextList,
        26.0,
        "Amazon Web Services EMEA SARL",
        "Subverwerkers van de leverancier, gescheiden door ; of `geen`. / Sub-processors, separated by ;."
    ),
    col!(
        ServiceModel,
        "Servicemodel",
        "Service model",
        ["dienstmodel", "servicemodel saas paas iaas"],
        false,
        Choice,
        12.0,
        "PaaS",
        "SaaS, PaaS of IaaS."
    ),
    col!(
        CloudType,
        "Cloudtype",
        "Cloud type",
        ["type cloud", "deployment model"],
        false,
        Choice,
        12.0,
        "publiek",
        "publiek, privaat, hybride, community of onbekend. / public, private, hybrid, community, unknown."
    ),
    col!(
        DeclaredLocations,
        "Locaties opslag en verwerking",
        "Declared locations",
        [
            "locaties",
            "regio",
            "regios",
            "opslaglocatie",
            "regions",
            "locations"
        ],
        false,
        CodeList,
        24.0,
        "eu-west-1; eu-central-1",
        "Regio's van de leverancier of ISO-landcodes waar gegevens worden opgeslagen en verwerkt, gescheiden door ; (bijv. eu-west-1; westeurope; europe-west4; NL). / Provider regions or ISO countries."
    ),
    col!(
        TransferBasis,
        "Doorgiftegrondslag",
        "Transfer basis",
        ["doorgifte", "grondslag doorgifte", "transfer"],
        false,
        Choice,
        14.0,
        "9a",
        "Voorwaarde 9 cloudbeleid: 9a binnen EER, 9b adequaatheidsbesluit, 9c passende waarborgen (SCC/BCR), of geen. / 9a EEA, 9b adequacy, 9c SCC/BCR, none."
    ),
    col!(
        TransferInstrument,
        "Doorgifte-instrument",
        "Transfer instrument",
        ["instrument", "waarborg", "safeguard"],
        false,
        Text,
        18.0,
        "SCC 2021/914",
        "Bij 9c: het instrument (SCC 2021/914, BCR, ...). / For 9c: the art. 46 instrument."
    ),
    col!(
        PrescanDpia,
        "Datum pre-scan DPIA",
        "Pre-scan DPIA date",
        ["pre-scan dpia", "prescan dpia", "datum prescan"],
        false,
        Date,
        14.0,
        "2025-03-14",
        "Datum van de goedgekeurde pre-scan DPIA (jjjj-mm-dd of dd-mm-jjjj). / Date of the approved pre-scan DPIA."
    ),
    col!(
        FormalDpia,
        "Formele DPIA",
        "Formal DPIA",
        [
            "dpia",
            "dpia uitgevoerd",
            "geb dpia uitgevoerd",
            "geb uitgevoerd",
            "gegevensbeschermingseffectbeoordeling uitgevoerd"
        ],
        false,
        Choice,
        12.0,
        "ja",
        "Is een formele DPIA uitgevoerd? ja, nee of n.v.t. / Formal DPIA: yes, no, n/a."
    ),
    col!(
        FormalDpiaDate,
        "Datum formele DPIA",
        "Formal DPIA date",
        ["datum dpia", "dpia date"],
        false,
        Date,
        14.0,
        "2025-06-30",
        "Datum van de formele DPIA. / Date of the formal DPIA."
    ),
    col!(
        HighRisk,
        "Hoog risico",
        "High risk",
        [
            "hoog privacyrisico",
            "high privacy risk",
            "hoog risico voor rechten en vrijheden",
            "hoog risico rechten en vrijheden"
        ],
        false,
        YesNo,
        12.0,
        "nee",
        "Levert de verwerking een hoog risico op (art. 35 AVG)? ja/nee. / High risk?"
    ),
    col!(
        DpiaSentToCio,
        "DPIA naar CIO Rijk",
        "DPIA sent to CIO Rijk",
        [
            "datum dpia naar cio rijk",
            "dpia verzonden cio rijk",
            "dpia sent to cio"
        ],
        false,
        Date,
        14.0,
        "2025-07-15",
        "Datum waarop de DPIA naar CIO Rijk is gestuurd. / Date the DPIA was sent to CIO Rijk."
    ),
    col!(
        ExplainReference,
        "Kenmerk explain",
        "Explain reference",
        ["explain", "pas toe of leg uit", "comply or explain"],
        false,
        Text,
        18.0,
        "MinVZ-2025-0042",
        "Kenmerk van de uitleg (pas toe of leg uit) aan CIO Rijk. / Reference of the comply-or-explain letter."
    ),
    col!(
        CioAdviceDate,
        "Datum advies CIO Rijk",
        "CIO Rijk advice date",
        ["advies cio rijk", "cio advice date"],
        false,
        Date,
        14.0,
        "2025-09-01",
        "Datum van het (voorafgaande) advies van CIO Rijk, verplicht bij basisregistraties. / Date of the CIO Rijk advice."
    ),
    col!(
        ExitStrategy,
        "Exitstrategie",
        "Exit strategy",
        ["exitstrategie in contract", "exit strategy in contract"],
        false,
        YesNo,
        12.0,
        "ja",
        "Is een exitstrategie (overdracht en vernietiging) contractueel vastgelegd? ja/nee. / Exit strategy in the contract?"
    ),
    col!(
        RightToAudit,
        "Right-to-audit",
        "Right to audit",
        ["auditrecht", "audit right"],
        false,
        Choice,
        12.0,
        "via SLM",
        "Contractueel auditrecht: ja, nee, of via SLM (Strategisch Leveranciersmanagement). / yes, no, via SLM."
    ),
    col!(
        C2000Check,
        "C2000-toets",
        "C2000 check",
        ["c2000", "c2000 criteria", "c2000 toetsing"],
        false,
        Choice,
        14.0,
        "voldoet",
        "Uitkomst C2000-toets: voldoet, voldoet niet, niet uitgevoerd. / passed, failed, not performed."
    ),
    col!(
        WooPublication,
        "Woo-publicatie",
        "Woo publication",
        ["woo", "publicatie woo", "openbaarmaking"],
        false,
        DateOrLink,
        24.0,
        "https://open.overheid.nl/documenten/...",
        "Datum of link van de openbaarmaking van het besluit/de DPIA (Woo); leeg = niet gepubliceerd. / Date or link of publication."
    ),
    col!(
        DecisionBody,
        "Besluit door",
        "Decision body",
        [
            "besluitvormend orgaan",
            "besluit genomen door",
            "decided by"
        ],
        false,
        Text,
        20.0,
        "SG MinVZ",
        "Wie het besluit tot cloudgebruik nam. / Body that took the decision."
    ),
    col!(
        DecisionDate,
        "Datum besluit",
        "Decision date",
        ["besluitdatum", "date of decision"],
        false,
        Date,
        14.0,
        "2025-10-01",
        "Datum van het besluit. / Date of the decision."
    ),
    col!(
        Status,
        "Status",
        "Status",
        ["fase", "lifecycle", "levensfase", "status verwerking"],
        false,
        Choice,
        12.0,
        "in gebruik",
        "gepland, in gebruik of beëindigd. / planned, in use, ended."
    ),
    col!(
        LegalBasisNote,
        "Toelichting grondslag",
        "Legal basis note",
        [
            "specifieke wet",
            "wettelijke grondslag",
            "wet",
            "toelichting rechtsgrond"
        ],
        false,
        Text,
        30.0,
        "Kaderwet subsidies I&W, art. 4",
        "De specifieke wet of toelichting bij de grondslag. / The specific law or note on the basis."
    ),
    col!(
        DataSubjects,
        "Categorieën betrokkenen",
        "Data subjects",
        [
            "betrokkenen",
            "categorie betrokkenen",
            "categories of data subjects",
            "avg betrokkenen"
        ],
        false,
        TextList,
        26.0,
        "aanvragers; medewerkers",
        "Categorieën betrokkenen (art. 30 lid 1 c), gescheiden door ;. / Categories of data subjects."
    ),
    col!(
        DataCategories,
        "Categorieën persoonsgegevens",
        "Data categories",
        [
            "soorten persoonsgegevens",
            "categorie persoonsgegevens",
            "categories of personal data",
            "gegevens"
        ],
        false,
        TextList,
        30.0,
        "NAW-gegevens; bankrekeningnummer",
        "Categorieën persoonsgegevens (art. 30 lid 1 c), gescheiden door ;. / Categories of personal data."
    ),
    col!(
        Retention,
        "Bewaartermijn",
        "Retention",
        [
            "bewaartermijnen",
            "retention period",
            "bewaartermijn gegevens"
        ],
        false,
        Text,
        20.0,
        "7 jaar na afhandeling",
        "Bewaartermijn(en) (art. 30 lid 1 f). / Retention period(s)."
    ),
    col!(
        Recipients,
        "Ontvangers",
        "Recipients",
        [
            "categorieen ontvangers",
            "categorie ontvangers",
            "recipients",
            "avg ontvangers"
        ],
        false,
        TextList,
        24.0,
        "Belastingdienst",
        "(Categorieën) ontvangers (art. 30 lid 1 d), gescheiden door ;. / (Categories of) recipients."
    ),
    col!(
        ScopeMappings,
        "Scopekoppeling",
        "Scope mappings",
        ["cloudscopes", "scopes", "accounts", "scope mapping"],
        false,
        Scopes,
        40.0,
        "aws:111122223333",
        "Accounts/subscriptions/resourcegroepen/projecten waarvan álle resources bij deze verwerking horen, gescheiden door ; — aws:<account>, azure:<subscription-id>, azure:<subscription-id>/<resourcegroep>, gcp:<project-id>. / Scopes whose resources all belong to this activity."
    ),
];

/// The column of a field.
pub fn column(field: Field) -> &'static Column {
    COLUMNS
        .iter()
        .find(|c| c.field == field)
        .expect("every field has a column")
}

/// The column a header names, if any.
pub fn match_header(h: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.matches(h))
}

/// The column a header names and how well: 0 for the Dutch header, 1 for the English
/// alias, 2 + i for the i-th other name. When two headers of a file name the same column,
/// the better rank wins (`Nummer` over `Id`, `Rechtmatige grondslag` over `Grondslag`).
pub fn match_header_ranked(h: &str) -> Option<(&'static Column, usize)> {
    let key = fold(h);
    if key.is_empty() {
        return None;
    }
    COLUMNS.iter().find_map(|c| {
        if folds_to(c.header, &key) {
            Some((c, 0))
        } else if folds_to(c.alias, &key) {
            Some((c, 1))
        } else {
            c.other_names
                .iter()
                .position(|n| folds_to(n, &key))
                .map(|i| (c, 2 + i))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn fold_ignores_case_spaces_punctuation_and_accents() {
        assert_eq!(fold(" Beëindigd "), "beeindigd");
        assert_eq!(fold("stg. Geheim"), "stggeheim");
        assert_eq!(fold("N.V.T."), "nvt");
        assert_eq!(fold("Nummer_verwerking"), "nummerverwerking");
    }

    #[test]
    fn headers_match_dutch_english_and_sloppy_spellings() {
        assert_eq!(match_header("Nummer verwerking").unwrap().field, Field::Id);
        assert_eq!(match_header("ACTIVITY-ID").unwrap().field, Field::Id);
        assert_eq!(
            match_header("c2000 toets").unwrap().field,
            Field::C2000Check
        );
        assert_eq!(
            match_header("Right to audit").unwrap().field,
            Field::RightToAudit
        );
        assert!(match_header("Opmerkingen").is_none());
    }

    #[test]
    fn no_two_columns_share_a_name() {
        let mut seen: BTreeMap<String, Field> = BTreeMap::new();
        for c in COLUMNS {
            let mut names: Vec<String> = vec![fold(c.header), fold(c.alias)];
            names.extend(c.other_names.iter().map(|n| fold(n)));
            names.sort();
            names.dedup();
            for n in names {
                if let Some(prev) = seen.insert(n.clone(), c.field) {
                    panic!("'{n}' names both {prev:?} and {:?}", c.field);
                }
            }
        }
    }

    #[test]
    fn every_field_has_exactly_one_column() {
        let mut fields: Vec<Field> = COLUMNS.iter().map(|c| c.field).collect();
        let n = fields.len();
        fields.sort();
        fields.dedup();
        assert_eq!(fields.len(), n);
        assert_eq!(n, 41);
    }

    #[test]
    fn docs_register_md_documents_every_column() {
        let doc = include_str!("../../docs/register.md");
        for c in COLUMNS {
            let row = format!(
                "| {} | {} | {} |",
                c.header,
                c.alias,
                if c.required { "yes" } else { "no" }
            );
            assert!(
                doc.contains(&row),
                "docs/register.md lacks the row for '{}'",
                c.header
            );
        }
    }
}
