//! Property tests: the readers and the validator never panic, whatever the bytes.
//!
//! Registers come from people and from Excel; a crash would lose the whole run. Four
//! generators: random bytes as CSV, the example CSV with random edits, random cell grids
//! written as real XLSX files, and the example XLSX with its XML edited or its zip bytes
//! cut or flipped. 4,450 cases in all; each only has to finish without a panic and,
//! when it loads, give a register whose rows are real spreadsheet rows.

use std::io::{Cursor, Read, Write};
use std::sync::OnceLock;

use proptest::prelude::*;

use super::columns::COLUMNS;
use super::{Format, load_bytes};

const EXAMPLE_CSV: &[u8] = include_bytes!("../../examples/register.csv");
const EXAMPLE_XLSX: &[u8] = include_bytes!("../../examples/register.xlsx");
/// The example workbook as it was when the calamine overflow below was found (the flipped
/// byte is an offset into these exact bytes).
const OVERFLOW_SEED_XLSX: &[u8] =
    include_bytes!("../../tests/fixtures/registers/calamine-overflow-seed.xlsx");

fn check(format: Format, bytes: Vec<u8>) {
    match load_bytes("fuzz", bytes, format, None) {
        Ok(l) => {
            for a in &l.register.activities {
                assert!(a.row >= 2, "an activity on row {}", a.row);
            }
        }
        Err(e) => {
            assert!(!e.problems.is_empty(), "an error without problems");
            let _ = e.to_string();
        }
    }
}

/// A random edit: flip a byte, insert a separator-ish byte, delete a range, duplicate one.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let special = prop::sample::select(vec![
        b';', b',', b'"', b'\n', b'\r', 0u8, 0xC3, 0xFF, b'<', b'>', b'&', b' ',
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), special).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 0usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), 0usize..64).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        if bytes.is_empty() {
            break;
        }
        let len = bytes.len();
        match *e {
            Edit::Set(i, b) => bytes[i % len] = b,
            Edit::Insert(i, b) => bytes.insert(i % (len + 1), b),
            Edit::Delete(i, n) => {
                let at = i % len;
                bytes.drain(at..(at + n).min(len));
            }
            Edit::Duplicate(i, n) => {
                let at = i % len;
                let piece: Vec<u8> = bytes[at..(at + n).min(len)].to_vec();
                bytes.splice(at..at, piece);
            }
        }
    }
    bytes
}

/// Cell text that is likely to mean something to the validator.
fn cell_text() -> impl Strategy<Value = String> {
    let words: Vec<String> = COLUMNS
        .iter()
        .flat_map(|c| {
            let mut v: Vec<String> = c.choices().iter().map(|s| s.to_string()).collect();
            v.push(c.header.to_string());
            v.push(c.example.to_string());
            v
        })
        .chain(
            [
                "",
                "VA-1",
                "VA-1",
                "aws:111122223333",
                "azure:x/y",
                "gcp:",
                "31-02-2025",
                "2025-13-01",
                "x",
                "-",
                "geen",
                "#N/A",
                "ja; nee",
                "\n",
            ]
            .iter()
            .map(|s| s.to_string()),
        )
        .collect();
    prop_oneof![
        3 => prop::sample::select(words),
        1 => any::<String>(),
    ]
}

/// The example xlsx's parts, unzipped once.
fn example_parts() -> &'static [(String, Vec<u8>)] {
    static PARTS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    PARTS.get_or_init(|| {
        let mut zin =
            zip::ZipArchive::new(Cursor::new(EXAMPLE_XLSX)).expect("example xlsx is a zip");
        (0..zin.len())
            .map(|i| {
                let mut f = zin.by_index(i).expect("entry");
                let name = f.name().expect("entry name").to_string();
                let mut data = Vec::new();
                f.read_to_end(&mut data).expect("read entry");
                (name, data)
            })
            .collect()
    })
}

/// The example xlsx with the text of one part edited, zipped again (stored, which is
/// valid xlsx and keeps the cases fast).
fn mutate_xlsx_part(part: &str, edits: &[Edit]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in example_parts() {
        out.start_file(name.as_str(), opts).expect("start file");
        if name == part {
            out.write_all(&apply(data.clone(), edits))
                .expect("write entry");
        } else {
            out.write_all(data).expect("write entry");
        }
    }
    out.finish().expect("finish zip").into_inner()
}

/// Found by `cut_or_flipped_xlsx_bytes_never_panic`: one flipped byte of the example
/// workbook makes calamine 0.38 multiply past `u32::MAX` (a panic in a debug build, a
/// wrapped value in release). The reader's panic is caught and reported as a damaged file.
#[test]
fn damaged_xlsx_that_overflows_the_reader_is_an_error_naming_the_file_not_a_crash() {
    let bytes = apply(
        OVERFLOW_SEED_XLSX.to_vec(),
        &[Edit::Set(7_686_310_456_921_415_236, 116)],
    );
    check(Format::Spreadsheet, bytes.clone());
    match load_bytes("register.xlsx", bytes, Format::Spreadsheet, None) {
        Err(err) => {
            let text = err.to_string();
            assert!(text.contains("register.xlsx"), "{text}");
            assert!(text.contains("damaged"), "{text}");
        }
        // Release builds wrap instead of panicking; then the reader either fails
        // elsewhere or reads what it can. Debug builds (the tests) must refuse it.
        Ok(_) => {
            #[cfg(debug_assertions)]
            panic!("the damaged workbook was accepted");
        }
    }
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn random_bytes_as_csv_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        check(Format::Csv, bytes);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn edited_example_csv_never_panics(edits in prop::collection::vec(edit(), 1..12)) {
        check(Format::Csv, apply(EXAMPLE_CSV.to_vec(), &edits));
    }
}

proptest! {
    #![proptest_config(config(150))]

    #[test]
    fn random_cells_in_a_real_xlsx_never_panic(
        rows in prop::collection::vec(prop::collection::vec(cell_text(), 0..12), 0..8),
        header_row in 0u32..3,
    ) {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, col) in COLUMNS.iter().take(12).enumerate() {
            ws.write(header_row, c as u16, col.header).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, text) in row.iter().enumerate() {
                let r = header_row + 1 + r as u32;
                // A third of the cells as numbers, booleans or dates where the text allows.
                match (c % 3, text.parse::<f64>()) {
                    (0, Ok(n)) if n.is_finite() => { ws.write(r, c as u16, n).unwrap(); }
                    (1, _) if text == "ja" => { ws.write(r, c as u16, true).unwrap(); }
                    _ => {
                        // Excel refuses strings over 32767 characters; cut them.
                        let t: String = text.chars().take(1000).collect();
                        ws.write(r, c as u16, t).unwrap();
                    }
                }
            }
        }
        check(Format::Spreadsheet, wb.save_to_buffer().unwrap());
    }

}

proptest! {
    #![proptest_config(config(250))]

    #[test]
    fn edited_sheet_xml_never_panics(edits in prop::collection::vec(edit(), 1..8)) {
        check(Format::Spreadsheet, mutate_xlsx_part("xl/worksheets/sheet1.xml", &edits));
    }

    #[test]
    fn edited_shared_strings_never_panic(edits in prop::collection::vec(edit(), 1..8)) {
        check(Format::Spreadsheet, mutate_xlsx_part("xl/sharedStrings.xml", &edits));
    }

}

proptest! {
    #![proptest_config(config(800))]

    #[test]
    fn cut_or_flipped_xlsx_bytes_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        check(Format::Spreadsheet, apply(EXAMPLE_XLSX.to_vec(), &edits));
    }
}
