//! The `[[azure]]` source configuration and its validation.
//!
//! One struct is both the documentation and the parser (`deny_unknown_fields`), so a
//! misspelt key fails loudly instead of silently scanning with defaults. Validation is a
//! second phase that collects every problem at once, each naming the key and what to do.

use serde::Deserialize;

/// How the connector obtains Entra ID tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    /// The signed-in Azure CLI (`az login`); the default for a person at a terminal.
    #[default]
    Cli,
    /// A service principal with a client secret read from `client_secret_env`.
    ClientSecret,
    /// Workload identity federation (Kubernetes, GitHub Actions): `AZURE_FEDERATED_TOKEN_FILE`.
    WorkloadIdentity,
    /// The managed identity of the VM / container / function the scan runs on.
    ManagedIdentity,
    /// A bearer token for Resource Manager read from the variable `access_token_env`
    /// (e.g. from `az account get-access-token`).
    TokenEnv,
}

impl CredentialKind {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Cli => "cli",
            CredentialKind::ClientSecret => "client-secret",
            CredentialKind::WorkloadIdentity => "workload-identity",
            CredentialKind::ManagedIdentity => "managed-identity",
            CredentialKind::TokenEnv => "token-env",
        }
    }
}

/// Which Azure cloud (sovereign cloud) to scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AzureCloud {
    /// Azure public cloud (`management.azure.com`).
    #[default]
    Public,
    /// Azure China, operated by 21Vianet (`management.chinacloudapi.cn`).
    China,
    /// Azure US Government (`management.usgovcloudapi.net`).
    Usgov,
}

impl AzureCloud {
    /// The Resource Manager endpoint of this cloud.
    pub fn arm_endpoint(self) -> &'static str {
        match self {
            AzureCloud::Public => "https://management.azure.com",
            AzureCloud::China => "https://management.chinacloudapi.cn",
            AzureCloud::Usgov => "https://management.usgovcloudapi.net",
        }
    }

    /// The token scope (audience + `/.default`) for Resource Manager.
    pub fn arm_scope(self) -> String {
        format!("{}/.default", self.arm_endpoint())
    }

    /// The blob endpoint template of this cloud.
    pub fn blob_endpoint_template(self) -> &'static str {
        match self {
            AzureCloud::Public => "https://{account}.blob.core.windows.net/",
            AzureCloud::China => "https://{account}.blob.core.chinacloudapi.cn/",
            AzureCloud::Usgov => "https://{account}.blob.core.usgovcloudapi.net/",
        }
    }

    pub(crate) fn sdk_cloud(self) -> azure_core::cloud::CloudConfiguration {
        use azure_core::cloud::CloudConfiguration;
        match self {
            AzureCloud::Public => CloudConfiguration::AzurePublic,
            AzureCloud::China => CloudConfiguration::AzureChina,
            AzureCloud::Usgov => CloudConfiguration::AzureGovernment,
        }
    }
}

/// How resources are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InventoryMode {
    /// Resource Manager: `GET /subscriptions/{id}/resources` per subscription, plus the
    /// storage accounts' replication details. Works with the Reader role everywhere.
    #[default]
    Arm,
    /// Azure Resource Graph: one KQL query over batches of up to 1 000 subscriptions,
    /// paged with `$skipToken`. Faster for large estates.
    ResourceGraph,
}

