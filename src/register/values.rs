//! Parsing one cell value: yes/no, enums, dates, lists.
//!
//! Registers are typed by people, so every parser accepts the Dutch label, the English
//! equivalent and the obvious abbreviations, compared after [`fold`] (case, spaces,
//! punctuation and accents ignored). Anything else is an error that lists the allowed
//! values, never a silent default.

use chrono::NaiveDate;

use super::columns::{BASISREGISTRATIES, fold, folds_to};
use super::model::{
    ActivityStatus, C2000Check, Classification, CloudType, LegalBasis, RightToAudit, ServiceModel,
    SpecialCategory, TransferBasis, YesNoNa,
};

/// A value that can be parsed from a cell.
pub trait CellValue: Sized + Copy + 'static {
    /// What the value is called in messages (`classification`).
    const WHAT: &'static str;
    /// Every value with its accepted spellings (besides the label), already folded or not.
    fn spellings() -> Vec<(Self, Vec<&'static str>)>;
    /// The canonical label.
    fn canonical(self) -> &'static str;

    /// Parses `s`, or says what is allowed.
    fn parse_cell(s: &str) -> Result<Self, String> {
        let key = fold(s);
        for (v, names) in Self::spellings() {
            if folds_to(v.canonical(), &key) || names.iter().any(|n| folds_to(n, &key)) {
                return Ok(v);
            }
        }
        let allowed: Vec<&str> = Self::spellings()
            .iter()
            .map(|(v, _)| v.canonical())
            .collect();
        Err(format!(
            "'{}' is not a known {}; allowed: {}",
            s.trim(),
            Self::WHAT,
            allowed.join(", ")
        ))
    }
}

const YES: &[&str] = &["ja", "j", "yes", "y", "x", "true", "waar", "wel"];
const NO: &[&str] = &["nee", "n", "no", "false", "onwaar", "niet"];

/// Parses ja/nee (yes/no, j/n, y, x, true/false).
pub fn parse_yes_no(s: &str) -> Result<bool, String> {
    let key = fold(s);
    if YES.contains(&key.as_str()) {
        Ok(true)
    } else if NO.contains(&key.as_str()) {
        Ok(false)
    } else {
        Err(format!(
            "'{}' is not yes/no; allowed: ja, nee (also yes/no, j/n, y, x, true/false)",
            s.trim()
        ))
    }
}

/// Whether a cell says "not known": `unknown`, `onbekend`, `?`, `nog niet bekend`. Such a
/// cell is *not filled in*, never "no".
pub fn is_unknown_marker(s: &str) -> bool {
    let t = s.trim();
    t == "?"
        || matches!(
            fold(t).as_str(),
            "unknown"
                | "onbekend"
                | "nogonbekend"
                | "nietbekend"
                | "nognietbekend"
                | "tbd"
                | "nntb"
        )
}

/// Whether a value is a register system's workflow state (AVG Register Rijksoverheid,
/// VWS register) rather than an activity's lifecycle.
pub fn is_workflow_state(s: &str) -> bool {
    matches!(
        fold(s).as_str(),
        "vastgesteld"
            | "inbewerking"
            | "terreview"
            | "vaststellingaangevraagd"
            | "vervallen"
            | "concept"
            | "ingediend"
            | "goedgekeurd"
            | "afgekeurd"
            | "gepubliceerd"
    )
}

/// The lawful bases in one cell: several separated by `;` or new lines, each the basis or
/// `"<basis>: <toelichting>"`. Returns (bases, notes joined, parts that are no basis).
pub fn parse_legal_bases(s: &str) -> (Vec<LegalBasis>, String, Vec<String>) {
    let mut bases = Vec::new();
    let mut notes = Vec::new();
    let mut unknown = Vec::new();
    for part in split_text_list(s) {
        let (basis, note) = match LegalBasis::parse_cell(&part) {
            Ok(b) => (Some(b), None),
            Err(_) => match part.split_once(':') {
                Some((b, n)) => match LegalBasis::parse_cell(b) {
                    Ok(b) => (Some(b), Some(n.trim().to_string())),
                    Err(_) => (None, Some(part.clone())),
                },
                None => (None, Some(part.clone())),
            },
        };
        match basis {
            Some(b) => {
                if !bases.contains(&b) {
                    bases.push(b);
                }
            }
            None => unknown.push(part.clone()),
        }
        if let Some(n) = note.filter(|n| !n.is_empty())
            && !notes.contains(&n)
        {
            notes.push(n);
        }
    }
    (bases, notes.join("; "), unknown)
}

