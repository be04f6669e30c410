//! Report tests: the workbook is read back with calamine; CSVs are parsed.

use std::collections::BTreeMap;
use std::io::Read;

use calamine::{Data, Reader, Xlsx, open_workbook};
use chrono::{NaiveDate, TimeZone, Utc};
use cloudcensus_core::{
    Catalog, Category, Coverage, CoverageStatus, Provider, Resource, ScanData, ScanMeta, Scope,
};

use super::*;
use crate::matching::MatchSettings;
use crate::register::{
    Activity, ActivityStatus, CloudType, Register, SpecialCategory, TransferBasis,
};
use crate::rules::{Lang, RulePack, RuleSettings};

fn bucket(
    name: &str,
    tag: Option<&str>,
    loc: &str,
    replicas: &[&str],
    extra: &[(&str, &str)],
) -> Resource {
    let mut tags: BTreeMap<String, String> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Some(t) = tag {
        tags.insert("verwerking".into(), t.into());
    }
    Resource {
        provider: Provider::Aws,
        scope_id: "111122223333".into(),
        id: format!("arn:aws:s3:::{name}"),
        resource_type: "s3:bucket".into(),
        category: Category::DataStore,
        name: name.into(),
        location: Some(loc.into()),
        replica_locations: replicas.iter().map(|s| s.to_string()).collect(),
        resource_group: None,
        tags,
        created_at: None,
    }
}

fn scan(period: &str, resources: Vec<Resource>) -> StoredScan<'static> {
    let day = NaiveDate::parse_from_str(&format!("{period}-28"), "%Y-%m-%d").unwrap();
    let at = Utc.from_utc_datetime(&day.and_hms_opt(3, 0, 0).unwrap());
    StoredScan::in_memory(
        ScanData {
            meta: ScanMeta {
                id: format!("scan-{period}"),
                organisation: "Ministerie van Voorbeeldzaken".into(),
                period: period.into(),
                started_at: at,
                finished_at: at,
                tool_version: "test".into(),
                identities: vec![],
                config_digest: String::new(),
            },
            scopes: vec![Scope::new(Provider::Aws, "111122223333")],
            groups: vec![],
            resources,
            coverage: vec![
                Coverage::scanned(Provider::Aws, "111122223333", "eu-west-1", "s3"),
                Coverage::failed(
                    Provider::Aws,
                    "111122223333",
                    "eu-west-1",
                    "rds",
                    CoverageStatus::Denied,
                    "AccessDenied",
                ),
            ],
            creators: Vec::new(),
        },
        format!("hash-{period}"),
    )
}

fn register() -> Register {
    Register {
        source: "register.csv".into(),
        activities: vec![
            Activity {
                id: "VA-1".into(),
                name: "Zorgdossiers".into(),
                personal_data: true,
                special_categories: vec![SpecialCategory::Health],
                transfer_basis: Some(TransferBasis::Safeguards),
                explain_reference: "EXPL-7".into(),
                material: true,
                material_reason: "primair proces".into(),
                providers: vec!["AWS".into()],
                cloud_type: Some(CloudType::Public),
                declared_locations: vec!["eu-west-1".into()],
                status: Some(ActivityStatus::InUse),
                ..Default::default()
            },
            Activity {
                id: "VA-2".into(),
                name: "Basisregistratie Personen kopie".into(),
                basisregistraties: vec!["BRP".into()],
                personal_data: true,
                material: true,
                providers: vec!["AWS".into()],
                cloud_type: Some(CloudType::Public),
                status: Some(ActivityStatus::InUse),
                ..Default::default()
            },
        ],
    }
}

struct Fixture {
    register: Register,
    catalog: Catalog,
    pack: RulePack,
    rules: RuleSettings,
    matching: MatchSettings,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            register: register(),
            catalog: Catalog::builtin().unwrap(),
            pack: RulePack::builtin("cloudbeleid-2022").unwrap(),
            rules: RuleSettings::default(),
            matching: MatchSettings::default(),
        }
    }

    fn data(&self, lang: Lang) -> ReportData<'_> {
        self.data_in_chunks(lang, super::CHUNK)
    }

    fn data_in_chunks(&self, lang: Lang, chunk: usize) -> ReportData<'_> {
        let ctx = crate::rules::Context {
            organisation: "Ministerie van Voorbeeldzaken",
            register: &self.register,
            catalog: &self.catalog,
            pack: &self.pack,
            rules: &self.rules,
            matching: &self.matching,
            lang,
        };
        let hostile = "=HYPERLINK(\"http://x\",\"y\")";
        let scans = vec![
            scan(
                "2026-01",
                vec![bucket("zorg", Some("VA-1"), "eu-west-1", &[], &[])],
            ),
            scan(
                "2026-02",
                vec![
                    bucket("zorg", Some("VA-1"), "eu-west-1", &["ap-south-1"], &[]),
                    bucket("brp", Some("VA-2"), "eu-central-1", &[], &[]),
                    bucket(
                        "orphan",
                        None,
                        "us-east-1",
                        &[],
                        &[("owner", hostile), ("team", "platform")],
                    ),
                ],
            ),
        ];
        let generated = Utc.with_ymd_and_hms(2026, 12, 31, 10, 0, 0).unwrap();
        super::assemble_in_chunks(ctx, 2026, scans.into_iter().map(Ok), generated, chunk).unwrap()
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        other => other.to_string(),
    }
}

