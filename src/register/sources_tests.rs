//! Registers as ministries keep them: the AVG Register Rijksoverheid export, the VWS
//! export and the IBD model register, each with the cloud annex. Fixtures are our own,
//! in those formats, under `tests/fixtures/registers/`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::*;

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/registers")
        .join(name)
}

/// The export fixture folder packed as the register system ships it: a ZIP with one
/// folder per register.
pub(crate) fn export_zip(dir: &Path) -> PathBuf {
    let root = fixture("avgr-export");
    let out = dir.join("AVG-register-export.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&out).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut folders: Vec<_> = std::fs::read_dir(&root).unwrap().flatten().collect();
    folders.sort_by_key(|e| e.file_name());
    for folder in folders {
        let fname = folder.file_name().to_string_lossy().to_string();
        zip.add_directory(format!("{fname}/"), opts).unwrap();
        let mut files: Vec<_> = std::fs::read_dir(folder.path())
            .unwrap()
            .flatten()
            .collect();
        files.sort_by_key(|e| e.file_name());
        for f in files {
            zip.start_file(format!("{fname}/{}", f.file_name().to_string_lossy()), opts)
                .unwrap();
            zip.write_all(&std::fs::read(f.path()).unwrap()).unwrap();
        }
    }
    zip.finish().unwrap();
    out
}

fn by_id<'a>(r: &'a Register, id: &str) -> &'a Activity {
    r.get(id).unwrap_or_else(|| panic!("{id} not loaded"))
}

#[test]
fn the_rijksoverheid_export_loads_every_register_and_dienst_and_skips_withdrawn_records() {
    let dir = tempfile::tempdir().unwrap();
    let zip = export_zip(dir.path());
    let l = load(&zip, None).unwrap();
    let ids: Vec<&str> = l
        .register
        .activities
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["M5071", "M5072", "M6010", "V0201", "W0301"],
        "{:#?}",
        l.warnings
    );
    assert!(
        l.warnings
            .iter()
            .any(|w| w.message.contains("M4999 is Vervallen")
                && w.file.ends_with("DG Digitale Zaken.json")),
        "{:#?}",
        l.warnings
    );

    let a = by_id(&l.register, "M5071");
    assert_eq!(a.name, "Subsidieaanvragen burgers");
    assert_eq!(a.unit, "DG Digitale Zaken");
    assert_eq!(a.controller, "Minister van Voorbeeldzaken");
    assert_eq!(
        a.legal_bases,
        [LegalBasis::PublicTask, LegalBasis::LegalObligation]
    );
    assert!(a.legal_basis_note.contains("Kaderwet subsidies, art. 4"));
    assert!(a.personal_data, "an art. 30 register: personal data");
    assert_eq!(a.data_subjects, ["Aanvragers"]);
    assert_eq!(a.data_categories, ["NAW-gegevens", "Bankrekeningnummer"]);
    assert_eq!(a.retention, "7 jaar na vaststelling");
    assert_eq!(a.recipients, ["Belastingdienst"]);
    assert_eq!(a.transfer_basis, Some(TransferBasis::Eea));
    assert_eq!(a.formal_dpia, Some(YesNoNa::No));
    // The cloud facts are the annex's: not filled in, and treated fail-safe.
    for f in [
        Fact::Classification,
        Fact::Material,
        Fact::Providers,
        Fact::SubProcessors,
    ] {
        assert!(a.is_unfilled(f), "{f:?}");
    }
    assert!(a.material && a.classification.is_none());

    let z = by_id(&l.register, "M5072");
    assert_eq!(z.special_categories, [SpecialCategory::Health]);
    assert!(z.high_risk);
    assert_eq!(z.formal_dpia, Some(YesNoNa::Yes));
    assert!(
        z.transfer_instrument.contains("SCC 2021/914"),
        "{}",
        z.transfer_instrument
    );
    assert_eq!(
        z.transfer_basis, None,
        "outside the EU: the annex says 9b or 9c"
    );

    let v = by_id(&l.register, "M6010");
    assert_eq!(
        v.legal_bases,
        [LegalBasis::LegitimateInterests, LegalBasis::VitalInterests]
    );
    let w = by_id(&l.register, "W0301");
    assert!(w.criminal_or_bsn, "Wpg: police data");
    assert_eq!(w.data_subjects, ["verdachten", "slachtoffers"]);
    assert!(
        w.legal_basis_note.contains("Artikel8") && w.legal_basis_note.contains("Artikel13Lid1")
    );
}

