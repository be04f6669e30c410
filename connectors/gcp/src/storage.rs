//! Cloud Storage buckets through the JSON API: where each bucket's data actually is.
//!
//! Why the JSON API and not `google-cloud-storage`: that crate lists buckets only over
//! gRPC (`StorageControl::list_buckets`), which the local emulator cannot answer, and it
//! would add a gRPC stack to the build for one call. `GET /storage/v1/b?project=` is the
//! documented public API, returns the same fields (`location`, `locationType`,
//! `customPlacementConfig.dataLocations`, `labels`), authenticates with the same
//! `google-cloud-auth` credentials, and is tested against gcp-storage-emulator.
//!
//! Locations: `location` is normalised with the catalog (`EUROPE-WEST4` → `europe-west4`,
//! `EUR4` → `eur4`). A configurable dual-region reports a multi-region code as
//! `location` (`EU`) and the two regions it really uses in
//! `customPlacementConfig.dataLocations`; those regions become `replica_locations`.
//! A predefined dual-region (`EUR4`, `NAM4`) keeps its own code, which the catalog maps
//! to its two regions and countries; its components are not repeated as replicas.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cloudcensus_core::retry::Attempt;
use cloudcensus_core::{Category, Provider, Resource};
use google_cloud_auth::credentials::Credentials;
use serde::Deserialize;

use crate::api::{Ctx, failed_page, next_token};
use crate::error::ApiFailure;

/// Service name in coverage entries.
pub(crate) const SERVICE: &str = "storage";
/// The Cloud Asset Inventory type of a bucket; also used for buckets found here.
pub(crate) const BUCKET_TYPE: &str = "storage.googleapis.com/Bucket";

/// A Cloud Storage JSON API client.
pub(crate) struct StorageClient {
    pub http: reqwest::Client,
    /// Base URL without trailing slash.
    pub endpoint: String,
    /// `None` for emulators (`STORAGE_EMULATOR_HOST`) and anonymous sources.
    pub credentials: Option<Credentials>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BucketList {
    #[serde(default)]
    items: Vec<Bucket>,
    #[serde(default)]
    next_page_token: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bucket {
    name: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    location_type: String,
    #[serde(default)]
    custom_placement_config: Option<CustomPlacementConfig>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    time_created: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomPlacementConfig {
    #[serde(default)]
    data_locations: Vec<String>,
}

/// The full resource name Cloud Asset Inventory uses for a bucket.
pub(crate) fn bucket_id(name: &str) -> String {
    format!("//storage.googleapis.com/{name}")
}

/// Every bucket of one project, all pages.
pub(crate) async fn list_buckets(
    ctx: &Ctx,
    client: &StorageClient,
    project_id: &str,
) -> Result<Vec<Resource>, ApiFailure> {
    let mut token = String::new();
    let mut out = Vec::new();
    let mut pages = 0u32;
    loop {
        let page: BucketList = ctx
            .call(|| fetch_page(client, project_id, &token))
            .await
            .map_err(|f| failed_page(f, pages + 1, out.len()))?;
        pages += 1;
        out.extend(
            page.items
                .into_iter()
                .map(|b| to_resource(ctx, project_id, b)),
        );
        match next_token(SERVICE, &token, page.next_page_token)? {
            Some(t) => token = t,
            None => break,
        }
    }
    tracing::debug!(
        project = project_id,
        buckets = out.len(),
        "bucket listing done"
    );
    Ok(out)
}

async fn fetch_page(
    client: &StorageClient,
    project_id: &str,
    token: &str,
) -> Attempt<BucketList, ApiFailure> {
    let mut url = match reqwest::Url::parse(&format!("{}/storage/v1/b", client.endpoint)) {
        Ok(u) => u,
        Err(e) => return Attempt::Fail(ApiFailure::error(format!("storage: bad endpoint: {e}"))),
    };
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("project", project_id);
        q.append_pair("projection", "noAcl");
        q.append_pair("maxResults", "1000");
        if !token.is_empty() {
            q.append_pair("pageToken", token);
        }
    }
    crate::api::send_json(
        SERVICE,
        "bucket list response",
        client.credentials.as_ref(),
        client.http.get(url),
    )
    .await
}

fn to_resource(ctx: &Ctx, project_id: &str, b: Bucket) -> Resource {
    let location = ctx.location(BUCKET_TYPE, &b.location);
    let mut replicas: Vec<String> = Vec::new();
    for raw in b.custom_placement_config.unwrap_or_default().data_locations {
        if let Some(l) = ctx.location(BUCKET_TYPE, &raw)
            && Some(&l) != location.as_ref()
            && !replicas.contains(&l)
        {
            replicas.push(l);
        }
    }
    tracing::trace!(bucket = %b.name, location_type = %b.location_type, ?location, ?replicas, "bucket");
    Resource {
        provider: Provider::Gcp,
        scope_id: project_id.to_string(),
        id: bucket_id(&b.name),
        resource_type: BUCKET_TYPE.to_string(),
        category: Category::classify(Provider::Gcp, BUCKET_TYPE),
        name: b.name,
        location,
        replica_locations: replicas,
        resource_group: None,
        tags: b.labels,
        created_at: b.time_created,
    }
}
