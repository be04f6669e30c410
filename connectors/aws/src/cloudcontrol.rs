//! AWS Cloud Control API: every resource of the types in `aws-cloudcontrol.csv`, tagged
//! or not, per (account, region, type).
//!
//! The tagging API sees only resources that have or had tags; the direct listings cover
//! seven services. Cloud Control's `ListResources` lists most CloudFormation resource
//! types through one small SDK crate, so an untagged Redshift cluster, Cognito user pool
//! or log group is found without one SDK crate per service. Each (account, region, type)
//! gets its own coverage entry (`cloudcontrol:AWS::…`), from which
//! [`cloudcensus_core::visibility`] derives what the scan could see.
//!
//! A type that is not offered in a region (`TypeNotFoundException`) or cannot be listed
//! (`UnsupportedActionException`, or `list = no` in the table) is `not-offered` coverage:
//! not a gap, but visible, and the type counts as seen only when tagged.

use std::collections::BTreeMap;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::SdkConfig;
use cloudcensus_core::visibility::{CLOUD_CONTROL_PREFIX, CloudControlList, CloudControlType};
use cloudcensus_core::{Coverage, CoverageStatus, Provider};
use serde_json::Value;

use crate::arn::Arn;
use crate::connector::AwsConnector;
use crate::errors::{CallError, call_error};
use crate::inventory::{Outcome, Seen};

/// Results per page asked of `ListResources` (the API's maximum is 100).
const PAGE_SIZE: i32 = 100;

/// The coverage service of one Cloud Control type.
pub(crate) fn service_of(ty: &CloudControlType) -> String {
    format!("{CLOUD_CONTROL_PREFIX}{}", ty.type_name)
}

/// Coverage for the types Cloud Control cannot list at all (`list = no | none`), once
/// per account: they are seen only when tagged.
pub(crate) fn unlisted_types(account: &str, types: &[CloudControlType]) -> Vec<Coverage> {
    types
        .iter()
        .filter(|t| t.list != CloudControlList::Yes)
        .map(|t| {
            let why = match t.list {
                CloudControlList::NoType => "no CloudFormation resource type exists",
                _ => "Cloud Control has no list handler for it",
            };
            Coverage::failed(
                Provider::Aws,
                account,
                "*",
                service_of(t),
                CoverageStatus::NotOffered,
                format!(
                    "{} ({}): {why}; such resources are seen only when tagged",
                    t.type_name, t.arn_type
                ),
            )
        })
        .collect()
}

/// The ARN of one listed resource: the identifier itself when it is an ARN, else the
/// first template of the type that resolves.
pub(crate) fn build_arn(
    ty: &CloudControlType,
    identifier: &str,
    props: Option<&Value>,
    partition: &str,
    region: &str,
    account: &str,
) -> Option<String> {
    if identifier.starts_with("arn:")
        && !identifier.contains('|')
        && Arn::parse(identifier).is_some()
    {
        return Some(identifier.to_string());
    }
    let parts: Vec<&str> = identifier.split('|').collect();
    let last = identifier
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(identifier);
    'templates: for t in &ty.arn {
        let mut out = String::new();
        let mut rest = t.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find('}') else {
                continue 'templates;
            };
            let key = &rest[start + 1..start + end];
            let value: Option<String> = match key {
                "partition" => Some(partition.into()),
                "region" => Some(region.into()),
                "account" => Some(account.into()),
                "id" => Some(identifier.into()),
                "last" => Some(last.into()),
                k if k.starts_with("prop:") => props
                    .and_then(|p| p.pointer(&format!("/{}", &k[5..])))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                k if k.starts_with("id") => k[2..]
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| parts.get(i))
                    .map(|s| s.to_string()),
                _ => None,
            };
            match value {
                Some(v) if !v.is_empty() => out.push_str(&v),
                _ => continue 'templates,
            }
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        if Arn::parse(&out).is_some() {
            return Some(out);
        }
    }
    None
}

/// A display name for a listed resource: an ARN's last segment, a URL's last path
/// segment (SQS), else the identifier's last `|` part as it is (log group names keep
/// their slashes).
fn display_name(identifier: &str) -> String {
    let first = identifier.split('|').next().unwrap_or(identifier);
    if let Some(a) = Arn::parse(first) {
        return a
            .resource
            .trim_end_matches('/')
            .rsplit(['/', ':'])
            .next()
            .unwrap_or(a.resource)
            .to_string();
    }
    if first.starts_with("https://") {
        return first
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(first)
            .to_string();
    }
    identifier
        .split('|')
        .next_back()
        .unwrap_or(identifier)
        .to_string()
}

/// Tags in a resource model: `Tags` as `[{Key, Value}]` or as a map.
fn model_tags(props: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match props.get("Tags") {
        Some(Value::Array(list)) => {
            for t in list {
                if let (Some(k), v) = (t.get("Key").and_then(Value::as_str), t.get("Value")) {
                    out.insert(
                        k.to_string(),
                        v.and_then(Value::as_str).unwrap_or_default().to_string(),
                    );
                }
            }
        }
        Some(Value::Object(map)) => {
            for (k, v) in map {
                out.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
            }
        }
        _ => {}
    }
    out
}

