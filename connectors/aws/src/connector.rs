//! Connecting: credentials, identity, and the accounts (scopes) to scan.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_types::SdkConfig;
use aws_types::region::Region;
use cloudcensus_core::connector::Result;
use cloudcensus_core::{
    Catalog, Connector, ConnectorError, Coverage, CoverageStatus, CreatorLookup, LookupTarget,
    Observation, Provider, Scope,
};
use futures::StreamExt;
use futures::stream::BoxStream;
use std::time::Duration;

use crate::config::AwsSourceConfig;
use crate::errors::{call_error, error_chain};
use crate::recorder::OperationRecorder;

/// Attempts per AWS call (first try included) in the SDK's adaptive retry mode, unless
/// the source sets `max_attempts`.
pub const MAX_ATTEMPTS: u32 = crate::config::DEFAULT_MAX_ATTEMPTS;

/// Region used for account-wide calls when neither the profile nor the environment sets
/// one.
const FALLBACK_REGION: &str = "us-east-1";

/// A connected AWS source.
#[derive(Debug)]
pub struct AwsConnector {
    pub(crate) cfg: AwsSourceConfig,
    pub(crate) sdk: SdkConfig,
    pub(crate) recorder: OperationRecorder,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) identity: String,
    pub(crate) caller_account: String,
    pub(crate) partition: String,
    pub(crate) home_region: String,
    /// Coverage entries about a scope found while discovering scopes (account tags that
    /// could not be read); emitted with that scope's inventory.
    pub(crate) scope_notes: Mutex<HashMap<String, Vec<Coverage>>>,
    /// `sts:AssumeRole` requests made so far (first sessions and refreshes).
    pub(crate) assume_role_requests: Arc<AtomicUsize>,
    /// Inventory jobs (a bucket, a region × service, a Cloud Control type × region) in
    /// flight across every account of this source: accounts are listed side by side, and
    /// together they stay within `max_concurrency`.
    pub(crate) jobs: Arc<tokio::sync::Semaphore>,
    /// Spaces CloudTrail `LookupEvents` requests to the service's limit per (account,
    /// region), across every creator lookup of this connector.
    pub(crate) trail_pacer: crate::cloudtrail::Pacer,
}

/// One HTTP client for every SDK client of the source, so that all of them (every
/// service, region and member account) draw on one connection pool per host. Without
/// it each SDK client makes its own default client with a pool of its own: a scan of 50
/// accounts opened 2 100 connections for 16 calls in flight, and against AWS each new
/// connection costs a TCP and TLS handshake, several round trips. The same client the
/// SDK would make: rustls with aws-lc, the proxy from the environment
/// (`HTTPS_PROXY`, `NO_PROXY`), the source's timeouts.
fn shared_http_client() -> SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider as Tls, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig};
    let hyper = Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(Tls::Rustls(CryptoMode::AwsLc));
        conn.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            conn.set_sleep_impl(c.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    });
    SharedHttpClient::new(WithoutPerClientCheck(hyper))
}

/// The shared HTTP client without its check at every SDK client. The SDK's client
/// builds a whole TLS connector (the root certificates parsed anew) in
/// `validate_base_client_config`, only to throw it away, so that certificates load when
/// a client is made; every `Client::from_conf` calls it. With a few thousand regional
/// clients in a scan of an organization that was a sixth of the scan's CPU. The
/// connector is built once per timeout setting at the first request instead (the inner
/// client caches it), and a certificate problem shows there, as a failed call.
#[derive(Debug)]
struct WithoutPerClientCheck(SharedHttpClient);

