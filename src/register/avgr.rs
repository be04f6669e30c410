//! The AVG Register Rijksoverheid export (the register system ministries use): a ZIP
//! with one folder per register — `AVG Verantwoordelijke Verwerkingen`, `AVG Verwerker
//! Verwerkingen`, `WPG Verantwoordelijke Verwerkingen` — holding one UTF-8 JSON file (often
//! with a byte-order mark) per *Dienst*, each an array of records; or one such JSON file.
//!
//! A record becomes an [`Activity`] with the art. 30 facts the export has: `Nummer` is the
//! id (the annex joins on it), `Naam`, `Dienst`, the `Verantwoordelijken`, the purposes
//! and their bases (`Doelen[].Doel` / `Rechtsgrond`, several bases kept), the data
//! subjects with their art. 9 booleans and their data (`Betrokkenen[]`, `Gegevens[]` with
//! `Bewaartermijn`), recipients, `Doorgifte` and `GebPia`. It is an art. 30 register, so
//! every activity processes personal data; the cloud facts (classification, material use,
//! provider, locations, ...) are not in it and come from the cloud annex. Records in
//! workflow state `Vervallen` are skipped with a note. The format was learnt from the
//! importer of the open-source VWS register (`minvws/nl-rdo-dataprocessing-register`).

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::Value;

use super::columns::{Field, fold};
use super::model::{Activity, Fact, Register, SpecialCategory, TransferBasis, YesNoNa};
use super::problem::{ColumnRef, Problem, Severity};
use super::validate::{MAX_ID_LEN, Outcome};
use super::values::{parse_legal_bases, split_text_list};

/// The register folders of an export, and what kind of register each is.
pub const FOLDERS: &[(&str, Kind)] = &[
    ("AVG Verantwoordelijke Verwerkingen", Kind::AvgController),
    ("AVG Verwerker Verwerkingen", Kind::AvgProcessor),
    ("WPG Verantwoordelijke Verwerkingen", Kind::Wpg),
];

/// Which of the three registers a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// GDPR, the ministry as controller.
    AvgController,
    /// GDPR, the ministry as processor for another controller.
    AvgProcessor,
    /// Wet politiegegevens (police data): criminal data by nature.
    Wpg,
}

/// The most files and bytes per file read from one ZIP (a register export is small; a
/// larger archive is refused rather than unpacked).
const MAX_FILES: usize = 1000;
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The fields an export fills (the annex fills the rest).
pub const FIELDS: &[Field] = &[
    Field::Id,
    Field::Name,
    Field::Unit,
    Field::Controller,
    Field::Purpose,
    Field::LegalBasis,
    Field::LegalBasisNote,
    Field::PersonalData,
    Field::SpecialCategories,
    Field::SpecialCategoryKinds,
    Field::CriminalOrBsn,
    Field::FormalDpia,
    Field::HighRisk,
    Field::TransferBasis,
    Field::TransferInstrument,
    Field::DataSubjects,
    Field::DataCategories,
    Field::Retention,
    Field::Recipients,
];

struct Reader {
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
    activities: Vec<Activity>,
}

impl Reader {
    fn push(
        &mut self,
        sev: Severity,
        file: &str,
        record: Option<usize>,
        key: Option<&str>,
        msg: String,
    ) {
        let p = Problem {
            severity: sev,
            file: file.to_string(),
            sheet: None,
            row: record,
            column: key.map(|k| ColumnRef {
                header: k.to_string(),
                letter: None,
            }),
            value: None,
            message: msg,
        };
        match sev {
            Severity::Error => self.errors.push(p),
            Severity::Warning => self.warnings.push(p),
        }
    }
}

impl Reader {
    /// A problem of a whole file (no record, no key).
    fn file(&mut self, sev: Severity, file: &str, msg: String) {
        self.push(sev, file, None, None, msg);
    }
}

