//! `regions` and `locate` from the command line.

use crate::util::{cloudcensus, locate_json, stdout_of};
use predicates::prelude::*;

#[test]
fn help_lists_every_command_with_one_line() {
    let out = stdout_of(&["--help"]);
    for cmd in ["regions", "locate"] {
        assert!(out.contains(cmd), "{cmd} missing from --help:\n{out}");
    }
}

#[test]
fn locate_london_is_gb_adequacy() {
    let row = locate_json(&["aws", "eu-west-2", "--date", "2025-01-01"]);
    assert_eq!(row["countries"], "GB");
    assert_eq!(row["class"], "adequacy");
}

#[test]
fn locate_us_east_1_depends_on_the_date() {
    let y2022 = locate_json(&["aws", "us-east-1", "--date", "2022-01-01"]);
    assert_eq!(y2022["countries"], "US");
    assert_eq!(y2022["class"], "third-country");
    let y2024 = locate_json(&["aws", "us-east-1", "--date", "2024-01-01"]);
    assert_eq!(y2024["class"], "adequacy");
    assert!(y2024["basis"].as_str().unwrap().contains("2023/1795"));
}

#[test]
fn locate_us_east_1_without_dpf_certification_is_third_country() {
    let row = locate_json(&[
        "aws",
        "us-east-1",
        "--date",
        "2024-01-01",
        "--not-dpf-certified",
    ]);
    assert_eq!(row["class"], "third-country");
}

#[test]
fn locate_gcs_eur4_is_netherlands_and_finland() {
    let row = locate_json(&["gcp", "EUR4"]);
    let mut countries: Vec<&str> = row["countries"].as_str().unwrap().split('+').collect();
    countries.sort();
    assert_eq!(countries, ["FI", "NL"]);
    assert_eq!(row["class"], "eea");
}

#[test]
fn locate_brazil_south_became_adequate_in_2026() {
    assert_eq!(
        locate_json(&["azure", "brazilsouth", "--date", "2025-12-31"])["class"],
        "third-country"
    );
    let row = locate_json(&["azure", "brazilsouth", "--date", "2026-03-01"]);
    assert_eq!(row["countries"], "BR");
    assert_eq!(row["class"], "adequacy");
}

#[test]
fn locate_hong_kong_and_china_are_c2000_excluded() {
    let hk = locate_json(&["aws", "ap-east-1"]);
    assert_eq!(hk["countries"], "HK");
    assert_eq!(hk["class"], "c2000-excluded");
    let cn = locate_json(&["aws", "cn-north-1"]);
    assert_eq!(cn["countries"], "CN");
    assert_eq!(cn["class"], "c2000-excluded");
}

#[test]
fn locate_zurich_is_switzerland_adequacy() {
    let row = locate_json(&["aws", "eu-central-2"]);
    assert_eq!(row["countries"], "CH");
    assert_eq!(row["class"], "adequacy");
}

