//! Cloud Asset Inventory `searchAllResources`: the breadth source.
//!
//! One search per project (scope `projects/ID`) rather than one at the organisation:
//! a denied or disabled project then shows up as that project's coverage gap instead of
//! failing the whole organisation, and results need no re-attribution to projects.

use cloudcensus_core::retry::Attempt;
use cloudcensus_core::{Category, Provider, Resource};
use google_cloud_asset_v1::client::AssetService;
use google_cloud_asset_v1::model::ResourceSearchResult;

use crate::api::{Ctx, failed_page, next_token, timestamp};
use crate::error::{ApiFailure, classify_gax};

/// Service name in coverage entries.
pub(crate) const SERVICE: &str = "cloudasset";
/// The largest page `searchAllResources` serves.
const PAGE_SIZE: i32 = 500;

/// Every resource Cloud Asset Inventory knows in one project, all pages.
pub(crate) async fn search_project(
    ctx: &Ctx,
    client: &AssetService,
    project_id: &str,
) -> Result<Vec<Resource>, ApiFailure> {
    let scope = format!("projects/{project_id}");
    let mut token = String::new();
    let mut out = Vec::new();
    let mut pages = 0u32;
    loop {
        let page = ctx
            .call(|| {
                let req = client
                    .search_all_resources()
                    .set_scope(&scope)
                    .set_page_size(PAGE_SIZE)
                    .set_page_token(&token);
                async move {
                    match req.send().await {
                        Ok(r) => Attempt::Done(r),
                        Err(e) => classify_gax(SERVICE, &e),
                    }
                }
            })
            .await
            .map_err(|f| failed_page(f, pages + 1, out.len()))?;
        pages += 1;
        out.extend(
            page.results
                .into_iter()
                .map(|r| to_resource(ctx, project_id, r)),
        );
        match next_token(SERVICE, &token, page.next_page_token)? {
            Some(t) => token = t,
            None => break,
        }
    }
    tracing::debug!(
        project = project_id,
        pages,
        resources = out.len(),
        "cloud asset search done"
    );
    Ok(out)
}

fn to_resource(ctx: &Ctx, project_id: &str, r: ResourceSearchResult) -> Resource {
    let name = if r.display_name.is_empty() {
        r.name.rsplit('/').next().unwrap_or(&r.name).to_string()
    } else {
        r.display_name.clone()
    };
    Resource {
        provider: Provider::Gcp,
        scope_id: project_id.to_string(),
        category: Category::classify(Provider::Gcp, &r.asset_type),
        location: ctx.location(&r.asset_type, &r.location),
        replica_locations: Vec::new(),
        resource_group: None,
        tags: r.labels.into_iter().collect(),
        created_at: timestamp(r.create_time.as_ref()),
        id: r.name,
        resource_type: r.asset_type,
        name,
    }
}