/// Parses a date: `jjjj-mm-dd` (ISO) or Dutch `dd-mm-jjjj` (also with `/` or `.`).
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let t = s.trim();
    // An ISO date-time as some exports write it: keep the date part.
    let t = match t.split_once(['T', ' ']) {
        Some((d, rest))
            if (8..=10).contains(&d.len())
                && rest.contains(':')
                && rest
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == ':' || c == '.' || c == 'Z') =>
        {
            d
        }
        _ => t,
    };
    for fmt in ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, fmt)
            && (1900..=9999).contains(&chrono::Datelike::year(&d))
        {
            return Ok(d);
        }
    }
    Err(format!(
        "'{}' is not a date; write jjjj-mm-dd (2025-03-14) or dd-mm-jjjj (14-03-2025)",
        s.trim()
    ))
}

/// Whether a cell says "nothing here": empty, `-`, `geen`, `none`, `n.v.t.`, `nee`.
pub fn is_none_marker(s: &str) -> bool {
    let t = s.trim();
    t.is_empty()
        || t.chars().all(|c| matches!(c, '-' | '–' | '—' | '/'))
        || matches!(
            fold(t).as_str(),
            "geen" | "none" | "nvt" | "na" | "nee" | "no"
        )
}

/// Splits a free-text list on `;` and new lines.
pub fn split_text_list(s: &str) -> Vec<String> {
    s.split([';', '\n', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Splits a code list on `;`, `,` and new lines.
pub fn split_code_list(s: &str) -> Vec<String> {
    s.split([';', ',', '\n', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses a basisregistratie code or full name to its code (`Basisregistratie Personen` →
/// `BRP`, `NHR` → `HR`).
pub fn parse_basisregistratie(s: &str) -> Result<&'static str, String> {
    let key = fold(s);
    for (code, name) in BASISREGISTRATIES {
        if folds_to(code, &key) || folds_to(name, &key) {
            return Ok(code);
        }
    }
    let extra: &[(&str, &str)] = &[
        ("nhr", "HR"),
        ("handelsregisterkvk", "HR"),
        ("basisregistratieadressen", "BAG"),
        ("gba", "BRP"),
        (
            "basisregistratielonenarbeidsverhoudingenenuitkeringen",
            "BLAU",
        ),
        ("polisadministratie", "BLAU"),
    ];
    if let Some((_, code)) = extra.iter().find(|(k, _)| *k == key) {
        return Ok(code);
    }
    let allowed: Vec<&str> = BASISREGISTRATIES.iter().map(|(c, _)| *c).collect();
    Err(format!(
        "'{}' is not a known basisregistratie; allowed: geen, {}",
        s.trim(),
        allowed.join(", ")
    ))
}

macro_rules! spellings {
    ($t:ty, $what:literal, { $($v:expr => [$($s:literal),*]),+ $(,)? }) => {
        impl CellValue for $t {
            const WHAT: &'static str = $what;
            fn spellings() -> Vec<(Self, Vec<&'static str>)> {
                vec![$(($v, vec![$($s),*])),+]
            }
            fn canonical(self) -> &'static str {
                self.label()
            }
        }
    };
}

spellings!(LegalBasis, "legal basis (art. 6 AVG)", {
    LegalBasis::Consent => ["consent", "a", "6a", "61a", "art61a", "toestemming betrokkene", "toestemming van de betrokkene"],
    LegalBasis::Contract => ["contract", "b", "6b", "61b", "art61b", "uitvoering overeenkomst", "uitvoering van een overeenkomst"],
    LegalBasis::LegalObligation => ["legal obligation", "c", "6c", "61c", "art61c", "wettelijke plicht", "wettelijke verplichting verantwoordelijke"],
    LegalBasis::VitalInterests => ["vital interests", "d", "6d", "61d", "art61d", "vitaal belang", "vitaal belang betrokkene", "vitale belangen betrokkene"],
    LegalBasis::PublicTask => ["public task", "public interest", "algemeen belang", "openbaar gezag", "publieke taak", "publiekrechtelijke taak", "taak van algemeen belang", "taak van algemeen belang of openbaar gezag", "taak van algemeen belang openbaar gezag", "algemeen belang of openbaar gezag", "e", "6e", "61e", "art61e"],
    LegalBasis::LegitimateInterests => ["legitimate interests", "legitimate interest", "gerechtvaardigd belang", "gerechtvaardigd belang verantwoordelijke", "gerechtvaardigd belang van de verwerkingsverantwoordelijke", "f", "6f", "61f", "art61f"],
});

spellings!(SpecialCategory, "special category (art. 9 AVG)", {
    SpecialCategory::Ethnicity => ["ethnicity", "racial or ethnic origin", "ras", "etniciteit", "etnische afkomst"],
    SpecialCategory::Politics => ["politics", "political opinions", "politieke opvatting", "politiek"],
    SpecialCategory::Religion => ["religion", "religious beliefs", "religieuze overtuiging", "religie", "geloof", "levensovertuiging"],
    SpecialCategory::TradeUnion => ["trade union", "trade union membership", "vakbond", "vakbondslidmaatschap"],
    SpecialCategory::Genetic => ["genetic", "genetic data", "genetisch"],
    SpecialCategory::Biometric => ["biometric", "biometric data", "biometrie", "biometrisch"],
    SpecialCategory::Health => ["health", "health data", "gezondheidsgegevens", "medisch", "medische gegevens"],
    SpecialCategory::SexLife => ["sex life", "sexual orientation", "seksuele gerichtheid", "seksueel gedrag", "seksualiteit"],
});

spellings!(Classification, "classification (rubricering)", {
    Classification::Openbaar => ["public", "openbaar"],
    Classification::Ongerubriceerd => ["intern", "internal", "unclassified", "ongerubriceerd intern"],
    Classification::DepartementaalVertrouwelijk => ["dv", "dep v", "dept vertrouwelijk", "departmental confidential", "departementaal vertrouwelijk"],
    Classification::StgConfidentieel => ["staatsgeheim confidentieel", "stg confidential", "state secret confidential", "stgc"],
    Classification::StgGeheim => ["staatsgeheim geheim", "state secret secret", "stgg"],
    Classification::StgZeerGeheim => ["staatsgeheim zeer geheim", "state secret top secret", "stgzg"],
});

spellings!(ServiceModel, "service model", {
    ServiceModel::Saas => ["software as a service"],
    ServiceModel::Paas => ["platform as a service"],
    ServiceModel::Iaas => ["infrastructure as a service"],
});

spellings!(CloudType, "cloud type", {
    CloudType::Public => ["public", "publieke cloud", "public cloud"],
    CloudType::Private => ["private", "private cloud", "privé", "prive"],
    CloudType::Hybrid => ["hybrid", "hybride cloud", "hybrid cloud"],
    CloudType::Community => ["community cloud", "gemeenschap"],
    CloudType::Unknown => ["unknown", "onbekend", "?"],
});

spellings!(TransferBasis, "transfer basis (voorwaarde 9)", {
    TransferBasis::Eea => ["9 a", "eer", "eea", "binnen eer", "within eea"],
    TransferBasis::Adequacy => ["9 b", "adequaatheidsbesluit", "adequacy", "adequacy decision"],
    TransferBasis::Safeguards => ["9 c", "scc", "bcr", "passende waarborgen", "appropriate safeguards", "safeguards", "art 46"],
    TransferBasis::None => ["none", "geen doorgifte", "geen", "nee", "no"],
});

spellings!(YesNoNa, "yes/no/n.a.", {
    YesNoNa::Yes => ["ja", "j", "yes", "y", "x", "true", "uitgevoerd"],
    YesNoNa::No => ["nee", "n", "no", "false", "niet uitgevoerd"],
    YesNoNa::NotApplicable => ["nvt", "na", "n/a", "not applicable", "niet van toepassing"],
});

spellings!(RightToAudit, "right-to-audit", {
    RightToAudit::Yes => ["ja", "j", "yes", "y", "x", "true"],
    RightToAudit::No => ["nee", "n", "no", "false"],
    RightToAudit::ViaSlm => ["slm", "via slm", "strategisch leveranciersmanagement"],
});

spellings!(C2000Check, "C2000 check outcome", {
    C2000Check::Passed => ["passed", "pass", "voldaan", "akkoord", "ok"],
    C2000Check::Failed => ["failed", "fail", "niet voldaan", "voldoet niet aan criteria"],
    C2000Check::NotPerformed => ["not performed", "niet getoetst", "nog niet uitgevoerd", "open"],
});

spellings!(ActivityStatus, "status", {
    ActivityStatus::Planned => ["planned", "gepland", "in voorbereiding", "voorbereiding"],
    ActivityStatus::InUse => ["in use", "in gebruik", "actief", "active", "productie", "in productie"],
    ActivityStatus::Ended => ["ended", "beeindigd", "gestopt", "stopped", "uitgefaseerd", "retired"],
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_no_accepts_the_documented_spellings() {
        for s in ["ja", "JA", "j", "Yes", "y", "x", "X", "true", " TRUE "] {
            assert_eq!(parse_yes_no(s), Ok(true), "{s}");
        }
        for s in ["nee", "Nee", "n", "no", "false"] {
            assert_eq!(parse_yes_no(s), Ok(false), "{s}");
        }
        assert!(parse_yes_no("misschien").unwrap_err().contains("ja, nee"));
    }

    #[test]
    fn dates_accept_iso_dutch_and_iso_datetime() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 14).unwrap();
        assert_eq!(parse_date("2025-03-14"), Ok(d));
        assert_eq!(parse_date("14-03-2025"), Ok(d));
        assert_eq!(parse_date("14-3-2025"), Ok(d));
        assert_eq!(parse_date("14/03/2025"), Ok(d));
        assert_eq!(parse_date("2025-03-14T00:00:00"), Ok(d));
        assert!(parse_date("2025-13-01").unwrap_err().contains("jjjj-mm-dd"));
        assert!(parse_date("03/14/2025").is_err());
        assert!(parse_date("gisteren").is_err());
    }

    #[test]
    fn enums_accept_labels_english_and_abbreviations() {
        assert_eq!(
            Classification::parse_cell("DV"),
            Ok(Classification::DepartementaalVertrouwelijk)
        );
        assert_eq!(
            Classification::parse_cell("Stg. Geheim"),
            Ok(Classification::StgGeheim)
        );
        assert_eq!(
            Classification::parse_cell("internal"),
            Ok(Classification::Ongerubriceerd)
        );
        assert_eq!(LegalBasis::parse_cell("6.1.e"), Ok(LegalBasis::PublicTask));
        assert_eq!(
            LegalBasis::parse_cell("Algemeen belang / openbaar gezag"),
            Ok(LegalBasis::PublicTask)
        );
        assert_eq!(
            ActivityStatus::parse_cell("Beëindigd"),
            Ok(ActivityStatus::Ended)
        );
        assert_eq!(
            ActivityStatus::parse_cell("beeindigd"),
            Ok(ActivityStatus::Ended)
        );
        assert_eq!(
            TransferBasis::parse_cell("SCC"),
            Ok(TransferBasis::Safeguards)
        );
        assert_eq!(YesNoNa::parse_cell("n.v.t."), Ok(YesNoNa::NotApplicable));
        assert_eq!(
            RightToAudit::parse_cell("Via SLM"),
            Ok(RightToAudit::ViaSlm)
        );
        assert_eq!(
            C2000Check::parse_cell("voldoet niet"),
            Ok(C2000Check::Failed)
        );
        assert_eq!(ServiceModel::parse_cell("saas"), Ok(ServiceModel::Saas));
        assert_eq!(
            SpecialCategory::parse_cell("Health"),
            Ok(SpecialCategory::Health)
        );
    }

    #[test]
    fn an_unknown_enum_value_lists_every_allowed_value() {
        let err = Classification::parse_cell("geheim").unwrap_err();
        for c in Classification::ALL {
            assert!(err.contains(c.label()), "{err}");
        }
    }

    #[test]
    fn spellings_are_unambiguous_within_each_enum() {
        fn check<T: CellValue + PartialEq + std::fmt::Debug>() {
            for (v, names) in T::spellings() {
                for n in names.iter().copied().chain([v.canonical()]) {
                    assert_eq!(T::parse_cell(n), Ok(v), "{} '{n}'", T::WHAT);
                }
            }
        }
        check::<LegalBasis>();
        check::<SpecialCategory>();
        check::<Classification>();
        check::<ServiceModel>();
        check::<CloudType>();
        check::<TransferBasis>();
        check::<YesNoNa>();
        check::<RightToAudit>();
        check::<C2000Check>();
        check::<ActivityStatus>();
    }

    #[test]
    fn basisregistraties_parse_by_code_or_name() {
        assert_eq!(parse_basisregistratie("brp"), Ok("BRP"));
        assert_eq!(
            parse_basisregistratie("Basisregistratie Personen"),
            Ok("BRP")
        );
        assert_eq!(parse_basisregistratie("NHR"), Ok("HR"));
        assert!(parse_basisregistratie("XYZ").unwrap_err().contains("BRK"));
    }

    #[test]
    fn none_markers_mean_empty() {
        for s in ["", " ", "-", "geen", "Geen", "n.v.t.", "none"] {
            assert!(is_none_marker(s), "{s}");
        }
        assert!(!is_none_marker("MinVZ-1"));
    }
}
