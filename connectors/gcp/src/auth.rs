//! Credentials: Application Default Credentials or anonymous, and who we run as.
//!
//! `google-cloud-auth` finds ADC the standard way (`GOOGLE_APPLICATION_CREDENTIALS`,
//! the gcloud well-known file, the metadata server) and produces the same
//! [`Credentials`] for the SDK clients and for our raw Cloud Storage JSON calls. The
//! identity reported in the scan metadata is the account e-mail when the credential file
//! names one; it is never a key or token.

use std::path::PathBuf;

use google_cloud_auth::credentials::{self, Credentials};

use crate::config::CredentialsKind;

/// Builds the credentials for a source.
pub(crate) fn build(kind: CredentialsKind) -> Result<Credentials, String> {
    match kind {
        CredentialsKind::Anonymous => Ok(credentials::anonymous::Builder::new().build()),
        CredentialsKind::Adc => credentials::Builder::default().build().map_err(|e| {
            format!(
                "no usable Application Default Credentials ({e}); set GOOGLE_APPLICATION_CREDENTIALS \
                 to a service-account or workload-identity-federation file, run \
                 `gcloud auth application-default login`, or run on Google Cloud with an \
                 attached service account"
            )
        }),
    }
}

/// A description of who the connector runs as, never a secret.
pub(crate) fn identity(kind: CredentialsKind) -> String {
    match kind {
        CredentialsKind::Anonymous => "anonymous".to_string(),
        CredentialsKind::Adc => adc_file()
            .and_then(|p| std::fs::read(&p).ok())
            .and_then(|bytes| identity_from_adc_json(&bytes))
            .unwrap_or_else(|| "application-default credentials (metadata server)".to_string()),
    }
}

/// Where ADC would read a credentials file from.
fn adc_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS") {
        return Some(PathBuf::from(p));
    }
    let config = std::env::var_os("CLOUDSDK_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/gcloud")))?;
    let p = config.join("application_default_credentials.json");
    p.exists().then_some(p)
}

/// Reads the non-secret identity out of an ADC JSON file.
pub(crate) fn identity_from_adc_json(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str());
    match s("type")? {
        "service_account" => s("client_email").map(str::to_string),
        "impersonated_service_account" => s("service_account_impersonation_url")
            .and_then(email_from_impersonation_url)
            .map(|e| format!("{e} (impersonated)")),
        "external_account" => Some(
            s("service_account_impersonation_url")
                .and_then(email_from_impersonation_url)
                .map(|e| format!("{e} (workload identity federation)"))
                .unwrap_or_else(|| {
                    format!(
                        "workload identity federation ({})",
                        s("audience").unwrap_or("unknown audience")
                    )
                }),
        ),
        "authorized_user" => Some("gcloud user (application-default login)".to_string()),
        other => Some(format!("application-default credentials ({other})")),
    }
}

/// `.../serviceAccounts/NAME@PROJECT.iam.gserviceaccount.com:generateAccessToken` → e-mail.
fn email_from_impersonation_url(url: &str) -> Option<String> {
    let tail = url.rsplit_once("serviceAccounts/")?.1;
    let email = tail.split(':').next()?;
    email.contains('@').then(|| email.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_the_service_account_email_never_the_key() {
        let json = br#"{"type":"service_account","project_id":"p","private_key_id":"abc","private_key":"-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n","client_email":"census@p.iam.gserviceaccount.com"}"#;
        let id = identity_from_adc_json(json).unwrap();
        assert_eq!(id, "census@p.iam.gserviceaccount.com");
        assert!(!id.contains("SECRET"));
    }

    #[test]
    fn identity_of_federated_and_impersonated_credentials_names_the_account() {
        let json = br#"{"type":"external_account","audience":"//iam.googleapis.com/x","service_account_impersonation_url":"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/scan@p.iam.gserviceaccount.com:generateAccessToken"}"#;
        assert_eq!(
            identity_from_adc_json(json).unwrap(),
            "scan@p.iam.gserviceaccount.com (workload identity federation)"
        );
        let user = br#"{"type":"authorized_user","client_secret":"s","refresh_token":"t"}"#;
        assert_eq!(
            identity_from_adc_json(user).unwrap(),
            "gcloud user (application-default login)"
        );
    }
}
