//! ARM mode against a Resource Manager mock: subscriptions over two pages, resources
//! over two pages with a throttled page, a 503 that is retried, GRS storage in
//! brazilsouth with its secondary in southcentralus, an unregistered resource provider,
//! a subscription the identity may not read, and SQL geo-replication.

use cloudcensus_azure::service;
use cloudcensus_core::{Category, Connector, CoverageStatus, Provider};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

fn get(p: String) -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path(p))
        .and(header("authorization", bearer().as_str()))
}

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn denied(sub: &str, action: &str) -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_json(arm_error(
        "AuthorizationFailed",
        &format!(
            "The client '0a0a0a0a-cccc-4ccc-8ccc-000000000001' with object id \
             '0b0b0b0b-dddd-4ddd-8ddd-000000000002' does not have authorization to perform \
             action '{action}' over scope '/subscriptions/{sub}' or the scope is invalid. \
             If access was recently granted, please refresh your credentials."
        ),
    ))
}

/// Subscriptions, resource groups and SQL links: shared by the ARM and Graph tests.
pub async fn mount_common(server: &MockServer) {
    let base = server.uri();
    get("/subscriptions".into())
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ok(page(
            json!([
                {"id": format!("/subscriptions/{SUB_A}"), "subscriptionId": SUB_A,
                 "tenantId": "0c0c0c0c-eeee-4eee-8eee-000000000003",
                 "displayName": "Ministerie Productie", "state": "Enabled",
                 "tags": {"verwerking": "VA-2024-017", "eigenaar": "DIO"},
                 "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                   "quotaId": "EnterpriseAgreement_2014-09-01", "spendingLimit": "Off"},
                 "authorizationSource": "RoleBased"},
                {"id": format!("/subscriptions/{SUB_B}"), "subscriptionId": SUB_B,
                 "tenantId": "0c0c0c0c-eeee-4eee-8eee-000000000003",
                 "displayName": "Ministerie Brazilië", "state": "Enabled",
                 "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                   "quotaId": "EnterpriseAgreement_2014-09-01", "spendingLimit": "Off"},
                 "authorizationSource": "RoleBased"}
            ]),
            Some(format!(
                "{base}/subscriptions?api-version=2022-12-01&%24skiptoken=sub2"
            )),
        )))
        .expect(1)
        .mount(server)
        .await;
    get("/subscriptions".into())
        .and(query_param("$skiptoken", "sub2"))
        .respond_with(ok(page(
            json!([{"id": format!("/subscriptions/{SUB_C}"), "subscriptionId": SUB_C,
                    "tenantId": "0c0c0c0c-eeee-4eee-8eee-000000000003",
                    "displayName": "Afgeschermd", "state": "Enabled",
                    "authorizationSource": "RoleBased"}]),
            None,
        )))
        .expect(1)
        .mount(server)
        .await;

    // Resource groups.
    get(format!("/subscriptions/{SUB_A}/resourcegroups"))
        .respond_with(ok(page(
            json!([
                {"id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-web"), "name": "rg-web",
                 "type": "Microsoft.Resources/resourceGroups", "location": "westeurope",
                 "tags": {"verwerking": "VA-2024-031"},
                 "properties": {"provisioningState": "Succeeded"}},
                {"id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-data"), "name": "rg-data",
                 "type": "Microsoft.Resources/resourceGroups", "location": "westeurope",
                 "properties": {"provisioningState": "Succeeded"}}
            ]),
            None,
        )))
        .mount(server)
        .await;
    // A transient 503 on the first attempt: retried with backoff.
    get(format!("/subscriptions/{SUB_B}/resourcegroups"))
        .respond_with(ResponseTemplate::new(503).set_body_json(arm_error(
            "ServiceUnavailable",
            "The service is temporarily unavailable.",
        )))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    get(format!("/subscriptions/{SUB_B}/resourcegroups"))
        .respond_with(ok(page(
            json!([{"id": format!("/subscriptions/{SUB_B}/resourceGroups/rg-br"), "name": "rg-br",
                    "type": "Microsoft.Resources/resourceGroups", "location": "brazilsouth",
                    "tags": {"verwerking": "VA-2025-002"},
                    "properties": {"provisioningState": "Succeeded"}}]),
            None,
        )))
        .with_priority(5)
        .mount(server)
        .await;
    get(format!("/subscriptions/{SUB_C}/resourcegroups"))
        .respond_with(denied(
            SUB_C,
            "Microsoft.Resources/subscriptions/resourceGroups/read",
        ))
        .mount(server)
        .await;

    // SQL geo-replication: appdb in westeurope has a secondary in North Europe.
    get(format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sqlsrv/databases/appdb/replicationLinks"
    ))
    .and(query_param("api-version", "2023-08-01"))
    .respond_with(ok(page(
        json!([{
            "id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sqlsrv/databases/appdb/replicationLinks/5b301b68-03f6-4d2b-b73d-1c7a1b5c3e8f"),
            "name": "5b301b68-03f6-4d2b-b73d-1c7a1b5c3e8f",
            "type": "Microsoft.Sql/servers/databases/replicationLinks",
            "properties": {"partnerServer": "sqlsrv-dr", "partnerDatabase": "appdb",
              "partnerLocation": "North Europe", "role": "Primary", "partnerRole": "Secondary",
              "replicationMode": "ASYNC", "replicationState": "CATCH_UP",
              "isTerminationAllowed": true, "linkType": "GEO"}
        }]),
        None,
    )))
    .mount(server)
    .await;
}

