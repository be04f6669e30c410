//! Roll-up tests on both backends: three organisations in one real store (SQLite file and
//! PostgreSQL database), one with its register, one without, one without a scan in the
//! year; the workbook is read back with calamine and the CSV parsed.

use std::io::Read;

use calamine::{Data, Reader, Xlsx, open_workbook};
use cloudcensus_core::{Catalog, ScanData};

use super::*;
use crate::matching::MatchSettings;
use crate::rules::RulePack;
use crate::store::tests::{Backend, Fixture};
use crate::synth::Synth;

const A: &str = "Ministerie van Financiën";
const B: &str = "Ministerie van Infrastructuur en Waterstaat";
const C: &str = "Ministerie van Justitie en Veiligheid";

fn scan(seed: u64, org: &str, period: &str, n: u64) -> ScanData {
    let s = Synth::new(seed).with_activities(40);
    let mut d = s.scan_data(n);
    d.meta = s.meta(period);
    d.meta.organisation = org.into();
    d
}

/// A: Jan and Feb 2026 (Feb scanned twice: the later counts); B: Mar 2026; C: only 2025.
fn three_organisations(backend: Backend) -> (Fixture, ScanData) {
    let fx = Fixture::new(backend);
    let mut st = crate::store::open_or_create(&fx.location).unwrap();
    st.write_scan(&scan(1, A, "2026-01", 300)).unwrap();
    st.write_scan(&scan(2, A, "2026-02", 310)).unwrap();
    let mut later = scan(3, A, "2026-02", 320);
    later.meta.finished_at += chrono::Duration::days(3);
    st.write_scan(&later).unwrap();
    st.write_scan(&scan(4, B, "2026-03", 200)).unwrap();
    st.write_scan(&scan(5, C, "2025-11", 150)).unwrap();
    (fx, later)
}

struct Env {
    register: crate::register::Register,
    catalog: Catalog,
    pack: RulePack,
    settings: RuleSettings,
    matching: MatchSettings,
}

impl Env {
    fn new() -> Self {
        Env {
            register: Synth::new(3).with_activities(40).register(),
            catalog: Catalog::builtin().unwrap(),
            pack: RulePack::builtin("cloudbeleid-2022").unwrap(),
            settings: RuleSettings::default(),
            matching: MatchSettings::default(),
        }
    }

