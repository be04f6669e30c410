//! Helpers shared by the tests that drive `cloudcensus scan` through the connectors
//! (`scan_e2e`, `faults_cli`).

use std::path::Path;

use base64::Engine as _;

use crate::util::cloudcensus;

/// An unsigned Resource Manager token whose claims end in `tag` (the connector reads
/// the claims for the identity it reports; the mocks do not check the signature).
pub fn azure_test_token(tag: &str) -> String {
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = format!(
        r#"{{"aud":"https://management.azure.com","appid":"0a0a0a0a-cccc-4ccc-8ccc-0000000000{tag}","oid":"0b0b0b0b-dddd-4ddd-8ddd-0000000000{tag}","tid":"0c0c0c0c-eeee-4eee-8eee-0000000000{tag}"}}"#
    );
    format!(
        "{}.{}.c2ln",
        e.encode(r#"{"typ":"JWT","alg":"RS256"}"#),
        e.encode(claims)
    )
}

/// A path as `&str` for command lines.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs the binary off the async runtime (the mocks keep serving meanwhile).
pub async fn run(args: Vec<String>, env: Vec<(String, String)>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = cloudcensus();
        cmd.args(&args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("runs")
    })
    .await
    .unwrap()
}
