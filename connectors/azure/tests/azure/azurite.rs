//! Storage data plane against Azurite: containers with metadata through the official
//! `azure_storage_blob` crate, joined to the storage account Resource Manager reports.
//! Needs `CLOUDCENSUS_TEST_AZURITE` (set by `scripts/test`, which starts Azurite).

use std::collections::{BTreeMap, HashMap};

use azure_storage_blob::BlobServiceClient;
use azure_storage_blob::models::BlobContainerClientCreateOptions;
use base64::Engine as _;
use cloudcensus_azure::mapping::CONTAINER_TYPE;
use cloudcensus_core::{Category, CoverageStatus, Provider, Scope};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

/// Azurite's documented development account and key.
const ACCOUNT: &str = "devstoreaccount1";
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn azurite() -> String {
    std::env::var("CLOUDCENSUS_TEST_AZURITE").expect(
        "CLOUDCENSUS_TEST_AZURITE is not set: run the tests through ./scripts/test, which \
         starts Azurite (npm azurite) on 127.0.0.1 and exports its blob endpoint",
    )
}

/// An account SAS (blob service; service, container and object level) signed with the
/// account key, as the storage REST reference describes for versions before 2020-12-06.
fn account_sas(key: &str) -> String {
    let sv = "2019-12-12";
    let (ss, srt, sp, spr) = ("b", "sco", "rwdlac", "https,http");
    let se = (chrono::Utc::now() + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let to_sign = format!("{ACCOUNT}\n{sp}\n{ss}\n{srt}\n\n{se}\n\n{spr}\n{sv}\n");
    let key = base64::engine::general_purpose::STANDARD
        .decode(key)
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(to_sign.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("sv", sv)
        .append_pair("ss", ss)
        .append_pair("srt", srt)
        .append_pair("sp", sp)
        .append_pair("se", &se)
        .append_pair("spr", spr)
        .append_pair("sig", &sig)
        .finish()
}

async fn create_container(base: &str, sas: &str, name: &str, metadata: &[(&str, &str)]) {
    let url = url::Url::parse(&format!("{base}/{ACCOUNT}?{sas}")).unwrap();
    let client = BlobServiceClient::new(url, None, None).unwrap();
    let options = BlobContainerClientCreateOptions {
        metadata: Some(
            metadata
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
        ),
        ..Default::default()
    };
    client
        .blob_container_client(name)
        .create(Some(options))
        .await
        .unwrap_or_else(|e| panic!("creating container {name} in Azurite: {e}"));
}

const ACCOUNT_ID: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/devstoreaccount1";

/// Resource Manager knows the account: RA-GRS in brazilsouth, secondary southcentralus.
async fn arm_with_account() -> MockServer {
    let server = MockServer::start().await;
    let account = json!({"id": ACCOUNT_ID, "name": ACCOUNT, "type": "Microsoft.Storage/storageAccounts",
        "location": "brazilsouth", "kind": "StorageV2",
        "sku": {"name": "Standard_RAGRS", "tier": "Standard"}, "tags": {}});
    let mut detailed = account.clone();
    detailed["properties"] = json!({"primaryLocation": "brazilsouth",
        "secondaryLocation": "southcentralus", "statusOfPrimary": "available",
        "statusOfSecondary": "available"});
    for (p, body) in [
        (
            format!("/subscriptions/{SUB_A}/resourcegroups"),
            page(json!([]), None),
        ),
        (
            format!("/subscriptions/{SUB_A}/resources"),
            page(json!([account]), None),
        ),
        (
            format!("/subscriptions/{SUB_A}/providers/Microsoft.Storage/storageAccounts"),
            page(json!([detailed]), None),
        ),
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    server
}

#[tokio::test]
async fn azurite_containers_carry_metadata_as_tags_and_the_accounts_locations() {
    let base = azurite();
    let sas = account_sas(KEY);
    let run = format!("t{}", chrono::Utc::now().timestamp_millis());
    create_container(
        &base,
        &sas,
        &format!("{run}-dossiers"),
        &[("verwerking", "VA-2024-017")],
    )
    .await;
    create_container(&base, &sas, &format!("{run}-logs"), &[]).await;

    let arm = arm_with_account().await;
    let mut cfg = config(&arm.uri());
    cfg.storage_data_plane = true;
    cfg.blob_endpoint_template = Some(format!("{base}/{{account}}"));
    cfg.blob_sas_env = Some("AZURITE_SAS".into());
    let c = connect(&cfg, &[("AZURITE_SAS", sas.clone())]).await;
    let scan = scan(&c, &[Scope::new(Provider::Azure, SUB_A)]).await;

    let mut containers: Vec<_> = scan
        .resources
        .iter()
        .filter(|r| r.resource_type == CONTAINER_TYPE && r.name.starts_with(&run))
        .collect();
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(containers.len(), 2, "{:#?}", scan.resources);
    let d = containers[0];
    assert_eq!(d.name, format!("{run}-dossiers"));
    assert_eq!(
        d.id,
        format!("{ACCOUNT_ID}/blobServices/default/containers/{run}-dossiers")
    );
    assert_eq!(
        d.tags,
        BTreeMap::from([("verwerking".to_string(), "VA-2024-017".to_string())])
    );
    assert_eq!(d.category, Category::DataStore);
    assert_eq!(d.location.as_deref(), Some("brazilsouth"));
    assert_eq!(d.replica_locations, ["southcentralus"]);
    assert_eq!(d.resource_group.as_deref(), Some("rg-data"));
    assert!(containers[1].tags.is_empty());

    let blob = scan
        .coverage
        .iter()
        .find(|c| c.service == "blob/devstoreaccount1")
        .expect("blob coverage entry");
    assert_eq!(blob.status, CoverageStatus::Scanned);
    assert_eq!(blob.region, "brazilsouth");
}

#[tokio::test]
async fn azurite_refusing_the_signature_is_denied_coverage_without_the_sas() {
    let base = azurite();
    let wrong_key = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
    let sas = account_sas(&wrong_key);
    let arm = arm_with_account().await;
    let mut cfg = config(&arm.uri());
    cfg.storage_data_plane = true;
    cfg.blob_endpoint_template = Some(format!("{base}/{{account}}"));
    cfg.blob_sas_env = Some("AZURITE_SAS".into());
    let c = connect(&cfg, &[("AZURITE_SAS", sas.clone())]).await;
    let scan = scan(&c, &[Scope::new(Provider::Azure, SUB_A)]).await;
    assert!(
        scan.resources
            .iter()
            .all(|r| r.resource_type != CONTAINER_TYPE)
    );
    let blob = scan
        .coverage
        .iter()
        .find(|c| c.service == "blob/devstoreaccount1")
        .expect("blob coverage entry");
    assert_eq!(blob.status, CoverageStatus::Denied, "{blob:?}");
    let msg = blob.message.as_deref().unwrap_or("");
    assert!(!msg.contains(&sas), "SAS leaked into coverage: {msg}");
}
