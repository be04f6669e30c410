//! `cloudcensus scan` end to end: the real binary against Azurite and
//! gcp-storage-emulator (started by `scripts/test`) plus in-process Resource Manager /
//! Cloud Asset mocks whose payloads follow the REST references, a config file and a
//! register; then the store is read back with `export --format json`.
//!
//! Also: `config check` / `config example`, an unreachable endpoint (bounded time, exit
//! 1, nothing committed), and Ctrl-C (SIGINT) mid-scan leaving the store untouched.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use cloudcensus::core::{Catalog, ClassifyOptions, JurisdictionClass, Provider};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::scan_support::{azure_test_token, run, s, text};
use crate::util::cloudcensus;

const SUB: &str = "0e2e0000-0000-4000-8000-000000000001";
const PROJECT: &str = "cc-e2e-project";
const ACCOUNT: &str = "devstoreaccount1";
/// Azurite's documented development account key.
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const TOKEN_VAR: &str = "CC_E2E_AZURE_TOKEN";
const SAS_VAR: &str = "CC_E2E_BLOB_SAS";

fn emulator(var: &str, what: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: run the tests through ./scripts/test, which starts {what} on \
             127.0.0.1 and exports its URL"
        )
    })
}

/// An unsigned JWT with service-principal claims (the connector reads the identity from
/// the claims; the mock does not verify signatures).
fn test_token() -> String {
    azure_test_token("e2")
}

/// An account SAS for Azurite's development account (blob service; service, container
/// and object level), signed as the storage REST reference describes for 2019-12-12.
fn account_sas() -> String {
    let (sv, ss, srt, sp, spr) = ("2019-12-12", "b", "sco", "rwdlac", "https,http");
    let se = (chrono::Utc::now() + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let to_sign = format!("{ACCOUNT}\n{sp}\n{ss}\n{srt}\n\n{se}\n\n{spr}\n{sv}\n");
    let key = base64::engine::general_purpose::STANDARD
        .decode(KEY)
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

/// Creates a blob container with metadata (Create Container, REST).
async fn create_container(http: &reqwest::Client, base: &str, name: &str, meta: &[(&str, &str)]) {
    let mut req = http
        .put(format!(
            "{base}/{ACCOUNT}/{name}?restype=container&{}",
            account_sas()
        ))
        .header("x-ms-version", "2019-12-12");
    for (k, v) in meta {
        req = req.header(format!("x-ms-meta-{k}"), *v);
    }
    let resp = req.send().await.expect("create container");
    assert!(
        resp.status().is_success(),
        "create container {name}: {} {}",
        resp.status(),
        resp.text().await.unwrap_or_default()
    );
}

/// Creates a bucket and sets location and labels (the emulator ignores both on insert).
async fn create_bucket(
    http: &reqwest::Client,
    base: &str,
    name: &str,
    location: &str,
    labels: Value,
) {
    let insert = http
        .post(format!("{base}/storage/v1/b?project={PROJECT}"))
        .header("content-type", "application/json")
        .body(json!({ "name": name }).to_string())
        .send()
        .await
        .expect("insert bucket");
    assert!(
        insert.status().is_success(),
        "insert {name}: {}",
        insert.status()
    );
    let patch = http
        .patch(format!("{base}/storage/v1/b/{name}"))
        .header("content-type", "application/json")
        .body(json!({ "location": location, "labels": labels }).to_string())
        .send()
        .await
        .expect("patch bucket");
    assert!(
        patch.status().is_success(),
        "patch {name}: {}",
        patch.status()
    );
}

async fn mount_json(server: &MockServer, p: String, body: Value) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

fn arm_id(rg: &str, kind: &str, name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/{kind}/{name}")
}

/// Resource Manager: one subscription, two resource groups (one tagged with the
/// activity), the Azurite storage account, a VM in Hong Kong and a Cosmos DB account in
/// Brazil (one region, so no replica).
async fn arm_mock() -> MockServer {
    let s = MockServer::start().await;
    mount_json(
        &s,
        "/subscriptions".into(),
        json!({"value": [{"id": format!("/subscriptions/{SUB}"), "subscriptionId": SUB,
            "displayName": "e2e-productie", "state": "Enabled", "tags": {}}]}),
    )
    .await;
    mount_json(
        &s,
        format!("/subscriptions/{SUB}/resourcegroups"),
        json!({"value": [
            {"id": format!("/subscriptions/{SUB}/resourceGroups/rg-data"), "name": "rg-data",
             "type": "Microsoft.Resources/resourceGroups", "location": "westeurope",
             "tags": {"verwerking": "VA-E2E-001"}, "properties": {"provisioningState": "Succeeded"}},
            {"id": format!("/subscriptions/{SUB}/resourceGroups/rg-web"), "name": "rg-web",
             "type": "Microsoft.Resources/resourceGroups", "location": "westeurope",
             "properties": {"provisioningState": "Succeeded"}}
        ]}),
    )
    .await;
    let account = json!({"id": arm_id("rg-data", "Microsoft.Storage/storageAccounts", ACCOUNT),
        "name": ACCOUNT, "type": "Microsoft.Storage/storageAccounts", "location": "westeurope",
        "kind": "StorageV2", "sku": {"name": "Standard_LRS", "tier": "Standard"}, "tags": {}});
    mount_json(
        &s,
        format!("/subscriptions/{SUB}/resources"),
        json!({"value": [
            account.clone(),
            {"id": arm_id("rg-web", "Microsoft.Compute/virtualMachines", "vm-web"),
             "name": "vm-web", "type": "Microsoft.Compute/virtualMachines",
             "location": "eastasia", "tags": {}},
            {"id": arm_id("rg-web", "Microsoft.DocumentDB/databaseAccounts", "cosmos-br"),
             "name": "cosmos-br", "type": "Microsoft.DocumentDB/databaseAccounts",
             "location": "brazilsouth", "tags": {"owner": "team-web"}}
        ]}),
    )
    .await;
    let mut detailed = account;
    detailed["properties"] =
        json!({"primaryLocation": "westeurope", "statusOfPrimary": "available"});
    mount_json(
        &s,
        format!("/subscriptions/{SUB}/providers/Microsoft.Storage/storageAccounts"),
        json!({"value": [detailed]}),
    )
    .await;
    // The Cosmos DB list (CosmosDBDatabaseAccountList example, 2025-10-15): one region.
    let brazil = json!({"id": "cosmos-br-brazilsouth", "locationName": "Brazil South",
        "documentEndpoint": "https://cosmos-br-brazilsouth.documents.azure.com:443/",
        "provisioningState": "Succeeded", "failoverPriority": 0});
    mount_json(
        &s,
        format!("/subscriptions/{SUB}/providers/Microsoft.DocumentDB/databaseAccounts"),
        json!({"value": [{"id": arm_id("rg-web", "Microsoft.DocumentDB/databaseAccounts", "cosmos-br"),
            "name": "cosmos-br", "location": "Brazil South",
            "type": "Microsoft.DocumentDB/databaseAccounts", "kind": "GlobalDocumentDB",
            "tags": {"owner": "team-web"},
            "properties": {"provisioningState": "Succeeded",
                "documentEndpoint": "https://cosmos-br.documents.azure.com:443/",
                "databaseAccountOfferType": "Standard",
                "writeLocations": [brazil.clone()], "readLocations": [brazil.clone()],
                "locations": [brazil]}}]}),
    )
    .await;
    // The Activity Log (ActivityLogs_List, as in Microsoft's GetActivityLogsFiltered
    // example): who created the Cosmos DB account, the only unregistered data-bearing
    // resource; any other resource asked about has no write in the window.
    let cosmos = arm_id(
        "rg-web",
        "Microsoft.DocumentDB/databaseAccounts",
        "cosmos-br",
    );
    let when = (chrono::Utc::now() - chrono::Duration::days(12))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let event = |status: &str, event_name: &str| {
        json!({
            "authorization": {"action": "Microsoft.DocumentDB/databaseAccounts/write", "scope": cosmos},
            "caller": "m.bakker@minvz.example",
            "category": {"value": "Administrative", "localizedValue": "Administrative"},
            "claims": {"name": "M. Bakker", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "m.bakker@minvz.example"},
            "correlationId": "5d5d5d5d-0000-4000-8000-000000000001",
            "eventDataId": format!("e{status}"),
            "eventName": {"value": event_name, "localizedValue": event_name},
            "id": format!("{cosmos}/events/e{status}/ticks/638960000000000000"),
            "level": "Informational",
            "resourceGroupName": "rg-web",
            "resourceProviderName": {"value": "Microsoft.DocumentDB", "localizedValue": "Microsoft.DocumentDB"},
            "resourceId": cosmos,
            "resourceType": {"value": "Microsoft.DocumentDB/databaseAccounts", "localizedValue": "Microsoft.DocumentDB/databaseAccounts"},
            "operationId": "5d5d5d5d-0000-4000-8000-000000000001",
            "operationName": {"value": "Microsoft.DocumentDB/databaseAccounts/write", "localizedValue": "Update Cosmos DB account"},
            "properties": {"statusCode": "Created"},
            "status": {"value": status, "localizedValue": status},
            "subStatus": {"value": "Created", "localizedValue": "Created (HTTP Status Code: 201)"},
            "eventTimestamp": when,
            "submissionTimestamp": when,
            "subscriptionId": SUB,
            "tenantId": "0c0c0c0c-eeee-4eee-8eee-000000000003"
        })
    };
    Mock::given(method("GET"))
        .and(path(format!(
            "/subscriptions/{SUB}/providers/Microsoft.Insights/eventtypes/management/values"
        )))
        .and(wiremock::matchers::query_param_contains(
            "$filter",
            "cosmos-br",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"value": [event("Succeeded", "EndRequest"), event("Started", "BeginRequest")]}),
        ))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/subscriptions/{SUB}/providers/Microsoft.Insights/eventtypes/management/values"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&s)
        .await;
    s
}

