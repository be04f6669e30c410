//! The `[[gcp]]` source configuration and its validation.
//!
//! Config is parsed by serde with `deny_unknown_fields` so a typo is an error, not a
//! silently ignored key; [`GcpSourceConfig::validate`] then checks the values and
//! collects every problem so the user sees the full list at once.

use std::fmt;

use serde::Deserialize;

/// Default for [`GcpSourceConfig::max_concurrency`].
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// Production endpoint of the Cloud Asset API.
pub const DEFAULT_ASSET_ENDPOINT: &str = "https://cloudasset.googleapis.com";
/// Production endpoint of the Resource Manager API.
pub const DEFAULT_RESOURCEMANAGER_ENDPOINT: &str = "https://cloudresourcemanager.googleapis.com";
/// Production endpoint of the Cloud Storage JSON API.
pub const DEFAULT_STORAGE_ENDPOINT: &str = "https://storage.googleapis.com";
/// Production endpoint of the Cloud Logging API (creator lookups).
pub const DEFAULT_LOGGING_ENDPOINT: &str = "https://logging.googleapis.com";

/// One Google Cloud source (`[[gcp]]` in the scan configuration).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpSourceConfig {
    /// Name of this source, used in coverage, logs and error messages.
    pub name: String,
    /// What to scan: `organizations/N`, `folders/N` (every active project below it,
    /// found through Resource Manager) or `projects/PROJECT_ID` (that project only).
    pub scope: String,
    /// How to authenticate: `adc` (Application Default Credentials: service-account key
    /// in `GOOGLE_APPLICATION_CREDENTIALS`, workload identity federation, the metadata
    /// server, or `gcloud auth application-default login`) or `anonymous` (emulators and
    /// local test servers only). Default `adc`.
    #[serde(default)]
    pub credentials: CredentialsKind,
    /// Cloud Storage JSON API endpoint. Default: `STORAGE_EMULATOR_HOST` when set (then
    /// without credentials, as Google's client libraries do), else
    /// `https://storage.googleapis.com`.
    #[serde(default)]
    pub storage_endpoint: Option<String>,
    /// Cloud Asset API endpoint. Default `https://cloudasset.googleapis.com`.
    #[serde(default)]
    pub asset_endpoint: Option<String>,
    /// Resource Manager API endpoint. Default
    /// `https://cloudresourcemanager.googleapis.com`.
    #[serde(default)]
    pub resourcemanager_endpoint: Option<String>,
    /// Cloud Logging API endpoint, for creator lookups in the Admin Activity audit log.
    /// Default `https://logging.googleapis.com`.
    #[serde(default)]
    pub logging_endpoint: Option<String>,
    /// Upper bound on API requests this source has in flight at once. Default 8.
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
    /// Longest one HTTP attempt may take, in seconds (default 120: a page of 500 search
    /// results is large). A timed-out attempt is retried; when attempts run out it is
    /// an `error` coverage entry naming this key.
    #[serde(default = "default_request_timeout_secs")]
    pub request_timeout_secs: u64,
    /// Attempts per call, the first included (default 6). 429, 5xx, resets and
    /// timeouts are retried; still throttled after the last one → `throttled` coverage.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Backoff base in milliseconds (default 200): attempt n waits up to
    /// `base × 2^(n-1)` (full jitter), capped at 30 s; a server's `Retry-After` wins.
    #[serde(default = "default_retry_base_delay_ms")]
    pub retry_base_delay_ms: u64,
    /// Look up who created each unregistered resource (or one with an unknown activity
    /// id) in the provider's audit log, read-only (default true).
    #[serde(default = "default_creator_lookup")]
    pub creator_lookup: bool,
    /// At most this many such lookups per scan for this source (default 1000); the rest
    /// are recorded as skipped and tried again in the next scan.
    #[serde(default = "cloudcensus_core::creator::default_creator_lookup_max")]
    pub creator_lookup_max: usize,
}

/// Default for [`GcpSourceConfig::request_timeout_secs`].
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 120;

fn default_request_timeout_secs() -> u64 {
    DEFAULT_REQUEST_TIMEOUT_SECS
}

fn default_max_attempts() -> u32 {
    6
}

fn default_retry_base_delay_ms() -> u64 {
    200
}

fn default_creator_lookup() -> bool {
    true
}

fn default_max_concurrency() -> usize {
    DEFAULT_MAX_CONCURRENCY
}