pub fn sql_db() -> serde_json::Value {
    json!({"id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sqlsrv/databases/appdb"),
           "name": "sqlsrv/appdb", "type": "Microsoft.Sql/servers/databases",
           "sku": {"name": "GP_Gen5", "tier": "GeneralPurpose", "family": "Gen5", "capacity": 2},
           "kind": "v12.0,user,vcore", "location": "westeurope",
           "createdTime": "2024-03-01T09:15:00.1234567Z",
           "tags": {"verwerking": "VA-2024-017"}})
}

pub fn storage_resource(name: &str, sku: &str, location: &str) -> serde_json::Value {
    json!({"id": format!("/subscriptions/{SUB_B}/resourceGroups/rg-br/providers/Microsoft.Storage/storageAccounts/{name}"),
           "name": name, "type": "Microsoft.Storage/storageAccounts",
           "sku": {"name": sku, "tier": "Standard"}, "kind": "StorageV2",
           "location": location, "tags": {}})
}

/// The scan every ARM-mode assertion below is about.
pub fn expected_rows() -> Vec<Row> {
    vec![
        row(
            "sqlsrv/appdb",
            "Microsoft.Sql/servers/databases",
            Some("westeurope"),
            &["northeurope"],
            "rg-data",
        ),
        row(
            "stbrgrs",
            "Microsoft.Storage/storageAccounts",
            Some("brazilsouth"),
            &["southcentralus"],
            "rg-br",
        ),
        row(
            "stbrlrs",
            "Microsoft.Storage/storageAccounts",
            Some("brazilsouth"),
            &[],
            "rg-br",
        ),
        row(
            "stwegrs",
            "Microsoft.Storage/storageAccounts",
            Some("westeurope"),
            &["northeurope"],
            "rg-br",
        ),
        row(
            "vm-web-01",
            "Microsoft.Compute/virtualMachines",
            Some("westeurope"),
            &[],
            "rg-web",
        ),
        row(
            "zone.example.nl",
            "Microsoft.Network/dnszones",
            Some("global"),
            &[],
            "rg-web",
        ),
    ]
}

