//! Services that keep data in a second region (Cosmos DB, Key Vault, Recovery Services
//! and Backup vaults, PostgreSQL/MySQL flexible servers, SQL managed instance failover
//! groups, Event Hubs / Service Bus geo-DR, App Configuration replicas), against a
//! Resource Manager mock serving the fixtures in `tests/fixtures/arm/`. Every mock pins
//! the api-version the connector must send.

use cloudcensus_azure::service;
use cloudcensus_core::{CoverageStatus, Provider, Scope};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use crate::common::*;

const RG: &str = "rg-zaken";
/// The subscription the Service Bus partner namespace lives in (outside the scan).
const SUB_DR: &str = "44444444-4444-4444-4444-444444444444";

fn get(p: String, api: &str) -> MockBuilder {
    Mock::given(method("GET"))
        .and(path(p))
        .and(query_param("api-version", api))
        .and(header("authorization", bearer().as_str()))
}

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn id(provider_type: &str, name: &str) -> String {
    format!("/subscriptions/{SUB_A}/resourceGroups/{RG}/providers/{provider_type}/{name}")
}

/// Which detail answers fail, for the coverage test.
#[derive(Default)]
struct Faults {
    cosmos_denied: bool,
    failover_groups_throttled: bool,
    app_configuration_error: bool,
    service_bus_partner_missing: bool,
}

async fn mount(server: &MockServer, faults: &Faults) {
    let base = server.uri();
    let fx = |name: &str| fixture(name, SUB_A, &base);
    get(
        format!("/subscriptions/{SUB_A}/resourcegroups"),
        "2025-04-01",
    )
    .respond_with(ok(page(serde_json::json!([]), None)))
    .mount(server)
    .await;
    get(format!("/subscriptions/{SUB_A}/resources"), "2025-04-01")
        .and(query_param("$expand", "createdTime"))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ok(fx("resources-page1.json")))
        .expect(1)
        .mount(server)
        .await;
    get(format!("/subscriptions/{SUB_A}/resources"), "2025-04-01")
        .and(query_param("$skiptoken", "zaken2"))
        .respond_with(ok(fx("resources-page2.json")))
        .expect(1)
        .mount(server)
        .await;
    get(
        format!("/subscriptions/{SUB_A}/providers/Microsoft.Storage/storageAccounts"),
        "2023-05-01",
    )
    .respond_with(ok(page(serde_json::json!([]), None)))
    .mount(server)
    .await;

    // Cosmos DB: two pages; the second is throttled once (429 + Retry-After).
    let cosmos = format!("/subscriptions/{SUB_A}/providers/Microsoft.DocumentDB/databaseAccounts");
    if faults.cosmos_denied {
        get(cosmos.clone(), "2025-10-15")
            .respond_with(ResponseTemplate::new(403).set_body_json(arm_error(
                "AuthorizationFailed",
                &format!(
                    "The client '0a0a0a0a-cccc-4ccc-8ccc-000000000001' does not have \
                     authorization to perform action \
                     'Microsoft.DocumentDB/databaseAccounts/read' over scope \
                     '/subscriptions/{SUB_A}' or the scope is invalid."
                ),
            )))
            .mount(server)
            .await;
    } else {
        get(cosmos.clone(), "2025-10-15")
            .and(query_param_is_missing("$skiptoken"))
            .respond_with(ok(fx("cosmos-databaseaccounts-page1.json")))
            .expect(1)
            .mount(server)
            .await;
        get(cosmos.clone(), "2025-10-15")
            .and(query_param("$skiptoken", "c2"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .set_body_json(arm_error(
                        "TooManyRequests",
                        "The request is being throttled as the limit has been reached for operation type - Read.",
                    )),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .expect(1)
            .mount(server)
            .await;
        get(cosmos, "2025-10-15")
            .and(query_param("$skiptoken", "c2"))
            .respond_with(ok(fx("cosmos-databaseaccounts-page2.json")))
            .with_priority(5)
            .expect(1)
            .mount(server)
            .await;
    }
    for (ty, api, file) in [
        (
            "Microsoft.RecoveryServices/vaults",
            "2025-08-01",
            "recoveryservices-vaults.json",
        ),
        (
            "Microsoft.DataProtection/backupVaults",
            "2025-07-01",
            "dataprotection-backupvaults.json",
        ),
        (
            "Microsoft.DBforPostgreSQL/flexibleServers",
            "2025-08-01",
            "postgresql-flexibleservers.json",
        ),
        (
            "Microsoft.DBforMySQL/flexibleServers",
            "2023-12-30",
            "mysql-flexibleservers.json",
        ),
    ] {
        get(format!("/subscriptions/{SUB_A}/providers/{ty}"), api)
            .respond_with(ok(fx(file)))
            .expect(1)
            .mount(server)
            .await;
    }

    let groups = format!(
        "/subscriptions/{SUB_A}/resourceGroups/{RG}/providers/Microsoft.Sql/locations/westeurope/instanceFailoverGroups"
    );
    if faults.failover_groups_throttled {
        get(groups, "2023-08-01")
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "0")
                    .set_body_json(arm_error("TooManyRequests", "throttled")),
            )
            .expect(3)
            .mount(server)
            .await;
    } else {
        get(groups, "2023-08-01")
            .respond_with(ok(fx("sql-instancefailovergroups.json")))
            .expect(1)
            .mount(server)
            .await;
    }

    get(
        format!(
            "{}/disasterRecoveryConfigs",
            id("Microsoft.EventHub/namespaces", "evhns-zaken")
        ),
        "2024-01-01",
    )
    .respond_with(ok(fx("eventhub-disasterrecoveryconfigs.json")))
    .mount(server)
    .await;
    // The secondary namespace of the pairing answers with no configs of its own here.
    get(
        format!(
            "{}/disasterRecoveryConfigs",
            id("Microsoft.EventHub/namespaces", "evhns-zaken-dr")
        ),
        "2024-01-01",
    )
    .respond_with(ok(page(serde_json::json!([]), None)))
    .mount(server)
    .await;
    get(
        format!(
            "{}/disasterRecoveryConfigs",
            id("Microsoft.ServiceBus/namespaces", "sbns-zaken")
        ),
        "2024-01-01",
    )
    .respond_with(ok(fx("servicebus-disasterrecoveryconfigs.json")))
    .mount(server)
    .await;
    let partner = format!(
        "/subscriptions/{SUB_DR}/resourceGroups/rg-uitwijk/providers/Microsoft.ServiceBus/namespaces/sbns-uitwijk"
    );
    if faults.service_bus_partner_missing {
        get(partner, "2024-01-01")
            .respond_with(ResponseTemplate::new(404).set_body_json(arm_error(
                "ResourceNotFound",
                "The Resource 'Microsoft.ServiceBus/namespaces/sbns-uitwijk' under resource group 'rg-uitwijk' was not found.",
            )))
            .mount(server)
            .await;
    } else {
        get(partner, "2024-01-01")
            .respond_with(ok(fx("servicebus-namespace-partner.json")))
            .expect(1)
            .mount(server)
            .await;
    }

    let replicas = format!(
        "{}/replicas",
        id(
            "Microsoft.AppConfiguration/configurationStores",
            "appcs-zaken"
        )
    );
    if faults.app_configuration_error {
        get(replicas, "2024-06-01")
            .respond_with(ResponseTemplate::new(500).set_body_json(arm_error(
                "InternalServerError",
                "An internal server error occurred.",
            )))
            .expect(3)
            .mount(server)
            .await;
    } else {
        get(replicas, "2024-06-01")
            .respond_with(ok(fx("appconfiguration-replicas.json")))
            .expect(1)
            .mount(server)
            .await;
    }
}

