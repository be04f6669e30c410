//! Every AWS operation the connector sends passes through [`OperationRecorder`].
//!
//! It is an SDK interceptor installed on every client the connector builds. It does two
//! things before a request is serialised:
//!
//! * records `service:Operation`, so tests can prove which calls a full scan makes and
//!   that each is covered by `iam-policy.json`;
//! * checks, after a response is parsed, that an XML body is a whole document (its root
//!   element closes). The SDK's XML deserialiser accepts a page cut off mid-stream and
//!   returns the items it saw, which would report a partial listing as `scanned`; this
//!   check turns it into an error, which the connector records as coverage.
//! * refuses any operation whose name is not read-only (`List*`, `Get*`, `Describe*`,
//!   `Search*`, `Select*`, `Head*`, `Lookup*` (CloudTrail `LookupEvents`), plus STS
//!   `AssumeRole`, which changes nothing in the account). A coding mistake therefore fails the call instead of mutating a
//!   ministry's estate.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Operation-name prefixes that read only.
pub const READ_ONLY_PREFIXES: &[&str] = &[
    "List", "Get", "Describe", "Search", "Select", "Head", "Lookup",
];

/// Operations allowed although their name has no read-only prefix, and why.
pub const ALLOWED_NON_PREFIXED: &[(&str, &str)] = &[(
    "sts:AssumeRole",
    "returns temporary credentials; changes nothing in any account",
)];

/// Whether `service:Operation` only reads.
pub fn is_read_only(service: &str, operation: &str) -> bool {
    READ_ONLY_PREFIXES.iter().any(|p| operation.starts_with(p))
        || ALLOWED_NON_PREFIXED
            .iter()
            .any(|(op, _)| *op == format!("{service}:{operation}"))
}

/// Records (and guards) the operations the connector invokes.
#[derive(Debug, Clone, Default)]
pub struct OperationRecorder {
    seen: Arc<Mutex<BTreeSet<String>>>,
}

impl OperationRecorder {
    /// A recorder with nothing recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every `service:Operation` invoked so far, sorted, with the SDK's service names
    /// mapped to IAM namespaces (`ec2`, `tag`, `elasticfilesystem`).
    pub fn operations(&self) -> BTreeSet<String> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The IAM namespace of an SDK service name (`Metadata::service`).
pub fn iam_namespace(sdk_service: &str) -> String {
    let s = sdk_service.to_ascii_lowercase().replace(' ', "");
    match s.as_str() {
        "resourcegroupstaggingapi" | "resourcegroupstagging" => "tag".into(),
        "efs" => "elasticfilesystem".into(),
        // Cloud Control is authorised by CloudFormation actions.
        "cloudcontrol" => "cloudformation".into(),
        "resourceexplorer2" => "resource-explorer-2".into(),
        _ => s,
    }
}

/// The IAM action that authorises an operation (`s3:ListBuckets` is authorised by
/// `s3:ListAllMyBuckets`; most operations share their action's name).
pub fn iam_action(operation: &str) -> String {
    match operation {
        "s3:ListBuckets" => "s3:ListAllMyBuckets".into(),
        "s3:GetBucketReplication" => "s3:GetReplicationConfiguration".into(),
        "s3:HeadBucket" => "s3:ListBucket".into(),
        // Resource Explorer's ListResources is authorised by its Search action.
        "resource-explorer-2:ListResources" => "resource-explorer-2:Search".into(),
        other => other.to_string(),
    }
}

/// Why an XML body is not a whole document, or `None` when it is (or is not XML).
/// Whole means: the root element is self-closing or the body ends with its end tag.
pub fn incomplete_xml(body: &[u8]) -> Option<String> {
    let text = body.trim_ascii();
    if !text.starts_with(b"<") {
        return None;
    }
    // Skip the declaration, comments and processing instructions to the root element.
    let mut rest = text;
    let root = loop {
        let start = rest.iter().position(|&b| b == b'<')?;
        rest = &rest[start..];
        match rest.get(1) {
            Some(b'?') | Some(b'!') => {
                let end = rest.iter().position(|&b| b == b'>')?;
                rest = &rest[end + 1..];
            }
            Some(_) => break rest,
            None => return Some("truncated XML response: the body ends inside a tag".into()),
        }
    };
    let name_len = root[1..]
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
        .unwrap_or(root.len() - 1);
    let name = &root[1..1 + name_len];
    let Some(open_end) = root.iter().position(|&b| b == b'>') else {
        return Some(
            "truncated XML response: the body ends inside the root element's start tag".into(),
        );
    };
    if root[..open_end].ends_with(b"/") {
        return None;
    }
    let mut close = b"</".to_vec();
    close.extend_from_slice(name);
    close.push(b'>');
    if text.ends_with(&close) {
        None
    } else {
        Some(format!(
            "truncated XML response: the root element <{}> is not closed ({} bytes received)",
            String::from_utf8_lossy(name),
            body.len()
        ))
    }
}

impl Intercept for OperationRecorder {
    fn name(&self) -> &'static str {
        "cloudcensus-operation-recorder"
    }

    // `read_before_serialization`, not `read_before_execution`: client interceptors see
    // the execution before the operation's metadata is in the config bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(md) = cfg.load::<Metadata>() else {
            return Err("cloudcensus: operation without metadata refused (read-only guard)".into());
        };
        let service = iam_namespace(md.service());
        let op = md.name().to_string();
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(format!("{service}:{op}"));
        }
        if !is_read_only(&service, &op) {
            return Err(format!("cloudcensus is read-only: refused {service}:{op}").into());
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Only a successful parse can hide a cut-off page; a failed one is an error already.
        if context.output_or_error().is_err() {
            return Ok(());
        }
        match context.response().body().bytes().and_then(incomplete_xml) {
            Some(why) => Err(why.into()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_operations_pass_the_guard() {
        assert!(is_read_only("s3", "ListBuckets"));
        assert!(is_read_only("ec2", "DescribeInstances"));
        assert!(is_read_only("sts", "AssumeRole"));
        assert!(!is_read_only("s3", "PutBucketTagging"));
        assert!(!is_read_only("ec2", "RunInstances"));
        assert!(!is_read_only("s3", "AssumeRole"));
    }

    #[test]
    fn whole_xml_documents_pass_and_cut_off_ones_are_named() {
        let whole = br#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeVolumesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><volumeSet><item><volumeId>vol-1</volumeId></item></volumeSet></DescribeVolumesResponse>
"#;
        assert_eq!(incomplete_xml(whole), None);
        assert_eq!(incomplete_xml(b"<LocationConstraint/>"), None);
        assert_eq!(incomplete_xml(b"{\"TableNames\": []}"), None);
        assert_eq!(incomplete_xml(b""), None);
        let cut = &whole[..whole.len() * 3 / 4];
        let why = incomplete_xml(cut).unwrap();
        assert!(
            why.contains("<DescribeVolumesResponse>") && why.contains("not closed"),
            "{why}"
        );
        assert!(incomplete_xml(b"<?xml version=\"1.0\"?><Descr").is_some());
    }

    #[test]
    fn sdk_service_names_map_to_iam_namespaces() {
        assert_eq!(iam_namespace("Resource Groups Tagging API"), "tag");
        assert_eq!(iam_namespace("EFS"), "elasticfilesystem");
        assert_eq!(iam_namespace("s3"), "s3");
        assert_eq!(iam_namespace("Resource Explorer 2"), "resource-explorer-2");
        assert_eq!(
            iam_action("resource-explorer-2:ListResources"),
            "resource-explorer-2:Search"
        );
    }
}