pub async fn mount_arm_resources(server: &MockServer) {
    let base = server.uri();
    // SUB_A: two pages; the second is throttled once (429 + Retry-After), then served.
    get(format!("/subscriptions/{SUB_A}/resources"))
        .and(query_param_is_missing("$skiptoken"))
        .and(query_param("$expand", "createdTime"))
        .respond_with(ok(page(
            json!([
                {"id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-web-01"),
                 "name": "vm-web-01", "type": "Microsoft.Compute/virtualMachines",
                 "location": "westeurope", "createdTime": "2024-02-01T10:00:00Z",
                 "tags": {"omgeving": "productie"}},
                {"id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-web/providers/Microsoft.Network/dnszones/zone.example.nl"),
                 "name": "zone.example.nl", "type": "Microsoft.Network/dnszones", "location": "global"}
            ]),
            Some(format!(
                "{base}/subscriptions/{SUB_A}/resources?%24expand=createdTime&api-version=2025-04-01&%24skiptoken=p2"
            )),
        )))
        .expect(1)
        .mount(server)
        .await;
    get(format!("/subscriptions/{SUB_A}/resources"))
        .and(query_param("$skiptoken", "p2"))
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
    get(format!("/subscriptions/{SUB_A}/resources"))
        .and(query_param("$skiptoken", "p2"))
        .respond_with(ok(page(json!([sql_db()]), None)))
        .with_priority(5)
        .expect(1)
        .mount(server)
        .await;
    // SUB_A never registered Microsoft.Storage.
    get(format!("/subscriptions/{SUB_A}/providers/Microsoft.Storage/storageAccounts"))
        .respond_with(ResponseTemplate::new(409).set_body_json(arm_error(
            "MissingSubscriptionRegistration",
            "The subscription is not registered to use namespace 'Microsoft.Storage'. See https://aka.ms/rps-not-found for how to register subscriptions.",
        )))
        .mount(server)
        .await;

    // SUB_B: storage in brazilsouth.
    get(format!("/subscriptions/{SUB_B}/resources"))
        .respond_with(ok(page(
            json!([
                storage_resource("stbrgrs", "Standard_RAGRS", "brazilsouth"),
                storage_resource("stbrlrs", "Standard_LRS", "brazilsouth"),
                storage_resource("stwegrs", "Standard_GRS", "westeurope"),
            ]),
            None,
        )))
        .mount(server)
        .await;
    let acct = |name: &str, sku: &str, loc: &str, secondary: Option<&str>| {
        let mut props = json!({"primaryLocation": loc, "statusOfPrimary": "available",
                               "provisioningState": "Succeeded", "accessTier": "Hot"});
        if let Some(s) = secondary {
            props["secondaryLocation"] = json!(s);
            props["statusOfSecondary"] = json!("available");
        }
        let mut v = storage_resource(name, sku, loc);
        v["properties"] = props;
        v
    };
    get(format!(
        "/subscriptions/{SUB_B}/providers/Microsoft.Storage/storageAccounts"
    ))
    .and(query_param("api-version", "2023-05-01"))
    .respond_with(ok(page(
        json!([
            acct(
                "stbrgrs",
                "Standard_RAGRS",
                "brazilsouth",
                Some("southcentralus")
            ),
            acct("stbrlrs", "Standard_LRS", "brazilsouth", None),
            // No secondaryLocation reported: the catalog's region pair is used.
            acct("stwegrs", "Standard_GRS", "westeurope", None),
        ]),
        None,
    )))
    .mount(server)
    .await;

    // SUB_C: the identity may list it but not read its resources.
    get(format!("/subscriptions/{SUB_C}/resources"))
        .respond_with(denied(
            SUB_C,
            "Microsoft.Resources/subscriptions/resources/read",
        ))
        .mount(server)
        .await;
    get(format!(
        "/subscriptions/{SUB_C}/providers/Microsoft.Storage/storageAccounts"
    ))
    .respond_with(denied(SUB_C, "Microsoft.Storage/storageAccounts/read"))
    .mount(server)
    .await;
}