#[test]
fn workbook_has_every_template_sheet_with_headers_and_rows_matching_the_evaluation() {
    let fx = Fixture::new();
    let data = fx.data(Lang::Nl);
    let dir = tempfile::tempdir().unwrap();
    let t = Template::load("cio-rijk").unwrap();
    let files = write(
        &data,
        &t,
        &WriteOptions {
            out_dir: dir.path().into(),
            csv_delimiter: b',',
        },
    )
    .unwrap();
    assert!(
        files
            .xlsx
            .ends_with("cloudcensus-ministerie-van-voorbeeldzaken-2026.xlsx")
    );
    let mut wb: Xlsx<_> = open_workbook(&files.xlsx).unwrap();
    let names = wb.sheet_names();
    let want: Vec<String> = t.sheets.iter().map(|s| s.name_nl.clone()).collect();
    assert_eq!(names, want);

    let findings = wb.worksheet_range("Bevindingen").unwrap();
    let header: Vec<String> = findings
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(cell_text)
        .collect();
    assert_eq!(header[0], "Code");
    assert_eq!(header[1], "Ernst");
    assert_eq!(findings.height() - 1, data.eval.findings.len());

    let unreg = wb.worksheet_range("Niet geregistreerd").unwrap();
    assert_eq!(unreg.height() - 1, 1);
    let row: Vec<String> = unreg.rows().nth(1).unwrap().iter().map(cell_text).collect();
    assert_eq!(row[0], "aws");
    assert_eq!(row[7], "arn:aws:s3:::orphan");
    assert!(row[8].contains("team=platform"));

    let special = wb.worksheet_range("Bijzondere persoonsgegevens").unwrap();
    let row: Vec<String> = special
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .map(cell_text)
        .collect();
    assert_eq!(row[0], "VA-1");
    assert!(row[9].contains("explain naar CIO Rijk"), "{row:?}");

    let transfers = wb.worksheet_range("Doorgifte buiten EER").unwrap();
    assert!(
        transfers
            .rows()
            .skip(1)
            .any(|r| cell_text(&r[5]) == "ap-south-1"),
        "replica listed"
    );

    let coverage = wb.worksheet_range("Dekking").unwrap();
    assert_eq!(
        coverage.height() - 1,
        6,
        "per scan one visibility row for its one provider and two entries"
    );
    for n in [1, 2] {
        let row = coverage.rows().nth(n).unwrap();
        assert_eq!(cell_text(&row[6]), "zichtbaarheid", "visibility first");
        assert!(
            cell_text(&row[7]).contains("1 resourcetype volledig uitgelezen"),
            "{row:?}"
        );
    }
    assert_eq!(
        cell_text(&coverage.rows().nth(3).unwrap()[6]),
        "denied",
        "gaps first"
    );

    let cover = wb.worksheet_range("Voorblad").unwrap();
    let text: Vec<String> = cover.rows().map(|r| cell_text(&r[0])).collect();
    assert!(text.iter().any(|t| t == "Vastgesteld door"));
    assert!(
        cover
            .rows()
            .any(|r| cell_text(&r[1]).contains("hash-2026-02"))
    );
}