impl HttpClient for WithoutPerClientCheck {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// Connects with the standard credential chain (environment, shared config and
/// profiles incl. SSO, web identity, container and instance metadata) and checks the
/// identity with STS `GetCallerIdentity`.
pub async fn connect(cfg: &AwsSourceConfig) -> Result<AwsConnector> {
    cfg.validate()
        .map_err(|message| config_error(cfg, message))?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &cfg.profile {
        loader = loader.profile_name(profile);
    }
    let sdk = loader.load().await;
    if sdk.credentials_provider().is_none() {
        return Err(ConnectorError::Credentials {
            provider: Provider::Aws,
            source_name: cfg.name.clone(),
            message: "no credential source found; set a profile, AWS_PROFILE, or \
                      AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
                .into(),
        });
    }
    connect_with_sdk_config(cfg, sdk).await
}

/// Connects with a prepared SDK configuration (credentials and region already chosen),
/// for embedding and tests. `endpoint_url` from `cfg` still applies; retries are set to
/// adaptive mode.
pub async fn connect_with_sdk_config(
    cfg: &AwsSourceConfig,
    sdk: SdkConfig,
) -> Result<AwsConnector> {
    cfg.validate()
        .map_err(|message| config_error(cfg, message))?;
    let home_region = sdk
        .region()
        .map(|r| r.as_ref().to_string())
        .unwrap_or_else(|| FALLBACK_REGION.to_string());
    let shared_pool = sdk.http_client().is_none();
    let mut builder = sdk
        .into_builder()
        .region(Region::new(home_region.clone()))
        .retry_config(
            RetryConfig::adaptive()
                .with_max_attempts(cfg.max_attempts.max(1))
                .with_initial_backoff(Duration::from_millis(cfg.retry_base_delay_ms)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(cfg.request_timeout_secs))
                .connect_timeout(Duration::from_secs(cfg.request_timeout_secs.min(10)))
                .build(),
        );
    if let Some(url) = &cfg.endpoint_url {
        builder = builder.endpoint_url(url);
    }
    if shared_pool {
        builder = builder.http_client(shared_http_client());
    }
    let sdk = builder.build();
    let catalog = Catalog::builtin().map_err(|e| ConnectorError::Other {
        provider: Provider::Aws,
        source_name: cfg.name.clone(),
        message: format!("location catalog: {e}"),
    })?;
    let recorder = OperationRecorder::new();
    let sts = sts_client(&sdk, &recorder);
    let who = sts.get_caller_identity().send().await.map_err(|e| {
        let err = call_error("sts:GetCallerIdentity", &e);
        if matches!(
            e,
            aws_smithy_runtime_api::client::result::SdkError::DispatchFailure(_)
                | aws_smithy_runtime_api::client::result::SdkError::TimeoutError(_)
        ) {
            ConnectorError::Unreachable {
                provider: Provider::Aws,
                source_name: cfg.name.clone(),
                endpoint: cfg
                    .endpoint_url
                    .clone()
                    .unwrap_or_else(|| format!("sts.{home_region}.amazonaws.com")),
                message: error_chain(&e),
            }
        } else {
            ConnectorError::Credentials {
                provider: Provider::Aws,
                source_name: cfg.name.clone(),
                message: format!(
                    "{}; check the profile or AWS_* environment variables",
                    err.message
                ),
            }
        }
    })?;
    let identity = who.arn().unwrap_or_default().to_string();
    let caller_account = who.account().unwrap_or_default().to_string();
    let partition = crate::arn::Arn::parse(&identity)
        .map(|a| a.partition.to_string())
        .unwrap_or_else(|| crate::arn::partition_of_region(&home_region).to_string());
    tracing::info!(source = %cfg.name, %identity, "connected to AWS");
    Ok(AwsConnector {
        cfg: cfg.clone(),
        sdk,
        recorder,
        catalog: Arc::new(catalog),
        identity,
        caller_account,
        partition,
        home_region,
        scope_notes: Mutex::new(HashMap::new()),
        assume_role_requests: Arc::new(AtomicUsize::new(0)),
        jobs: Arc::new(tokio::sync::Semaphore::new(cfg.max_concurrency.max(1))),
        trail_pacer: crate::cloudtrail::Pacer::per_second(crate::cloudtrail::REQUESTS_PER_SECOND),
    })
}

fn config_error(cfg: &AwsSourceConfig, message: String) -> ConnectorError {
    ConnectorError::Config {
        provider: Provider::Aws,
        source_name: cfg.name.clone(),
        message,
    }
}

/// How long before an assumed-role session's expiry it is requested again.
const SESSION_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Credentials for one member account from `sts:AssumeRole`, requested again whenever
/// the SDK's identity cache finds the session about to expire.
#[derive(Debug)]
struct AssumedRole {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    external_id: Option<String>,
    duration_secs: u32,
    requests: Arc<AtomicUsize>,
    /// The session requested while connecting the account, handed out once.
    first: Mutex<Option<Credentials>>,
}

impl AssumedRole {
    /// One `AssumeRole` call, or the coverage status and message of its failure.
    async fn request(&self) -> std::result::Result<Credentials, (CoverageStatus, String)> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name("cloudcensus")
            .set_external_id(self.external_id.clone())
            .duration_seconds(i32::try_from(self.duration_secs).unwrap_or(3600))
            .send()
            .await;
        let role_arn = &self.role_arn;
        let c = match out {
            Ok(o) => o.credentials,
            Err(e) => {
                let err = call_error("sts:AssumeRole", &e);
                let status = match err.status {
                    CoverageStatus::Throttled | CoverageStatus::Error => err.status,
                    _ => CoverageStatus::Denied,
                };
                return Err((status, format!("{} (role {role_arn})", err.message)));
            }
        }
        .ok_or_else(|| {
            (
                CoverageStatus::Error,
                format!("sts:AssumeRole {role_arn} returned no credentials"),
            )
        })?;
        let expiry = std::time::SystemTime::try_from(c.expiration).ok();
        Ok(Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            expiry,
            "cloudcensus-assume-role",
        ))
    }
}