#[tokio::test]
async fn arm_scan_lists_every_subscription_resource_replica_and_coverage_gap() {
    let server = MockServer::start().await;
    mount_common(&server).await;
    mount_arm_resources(&server).await;
    let c = connect(&config(&server.uri()), &[]).await;

    let identity = c.identity().await.unwrap();
    assert_eq!(
        identity,
        "application 0a0a0a0a-cccc-4ccc-8ccc-000000000001 (object id \
         0b0b0b0b-dddd-4ddd-8ddd-000000000002, tenant 0c0c0c0c-eeee-4eee-8eee-000000000003)"
    );
    assert!(!identity.contains(&test_token()));

    let scopes = c.scopes().await.unwrap();
    let ids: Vec<&str> = scopes.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [SUB_A, SUB_B, SUB_C]);
    assert_eq!(scopes[0].name.as_deref(), Some("Ministerie Productie"));
    assert_eq!(scopes[0].tags["verwerking"], "VA-2024-017");
    assert!(scopes.iter().all(|s| s.provider == Provider::Azure));

    let scan = scan(&c, &scopes).await;
    assert_eq!(resource_rows(&scan), expected_rows());

    let vm = scan
        .resources
        .iter()
        .find(|r| r.name == "vm-web-01")
        .unwrap();
    assert_eq!(vm.category, Category::Compute);
    assert_eq!(vm.scope_id, SUB_A);
    assert_eq!(vm.tags["omgeving"], "productie");
    assert_eq!(
        vm.created_at.unwrap().to_rfc3339(),
        "2024-02-01T10:00:00+00:00"
    );
    let grs = scan.resources.iter().find(|r| r.name == "stbrgrs").unwrap();
    assert_eq!(grs.category, Category::DataStore);
    assert_eq!(
        grs.all_locations().collect::<Vec<_>>(),
        ["brazilsouth", "southcentralus"]
    );

    let mut groups: Vec<(String, String, Option<String>)> = scan
        .groups
        .iter()
        .map(|g| {
            (
                g.scope_id.clone(),
                g.name.clone(),
                g.tags.get("verwerking").cloned(),
            )
        })
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        [
            (SUB_A.into(), "rg-data".into(), None),
            (SUB_A.into(), "rg-web".into(), Some("VA-2024-031".into())),
            (SUB_B.into(), "rg-br".into(), Some("VA-2025-002".into())),
        ]
    );

    let s = |sub: &str, svc: &str, st: &str| (sub.to_string(), svc.to_string(), st.to_string());
    assert_eq!(
        coverage_triples(&scan),
        [
            s(SUB_A, service::RESOURCE_GROUPS, "scanned"),
            s(SUB_A, service::RESOURCES, "scanned"),
            s(SUB_A, service::SQL_REPLICATION_LINKS, "scanned"),
            s(SUB_A, service::STORAGE_ACCOUNTS, "not-enabled"),
            s(SUB_B, service::RESOURCE_GROUPS, "scanned"),
            s(SUB_B, service::RESOURCES, "scanned"),
            s(SUB_B, service::STORAGE_ACCOUNTS, "scanned"),
            s(SUB_C, service::RESOURCE_GROUPS, "denied"),
            s(SUB_C, service::RESOURCES, "denied"),
            s(SUB_C, service::STORAGE_ACCOUNTS, "denied"),
        ]
    );
    let not_enabled = scan
        .coverage
        .iter()
        .find(|c| c.status == CoverageStatus::NotEnabled)
        .unwrap();
    assert!(
        not_enabled
            .message
            .as_deref()
            .unwrap()
            .contains("MissingSubscriptionRegistration"),
        "{not_enabled:?}"
    );
    let denied = scan
        .coverage
        .iter()
        .find(|c| c.scope_id == SUB_C && c.service == service::RESOURCES)
        .unwrap();
    assert!(
        denied
            .message
            .as_deref()
            .unwrap()
            .contains("HTTP 403 AuthorizationFailed")
    );
    for cv in &scan.coverage {
        assert!(!cv.message.as_deref().unwrap_or("").contains(&test_token()));
    }
    // The mock's `expect` counts (one 429 then the page) are verified when it drops.
}

#[tokio::test]
async fn throttling_that_never_ends_is_throttled_coverage_not_zero_resources() {
    let server = MockServer::start().await;
    get(format!("/subscriptions/{SUB_A}/resourcegroups"))
        .respond_with(ok(page(json!([]), None)))
        .mount(&server)
        .await;
    get(format!("/subscriptions/{SUB_A}/resources"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0")
                .set_body_json(arm_error("TooManyRequests", "throttled")),
        )
        .expect(3)
        .mount(&server)
        .await;
    get(format!(
        "/subscriptions/{SUB_A}/providers/Microsoft.Storage/storageAccounts"
    ))
    .respond_with(ok(page(json!([]), None)))
    .mount(&server)
    .await;
    let c = connect(&config(&server.uri()), &[]).await;
    let scope = cloudcensus_core::Scope::new(Provider::Azure, SUB_A);
    let scan = scan(&c, &[scope]).await;
    assert!(scan.resources.is_empty());
    let cov = scan
        .coverage
        .iter()
        .find(|c| c.service == service::RESOURCES)
        .unwrap();
    assert_eq!(cov.status, CoverageStatus::Throttled);
    assert!(
        cov.message.as_deref().unwrap().contains("3 attempts"),
        "{cov:?}"
    );
}

#[tokio::test]
async fn next_link_to_another_host_is_not_followed() {
    let server = MockServer::start().await;
    get(format!("/subscriptions/{SUB_A}/resourcegroups"))
        .respond_with(ok(page(
            json!([]),
            Some("https://attacker.example/steal?api-version=1".into()),
        )))
        .mount(&server)
        .await;
    get(format!("/subscriptions/{SUB_A}/resources"))
        .respond_with(ok(page(json!([]), None)))
        .mount(&server)
        .await;
    get(format!(
        "/subscriptions/{SUB_A}/providers/Microsoft.Storage/storageAccounts"
    ))
    .respond_with(ok(page(json!([]), None)))
    .mount(&server)
    .await;
    let c = connect(&config(&server.uri()), &[]).await;
    let scan = scan(&c, &[cloudcensus_core::Scope::new(Provider::Azure, SUB_A)]).await;
    let cov = scan
        .coverage
        .iter()
        .find(|c| c.service == service::RESOURCE_GROUPS)
        .unwrap();
    assert_eq!(cov.status, CoverageStatus::Error);
    assert!(
        cov.message.as_deref().unwrap().contains("attacker.example"),
        "{cov:?}"
    );
}

#[tokio::test]
async fn configured_subscription_the_identity_cannot_list_is_still_a_scope() {
    let server = MockServer::start().await;
    mount_common(&server).await;
    let mut cfg = config(&server.uri());
    cfg.subscriptions = vec![
        SUB_B.to_string(),
        "44444444-4444-4444-4444-444444444444".into(),
    ];
    let c = connect(&cfg, &[]).await;
    let scopes = c.scopes().await.unwrap();
    let ids: Vec<&str> = scopes.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [SUB_B, "44444444-4444-4444-4444-444444444444"]);
}