impl AwsConnector {
    fn cloudcontrol(&self, sdk: &SdkConfig) -> aws_sdk_cloudcontrol::Client {
        let mut b =
            aws_sdk_cloudcontrol::config::Builder::from(sdk).interceptor(self.recorder.clone());
        if let Some(url) = self.cfg.endpoint_urls.get("cloudcontrol") {
            b = b.endpoint_url(url);
        }
        aws_sdk_cloudcontrol::Client::from_conf(b.build())
    }

    /// Lists one type (and the types listed under it) in one region.
    pub(crate) async fn cloud_control_type(
        &self,
        account: &str,
        sdk: &SdkConfig,
        ty: &CloudControlType,
        children: &[&CloudControlType],
        region: &str,
    ) -> Outcome {
        let rsdk = self.region_sdk(sdk, region);
        let client = self.cloudcontrol(&rsdk);
        let cov_region = if ty.global { "global" } else { region };
        let mut out = Outcome::default();
        let listed = self
            .list_type(&client, account, ty, None, region, &mut out.seen)
            .await;
        match listed {
            Ok(ids) => {
                out.coverage.push(Coverage::scanned(
                    Provider::Aws,
                    account,
                    cov_region,
                    service_of(ty),
                ));
                for child in children {
                    let model = child.parent_model.as_deref().unwrap_or("{}");
                    let mut failure: Option<CallError> = None;
                    for id in &ids {
                        let m = model.replace("{parent}", id).replace("{account}", account);
                        if let Err(e) = self
                            .list_type(&client, account, child, Some(m), region, &mut out.seen)
                            .await
                        {
                            failure = Some(CallError {
                                message: format!("under {} {id}: {}", ty.type_name, e.message),
                                ..e
                            });
                            break;
                        }
                    }
                    out.coverage.push(match failure {
                        None => {
                            Coverage::scanned(Provider::Aws, account, cov_region, service_of(child))
                        }
                        Some(e) => Coverage::failed(
                            Provider::Aws,
                            account,
                            cov_region,
                            service_of(child),
                            e.status,
                            e.message,
                        ),
                    });
                }
            }
            Err(e) => {
                out.coverage.push(Coverage::failed(
                    Provider::Aws,
                    account,
                    cov_region,
                    service_of(ty),
                    e.status,
                    e.message.clone(),
                ));
                for child in children {
                    out.coverage.push(Coverage::failed(
                        Provider::Aws,
                        account,
                        cov_region,
                        service_of(child),
                        e.status,
                        format!(
                            "not listed: it is listed per {}, which could not be listed ({})",
                            ty.type_name, e.message
                        ),
                    ));
                }
            }
        }
        out
    }

