//! The container files agree with the binary: the `Dockerfile`, the compose example and the
//! Kubernetes CronJob are checked without Docker (there is none in CI). Every cloudcensus
//! command line they (and the README's container section) contain is parsed by the CLI's
//! own parser, every `CLOUDCENSUS_*` variable they set is one the binary reads, their
//! store URLs parse without a password, the configs they ship parse, and the image's
//! build, user and entrypoint are what the others assume.

use std::path::{Path, PathBuf};

use clap::Parser;
use cloudcensus::cli::Cli;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses `cloudcensus ARGS` as the binary would; `--help`/`--version` count as parsed.
fn parses(args: &[String], from: &str) {
    let argv = std::iter::once("cloudcensus".to_string()).chain(args.iter().cloned());
    if let Err(e) = Cli::try_parse_from(argv) {
        use clap::error::ErrorKind;
        assert!(
            matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion),
            "{from}: `cloudcensus {}` does not parse: {e}",
            args.join(" ")
        );
    }
}

/// The items of the block list under `key:` (the first at or after line `from`), as
/// `- item` lines indented deeper than the key.
fn yaml_list(text: &str, key: &str, from: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = (from..lines.len())
        .find(|&i| lines[i].trim() == format!("{key}:"))
        .unwrap_or_else(|| panic!("no `{key}:` list after line {from}"));
    let indent = lines[start].len() - lines[start].trim_start().len();
    let mut out = Vec::new();
    for line in &lines[start + 1..] {
        let t = line.trim_start();
        let i = line.len() - t.len();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if i <= indent || !t.starts_with("- ") {
            break;
        }
        out.push(t[2..].trim().trim_matches('"').to_string());
    }
    assert!(!out.is_empty(), "`{key}:` after line {from} is empty");
    out
}

/// `KEY: value` (first one) in YAML text.
fn yaml_value(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no `{key}:`"))
        .split(" #")
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches('"')
        .to_string()
}

/// Every variable the binary reads: its config overrides and its flags' `env`.
fn known_env() -> Vec<String> {
    fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            if let Some(e) = a.get_env() {
                out.push(e.to_string_lossy().into_owned());
            }
        }
        for s in cmd.get_subcommands() {
            walk(s, out);
        }
    }
    let mut out: Vec<String> = cloudcensus::config::ENV_OVERRIDES
        .iter()
        .map(|(k, _)| k.to_string())
        .collect();
    walk(&<Cli as clap::CommandFactory>::command(), &mut out);
    out
}

fn assert_known_env(text: &str, from: &str) {
    let known = known_env();
    let mut found = 0;
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("CLOUDCENSUS_") {
            found += 1;
            assert!(
                known.iter().any(|k| k == word),
                "{from}: {word} is not read by cloudcensus"
            );
        }
    }
    assert!(found > 0, "{from} sets no CLOUDCENSUS_ variable");
}

/// A store URL must parse, and hold no password.
fn assert_store_url(url: &str, from: &str) {
    cloudcensus::store::pgurl::PgLocation::parse(url)
        .unwrap_or_else(|e| panic!("{from}: store URL {url}: {e}"));
}

/// The command lines after `docker compose run --rm cloudcensus` in `text`.
fn compose_runs(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|l| l.split_once("docker compose run --rm cloudcensus"))
        .map(|(_, rest)| {
            rest.split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|a| !a.is_empty())
        .collect()
}

struct Dockerfile {
    text: String,
    /// `FROM … AS name` stages.
    stages: Vec<String>,
    /// The runtime (last) stage's lines.
    runtime: Vec<String>,
}

fn dockerfile() -> Dockerfile {
    let text = read("Dockerfile");
    let mut stages = Vec::new();
    let mut runtime = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("FROM ") {
            let name = rest
                .split_once(" AS ")
                .map(|(_, n)| n.trim().to_string())
                .unwrap_or_default();
            stages.push(name);
            runtime.clear();
        }
        runtime.push(t.to_string());
    }
    Dockerfile {
        text,
        stages,
        runtime,
    }
}