/// One `[[azure]]` source: an identity and the subscriptions it scans.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureSourceConfig {
    /// Name of this source, used in coverage, logs and error messages.
    pub name: String,
    /// How to obtain tokens: `cli` (default), `client-secret`, `workload-identity`,
    /// `managed-identity` or `token-env`.
    #[serde(default)]
    pub credential: CredentialKind,
    /// Entra ID tenant (directory) id. Required for `client-secret`; optional for `cli`
    /// and `workload-identity` (defaults to `AZURE_TENANT_ID`).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Application (client) id. Required for `client-secret`; for `managed-identity` it
    /// selects a user-assigned identity; for `workload-identity` defaults to
    /// `AZURE_CLIENT_ID`.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Name of the environment variable holding the client secret (`client-secret`).
    /// The secret itself never goes into the file.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// Name of the environment variable holding a Resource Manager bearer token
    /// (`token-env`).
    #[serde(default)]
    pub access_token_env: Option<String>,
    /// The cloud: `public` (default), `china` or `usgov`. Sets the Resource Manager
    /// endpoint, the token audience and the blob endpoint suffix.
    #[serde(default)]
    pub cloud: AzureCloud,
    /// Overrides the Resource Manager endpoint (a proxy, or a local mock in tests).
    /// The token audience stays that of `cloud`.
    #[serde(default)]
    pub arm_endpoint: Option<String>,
    /// Subscription ids to scan. Empty (default): every subscription the identity can read.
    #[serde(default)]
    pub subscriptions: Vec<String>,
    /// Only scan subscriptions below this management group (its id, e.g. `mg-ministry`).
    #[serde(default)]
    pub management_group: Option<String>,
    /// Inventory mode: `arm` (default) or `resource-graph`.
    #[serde(default)]
    pub mode: InventoryMode,
    /// Also list blob containers and their metadata (data plane) of every storage
    /// account. Needs `Storage Blob Data Reader` (or a SAS, see `blob_sas_env`).
    #[serde(default)]
    pub storage_data_plane: bool,
    /// Overrides the blob endpoint; `{account}` is replaced by the account name
    /// (e.g. `http://127.0.0.1:10000/{account}` for Azurite). Default: the cloud's
    /// `https://{account}.blob.core.windows.net/`.
    #[serde(default)]
    pub blob_endpoint_template: Option<String>,
    /// Name of an environment variable holding a SAS query string (`sv=...&sig=...`)
    /// used for the data plane instead of a token (emulators, single-account setups).
    /// Required for the data plane with `token-env` (that token is for Resource Manager).
    #[serde(default)]
    pub blob_sas_env: Option<String>,
    /// Upper bound on concurrent requests this source makes (default 8).
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
    /// Longest one HTTP attempt may take, in seconds, from connecting to the last byte
    /// of the answer (default 120; a Resource Graph page of 1 000 rows can be slow).
    /// A call that times out is retried like a 5xx; when attempts run out it becomes
    /// an `error` coverage entry naming this key.
    #[serde(default = "default_request_timeout_secs")]
    pub request_timeout_secs: u64,
    /// Attempts per call, the first included (default 6). 429, 5xx, resets and
    /// timeouts are retried; a call still throttled after the last attempt is
    /// `throttled` coverage.
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

fn default_creator_lookup() -> bool {
    true
}

fn default_max_concurrency() -> usize {
    8
}

fn default_request_timeout_secs() -> u64 {
    120
}

fn default_max_attempts() -> u32 {
    6
}

fn default_retry_base_delay_ms() -> u64 {
    200
}