#[test]
fn locate_unknown_location_prints_unknown_and_exits_zero() {
    cloudcensus()
        .args(["locate", "aws", "moon-base-1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("unknown"));
}

#[test]
fn locate_table_output_has_the_documented_columns() {
    let out = stdout_of(&["locate", "azure", "West Europe", "--date", "2025-01-01"]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["PROVIDER", "LOCATION", "COUNTRIES", "CLASS", "BASIS"]
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(row, ["azure", "westeurope", "NL", "eea", "EEA"]);
}

#[test]
fn locate_rejects_a_bad_date_with_the_expected_format() {
    cloudcensus()
        .args(["locate", "aws", "eu-west-1", "--date", "2024/01/01"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("YYYY-MM-DD"));
}

#[test]
fn regions_prints_the_whole_catalog_as_csv() {
    let out = stdout_of(&["regions", "--format", "csv", "--date", "2025-01-01"]);
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        ["provider", "location", "countries", "class", "basis"]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert!(rows.len() > 150, "only {} locations", rows.len());
    let classes: std::collections::BTreeSet<&str> = rows.iter().map(|r| &r[3]).collect();
    for c in [
        "eea",
        "adequacy",
        "third-country",
        "c2000-excluded",
        "unknown",
    ] {
        assert!(classes.contains(c), "no {c} location in the catalog");
    }
}

#[test]
fn regions_filters_by_provider() {
    let out = stdout_of(&["regions", "--provider", "gcp", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v.as_array().unwrap();
    assert!(rows.len() > 30);
    assert!(rows.iter().all(|r| r["provider"] == "gcp"));
}

#[test]
fn shipped_catalog_override_example_applies() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/catalog-override.toml"
    );
    let out = stdout_of(&[
        "--catalog",
        example,
        "locate",
        "aws",
        "us-east-1",
        "--date",
        "2025-01-01",
        "--format",
        "csv",
    ]);
    assert!(out.contains("us-east-1"), "{out}");
}

#[test]
fn a_broken_catalog_override_names_the_file_and_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[[location]]\nprovider = \"aws\"\nlocation = \"x\"\nkind = \"region\"\ncountries = \"nl\"\n",
    )
    .unwrap();
    cloudcensus()
        .args(["--catalog", path.to_str().unwrap(), "locate", "aws", "x"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("bad.toml")
                .and(predicate::str::contains("[[location]] #1"))
                .and(predicate::str::contains("'nl'")),
        );
}

#[test]
fn regions_survives_a_closed_pipe() {
    // `cloudcensus regions | head -1` must not print an error.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} regions | head -1",
            assert_cmd::cargo::cargo_bin("cloudcensus").display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("error"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn locate_google_product_codes_places_them_with_their_countries() {
    let eur3 = locate_json(&["gcp", "eur3", "--date", "2025-01-01"]);
    assert_eq!(eur3["class"], "eea");
    let mut countries: Vec<&str> = eur3["countries"].as_str().unwrap().split('+').collect();
    countries.sort();
    assert_eq!(countries, ["BE", "FI", "NL"]);
    let nam5 = locate_json(&["gcp", "nam5"]);
    assert_eq!(
        (nam5["location"].as_str(), nam5["countries"].as_str()),
        (Some("firestore/nam5"), Some("US"))
    );
    let nea = locate_json(&["gcp", "nam-eur-asia1", "--date", "2025-01-01"]);
    assert_eq!(nea["location"], "spanner/nam-eur-asia1");
    assert_eq!(nea["countries"], "US+BE+TW");
    assert_eq!(nea["class"], "third-country");
}

#[test]
fn locate_an_ambiguous_google_code_without_product_lists_the_meanings() {
    let row = locate_json(&["gcp", "EUR5"]);
    assert_eq!(row["class"], "unknown");
    assert_eq!(row["countries"], "");
    assert!(
        row["basis"].as_str().unwrap().starts_with("ambiguous"),
        "{row}"
    );
    assert_eq!(
        row["candidates"],
        serde_json::json!(["eur5", "spanner/eur5"])
    );
    let spanner = locate_json(&[
        "gcp",
        "EUR5",
        "--product",
        "spanner",
        "--date",
        "2025-01-01",
    ]);
    assert_eq!(spanner["location"], "spanner/eur5");
    assert_eq!(spanner["countries"], "GB+BE+NL");
    assert_eq!(spanner["class"], "adequacy");
    let storage = locate_json(&["gcp", "EUR5", "--product", "storage"]);
    assert_eq!(storage["countries"], "BE+GB");
}

#[test]
fn regions_lists_every_product_meaning_with_its_countries() {
    let out = stdout_of(&[
        "regions",
        "--provider",
        "gcp",
        "--format",
        "json",
        "--date",
        "2025-01-01",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let row = |loc: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["location"] == loc)
            .unwrap_or_else(|| panic!("{loc} missing from regions"))
            .clone()
    };
    assert_eq!(row("eur5")["countries"], "BE+GB");
    assert_eq!(row("spanner/eur5")["countries"], "GB+BE+NL");
    assert_eq!(row("spanner/eur6")["class"], "adequacy");
    assert_eq!(row("firestore/nam5")["countries"], "US");
    assert_eq!(row("bigquery/eu")["class"], "eea");
    assert_eq!(row("kms/global")["class"], "c2000-excluded");
    assert_eq!(row("spanner/nam-eur-asia1")["countries"], "US+BE+TW");
}