#[test]
fn one_json_file_of_the_export_loads_on_its_own_with_its_byte_order_mark() {
    let file = fixture("avgr-export/AVG Verantwoordelijke Verwerkingen/DG Digitale Zaken.json");
    assert!(std::fs::read(&file).unwrap().starts_with(b"\xEF\xBB\xBF"));
    let l = load(&file, None).unwrap();
    assert_eq!(l.register.activities.len(), 2);
}

#[test]
fn a_broken_export_names_file_record_and_key_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("AVG Verantwoordelijke Verwerkingen.json");
    std::fs::write(
        &bad,
        r#"[{"Nummer": "M1", "Naam": "Een"}, {"Naam": "zonder nummer"}, {"Nummer": "M1", "Naam": "dubbel"}, 7]"#,
    )
    .unwrap();
    let e = load(&bad, None).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("record 2, key 'Nummer'"), "{text}");
    assert!(
        text.contains("record 3, key 'Nummer'") && text.contains("also belongs to record 1"),
        "{text}"
    );
    assert!(
        text.contains("record 4") && text.contains("not an object"),
        "{text}"
    );
    let junk = dir.path().join("x.zip");
    std::fs::write(&junk, b"PK\x03\x04 not really").unwrap();
    assert!(
        load(&junk, None)
            .unwrap_err()
            .to_string()
            .contains("not a readable ZIP")
    );
}

#[test]
fn the_annex_fills_the_cloud_facts_on_the_registers_own_number() {
    let dir = tempfile::tempdir().unwrap();
    let zip = export_zip(dir.path());
    let source = Source {
        annex: Some(fixture("avgr-annex.csv")),
        ..Source::default()
    };
    let l = load_source(&zip, &source).unwrap();
    let a = by_id(&l.register, "M5071");
    assert_eq!(
        a.classification,
        Some(Classification::DepartementaalVertrouwelijk)
    );
    assert!(a.material && !a.is_unfilled(Fact::Material));
    assert_eq!(a.providers, ["AWS"]);
    assert!(
        a.sub_processors.is_empty() && !a.is_unfilled(Fact::SubProcessors),
        "`geen` is an answer"
    );
    assert_eq!(a.scope_mappings, ["aws:111122223333"]);
    assert_eq!(a.transfer_basis, Some(TransferBasis::Eea));
    // The register's own facts stay.
    assert_eq!(
        a.legal_bases,
        [LegalBasis::PublicTask, LegalBasis::LegalObligation]
    );
    // Blank annex cells stay not filled in.
    let v = by_id(&l.register, "M6010");
    assert!(v.is_unfilled(Fact::Classification) && v.is_unfilled(Fact::Material));
    assert!(v.is_unfilled(Fact::SubProcessors));
    assert_eq!(v.providers, ["Google Cloud"]);
    // Activities without an annex row are named once.
    assert!(
        l.warnings.iter().any(|w| w
            .message
            .contains("2 activities of the register have no row in the annex (V0201, W0301")),
        "{:#?}",
        l.warnings
    );
}

#[test]
fn an_annex_row_for_a_number_not_in_the_register_is_an_error_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let zip = export_zip(dir.path());
    let annex = dir.path().join("annex.csv");
    std::fs::write(
        &annex,
        "Nummer verwerking;Rubricering;Materieel cloudgebruik\nM5071;openbaar;ja\nM9999;openbaar;ja\n",
    )
    .unwrap();
    let e = load_source(
        &zip,
        &Source {
            annex: Some(annex),
            ..Source::default()
        },
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("row 3") && text.contains("activity M9999 is not in the register"),
        "{text}"
    );
}

