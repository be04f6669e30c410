//! Token acquisition: azure_identity credentials, or a static token from the environment.
//!
//! Tokens are secrets. They live in [`azure_core::credentials::Secret`] (whose `Debug`
//! hides the value), go only into `Authorization` headers marked sensitive, and are
//! never logged. The identity reported for a scan is read from the token's claims (user
//! principal name or application id, object id, tenant), never the token itself.

use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::ClientOptions;
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use base64::Engine as _;

use crate::config::{AzureSourceConfig, CredentialKind};

/// Where tokens come from.
#[derive(Debug, Clone)]
pub(crate) enum TokenSource {
    /// A fixed bearer token (`token-env`).
    Static(Secret),
    /// An azure_identity credential (which caches and refreshes tokens itself).
    Credential(Arc<dyn TokenCredential>),
}

impl TokenSource {
    /// Builds the token source the configuration asks for. `env` looks up environment
    /// variables (injectable for tests).
    pub(crate) fn from_config(
        cfg: &AzureSourceConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<TokenSource, String> {
        let client_options = || ClientOptions {
            cloud: Some(Arc::new(cfg.cloud.sdk_cloud())),
            ..Default::default()
        };
        let sdk = |e: azure_core::Error| e.to_string();
        match cfg.credential {
            CredentialKind::TokenEnv => {
                let var = cfg.access_token_env.as_deref().unwrap_or_default();
                match env(var) {
                    Some(t) if !t.trim().is_empty() => {
                        let t = t.trim();
                        let t = t.strip_prefix("Bearer ").unwrap_or(t);
                        Ok(TokenSource::Static(Secret::new(t.to_string())))
                    }
                    _ => Err(format!(
                        "environment variable {var} (access_token_env) is not set or empty; \
                         set it, e.g. {var}=$(az account get-access-token --query accessToken -o tsv)"
                    )),
                }
            }
            CredentialKind::Cli => {
                let opts = AzureCliCredentialOptions {
                    tenant_id: cfg.tenant_id.clone(),
                    ..Default::default()
                };
                let c = AzureCliCredential::new(Some(opts)).map_err(sdk)?;
                Ok(TokenSource::Credential(c))
            }
            CredentialKind::ClientSecret => {
                let var = cfg.client_secret_env.as_deref().unwrap_or_default();
                let secret = env(var).filter(|s| !s.is_empty()).ok_or_else(|| {
                    format!(
                        "environment variable {var} (client_secret_env) is not set or empty; \
                         put the service principal's client secret there"
                    )
                })?;
                let opts = ClientSecretCredentialOptions {
                    client_options: client_options(),
                };
                let c = ClientSecretCredential::new(
                    cfg.tenant_id.as_deref().unwrap_or_default(),
                    cfg.client_id.clone().unwrap_or_default(),
                    Secret::new(secret),
                    Some(opts),
                )
                .map_err(sdk)?;
                Ok(TokenSource::Credential(c))
            }
            CredentialKind::WorkloadIdentity => {
                let mut opts = WorkloadIdentityCredentialOptions {
                    client_id: cfg.client_id.clone(),
                    tenant_id: cfg.tenant_id.clone(),
                    ..Default::default()
                };
                opts.credential_options.client_options = client_options();
                let c = WorkloadIdentityCredential::new(Some(opts)).map_err(|e| {
                    format!(
                        "{e} (workload identity reads AZURE_FEDERATED_TOKEN_FILE, \
                         AZURE_CLIENT_ID and AZURE_TENANT_ID)"
                    )
                })?;
                Ok(TokenSource::Credential(c))
            }
            CredentialKind::ManagedIdentity => {
                let opts = ManagedIdentityCredentialOptions {
                    user_assigned_id: cfg.client_id.clone().map(UserAssignedId::ClientId),
                    client_options: client_options(),
                };
                let c = ManagedIdentityCredential::new(Some(opts)).map_err(sdk)?;
                Ok(TokenSource::Credential(c))
            }
        }
    }

    /// A token for `scope`. The error message never contains the token.
    pub(crate) async fn token(&self, scope: &str) -> Result<Secret, String> {
        match self {
            TokenSource::Static(s) => Ok(s.clone()),
            TokenSource::Credential(c) => c
                .get_token(&[scope], None)
                .await
                .map(|t| t.token)
                .map_err(|e| e.to_string()),
        }
    }

    /// The SDK credential, for the blob data plane (`None` for a static token).
    pub(crate) fn sdk_credential(&self) -> Option<Arc<dyn TokenCredential>> {
        match self {
            TokenSource::Static(_) => None,
            TokenSource::Credential(c) => Some(c.clone()),
        }
    }
}

/// Describes the principal a JWT access token was issued to, from its claims: user
/// principal name or application id, object id and tenant. Never returns the token.
pub(crate) fn describe_principal(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let s = |k: &str| claims.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let who = if let Some(upn) = s("upn").or_else(|| s("unique_name")) {
        format!("user {upn}")
    } else if let Some(app) = s("appid").or_else(|| s("azp")) {
        format!("application {app}")
    } else {
        "principal".to_string()
    };
    let mut parts = Vec::new();
    if let Some(oid) = s("oid") {
        parts.push(format!("object id {oid}"));
    }
    if let Some(tid) = s("tid") {
        parts.push(format!("tenant {tid}"));
    }
    Some(if parts.is_empty() {
        who
    } else {
        format!("{who} ({})", parts.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.sig", e.encode(r#"{"alg":"none"}"#), e.encode(claims))
    }

    #[test]
    fn principal_is_read_from_claims_and_never_contains_the_token() {
        let t = jwt(r#"{"appid":"app-1","oid":"o-1","tid":"t-1"}"#);
        let d = describe_principal(&t).unwrap();
        assert_eq!(d, "application app-1 (object id o-1, tenant t-1)");
        assert!(!d.contains(&t));
        let u = jwt(r#"{"upn":"ann@example.nl","tid":"t"}"#);
        assert_eq!(
            describe_principal(&u).unwrap(),
            "user ann@example.nl (tenant t)"
        );
        assert_eq!(describe_principal("opaque"), None);
    }

    #[test]
    fn missing_token_variable_names_the_variable() {
        let mut cfg = AzureSourceConfig::new("t");
        cfg.credential = CredentialKind::TokenEnv;
        cfg.access_token_env = Some("MY_TOKEN".into());
        let err = TokenSource::from_config(&cfg, &|_| None).unwrap_err();
        assert!(err.contains("MY_TOKEN"), "{err}");
    }
}
