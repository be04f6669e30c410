//! Helpers shared by the integration tests.

use assert_cmd::Command;

/// The `cloudcensus` binary, with a clean environment for its own variables.
pub fn cloudcensus() -> Command {
    let mut cmd = Command::cargo_bin("cloudcensus").expect("binary built");
    for (k, _) in std::env::vars() {
        if k.starts_with("CLOUDCENSUS_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Runs the binary with `args`, asserts success and returns stdout.
pub fn stdout_of(args: &[&str]) -> String {
    let out = cloudcensus().args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "cloudcensus {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs `locate` with `--format json` and returns the single row.
pub fn locate_json(args: &[&str]) -> serde_json::Value {
    let mut full = vec!["locate"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout_of(&full)).expect("json");
    v.as_array().expect("array")[0].clone()
}