/// How the connector authenticates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialsKind {
    /// Application Default Credentials.
    #[default]
    Adc,
    /// No credentials (emulators and local test servers).
    Anonymous,
}

/// A parsed `scope` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeSpec {
    /// `organizations/N`.
    Organization(String),
    /// `folders/N`.
    Folder(String),
    /// `projects/PROJECT_ID`.
    Project(String),
}

impl ScopeSpec {
    /// Parses `organizations/N`, `folders/N` or `projects/ID`.
    pub fn parse(raw: &str) -> Result<ScopeSpec, String> {
        let raw = raw.trim();
        let (kind, id) = raw.split_once('/').ok_or_else(|| {
            format!(
                "scope '{raw}' is not of the form organizations/N, folders/N or projects/PROJECT_ID"
            )
        })?;
        let numeric = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        match kind {
            "organizations" if numeric => Ok(ScopeSpec::Organization(id.to_string())),
            "folders" if numeric => Ok(ScopeSpec::Folder(id.to_string())),
            "organizations" | "folders" => Err(format!(
                "scope '{raw}': {kind} are addressed by their number (e.g. {kind}/123456789012)"
            )),
            "projects" if is_project_id(id) => Ok(ScopeSpec::Project(id.to_string())),
            "projects" => Err(format!(
                "scope '{raw}': '{id}' is not a project id (6-30 characters: lower-case letters, digits, hyphens; starts with a letter)"
            )),
            _ => Err(format!(
                "scope '{raw}': expected organizations/N, folders/N or projects/PROJECT_ID"
            )),
        }
    }

    /// The resource name (`organizations/N`, `folders/N`, `projects/ID`).
    pub fn resource_name(&self) -> String {
        match self {
            ScopeSpec::Organization(n) => format!("organizations/{n}"),
            ScopeSpec::Folder(n) => format!("folders/{n}"),
            ScopeSpec::Project(id) => format!("projects/{id}"),
        }
    }
}

impl fmt::Display for ScopeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.resource_name())
    }
}

/// Project ids: 6–30 characters, lower-case letters, digits and hyphens, starting with a
/// letter, not ending with a hyphen. Legacy domain-scoped ids (`example.com:proj`) are
/// accepted too.
fn is_project_id(id: &str) -> bool {
    let local = id.rsplit_once(':').map_or(id, |(_, p)| p);
    let ok_chars = local
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (6..=30).contains(&local.len())
        && ok_chars
        && local.as_bytes()[0].is_ascii_lowercase()
        && !local.ends_with('-')
}

impl GcpSourceConfig {
    /// A configuration with defaults for everything but name and scope.
    pub fn new(name: impl Into<String>, scope: impl Into<String>) -> Self {
        GcpSourceConfig {
            name: name.into(),
            scope: scope.into(),
            credentials: CredentialsKind::Adc,
            storage_endpoint: None,
            asset_endpoint: None,
            resourcemanager_endpoint: None,
            logging_endpoint: None,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            request_timeout_secs: DEFAULT_REQUEST_TIMEOUT_SECS,
            max_attempts: default_max_attempts(),
            retry_base_delay_ms: default_retry_base_delay_ms(),
            creator_lookup: true,
            creator_lookup_max: cloudcensus_core::creator::DEFAULT_CREATOR_LOOKUP_MAX,
        }
    }

    /// The retry policy these settings describe.
    pub fn retry_policy(&self) -> cloudcensus_core::retry::RetryPolicy {
        cloudcensus_core::retry::RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            base_delay: std::time::Duration::from_millis(self.retry_base_delay_ms),
            max_delay: cloudcensus_core::retry::RetryPolicy::default().max_delay,
        }
    }

    /// The worst-case time one call can take before it becomes coverage: every
    /// attempt timing out plus the longest wait between attempts.
    pub fn worst_case_call(&self) -> std::time::Duration {
        self.retry_policy()
            .worst_case(std::time::Duration::from_secs(self.request_timeout_secs))
    }

    /// Checks every value and returns all problems, each naming its key.
    pub fn validate(&self) -> Result<ScopeSpec, Vec<String>> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push("name: must not be empty".to_string());
        }
        let scope = ScopeSpec::parse(&self.scope)
            .map_err(|e| problems.push(format!("scope: {e}")))
            .ok();
        for (key, value) in [
            ("storage_endpoint", &self.storage_endpoint),
            ("asset_endpoint", &self.asset_endpoint),
            ("resourcemanager_endpoint", &self.resourcemanager_endpoint),
            ("logging_endpoint", &self.logging_endpoint),
        ] {
            if let Some(v) = value
                && let Err(e) = check_endpoint(v)
            {
                problems.push(format!("{key}: {e}"));
            }
        }
        if self.max_concurrency == 0 {
            problems.push("max_concurrency: must be at least 1".to_string());
        }
        problems.extend(cloudcensus_core::creator::check_creator_lookup_max(
            self.creator_lookup_max,
        ));
        problems.extend(cloudcensus_core::retry::check_retry_settings(
            self.request_timeout_secs,
            self.max_attempts,
            self.retry_base_delay_ms,
        ));
        match scope {
            Some(s) if problems.is_empty() => Ok(s),
            _ => Err(problems),
        }
    }
}

