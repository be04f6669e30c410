//! Storage data plane: blob containers and their metadata.
//!
//! Why: departments often mark data by container rather than by account (one account,
//! one container per processing activity), and container *metadata* is where they put
//! the activity id. Resource Manager does not show containers in the resources list,
//! so the data plane is read with the official `azure_storage_blob` crate.
//!
//! Each container becomes a [`Resource`] of type
//! `Microsoft.Storage/storageAccounts/blobServices/containers` with the ARM-style id
//! `<account id>/blobServices/default/containers/<name>`, the container metadata as its
//! tags, and the account's location, replica locations and resource group (the data of
//! a container lives where its account lives). Tag inheritance then works as for any
//! resource: container metadata → resource group tags → subscription tags.

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use azure_storage_blob::BlobServiceClient;
use azure_storage_blob::models::{
    BlobServiceClientListContainersOptions, ListContainersIncludeType,
};
use cloudcensus_core::{Category, Coverage, CoverageStatus, Provider, Resource};
use futures::TryStreamExt as _;

use crate::mapping::CONTAINER_TYPE;

/// How to reach the blob endpoints.
#[derive(Clone)]
pub(crate) struct BlobAccess {
    /// Endpoint template with `{account}`.
    pub template: String,
    /// SAS query string used instead of a token (emulators).
    pub sas: Option<String>,
    /// Entra ID credential (production).
    pub credential: Option<Arc<dyn TokenCredential>>,
}

impl std::fmt::Debug for BlobAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobAccess")
            .field("template", &self.template)
            .field("sas", &self.sas.as_ref().map(|_| "<redacted>"))
            .field("credential", &self.credential.is_some())
            .finish()
    }
}

impl BlobAccess {
    fn redact(&self, msg: String) -> String {
        let msg = match &self.sas {
            Some(sas) if !sas.is_empty() => msg.replace(sas.as_str(), "<sas>"),
            _ => msg,
        };
        scrub_signatures(&msg)
    }

    /// Lists the containers of one storage account (an ARM resource) as resources, and
    /// the coverage entry for that listing.
    pub(crate) async fn containers(&self, account: &Resource) -> (Vec<Resource>, Coverage) {
        let region = account.location.clone().unwrap_or_else(|| "*".to_string());
        let service = format!("blob/{}", account.name);
        let fail = |status, msg: String| {
            Coverage::failed(
                Provider::Azure,
                &account.scope_id,
                &region,
                &service,
                status,
                self.redact(msg),
            )
        };
        let mut endpoint = self.template.replace("{account}", &account.name);
        if let Some(sas) = &self.sas {
            let sas = sas.trim_start_matches('?');
            endpoint.push(if endpoint.contains('?') { '&' } else { '?' });
            endpoint.push_str(sas);
        }
        let url = match url::Url::parse(&endpoint) {
            Ok(u) => u,
            Err(e) => {
                return (
                    Vec::new(),
                    fail(CoverageStatus::Error, format!("bad blob endpoint: {e}")),
                );
            }
        };
        let credential = if self.sas.is_some() {
            None
        } else {
            self.credential.clone()
        };
        let client = match BlobServiceClient::new(url, credential, None) {
            Ok(c) => c,
            Err(e) => return (Vec::new(), fail(CoverageStatus::Error, e.to_string())),
        };
        let options = BlobServiceClientListContainersOptions {
            include: Some(vec![ListContainersIncludeType::Metadata]),
            ..Default::default()
        };
        let mut pager = match client.list_containers(Some(options)) {
            Ok(p) => p,
            Err(e) => return (Vec::new(), fail(status_of(&e), e.to_string())),
        };
        let mut out = Vec::new();
        loop {
            match pager.try_next().await {
                Ok(Some(item)) => {
                    let Some(name) = item.name.filter(|n| !n.is_empty()) else {
                        continue;
                    };
                    if item.deleted == Some(true) {
                        continue;
                    }
                    out.push(Resource {
                        provider: Provider::Azure,
                        scope_id: account.scope_id.clone(),
                        id: format!("{}/blobServices/default/containers/{name}", account.id),
                        resource_type: CONTAINER_TYPE.to_string(),
                        category: Category::classify(Provider::Azure, CONTAINER_TYPE),
                        name,
                        location: account.location.clone(),
                        replica_locations: account.replica_locations.clone(),
                        resource_group: account.resource_group.clone(),
                        tags: item.metadata.unwrap_or_default().into_iter().collect(),
                        created_at: None,
                    });
                }
                Ok(None) => break,
                Err(e) => return (out, fail(status_of(&e), e.to_string())),
            }
        }
        let ok = Coverage::scanned(Provider::Azure, &account.scope_id, region, service);
        (out, ok)
    }
}

/// Replaces the value of every `sig=` parameter (a SAS signature) with `<redacted>`.
fn scrub_signatures(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find("sig=") {
        out.push_str(&rest[..i + 4]);
        out.push_str("<redacted>");
        let tail = &rest[i + 4..];
        let end = tail
            .find(|c: char| c == '&' || c == '"' || c == '\'' || c.is_whitespace())
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn status_of(e: &azure_core::Error) -> CoverageStatus {
    match e.http_status().map(u16::from) {
        Some(401 | 403) => CoverageStatus::Denied,
        Some(429) => CoverageStatus::Throttled,
        _ => CoverageStatus::Error,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sas_signatures_are_scrubbed_from_messages() {
        assert_eq!(
            super::scrub_signatures("GET http://h/a?sv=1&sig=abc%2Bdef&se=2 failed"),
            "GET http://h/a?sv=1&sig=<redacted>&se=2 failed"
        );
    }
}