impl aws_credential_types::provider::ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            let first = self.first.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(c) = first {
                return Ok(c);
            }
            self.request().await.map_err(|(_, message)| {
                aws_credential_types::provider::error::CredentialsError::provider_error(message)
            })
        })
    }
}

pub(crate) fn sts_client(sdk: &SdkConfig, rec: &OperationRecorder) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(sdk)
            .interceptor(rec.clone())
            .build(),
    )
}

impl AwsConnector {
    /// Every `service:Operation` this connector has invoked (IAM namespaces).
    pub fn invoked_operations(&self) -> std::collections::BTreeSet<String> {
        self.recorder.operations()
    }

    /// The account the identity belongs to.
    pub fn caller_account(&self) -> &str {
        &self.caller_account
    }

    /// How many `sts:AssumeRole` requests this connector has made: one per member account
    /// scanned, plus one each time a session neared its end during a long scan.
    pub fn assume_role_requests(&self) -> usize {
        self.assume_role_requests.load(Ordering::Relaxed)
    }

    /// The SDK configuration for one account: the caller's own credentials for its own
    /// account, otherwise credentials from `AssumeRole` into `assume_role`.
    pub(crate) async fn account_sdk(
        &self,
        account: &str,
    ) -> std::result::Result<SdkConfig, Coverage> {
        if account == self.caller_account {
            return Ok(self.sdk.clone());
        }
        let Some(role) = &self.cfg.assume_role else {
            return Err(Coverage::failed(
                Provider::Aws,
                account,
                "*",
                "sts",
                CoverageStatus::Denied,
                format!(
                    "account {account} is not the caller's account ({}) and no assume_role is configured",
                    self.caller_account
                ),
            ));
        };
        let role_arn = format!("arn:{}:iam::{account}:role/{role}", self.partition);
        let session = AssumedRole {
            sts: sts_client(&self.sdk, &self.recorder),
            role_arn: role_arn.clone(),
            external_id: self.cfg.external_id.clone(),
            duration_secs: self.cfg.assume_role_session_secs,
            requests: self.assume_role_requests.clone(),
            first: Mutex::new(None),
        };
        // The first session is requested here, so a denied role is this account's
        // coverage rather than an error on every later call.
        let first = session.request().await.map_err(|(status, message)| {
            Coverage::failed(
                Provider::Aws,
                account,
                "*",
                "sts",
                status,
                format!("{message}; nothing in this account was listed"),
            )
        })?;
        *session.first.lock().unwrap_or_else(|e| e.into_inner()) = Some(first);
        // One identity cache for every client of this account, which asks the provider
        // again five minutes before the session's expiry: a scan of any length keeps
        // valid credentials, and retried calls never carry a session about to end.
        Ok(self
            .sdk
            .clone()
            .into_builder()
            .identity_cache(
                aws_config::identity::IdentityCache::lazy()
                    .buffer_time(SESSION_REFRESH_MARGIN)
                    .build(),
            )
            .credentials_provider(SharedCredentialsProvider::new(session))
            .build())
    }

