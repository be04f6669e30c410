//! ARN parsing: the resource type and region come from the ARN, never from guesses.
//!
//! `arn:partition:service:region:account:resource`, where `resource` is `type/id`,
//! `type:id` or (S3 buckets, SQS queues, SNS topics) a bare id.

/// A parsed ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: &'a str,
    /// Service namespace (`s3`, `ec2`, `elasticfilesystem`).
    pub service: &'a str,
    /// Region, empty for global resources.
    pub region: &'a str,
    /// Account id, empty for S3 buckets.
    pub account: &'a str,
    /// The resource part after the account.
    pub resource: &'a str,
}

/// Services without a region whose resources are global (`global` location).
const GLOBAL_SERVICES: &[&str] = &[
    "iam",
    "organizations",
    "route53",
    "route53domains",
    "cloudfront",
    "waf",
    "globalaccelerator",
    "shield",
    "sts",
];

impl<'a> Arn<'a> {
    /// Parses an ARN; `None` when it does not have six parts.
    pub fn parse(arn: &'a str) -> Option<Arn<'a>> {
        let mut parts = arn.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let partition = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let account = parts.next()?;
        let resource = parts.next()?;
        if partition.is_empty() || service.is_empty() || resource.is_empty() {
            return None;
        }
        Some(Arn {
            partition,
            service,
            region,
            account,
            resource,
        })
    }

    /// The resource type as `service:type` (`s3:bucket`, `ec2:instance`, `rds:db`).
    pub fn resource_type(&self) -> String {
        // API Gateway, Keyspaces and EMR Serverless resources start with a slash
        // (`/restapis/id`, `/keyspace/name/`).
        let res = self.resource.trim_start_matches('/');
        let kind = match res.find(['/', ':']) {
            Some(i) => &res[..i],
            None => match self.service {
                "s3" => "bucket",
                "sqs" => "queue",
                "sns" => "topic",
                _ => res,
            },
        };
        format!("{}:{}", self.service, kind)
    }

    /// The resource's own id: the last path segment (`i-0abc`, `fs-1`, table name).
    pub fn resource_id(&self) -> &'a str {
        let res = self.resource.trim_start_matches('/');
        match res.find(['/', ':']) {
            Some(i) => {
                let rest = &res[i + 1..];
                // Lambda versions/aliases (`function:name:alias`) keep the name.
                rest.split(['/', ':'])
                    .next()
                    .filter(|s| !s.is_empty())
                    .unwrap_or(rest)
            }
            None => res,
        }
    }

    /// The location the ARN states: its region, or `global` for global services.
    /// `None` for regionless ARNs of regional data (S3 buckets): ask the service.
    pub fn location(&self) -> Option<&'a str> {
        if !self.region.is_empty() {
            Some(self.region)
        } else if GLOBAL_SERVICES.contains(&self.service) {
            Some("global")
        } else {
            None
        }
    }
}

/// The partition a region belongs to.
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_ids_come_from_the_arn() {
        let cases = [
            ("arn:aws:s3:::my-bucket", "s3:bucket", "my-bucket", None),
            (
                "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc",
                "ec2:instance",
                "i-0abc",
                Some("eu-west-1"),
            ),
            (
                "arn:aws:ec2:eu-west-1:111122223333:volume/vol-1",
                "ec2:volume",
                "vol-1",
                Some("eu-west-1"),
            ),
            (
                "arn:aws:rds:eu-central-1:111122223333:db:orders",
                "rds:db",
                "orders",
                Some("eu-central-1"),
            ),
            (
                "arn:aws:dynamodb:us-east-1:111122223333:table/people",
                "dynamodb:table",
                "people",
                Some("us-east-1"),
            ),
            (
                "arn:aws:lambda:eu-west-1:111122223333:function:f:prod",
                "lambda:function",
                "f",
                Some("eu-west-1"),
            ),
            (
                "arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-1",
                "elasticfilesystem:file-system",
                "fs-1",
                Some("eu-west-1"),
            ),
            (
                "arn:aws:sqs:eu-west-1:111122223333:queue1",
                "sqs:queue",
                "queue1",
                Some("eu-west-1"),
            ),
            (
                "arn:aws:iam::111122223333:role/admin",
                "iam:role",
                "admin",
                Some("global"),
            ),
            (
                "arn:aws:cloudfront::111122223333:distribution/E1",
                "cloudfront:distribution",
                "E1",
                Some("global"),
            ),
        ];
        for (arn, ty, id, loc) in cases {
            let a = Arn::parse(arn).unwrap();
            assert_eq!(a.resource_type(), ty, "{arn}");
            assert_eq!(a.resource_id(), id, "{arn}");
            assert_eq!(a.location(), loc, "{arn}");
        }
    }

    #[test]
    fn malformed_arns_are_rejected() {
        assert!(Arn::parse("arn:aws:s3").is_none());
        assert!(Arn::parse("urn:aws:s3:::b").is_none());
        assert!(Arn::parse("arn:aws:s3:::").is_none());
    }

    #[test]
    fn regions_map_to_their_partition() {
        assert_eq!(partition_of_region("eu-west-1"), "aws");
        assert_eq!(partition_of_region("cn-north-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
    }
}
