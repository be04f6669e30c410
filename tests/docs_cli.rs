//! Documents that cannot go stale: every `cloudcensus …` command line README.md shows
//! parses with the CLI's own parser (and the quick-start ones run on the demo store), and
//! every configuration key the docs name is one `config check` accepts, and the other way
//! round.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::Parser;
use cloudcensus::cli::Cli;

use crate::util::cloudcensus;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Splits a shell command line into words (single and double quotes; no expansion).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A command line shown in a document: where, and its words after `cloudcensus`.
#[derive(Debug)]
struct Shown {
    line: usize,
    text: String,
    args: Vec<String>,
    /// From an inline code span of prose (often a bare command name, not a full line).
    inline: bool,
}

/// Every `cloudcensus …` command in `text`: lines of code blocks (also `$cloudcensus`,
/// and `cargo run … -- ARGS`), `;`/`&&`-separated commands, and inline code spans.
fn shown_commands(text: &str) -> Vec<Shown> {
    let mut out = Vec::new();
    let mut in_code = false;
    let mut push = |line: usize, cmd: &str, inline: bool| {
        let cmd = cmd.trim();
        let cmd = match cmd.find(" #") {
            Some(i) => cmd[..i].trim_end(),
            None => cmd,
        };
        let w = words(cmd);
        let args: Option<Vec<String>> = match w.first().map(String::as_str) {
            Some("cloudcensus" | "$cloudcensus") => Some(w[1..].to_vec()),
            Some("cargo") if w.get(1).map(String::as_str) == Some("run") => w
                .iter()
                .position(|x| x == "--")
                .map(|i| w[i + 1..].to_vec()),
            _ => None,
        };
        if let Some(args) = args {
            out.push(Shown {
                line,
                text: cmd.to_string(),
                args,
                inline,
            });
        }
    };
    // A shell line ending in `\` continues on the next: joined, numbered by its first.
    let mut held: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            held = None;
            continue;
        }
        if in_code {
            let (n, joined) = match held.take() {
                Some((first, mut acc)) => {
                    acc.push(' ');
                    acc.push_str(line.trim());
                    (first, acc)
                }
                None => (n, line.to_string()),
            };
            if let Some(cont) = joined.trim_end().strip_suffix('\\') {
                held = Some((n, cont.to_string()));
                continue;
            }
            for part in joined.split(';').flat_map(|p| p.split("&&")) {
                push(n, part, false);
            }
            continue;
        }
        // Inline code spans of prose and tables.
        let mut rest = line;
        while let Some(a) = rest.find('`') {
            let after = &rest[a + 1..];
            let Some(b) = after.find('`') else { break };
            let span = &after[..b];
            if span.starts_with("cloudcensus ") {
                push(n, span, true);
            }
            rest = &after[b + 1..];
        }
    }
    out
}

#[test]
fn every_command_line_in_the_readme_parses() {
    let readme = read("README.md");
    let shown = shown_commands(&readme);
    assert!(
        shown.len() > 20,
        "found only {} commands in README.md",
        shown.len()
    );
    let mut broken = Vec::new();
    for s in &shown {
        let argv = std::iter::once("cloudcensus".to_string()).chain(s.args.iter().cloned());
        if let Err(e) = Cli::try_parse_from(argv) {
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) {
                continue;
            }
            // Prose names a command (`cloudcensus locate`) without its operands: the
            // command and its flags must exist; the operands are shown in the code blocks.
            if s.inline && e.kind() == clap::error::ErrorKind::MissingRequiredArgument {
                continue;
            }
            let first = e.to_string().lines().next().unwrap_or_default().to_string();
            broken.push(format!("README.md:{}: `{}`: {first}", s.line, s.text));
        }
    }
    assert!(
        broken.is_empty(),
        "README commands that no longer parse:\n{}",
        broken.join("\n")
    );
}

/// Commands that only read: safe to run on the demo store.
const READ_ONLY: &[&str] = &[
    "findings",
    "unregistered",
    "diff",
    "verify",
    "scans",
    "locate",
    "regions",
    "rules",
];

