//! AWS Resource Explorer fast path (`inventory = "resource-explorer"`).
//!
//! Where an account runs an aggregator index, one paged `ListResources` through its
//! default (or configured) view lists every supported resource type of every indexed
//! region, tagged or not — a few calls instead of one Cloud Control call per (region,
//! type). What it cannot vouch for falls back to Cloud Control, and coverage says so:
//!
//! * no aggregator index, no default view, a view with a filter, or a failed call: every
//!   type is listed through Cloud Control (one `resource-explorer` entry says why);
//! * a scanned region without an index: Cloud Control lists every type there;
//! * a type Resource Explorer does not support (`ListSupportedResourceTypes`), a global
//!   type, or a type listed under a parent whose family is not wholly supported: Cloud
//!   Control lists it.
//!
//! A type Resource Explorer listed gets a `resource-explorer:AWS::…` coverage entry per
//! (account, region); [`cloudcensus_core::visibility`] reads it like a Cloud Control one.
//!
//! Two service traits matter. `ListResources` answers no `NextToken` when `MaxResults`
//! is 1000, silently cutting the list at 1000, so pages are asked at [`PAGE_SIZE`]. And a
//! multi-account view returns other accounts' resources too: only the scanned account's
//! are kept (the others are scanned as their own scope).

use std::collections::{BTreeMap, BTreeSet};

use aws_smithy_types::Document;
use aws_types::SdkConfig;
use cloudcensus_core::visibility::{
    CloudControlType, RESOURCE_EXPLORER_PREFIX, cloud_control_types, completely_listable_types,
};
use cloudcensus_core::{Coverage, CoverageStatus, Provider};

use crate::connector::AwsConnector;
use crate::errors::{CallError, call_error};
use crate::inventory::Seen;

/// Results per `ListResources` page. Not 1000: at 1000 the service sends no `NextToken`.
pub(crate) const PAGE_SIZE: i32 = 500;

/// The coverage service of one type listed through Resource Explorer.
pub(crate) fn service_of(ty: &CloudControlType) -> String {
    format!("{RESOURCE_EXPLORER_PREFIX}{}", ty.type_name)
}

/// What the fast path listed and which (region, type) it vouches for.
#[derive(Default)]
pub(crate) struct Explored {
    pub(crate) seen: Vec<Seen>,
    pub(crate) coverage: Vec<Coverage>,
    /// (region, CloudFormation type name) listed completely: Cloud Control skips them.
    pub(crate) covered: BTreeSet<(String, String)>,
}

impl Explored {
    /// Whether Resource Explorer listed `type_name` in every one of `regions`.
    pub(crate) fn covers_all(&self, type_name: &str, regions: &[String]) -> bool {
        !regions.is_empty()
            && regions
                .iter()
                .all(|r| self.covered.contains(&(r.clone(), type_name.to_string())))
    }
}

/// The catalog types Resource Explorer can vouch for, given the types it supports: not
/// global, and a parent/child family only when all of it is supported.
pub(crate) fn coverable_types(supported: &BTreeSet<String>) -> Vec<&'static CloudControlType> {
    let types = cloud_control_types();
    let family_root = |t: &'static CloudControlType| -> String {
        t.parent.clone().unwrap_or_else(|| t.type_name.clone())
    };
    let mut family_ok: BTreeMap<String, bool> = BTreeMap::new();
    for t in types {
        let ok = !t.global && supported.contains(&t.arn_type);
        *family_ok.entry(family_root(t)).or_insert(true) &= ok;
    }
    types
        .iter()
        .filter(|t| family_ok.get(&family_root(t)).copied().unwrap_or(false))
        .collect()
}

/// Tags in a resource's `tags` property (`[{"Key": …, "Value": …}]`).
fn tags_of(
    properties: &[aws_sdk_resourceexplorer2::types::ResourceProperty],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for p in properties {
        if p.name() != Some("tags") {
            continue;
        }
        let Some(Document::Array(list)) = p.data() else {
            continue;
        };
        for t in list {
            let Document::Object(o) = t else { continue };
            let Some(Document::String(k)) = o.get("Key") else {
                continue;
            };
            let v = match o.get("Value") {
                Some(Document::String(v)) => v.clone(),
                _ => String::new(),
            };
            out.insert(k.clone(), v);
        }
    }
    out
}