    fn ctx(&self, org: &'static str, lang: Lang) -> Context<'_> {
        Context {
            organisation: org,
            register: &self.register,
            catalog: &self.catalog,
            pack: &self.pack,
            rules: &self.settings,
            matching: &self.matching,
            lang,
        }
    }
}

fn rollup(fx: &Fixture, env: &Env, lang: Lang) -> Rollup {
    let st = crate::store::open(&fx.location).unwrap();
    let configs = [OrgConfig {
        label: "financien/cloudcensus.toml".into(),
        ctx: env.ctx(A, lang),
    }];
    assemble(
        st.as_ref(),
        2026,
        lang,
        &env.catalog,
        &configs,
        chrono::Utc::now(),
    )
    .unwrap()
}

fn text(c: &Cell) -> String {
    c.to_plain()
}

fn col(key: &str) -> usize {
    KEYS.iter().position(|k| *k == key).unwrap()
}

fn a_row_per_organisation_with_register_figures_only_where_a_register_was_given(backend: Backend) {
    let (fx, latest_a) = three_organisations(backend);
    let env = Env::new();
    let r = rollup(&fx, &env, Lang::Nl);
    let names: Vec<&str> = r.rows.iter().map(|o| o.organisation.as_str()).collect();
    assert_eq!(names, [A, B, C], "one row per organisation, by name");

    // A: its register given: every figure, from the later of its two February scans, equal
    // to what the rules compute for that scan.
    let a = &r.rows[0];
    assert_eq!(a.months, 2);
    let s = a.latest.as_ref().unwrap();
    assert_eq!(
        s.finished_at, latest_a.meta.finished_at,
        "the later re-scan counts"
    );
    let eval = rules::evaluate(&env.ctx(A, Lang::Nl), &latest_a, None);
    assert_eq!(s.resources, eval.resources_total);
    assert_eq!(s.data_bearing, eval.data_bearing_total);
    assert_eq!(
        s.by_class, eval.by_class,
        "same location classes as the rules"
    );
    let e = s.evaluated.as_ref().unwrap();
    assert_eq!(e.unregistered, eval.unregistered.len());
    assert!(
        e.unregistered > 0,
        "the synthetic estate has unregistered resources"
    );
    assert_eq!(e.severities, rules::count_by_severity(&eval.findings));
    let cells = r.cells(a);
    assert_eq!(
        cells[col("unregistered")],
        Cell::int(eval.unregistered.len())
    );
    assert_eq!(
        cells[col("outside_eea")],
        Cell::int(
            eval.by_class
                .get(&JurisdictionClass::ThirdCountry)
                .copied()
                .unwrap_or(0)
                + eval
                    .by_class
                    .get(&JurisdictionClass::C2000Excluded)
                    .copied()
                    .unwrap_or(0)
        )
    );
    assert_eq!(text(&cells[col("latest_scan")]), s.id);

    // B: no register: what needs one says so, never 0; the rest is computed.
    let b = r.cells(&r.rows[1]);
    assert_eq!(b[col("resources")], Cell::int(200));
    for key in [
        "unregistered",
        "findings_blocking",
        "findings_high",
        "findings_medium",
        "findings_low",
        "findings_info",
    ] {
        assert_eq!(text(&b[col(key)]), "niet berekend: geen register", "{key}");
    }
    assert_eq!(text(&b[col("register")]), "geen register opgegeven");
    assert!(matches!(b[col("coverage")], Cell::Percent(_)));

    // C: scans only in 2025: a row that says so in every figure.
    let c = r.cells(&r.rows[2]);
    assert_eq!(c[col("months")], Cell::int(0));
    for key in ["resources", "unregistered", "coverage", "last_scan_date"] {
        assert_eq!(text(&c[col(key)]), "geen scan in 2026", "{key}");
    }

    // The total sums only what every organisation has.
    let t = r.total();
    assert_eq!(text(&t[col("resources")]), "niet berekend voor 1 van 3");
    assert_eq!(text(&t[col("unregistered")]), "niet berekend voor 2 van 3");
    assert!(text(&t[col("organisation")]).contains("3 organisaties"));
}

fn the_workbook_has_the_table_a_chart_and_notes_and_the_csv_the_same_rows(backend: Backend) {
    let (fx, _) = three_organisations(backend);
    let env = Env::new();
    let r = rollup(&fx, &env, Lang::En);
    let layout = Layout::builtin().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = write(&r, &layout, dir.path(), b';').unwrap();
    assert!(files.xlsx.ends_with("cloudcensus-rollup-2026.xlsx"));

    let mut wb: Xlsx<_> = open_workbook(&files.xlsx).unwrap();
    assert_eq!(wb.sheet_names(), ["Government-wide", "Notes"]);
    let range = wb.worksheet_range("Government-wide").unwrap();
    let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    assert_eq!(rows[0][0], Data::String("Organisation".into()));
    assert_eq!(rows.len(), 1 + 3 + 1, "header, three organisations, total");
    assert_eq!(rows[2][0], Data::String(B.into()));
    let unreg = layout.column_index("unregistered").unwrap();
    assert_eq!(
        rows[2][unreg],
        Data::String("not computed: no register".into())
    );
    assert!(
        matches!(rows[1][unreg], Data::Float(_)),
        "{:?}",
        rows[1][unreg]
    );
    let notes = wb.worksheet_range("Notes").unwrap();
    let notes_text: Vec<String> = notes
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(
        notes_text
            .iter()
            .any(|t| t.contains("financien/cloudcensus.toml")),
        "the notes name the configuration used: {notes_text:?}"
    );
    assert!(notes_text.iter().any(|t| t.contains("no scan in 2026")));

    // One native chart, a series per location class over the organisations.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&files.xlsx).unwrap()).unwrap();
    let charts: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .filter(|n| n.starts_with("xl/charts/chart"))
        .collect();
    assert_eq!(charts.len(), 1, "{charts:?}");
    let mut xml = String::new();
    zip.by_name(&charts[0])
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert_eq!(xml.matches("<c:ser>").count(), CHART_CLASSES.len());
    assert!(
        xml.contains("$A$2:$A$4"),
        "categories: the three organisations"
    );

    let csv = std::fs::read_to_string(&files.csv).unwrap();
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(&rdr.headers().unwrap()[0], "Organisation");
    let recs: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 4);
    assert_eq!(&recs[1][unreg], "not computed: no register");
    assert!(recs[3][0].starts_with("Government-wide total"));
}

fn two_configurations_of_one_organisation_are_refused_naming_both(backend: Backend) {
    let (fx, _) = three_organisations(backend);
    let env = Env::new();
    let st = crate::store::open(&fx.location).unwrap();
    let configs = [
        OrgConfig {
            label: "one.toml".into(),
            ctx: env.ctx(A, Lang::Nl),
        },
        OrgConfig {
            label: "two.toml".into(),
            ctx: env.ctx(A, Lang::Nl),
        },
    ];
    let err = assemble(
        st.as_ref(),
        2026,
        Lang::Nl,
        &env.catalog,
        &configs,
        chrono::Utc::now(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("one.toml") && err.contains("two.toml") && err.contains(A),
        "{err}"
    );
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(super::Backend::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name(super::Backend::Postgres) } )*
        }
    };
}

both!(
    a_row_per_organisation_with_register_figures_only_where_a_register_was_given,
    the_workbook_has_the_table_a_chart_and_notes_and_the_csv_the_same_rows,
    two_configurations_of_one_organisation_are_refused_naming_both,
);

#[test]
fn the_builtin_layout_has_every_column_once() {
    Layout::builtin().unwrap();
}

#[test]
fn a_layout_with_an_unknown_or_missing_column_is_refused_naming_it() {
    let text = LAYOUT.replacen("key = \"c2000\"", "key = \"c2001\"", 1);
    let layout: Layout = toml::from_str(&text).unwrap();
    let err = layout.validate().unwrap_err();
    assert!(err.contains("unknown column 'c2001'"), "{err}");
    assert!(err.contains("column 'c2000' is missing"), "{err}");
}