#[tokio::test]
async fn management_group_filter_keeps_only_descendant_subscriptions_with_their_parents() {
    let server = MockServer::start().await;
    mount_common(&server).await;
    get("/providers/Microsoft.Management/managementGroups/mg-ministerie/descendants".into())
        .and(query_param("api-version", "2020-05-01"))
        .respond_with(ok(page(
            json!([
                {"id": "/providers/Microsoft.Management/managementGroups/mg-prod",
                 "type": "Microsoft.Management/managementGroups", "name": "mg-prod",
                 "properties": {"displayName": "Productie",
                   "parent": {"id": "/providers/Microsoft.Management/managementGroups/mg-ministerie"}}},
                {"id": format!("/subscriptions/{SUB_A}"),
                 "type": "Microsoft.Management/managementGroups/subscriptions", "name": SUB_A,
                 "properties": {"displayName": "Ministerie Productie",
                   "parent": {"id": "/providers/Microsoft.Management/managementGroups/mg-prod"}}}
            ]),
            None,
        )))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.management_group = Some("mg-ministerie".into());
    let c = connect(&cfg, &[]).await;
    let scopes = c.scopes().await.unwrap();
    assert_eq!(scopes.len(), 1);
    assert_eq!(scopes[0].id, SUB_A);
    assert_eq!(scopes[0].parents, ["mg-prod", "mg-ministerie"]);
}

#[tokio::test]
async fn missing_token_variable_is_a_credentials_error_naming_it() {
    let cfg = config("http://127.0.0.1:9");
    let err = cloudcensus_azure::connect_with_env(&cfg, &|_| None)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(TOKEN_VAR) && msg.contains("credentials"),
        "{msg}"
    );
}

#[tokio::test]
async fn at_next_link_pages_are_followed_like_next_link() {
    let server = MockServer::start().await;
    mount_common(&server).await;
    mount_arm_resources(&server).await;
    let base = server.uri();
    // Some APIs page with `@nextLink` instead of `nextLink`.
    get(format!("/subscriptions/{SUB_A}/resourcegroups"))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ok(json!({
            "value": [{"id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-web"), "name": "rg-web",
                       "type": "Microsoft.Resources/resourceGroups", "location": "westeurope"}],
            "@nextLink": format!("{base}/subscriptions/{SUB_A}/resourcegroups?api-version=2025-04-01&%24skiptoken=rg2")
        })))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    get(format!("/subscriptions/{SUB_A}/resourcegroups"))
        .and(query_param("$skiptoken", "rg2"))
        .respond_with(ok(json!({
            "value": [{"id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-late"), "name": "rg-late",
                       "type": "Microsoft.Resources/resourceGroups", "location": "northeurope"}]
        })))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    let c = connect(&config(&server.uri()), &[]).await;
    let scopes = c.scopes().await.unwrap();
    let s = scan(&c, &scopes[..1]).await;
    let names: Vec<&str> = s.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["rg-web", "rg-late"]);
}