    /// Every page of one `ListResources`; returns the identifiers listed.
    async fn list_type(
        &self,
        client: &aws_sdk_cloudcontrol::Client,
        account: &str,
        ty: &CloudControlType,
        model: Option<String>,
        region: &str,
        seen: &mut Vec<Seen>,
    ) -> Result<Vec<String>, CallError> {
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_resources()
                .type_name(&ty.type_name)
                .set_resource_model(model.clone())
                .max_results(PAGE_SIZE)
                .set_next_token(token.take())
                .send()
                .await;
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    let mut err = call_error("cloudformation:ListResources", &e);
                    err.message = format!("{} {}", ty.type_name, err.message);
                    match e.code() {
                        Some("TypeNotFoundException") => {
                            err.status = CoverageStatus::NotOffered;
                            err.message = format!(
                                "{} is not offered in {region} (TypeNotFoundException): nothing of it can exist there",
                                ty.type_name
                            );
                        }
                        Some("UnsupportedActionException") => {
                            err.status = CoverageStatus::NotOffered;
                            err.message = format!(
                                "{} cannot be listed through Cloud Control in {region} (UnsupportedActionException): seen only when tagged",
                                ty.type_name
                            );
                        }
                        _ => {}
                    }
                    return Err(err);
                }
            };
            for d in page.resource_descriptions() {
                let Some(identifier) = d.identifier() else {
                    continue;
                };
                let props: Option<Value> =
                    d.properties().and_then(|p| serde_json::from_str(p).ok());
                ids.push(identifier.to_string());
                let Some(arn) = build_arn(
                    ty,
                    identifier,
                    props.as_ref(),
                    &self.partition,
                    region,
                    account,
                ) else {
                    tracing::warn!(r#type = %ty.type_name, %identifier, "no ARN could be built");
                    continue;
                };
                let location = Arn::parse(&arn)
                    .and_then(|a| a.location())
                    .map(str::to_string)
                    .or_else(|| Some(region.to_string()));
                let mut s = Seen::service(arn, location);
                s.name = Some(display_name(identifier));
                if let Some(p) = &props {
                    s.tags = model_tags(p);
                }
                seen.push(s);
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(ids),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudcensus_core::visibility::cloud_control_types;

    fn ty(name: &str) -> &'static CloudControlType {
        cloud_control_types()
            .iter()
            .find(|t| t.type_name == name)
            .unwrap()
    }

    #[test]
    fn arns_are_built_from_identifiers_and_type_and_region_come_back_from_them() {
        let cases = [
            (
                "AWS::Redshift::Cluster",
                "warehouse",
                None,
                "arn:aws:redshift:eu-west-1:111122223333:cluster:warehouse",
                "redshift:cluster",
            ),
            (
                "AWS::SQS::Queue",
                "https://sqs.eu-west-1.amazonaws.com/111122223333/intake",
                None,
                "arn:aws:sqs:eu-west-1:111122223333:intake",
                "sqs:queue",
            ),
            (
                "AWS::SNS::Topic",
                "arn:aws:sns:eu-west-1:111122223333:alerts",
                None,
                "arn:aws:sns:eu-west-1:111122223333:alerts",
                "sns:topic",
            ),
            (
                "AWS::Logs::LogGroup",
                "/aws/lambda/burgers",
                None,
                "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/burgers",
                "logs:log-group",
            ),
            (
                "AWS::ApiGateway::RestApi",
                "a1b2c3",
                None,
                "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3",
                "apigateway:restapis",
            ),
            (
                "AWS::Cassandra::Keyspace",
                "dossiers",
                None,
                "arn:aws:cassandra:eu-west-1:111122223333:/keyspace/dossiers/",
                "cassandra:keyspace",
            ),
            (
                "AWS::Glue::Table",
                "111122223333|lake|personen",
                None,
                "arn:aws:glue:eu-west-1:111122223333:table/lake/personen",
                "glue:table",
            ),
            (
                "AWS::ECS::Service",
                "arn:aws:ecs:eu-west-1:111122223333:service/c1/web|c1",
                None,
                "arn:aws:ecs:eu-west-1:111122223333:service/c1/web",
                "ecs:service",
            ),
        ];
        for (t, id, props, want, want_type) in cases {
            let arn = build_arn(ty(t), id, props, "aws", "eu-west-1", "111122223333").unwrap();
            assert_eq!(arn, want, "{t}");
            assert_eq!(Arn::parse(&arn).unwrap().resource_type(), want_type, "{t}");
        }
    }

    #[test]
    fn a_property_template_wins_and_the_identifier_stands_in_without_it() {
        let t = ty("AWS::Lightsail::Instance");
        let props = serde_json::json!({"InstanceArn": "arn:aws:lightsail:eu-west-1:111122223333:Instance/9f1e"});
        assert_eq!(
            build_arn(t, "web-1", Some(&props), "aws", "eu-west-1", "111122223333").unwrap(),
            "arn:aws:lightsail:eu-west-1:111122223333:Instance/9f1e"
        );
        assert_eq!(
            build_arn(t, "web-1", None, "aws", "eu-west-1", "111122223333").unwrap(),
            "arn:aws:lightsail:eu-west-1:111122223333:Instance/web-1"
        );
        let ns = ty("AWS::RedshiftServerless::Namespace");
        let nested = serde_json::json!({"Namespace": {"NamespaceArn": "arn:aws:redshift-serverless:eu-west-1:111122223333:namespace/0e1d"}});
        assert!(
            build_arn(ns, "analytics", Some(&nested), "aws", "eu-west-1", "1")
                .unwrap()
                .ends_with("namespace/0e1d")
        );
    }

    #[test]
    fn names_tags_and_unlisted_types() {
        assert_eq!(
            display_name("https://sqs.eu-west-1.amazonaws.com/111122223333/intake"),
            "intake"
        );
        assert_eq!(display_name("111122223333|lake|personen"), "personen");
        assert_eq!(
            display_name("arn:aws:ecs:eu-west-1:1:service/c1/web|c1"),
            "web"
        );
        assert_eq!(display_name("/aws/lambda/burgers"), "/aws/lambda/burgers");
        assert_eq!(display_name("warehouse"), "warehouse");
        let tags =
            model_tags(&serde_json::json!({"Tags": [{"Key": "verwerking", "Value": "VA-1"}]}));
        assert_eq!(tags["verwerking"], "VA-1");
        let tags = model_tags(&serde_json::json!({"Tags": {"owner": "team"}}));
        assert_eq!(tags["owner"], "team");
        let cov = unlisted_types("111122223333", cloud_control_types());
        assert!(cov.iter().all(|c| c.status == CoverageStatus::NotOffered));
        assert!(
            cov.iter()
                .any(|c| c.service == "cloudcontrol:AWS::OpenSearchService::Domain")
        );
    }
}
