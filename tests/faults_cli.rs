//! Faults seen by the real `cloudcensus scan` binary: a Resource Manager mock whose
//! inventory calls hang.
//!
//! * With small `request_timeout_secs` / `max_attempts` the scan finishes in bounded
//!   time and commits `error` coverage naming the timeout (the scan-level bound is the
//!   per-request timeout × bounded retries; see the connector READMEs).
//! * SIGKILL while the scan's write transaction is open (scopes and one subscription's
//!   inventory streamed in, the other subscription still listing) leaves the store
//!   exactly as before: it opens, `verify` passes, no partial scan is visible.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::scan_support::{self, azure_test_token, s, text};

const SUB_OK: &str = "0f000000-0000-4000-8000-000000000001";
const SUB_SLOW: &str = "0f000000-0000-4000-8000-000000000002";
const TOKEN_VAR: &str = "CC_FAULTS_AZURE_TOKEN";

fn test_token() -> String {
    azure_test_token("f1")
}

async fn run(args: Vec<String>) -> std::process::Output {
    scan_support::run(args, vec![(TOKEN_VAR.to_string(), test_token())]).await
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Two subscriptions; `SUB_OK` answers everything, `SUB_SLOW` answers its resource
/// groups and hangs (60 s) on resources and storage accounts.
async fn arm_mock() -> MockServer {
    let arm = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/subscriptions"))
        .respond_with(ok(json!({"value": [
            {"id": format!("/subscriptions/{SUB_OK}"), "subscriptionId": SUB_OK, "displayName": "ok", "state": "Enabled"},
            {"id": format!("/subscriptions/{SUB_SLOW}"), "subscriptionId": SUB_SLOW, "displayName": "slow", "state": "Enabled"}
        ]})))
        .mount(&arm)
        .await;
    for sub in [SUB_OK, SUB_SLOW] {
        Mock::given(method("GET"))
            .and(path(format!("/subscriptions/{sub}/resourcegroups")))
            .respond_with(ok(json!({"value": [{"id": format!("/subscriptions/{sub}/resourceGroups/rg"),
                "name": "rg", "type": "Microsoft.Resources/resourceGroups", "location": "westeurope"}]})))
            .mount(&arm)
            .await;
    }
    let vms: Vec<Value> = (0..200)
        .map(|i| {
            json!({"id": format!("/subscriptions/{SUB_OK}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{i:03}"),
                   "name": format!("vm-{i:03}"), "type": "Microsoft.Compute/virtualMachines", "location": "westeurope"})
        })
        .collect();
    Mock::given(method("GET"))
        .and(path(format!("/subscriptions/{SUB_OK}/resources")))
        .respond_with(ok(json!({ "value": vms })))
        .mount(&arm)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/subscriptions/{SUB_OK}/providers/Microsoft.Storage/storageAccounts"
        )))
        .respond_with(ok(json!({"value": []})))
        .mount(&arm)
        .await;
    Mock::given(method("GET"))
        .respond_with(ok(json!({"value": []})).set_delay(Duration::from_secs(60)))
        .with_priority(10)
        .mount(&arm)
        .await;
    arm
}

/// A config with `top` among the top-level keys and `extra` in the one `[[azure]]` source.
fn write_config(dir: &Path, arm: &str, top: &str, extra: &str) -> std::path::PathBuf {
    let config = dir.join("cloudcensus.toml");
    std::fs::write(
        &config,
        format!(
            "organisation = \"Ministerie van Voorbeeldzaken\"\nstore = \"scans.db\"\n{top}\n[[azure]]\nname = \"faulty\"\ncredential = \"token-env\"\naccess_token_env = \"{TOKEN_VAR}\"\narm_endpoint = \"{arm}\"\n{extra}"
        ),
    )
    .unwrap();
    config
}

/// `cloudcensus scan` of March 2026 with `config`.
async fn scan_march(config: &Path) -> std::process::Output {
    run(vec![
        "--config".into(),
        s(config).into(),
        "scan".into(),
        "--quiet".into(),
        "--period".into(),
        "2026-03".into(),
    ])
    .await
}