    /// An account's parents, nearest first, up to the root.
    async fn parents_of(
        &self,
        org: &aws_sdk_organizations::Client,
        account: &str,
    ) -> Result<Vec<String>> {
        let mut path = Vec::new();
        let mut child = account.to_string();
        loop {
            let out = org
                .list_parents()
                .child_id(&child)
                .send()
                .await
                .map_err(|e| ConnectorError::Other {
                    provider: Provider::Aws,
                    source_name: self.cfg.name.clone(),
                    message: call_error("organizations:ListParents", &e).message,
                })?;
            let Some(p) = out.parents().first() else {
                break;
            };
            let pid = p.id().unwrap_or_default().to_string();
            let is_root = p.r#type().map(|t| t.as_str() == "ROOT").unwrap_or(true);
            path.push(pid.clone());
            if is_root || path.len() > 10 {
                break;
            }
            child = pid;
        }
        Ok(path)
    }

    /// An account's tags. Tags that cannot be read are a coverage note of that account
    /// (scanned with its other coverage), not a failed organization listing.
    async fn account_tags(
        &self,
        org: &aws_sdk_organizations::Client,
        account: &str,
    ) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::new();
        let mut pages = org
            .list_tags_for_resource()
            .resource_id(account)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => {
                    for t in p.tags() {
                        tags.insert(t.key().to_string(), t.value().to_string());
                    }
                }
                Err(e) => {
                    let err = call_error("organizations:ListTagsForResource", &e);
                    tracing::warn!(%account, "account tags: {}", err.message);
                    if let Ok(mut notes) = self.scope_notes.lock() {
                        notes
                            .entry(account.to_string())
                            .or_default()
                            .push(Coverage::failed(
                                Provider::Aws,
                                account,
                                "global",
                                "organizations",
                                err.status,
                                format!("account tags not read: {}", err.message),
                            ));
                    }
                    break;
                }
            }
        }
        tags
    }

    async fn organization_scopes(&self) -> Result<Vec<Scope>> {
        let other = |message: String| ConnectorError::Other {
            provider: Provider::Aws,
            source_name: self.cfg.name.clone(),
            message,
        };
        let org = aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(&self.sdk)
                .interceptor(self.recorder.clone())
                .build(),
        );
        // The organization and its accounts are asked side by side: neither needs the
        // other's answer, and every member account's scan waits for both.
        let describe = async {
            org.describe_organization().send().await.map_err(|e| {
                other(format!(
                    "organization = true but {}; run as the management account or a \
                     delegated administrator, or set organization = false",
                    call_error("organizations:DescribeOrganization", &e).message
                ))
            })
        };
        let list = async {
            let mut accounts = Vec::new();
            let mut pages = org.list_accounts().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page =
                    page.map_err(|e| other(call_error("organizations:ListAccounts", &e).message))?;
                for a in page.accounts() {
                    #[allow(deprecated)]
                    let active = match (a.state(), a.status()) {
                        (Some(s), _) => s.as_str() == "ACTIVE",
                        (None, Some(s)) => s.as_str() == "ACTIVE",
                        (None, None) => true,
                    };
                    if let (true, Some(id)) = (active, a.id()) {
                        accounts.push((id.to_string(), a.name().map(str::to_string)));
                    }
                }
            }
            Ok::<_, ConnectorError>(accounts)
        };
        let (described, listed) = {
            let slots = self.jobs.acquire_many(self.pair_width()).await;
            self.on_own_slots(slots, describe, list).await
        };
        let org_id = described?
            .organization
            .and_then(|o| o.id)
            .unwrap_or_default();
        let mut accounts = listed?;
        accounts.retain(|(id, _)| {
            (self.cfg.include_accounts.is_empty() || self.cfg.include_accounts.contains(id))
                && !self.cfg.exclude_accounts.contains(id)
        });
        let conc = self.cfg.max_concurrency;
        let results: Vec<Result<Option<Scope>>> = futures::stream::iter(accounts)
            .map(|(id, name)| {
                let org = org.clone();
                let org_id = org_id.clone();
                async move {
                    let ou_filter =
                        !self.cfg.include_ous.is_empty() || !self.cfg.exclude_ous.is_empty();
                    let side_by_side = !ou_filter && self.pair_width() == 2;
                    // The source's budget of calls in flight holds here too.
                    let slots = self
                        .jobs
                        .acquire_many(if side_by_side { 2 } else { 1 })
                        .await;
                    // Without an OU filter every account is scanned, so its tags are read
                    // side by side with its parents; with one, only for accounts kept.
                    // Then, or with a budget of one call, one after the other.
                    let (path, tags) = if !side_by_side {
                        let path = self.parents_of(&org, &id).await?;
                        let in_path = |ous: &[String]| ous.iter().any(|ou| path.contains(ou));
                        if (!self.cfg.include_ous.is_empty() && !in_path(&self.cfg.include_ous))
                            || in_path(&self.cfg.exclude_ous)
                        {
                            return Ok(None);
                        }
                        let tags = self.account_tags(&org, &id).await;
                        (path, tags)
                    } else {
                        let (path, tags) = self
                            .on_own_slots(
                                slots,
                                self.parents_of(&org, &id),
                                self.account_tags(&org, &id),
                            )
                            .await;
                        (path?, tags)
                    };
                    let mut parents: Vec<String> =
                        path.into_iter().filter(|p| p.starts_with("ou-")).collect();
                    if !org_id.is_empty() {
                        parents.push(org_id);
                    }
                    Ok(Some(Scope {
                        name,
                        parents,
                        tags,
                        ..Scope::new(Provider::Aws, id)
                    }))
                }
            })
            .buffer_unordered(conc)
            .collect()
            .await;
        let mut scopes = Vec::new();
        for r in results {
            if let Some(s) = r? {
                scopes.push(s);
            }
        }
        scopes.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(scopes)
    }
}