/// Resource Manager v3 `projects.get` and Cloud Asset `searchAllResources` for one
/// project: a VM in Hong Kong whose label names an activity the register lacks.
async fn gcp_mock() -> MockServer {
    let s = MockServer::start().await;
    mount_json(
        &s,
        format!("/v3/projects/{PROJECT}"),
        json!({"name": "projects/777777777777", "parent": "folders/700", "projectId": PROJECT,
            "state": "ACTIVE", "displayName": "E2E project", "createTime": "2025-01-01T09:00:00Z",
            "etag": "W/\"e2e\"", "labels": {"verwerking": "va-e2e-002"}}),
    )
    .await;
    mount_json(
        &s,
        format!("/v1/projects/{PROJECT}:searchAllResources"),
        json!({"results": [
            {"name": format!("//compute.googleapis.com/projects/{PROJECT}/zones/asia-east2-a/instances/vm-batch"),
             "assetType": "compute.googleapis.com/Instance", "project": "projects/777777777777",
             "displayName": "vm-batch", "location": "asia-east2-a",
             "labels": {"verwerking": "va-e2e-999"}, "createTime": "2025-02-01T10:00:00Z"}
        ]}),
    )
    .await;
    // Cloud Logging entries.list: the audit log holds no create call of what is asked.
    Mock::given(method("POST"))
        .and(path("/v2/entries:list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&s)
        .await;
    s
}

const REGISTER_HEADER: &str = "Nummer verwerking;Naam verwerking;Organisatieonderdeel;Verwerkingsverantwoordelijke;Doel;Grondslag;Persoonsgegevens;Bijzondere persoonsgegevens;Soorten bijzondere persoonsgegevens;Strafrechtelijke gegevens of BSN;Basisregistratie;Rubricering;Materieel cloudgebruik;Reden materieel;Cloudleverancier;Subverwerkers;Servicemodel;Cloudtype;Locaties opslag en verwerking;Doorgiftegrondslag;Doorgifte-instrument;Datum pre-scan DPIA;Formele DPIA;Datum formele DPIA;Hoog risico;DPIA naar CIO Rijk;Kenmerk explain;Datum advies CIO Rijk;Exitstrategie;Right-to-audit;C2000-toets;Woo-publicatie;Besluit door;Datum besluit;Status;Scopekoppeling";

fn write_register(dir: &Path) -> PathBuf {
    let rows = [
        "VA-E2E-001;Dossiers bezwaar en beroep;DG Bestuur;Minister van Voorbeeldzaken;Behandelen van bezwaarschriften;wettelijke verplichting;ja;nee;;nee;geen;ongerubriceerd;ja;primair proces;Microsoft Azure;Microsoft Ireland Operations Ltd;PaaS;publiek;westeurope;9a;;2025-02-10;n.v.t.;;nee;;;;ja;ja;voldoet;https://open.overheid.nl/documenten/e2e-001;SG MinVZ;2025-03-01;in gebruik;",
        "VA-E2E-002;Statistiek subsidies;DG Wonen;Minister van Voorbeeldzaken;Beleidsstatistiek;algemeen belang / openbaar gezag;nee;nee;;nee;geen;ongerubriceerd;ja;primair proces;Google Cloud;Google Cloud EMEA Ltd;PaaS;publiek;europe-west4;9a;;2025-02-10;n.v.t.;;nee;;;;ja;ja;voldoet;https://open.overheid.nl/documenten/e2e-002;SG MinVZ;2025-03-01;in gebruik;",
    ];
    let p = dir.join("register.csv");
    std::fs::write(&p, format!("{REGISTER_HEADER}\n{}\n", rows.join("\n"))).unwrap();
    p
}

fn write_config(dir: &Path, arm: &str, gcp_api: &str, azurite: &str, gcs: &str) -> PathBuf {
    let text = format!(
        r#"organisation = "Ministerie van Voorbeeldzaken"
register = "register.csv"
store = "scans.db"
max_concurrency = 4

[matching]
tag_keys = ["verwerking"]

[[azure]]
name = "e2e-azure"
credential = "token-env"
access_token_env = "{TOKEN_VAR}"
arm_endpoint = "{arm}"
subscriptions = ["{SUB}"]
storage_data_plane = true
blob_endpoint_template = "{azurite}/{{account}}"
blob_sas_env = "{SAS_VAR}"
max_concurrency = 2

[[gcp]]
name = "e2e-gcp"
scope = "projects/{PROJECT}"
credentials = "anonymous"
asset_endpoint = "{gcp_api}"
resourcemanager_endpoint = "{gcp_api}"
logging_endpoint = "{gcp_api}"
storage_endpoint = "{gcs}"
max_concurrency = 2
"#
    );
    let p = dir.join("cloudcensus.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_of_azure_and_gcp_stores_the_exact_estate_and_finds_unregistered_and_non_eea_use() {
    let azurite = emulator("CLOUDCENSUS_TEST_AZURITE", "Azurite");
    let gcs = emulator("CLOUDCENSUS_TEST_GCS", "gcp-storage-emulator");
    let run_id = format!("e2e{}", chrono::Utc::now().timestamp_micros());
    let http = reqwest::Client::new();
    // Azure data plane: one container tagged with the activity, one inheriting it from
    // the resource group.
    let dossiers = format!("{run_id}-dossiers");
    let scratch = format!("{run_id}-scratch");
    create_container(&http, &azurite, &dossiers, &[("verwerking", "VA-E2E-001")]).await;
    create_container(&http, &azurite, &scratch, &[]).await;
    // Google Cloud Storage: one bucket in the Netherlands inheriting the project label,
    // one in the ASIA multi-region labelled with the Azure activity.
    let eu_bucket = format!("{run_id}-nl");
    let asia_bucket = format!("{run_id}-asia");
    create_bucket(&http, &gcs, &eu_bucket, "EUROPE-WEST4", json!({})).await;
    create_bucket(
        &http,
        &gcs,
        &asia_bucket,
        "ASIA",
        json!({"verwerking": "va-e2e-001"}),
    )
    .await;

    let arm = arm_mock().await;
    let gcp_api = gcp_mock().await;
    let dir = tempfile::tempdir().unwrap();
    write_register(dir.path());
    let config = write_config(dir.path(), &arm.uri(), &gcp_api.uri(), &azurite, &gcs);
    let env = vec![
        (TOKEN_VAR.to_string(), test_token()),
        (SAS_VAR.to_string(), account_sas()),
    ];

    let check = run(
        vec![
            "--config".into(),
            s(&config).into(),
            "config".into(),
            "check".into(),
        ],
        env.clone(),
    )
    .await;
    let check_out = text(&check.stdout);
    assert!(check.status.success(), "{check_out}{}", text(&check.stderr));
    assert!(check_out.contains("2 activities"), "{check_out}");
    assert!(check_out.contains("e2e-azure"), "{check_out}");
    assert!(
        check_out.contains(&format!("projects/{PROJECT}")),
        "{check_out}"
    );

    let scan = run(
        vec![
            "--config".into(),
            s(&config).into(),
            "scan".into(),
            "--period".into(),
            "2026-03".into(),
        ],
        env.clone(),
    )
    .await;
    let scan_out = text(&scan.stdout);
    assert_eq!(
        scan.status.code(),
        Some(0),
        "scan failed:\n{scan_out}\n{}",
        text(&scan.stderr)
    );
    assert!(
        scan_out.contains("scan 2026-03-0001 committed"),
        "{scan_out}"
    );
    assert!(scan_out.contains("coverage: 100.0%"), "{scan_out}");
    assert!(scan_out.contains("exit 0: complete"), "{scan_out}");

    let export = run(
        vec![
            "export".into(),
            "--store".into(),
            s(&dir.path().join("scans.db")).into(),
            "--format".into(),
            "json".into(),
        ],
        vec![],
    )
    .await;
    assert!(export.status.success(), "{}", text(&export.stderr));
    let doc: Value = serde_json::from_slice(&export.stdout).expect("export is JSON");

    // Metadata: identities without secrets, the config's SHA-256.
    let meta = &doc["meta"];
    assert_eq!(meta["period"], "2026-03");
    assert_eq!(meta["organisation"], "Ministerie van Voorbeeldzaken");
    let identities: Vec<&str> = meta["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(identities.len(), 2, "{identities:?}");
    assert!(
        identities[0].starts_with("azure source 'e2e-azure': "),
        "{identities:?}"
    );
    assert!(
        identities[0].contains("0a0a0a0a-cccc-4ccc-8ccc-0000000000e2"),
        "{identities:?}"
    );
    assert!(
        identities[1].starts_with("gcp source 'e2e-gcp': "),
        "{identities:?}"
    );
    let token = test_token();
    assert!(
        !doc.to_string().contains(&token),
        "the token leaked into the scan"
    );
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(std::fs::read(&config).unwrap());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(meta["config_digest"], hex);

    // Scopes.
    let scopes: BTreeSet<(String, String)> = doc["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["provider"].as_str().unwrap().into(),
                v["id"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        scopes,
        BTreeSet::from([("azure".into(), SUB.into()), ("gcp".into(), PROJECT.into())])
    );

    // Resources: everything from the mocks exactly, plus this run's containers and
    // buckets (the emulators are shared with other tests, which leave theirs behind).
    let ours = |r: &&Value| {
        let name = r["name"].as_str().unwrap();
        let shared = r["resource_type"]
            == "Microsoft.Storage/storageAccounts/blobServices/containers"
            || r["resource_type"] == "storage.googleapis.com/Bucket";
        !shared || name.starts_with(&run_id)
    };
    let resources: Vec<&Value> = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(ours)
        .collect();
    type Row = (
        String,
        String,
        String,
        Option<String>,
        Vec<String>,
        BTreeMap<String, String>,
    );
    let mut got: Vec<Row> = resources
        .iter()
        .map(|r| {
            (
                r["provider"].as_str().unwrap().to_string(),
                r["name"].as_str().unwrap().to_string(),
                r["resource_type"].as_str().unwrap().to_string(),
                r["location"].as_str().map(str::to_string),
                serde_json::from_value(r.get("replica_locations").cloned().unwrap_or(json!([])))
                    .unwrap(),
                serde_json::from_value(r.get("tags").cloned().unwrap_or(json!({}))).unwrap(),
            )
        })
        .collect();
    got.sort();
    let tags = |kv: &[(&str, &str)]| -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let row = |p: &str, n: &str, t: &str, l: &str, tg: &[(&str, &str)]| -> Row {
        (
            p.into(),
            n.into(),
            t.into(),
            Some(l.into()),
            vec![],
            tags(tg),
        )
    };
    let mut want = vec![
        row(
            "azure",
            ACCOUNT,
            "Microsoft.Storage/storageAccounts",
            "westeurope",
            &[],
        ),
        row(
            "azure",
            "vm-web",
            "Microsoft.Compute/virtualMachines",
            "eastasia",
            &[],
        ),
        row(
            "azure",
            "cosmos-br",
            "Microsoft.DocumentDB/databaseAccounts",
            "brazilsouth",
            &[("owner", "team-web")],
        ),
        row(
            "azure",
            &dossiers,
            "Microsoft.Storage/storageAccounts/blobServices/containers",
            "westeurope",
            &[("verwerking", "VA-E2E-001")],
        ),
        row(
            "azure",
            &scratch,
            "Microsoft.Storage/storageAccounts/blobServices/containers",
            "westeurope",
            &[],
        ),
        row(
            "gcp",
            "vm-batch",
            "compute.googleapis.com/Instance",
            "asia-east2",
            &[("verwerking", "va-e2e-999")],
        ),
        row(
            "gcp",
            &eu_bucket,
            "storage.googleapis.com/Bucket",
            "europe-west4",
            &[],
        ),
        row(
            "gcp",
            &asia_bucket,
            "storage.googleapis.com/Bucket",
            "asia",
            &[("verwerking", "va-e2e-001")],
        ),
    ];
    want.sort();
    assert_eq!(got, want);

    // Coverage: every API of both scopes scanned.
    let coverage: BTreeSet<(String, String, String, String)> = doc["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["provider"].as_str().unwrap().into(),
                c["scope_id"].as_str().unwrap().into(),
                c["service"].as_str().unwrap().into(),
                c["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(coverage.iter().all(|c| c.3 == "scanned"), "{coverage:?}");
    for service in ["cloudasset", "storage", "cloudresourcemanager"] {
        assert!(
            coverage.contains(&(
                "gcp".into(),
                PROJECT.into(),
                service.into(),
                "scanned".into()
            )),
            "{service} missing in {coverage:?}"
        );
    }
    assert!(
        coverage
            .iter()
            .any(|c| c.0 == "azure" && c.2.starts_with("blob/")),
        "{coverage:?}"
    );

    // Unregistered data-bearing resources and non-EEA placements, as the summary
    // computed them: resources of other tests inherit an activity (resource group tag,
    // project label), so the unregistered count is exactly ours.
    assert!(
        scan_out.contains("unregistered data-bearing resources: 3 "),
        "expected vm-web, cosmos-br (no activity) and vm-batch (unknown id va-e2e-999):\n{scan_out}"
    );
    let catalog = Catalog::builtin().unwrap();
    let date = chrono::NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
    let mut non_eea: Vec<(String, &str)> = got
        .iter()
        .filter_map(|(p, n, _, l, _, _)| {
            let provider: Provider = p.parse().unwrap();
            let c = catalog
                .classify(
                    provider,
                    l.as_deref().unwrap(),
                    date,
                    ClassifyOptions::default(),
                )
                .class;
            (c != JurisdictionClass::Eea).then(|| (n.clone(), c.as_str()))
        })
        .collect();
    non_eea.sort();
    let mut want_non_eea = vec![
        // Hong Kong (eastasia, asia-east2, part of ASIA) is C2000-excluded with China.
        (asia_bucket.clone(), "c2000-excluded"),
        ("cosmos-br".to_string(), "adequacy"),
        ("vm-batch".to_string(), "c2000-excluded"),
        ("vm-web".to_string(), "c2000-excluded"),
    ];
    want_non_eea.sort();
    assert_eq!(non_eea, want_non_eea);
    let c2000_line = scan_out
        .lines()
        .find(|l| l.trim_start().starts_with("c2000-excluded"))
        .unwrap_or_else(|| panic!("no c2000-excluded line in:\n{scan_out}"));
    let n: usize = c2000_line
        .split_whitespace()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 3, "{scan_out}");

    // The evaluating commands on the committed scan: findings and the yearly report.
    let id_of = |name: &str| -> String {
        resources
            .iter()
            .find(|r| r["name"] == name)
            .and_then(|r| r["id"].as_str())
            .unwrap_or_else(|| panic!("no resource {name}"))
            .to_string()
    };
    let findings = run(
        vec![
            "--config".into(),
            s(&config).into(),
            "findings".into(),
            "--format".into(),
            "json".into(),
        ],
        vec![],
    )
    .await;
    // Exit 4: blocking findings (C2000) remain, as the estate was seeded to have.
    assert_eq!(
        findings.status.code(),
        Some(4),
        "{}",
        text(&findings.stderr)
    );
    let findings: Value = serde_json::from_slice(&findings.stdout).expect("findings JSON");
    let with_code = |code: &str| -> BTreeSet<String> {
        findings
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == code)
            .filter_map(|f| f["resource_id"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(
        with_code("CB-UNREG"),
        BTreeSet::from([id_of("vm-web"), id_of("cosmos-br"), id_of("vm-batch")])
    );
    assert_eq!(
        with_code("CB-UNKNOWN-ID"),
        BTreeSet::from([id_of("vm-batch")])
    );
    // Who created them: the Activity Log names the Cosmos DB account's creator; the VM in
    // Hong Kong has no write in the last 90 days; the Google VM dates from before the
    // Admin Activity log's 400 days (no request needed).
    let unreg = run(
        vec![
            "--config".into(),
            s(&config).into(),
            "unregistered".into(),
            "--format".into(),
            "json".into(),
        ],
        vec![],
    )
    .await;
    assert!(unreg.status.success(), "{}", text(&unreg.stderr));
    let unreg: Value = serde_json::from_slice(&unreg.stdout).unwrap();
    let creator_of = |name: &str| -> (String, String) {
        let r = unreg
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed: {unreg:#}"));
        (
            r["creator"].as_str().unwrap().to_string(),
            r["creator_source"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        creator_of("cosmos-br"),
        (
            "m.bakker@minvz.example".to_string(),
            "activity-log:Microsoft.DocumentDB/databaseAccounts/write".to_string()
        )
    );
    assert_eq!(creator_of("vm-web").0, "unknown (older than 90 days)");
    assert_eq!(creator_of("vm-batch").0, "unknown (older than 400 days)");
    let ours_ids: BTreeSet<String> = resources
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let c2000: BTreeSet<String> = with_code("CB-C2000")
        .intersection(&ours_ids)
        .cloned()
        .collect();
    assert_eq!(
        c2000,
        BTreeSet::from([id_of("vm-web"), id_of("vm-batch"), id_of(&asia_bucket)])
    );
    let report_dir = dir.path().join("report");
    std::fs::create_dir_all(&report_dir).unwrap();
    let report = run(
        vec![
            "--config".into(),
            s(&config).into(),
            "report".into(),
            "--year".into(),
            "2026".into(),
            "--out".into(),
            s(&report_dir).into(),
        ],
        vec![],
    )
    .await;
    assert!(report.status.success(), "{}", text(&report.stderr));
    let written = text(&report.stdout);
    let xlsx = written
        .lines()
        .find(|l| l.ends_with(".xlsx"))
        .unwrap_or_else(|| panic!("no xlsx in:\n{written}"));
    assert!(std::fs::metadata(xlsx).unwrap().len() > 0);

    // A second scan of the same period gets the next id; the chain verifies.
    let again = run(
        vec![
            "--config".into(),
            s(&config).into(),
            "scan".into(),
            "--period".into(),
            "2026-03".into(),
            "--quiet".into(),
        ],
        env,
    )
    .await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains("scan 2026-03-0002 committed"));
    let verify = run(
        vec![
            "verify".into(),
            "--store".into(),
            s(&dir.path().join("scans.db")).into(),
        ],
        vec![],
    )
    .await;
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_endpoint_fails_fast_naming_source_and_endpoint_and_commits_nothing() {
    // A port that was just free: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cloudcensus.toml");
    std::fs::write(
        &config,
        format!(
            r#"organisation = "Ministerie van Voorbeeldzaken"
store = "scans.db"

[[azure]]
name = "dead-azure"
credential = "token-env"
access_token_env = "{TOKEN_VAR}"
arm_endpoint = "{dead}"

[[gcp]]
name = "dead-gcp"
scope = "projects/{PROJECT}"
credentials = "anonymous"
asset_endpoint = "{dead}"
resourcemanager_endpoint = "{dead}"
storage_endpoint = "{dead}"
"#
        ),
    )
    .unwrap();
    let started = Instant::now();
    let out = run(
        vec![
            "--config".into(),
            s(&config).into(),
            "scan".into(),
            "--quiet".into(),
        ],
        vec![(TOKEN_VAR.into(), test_token())],
    )
    .await;
    let took = started.elapsed();
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert!(
        stdout.contains("nothing could be scanned; nothing committed"),
        "{stdout}"
    );
    assert!(stdout.contains("azure source 'dead-azure'"), "{stdout}");
    assert!(stdout.contains(&dead), "{stdout}");
    assert!(stdout.contains("exit 1: failed"), "{stdout}");
    // The store holds no scan.
    let scans = run(
        vec![
            "scans".into(),
            "--store".into(),
            s(&dir.path().join("scans.db")).into(),
            "--format".into(),
            "json".into(),
        ],
        vec![],
    )
    .await;
    if scans.status.success() {
        let v: Value = serde_json::from_slice(&scans.stdout).unwrap();
        assert_eq!(v.as_array().map(Vec::len), Some(0), "{v}");
    }
}

/// A mock Resource Manager that answers the subscription list and then hangs on every
/// other call, so the scan is surely in progress when SIGINT arrives.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_scan_commits_nothing_and_leaves_the_store_intact() {
    let arm = MockServer::start().await;
    mount_json(
        &arm,
        "/subscriptions".into(),
        json!({"value": [{"id": format!("/subscriptions/{SUB}"), "subscriptionId": SUB,
            "displayName": "slow", "state": "Enabled"}]}),
    )
    .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": []}))
                .set_delay(Duration::from_secs(60)),
        )
        .with_priority(10)
        .mount(&arm)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("scans.db");
    // One committed scan first (through import), to prove the store stays as it was.
    let export = dir.path().join("seed.json");
    std::fs::write(
        &export,
        json!({"meta": {"organisation": "Ministerie van Voorbeeldzaken", "period": "2026-02",
            "started_at": "2026-02-01T00:00:00Z", "finished_at": "2026-02-01T00:10:00Z",
            "tool_version": "0.1.0"}, "scopes": [], "groups": [], "resources": [], "coverage": []})
        .to_string(),
    )
    .unwrap();
    let imported = run(
        vec![
            "import".into(),
            s(&export).into(),
            "--store".into(),
            s(&store).into(),
        ],
        vec![],
    )
    .await;
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let config = dir.path().join("cloudcensus.toml");
    std::fs::write(
        &config,
        format!(
            "organisation = \"Ministerie van Voorbeeldzaken\"\nstore = \"scans.db\"\n\n[[azure]]\nname = \"slow\"\ncredential = \"token-env\"\naccess_token_env = \"{TOKEN_VAR}\"\narm_endpoint = \"{}\"\n",
            arm.uri()
        ),
    )
    .unwrap();
    let bin = assert_cmd::cargo::cargo_bin("cloudcensus");
    let child = std::process::Command::new(bin)
        .args([
            "--config",
            s(&config),
            "scan",
            "--quiet",
            "--period",
            "2026-03",
        ])
        .env(TOKEN_VAR, test_token())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the scan has asked for the subscription's resources (it is mid-scan).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let requests = arm.received_requests().await.unwrap_or_default();
        if requests.iter().any(|r| r.url.path().contains("/resources")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the scan never reached the inventory"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "did not stop promptly"
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(130),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("interrupted: nothing committed"),
        "{stdout}"
    );
    let scans = run(
        vec![
            "scans".into(),
            "--store".into(),
            s(&store).into(),
            "--format".into(),
            "json".into(),
        ],
        vec![],
    )
    .await;
    let v: Value = serde_json::from_slice(&scans.stdout).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["2026-02-0001"]);
    let verify = run(
        vec!["verify".into(), "--store".into(), s(&store).into()],
        vec![],
    )
    .await;
    assert!(verify.status.success(), "{}", text(&verify.stdout));
    // The writer lock is free again: another writer may start.
    let again = run(
        vec![
            "import".into(),
            s(&export).into(),
            "--store".into(),
            s(&store).into(),
        ],
        vec![],
    )
    .await;
    assert!(again.status.success(), "{}", text(&again.stderr));
}

#[test]
fn config_example_prints_a_file_that_config_check_accepts() {
    let out = cloudcensus().args(["config", "example"]).output().unwrap();
    assert!(out.status.success());
    let example = text(&out.stdout);
    assert!(example.contains("[[azure]]") && example.contains("[[gcp]]"));
    let dir = tempfile::tempdir().unwrap();
    // The example names the bundled register relative to the repository root.
    let register = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/register.csv");
    let path = dir.path().join("cloudcensus.toml");
    std::fs::write(
        &path,
        example.replace("examples/register.xlsx", s(&register)),
    )
    .unwrap();
    let check = cloudcensus()
        .args(["--config", s(&path), "config", "check"])
        .output()
        .unwrap();
    let stdout = text(&check.stdout);
    assert!(check.status.success(), "{stdout}{}", text(&check.stderr));
    assert!(
        stdout.contains("minvz-azure") && stdout.contains("minvz-gcp"),
        "{stdout}"
    );
    assert!(stdout.contains("sources:      2"), "{stdout}");
}

#[test]
fn config_check_lists_every_problem_with_lines_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cloudcensus.toml");
    std::fs::write(
        &path,
        "organisation = \"A\"\nregister = \"missing.csv\"\nstoer = \"x\"\n\n[[gcp]]\nname = \"g\"\nscope = \"project/x\"\n",
    )
    .unwrap();
    let out = cloudcensus()
        .args(["--config", s(&path), "config", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("line 3: unknown key 'stoer'"), "{stderr}");
    assert!(stderr.contains("missing.csv does not exist"), "{stderr}");
    assert!(stderr.contains("line 5: gcp[0] ('g'): scope"), "{stderr}");
}

#[test]
fn scan_without_a_config_file_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = cloudcensus()
        .current_dir(dir.path())
        .args(["scan"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("cloudcensus config example"), "{stderr}");
    assert!(!dir.path().join("cloudcensus.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_lists_what_would_be_scanned_and_what_is_denied_and_writes_nothing() {
    let arm = arm_mock().await;
    let gcp_api = MockServer::start().await;
    mount_json(
        &gcp_api,
        format!("/v3/projects/{PROJECT}"),
        json!({"name": "projects/777777777777", "projectId": PROJECT, "state": "ACTIVE"}),
    )
    .await;
    // Cloud Asset refuses (the REST reference's error body); Cloud Storage answers.
    Mock::given(method("GET"))
        .and(path(format!("/v1/projects/{PROJECT}:searchAllResources")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "code": 403, "status": "PERMISSION_DENIED",
            "message": "The caller does not have permission"}})))
        .mount(&gcp_api)
        .await;
    mount_json(
        &gcp_api,
        "/storage/v1/b".into(),
        json!({"kind": "storage#buckets"}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cloudcensus.toml");
    std::fs::write(
        &config,
        format!(
            r#"organisation = "Ministerie van Voorbeeldzaken"
store = "scans.db"

[[azure]]
name = "e2e-azure"
credential = "token-env"
access_token_env = "{TOKEN_VAR}"
arm_endpoint = "{}"
subscriptions = ["{SUB}"]

[[gcp]]
name = "e2e-gcp"
scope = "projects/{PROJECT}"
credentials = "anonymous"
asset_endpoint = "{gcp}"
resourcemanager_endpoint = "{gcp}"
storage_endpoint = "{gcp}"
"#,
            arm.uri(),
            gcp = gcp_api.uri()
        ),
    )
    .unwrap();
    let out = run(
        vec![
            "--config".into(),
            s(&config).into(),
            "scan".into(),
            "--dry-run".into(),
        ],
        vec![(TOKEN_VAR.into(), test_token())],
    )
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("dry run: nothing was written"), "{stdout}");
    assert!(
        stdout.contains("identity: azure source 'e2e-azure'"),
        "{stdout}"
    );
    let line = |needle: &str| {
        stdout
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle} in:\n{stdout}"))
            .to_string()
    };
    assert!(line(" cloudasset ").contains("denied"), "{stdout}");
    assert!(line(" storage ").contains("would be scanned"), "{stdout}");
    assert!(
        line("Microsoft.Resources/resources").contains("would be scanned"),
        "{stdout}"
    );
    assert!(
        !dir.path().join("scans.db").exists(),
        "a dry run created the store"
    );
}

/// The AWS part of the end-to-end run: the real binary scans moto (seeded by the AWS
/// connector's seeding script) through the standard credential chain, and the S3 traps
/// (legacy `EU` constraint, null = us-east-1, replication to us-east-1) arrive in the
/// store, the findings and the unregistered list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_of_aws_via_moto_places_s3_traps_and_replicas_and_finds_unregistered_use() {
    let moto = emulator("CLOUDCENSUS_TEST_MOTO", "moto");
    // moto's default account for the static "testing" keys; the connector's own moto
    // tests use fresh account ids, so nothing else writes here.
    let account = "123456789012";
    let seed = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/connectors/aws/tests/seed_moto.py"
        ))
        .args([moto.as_str(), "estate", account])
        .output()
        .expect("python3 with boto3 (scripts/requirements-test.txt) on PATH");
    assert!(
        seed.status.success(),
        "seeding failed: {}",
        text(&seed.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let header = REGISTER_HEADER;
    let row = |id: &str, name: &str, pd: &str, locs: &str| {
        format!(
            "{id};{name};DG Test;Minister van Voorbeeldzaken;test;wettelijke verplichting;{pd};nee;;nee;geen;ongerubriceerd;ja;primair proces;AWS;Amazon Web Services EMEA SARL;IaaS;publiek;{locs};9a;;2025-02-10;n.v.t.;;nee;;;;ja;ja;voldoet;https://open.overheid.nl/x;SG MinVZ;2025-03-01;in gebruik;"
        )
    };
    let rows = [
        row("VA-0001", "Dossiers", "ja", "eu-west-1"),
        row("VA-0002", "Rapportages", "ja", "eu-west-1"),
        row("VA-0004", "Webportaal", "ja", "eu-west-1"),
    ];
    std::fs::write(
        dir.path().join("register.csv"),
        format!("{header}\n{}\n", rows.join("\n")),
    )
    .unwrap();
    // moto has no Cloud Control API: a mock serves it, with one untagged Redshift
    // cluster that neither the tagging API nor moto's services would show.
    let cloud_control = cloudcensus_faultproxy::cloudcontrol::CloudControlMock::start(100)
        .await
        .unwrap();
    cloud_control.add(
        "eu-west-1",
        "AWS::Redshift::Cluster",
        None,
        "warehouse",
        None,
    );
    // moto has no CloudTrail LookupEvents either: the event-history mock knows who created
    // the untagged bucket (in its own region, eu-central-1); the
    // warehouse's creation is older than the history.
    let trail = cloudcensus_faultproxy::cloudtrail::CloudTrailMock::start(50)
        .await
        .unwrap();
    let p = format!("cc{account}");
    let created = chrono::Utc::now() - chrono::Duration::days(3);
    let creator = cloudcensus_faultproxy::cloudtrail::Identity::AssumedRole {
        account: account.to_string(),
        role: "AWSReservedSSO_Ontwikkelaar_5e1f".to_string(),
        session: "p.dekker@minvz.example".to_string(),
    };
    trail.add(
        "eu-central-1",
        cloudcensus_faultproxy::cloudtrail::TrailEvent::new(
            "CreateBucket",
            "s3.amazonaws.com",
            created,
            creator.clone(),
        )
        .resource("AWS::S3::Bucket", &format!("{p}-untagged")),
    );
    std::fs::write(
        dir.path().join("cloudcensus.toml"),
        format!(
            r#"organisation = "Ministerie van Voorbeeldzaken"
register = "register.csv"
store = "scans.db"
max_concurrency = 8

[[aws]]
name = "moto"
endpoint_url = "{moto}"
endpoint_urls = {{ cloudcontrol = "{cloudcontrol}", cloudtrail = "{cloudtrail}" }}
regions = ["eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-2", "eu-south-2"]
"#,
            cloudcontrol = cloud_control.url(),
            cloudtrail = trail.url()
        ),
    )
    .unwrap();
    let config = dir.path().join("cloudcensus.toml");
    let env = vec![
        ("AWS_ACCESS_KEY_ID".to_string(), "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), "testing".to_string()),
        ("AWS_REGION".to_string(), "us-east-1".to_string()),
    ];
    let out = run(
        vec![
            "--config".into(),
            s(&config).into(),
            "scan".into(),
            "--quiet".into(),
            "--period".into(),
            "2026-11".into(),
        ],
        env.clone(),
    )
    .await;
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "scan failed: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let summary = text(&out.stdout);
    assert!(
        summary.contains("visibility:")
            && summary.contains("resource types listed completely")
            && summary.contains("any other type only when it has or had tags"),
        "{summary}"
    );

    let export = run(
        vec![
            "export".into(),
            "--store".into(),
            s(&dir.path().join("scans.db")).into(),
            "--format".into(),
            "json".into(),
        ],
        vec![],
    )
    .await;
    assert!(export.status.success(), "{}", text(&export.stderr));
    let scan: Value = serde_json::from_slice(&export.stdout).unwrap();
    let find = |name: &str| -> Value {
        scan["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in the scan"))
            .clone()
    };
    assert_eq!(
        find(&format!("{p}-legacy-eu"))["location"],
        "eu-west-1",
        "S3 'EU' constraint"
    );
    assert_eq!(
        find(&format!("{p}-useast"))["location"],
        "us-east-1",
        "S3 null constraint"
    );
    let replicated = find(&format!("{p}-replicated"));
    assert_eq!(replicated["location"], "eu-west-1");
    assert_eq!(
        replicated["replica_locations"],
        serde_json::json!(["us-east-1"])
    );
    assert_eq!(replicated["tags"]["verwerking"], "VA-0002");
    let warehouse = find("warehouse");
    assert_eq!(warehouse["resource_type"], "redshift:cluster");
    assert_eq!(warehouse["location"], "eu-west-1");
    assert_eq!(
        warehouse["id"],
        format!("arn:aws:redshift:eu-west-1:{account}:cluster:warehouse")
    );

    let findings = run(
        vec![
            "--config".into(),
            s(&config).into(),
            "findings".into(),
            "--format".into(),
            "json".into(),
            "--lang".into(),
            "en".into(),
        ],
        vec![],
    )
    .await;
    let f: Value = serde_json::from_slice(&findings.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&findings.stderr)));
    let f = f.as_array().unwrap();
    let unreg: std::collections::BTreeSet<String> = f
        .iter()
        .filter(|x| x["code"] == "CB-UNREG")
        .map(|x| x["resource_id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        unreg.contains(&format!("arn:aws:s3:::{p}-untagged")),
        "{unreg:?}"
    );
    assert!(
        unreg.contains(&format!("arn:aws:s3:::{p}-sydney")),
        "{unreg:?}"
    );
    assert!(
        !unreg.contains(&format!("arn:aws:s3:::{p}-tagged")),
        "tagged VA-0001"
    );
    assert!(
        unreg.contains(&format!(
            "arn:aws:redshift:eu-west-1:{account}:cluster:warehouse"
        )),
        "the untagged cluster only Cloud Control saw is untracked use: {unreg:?}"
    );
    // The replica in us-east-1 is outside the declared eu-west-1: drift for VA-0002.
    assert!(
        f.iter().any(|x| x["code"] == "CB-DRIFT"
            && x["activity_id"] == "VA-0002"
            && x["region"] == "us-east-1"),
        "replica drift missing: {f:#?}"
    );
    // Tags naming activities the register lacks (VA-0003, VA-0005…) are reported.
    assert!(f.iter().any(|x| x["code"] == "CB-UNKNOWN-ID"));

    // Who created them: CloudTrail's answer for the untagged bucket, "older than 90
    // days" for the warehouse whose creation the history no longer holds; every
    // unregistered resource has an answer.
    let unregistered = |args: Vec<String>| async {
        let out = run(args, vec![]).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let args = vec![
        "--config".to_string(),
        s(&config).to_string(),
        "unregistered".to_string(),
        "--format".to_string(),
        "json".to_string(),
    ];
    let rows = unregistered(args.clone()).await;
    let row = |rows: &Value, name: &str| -> Value {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} not unregistered: {rows:#}"))
            .clone()
    };
    let untagged = row(&rows, &format!("{p}-untagged"));
    assert_eq!(
        untagged["creator"],
        format!(
            "arn:aws:sts::{account}:assumed-role/AWSReservedSSO_Ontwikkelaar_5e1f/p.dekker@minvz.example"
        )
    );
    assert_eq!(untagged["creator_source"], "cloudtrail:CreateBucket");
    assert!(untagged["created"].is_string(), "{untagged:#}");
    for r in rows.as_array().unwrap() {
        assert!(
            r["creator"].as_str().is_some_and(|c| !c.trim().is_empty()),
            "a blank creator: {r:#}"
        );
    }
    assert_eq!(
        row(&rows, "warehouse")["creator"],
        "unknown (older than 90 days)"
    );
    // A second scan keeps the final answers instead of asking CloudTrail again (the
    // resources without one, moto's new buckets with no event, are asked again).
    let calls = trail.calls().len();
    assert!(calls > 0);
    let again = run(
        vec![
            "--config".into(),
            s(&config).into(),
            "scan".into(),
            "--quiet".into(),
            "--period".into(),
            "2026-12".into(),
        ],
        env.clone(),
    )
    .await;
    assert!(
        matches!(again.status.code(), Some(0) | Some(3)),
        "{}",
        text(&again.stderr)
    );
    let untagged_name = format!("{p}-untagged");
    let asked_again: Vec<_> = trail.calls()[calls..]
        .iter()
        .filter(|c| {
            c.attribute
                .as_ref()
                .is_some_and(|(_, v)| v.contains(&untagged_name))
        })
        .cloned()
        .collect();
    assert!(asked_again.is_empty(), "asked again: {asked_again:?}");
    let rows = unregistered(args).await;
    let kept = row(&rows, &untagged_name);
    assert_eq!(kept["creator"], untagged["creator"]);
    assert_eq!(
        kept["created"], untagged["created"],
        "the same answer, kept"
    );
}