fn instruction(lines: &[String], name: &str) -> String {
    lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("the runtime stage has no {name}"))
        .trim()
        .to_string()
}

#[test]
fn the_dockerfile_builds_the_binary_locked_in_release_and_runs_it_as_a_non_root_user() {
    let d = dockerfile();
    assert!(d.stages.len() >= 2, "multi-stage: {:?}", d.stages);
    assert!(
        d.text.contains("cargo build --locked --release"),
        "a --locked release build"
    );
    // The binary it builds is the package's.
    let cargo = read("Cargo.toml");
    let bin = d
        .text
        .split("--bin ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("--bin NAME");
    assert!(
        cargo.contains(&format!("[[bin]]\nname = \"{bin}\"")),
        "no [[bin]] {bin}"
    );
    // The toolchain is at least the workspace's rust-version.
    let want = cargo
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    let have = d
        .text
        .lines()
        .find_map(|l| l.strip_prefix("ARG RUST_VERSION="))
        .expect("ARG RUST_VERSION=");
    let v = |s: &str| -> Vec<u32> { s.split('.').map(|p| p.parse().unwrap()).collect() };
    assert!(v(have) >= v(&want), "rust {have} < rust-version {want}");

    let rt = &d.runtime;
    assert!(
        rt.iter().any(|l| l.contains("ca-certificates")),
        "the runtime has CA certificates"
    );
    let user = instruction(rt, "USER");
    let uid = user.split(':').next().unwrap();
    assert!(
        uid != "0" && uid != "root" && !uid.is_empty(),
        "runs as root: USER {user}"
    );
    let entry: Vec<String> = serde_json::from_str(&instruction(rt, "ENTRYPOINT")).unwrap();
    assert_eq!(
        entry.len(),
        1,
        "the binary alone is the entrypoint: {entry:?}"
    );
    let copied = rt
        .iter()
        .find(|l| l.starts_with("COPY --from="))
        .expect("COPY --from=build");
    assert!(
        copied.ends_with(&format!(" {}", entry[0])) && entry[0].ends_with(&format!("/{bin}")),
        "the entrypoint {} is the copied binary: {copied}",
        entry[0]
    );
    let cmd: Vec<String> = serde_json::from_str(&instruction(rt, "CMD")).unwrap();
    parses(&cmd, "Dockerfile CMD");
    // The CronJob runs as the image's user.
    let cron = read("examples/schedule/cronjob.yaml");
    assert_eq!(yaml_value(&cron, "runAsUser"), uid);
}

#[test]
fn the_compose_example_runs_commands_and_variables_the_binary_knows_without_a_password() {
    let text = read("examples/compose/compose.yaml");
    let service = text
        .find("\n  cloudcensus:")
        .expect("a cloudcensus service");
    let line = text[..service].lines().count();
    parses(&yaml_list(&text, "command", line), "compose.yaml command");
    let runs = compose_runs(&text);
    assert!(runs.len() >= 2, "{runs:?}");
    for args in &runs {
        parses(args, "compose.yaml header");
    }
    assert_known_env(&text, "compose.yaml");
    assert_store_url(&yaml_value(&text, "CLOUDCENSUS_STORE"), "compose.yaml");
    // The password is in the env file only; its example sets both variables.
    assert!(!text.contains("PASSWORD:"), "a password in compose.yaml");
    let env = read("examples/compose/cloudcensus.env.example");
    assert!(env.contains("POSTGRES_PASSWORD=") && env.contains("PGPASSWORD="));
    assert!(
        read(".gitignore").contains("/examples/compose/cloudcensus.env"),
        "the real env file is git-ignored"
    );
    // What it mounts exists, relative to the compose file.
    for mount in ["./cloudcensus.toml", "../register.xlsx"] {
        assert!(text.contains(&format!("- {mount}:")), "{mount}");
        assert!(repo("examples/compose").join(mount).exists(), "{mount}");
    }
    // It builds the image the repository's Dockerfile describes.
    assert_eq!(yaml_value(&text, "context"), "../..");
    assert_eq!(yaml_value(&text, "dockerfile"), "Dockerfile");
    assert!(repo("examples/compose/../../Dockerfile").exists());
}

#[test]
fn the_cronjob_runs_the_built_image_with_args_and_a_store_the_binary_accepts() {
    let text = read("examples/schedule/cronjob.yaml");
    let args = yaml_list(&text, "args", 0);
    parses(&args, "cronjob.yaml args");
    assert_eq!(args.iter().filter(|a| *a == "scan").count(), 1, "{args:?}");
    // The image is the one its header builds with the Dockerfile.
    let image = yaml_value(&text, "image");
    assert!(
        text.contains(&format!("docker build -t {image} .")),
        "nothing in the header builds {image}"
    );
    // The password comes from a Secret, the store URL from the config.
    assert!(text.contains("name: PGPASSWORD") && text.contains("secretKeyRef"));
    let store = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("store = "))
        .expect("the config names the store");
    assert_store_url(store.trim_matches('"'), "cronjob.yaml");
}

