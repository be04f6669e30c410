//! `register check` and `register template`, and the shipped example register.

use std::io::Read;
use std::path::{Path, PathBuf};

use cloudcensus::register::{self, read, template};
use predicates::prelude::*;

use crate::util::{cloudcensus, stdout_of};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// `examples/register.xlsx` is generated from `examples/register.csv`:
/// `cargo test --test tests regenerate_example_register_xlsx -- --ignored`.
#[test]
#[ignore = "rewrites examples/register.xlsx; run after editing examples/register.csv"]
fn regenerate_example_register_xlsx() {
    let grid = read::read_csv(&std::fs::read(example("register.csv")).unwrap()).unwrap();
    let rows = template::rows_in_template_order(&grid);
    template::workbook(&rows)
        .unwrap()
        .save(example("register.xlsx"))
        .unwrap();
}

#[test]
fn both_example_registers_load_to_the_identical_model() {
    let csv = register::load(&example("register.csv"), None).unwrap();
    let xlsx = register::load(&example("register.xlsx"), None).unwrap();
    assert!(
        (20..=25).contains(&csv.register.activities.len()),
        "{} activities",
        csv.register.activities.len()
    );
    assert_eq!(
        csv.register.activities, xlsx.register.activities,
        "examples/register.xlsx is out of date: regenerate it (see regenerate_example_register_xlsx)"
    );
    let messages =
        |w: &[register::Problem]| -> Vec<String> { w.iter().map(|p| p.message.clone()).collect() };
    assert_eq!(messages(&csv.warnings), messages(&xlsx.warnings));
}

#[test]
fn the_example_xlsx_holds_real_date_cells() {
    use calamine::{Data, Reader};
    let mut wb = calamine::open_workbook_auto(example("register.xlsx")).unwrap();
    let range = wb.worksheet_range(template::SHEET_NAME).unwrap();
    let col = register::columns::COLUMNS
        .iter()
        .position(|c| c.header == "Datum besluit")
        .unwrap();
    let cell = range.get((1, col)).unwrap();
    assert!(matches!(cell, Data::DateTime(_)), "{cell:?}");
}

#[test]
fn the_example_register_covers_the_rules_it_documents() {
    use register::{ActivityStatus, C2000Check, Classification, RightToAudit, TransferBasis};
    let reg = register::load(&example("register.csv"), None)
        .unwrap()
        .register;
    let any = |f: &dyn Fn(&register::Activity) -> bool| reg.activities.iter().any(f);
    assert!(
        any(&|a| a.is_staatsgeheim() && !a.scope_mappings.is_empty()),
        "CB-STG"
    );
    assert!(any(
        &|a| a.classification == Some(Classification::DepartementaalVertrouwelijk)
    ));
    assert!(
        any(&|a| a.personal_data && a.prescan_dpia.is_none()),
        "CB-DPIA pre-scan"
    );
    assert!(
        any(&|a| a.high_risk && a.formal_dpia != Some(register::YesNoNa::Yes)),
        "CB-DPIA formal"
    );
    assert!(any(&|a| a.has_special_categories()
        && a.transfer_basis == Some(TransferBasis::Safeguards)
        && !a.explain_reference.is_empty()));
    assert!(any(
        &|a| a.has_special_categories() && a.explain_reference.is_empty()
    ));
    assert!(any(
        &|a| a.basisregistraties == ["BRP"] && a.cio_advice_date.is_some()
    ));
    assert!(any(
        &|a| a.has_basisregistratie() && a.cio_advice_date.is_none()
    ));
    assert!(any(&|a| a.transfer_basis
        == Some(TransferBasis::Safeguards)
        && a.dpia_sent_to_cio.is_some()));
    assert!(any(&|a| a.transfer_basis
        == Some(TransferBasis::Safeguards)
        && a.dpia_sent_to_cio.is_none()));
    assert!(any(&|a| a.exit_strategy == Some(false)), "CB-EXIT");
    assert!(
        any(&|a| a.right_to_audit == Some(RightToAudit::No)),
        "CB-AUDIT"
    );
    assert!(any(&|a| a.right_to_audit == Some(RightToAudit::ViaSlm)));
    assert!(
        any(&|a| a.providers.is_empty()
            && a.service_model.is_none()
            && a.declared_locations.is_empty()),
        "CB-CHAR"
    );
    assert!(
        any(&|a| a.c2000_check == Some(C2000Check::Failed)),
        "CB-C2000"
    );
    assert!(
        any(&|a| a.woo_publication.is_empty() && a.material),
        "CB-WOO"
    );
    assert!(any(&|a| a.status == Some(ActivityStatus::Ended)));
    let sandbox = reg.activities.iter().find(|a| !a.material).unwrap();
    assert_eq!(sandbox.material_reason, "sandbox/experimenten");
    assert_eq!(sandbox.scope_mappings, ["aws:444455556666"]);
    let rg = reg
        .activities
        .iter()
        .find(|a| a.scope_mappings.iter().any(|s| s.ends_with("/rg-zorgdata")))
        .unwrap();
    assert!(rg.has_special_categories());
}

