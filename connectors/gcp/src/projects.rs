//! Resource Manager: which projects a source covers, with their labels and ancestry.
//!
//! For `organizations/N` and `folders/N` the tree is walked level by level:
//! `projects:search` with `parent:X state:ACTIVE` lists the projects directly under a
//! container, `folders.list` its sub-folders (active only). Only direct children can be
//! asked for, hence the walk. Each container that could not be listed becomes a
//! coverage entry (`scope_id` = the container), so a denied folder is a visible gap and
//! never "no projects there".

use std::collections::{BTreeMap, HashMap, HashSet};

use cloudcensus_core::retry::Attempt;
use cloudcensus_core::{Coverage, Provider, Scope};
use futures::StreamExt;
use google_cloud_resourcemanager_v3::client::{Folders, Projects};
use google_cloud_resourcemanager_v3::model::{Project, folder, project};

use crate::api::{Ctx, next_token};
use crate::config::ScopeSpec;
use crate::error::{ApiFailure, classify_gax};

/// Service name in coverage entries.
pub(crate) const SERVICE: &str = "cloudresourcemanager";

/// What discovery found.
#[derive(Debug, Default)]
pub(crate) struct Discovery {
    /// Active projects, sorted by id.
    pub scopes: Vec<Scope>,
    /// One entry per container walked (`organizations/N`, `folders/N`).
    pub containers: Vec<Coverage>,
    /// Per project id: whether its metadata (labels, name, parent) could be read.
    pub project_meta: HashMap<String, Coverage>,
    /// Per project id: its number (`123456789012`), when Resource Manager said.
    pub numbers: HashMap<String, String>,
}

/// Finds the projects of a source.
pub(crate) async fn discover(
    ctx: &Ctx,
    projects: &Projects,
    folders: &Folders,
    spec: &ScopeSpec,
    max_concurrency: usize,
) -> Discovery {
    match spec {
        ScopeSpec::Project(id) => one_project(ctx, projects, id).await,
        ScopeSpec::Organization(_) | ScopeSpec::Folder(_) => {
            walk(
                ctx,
                projects,
                folders,
                spec.resource_name(),
                max_concurrency,
            )
            .await
        }
    }
}

async fn one_project(ctx: &Ctx, client: &Projects, id: &str) -> Discovery {
    let name = format!("projects/{id}");
    let got = ctx
        .call(|| {
            let req = client.get_project().set_name(&name);
            async move {
                match req.send().await {
                    Ok(p) => Attempt::Done(p),
                    Err(e) => classify_gax(SERVICE, &e),
                }
            }
        })
        .await;
    let mut d = Discovery::default();
    let (scope, meta) = match got {
        Ok(p) => {
            remember_number(&mut d, &p);
            let parents = if p.parent.is_empty() {
                Vec::new()
            } else {
                vec![p.parent.clone()]
            };
            (
                to_scope(p, parents),
                Coverage::scanned(Provider::Gcp, id, "*", SERVICE),
            )
        }
        // The project is still scanned; only its labels and name are missing.
        Err(f) => (Scope::new(Provider::Gcp, id), failed(id, f)),
    };
    d.project_meta.insert(scope.id.clone(), meta);
    d.scopes.push(scope);
    d
}