#[test]
fn workbook_contains_native_charts() {
    let fx = Fixture::new();
    let data = fx.data(Lang::En);
    let dir = tempfile::tempdir().unwrap();
    let files = write(
        &data,
        &Template::load("cio-rijk").unwrap(),
        &WriteOptions {
            out_dir: dir.path().into(),
            csv_delimiter: b',',
        },
    )
    .unwrap();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&files.xlsx).unwrap()).unwrap();
    let charts: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .filter(|n| n.starts_with("xl/charts/chart"))
        .collect();
    assert_eq!(charts.len(), 3, "{charts:?}");
    let mut xml = String::new();
    zip.by_name("xl/charts/chart2.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(
        xml.contains("stacked"),
        "findings per month is a stacked column chart"
    );
    // The concentration chart: a column per provider and the threshold as a line.
    let mut xml = String::new();
    zip.by_name("xl/charts/chart3.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(
        xml.contains("<c:barChart>") && xml.contains("<c:lineChart>"),
        "{xml}"
    );
    assert!(
        xml.contains("material activities depend on one provider"),
        "{xml}"
    );
}

#[test]
fn hostile_tag_value_is_inert_text_in_xlsx_and_csv() {
    let fx = Fixture::new();
    let data = fx.data(Lang::Nl);
    let dir = tempfile::tempdir().unwrap();
    let files = write(
        &data,
        &Template::load("cio-rijk").unwrap(),
        &WriteOptions {
            out_dir: dir.path().into(),
            csv_delimiter: b';',
        },
    )
    .unwrap();
    // xlsx: no formula anywhere in the package.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&files.xlsx).unwrap()).unwrap();
    let sheets: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .filter(|n| n.starts_with("xl/worksheets/sheet"))
        .collect();
    assert!(!sheets.is_empty());
    for name in sheets {
        let mut xml = String::new();
        zip.by_name(&name)
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        assert!(!xml.contains("<f>"), "{name} contains a formula");
    }
    let mut wb: Xlsx<_> = open_workbook(&files.xlsx).unwrap();
    let unreg = wb.worksheet_range("Niet geregistreerd").unwrap();
    let hints = cell_text(&unreg.rows().nth(1).unwrap()[8]);
    assert!(hints.contains("=HYPERLINK"), "kept as text: {hints}");
    // csv: the cell starts with owner=..., and no cell starts with '='.
    let csv_path = files
        .csv
        .iter()
        .find(|p| p.to_string_lossy().contains("niet-geregistreerd"))
        .unwrap();
    let bytes = std::fs::read(csv_path).unwrap();
    assert!(bytes.starts_with("\u{FEFF}".as_bytes()), "UTF-8 BOM");
    let text = String::from_utf8(bytes).unwrap();
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    for rec in rdr.records() {
        for cell in rec.unwrap().iter() {
            assert!(!cell.starts_with('='), "live formula in CSV: {cell}");
        }
    }
}

#[test]
fn one_csv_per_sheet_with_the_same_rows() {
    let fx = Fixture::new();
    let data = fx.data(Lang::En);
    let dir = tempfile::tempdir().unwrap();
    let t = Template::load("cio-rijk").unwrap();
    let files = write(
        &data,
        &t,
        &WriteOptions {
            out_dir: dir.path().into(),
            csv_delimiter: b',',
        },
    )
    .unwrap();
    assert_eq!(files.csv.len(), t.sheets.len());
    let findings_csv = files
        .csv
        .iter()
        .find(|p| p.to_string_lossy().ends_with("-findings.csv"))
        .unwrap();
    let text = std::fs::read_to_string(findings_csv).unwrap();
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    assert_eq!(&rdr.headers().unwrap()[0], "Code");
    assert_eq!(rdr.records().count(), data.eval.findings.len());
}

#[test]
fn no_temporary_files_are_left_behind() {
    let fx = Fixture::new();
    let data = fx.data(Lang::Nl);
    let dir = tempfile::tempdir().unwrap();
    write(
        &data,
        &Template::load("cio-rijk").unwrap(),
        &WriteOptions {
            out_dir: dir.path().into(),
            csv_delimiter: b',',
        },
    )
    .unwrap();
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!name.starts_with('.'), "left behind: {name}");
    }
}

#[test]
fn first_and_last_seen_span_the_year() {
    let fx = Fixture::new();
    let data = fx.data(Lang::Nl);
    let va1 = &data.eval.activities[0];
    assert_eq!(va1.first_seen, NaiveDate::from_ymd_opt(2026, 1, 28));
    assert_eq!(va1.last_seen, NaiveDate::from_ymd_opt(2026, 2, 28));
    assert_eq!(data.scans.len(), 2);
}