#[async_trait]
impl Connector for AwsConnector {
    fn provider(&self) -> Provider {
        Provider::Aws
    }

    fn name(&self) -> &str {
        &self.cfg.name
    }

    async fn identity(&self) -> Result<String> {
        Ok(self.identity.clone())
    }

    async fn scopes(&self) -> Result<Vec<Scope>> {
        if self.cfg.organization {
            return self.organization_scopes().await;
        }
        let id = &self.caller_account;
        if (!self.cfg.include_accounts.is_empty() && !self.cfg.include_accounts.contains(id))
            || self.cfg.exclude_accounts.contains(id)
        {
            return Ok(Vec::new());
        }
        Ok(vec![Scope::new(Provider::Aws, id.clone())])
    }

    fn inventory<'a>(&'a self, scope: &'a Scope) -> BoxStream<'a, Result<Observation>> {
        futures::stream::once(self.scan_account(&scope.id))
            .flat_map(|items| futures::stream::iter(items.into_iter().map(Ok)))
            .boxed()
    }

    /// Who created each target, from the CloudTrail event history of its region
    /// (`cloudtrail:LookupEvents`, paced to 2 requests per second per region; see
    /// `src/cloudtrail.rs`).
    async fn creators(&self, scope: &Scope, targets: &[LookupTarget]) -> CreatorLookup {
        self.lookup_creators(&scope.id, targets).await
    }
}
