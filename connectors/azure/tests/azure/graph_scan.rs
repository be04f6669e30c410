//! Resource Graph mode: one query for all subscriptions, paged with `$skipToken`, a
//! throttled page honouring the quota headers, and the same estate as the ARM test.

use cloudcensus_azure::{InventoryMode, RESOURCE_GRAPH_QUERY, service};
use cloudcensus_core::Connector;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::arm_scan::{expected_rows, mount_common, sql_db, storage_resource};
use crate::common::*;

fn graph_row(mut v: serde_json::Value, sub: &str, rg: &str, secondary: &str) -> serde_json::Value {
    v["subscriptionId"] = json!(sub);
    v["resourceGroup"] = json!(rg);
    v["secondaryLocation"] = json!(secondary);
    if v.get("kind").is_none() {
        v["kind"] = json!("");
    }
    v.as_object_mut().unwrap().remove("createdTime");
    v
}

#[tokio::test]
async fn resource_graph_scan_pages_with_skip_token_and_matches_the_arm_scan() {
    let server = MockServer::start().await;
    mount_common(&server).await;
    let graph = || {
        Mock::given(method("POST"))
            .and(path("/providers/Microsoft.ResourceGraph/resources"))
            .and(query_param("api-version", "2021-03-01"))
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
        .mount(&server)
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
        .mount(&server)
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
        .mount(&server)
        .await;

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