fn replicas_of(scan: &Scan) -> Vec<(String, Option<String>, Vec<String>)> {
    let mut v: Vec<_> = scan
        .resources
        .iter()
        .map(|r| {
            let mut reps = r.replica_locations.clone();
            reps.sort();
            (r.name.clone(), r.location.clone(), reps)
        })
        .collect();
    v.sort();
    v
}

fn rep(name: &str, loc: &str, replicas: &[&str]) -> (String, Option<String>, Vec<String>) {
    (
        name.into(),
        Some(loc.into()),
        replicas.iter().map(|s| s.to_string()).collect(),
    )
}

#[tokio::test]
async fn every_second_region_service_is_observed_in_both_regions() {
    let server = MockServer::start().await;
    mount(&server, &Faults::default()).await;
    let c = connect(&config(&server.uri()), &[]).await;
    let scan = scan(&c, &[Scope::new(Provider::Azure, SUB_A)]).await;

    assert_eq!(
        replicas_of(&scan),
        [
            // App Configuration: its two replicas.
            rep(
                "appcs-zaken",
                "westeurope",
                &["northeurope", "swedencentral"]
            ),
            // Backup vault with a geo-redundant vault store: the region pair.
            rep("bv-zaken", "westeurope", &["northeurope"]),
            // Cosmos DB: every region of the account (read and write locations).
            rep("cosmos-zaken", "westeurope", &["northeurope"]),
            // Event Hubs geo-DR: the partner namespace (a bare name, same resource group).
            rep("evhns-zaken", "westeurope", &["northeurope"]),
            rep("evhns-zaken-dr", "northeurope", &[]),
            // Key Vault: always the region pair, no API call.
            rep("kv-zaken", "westeurope", &["northeurope"]),
            // MySQL flexible server with geo-redundant backup: the region pair.
            rep("mysql-zaken", "swedencentral", &["swedensouth"]),
            // PostgreSQL: geo-redundant backup → pair; without it, nothing.
            rep("psql-lokaal", "westeurope", &[]),
            rep("psql-zaken", "westeurope", &["northeurope"]),
            // Recovery Services vault in brazilsouth with GRS: its pair is in the US.
            rep("rsv-zaken", "brazilsouth", &["southcentralus"]),
            // Service Bus geo-DR partner in another subscription, read by a GET.
            rep("sbns-zaken", "westeurope", &["germanywestcentral"]),
            // SQL managed instance in a failover group with a North Europe partner.
            rep("sqlmi-zaken", "westeurope", &["northeurope"]),
        ]
    );
    let rsv = scan
        .resources
        .iter()
        .find(|r| r.name == "rsv-zaken")
        .unwrap();
    assert_eq!(
        rsv.all_locations().collect::<Vec<_>>(),
        ["brazilsouth", "southcentralus"]
    );

    let s = |svc: &str, st: &str| (SUB_A.to_string(), svc.to_string(), st.to_string());
    assert_eq!(
        coverage_triples(&scan),
        [
            s(service::APP_CONFIGURATION_REPLICAS, "scanned"),
            s(service::MYSQL_FLEXIBLE, "scanned"),
            s(service::POSTGRESQL_FLEXIBLE, "scanned"),
            s(service::BACKUP_VAULTS, "scanned"),
            s(service::COSMOS_DB, "scanned"),
            s(service::EVENT_HUB_GEO_DR, "scanned"),
            s(service::RECOVERY_SERVICES_VAULTS, "scanned"),
            s(service::RESOURCE_GROUPS, "scanned"),
            s(service::RESOURCES, "scanned"),
            s(service::SERVICE_BUS_GEO_DR, "scanned"),
            s(service::SQL_INSTANCE_FAILOVER_GROUPS, "scanned"),
            s(service::STORAGE_ACCOUNTS, "scanned"),
        ]
    );
    // The `expect` counts (one 429 then the Cosmos DB page, one call per list) are
    // verified when the mock drops.
}