fn check_endpoint(v: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(v).map_err(|e| format!("'{v}' is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("'{v}' must be an http(s) URL with a host"));
    }
    Ok(())
}

/// The storage endpoint to use and whether it is an emulator (no credentials).
///
/// Precedence: the configured `storage_endpoint`, then `STORAGE_EMULATOR_HOST` (given as
/// `host:port` or a URL), then production.
pub fn resolve_storage_endpoint(
    configured: Option<&str>,
    emulator_host: Option<&str>,
) -> (String, bool) {
    if let Some(c) = configured {
        return (c.trim_end_matches('/').to_string(), false);
    }
    match emulator_host.map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) if h.starts_with("http://") || h.starts_with("https://") => {
            (h.trim_end_matches('/').to_string(), true)
        }
        Some(h) => (format!("http://{}", h.trim_end_matches('/')), true),
        None => (DEFAULT_STORAGE_ENDPOINT.to_string(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_accepts_org_folder_and_project() {
        assert_eq!(
            ScopeSpec::parse("organizations/123").unwrap(),
            ScopeSpec::Organization("123".into())
        );
        assert_eq!(
            ScopeSpec::parse("folders/456").unwrap(),
            ScopeSpec::Folder("456".into())
        );
        assert_eq!(
            ScopeSpec::parse("projects/my-proj-1").unwrap(),
            ScopeSpec::Project("my-proj-1".into())
        );
    }

    #[test]
    fn scope_rejects_names_instead_of_numbers_and_bad_ids() {
        assert!(
            ScopeSpec::parse("organizations/acme")
                .unwrap_err()
                .contains("number")
        );
        assert!(
            ScopeSpec::parse("projects/Bad_Id")
                .unwrap_err()
                .contains("not a project id")
        );
        assert!(
            ScopeSpec::parse("my-project")
                .unwrap_err()
                .contains("projects/PROJECT_ID")
        );
        assert!(ScopeSpec::parse("billingAccounts/1").is_err());
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = toml_like(r#"{"name":"g","scope":"projects/abcdef","regions":["x"]}"#);
        assert!(err.contains("unknown field `regions`"), "{err}");
    }

    fn toml_like(json: &str) -> String {
        serde_json::from_str::<GcpSourceConfig>(json)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn validate_collects_every_problem_with_its_key() {
        let mut cfg = GcpSourceConfig::new("", "folders/x");
        cfg.asset_endpoint = Some("not a url".into());
        cfg.max_concurrency = 0;
        let problems = cfg.validate().unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("name:"));
        assert!(problems[1].starts_with("scope:"));
        assert!(problems[2].starts_with("asset_endpoint:"));
        assert!(problems[3].starts_with("max_concurrency:"));
    }

    #[test]
    fn storage_emulator_host_is_used_only_when_no_endpoint_is_configured() {
        assert_eq!(
            resolve_storage_endpoint(None, Some("127.0.0.1:9023")),
            ("http://127.0.0.1:9023".to_string(), true)
        );
        assert_eq!(
            resolve_storage_endpoint(None, Some("http://localhost:1/")),
            ("http://localhost:1".to_string(), true)
        );
        assert_eq!(
            resolve_storage_endpoint(Some("http://x:2"), Some("127.0.0.1:9023")),
            ("http://x:2".to_string(), false)
        );
        assert_eq!(
            resolve_storage_endpoint(None, None),
            (DEFAULT_STORAGE_ENDPOINT.to_string(), false)
        );
    }
}