#[test]
fn the_vws_export_loads_with_its_own_headers_values_and_workflow_status() {
    let l = load(&fixture("vws-export.csv"), None).unwrap();
    let ids: Vec<&str> = l
        .register
        .activities
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["M1201", "M1202"],
        "Vervallen skipped; Nummer, not Id: {:#?}",
        l.warnings
    );
    let a = by_id(&l.register, "M1201");
    assert_eq!(a.unit, "Rijksdienst Voorbeeld");
    assert_eq!(a.purpose, "Beoordelen aanvragen");
    assert_eq!(
        a.legal_bases,
        [LegalBasis::PublicTask],
        "Rechtmatige grondslag is the basis"
    );
    assert_eq!(
        a.legal_basis_note, "Kaderregeling subsidies",
        "Grondslag holds the law"
    );
    assert!(a.personal_data);
    assert_eq!(
        a.data_categories,
        ["NAW-gegevens", "BSN"],
        "categories in Persoonsgegevens"
    );
    assert_eq!(a.formal_dpia, Some(YesNoNa::Yes));
    assert_eq!(a.status, None, "a workflow state is not the lifecycle");
    let b = by_id(&l.register, "M1202");
    assert_eq!(b.formal_dpia, None, "unknown is not filled in, never no");
    assert!(b.high_risk);
    assert_eq!(b.legal_bases, [LegalBasis::LegalObligation]);
    assert!(
        b.legal_basis_note
            .contains("Wet Huis voor klokkenluiders art. 2")
    );
    let msgs: Vec<&str> = l.warnings.iter().map(|w| w.message.as_str()).collect();
    assert!(
        msgs.iter().any(|m| m.contains("workflow state")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("names categories of data")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("'Id' is ignored")),
        "{msgs:#?}"
    );
    // One warning per column, not one per row.
    let class: Vec<_> = msgs
        .iter()
        .filter(|m| m.starts_with("Rubricering"))
        .collect();
    assert_eq!(class.len(), 1, "{msgs:#?}");
    assert!(class[0].contains("2 activities"), "{}", class[0]);
}

#[test]
fn the_ibd_model_register_loads_with_its_columns_and_art_30_facts() {
    let l = load(&fixture("ibd-model.csv"), None).unwrap();
    assert_eq!(l.register.activities.len(), 3);
    let brp = by_id(&l.register, "DSP-001");
    assert_eq!(brp.unit, "Burgerzaken");
    assert_eq!(brp.data_subjects, ["Ingezetenen"]);
    assert_eq!(brp.data_categories, ["NAW", "BSN", "geboortedatum"]);
    assert_eq!(brp.recipients, ["Ketenpartners"]);
    assert_eq!(brp.retention, "Permanent");
    assert_eq!(brp.legal_basis_note, "Wet BRP");
    assert!(brp.personal_data && !brp.is_unfilled(Fact::PersonalData));
    let wmo = by_id(&l.register, "DSP-002");
    assert_eq!(
        wmo.legal_bases,
        [LegalBasis::PublicTask, LegalBasis::LegalObligation]
    );
    assert_eq!(wmo.special_categories, [SpecialCategory::Health]);
    let hr = by_id(&l.register, "DSP-003");
    assert_eq!(hr.formal_dpia, None, "onbekend");
}

#[test]
fn own_column_names_come_from_the_configuration_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("eigen.csv");
    std::fs::write(
        &f,
        "Ref;Titel;Waarvoor;Vertrouwelijkheid BIV\nX-1;Eerste;Iets doen;openbaar\n",
    )
    .unwrap();
    // Without a mapping 'Ref' and 'Titel' are not known: the id is missing.
    let e = load(&f, None).unwrap_err().to_string();
    assert!(e.contains("[register_columns]"), "{e}");
    let columns = ColumnMapping::from([
        ("Ref".to_string(), columns::Field::Id),
        ("Titel".to_string(), columns::Field::Name),
        ("Waarvoor".to_string(), columns::Field::Purpose),
        (
            "Vertrouwelijkheid BIV".to_string(),
            columns::Field::Classification,
        ),
    ]);
    let l = load_source(
        &f,
        &Source {
            columns,
            ..Source::default()
        },
    )
    .unwrap();
    let a = by_id(&l.register, "X-1");
    assert_eq!(
        (a.name.as_str(), a.purpose.as_str()),
        ("Eerste", "Iets doen")
    );
    assert_eq!(a.classification, Some(Classification::Openbaar));
}