/// The register folders, for messages.
fn folder_names() -> String {
    FOLDERS
        .iter()
        .map(|(f, _)| *f)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `bytes` look like a ZIP archive.
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// Reads an export (`bytes` a ZIP, or one JSON file) named `file` in messages.
pub fn read(file: &str, bytes: &[u8]) -> Outcome {
    let mut r = Reader {
        errors: Vec::new(),
        warnings: Vec::new(),
        activities: Vec::new(),
    };
    if is_zip(bytes) {
        read_zip(file, bytes, &mut r);
    } else {
        let kind = FOLDERS
            .iter()
            .find(|(f, _)| file.contains(f))
            .map(|(_, k)| *k);
        read_json(file, bytes, kind, &mut r);
    }
    // Ids across every file of the export.
    let mut seen: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut dups = Vec::new();
    for a in &r.activities {
        let key = super::normalise_id(&a.id);
        if let Some((f, n)) = seen.get(&key) {
            dups.push((a.id.clone(), f.clone(), *n, a.unit.clone(), a.row));
        } else {
            seen.insert(key, (a.unit.clone(), a.row));
        }
    }
    for (id, first_unit, first_row, unit, row) in dups {
        r.push(
            Severity::Error,
            file,
            Some(row),
            Some("Nummer"),
            format!(
                "Nummer {id} ({unit}) also belongs to record {first_row} ({first_unit}); every \
                 record needs its own Nummer"
            ),
        );
    }
    if r.activities.is_empty() && r.errors.is_empty() {
        r.file(
            Severity::Warning,
            file,
            "the export holds no records".into(),
        );
    }
    Outcome {
        register: Register {
            source: file.to_string(),
            activities: r.activities,
        },
        errors: r.errors,
        warnings: r.warnings,
        fields: FIELDS.to_vec(),
    }
}

fn read_zip(file: &str, bytes: &[u8], r: &mut Reader) {
    let mut zip = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(z) => z,
        Err(e) => {
            r.file(
                Severity::Error,
                file,
                format!("not a readable ZIP archive ({e}); export the register again"),
            );
            return;
        }
    };
    if zip.len() > MAX_FILES {
        r.file(Severity::Error, file, format!(
                "{} files in the archive, more than the {MAX_FILES} a register export has; is this the right file?",
                zip.len()
            ),
        );
        return;
    }
    let mut names: Vec<String> = (0..zip.len())
        .filter_map(|i| {
            zip.by_index(i)
                .ok()
                .and_then(|f| f.name().ok().map(|n| n.into_owned()))
        })
        .collect();
    names.sort();
    let mut read_any = false;
    for name in names {
        if name.ends_with('/') {
            continue;
        }
        let here = format!("{file}:{name}");
        let top = name.split('/').next().unwrap_or_default();
        let Some((_, kind)) = FOLDERS.iter().find(|(f, _)| fold(f) == fold(top)) else {
            r.file(
                Severity::Warning,
                &here,
                format!(
                    "not in one of the register folders ({}); ignored",
                    folder_names()
                ),
            );
            continue;
        };
        if !name.to_ascii_lowercase().ends_with(".json") {
            r.file(Severity::Warning, &here, "not a .json file; ignored".into());
            continue;
        }
        let mut entry = match zip.by_name(&name) {
            Ok(e) => e,
            Err(e) => {
                r.file(
                    Severity::Error,
                    &here,
                    format!("cannot read it from the archive: {e}"),
                );
                continue;
            }
        };
        if entry.size() > MAX_FILE_BYTES {
            r.file(
                Severity::Error,
                &here,
                format!(
                    "{} bytes, more than {MAX_FILE_BYTES}; refused",
                    entry.size()
                ),
            );
            continue;
        }
        let mut buf = Vec::new();
        if let Err(e) = entry.by_ref().take(MAX_FILE_BYTES).read_to_end(&mut buf) {
            r.file(Severity::Error, &here, format!("cannot unpack it: {e}"));
            continue;
        }
        read_any = true;
        read_json(&here, &buf, Some(*kind), r);
    }
    if !read_any && r.errors.is_empty() {
        r.file(Severity::Error, file, format!(
                "no register files in the archive: expected folders {} with one .json file per Dienst",
                folder_names()
            ),
        );
    }
}

fn read_json(file: &str, bytes: &[u8], kind: Option<Kind>, r: &mut Reader) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            r.file(
                Severity::Error,
                file,
                format!(
                    "not UTF-8 text (byte {}); export the register again",
                    e.valid_up_to()
                ),
            );
            return;
        }
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            r.file(
                Severity::Error,
                file,
                format!(
                    "not valid JSON at line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ),
            );
            return;
        }
    };
    let records = match value {
        Value::Array(a) => a,
        Value::Object(_) => vec![value],
        _ => {
            r.file(
                Severity::Error,
                file,
                "expected an array of records (AVG Register Rijksoverheid export)".into(),
            );
            return;
        }
    };
    for (i, rec) in records.iter().enumerate() {
        let n = i + 1;
        let Some(obj) = rec.as_object() else {
            r.push(
                Severity::Error,
                file,
                Some(n),
                None,
                "a record is not an object".into(),
            );
            continue;
        };
        let kind = kind.unwrap_or(if obj.get("Betrokkenen").is_some_and(Value::is_object) {
            Kind::Wpg
        } else {
            Kind::AvgController
        });
        if let Some(a) = record(file, n, rec, kind, r) {
            r.activities.push(a);
        }
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("")
}

fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A boolean as the export writes it (`true`, or `"ja"` / `"true"` / `"yes"`); `None`
/// when absent or null (not filled in).
fn b(v: &Value, path: &str) -> Option<bool> {
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    match cur {
        Value::Bool(x) => Some(*x),
        Value::String(t) => match fold(t).as_str() {
            "ja" | "true" | "yes" => Some(true),
            "nee" | "false" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn push_unique(list: &mut Vec<String>, v: &str) {
    let v = v.trim();
    if !v.is_empty() && !list.iter().any(|x| x == v) {
        list.push(v.to_string());
    }
}

fn record(file: &str, n: usize, rec: &Value, kind: Kind, r: &mut Reader) -> Option<Activity> {
    let nummer = s(rec, "Nummer");
    let status = s(rec, "Status");
    if fold(status) == "vervallen" {
        r.push(
            Severity::Warning,
            file,
            Some(n),
            Some("Status"),
            format!(
                "record {} is Vervallen (withdrawn) and is skipped",
                if nummer.is_empty() {
                    s(rec, "Id")
                } else {
                    nummer
                }
            ),
        );
        return None;
    }
    let id = if nummer.is_empty() {
        let fallback = s(rec, "Id");
        if fallback.is_empty() {
            r.push(
                Severity::Error,
                file,
                Some(n),
                Some("Nummer"),
                "the record has no Nummer (and no Id); every record needs its register number"
                    .into(),
            );
            return None;
        }
        r.push(
            Severity::Warning,
            file,
            Some(n),
            Some("Nummer"),
            format!("no Nummer; the record's Id {fallback} is used as its number (the annex must use it too)"),
        );
        fallback
    } else {
        nummer
    };
    let tag = super::normalise_id(id);
    if tag.len() > MAX_ID_LEN {
        r.push(
            Severity::Error,
            file,
            Some(n),
            Some("Nummer"),
            format!(
                "Nummer '{id}' is longer than {MAX_ID_LEN} characters (a Google Cloud label value)"
            ),
        );
    }
    let name = s(rec, "Naam");
    if name.is_empty() {
        r.push(
            Severity::Error,
            file,
            Some(n),
            Some("Naam"),
            format!("record {id} has no Naam; fill it in in the register and export again"),
        );
    }
    let mut a = Activity {
        id: id.to_string(),
        name: name.to_string(),
        unit: s(rec, "Dienst").to_string(),
        // An art. 30 register: every record processes personal data.
        personal_data: true,
        row: n,
        ..Activity::default()
    };
    let mut controllers = Vec::new();
    for c in arr(rec, "Verantwoordelijken") {
        push_unique(&mut controllers, c.as_str().unwrap_or(s(c, "Naam")));
    }
    a.controller = controllers.join("; ");
    let mut purposes = Vec::new();
    let mut notes = Vec::new();
    for (gi, goal) in arr(rec, "Doelen").iter().enumerate() {
        let doel = if kind == Kind::Wpg {
            s(goal, "Omschrijving")
        } else {
            s(goal, "Doel")
        };
        push_unique(&mut purposes, doel);
        if kind == Kind::Wpg {
            let articles: Vec<&str> = goal
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, v)| k.starts_with("Artikel") && v.as_bool() == Some(true))
                .map(|(k, _)| k.as_str())
                .collect();
            if !articles.is_empty() {
                push_unique(&mut notes, &format!("Wpg {}", articles.join(", ")));
            }
            continue;
        }
        let basis = s(goal, "Rechtsgrond");
        if basis.is_empty() {
            continue;
        }
        let (bases, note, unknown) = parse_legal_bases(basis);
        for x in bases {
            if !a.legal_bases.contains(&x) {
                a.legal_bases.push(x);
            }
        }
        for part in split_text_list(&note) {
            push_unique(&mut notes, &part);
        }
        if !unknown.is_empty() {
            r.push(
                Severity::Warning,
                file,
                Some(n),
                Some(&format!("Doelen[{gi}].Rechtsgrond")),
                format!(
                    "record {id}: '{}' is not one of the six lawful bases of art. 6 AVG; kept as a note",
                    unknown.join("; ")
                ),
            );
        }
    }
    a.purpose = purposes.join("; ");
    a.legal_basis_note = notes.join("; ");
    if a.legal_bases.is_empty() {
        a.mark_unfilled(Fact::LegalBasis);
    }

    // Data subjects: art. 9 booleans, their data and retention.
    let cats: &[(&str, SpecialCategory)] = &[
        ("RasOfEtniciteit", SpecialCategory::Ethnicity),
        ("PolitiekeGezindheid", SpecialCategory::Politics),
        ("GodsdienstOfLevensovertuiging", SpecialCategory::Religion),
        ("LidmaatschapVakvereniging", SpecialCategory::TradeUnion),
        ("Genetisch", SpecialCategory::Genetic),
        ("Biometrisch", SpecialCategory::Biometric),
        ("Gezondheid", SpecialCategory::Health),
        ("SeksueleLeven", SpecialCategory::SexLife),
    ];
    let mut retention = Vec::new();
    if kind == Kind::Wpg {
        a.criminal_or_bsn = true;
        let groups = rec.get("Betrokkenen").cloned().unwrap_or(Value::Null);
        for (key, label) in [
            ("Verdachten", "verdachten"),
            ("Slachtoffers", "slachtoffers"),
            ("Veroordeelden", "veroordeelden"),
            ("Derden", "derden"),
        ] {
            if b(&groups, key) == Some(true) {
                push_unique(&mut a.data_subjects, label);
            }
        }
    } else {
        for st in arr(rec, "Betrokkenen") {
            push_unique(&mut a.data_subjects, s(st, "Omschrijving"));
            for (key, cat) in cats {
                if b(st, key) == Some(true) && !a.special_categories.contains(cat) {
                    a.special_categories.push(*cat);
                }
            }
            if b(st, "Strafrechtelijk") == Some(true) || b(st, "Bsn") == Some(true) {
                a.criminal_or_bsn = true;
            }
            for g in arr(st, "Gegevens") {
                push_unique(&mut a.data_categories, s(g, "Omschrijving"));
                push_unique(&mut retention, s(g, "Bewaartermijn"));
            }
        }
    }
    a.retention = retention.join("; ");
    for o in arr(rec, "Ontvangers") {
        push_unique(
            &mut a.recipients,
            o.as_str().unwrap_or(s(o, "Omschrijving")),
        );
    }

    // Transfers outside the EU.
    if let Some(d) = rec.get("Doorgifte") {
        match b(d, "BuitenEu") {
            Some(false) => a.transfer_basis = Some(TransferBasis::Eea),
            Some(true) => {
                let text = [
                    s(d, "BuitenEuOmschrijving"),
                    s(d, "BuitenEuPassendBeschermingsniveauOmschrijving"),
                ]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
                a.transfer_instrument = text;
                if b(d, "BuitenEuPassendBeschermingsniveau") != Some(true) {
                    r.push(
                        Severity::Warning,
                        file,
                        Some(n),
                        Some("Doorgifte.BuitenEuPassendBeschermingsniveau"),
                        format!(
                            "record {id} transfers outside the EU without a recorded adequate protection level; \
                             state the basis (9b/9c) in the cloud annex"
                        ),
                    );
                }
            }
            None => {}
        }
    }
    // DPIA facts.
    if let Some(g) = rec.get("GebPia") {
        match b(g, "IsGebpiaAlUitgevoerd") {
            Some(true) => a.formal_dpia = Some(YesNoNa::Yes),
            Some(false) => a.formal_dpia = Some(YesNoNa::No),
            None => {}
        }
        a.high_risk = b(g, "IsHoogRisicoRechtenVrijheden") == Some(true);
    }
    // What an art. 30 register never holds: the annex says it.
    for f in [
        Fact::Classification,
        Fact::Material,
        Fact::Providers,
        Fact::ServiceModel,
        Fact::CloudType,
        Fact::DeclaredLocations,
    ] {
        a.mark_unfilled(f);
    }
    // `Verwerkers` are the ministry's processors (which may or may not be the cloud
    // provider); the provider's sub-processors are the annex's to say.
    a.mark_unfilled(Fact::SubProcessors);
    a.material = true;
    Some(a)
}