async fn walk(
    ctx: &Ctx,
    projects: &Projects,
    folders: &Folders,
    root: String,
    max_concurrency: usize,
) -> Discovery {
    let mut d = Discovery::default();
    let mut seen = HashSet::new();
    let mut level = vec![vec![root]]; // each entry: the container, then its ancestors
    while !level.is_empty() {
        let results: Vec<_> = futures::stream::iter(level)
            .map(|chain| async move {
                let (p, f) = futures::join!(
                    search_projects(ctx, projects, &chain[0]),
                    list_folders(ctx, folders, &chain[0])
                );
                (chain, p, f)
            })
            .buffer_unordered(max_concurrency.max(1))
            .collect()
            .await;
        let mut next = Vec::new();
        for (chain, found_projects, found_folders) in results {
            let container = chain[0].clone();
            let mut failures = Vec::new();
            match found_projects {
                Ok(ps) => {
                    for p in ps {
                        if p.state == project::State::Active && seen.insert(p.project_id.clone()) {
                            let meta =
                                Coverage::scanned(Provider::Gcp, &p.project_id, "*", SERVICE);
                            d.project_meta.insert(p.project_id.clone(), meta);
                            remember_number(&mut d, &p);
                            d.scopes.push(to_scope(p, chain.clone()));
                        }
                    }
                }
                Err(f) => failures.push(f),
            }
            match found_folders {
                Ok(fs) => {
                    for f in fs {
                        if f.state == folder::State::Active && seen.insert(f.name.clone()) {
                            let mut sub = vec![f.name];
                            sub.extend(chain.iter().cloned());
                            next.push(sub);
                        }
                    }
                }
                Err(f) => failures.push(f),
            }
            d.containers.push(match failures.len() {
                0 => Coverage::scanned(Provider::Gcp, &container, "*", SERVICE),
                _ => {
                    let status = failures[0].status;
                    let message = failures
                        .into_iter()
                        .map(|f| f.message)
                        .collect::<Vec<_>>()
                        .join("; ");
                    Coverage::failed(Provider::Gcp, &container, "*", SERVICE, status, message)
                }
            });
        }
        level = next;
    }
    d.scopes.sort_by(|a, b| a.id.cmp(&b.id));
    d.containers.sort();
    tracing::debug!(
        projects = d.scopes.len(),
        containers = d.containers.len(),
        "project discovery done"
    );
    d
}

async fn search_projects(
    ctx: &Ctx,
    client: &Projects,
    parent: &str,
) -> Result<Vec<Project>, ApiFailure> {
    let query = format!("parent:{parent} state:ACTIVE");
    let api = "cloudresourcemanager projects.search";
    let mut token = String::new();
    let mut out = Vec::new();
    loop {
        let page = ctx
            .call(|| {
                let req = client
                    .search_projects()
                    .set_query(&query)
                    .set_page_token(&token);
                async move {
                    match req.send().await {
                        Ok(r) => Attempt::Done(r),
                        Err(e) => classify_gax(api, &e),
                    }
                }
            })
            .await?;
        out.extend(page.projects);
        match next_token(api, &token, page.next_page_token)? {
            Some(t) => token = t,
            None => return Ok(out),
        }
    }
}

async fn list_folders(
    ctx: &Ctx,
    client: &Folders,
    parent: &str,
) -> Result<Vec<google_cloud_resourcemanager_v3::model::Folder>, ApiFailure> {
    let api = "cloudresourcemanager folders.list";
    let mut token = String::new();
    let mut out = Vec::new();
    loop {
        let page = ctx
            .call(|| {
                let req = client
                    .list_folders()
                    .set_parent(parent)
                    .set_page_token(&token);
                async move {
                    match req.send().await {
                        Ok(r) => Attempt::Done(r),
                        Err(e) => classify_gax(api, &e),
                    }
                }
            })
            .await?;
        out.extend(page.folders);
        match next_token(api, &token, page.next_page_token)? {
            Some(t) => token = t,
            None => return Ok(out),
        }
    }
}

fn remember_number(d: &mut Discovery, p: &Project) {
    if let Some(n) = p.name.strip_prefix("projects/") {
        d.numbers.insert(p.project_id.clone(), n.to_string());
    }
}

fn to_scope(p: Project, parents: Vec<String>) -> Scope {
    let mut s = Scope::new(Provider::Gcp, p.project_id);
    s.name = (!p.display_name.is_empty()).then_some(p.display_name);
    s.parents = parents;
    s.tags = p.labels.into_iter().collect::<BTreeMap<_, _>>();
    s
}

fn failed(scope_id: &str, f: ApiFailure) -> Coverage {
    Coverage::failed(Provider::Gcp, scope_id, "*", SERVICE, f.status, f.message)
}