#[test]
fn reading_scans_in_small_chunks_gives_the_same_report_data() {
    let fx = Fixture::new();
    let whole = fx.data(Lang::Nl);
    let one_by_one = fx.data_in_chunks(Lang::Nl, 1);
    assert_eq!(one_by_one.eval, whole.eval);
    assert_eq!(one_by_one.latest, whole.latest);
    assert_eq!(
        one_by_one
            .scans
            .iter()
            .map(|s| (&s.id, s.resources, &s.severities))
            .collect::<Vec<_>>(),
        whole
            .scans
            .iter()
            .map(|s| (&s.id, s.resources, &s.severities))
            .collect::<Vec<_>>()
    );
    assert_eq!(one_by_one.listed, whole.listed);
    // Only the listed resources are kept, each with only what the sheets show.
    assert!(whole.latest.resources.is_empty());
    assert_eq!(
        whole.listed.len(),
        whole.eval.unregistered.len() + whole.eval.excluded.len()
    );
    let orphan = &whole.listed[whole.eval.unregistered[0].0];
    assert_eq!(orphan.name, "orphan");
    assert!(
        orphan.owner_hints.starts_with("owner="),
        "{}",
        orphan.owner_hints
    );
}

#[test]
fn a_scan_that_fails_halfway_through_reading_is_an_error_naming_it_not_a_short_report() {
    let fx = Fixture::new();
    let ctx = crate::rules::Context {
        organisation: "Ministerie van Voorbeeldzaken",
        register: &fx.register,
        catalog: &fx.catalog,
        pack: &fx.pack,
        rules: &fx.rules,
        matching: &fx.matching,
        lang: Lang::Nl,
    };
    let mut broken = scan(
        "2026-02",
        (0..5)
            .map(|i| bucket(&format!("b{i}"), None, "eu-west-1", &[], &[]))
            .collect(),
    );
    let good: Vec<_> = broken.resources.by_ref().take(3).collect();
    broken.resources = Box::new(good.into_iter().chain(std::iter::once(Err(
        crate::store::StoreError::Empty("the disk went away".into()),
    ))));
    let scans = vec![scan("2026-01", vec![]), broken];
    let generated = Utc.with_ymd_and_hms(2026, 12, 31, 10, 0, 0).unwrap();
    // Chunks of 2: the failure comes after a chunk was already handed to the evaluator.
    let err = match super::assemble_in_chunks(ctx, 2026, scans.into_iter().map(Ok), generated, 2) {
        Ok(_) => panic!("a scan that could not be read must not give a report"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("cannot read scan scan-2026-02") && err.contains("the disk went away"),
        "{err}"
    );
}

#[test]
fn concentration_sheet_counts_material_activities_per_provider_and_says_not_scanned_instead_of_zero()
 {
    use super::cells::Cell;
    let fx = Fixture::new();
    let data = fx.data(Lang::En);
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    super::sheets::produce(&data, "concentration", &mut |r| {
        rows.push(r);
        Ok(())
    })
    .unwrap();
    let keys = super::sheets::columns("concentration").unwrap();
    let col = |k: &str| keys.iter().position(|x| *x == k).unwrap();
    // Two months × three providers.
    assert_eq!(rows.len(), 6);
    let feb: Vec<&Vec<Cell>> = rows
        .iter()
        .filter(|r| r[col("period")] == Cell::text("2026-02"))
        .collect();
    let aws = feb
        .iter()
        .find(|r| r[col("provider")] == Cell::text("Amazon Web Services"))
        .unwrap();
    // Both activities are material and on AWS: one with special categories, one with a
    // key register, neither with an exit strategy.
    assert_eq!(aws[col("material")], Cell::Int(2));
    assert_eq!(aws[col("material_share")], Cell::Percent(100.0));
    assert_eq!(aws[col("special")], Cell::Int(1));
    assert_eq!(aws[col("basis")], Cell::Int(1));
    assert_eq!(aws[col("no_exit")], Cell::Int(2));
    assert_eq!(aws[col("data_bearing")], Cell::Int(3));
    assert_eq!(aws[col("parent")], Cell::text("Amazon.com, Inc."));
    assert!(aws[col("laws")].to_plain().contains("CLOUD Act"), "{aws:?}");
    // Azure and Google were never listed in these scans: no zero data-bearing resources.
    for r in feb
        .iter()
        .filter(|r| r[col("provider")] != Cell::text("Amazon Web Services"))
    {
        assert_eq!(r[col("material")], Cell::Int(0));
        assert_eq!(r[col("data_bearing")], Cell::text("not scanned"), "{r:?}");
    }
    let (share, note) =
        super::sheets::concentration_headline(Lang::En, data.scans.last().unwrap()).unwrap();
    assert_eq!(share, 100.0);
    assert_eq!(note, "Amazon Web Services: 2 of 2 (2026-02)");
}