#[test]
fn the_readme_container_commands_parse() {
    let readme = read("README.md");
    let runs = compose_runs(&readme);
    let docker_runs: Vec<Vec<String>> = readme
        .lines()
        .filter(|l| l.starts_with("docker run "))
        .filter_map(|l| l.split_once(" cloudcensus:0.1.0 "))
        .map(|(_, rest)| rest.split_whitespace().map(String::from).collect())
        .collect();
    assert!(
        !runs.is_empty() && !docker_runs.is_empty(),
        "the README shows how to run the image"
    );
    for args in runs.iter().chain(&docker_runs) {
        parses(args, "README");
    }
    assert!(
        readme.contains("docker build") && readme.contains("no Docker"),
        "the README says how to build and that tests need no Docker"
    );
}

/// The configs the container files ship are valid (their sources need the connector
/// features; the demo build has no source sections).
#[test]
#[cfg(all(feature = "aws", feature = "azure"))]
fn the_configs_the_container_files_ship_parse() {
    // Inside the container the config and the register sit side by side in
    // /etc/cloudcensus, mounted by compose.yaml: rebuild that directory and parse there.
    let compose = read("examples/compose/compose.yaml");
    assert!(
        compose.contains("- ./cloudcensus.toml:/etc/cloudcensus/cloudcensus.toml:ro")
            && compose.contains("- ../register.xlsx:/etc/cloudcensus/register.xlsx:ro"),
        "compose.yaml mounts the config and the example register into /etc/cloudcensus"
    );
    let etc = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo("examples/register.xlsx"),
        etc.path().join("register.xlsx"),
    )
    .unwrap();
    let path = etc.path().join("cloudcensus.toml");
    let text = read("examples/compose/cloudcensus.toml");
    cloudcensus::config::Config::parse(&path, &text, |_| None).unwrap_or_else(|e| panic!("{e}"));
    let cron = read("examples/schedule/cronjob.yaml");
    let start = cron.find("cloudcensus.toml: |").unwrap();
    let block: String = cron[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("    ") || l.trim().is_empty())
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or("")))
        .collect();
    // The register comes from its own ConfigMap mounted at /etc/cloudcensus-register.
    assert!(
        cron.contains("mountPath: /etc/cloudcensus-register"),
        "the CronJob mounts the register where its config looks"
    );
    let block = block.replace(
        "/etc/cloudcensus-register/register.xlsx",
        etc.path().join("register.xlsx").to_str().unwrap(),
    );
    let c = cloudcensus::config::Config::parse(
        Path::new("/etc/cloudcensus/cloudcensus.toml"),
        &block,
        |_| None,
    )
    .unwrap_or_else(|e| panic!("cronjob.yaml's config: {e}"));
    assert!(
        cloudcensus::store::postgres_url(&c.store).is_some(),
        "the CronJob's store is PostgreSQL"
    );
}