#[tokio::test]
async fn a_failed_detail_call_is_coverage_and_leaves_only_that_second_region_unknown() {
    let server = MockServer::start().await;
    mount(
        &server,
        &Faults {
            cosmos_denied: true,
            failover_groups_throttled: true,
            app_configuration_error: true,
            service_bus_partner_missing: true,
        },
    )
    .await;
    let c = connect(&config(&server.uri()), &[]).await;
    let scan = scan(&c, &[Scope::new(Provider::Azure, SUB_A)]).await;

    // Every resource is still observed; only the failed services lack their replicas.
    let reps = replicas_of(&scan);
    assert_eq!(reps.len(), 12, "{reps:?}");
    for (name, want) in [
        ("cosmos-zaken", &[][..]),
        ("sqlmi-zaken", &[]),
        ("appcs-zaken", &[]),
        ("sbns-zaken", &[]),
        ("kv-zaken", &["northeurope"]),
        ("rsv-zaken", &["southcentralus"]),
        ("evhns-zaken", &["northeurope"]),
    ] {
        let got = &reps.iter().find(|r| r.0 == name).unwrap().2;
        assert_eq!(got, want, "{name}");
    }

    let cov = |svc: &str| {
        scan.coverage
            .iter()
            .find(|c| c.service == svc)
            .unwrap_or_else(|| panic!("no coverage for {svc}: {:?}", scan.coverage))
    };
    for (svc, status, needle) in [
        (
            service::COSMOS_DB,
            CoverageStatus::Denied,
            "HTTP 403 AuthorizationFailed",
        ),
        (
            service::SQL_INSTANCE_FAILOVER_GROUPS,
            CoverageStatus::Throttled,
            "gave up after 3 attempts",
        ),
        (
            service::APP_CONFIGURATION_REPLICAS,
            CoverageStatus::Error,
            "HTTP 500 InternalServerError",
        ),
        (
            service::SERVICE_BUS_GEO_DR,
            CoverageStatus::Error,
            "HTTP 404 ResourceNotFound",
        ),
    ] {
        let c = cov(svc);
        assert_eq!(c.status, status, "{c:?}");
        let msg = c.message.as_deref().unwrap();
        assert!(msg.contains(needle), "{msg}");
        assert!(
            msg.contains("second regions are not known (needs "),
            "{msg}"
        );
    }
    let cosmos_msg = cov(service::COSMOS_DB).message.clone().unwrap();
    assert!(
        cosmos_msg.contains("Microsoft.DocumentDB/databaseAccounts/read"),
        "{cosmos_msg}"
    );
    for svc in [
        service::RESOURCES,
        service::RECOVERY_SERVICES_VAULTS,
        service::EVENT_HUB_GEO_DR,
    ] {
        assert_eq!(cov(svc).status, CoverageStatus::Scanned, "{svc}");
    }
}