/// The store's scans as the JSON `export` writes.
async fn export_json(store: &Path) -> Value {
    let export = run(vec![
        "export".into(),
        "--store".into(),
        s(store).into(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    serde_json::from_slice(&export.stdout).expect("export json")
}

/// One committed scan (through import) so the tests can prove it stays as it was.
async fn seed_store(dir: &Path) -> std::path::PathBuf {
    let store = dir.join("scans.db");
    let export = dir.join("seed.json");
    std::fs::write(
        &export,
        json!({"meta": {"organisation": "Ministerie van Voorbeeldzaken", "period": "2026-02",
            "started_at": "2026-02-01T00:00:00Z", "finished_at": "2026-02-01T00:10:00Z",
            "tool_version": "0.1.0"}, "scopes": [], "groups": [], "resources": [], "coverage": []})
        .to_string(),
    )
    .unwrap();
    let out = run(vec![
        "import".into(),
        s(&export).into(),
        "--store".into(),
        s(&store).into(),
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    store
}

async fn scan_ids(store: &Path) -> Vec<String> {
    let out = run(vec![
        "scans".into(),
        "--store".into(),
        s(store).into(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_endpoint_ends_the_scan_in_bounded_time_with_error_coverage_naming_the_timeout() {
    let arm = arm_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &arm.uri(),
        "",
        "request_timeout_secs = 1\nmax_attempts = 2\nretry_base_delay_ms = 10\n",
    );
    let started = Instant::now();
    let out = scan_march(&config).await;
    let took = started.elapsed();
    // Worst case per call: 2 attempts × 1 s + one short wait; the calls run side by side.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("scan 2026-03-0001 committed"),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let doc = export_json(&dir.path().join("scans.db")).await;
    let gaps: Vec<(String, String, String)> = doc["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "scanned")
        .map(|c| {
            (
                c["scope_id"].as_str().unwrap().to_string(),
                c["service"].as_str().unwrap().to_string(),
                c["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut services: Vec<(String, String)> = gaps
        .iter()
        .map(|(sc, sv, _)| (sc.clone(), sv.clone()))
        .collect();
    services.sort();
    assert_eq!(
        services,
        [
            (
                SUB_SLOW.to_string(),
                "Microsoft.Resources/resources".to_string()
            ),
            (
                SUB_SLOW.to_string(),
                "Microsoft.Storage/storageAccounts".to_string()
            ),
        ]
    );
    for (_, _, msg) in &gaps {
        assert!(
            msg.contains("no answer within request_timeout_secs = 1 s"),
            "{msg}"
        );
    }
    assert_eq!(doc["resources"].as_array().unwrap().len(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_timeout_ends_a_hanging_scan_and_commits_what_was_listed_with_the_rest_a_gap() {
    let arm = arm_mock().await;
    let dir = tempfile::tempdir().unwrap();
    // Each call could wait a minute; the whole scan may take two seconds.
    let config = write_config(
        dir.path(),
        &arm.uri(),
        "scan_timeout_secs = 2\n",
        "request_timeout_secs = 60\n",
    );
    let started = Instant::now();
    let out = scan_march(&config).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("scan 2026-03-0001 committed"));
    let doc = export_json(&dir.path().join("scans.db")).await;
    let gaps: Vec<&Value> = doc["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "scanned")
        .collect();
    assert!(!gaps.is_empty());
    for g in &gaps {
        assert_eq!(g["scope_id"], SUB_SLOW, "{g}");
        assert_eq!(g["status"], "error", "{g}");
        assert!(
            g["message"]
                .as_str()
                .is_some_and(|m| m.contains("scan_timeout_secs = 2")),
            "{g}"
        );
    }
    // The subscription that answered is complete.
    assert_eq!(doc["resources"].as_array().unwrap().len(), 200);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_the_scan_transaction_is_open_leaves_the_store_intact() {
    let arm = arm_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let store = seed_store(dir.path()).await;
    let config = write_config(dir.path(), &arm.uri(), "", "");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cloudcensus"))
        .args([
            "--config",
            s(&config),
            "scan",
            "--quiet",
            "--period",
            "2026-03",
        ])
        .env(TOKEN_VAR, test_token())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until SUB_OK's inventory was served and SUB_SLOW's is hanging: the scopes
    // and SUB_OK's 200 resources are streaming into the open scan.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reqs = arm.received_requests().await.unwrap_or_default();
        let seen = |p: String| reqs.iter().any(|r| r.url.path() == p);
        if seen(format!("/subscriptions/{SUB_OK}/resources"))
            && seen(format!(
                "/subscriptions/{SUB_OK}/providers/Microsoft.Storage/storageAccounts"
            ))
            && seen(format!("/subscriptions/{SUB_SLOW}/resources"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the scan never reached the inventory"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.kill().expect("SIGKILL");
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "scan was killed: {status:?}");

    assert_eq!(scan_ids(&store).await, ["2026-02-0001"]);
    let verify = run(vec!["verify".into(), "--store".into(), s(&store).into()]).await;
    assert!(
        verify.status.success(),
        "{}\n{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );
    // The lock died with the process and the half scan left no trace: a new scan may
    // be written, and it gets the first id of its period.
    let export = dir.path().join("next.json");
    std::fs::write(
        &export,
        json!({"meta": {"organisation": "Ministerie van Voorbeeldzaken", "period": "2026-03",
            "started_at": "2026-03-01T00:00:00Z", "finished_at": "2026-03-01T00:10:00Z",
            "tool_version": "0.1.0"}, "scopes": [], "groups": [], "resources": [], "coverage": []})
        .to_string(),
    )
    .unwrap();
    let again = run(vec![
        "import".into(),
        s(&export).into(),
        "--store".into(),
        s(&store).into(),
    ])
    .await;
    assert!(
        text(&again.stdout).contains("as scan 2026-03-0001"),
        "{}\n{}",
        text(&again.stdout),
        text(&again.stderr)
    );
}