#[test]
fn check_accepts_the_example_and_prints_a_summary() {
    for f in ["register.csv", "register.xlsx"] {
        let out = stdout_of(&["register", "check", example(f).to_str().unwrap()]);
        let last = out.lines().last().unwrap();
        assert!(last.ends_with("OK, 23 activities, 3 warnings"), "{out}");
        assert!(
            out.contains("warning: ") && out.contains("pre-scan DPIA"),
            "{out}"
        );
    }
}

const HEADER: &str = "Nummer verwerking;Naam verwerking;Organisatieonderdeel;Verwerkingsverantwoordelijke;Doel;Grondslag;Persoonsgegevens;Rubricering;Materieel cloudgebruik;Datum pre-scan DPIA;Scopekoppeling";

fn five_mistakes() -> String {
    [
        HEADER,
        "VA-1;Een;DG;Minister;Doel;e;ja;ongerubriceerd;ja;2025-02-30;aws:111122223333",
        "VA-2;Twee;DG;Minister;Doel;e;nee;geheim;ja;;",
        "VA-1;Drie;DG;Minister;Doel;e;nee;openbaar;ja;;aws:111122223333",
        ";;;;;;;;;;",
        "VA 4/x;Vier;DG;Minister;Doel;e;nee;openbaar;misschien;;",
    ]
    .join("\n")
}

/// The five mistakes as (row, column letter, fragment of the message).
const EXPECTED: [(usize, &str, &str); 6] = [
    (2, "J", "is not a date"),
    (
        3,
        "H",
        "allowed: openbaar, ongerubriceerd, departementaal vertrouwelijk",
    ),
    (4, "A", "duplicate id: row 2"),
    (4, "K", "scope already mapped to VA-1 (row 2)"),
    (5, "", "empty row between activities"),
    (6, "A", "would be matched as 'va-4-x'"),
];

#[test]
fn a_csv_with_several_mistakes_reports_every_one_with_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fout.csv");
    std::fs::write(&path, five_mistakes()).unwrap();
    let out = cloudcensus()
        .args(["register", "check", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    for (row, letter, msg) in EXPECTED {
        let at = if letter.is_empty() {
            format!("row {row}:")
        } else {
            format!("row {row}, column {letter} ")
        };
        assert!(
            text.lines()
                .any(|l| l.starts_with("error: ") && l.contains(&at) && l.contains(msg)),
            "missing '{at}' '{msg}' in:\n{text}"
        );
    }
    // The 'misschien' in the yes/no column too: 7 errors in all.
    assert!(text.contains("'misschien' is not yes/no"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("NOT LOADABLE, 7 errors, 0 warnings")
            || text.contains("NOT LOADABLE, 7 errors"),
        "{text}"
    );
}

#[test]
fn an_xlsx_with_mistakes_names_the_sheet_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fout.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Verwerkingen").unwrap();
    for (r, line) in five_mistakes().lines().enumerate() {
        for (c, cell) in line.split(';').enumerate() {
            if !cell.is_empty() {
                ws.write(r as u32, c as u16, cell).unwrap();
            }
        }
    }
    wb.add_worksheet().set_name("Toelichting").unwrap();
    wb.save(&path).unwrap();
    let err = register::load(&path, Some("Verwerkingen")).unwrap_err();
    assert_eq!(err.problems.len(), 7, "{err}");
    for (row, letter, msg) in EXPECTED {
        assert!(
            err.problems
                .iter()
                .any(|p| p.sheet.as_deref() == Some("Verwerkingen")
                    && p.row == Some(row)
                    && p.column
                        .as_ref()
                        .and_then(|c| c.letter.as_deref())
                        .unwrap_or("")
                        == letter
                    && p.message.contains(msg)),
            "missing row {row} column {letter} '{msg}' in:\n{err}"
        );
    }
    // Display lists every problem, one per line, after a heading.
    assert_eq!(err.to_string().lines().count(), 8);
    // The named sheet must exist.
    cloudcensus()
        .args([
            "register",
            "check",
            path.to_str().unwrap(),
            "--sheet",
            "Blad1",
        ])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("no sheet 'Blad1'")
                .and(predicate::str::contains("Verwerkingen, Toelichting")),
        );
}

#[test]
fn a_missing_required_column_is_named_in_dutch_and_english() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kort.csv");
    // Only the id and the name are required: an art. 30 register holds little else.
    std::fs::write(&path, "Activity id,Doel\nVA-1,Iets\n").unwrap();
    let out = cloudcensus()
        .args([
            "register",
            "check",
            path.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["loadable"], false);
    let errors = v["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| {
        e["message"]
            .as_str()
            .unwrap()
            .contains("'Naam verwerking' (English: 'Activity name') is missing")
    }));
}

