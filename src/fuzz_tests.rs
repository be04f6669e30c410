//! Property-based fuzzing of the inputs an operator or another network hands us: the
//! config file (with environment overrides) and scan imports. Random and mutated inputs
//! must give a value or a clear error that names where the problem is — never a panic.
//! (Register readers: `register::fuzz_tests`; location normaliser: the core catalog tests.)
//! The case counts keep the whole set at a few seconds in a debug build; raise them with
//! `PROPTEST_CASES` for a long run.

use std::path::Path;

use proptest::prelude::*;

use crate::config::{Config, ENV_OVERRIDES};
use crate::store::exchange::{ExchangeError, validate};
use crate::synth::Synth;

/// Keys (top level and in tables) the config knows, plus a few it does not.
const KEYS: &[&str] = &[
    "organisation",
    "register",
    "register_sheet",
    "store",
    "rule_pack",
    "max_concurrency",
    "catalog",
    "lang",
    "orgnisation",
    "extra",
];

fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,20}".prop_map(|s| format!("{:?}", s)),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("[]".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("\"nl\"".to_string()),
        Just("\"cloudbeleid-2022\"".to_string()),
    ]
}

fn config_text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((prop::sample::select(KEYS), toml_value()), 0..8),
        prop::option::of(prop::collection::vec(
            (
                prop::sample::select(&["tag_keys", "exclude_scopes", "x"][..]),
                toml_value(),
            ),
            0..3,
        )),
        prop::option::of(prop::collection::vec(
            (
                prop::sample::select(&["severity", "suppress", "dpf_certified", "y"][..]),
                toml_value(),
            ),
            0..3,
        )),
    )
        .prop_map(|(top, matching, rules)| {
            let mut seen = std::collections::BTreeSet::new();
            let mut s = String::new();
            for (k, v) in top {
                if seen.insert(k) {
                    s.push_str(&format!("{k} = {v}\n"));
                }
            }
            for (name, table) in [("matching", matching), ("rules", rules)] {
                if let Some(entries) = table {
                    s.push_str(&format!("[{name}]\n"));
                    let mut seen = std::collections::BTreeSet::new();
                    for (k, v) in entries {
                        if seen.insert(k) {
                            s.push_str(&format!("{k} = {v}\n"));
                        }
                    }
                }
            }
            s
        })
}

/// A small valid export (the synthetic estate), as bytes.
fn valid_export() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| {
        let s = Synth::new(21);
        let mut out = Vec::new();
        crate::store::exchange::write_json(
            &mut out,
            &s.meta("2026-05"),
            &s.scopes()[..2],
            &s.groups()[..1],
            s.resources(4).map(Ok),
            &s.coverage()[..2],
            &[],
        )
        .expect("export");
        out
    })
}

fn check_import(bytes: &[u8]) -> Result<(), TestCaseError> {
    match validate(bytes) {
        Ok((meta, _)) => prop_assert!(!meta.period.is_empty()),
        Err(ExchangeError::Invalid { path, message }) => {
            prop_assert!(!path.is_empty() && !message.is_empty());
        }
        Err(ExchangeError::Json(e)) => prop_assert!(e.line() > 0 || e.is_eof()),
        Err(ExchangeError::Io(_)) => {}
        Err(other) => prop_assert!(false, "unexpected error kind: {other}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2500))]

    #[test]
    fn config_parse_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
        match Config::parse(Path::new("fuzz.toml"), &text, |_| None) {
            Ok(c) => prop_assert!(!c.organisation.is_empty() || text.contains("organisation")),
            Err(e) => {
                prop_assert_eq!(&e.path, "fuzz.toml");
                prop_assert!(!e.problems.is_empty());
            }
        }
    }

    #[test]
    fn config_errors_name_every_unknown_key_and_env_overrides_never_panic(
        text in config_text(),
        env in prop::collection::vec((0..ENV_OVERRIDES.len(), "\\PC{0,12}"), 0..3),
    ) {
        let lookup = |k: &str| {
            env.iter()
                .rev()
                .find(|(i, _)| ENV_OVERRIDES[*i].0 == k)
                .map(|(_, v)| v.clone())
        };
        match Config::parse(Path::new("fuzz.toml"), &text, lookup) {
            Ok(_) => {
                for bad in ["orgnisation", "extra"] {
                    let prefix = format!("{bad} =");
                    let present = text.lines().any(|l| l.starts_with(&prefix));
                    prop_assert!(!present, "unknown key {} accepted", bad);
                }
            }
            Err(e) => {
                prop_assert!(!e.problems.is_empty());
                for bad in ["orgnisation", "extra"] {
                    let prefix = format!("{bad} =");
                    if let Some(n) = text.lines().position(|l| l.starts_with(&prefix)) {
                        // Every unknown key is named, also after a bad value; only a
                        // file that is not TOML at all stops the key check.
                        let all = e.problems.join("\n");
                        if !all.contains("TOML parse error") {
                            let want = format!("line {}: unknown key '{}'", n + 1, bad);
                            prop_assert!(all.contains(&want), "{}", all);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn scan_import_validation_never_panics_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..400)
    ) {
        check_import(&bytes)?;
    }

    #[test]
    fn truncated_or_mutated_exports_are_rejected_with_a_location(
        cut in 0.0f64..1.0, pos in 0.0f64..1.0, byte in any::<u8>(), truncate in any::<bool>()
    ) {
        let good = valid_export();
        let mut bytes = good.to_vec();
        if truncate {
            bytes.truncate((cut * good.len() as f64) as usize);
            let r = validate(&bytes[..]);
            // Cutting only the trailing newline leaves a complete document.
            let complete = bytes.trim_ascii_end().len() == good.trim_ascii_end().len();
            prop_assert!(r.is_err() || complete, "a truncated export was accepted");
        } else {
            let at = ((pos * good.len() as f64) as usize).min(good.len() - 1);
            bytes[at] = byte;
        }
        check_import(&bytes)?;
    }
}

#[test]
fn the_unmutated_fuzz_seed_export_is_valid() {
    let (meta, counts) = validate(valid_export()).unwrap();
    assert_eq!(meta.period, "2026-05");
    assert_eq!(counts.resources, 4);
}