#[test]
fn the_readme_quick_start_commands_run_on_the_demo_store() {
    let dir = tempfile::tempdir().unwrap();
    let out = cloudcensus()
        .current_dir(dir.path())
        .arg("demo")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let readme = read("README.md");
    let mut ran = 0;
    let mut failed = Vec::new();
    for s in shown_commands(&readme).into_iter().filter(|s| !s.inline) {
        let Some(cmd) = s
            .args
            .iter()
            .find(|a| !a.starts_with('-') && !a.contains('/'))
        else {
            continue;
        };
        let demo_store = s.args.iter().any(|a| a.starts_with("cloudcensus-demo/"));
        let offline = matches!(cmd.as_str(), "locate" | "regions" | "rules");
        if !READ_ONLY.contains(&cmd.as_str()) || !(demo_store || offline) {
            continue;
        }
        let out = cloudcensus()
            .current_dir(dir.path())
            .args(&s.args)
            .output()
            .unwrap();
        ran += 1;
        // 0: success; 4: `findings` found something at or above --fail-on.
        if !matches!(out.status.code(), Some(0 | 4)) {
            failed.push(format!(
                "README.md:{}: `{}` exited {:?}: {}",
                s.line,
                s.text,
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(ran >= 8, "ran only {ran} README commands on the demo store");
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The TOML code blocks of a document: (line of the block, text).
fn toml_blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("```") {
            match cur.take() {
                Some(block) => out.push(block),
                None if t == "```toml" => cur = Some((i + 1, String::new())),
                None => {}
            }
            continue;
        }
        if let Some((_, b)) = &mut cur {
            b.push_str(line);
            b.push('\n');
        }
    }
    out
}

/// The keys a TOML text names, dotted (`rules.suppress.reason`), also those of commented
/// lines (`# key = …`, the way examples show optional keys) and of inline tables; keys
/// inside maps of free names (quoted keys) are not configuration keys.
fn named_keys(text: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut table = String::new();
    // The key of a multi-line array of inline tables (`exclude_scopes = [`).
    let mut array: Option<String> = None;
    let is_key = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let prefixed = |table: &str, k: &str| {
        if table.is_empty() {
            k.to_string()
        } else {
            format!("{table}.{k}")
        }
    };
    for line in text.lines() {
        let t = line.trim().trim_start_matches('#').trim();
        if let Some(name) = t
            .strip_prefix("[[")
            .and_then(|r| r.split_once("]]"))
            .map(|(n, _)| n)
            .or_else(|| {
                t.strip_prefix('[')
                    .and_then(|r| r.split_once(']'))
                    .map(|(n, _)| n)
            })
            .filter(|n| n.split('.').all(is_key))
        {
            table = name.to_string();
            keys.insert(table.clone());
            array = None;
            continue;
        }
        let inline_in = |owner: &str, rest: &str, keys: &mut BTreeSet<String>| {
            // `{ a = 1, b = "x" }` (one level).
            if let Some(body) = rest.split_once('{').map(|(_, b)| b) {
                for part in body.split(',') {
                    if let Some((k, _)) = part.split_once('=') {
                        let k = k.trim().trim_start_matches('{').trim();
                        if is_key(k) {
                            keys.insert(format!("{owner}.{k}"));
                        }
                    }
                }
            }
        };
        if let Some(owner) = &array {
            if t.starts_with('{') {
                inline_in(owner, t, &mut keys);
                continue;
            }
            if t.starts_with(']') {
                array = None;
                continue;
            }
        }
        if let Some((k, v)) = t.split_once(" = ") {
            let k = k.trim();
            if !is_key(k) {
                continue;
            }
            let full = prefixed(&table, k);
            keys.insert(full.clone());
            let v = v.trim();
            if v.starts_with('{') || v.starts_with("[ {") || v.starts_with("[{") {
                inline_in(&full, v, &mut keys);
            } else if v == "[" {
                array = Some(full);
            }
        }
    }
    keys
}

/// The documents that show configuration.
const CONFIG_DOCS: &[&str] = &[
    "README.md",
    "docs/register.md",
    "docs/catalog.md",
    "docs/store.md",
    "connectors/aws/README.md",
    "connectors/azure/README.md",
    "connectors/gcp/README.md",
];

#[cfg(all(feature = "aws", feature = "azure", feature = "gcp"))]
/// Whether a TOML block is a configuration file (and not, say, a catalog override).
fn is_config(block: &str) -> bool {
    let keys = named_keys(block);
    [
        "organisation",
        "store",
        "register",
        "matching",
        "rules",
        "aws",
        "azure",
        "gcp",
    ]
    .iter()
    .any(|k| {
        keys.iter()
            .any(|x| x == k || x.starts_with(&format!("{k}.")))
    })
}

#[cfg(all(feature = "aws", feature = "azure", feature = "gcp"))]
#[test]
fn every_config_block_in_the_docs_has_only_keys_config_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let mut refused = Vec::new();
    let mut checked = 0;
    for doc in CONFIG_DOCS {
        for (line, block) in toml_blocks(&read(doc)) {
            if !is_config(&block) {
                continue;
            }
            checked += 1;
            let config = dir.path().join("cloudcensus.toml");
            std::fs::write(&config, &block).unwrap();
            let out = cloudcensus()
                .arg("--config")
                .arg(&config)
                .args(["config", "check"])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            for l in err
                .lines()
                .filter(|l| l.contains("unknown key") || l.contains("unknown field"))
            {
                refused.push(format!("{doc}:{line}: {}", l.trim()));
            }
        }
    }
    assert!(checked >= 4, "only {checked} configuration blocks found");
    assert!(
        refused.is_empty(),
        "configuration the docs show that `config check` refuses:\n{}",
        refused.join("\n")
    );
}

#[test]
fn every_key_config_check_accepts_is_documented() {
    let mut documented = BTreeSet::new();
    for doc in CONFIG_DOCS {
        for (_, block) in toml_blocks(&read(doc)) {
            documented.extend(named_keys(&block));
        }
    }
    // `cloudcensus config example` (examples/cloudcensus.toml) documents keys too.
    documented.extend(named_keys(cloudcensus::config::EXAMPLE));
    documented.extend(named_keys(&read("connectors/azure/config-examples.toml")));
    // Each connector README's key table (`| \`key\` | default | meaning |`) documents the
    // keys of that provider's source tables.
    for provider in ["aws", "azure", "gcp"] {
        let text = read(&format!("connectors/{provider}/README.md"));
        for line in text.lines() {
            let Some(cell) = line.strip_prefix("| `") else {
                continue;
            };
            let Some((key, _)) = cell.split_once('`') else {
                continue;
            };
            if !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
            {
                documented.insert(format!("{provider}.{key}"));
            }
        }
    }
    let undocumented: Vec<String> = cloudcensus::config::accepted_keys()
        .into_iter()
        .filter(|k| !documented.contains(k))
        .collect();
    assert!(
        undocumented.is_empty(),
        "keys `config check` accepts that no document names (README.md, docs/, connectors/*/README.md, `config example`): {undocumented:?}"
    );
}

#[cfg(all(feature = "aws", feature = "azure", feature = "gcp"))]
#[test]
fn every_key_the_docs_name_is_one_the_parser_has() {
    let accepted: BTreeSet<String> = cloudcensus::config::accepted_keys().into_iter().collect();
    let mut unknown = Vec::new();
    for doc in CONFIG_DOCS {
        for (line, block) in toml_blocks(&read(doc)) {
            if !is_config(&block) {
                continue;
            }
            for k in named_keys(&block) {
                // A key inside a map of free names (`dpf_certified = { aws = true }`): its
                // parent is an accepted key without accepted children.
                let in_free_map = accepted.iter().any(|a| {
                    k.starts_with(&format!("{a}."))
                        && !accepted.iter().any(|c| c.starts_with(&format!("{a}.")))
                });
                if !accepted.contains(&k) && !in_free_map {
                    unknown.push(format!("{doc}:{line}: {k}"));
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "keys the docs name that the config does not have:\n{}",
        unknown.join("\n")
    );
}
