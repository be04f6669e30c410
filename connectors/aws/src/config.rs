//! The `[[aws]]` source configuration.
//!
//! One source is one identity (profile or the default credential chain) and, with
//! `organization = true`, every member account that identity can reach by assuming a
//! role. Unknown keys are rejected so a typo never silently narrows a scan.

use serde::Deserialize;

/// Default number of AWS API calls in flight at once per source.
pub const DEFAULT_MAX_CONCURRENCY: usize = 16;

/// Which regions to scan.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(try_from = "RawRegions")]
pub enum Regions {
    /// Every region of the account's partition; regions not opted in are reported as
    /// `not-enabled` coverage (nothing can exist there).
    #[default]
    Enabled,
    /// Exactly these regions (scanned whatever their opt-in status; a refusal becomes
    /// coverage).
    List(Vec<String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRegions {
    Word(String),
    List(Vec<String>),
}

impl TryFrom<RawRegions> for Regions {
    type Error = String;

    fn try_from(raw: RawRegions) -> Result<Self, Self::Error> {
        match raw {
            RawRegions::Word(w) if w.trim().eq_ignore_ascii_case("enabled") => {
                Ok(Regions::Enabled)
            }
            RawRegions::Word(w) => Err(format!(
                "regions = \"{w}\": expected \"enabled\" or a list such as [\"eu-west-1\", \"eu-central-1\"]"
            )),
            RawRegions::List(list) if list.is_empty() => Err(
                "regions = []: list at least one region, or use \"enabled\" for all enabled regions"
                    .to_string(),
            ),
            RawRegions::List(list) => Ok(Regions::List(
                list.into_iter().map(|r| r.trim().to_ascii_lowercase()).collect(),
            )),
        }
    }
}

/// How the Cloud Control types are listed (`inventory` in `[[aws]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Inventory {
    /// Cloud Control `ListResources` per (account, region, type).
    #[default]
    CloudControl,
    /// Resource Explorer's aggregator index, with Cloud Control for what it does not cover.
    ResourceExplorer,
}

/// One configured AWS source (`[[aws]]` in the cloudcensus configuration).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSourceConfig {
    /// Name of this source, used in output and error messages (e.g. `"productie"`).
    pub name: String,
    /// Named profile from `~/.aws/config` / `~/.aws/credentials` (SSO profiles
    /// included). Without it the standard credential chain is used: environment,
    /// shared config `default` profile, web identity, container and instance metadata.
    #[serde(default)]
    pub profile: Option<String>,
    /// `"enabled"` (default: every region of the partition, with regions that are not
    /// opted in recorded as `not-enabled`) or a list of region codes.
    #[serde(default)]
    pub regions: Regions,
    /// Discover member accounts through AWS Organizations (`ListAccounts`, active
    /// accounts only). Requires `assume_role`.
    #[serde(default)]
    pub organization: bool,
    /// Only scan these account ids (12 digits). Empty: every discovered account.
    #[serde(default)]
    pub include_accounts: Vec<String>,
    /// Never scan these account ids.
    #[serde(default)]
    pub exclude_accounts: Vec<String>,
    /// Only scan accounts below one of these organizational units (`ou-…`, any depth)
    /// or roots (`r-…`). Empty: all. Needs `organization = true`.
    #[serde(default)]
    pub include_ous: Vec<String>,
    /// Never scan accounts below one of these organizational units (any depth).
    #[serde(default)]
    pub exclude_ous: Vec<String>,
    /// Name of the role assumed in each member account (session name `cloudcensus`),
    /// e.g. `"CloudcensusReadOnly"`. The account the identity itself belongs to is
    /// scanned with the identity's own credentials.
    #[serde(default)]
    pub assume_role: Option<String>,
    /// External id passed with every `AssumeRole`, when the member roles require one.
    #[serde(default)]
    pub external_id: Option<String>,
    /// How long each assumed-role session lasts, in seconds (900–43 200, default 3 600;
    /// at most the role's own maximum session duration). A scan outlives it: the
    /// credentials are requested again shortly before they expire.
    #[serde(default = "default_assume_role_session_secs")]
    pub assume_role_session_secs: u32,
    /// Endpoint for every AWS API (emulators, VPC endpoints). The standard
    /// `AWS_ENDPOINT_URL` environment variable works too.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Endpoint for one service only, keyed by the SDK's service id as in the
    /// `AWS_ENDPOINT_URL_<SERVICE>` variables (`cloudcontrol = "http://…"`). Wins over
    /// `endpoint_url`; the standard per-service environment variables work too.
    #[serde(default)]
    pub endpoint_urls: std::collections::BTreeMap<String, String>,
    /// List every type of `aws-cloudcontrol.csv` through the Cloud Control API
    /// (`cloudformation:ListResources`), tagged or not (default true). Off, those types
    /// are seen only when tagged, and every output says so.
    #[serde(default = "default_true")]
    pub cloud_control: bool,
    /// How the types of `aws-cloudcontrol.csv` are listed: `"cloud-control"` (default:
    /// `ListResources` per account, region and type) or `"resource-explorer"` (the
    /// account's Resource Explorer aggregator index: every supported type in every
    /// indexed region in a few paged calls; regions and types it does not cover, and
    /// accounts without an aggregator index, fall back to Cloud Control, and coverage
    /// says so).
    #[serde(default)]
    pub inventory: Inventory,
    /// The Resource Explorer view to list through (an ARN in the aggregator's region).
    /// Default: the aggregator region's default view. A view with a filter does not
    /// list everything, so it is refused and the scan falls back to Cloud Control.
    #[serde(default)]
    pub resource_explorer_view: Option<String>,
    /// Maximum AWS API calls in flight at once (default 16).
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
    /// Longest one attempt of an AWS call may take, in seconds (the SDK's operation
    /// attempt timeout; default 60). A timed-out attempt is retried; when attempts run
    /// out the call is an `error` coverage entry naming this key.
    #[serde(default = "default_request_timeout_secs")]
    pub request_timeout_secs: u64,
    /// Attempts per call, the first included, in the SDK's adaptive retry mode
    /// (default 6). Still throttled after the last one → `throttled` coverage.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// The SDK's initial backoff in milliseconds (default 1000): attempt n waits a
    /// random time up to `base × 2^(n-1)`, capped at 20 s.
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

/// The service ids `endpoint_urls` accepts (the SDK's, lower-case, as in
/// `AWS_ENDPOINT_URL_<SERVICE>`). Other services: the standard environment variables.
pub const KNOWN_SERVICE_IDS: &[&str] = &["cloudcontrol", "cloudtrail", "resource_explorer_2"];

/// Default for [`AwsSourceConfig::request_timeout_secs`].
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 60;
/// Default for [`AwsSourceConfig::max_attempts`].
pub const DEFAULT_MAX_ATTEMPTS: u32 = 6;

fn default_request_timeout_secs() -> u64 {
    DEFAULT_REQUEST_TIMEOUT_SECS
}

/// Default for [`AwsSourceConfig::assume_role_session_secs`].
pub const DEFAULT_ASSUME_ROLE_SESSION_SECS: u32 = 3600;

fn default_assume_role_session_secs() -> u32 {
    DEFAULT_ASSUME_ROLE_SESSION_SECS
}

fn default_max_attempts() -> u32 {
    DEFAULT_MAX_ATTEMPTS
}

fn default_retry_base_delay_ms() -> u64 {
    1000
}

fn default_creator_lookup() -> bool {
    true
}

fn default_true() -> bool {
    true
}

fn default_max_concurrency() -> usize {
    DEFAULT_MAX_CONCURRENCY
}

impl AwsSourceConfig {
    /// A configuration with only a name: default credentials, enabled regions, the
    /// caller's own account.
    pub fn new(name: impl Into<String>) -> Self {
        AwsSourceConfig {
            name: name.into(),
            profile: None,
            regions: Regions::Enabled,
            organization: false,
            include_accounts: Vec::new(),
            exclude_accounts: Vec::new(),
            include_ous: Vec::new(),
            exclude_ous: Vec::new(),
            assume_role: None,
            external_id: None,
            assume_role_session_secs: DEFAULT_ASSUME_ROLE_SESSION_SECS,
            endpoint_url: None,
            endpoint_urls: std::collections::BTreeMap::new(),
            cloud_control: true,
            inventory: Inventory::CloudControl,
            resource_explorer_view: None,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            request_timeout_secs: DEFAULT_REQUEST_TIMEOUT_SECS,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            retry_base_delay_ms: default_retry_base_delay_ms(),
            creator_lookup: true,
            creator_lookup_max: cloudcensus_core::creator::DEFAULT_CREATOR_LOOKUP_MAX,
        }
    }