/// Why the fast path was not used: a note, not a gap, when Cloud Control stands in; the
/// failure's own status when nothing does.
fn not_used(account: &str, fallback: bool, status: CoverageStatus, why: String) -> Coverage {
    let (status, tail) = if fallback {
        (
            CoverageStatus::NotOffered,
            "every type was listed through Cloud Control instead",
        )
    } else {
        let s = if status == CoverageStatus::NotOffered {
            CoverageStatus::Error
        } else {
            status
        };
        (
            s,
            "cloud_control = false, so the aws-cloudcontrol.csv types are seen only when tagged",
        )
    };
    Coverage::failed(
        Provider::Aws,
        account,
        "*",
        "resource-explorer",
        status,
        format!("Resource Explorer not used: {why}; {tail}"),
    )
}

impl AwsConnector {
    fn resource_explorer(&self, sdk: &SdkConfig) -> aws_sdk_resourceexplorer2::Client {
        let mut b = aws_sdk_resourceexplorer2::config::Builder::from(sdk)
            .interceptor(self.recorder.clone());
        if let Some(url) = self.cfg.endpoint_urls.get("resource_explorer_2") {
            b = b.endpoint_url(url);
        }
        aws_sdk_resourceexplorer2::Client::from_conf(b.build())
    }

    /// Lists the account through its aggregator index; see the module docs.
    pub(crate) async fn explore(
        &self,
        account: &str,
        sdk: &SdkConfig,
        regions: &[String],
    ) -> Explored {
        let fallback = self.cfg.cloud_control;
        let mut out = Explored::default();
        let fail = |out: &mut Explored, status, why: String| {
            out.coverage.push(not_used(account, fallback, status, why));
        };

        // 1. Where the indexes are (one call answers for every region).
        let home = self.resource_explorer(&self.region_sdk(sdk, &self.home_region));
        let mut indexed: BTreeSet<String> = BTreeSet::new();
        let mut aggregator: Option<String> = None;
        let mut pages = home.list_indexes().into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => {
                    for ix in p.indexes() {
                        let Some(r) = ix.region() else { continue };
                        indexed.insert(r.to_string());
                        if ix.r#type().map(|t| t.as_str()) == Some("AGGREGATOR") {
                            aggregator = Some(r.to_string());
                        }
                    }
                }
                Err(e) => {
                    let err = call_error("resource-explorer-2:ListIndexes", &e);
                    fail(&mut out, err.status, err.message);
                    return out;
                }
            }
        }
        let Some(agg) = aggregator else {
            let why = if indexed.is_empty() {
                "the account has no Resource Explorer index".to_string()
            } else {
                format!(
                    "the account has local indexes ({}) but no aggregator index",
                    indexed.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            fail(&mut out, CoverageStatus::NotOffered, why);
            return out;
        };
        if let Some(view) = &self.cfg.resource_explorer_view {
            let view_region = view.split(':').nth(3).unwrap_or_default();
            if view_region != agg {
                fail(
                    &mut out,
                    CoverageStatus::NotOffered,
                    format!(
                        "resource_explorer_view {view} is in {view_region}, not in the aggregator index's region {agg}, \
                         so it sees one region only; use a view in {agg}"
                    ),
                );
                return out;
            }
        }
        let client = self.resource_explorer(&self.region_sdk(sdk, &agg));

        // 2. The view, and that it hides nothing.
        let view_arn = match &self.cfg.resource_explorer_view {
            Some(v) => v.clone(),
            None => match client.get_default_view().send().await {
                Ok(v) => match v.view_arn() {
                    Some(a) if !a.is_empty() => a.to_string(),
                    _ => {
                        fail(
                            &mut out,
                            CoverageStatus::NotOffered,
                            format!(
                                "the aggregator index in {agg} has no default view; set resource_explorer_view"
                            ),
                        );
                        return out;
                    }
                },
                Err(e) => {
                    let err = call_error("resource-explorer-2:GetDefaultView", &e);
                    fail(&mut out, err.status, err.message);
                    return out;
                }
            },
        };
        match client.get_view().view_arn(&view_arn).send().await {
            Ok(v) => {
                let filter = v
                    .view()
                    .and_then(|v| v.filters())
                    .map(|f| f.filter_string().trim().to_string())
                    .unwrap_or_default();
                if !filter.is_empty() {
                    fail(
                        &mut out,
                        CoverageStatus::NotOffered,
                        format!(
                            "view {view_arn} has the filter '{filter}', so it does not list every resource; \
                             use a view without a filter"
                        ),
                    );
                    return out;
                }
            }
            Err(e) => {
                let err = call_error("resource-explorer-2:GetView", &e);
                fail(
                    &mut out,
                    err.status,
                    format!("view {view_arn}: {}", err.message),
                );
                return out;
            }
        }

        // 3. Which types it indexes.
        let mut supported: BTreeSet<String> = BTreeSet::new();
        let mut pages = client
            .list_supported_resource_types()
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => supported.extend(
                    p.resource_types()
                        .iter()
                        .filter_map(|t| t.resource_type().map(str::to_string)),
                ),
                Err(e) => {
                    let err = call_error("resource-explorer-2:ListSupportedResourceTypes", &e);
                    fail(&mut out, err.status, err.message);
                    return out;
                }
            }
        }

        // 4. Every resource of the view.
        let wanted: BTreeSet<&str> = regions.iter().map(String::as_str).collect();
        let keep_untagged = completely_listable_types(Provider::Aws);
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_resources()
                .view_arn(&view_arn)
                .max_results(PAGE_SIZE)
                .set_next_token(token.take())
                .send()
                .await;
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    let err: CallError = call_error("resource-explorer-2:ListResources", &e);
                    fail(
                        &mut out,
                        err.status,
                        format!("view {view_arn}: {}", err.message),
                    );
                    return out;
                }
            };
            for r in page.resources() {
                let Some(arn) = r.arn() else { continue };
                if r.owning_account_id().is_some_and(|a| a != account) {
                    continue;
                }
                let region = r.region().unwrap_or("global");
                let location = match region {
                    "" | "global" => None,
                    reg if wanted.contains(reg) => Some(reg.to_string()),
                    _ => continue,
                };
                let tags = tags_of(r.properties());
                // Resources of types no other listing lists completely are kept when
                // tagged only, so both inventories find the same estate.
                let rtype = crate::arn::Arn::parse(arn).map(|a| a.resource_type());
                if tags.is_empty() && !rtype.is_some_and(|t| keep_untagged.contains(&t)) {
                    continue;
                }
                let mut s = Seen::service(arn.to_string(), location);
                s.tags = tags;
                seen.push(s);
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.seen = seen;

        // 5. What it vouches for, per region.
        let coverable = coverable_types(&supported);
        for region in regions {
            if !indexed.contains(region) {
                out.coverage.push(Coverage::failed(
                    Provider::Aws,
                    account,
                    region,
                    "resource-explorer",
                    CoverageStatus::NotOffered,
                    format!(
                        "no Resource Explorer index in {region}: its types were listed through Cloud Control"
                    ),
                ));
                continue;
            }
            for ty in &coverable {
                out.covered.insert((region.clone(), ty.type_name.clone()));
                out.coverage.push(Coverage::scanned(
                    Provider::Aws,
                    account,
                    region,
                    service_of(ty),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_covered_whole_and_global_types_never() {
        let all: BTreeSet<String> = cloud_control_types()
            .iter()
            .map(|t| t.arn_type.clone())
            .collect();
        let got = coverable_types(&all);
        assert!(got.iter().all(|t| !t.global));
        assert!(got.iter().any(|t| t.type_name == "AWS::Glue::Table"));
        let mut no_table = all.clone();
        no_table.remove("glue:table");
        let got = coverable_types(&no_table);
        assert!(
            !got.iter()
                .any(|t| t.type_name.starts_with("AWS::Glue::Table"))
        );
        assert!(!got.iter().any(|t| t.type_name == "AWS::Glue::Database"));
        assert!(got.iter().any(|t| t.type_name == "AWS::Redshift::Cluster"));
        assert!(coverable_types(&BTreeSet::new()).is_empty());
    }

    #[test]
    fn tags_come_from_the_tags_property() {
        use aws_sdk_resourceexplorer2::types::ResourceProperty;
        let tag = |k: &str, v: &str| {
            Document::Object(
                [
                    ("Key".to_string(), Document::String(k.into())),
                    ("Value".to_string(), Document::String(v.into())),
                ]
                .into(),
            )
        };
        let props = vec![
            ResourceProperty::builder()
                .name("tags")
                .data(Document::Array(vec![
                    tag("verwerking", "VA-7"),
                    tag("owner", ""),
                ]))
                .build(),
            ResourceProperty::builder()
                .name("other")
                .data(Document::Array(vec![tag("x", "y")]))
                .build(),
        ];
        let t = tags_of(&props);
        assert_eq!(t.len(), 2);
        assert_eq!(t["verwerking"], "VA-7");
        assert_eq!(t["owner"], "");
    }
}