fn zip_entry(path: &Path, name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn template_has_headers_notes_frozen_row_and_drop_downs_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.xlsx");
    let p = path.to_str().unwrap();
    let out = stdout_of(&["register", "template", "--out", p]);
    assert!(out.contains("register check"), "{out}");

    // calamine opens it and reads the Dutch headers in the documented order.
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto(&path).unwrap();
    let range = wb.worksheet_range(template::SHEET_NAME).unwrap();
    let headers: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let want: Vec<&str> = register::columns::COLUMNS
        .iter()
        .map(|c| c.header)
        .collect();
    assert_eq!(headers, want);

    // The sheet XML carries a list drop-down for every choice column, the frozen pane.
    let sheet = zip_entry(&path, "xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains(r#"<pane ySplit="1""#) || sheet.contains(r#"ySplit="1""#),
        "no frozen header"
    );
    let lists = sheet.matches(r#"<dataValidation type="list""#).count();
    let choice_cols = register::columns::COLUMNS
        .iter()
        .filter(|c| !c.choices().is_empty())
        .count();
    assert_eq!(lists, choice_cols, "one drop-down per choice column");
    assert!(
        sheet.contains("&quot;ja,nee&quot;") || sheet.contains("\"ja,nee\""),
        "yes/no list"
    );
    assert!(sheet.contains("voldoet niet"), "C2000 list");
    let notes = zip_entry(&path, "xl/comments1.xml");
    assert!(notes.contains("English: Activity id"), "header notes");

    // An empty template is a loadable register.
    cloudcensus()
        .args(["register", "check", p])
        .assert()
        .success()
        .stdout(predicate::str::contains("OK, 0 activities"));

    // And it is not overwritten by accident.
    cloudcensus()
        .args(["register", "template", "--out", p])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--force"));
}

#[test]
fn a_filled_in_template_round_trips_through_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ingevuld.xlsx");
    let csv = register::load(&example("register.csv"), None).unwrap();
    let grid = read::read_csv(&std::fs::read(example("register.csv")).unwrap()).unwrap();
    template::workbook(&template::rows_in_template_order(&grid))
        .unwrap()
        .save(&path)
        .unwrap();
    let back = register::load(&path, None).unwrap();
    assert_eq!(back.register.activities, csv.register.activities);
}

#[test]
fn sheet_option_on_a_csv_is_refused() {
    cloudcensus()
        .args([
            "register",
            "check",
            example("register.csv").to_str().unwrap(),
            "--sheet",
            "x",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "--sheet applies to spreadsheets only",
        ));
}

#[test]
fn an_unknown_file_type_and_a_missing_file_are_clear_errors() {
    cloudcensus()
        .args(["register", "check", "register.docx"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            ".csv or .xlsx file, or an AVG Register Rijksoverheid export (.zip or .json)",
        ));
    cloudcensus()
        .args(["register", "check", "/nonexistent/register.csv"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("cannot read the file"));
}

fn registers(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/registers")
        .join(name)
}

#[test]
fn check_reads_a_rijksoverheid_export_file_and_joins_an_annex() {
    let json = registers("avgr-export/AVG Verantwoordelijke Verwerkingen/DG Digitale Zaken.json");
    let out = stdout_of(&["register", "check", json.to_str().unwrap()]);
    assert!(
        out.lines()
            .last()
            .unwrap()
            .ends_with("OK, 2 activities, 3 warnings"),
        "{out}"
    );
    assert!(
        out.contains("record 3, key 'Status'") && out.contains("M4999 is Vervallen"),
        "{out}"
    );
    assert!(
        out.contains("Rubricering not filled in for 2 activities (M5071, M5072)"),
        "{out}"
    );
    let run = cloudcensus()
        .args([
            "register",
            "check",
            json.to_str().unwrap(),
            "--annex",
            registers("avgr-annex.csv").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let out = String::from_utf8(run.stdout).unwrap();
    // The annex row for M6010 names an activity of another Dienst's file.
    assert!(out.contains("NOT LOADABLE, 1 error"), "{out}");
    assert!(
        out.contains("row 4") && out.contains("activity M6010 is not in the register"),
        "{out}"
    );
}

#[test]
fn register_annex_writes_every_number_and_name_and_reads_back_as_an_annex() {
    let dir = tempfile::tempdir().unwrap();
    let annex = dir.path().join("bijlage.xlsx");
    let json = registers("avgr-export/AVG Verantwoordelijke Verwerkingen/DG Digitale Zaken.json");
    let out = stdout_of(&[
        "register",
        "annex",
        json.to_str().unwrap(),
        "--out",
        annex.to_str().unwrap(),
    ]);
    assert!(out.contains("with 2 activities"), "{out}");
    let grid = read::read_workbook(std::fs::read(&annex).unwrap(), None).unwrap();
    let ids: Vec<String> = grid.rows[1..].iter().map(|r| r.cell(0).text()).collect();
    assert_eq!(ids, ["M5071", "M5072"]);
    assert_eq!(grid.rows[0].cell(2).text(), "Rubricering");
    // Refuses to overwrite; the blank annex joins cleanly.
    cloudcensus()
        .args([
            "register",
            "annex",
            json.to_str().unwrap(),
            "--out",
            annex.to_str().unwrap(),
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--force"));
    let out = stdout_of(&[
        "register",
        "check",
        json.to_str().unwrap(),
        "--annex",
        annex.to_str().unwrap(),
    ]);
    assert!(
        out.lines().last().unwrap().contains(": OK, 2 activities"),
        "{out}"
    );
}