    /// The worst-case time one call can take before it becomes coverage: every attempt
    /// timing out plus the SDK's longest backoff (20 s) between attempts.
    pub fn worst_case_call(&self) -> std::time::Duration {
        let n = self.max_attempts.max(1);
        std::time::Duration::from_secs(self.request_timeout_secs).saturating_mul(n)
            + std::time::Duration::from_secs(20).saturating_mul(n - 1)
    }

    /// Checks what serde cannot: value shapes and combinations. Every problem is
    /// reported at once (joined by `; `), each naming the key and what to do.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems: Vec<String> = Vec::new();
        if self.name.trim().is_empty() {
            problems.push("name: must not be empty".into());
        }
        for key in self.endpoint_urls.keys() {
            if !KNOWN_SERVICE_IDS.contains(&key.as_str()) {
                problems.push(format!(
                    "endpoint_urls.{key}: unknown service; expected one of {}",
                    KNOWN_SERVICE_IDS.join(", ")
                ));
            }
        }
        if let Some(view) = &self.resource_explorer_view {
            if !view.starts_with("arn:") || !view.contains(":resource-explorer-2:") {
                problems.push(format!(
                    "resource_explorer_view: '{view}' is not a Resource Explorer view ARN \
                     (arn:aws:resource-explorer-2:REGION:ACCOUNT:view/NAME/ID)"
                ));
            }
            if self.inventory != Inventory::ResourceExplorer {
                problems.push(
                    "resource_explorer_view: only used with inventory = \"resource-explorer\"; \
                     set it or remove the view"
                        .into(),
                );
            }
        }
        if self.max_concurrency == 0 {
            problems.push("max_concurrency: must be at least 1 (default 16)".into());
        }
        problems.extend(cloudcensus_core::creator::check_creator_lookup_max(
            self.creator_lookup_max,
        ));
        problems.extend(cloudcensus_core::retry::check_retry_settings(
            self.request_timeout_secs,
            self.max_attempts,
            self.retry_base_delay_ms,
        ));
        for (key, ids) in [
            ("include_accounts", &self.include_accounts),
            ("exclude_accounts", &self.exclude_accounts),
        ] {
            if let Some(bad) = ids
                .iter()
                .find(|id| id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()))
            {
                problems.push(format!(
                    "{key}: '{bad}' is not an AWS account id (12 digits, quoted as a string)"
                ));
            }
        }
        for (key, ous) in [
            ("include_ous", &self.include_ous),
            ("exclude_ous", &self.exclude_ous),
        ] {
            if let Some(bad) = ous
                .iter()
                .find(|ou| !(ou.starts_with("ou-") || ou.starts_with("r-")))
            {
                problems.push(format!(
                    "{key}: '{bad}' is not an organizational unit id (ou-…) or root id (r-…)"
                ));
            }
            if !ous.is_empty() && !self.organization {
                problems.push(format!("{key}: needs organization = true"));
            }
        }
        if self.organization && self.assume_role.is_none() {
            problems.push(
                "organization = true needs assume_role: the name of the read-only role \
                 cloudcensus assumes in each member account"
                    .into(),
            );
        }
        if self.external_id.is_some() && self.assume_role.is_none() {
            problems.push(
                "external_id: only used with assume_role; set assume_role or remove it".into(),
            );
        }
        if !(900..=43_200).contains(&self.assume_role_session_secs) {
            problems.push(format!(
                "assume_role_session_secs: {} is outside what AWS allows (900 to 43200 seconds, \
                 and at most the role's maximum session duration; default 3600)",
                self.assume_role_session_secs
            ));
        }
        if let Some(role) = &self.assume_role
            && (role.is_empty() || role.contains(':'))
        {
            problems.push(format!(
                "assume_role: '{role}' must be a role name (or path/name), not an ARN"
            ));
        }
        if let Regions::List(list) = &self.regions
            && let Some(bad) = list.iter().find(|r| {
                r.is_empty() || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
        {
            problems.push(format!(
                "regions: '{bad}' is not a region code such as eu-west-1"
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AwsSourceConfig, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn regions_accept_enabled_or_a_list() {
        let c = parse(r#"{"name":"a"}"#).unwrap();
        assert_eq!(c.regions, Regions::Enabled);
        assert_eq!(c.max_concurrency, 16);
        let c = parse(r#"{"name":"a","regions":"enabled"}"#).unwrap();
        assert_eq!(c.regions, Regions::Enabled);
        let c = parse(r#"{"name":"a","regions":["EU-West-1"," eu-central-1"]}"#).unwrap();
        assert_eq!(
            c.regions,
            Regions::List(vec!["eu-west-1".into(), "eu-central-1".into()])
        );
    }

    #[test]
    fn regions_reject_other_words_and_empty_lists() {
        let e = parse(r#"{"name":"a","regions":"all"}"#).unwrap_err();
        assert!(e.contains("expected \"enabled\""), "{e}");
        let e = parse(r#"{"name":"a","regions":[]}"#).unwrap_err();
        assert!(e.contains("at least one region"), "{e}");
    }

    #[test]
    fn inventory_is_cloud_control_by_default_and_resource_explorer_on_request() {
        let c = parse(r#"{"name":"a"}"#).unwrap();
        assert_eq!(c.inventory, Inventory::CloudControl);
        let c = parse(r#"{"name":"a","inventory":"resource-explorer"}"#).unwrap();
        assert_eq!(c.inventory, Inventory::ResourceExplorer);
        let e = parse(r#"{"name":"a","inventory":"explorer"}"#).unwrap_err();
        assert!(e.contains("resource-explorer"), "{e}");
        let mut c = AwsSourceConfig::new("a");
        c.resource_explorer_view = Some("all".into());
        let e = c.validate().unwrap_err();
        assert!(
            e.contains("not a Resource Explorer view ARN")
                && e.contains("only used with inventory"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let e = parse(r#"{"name":"a","region":"eu-west-1"}"#).unwrap_err();
        assert!(e.contains("unknown field `region`"), "{e}");
    }

    #[test]
    fn validation_names_the_key_and_the_fix() {
        let mut c = AwsSourceConfig::new("a");
        c.organization = true;
        assert!(c.validate().unwrap_err().contains("assume_role"));
        c.assume_role = Some("arn:aws:iam::1:role/x".into());
        assert!(c.validate().unwrap_err().contains("not an ARN"));
        c.assume_role = Some("Reader".into());
        c.include_accounts = vec!["12345".into()];
        assert!(
            c.validate()
                .unwrap_err()
                .contains("include_accounts: '12345'")
        );
        c.include_accounts = vec!["123456789012".into()];
        c.exclude_ous = vec!["finance".into()];
        assert!(c.validate().unwrap_err().contains("exclude_ous"));
        c.exclude_ous = vec!["ou-ab12-cdef3456".into()];
        assert_eq!(c.validate(), Ok(()));
        c.max_concurrency = 0;
        c.exclude_accounts = vec!["abc".into()];
        let all = c.validate().unwrap_err();
        assert!(
            all.contains("max_concurrency") && all.contains("exclude_accounts"),
            "{all}"
        );
    }
}