impl AzureSourceConfig {
    /// A configuration with defaults and the given name (useful for code and tests).
    pub fn new(name: impl Into<String>) -> Self {
        AzureSourceConfig {
            name: name.into(),
            credential: CredentialKind::default(),
            tenant_id: None,
            client_id: None,
            client_secret_env: None,
            access_token_env: None,
            cloud: AzureCloud::default(),
            arm_endpoint: None,
            subscriptions: Vec::new(),
            management_group: None,
            mode: InventoryMode::default(),
            storage_data_plane: false,
            blob_endpoint_template: None,
            blob_sas_env: None,
            max_concurrency: default_max_concurrency(),
            request_timeout_secs: default_request_timeout_secs(),
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

    /// The worst-case time one call can take before it becomes coverage:
    /// every attempt timing out plus the longest wait between attempts.
    pub fn worst_case_call(&self) -> std::time::Duration {
        self.retry_policy()
            .worst_case(std::time::Duration::from_secs(self.request_timeout_secs))
    }

    /// Every problem with this configuration, each naming the key and what to do.
    /// Empty when the configuration is usable.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let missing = |key: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .unwrap_or("")
                .is_empty()
                .then(|| {
                    format!(
                        "credential = \"{}\" needs `{key}`",
                        self.credential.as_str()
                    )
                })
        };
        if self.name.trim().is_empty() {
            p.push("`name` must not be empty".to_string());
        }
        match self.credential {
            CredentialKind::ClientSecret => {
                p.extend(missing("tenant_id", &self.tenant_id));
                p.extend(missing("client_id", &self.client_id));
                p.extend(missing("client_secret_env", &self.client_secret_env));
            }
            CredentialKind::TokenEnv => {
                p.extend(missing("access_token_env", &self.access_token_env));
                if self.storage_data_plane && self.blob_sas_env.is_none() {
                    p.push(
                        "storage_data_plane with credential = \"token-env\" needs `blob_sas_env` \
                         (the token is for Resource Manager, not for storage)"
                            .to_string(),
                    );
                }
            }
            CredentialKind::Cli
            | CredentialKind::WorkloadIdentity
            | CredentialKind::ManagedIdentity => {}
        }
        if self.client_secret_env.is_some() && self.credential != CredentialKind::ClientSecret {
            p.push(format!(
                "`client_secret_env` is only used with credential = \"client-secret\" (got \"{}\")",
                self.credential.as_str()
            ));
        }
        if self.access_token_env.is_some() && self.credential != CredentialKind::TokenEnv {
            p.push(format!(
                "`access_token_env` is only used with credential = \"token-env\" (got \"{}\")",
                self.credential.as_str()
            ));
        }
        if let Some(ep) = &self.arm_endpoint
            && url::Url::parse(ep)
                .map(|u| u.cannot_be_a_base())
                .unwrap_or(true)
        {
            p.push(format!(
                "`arm_endpoint` = \"{ep}\" is not an absolute URL (e.g. https://management.azure.com)"
            ));
        }
        if let Some(t) = &self.blob_endpoint_template
            && !t.contains("{account}")
        {
            p.push(format!(
                "`blob_endpoint_template` = \"{t}\" must contain `{{account}}`"
            ));
        }
        for s in &self.subscriptions {
            if !looks_like_guid(s) {
                p.push(format!(
                    "`subscriptions` entry \"{s}\" is not a subscription id (a GUID like \
                     00000000-0000-0000-0000-000000000000)"
                ));
            }
        }
        if self.max_concurrency == 0 {
            p.push("`max_concurrency` must be at least 1".to_string());
        }
        p.extend(cloudcensus_core::creator::check_creator_lookup_max(
            self.creator_lookup_max,
        ));
        p.extend(cloudcensus_core::retry::check_retry_settings(
            self.request_timeout_secs,
            self.max_attempts,
            self.retry_base_delay_ms,
        ));
        p
    }

    /// The Resource Manager base URL: the override, or the cloud's endpoint.
    pub fn arm_base(&self) -> &str {
        self.arm_endpoint
            .as_deref()
            .unwrap_or_else(|| self.cloud.arm_endpoint())
    }
}

/// Whether `s` has the 8-4-4-4-12 hex shape of a GUID.
pub(crate) fn looks_like_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_rejected() {
        let err = toml_like(r#"{"name":"a","subscription":"x"}"#).unwrap_err();
        assert!(err.contains("unknown field `subscription`"), "{err}");
    }

    #[test]
    fn defaults_are_cli_public_arm() {
        let cfg = toml_like(r#"{"name":"prod"}"#).unwrap();
        assert_eq!(cfg.credential, CredentialKind::Cli);
        assert_eq!(cfg.cloud, AzureCloud::Public);
        assert_eq!(cfg.mode, InventoryMode::Arm);
        assert_eq!(cfg.max_concurrency, 8);
        assert_eq!(cfg.arm_base(), "https://management.azure.com");
        assert!(cfg.problems().is_empty());
    }

    #[test]
    fn validation_collects_every_problem_with_its_key() {
        let cfg = toml_like(
            r#"{"name":"x","credential":"client-secret","subscriptions":["nope"],
                "max_concurrency":0,"access_token_env":"T"}"#,
        )
        .unwrap();
        let p = cfg.problems().join("\n");
        for key in [
            "tenant_id",
            "client_id",
            "client_secret_env",
            "\"nope\"",
            "max_concurrency",
            "access_token_env",
        ] {
            assert!(p.contains(key), "missing {key} in:\n{p}");
        }
    }

    #[test]
    fn sovereign_clouds_have_their_own_endpoints_and_audiences() {
        assert_eq!(
            AzureCloud::China.arm_scope(),
            "https://management.chinacloudapi.cn/.default"
        );
        assert_eq!(
            AzureCloud::Usgov.arm_endpoint(),
            "https://management.usgovcloudapi.net"
        );
    }

    fn toml_like(json: &str) -> Result<AzureSourceConfig, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }
}
