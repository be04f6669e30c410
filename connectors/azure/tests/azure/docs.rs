//! The shipped role definition, configuration examples and README stay true to the code.

use std::collections::BTreeSet;

use cloudcensus_azure::{AzureSourceConfig, CredentialKind, REQUIRED_ACTIONS};
use serde::Deserialize;

const CRATE: &str = env!("CARGO_MANIFEST_DIR");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{CRATE}/{name}"))
        .unwrap_or_else(|e| panic!("reading {name}: {e}"))
}

#[test]
fn custom_role_grants_exactly_the_read_actions_the_connector_uses() {
    let role: serde_json::Value = serde_json::from_str(&read("custom-role.json")).unwrap();
    let actions: BTreeSet<&str> = role["Actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let used: BTreeSet<&str> = REQUIRED_ACTIONS.iter().copied().collect();
    assert_eq!(actions, used);
    assert!(actions.iter().all(|a| a.ends_with("/read")), "{actions:?}");
    assert_eq!(role["DataActions"], serde_json::json!([]));
    assert_eq!(role["IsCustom"], serde_json::json!(true));
}

#[derive(Deserialize)]
struct File {
    azure: Vec<AzureSourceConfig>,
}

#[test]
fn config_examples_parse_validate_and_cover_every_credential_type() {
    let file: File = toml::from_str(&read("config-examples.toml")).expect("config-examples.toml");
    let mut kinds = BTreeSet::new();
    for src in &file.azure {
        assert!(
            src.problems().is_empty(),
            "{}: {:?}",
            src.name,
            src.problems()
        );
        kinds.insert(src.credential.as_str());
    }
    let all: BTreeSet<&str> = [
        CredentialKind::Cli,
        CredentialKind::ClientSecret,
        CredentialKind::WorkloadIdentity,
        CredentialKind::ManagedIdentity,
        CredentialKind::TokenEnv,
    ]
    .iter()
    .map(|k| k.as_str())
    .collect();
    assert_eq!(kinds, all);
}

#[test]
fn readme_documents_every_credential_type_and_the_role() {
    let readme = read("README.md");
    for needle in [
        "credential = \"cli\"",
        "credential = \"client-secret\"",
        "credential = \"workload-identity\"",
        "credential = \"managed-identity\"",
        "credential = \"token-env\"",
        "custom-role.json",
    ] {
        assert!(readme.contains(needle), "README.md lacks {needle}");
    }
}
