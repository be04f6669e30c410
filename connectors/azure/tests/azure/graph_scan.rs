//! Resource Graph mode: one query for all subscriptions, paged with `$skipToken`, a
//! throttled page honouring the quota headers, and the same estate as the ARM test.

use cloudcensus_azure::{InventoryMode, RESOURCE_GRAPH_QUERY, service};
use cloudcensus_core::Connector;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::arm_scan::{expected_rows, mount_arm_resources, mount_common, sql_db, storage_resource};
use crate::common::*;

/// A row as Resource Graph answers it: `type` and `resourceGroup` in lower case (the id
/// keeps Resource Manager's casing), no `createdTime`.
fn graph_row(mut v: serde_json::Value, sub: &str, rg: &str, secondary: &str) -> serde_json::Value {
    v["subscriptionId"] = json!(sub);
    v["resourceGroup"] = json!(rg.to_ascii_lowercase());
    let lower = v["type"].as_str().unwrap().to_ascii_lowercase();
    v["type"] = json!(lower);
    v["secondaryLocation"] = json!(secondary);
    if v.get("kind").is_none() {
        v["kind"] = json!("");
    }
    v.as_object_mut().unwrap().remove("createdTime");
    v
}

/// The ARM test's estate as Resource Graph answers it: two pages (`$skipToken`), the
/// second throttled once by the per-user quota.
async fn mount_graph(server: &MockServer) {
    let graph = || {
        Mock::given(method("POST"))
            .and(path("/providers/Microsoft.ResourceGraph/resources"))
            .and(query_param("api-version", "2024-04-01"))
            .and(header("authorization", bearer().as_str()))
    };
    let vm = json!({"id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-web-01"),
                    "name": "vm-web-01", "type": "Microsoft.Compute/virtualMachines",
                    "location": "westeurope", "tags": {"omgeving": "productie"}, "sku": null});
    let dns = json!({"id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-web/providers/Microsoft.Network/dnszones/zone.example.nl"),
                     "name": "zone.example.nl", "type": "Microsoft.Network/dnszones",
                     "location": "global", "tags": null, "sku": null});
    // Page 2 (asked for with the skip token): throttled once by the per-user quota.
    graph()
        .and(body_partial_json(json!({"options": {"$skipToken": "ew0KICAiJGlkIjogIjEiLA0K"}})))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ms-user-quota-remaining", "0")
                .insert_header("x-ms-user-quota-resets-after", "00:00:01")
                .set_body_json(arm_error(
                    "RateLimiting",
                    "Please provide below info when asking for support: timestamp = 2026-01-01T10:00:00Z.",
                )),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(server)
        .await;
    graph()
        .and(body_partial_json(json!({"options": {"$skipToken": "ew0KICAiJGlkIjogIjEiLA0K"}})))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-ms-user-quota-remaining", "13")
                .insert_header("x-ms-user-quota-resets-after", "00:00:04")
                .set_body_json(json!({
                    "totalRecords": 6, "count": 3, "resultTruncated": "false", "facets": [],
                    "data": [
                        graph_row(storage_resource("stbrgrs", "Standard_RAGRS", "brazilsouth"), SUB_B, "rg-br", "southcentralus"),
                        graph_row(storage_resource("stbrlrs", "Standard_LRS", "brazilsouth"), SUB_B, "rg-br", ""),
                        graph_row(storage_resource("stwegrs", "Standard_GRS", "westeurope"), SUB_B, "rg-br", ""),
                    ]
                })),
        )
        .with_priority(2)
        .expect(1)
        .mount(server)
        .await;
    // Page 1: every subscription in one request.
    graph()
        .and(body_partial_json(json!({
            "subscriptions": [SUB_A, SUB_B, SUB_C],
            "query": RESOURCE_GRAPH_QUERY,
            "options": {"$top": 1000, "resultFormat": "objectArray"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalRecords": 6, "count": 3, "resultTruncated": "false", "facets": [],
            "$skipToken": "ew0KICAiJGlkIjogIjEiLA0K",
            "data": [
                graph_row(vm, SUB_A, "rg-web", ""),
                graph_row(dns, SUB_A, "rg-web", ""),
                graph_row(sql_db(), SUB_A, "rg-data", ""),
            ]
        })))
        .with_priority(5)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn resource_graph_scan_pages_with_skip_token_and_matches_the_arm_scan() {
    let server = MockServer::start().await;
    mount_common(&server).await;
    mount_graph(&server).await;

    let mut cfg = config(&server.uri());
    cfg.mode = InventoryMode::ResourceGraph;
    let c = connect(&cfg, &[]).await;
    let scopes = c.scopes().await.unwrap();
    let scan = scan(&c, &scopes).await;

    assert_eq!(resource_rows(&scan), expected_rows());
    let s = |sub: &str, svc: &str, st: &str| (sub.to_string(), svc.to_string(), st.to_string());
    assert_eq!(
        coverage_triples(&scan),
        [
            s(SUB_A, service::RESOURCE_GRAPH, "scanned"),
            s(SUB_A, service::RESOURCE_GROUPS, "scanned"),
            s(SUB_A, service::SQL_REPLICATION_LINKS, "scanned"),
            s(SUB_B, service::RESOURCE_GRAPH, "scanned"),
            s(SUB_B, service::RESOURCE_GROUPS, "scanned"),
            s(SUB_C, service::RESOURCE_GRAPH, "scanned"),
            s(SUB_C, service::RESOURCE_GROUPS, "denied"),
        ]
    );
    // One query served all three subscriptions (`expect(1)` on each page, checked on drop).
}

#[tokio::test]
async fn resource_graph_failure_marks_every_subscription_of_the_batch() {
    let server = MockServer::start().await;
    mount_common(&server).await;
    Mock::given(method("POST"))
        .and(path("/providers/Microsoft.ResourceGraph/resources"))
        .respond_with(ResponseTemplate::new(400).set_body_json(arm_error(
            "BadRequest",
            "Please provide below info when asking for support: timestamp = x, correlationId = y.",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.mode = InventoryMode::ResourceGraph;
    let c = connect(&cfg, &[]).await;
    let scopes = c.scopes().await.unwrap();
    let scan = scan(&c, &scopes).await;
    assert!(scan.resources.is_empty());
    let graph: Vec<_> = coverage_triples(&scan)
        .into_iter()
        .filter(|(_, svc, _)| svc == service::RESOURCE_GRAPH)
        .collect();
    assert_eq!(graph.len(), 3);
    assert!(graph.iter().all(|(_, _, st)| st == "error"), "{graph:?}");
}

#[tokio::test]
async fn arm_and_resource_graph_modes_give_the_same_resources_for_the_same_estate() {
    let arm_server = MockServer::start().await;
    mount_common(&arm_server).await;
    mount_arm_resources(&arm_server).await;
    let c = connect(&config(&arm_server.uri()), &[]).await;
    let arm = scan(&c, &c.scopes().await.unwrap()).await;

    let graph_server = MockServer::start().await;
    mount_common(&graph_server).await;
    mount_graph(&graph_server).await;
    let mut cfg = config(&graph_server.uri());
    cfg.mode = InventoryMode::ResourceGraph;
    let c = connect(&cfg, &[]).await;
    let graph = scan(&c, &c.scopes().await.unwrap()).await;

    // Resource Graph has no creation time (ARM's `$expand=createdTime`); every other
    // field, type and resource-group casing included, must be the same.
    let without_created = |s: &Scan| {
        let mut v: Vec<_> = s
            .resources
            .iter()
            .cloned()
            .map(|mut r| {
                r.created_at = None;
                r
            })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        serde_json::to_string(&v).unwrap()
    };
    assert!(arm.resources.iter().any(|r| r.created_at.is_some()));
    assert_eq!(without_created(&graph), without_created(&arm));
    assert!(
        graph
            .resources
            .iter()
            .all(|r| r.resource_type.starts_with("Microsoft."))
    );
}

async fn graph_answer(server: &MockServer, body: serde_json::Value) {
    Mock::given(method("POST"))
        .and(path("/providers/Microsoft.ResourceGraph/resources"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

fn graph_coverage(scan: &Scan) -> Vec<(String, String, String)> {
    scan.coverage
        .iter()
        .filter(|c| c.service == service::RESOURCE_GRAPH)
        .map(|c| {
            (
                c.scope_id.clone(),
                c.status.to_string(),
                c.message.clone().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn truncated_resource_graph_result_is_error_coverage_naming_the_query() {
    let server = MockServer::start().await;
    mount_common(&server).await;
    let vm = json!({"id": format!("/subscriptions/{SUB_A}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-web-01"),
                    "name": "vm-web-01", "type": "Microsoft.Compute/virtualMachines", "location": "westeurope"});
    // No $skipToken although rows were left out: the REST reference's `resultTruncated`.
    graph_answer(
        &server,
        json!({"totalRecords": 5000, "count": 1, "resultTruncated": "true", "facets": [],
               "data": [graph_row(vm, SUB_A, "rg-web", "")]}),
    )
    .await;
    let mut cfg = config(&server.uri());
    cfg.mode = InventoryMode::ResourceGraph;
    let c = connect(&cfg, &[]).await;
    let s = scan(&c, &c.scopes().await.unwrap()).await;

    // The row that did arrive is kept; every subscription of the query is marked.
    assert_eq!(s.resources.len(), 1);
    let cov = graph_coverage(&s);
    assert_eq!(cov.len(), 3, "{cov:?}");
    for (sub, status, message) in &cov {
        assert_eq!(status, "error", "{sub}");
        assert!(message.contains("resultTruncated = true"), "{message}");
        assert!(message.contains(RESOURCE_GRAPH_QUERY), "{message}");
    }
}

#[tokio::test]
async fn resource_graph_row_without_subscription_id_is_error_coverage_not_a_silent_drop() {
    let server = MockServer::start().await;
    mount_common(&server).await;
    let vm_id = format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-web-01"
    );
    let mut row = graph_row(
        json!({"id": vm_id, "name": "vm-web-01", "type": "Microsoft.Compute/virtualMachines",
               "location": "westeurope"}),
        SUB_A,
        "rg-web",
        "",
    );
    row.as_object_mut().unwrap().remove("subscriptionId");
    graph_answer(
        &server,
        json!({"totalRecords": 1, "count": 1, "resultTruncated": "false", "facets": [], "data": [row]}),
    )
    .await;
    let mut cfg = config(&server.uri());
    cfg.mode = InventoryMode::ResourceGraph;
    let c = connect(&cfg, &[]).await;
    let s = scan(&c, &c.scopes().await.unwrap()).await;

    let cov = graph_coverage(&s);
    let a = cov.iter().find(|(sub, _, _)| sub == SUB_A).unwrap();
    assert_eq!(a.1, "error");
    assert!(
        a.2.contains("without subscriptionId") && a.2.contains(&vm_id),
        "{}",
        a.2
    );
    // The other subscriptions' answers are whole.
    assert!(
        cov.iter()
            .filter(|(sub, _, _)| sub != SUB_A)
            .all(|(_, st, _)| st == "scanned"),
        "{cov:?}"
    );
}
