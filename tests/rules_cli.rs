//! `cloudcensus rules`.

use crate::util::stdout_of;

/// The released codes. Codes are stable: removing or renaming one is a breaking change
/// for pipelines that filter on them, so this list only ever grows.
const RELEASED_CODES: &[&str] = &[
    "CB-STG",
    "CB-DEF",
    "CB-RUB",
    "CB-UNREG",
    "CB-UNKNOWN-ID",
    "CB-DPIA",
    "CB-EXIT",
    "CB-AUDIT",
    "CB-CHAR",
    "CB-C2000",
    "CB-WOO",
    "CB-PD-LOC",
    "CB-BPD-LOC",
    "CB-BASIS",
    "CB-DRIFT",
    "CB-LOC-UNKNOWN",
    "CB-COVERAGE",
    "CB-STALE",
    "CB-SUPPRESS-EXPIRED",
    "CB-SUPPRESS-UNMATCHED",
    "CB-FACTS",
    "CB-CONC",
];

#[test]
fn rules_json_lists_every_released_code_with_clause_and_action() {
    let v: serde_json::Value =
        serde_json::from_str(&stdout_of(&["rules", "--format", "json", "--lang", "en"])).unwrap();
    let rows = v.as_array().unwrap();
    let codes: Vec<&str> = rows.iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, RELEASED_CODES);
    for r in rows {
        for key in ["severity", "clause", "title", "explanation", "action"] {
            assert!(
                !r[key].as_str().unwrap_or_default().is_empty(),
                "{} lacks {key}",
                r["code"]
            );
        }
    }
}

#[test]
fn docs_rules_md_is_the_generated_reference() {
    let root = env!("CARGO_MANIFEST_DIR");
    for (file, lang) in [("docs/rules.md", "nl"), ("docs/rules.en.md", "en")] {
        let on_disk = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        let generated = stdout_of(&["rules", "--format", "markdown", "--lang", lang]);
        assert!(
            on_disk == generated,
            "{file} is out of date: run `cloudcensus rules --format markdown --lang {lang} > {file}`"
        );
    }
}

#[test]
fn unknown_rule_pack_is_a_clear_error() {
    crate::util::cloudcensus()
        .args(["rules", "--pack", "cloudbeleid-2099"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "available packs are cloudbeleid-2022",
        ));
}
