//! Inventory of one account: regions, per-service listings, the tagging API, merged by
//! ARN.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::SdkConfig;
use aws_types::region::Region;
use chrono::{DateTime, Utc};
use cloudcensus_core::{Category, Coverage, CoverageStatus, Observation, Provider, Resource};
use futures::StreamExt;

use cloudcensus_core::visibility::{CloudControlList, CloudControlType, cloud_control_types};

use crate::arn::{Arn, partition_of_region};
use crate::config::{Inventory, Regions};
use crate::connector::AwsConnector;
use crate::errors::{CallError, call_error};
use crate::resourceexplorer::Explored;

/// The regional services listed directly (beside the tagging API, whose pages are
/// started first).
const REGIONAL_SERVICES: &[Service] = &[
    Service::Ec2,
    Service::Rds,
    Service::DynamoDb,
    Service::Lambda,
    Service::Efs,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Tagging,
    Ec2,
    Rds,
    DynamoDb,
    Lambda,
    Efs,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Tagging => "tagging",
            Service::Ec2 => "ec2",
            Service::Rds => "rds",
            Service::DynamoDb => "dynamodb",
            Service::Lambda => "lambda",
            Service::Efs => "elasticfilesystem",
        }
    }
}

/// The tagging API's largest page: `ResourcesPerPage` (at most 100) and `TagsPerPage`
/// (100–500; a server that applies a tag limit when not asked ends pages at 100 tags).
const TAGGING_RESOURCES_PER_PAGE: i32 = 100;
const TAGGING_TAGS_PER_PAGE: i32 = 500;

/// At most this many DescribeTable calls of one region at once, on spare slots.
const DESCRIBE_WIDTH: usize = 16;

/// One unit of work, run with bounded concurrency.
enum Job {
    Bucket(String),
    Region(Service, String),
    /// A Cloud Control type (with the types listed under it) in one region.
    CloudControl(
        &'static CloudControlType,
        Vec<&'static CloudControlType>,
        String,
    ),
}

/// The S3 clients of one account scan, one per scanned region, made once: a client per
/// bucket cost its construction on every bucket. Clones share one client.
struct S3Clients {
    home: aws_sdk_s3::Client,
    by_region: HashMap<String, aws_sdk_s3::Client>,
}

impl S3Clients {
    fn new(
        conn: &AwsConnector,
        sdk: &SdkConfig,
        home: aws_sdk_s3::Client,
        regions: &[String],
    ) -> Self {
        let mut by_region: HashMap<String, aws_sdk_s3::Client> = regions
            .iter()
            .map(|r| (r.clone(), conn.s3(sdk, r)))
            .collect();
        by_region.insert(conn.home_region.clone(), home.clone());
        S3Clients { home, by_region }
    }
}

/// A resource as one source saw it, before merging by ARN.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) arn: String,
    location: Option<String>,
    replicas: Vec<String>,
    pub(crate) tags: BTreeMap<String, String>,
    created_at: Option<DateTime<Utc>>,
    /// Display name when the ARN's id is not the name (Cloud Control identifiers).
    pub(crate) name: Option<String>,
    /// Listed by the service itself (authoritative for location and replicas), as opposed
    /// to the tagging API.
    from_service: bool,
    /// S3 replication destinations (bucket names) still to be located.
    replica_buckets: Vec<String>,
}

impl Seen {
    pub(crate) fn service(arn: String, location: Option<String>) -> Self {
        Seen {
            arn,
            location,
            replicas: Vec::new(),
            tags: BTreeMap::new(),
            created_at: None,
            name: None,
            from_service: true,
            replica_buckets: Vec::new(),
        }
    }
}

/// What a job produced.
#[derive(Default)]
pub(crate) struct Outcome {
    pub(crate) seen: Vec<Seen>,
    pub(crate) coverage: Vec<Coverage>,
}

fn to_chrono(t: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn tags_of<'a>(
    pairs: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    pairs
        .filter_map(|(k, v)| k.map(|k| (k.to_string(), v.unwrap_or_default().to_string())))
        .collect()
}

impl AwsConnector {
    /// The slots a job takes from the source's budget: one per call it makes at once.
    /// EC2 (instances, volumes) and RDS (instances, clusters) make two independent
    /// listings, side by side, so that no job is a chain of two calls.
    fn slots_of(&self, job: &Job) -> u32 {
        match job {
            Job::Region(Service::Ec2 | Service::Rds, _) => self.pair_width(),
            _ => 1,
        }
    }

    /// The slots two independent calls take: two, or one when the whole budget is one.
    pub(crate) fn pair_width(&self) -> u32 {
        if self.cfg.max_concurrency >= 2 { 2 } else { 1 }
    }

    /// Runs `a` and `b` on the [`Self::pair_width`] slots their caller holds (`slots`):
    /// side by side, giving one slot back when the first ends, or one after the other
    /// when they hold a single slot (a budget of one).
    pub(crate) async fn on_own_slots<A, B>(
        &self,
        slots: crate::budget::Slots<'_>,
        a: impl std::future::Future<Output = A>,
        b: impl std::future::Future<Output = B>,
    ) -> (A, B) {
        let mut slots = slots.ok();
        let second = slots
            .as_mut()
            .filter(|s| s.num_permits() >= 2)
            .and_then(|s| s.split(1));
        match second {
            Some(second) => crate::budget::join_giving_back(a, b, Some(second)).await,
            None => (a.await, b.await),
        }
    }

    /// Lists one account completely; every failure is a coverage entry.
    pub(crate) async fn scan_account(&self, account: &str) -> Vec<Observation> {
        let mut coverage: Vec<Coverage> = self
            .scope_notes
            .lock()
            .ok()
            .and_then(|mut n| n.remove(account))
            .unwrap_or_default();
        // Every call of the scan, these first ones too, waits for a slot of the source's
        // budget (`max_concurrency`), shared with its other accounts (the semaphore is
        // never closed).
        let slot = || self.jobs.acquire();
        let sdk = match async {
            let _slot = slot().await;
            self.account_sdk(account).await
        }
        .await
        {
            Ok(sdk) => sdk,
            Err(cov) => return vec![Observation::Coverage(cov)],
        };
        let regions = {
            let _slot = slot().await;
            self.regions(account, &sdk, &mut coverage).await
        };
        let mut seen: Vec<Seen> = Vec::new();
        let s3_home = self.s3(&sdk, &self.home_region);
        let s3 = S3Clients::new(self, &sdk, s3_home.clone(), &regions);

        let run = |jobs: Vec<Job>| {
            let sdk = &sdk;
            let s3 = &s3;
            futures::stream::iter(jobs)
                .map(move |job| async move {
                    let slots = self.jobs.acquire_many(self.slots_of(&job)).await;
                    match job {
                        Job::Bucket(name) => self.bucket(account, sdk, s3, &name).await,
                        Job::Region(svc, region) => {
                            self.region_service(account, sdk, svc, &region, slots).await
                        }
                        Job::CloudControl(ty, children, region) => {
                            self.cloud_control_type(account, sdk, ty, &children, &region)
                                .await
                        }
                    }
                })
                .buffer_unordered(self.cfg.max_concurrency)
                .collect::<Vec<Outcome>>()
        };

        // The order in which jobs queue for slots is the order the budget serves them,
        // and the last jobs to start set the end of the scan. So the ones that take
        // longest go first: a region's tagging-API pages and the Cloud Control types
        // (chains of dependent pages: one started last ran on alone), at once; then each
        // bucket (its location, then its tagging and replication); the services listed
        // in one call per region last. S3 lists buckets once per account, side by side
        // with the first jobs.
        let buckets = async {
            let mut buckets = Vec::new();
            let listing = slot().await;
            let mut pages = s3_home.list_buckets().into_paginator().send();
            let mut list_failed = None;
            while let Some(page) = pages.next().await {
                match page {
                    Ok(p) => buckets.extend(
                        p.buckets()
                            .iter()
                            .filter_map(|b| b.name().map(str::to_string)),
                    ),
                    Err(e) => {
                        list_failed = Some(call_error("s3:ListBuckets", &e));
                        break;
                    }
                }
            }
            drop(listing);
            let listed = match list_failed {
                None => Coverage::scanned(Provider::Aws, account, "global", "s3"),
                Some(err) => failed(account, "global", "s3", &err),
            };
            tracing::debug!(%account, buckets = buckets.len(), "buckets listed");
            let mut jobs: Vec<Job> = buckets.into_iter().map(Job::Bucket).collect();
            for region in &regions {
                for svc in REGIONAL_SERVICES {
                    jobs.push(Job::Region(*svc, region.clone()));
                }
            }
            (listed, run(jobs).await)
        };

        let others = async {
            let mut jobs: Vec<Job> = regions
                .iter()
                .map(|r| Job::Region(Service::Tagging, r.clone()))
                .collect();
            // Resource Explorer first: what its aggregator index vouches for, Cloud
            // Control does not list again.
            let explored = if self.cfg.inventory == Inventory::ResourceExplorer {
                let _slot = slot().await;
                self.explore(account, &sdk, &regions).await
            } else {
                Explored::default()
            };
            let mut notes = Vec::new();
            if self.cfg.cloud_control {
                let types = cloud_control_types();
                let unlisted: Vec<CloudControlType> = types
                    .iter()
                    .filter(|t| !explored.covers_all(&t.type_name, &regions))
                    .cloned()
                    .collect();
                notes.extend(crate::cloudcontrol::unlisted_types(account, &unlisted));
                let listable = || types.iter().filter(|t| t.list == CloudControlList::Yes);
                for ty in listable().filter(|t| t.parent.is_none()) {
                    let children: Vec<&'static CloudControlType> = listable()
                        .filter(|c| c.parent.as_deref() == Some(ty.type_name.as_str()))
                        .collect();
                    if ty.global {
                        jobs.push(Job::CloudControl(ty, children, self.home_region.clone()));
                    } else {
                        for region in &regions {
                            // Families are covered whole, so the parent stands for them all.
                            if explored
                                .covered
                                .contains(&(region.clone(), ty.type_name.clone()))
                            {
                                continue;
                            }
                            jobs.push(Job::CloudControl(ty, children.clone(), region.clone()));
                        }
                    }
                }
            }
            tracing::debug!(%account, jobs = jobs.len(), regions = regions.len(), "scanning account");
            let outcomes = run(jobs).await;
            (explored, notes, outcomes)
        };

        let ((listed, bucket_outcomes), (explored, notes, outcomes)) =
            futures::join!(buckets, others);
        coverage.push(listed);
        coverage.extend(notes);
        seen.extend(explored.seen);
        coverage.extend(explored.coverage);
        for o in outcomes.into_iter().chain(bucket_outcomes) {
            seen.extend(o.seen);
            coverage.extend(o.coverage);
        }

        // S3 replica destinations: locate buckets we did not list ourselves.
        let mut bucket_region: HashMap<String, String> = seen
            .iter()
            .filter(|s| s.from_service && s.arn.starts_with("arn:") && s.arn.contains(":s3:::"))
            .filter_map(|s| {
                Some((
                    Arn::parse(&s.arn)?.resource_id().to_string(),
                    s.location.clone()?,
                ))
            })
            .collect();
        let unknown: BTreeSet<String> = seen
            .iter()
            .flat_map(|s| s.replica_buckets.iter())
            .filter(|b| !bucket_region.contains_key(*b))
            .cloned()
            .collect();
        // Looked up side by side, within the source's budget like every other call.
        let located: Vec<(String, Result<String, CallError>)> = futures::stream::iter(unknown)
            .map(|b| {
                let s3_home = &s3_home;
                async move {
                    let _slot = slot().await;
                    let got = match s3_home.get_bucket_location().bucket(&b).send().await {
                        Ok(out) => {
                            let raw = out.location_constraint().map(|c| c.as_str()).unwrap_or("");
                            Ok(self.catalog.normalise(Provider::Aws, raw))
                        }
                        Err(e) => Err(call_error("s3:GetBucketLocation", &e)),
                    };
                    (b, got)
                }
            })
            .buffer_unordered(self.cfg.max_concurrency)
            .collect()
            .await;
        for (b, got) in located {
            match got {
                Ok(region) => {
                    bucket_region.insert(b, region);
                }
                Err(err) => {
                    coverage.push(failed(
                        account,
                        "global",
                        "s3",
                        &CallError {
                            message: format!(
                                "replication destination bucket {b}: {}; its region is unknown",
                                err.message
                            ),
                            ..err
                        },
                    ));
                }
            }
        }
        for s in &mut seen {
            for b in std::mem::take(&mut s.replica_buckets) {
                if let Some(r) = bucket_region.get(&b) {
                    s.replicas.push(r.clone());
                }
            }
        }

        let mut out: Vec<Observation> = self
            .merge(account, seen)
            .into_iter()
            .map(Observation::Resource)
            .collect();
        coverage.sort();
        coverage.dedup();
        out.extend(coverage.into_iter().map(Observation::Coverage));
        out
    }

    /// The regions to scan; regions not opted in become `not-enabled` coverage.
    async fn regions(
        &self,
        account: &str,
        sdk: &SdkConfig,
        coverage: &mut Vec<Coverage>,
    ) -> Vec<String> {
        if let Regions::List(list) = &self.cfg.regions {
            return list.clone();
        }
        let ec2 = self.ec2(sdk, &self.home_region);
        match ec2.describe_regions().all_regions(true).send().await {
            Ok(out) => {
                let mut enabled = Vec::new();
                for r in out.regions() {
                    let Some(name) = r.region_name() else {
                        continue;
                    };
                    if partition_of_region(name) != self.partition {
                        tracing::debug!(region = name, "other partition; not part of this account");
                        continue;
                    }
                    match r.opt_in_status().unwrap_or("opt-in-not-required") {
                        "not-opted-in" => coverage.push(Coverage::failed(
                            Provider::Aws,
                            account,
                            name,
                            "*",
                            CoverageStatus::NotEnabled,
                            "region not opted in: nothing can exist there",
                        )),
                        _ => enabled.push(name.to_string()),
                    }
                }
                enabled.sort();
                enabled
            }
            Err(e) => {
                let err = call_error("ec2:DescribeRegions", &e);
                coverage.push(Coverage::failed(
                    Provider::Aws,
                    account,
                    "*",
                    "ec2",
                    err.status,
                    format!(
                        "{}; regional services were not listed in any region",
                        err.message
                    ),
                ));
                Vec::new()
            }
        }
    }

    pub(crate) fn region_sdk(&self, sdk: &SdkConfig, region: &str) -> SdkConfig {
        sdk.clone()
            .into_builder()
            .region(Region::new(region.to_string()))
            .build()
    }

    fn s3(&self, sdk: &SdkConfig, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.region_sdk(sdk, region))
            .interceptor(self.recorder.clone())
            .force_path_style(self.cfg.endpoint_url.is_some())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    fn ec2(&self, sdk: &SdkConfig, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(&self.region_sdk(sdk, region))
                .interceptor(self.recorder.clone())
                .build(),
        )
    }

    /// One bucket: location (null → us-east-1, `EU` → eu-west-1), tags, replication.
    async fn bucket(&self, account: &str, sdk: &SdkConfig, s3: &S3Clients, name: &str) -> Outcome {
        let mut out = Outcome::default();
        let arn = format!("arn:{}:s3:::{name}", self.partition);
        let home = s3.home.clone();
        let location = match home.get_bucket_location().bucket(name).send().await {
            Ok(o) => {
                let raw = o.location_constraint().map(|c| c.as_str()).unwrap_or("");
                Some(self.catalog.normalise(Provider::Aws, raw))
            }
            Err(e) => {
                let err = call_error("s3:GetBucketLocation", &e);
                out.coverage
                    .push(failed(account, "global", "s3", &bucket_err(name, err)));
                None
            }
        };
        let mut seen = Seen::service(arn, location.clone());
        // Tagging and replication must be asked in the bucket's own region.
        let client = match &location {
            Some(r) => s3
                .by_region
                .get(r)
                .cloned()
                .unwrap_or_else(|| self.s3(sdk, r)),
            None => home,
        };
        let cov_region = location.as_deref().unwrap_or("global");
        let tagging = async {
            match client.get_bucket_tagging().bucket(name).send().await {
                Ok(o) => Ok(o
                    .tag_set()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect()),
                Err(e) if e.code() == Some("NoSuchTagSet") => Ok(BTreeMap::new()),
                Err(e) => Err(call_error("s3:GetBucketTagging", &e)),
            }
        };
        let replication = async {
            let mut destinations: Vec<String> = Vec::new();
            match client.get_bucket_replication().bucket(name).send().await {
                Ok(o) => {
                    for rule in o
                        .replication_configuration()
                        .map(|c| c.rules())
                        .unwrap_or(&[])
                    {
                        if rule.status().as_str() == "Disabled" {
                            continue;
                        }
                        if let Some(dest) = rule.destination() {
                            let b = dest.bucket();
                            let b = Arn::parse(b).map(|a| a.resource_id()).unwrap_or(b);
                            if !destinations.iter().any(|x| x == b) {
                                destinations.push(b.to_string());
                            }
                        }
                    }
                    Ok(destinations)
                }
                Err(e) if e.code() == Some("ReplicationConfigurationNotFoundError") => {
                    Ok(destinations)
                }
                Err(e) => Err(call_error("s3:GetBucketReplication", &e)),
            }
        };
        let (tags, replicas) = crate::budget::both(&self.jobs, tagging, replication).await;
        match tags {
            Ok(tags) => seen.tags = tags,
            Err(err) => {
                out.coverage
                    .push(failed(account, cov_region, "s3", &bucket_err(name, err)))
            }
        }
        match replicas {
            Ok(buckets) => seen.replica_buckets = buckets,
            Err(err) => {
                out.coverage
                    .push(failed(account, cov_region, "s3", &bucket_err(name, err)))
            }
        }
        out.seen.push(seen);
        out
    }

    async fn region_service(
        &self,
        account: &str,
        sdk: &SdkConfig,
        svc: Service,
        region: &str,
        slots: crate::budget::Slots<'_>,
    ) -> Outcome {
        let rsdk = self.region_sdk(sdk, region);
        let mut seen = Vec::new();
        // EC2 and RDS jobs hold two slots (`slots_of`) for their two listings; the
        // others hold their one slot until they end.
        let result = match svc {
            Service::Tagging => self.list_tagging(&rsdk, &mut seen).await,
            Service::Ec2 => self.list_ec2(account, region, sdk, slots, &mut seen).await,
            Service::Rds => self.list_rds(&rsdk, slots, &mut seen).await,
            Service::DynamoDb => self.list_dynamodb(region, &rsdk, &mut seen).await,
            Service::Lambda => self.list_lambda(region, &rsdk, &mut seen).await,
            Service::Efs => self.list_efs(account, region, &rsdk, &mut seen).await,
        };
        let coverage = match result {
            Ok(()) => Coverage::scanned(Provider::Aws, account, region, svc.name()),
            Err(err) => failed(account, region, svc.name(), &err),
        };
        // What was listed before a failure is still reported.
        Outcome {
            seen,
            coverage: vec![coverage],
        }
    }

    async fn list_tagging(&self, sdk: &SdkConfig, seen: &mut Vec<Seen>) -> Result<(), CallError> {
        let client = aws_sdk_resourcegroupstagging::Client::from_conf(
            aws_sdk_resourcegroupstagging::config::Builder::from(sdk)
                .interceptor(self.recorder.clone())
                .build(),
        );
        // The largest pages the API gives (1–100 resources, 100–500 tags a page): its
        // pages depend on each other, one round trip each.
        let mut pages = client
            .get_resources()
            .resources_per_page(TAGGING_RESOURCES_PER_PAGE)
            .tags_per_page(TAGGING_TAGS_PER_PAGE)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("tag:GetResources", &e))?;
            for m in page.resource_tag_mapping_list() {
                let Some(arn) = m.resource_arn() else {
                    continue;
                };
                let location = Arn::parse(arn)
                    .and_then(|a| a.location())
                    .map(str::to_string);
                seen.push(Seen {
                    from_service: false,
                    tags: m
                        .tags()
                        .iter()
                        .map(|t| (t.key().to_string(), t.value().to_string()))
                        .collect(),
                    ..Seen::service(arn.to_string(), location)
                });
            }
        }
        Ok(())
    }

    /// Instances and volumes, side by side on the job's two slots.
    async fn list_ec2(
        &self,
        account: &str,
        region: &str,
        sdk: &SdkConfig,
        slots: crate::budget::Slots<'_>,
        seen: &mut Vec<Seen>,
    ) -> Result<(), CallError> {
        let ec2 = self.ec2(sdk, region);
        let p = &self.partition;
        let instances = async {
            let mut found = Vec::new();
            let mut pages = ec2.describe_instances().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = match page {
                    Ok(page) => page,
                    Err(e) => return (found, Err(call_error("ec2:DescribeInstances", &e))),
                };
                for i in page.reservations().iter().flat_map(|r| r.instances()) {
                    let Some(id) = i.instance_id() else { continue };
                    if i.state().and_then(|s| s.name()).map(|n| n.as_str()) == Some("terminated") {
                        continue;
                    }
                    let mut s = Seen::service(
                        format!("arn:{p}:ec2:{region}:{account}:instance/{id}"),
                        Some(region.to_string()),
                    );
                    s.tags = tags_of(i.tags().iter().map(|t| (t.key(), t.value())));
                    s.created_at = to_chrono(i.launch_time());
                    found.push(s);
                }
            }
            (found, Ok(()))
        };
        let volumes = async {
            let mut found = Vec::new();
            let mut pages = ec2.describe_volumes().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = match page {
                    Ok(page) => page,
                    Err(e) => return (found, Err(call_error("ec2:DescribeVolumes", &e))),
                };
                for v in page.volumes() {
                    let Some(id) = v.volume_id() else { continue };
                    let mut s = Seen::service(
                        format!("arn:{p}:ec2:{region}:{account}:volume/{id}"),
                        Some(region.to_string()),
                    );
                    s.tags = tags_of(v.tags().iter().map(|t| (t.key(), t.value())));
                    s.created_at = to_chrono(v.create_time());
                    found.push(s);
                }
            }
            (found, Ok(()))
        };
        let (a, b) = self.on_own_slots(slots, instances, volumes).await;
        joined(seen, a, b)
    }

    /// DB instances and clusters, side by side on the job's two slots.
    async fn list_rds(
        &self,
        sdk: &SdkConfig,
        slots: crate::budget::Slots<'_>,
        seen: &mut Vec<Seen>,
    ) -> Result<(), CallError> {
        let rds = aws_sdk_rds::Client::from_conf(
            aws_sdk_rds::config::Builder::from(sdk)
                .interceptor(self.recorder.clone())
                .build(),
        );
        let region = sdk.region().map(|r| r.to_string());
        let instances = async {
            let mut found = Vec::new();
            let mut pages = rds.describe_db_instances().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = match page {
                    Ok(page) => page,
                    Err(e) => return (found, Err(call_error("rds:DescribeDBInstances", &e))),
                };
                for db in page.db_instances() {
                    let Some(arn) = db.db_instance_arn() else {
                        continue;
                    };
                    let mut s = Seen::service(arn.to_string(), region.clone());
                    s.tags = tags_of(db.tag_list().iter().map(|t| (t.key(), t.value())));
                    s.created_at = to_chrono(db.instance_create_time());
                    found.push(s);
                }
            }
            (found, Ok(()))
        };
        let clusters = async {
            let mut found = Vec::new();
            let mut pages = rds.describe_db_clusters().into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = match page {
                    Ok(page) => page,
                    Err(e) => return (found, Err(call_error("rds:DescribeDBClusters", &e))),
                };
                for c in page.db_clusters() {
                    let Some(arn) = c.db_cluster_arn() else {
                        continue;
                    };
                    let mut s = Seen::service(arn.to_string(), region.clone());
                    s.tags = tags_of(c.tag_list().iter().map(|t| (t.key(), t.value())));
                    s.created_at = to_chrono(c.cluster_create_time());
                    found.push(s);
                }
            }
            (found, Ok(()))
        };
        let (a, b) = self.on_own_slots(slots, instances, clusters).await;
        joined(seen, a, b)
    }

    async fn list_dynamodb(
        &self,
        region: &str,
        sdk: &SdkConfig,
        seen: &mut Vec<Seen>,
    ) -> Result<(), CallError> {
        let ddb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk)
                .interceptor(self.recorder.clone())
                .build(),
        );
        let mut names = Vec::new();
        let mut pages = ddb.list_tables().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("dynamodb:ListTables", &e))?;
            names.extend(page.table_names().iter().cloned());
        }
        // One DescribeTable per table, spread over the free slots.
        let described = crate::budget::each(&self.jobs, names, DESCRIBE_WIDTH, |name| {
            let ddb = &ddb;
            async move {
                let out = ddb
                    .describe_table()
                    .table_name(&name)
                    .send()
                    .await
                    .map_err(|e| call_error("dynamodb:DescribeTable", &e))?;
                let Some(t) = out.table() else {
                    return Ok(None);
                };
                let Some(arn) = t.table_arn() else {
                    return Ok(None);
                };
                let mut s = Seen::service(arn.to_string(), Some(region.to_string()));
                s.created_at = to_chrono(t.creation_date_time());
                s.replicas = table_replica_regions(t, region, &self.catalog);
                Ok(Some(s))
            }
        })
        .await;
        let mut first_error = None;
        for d in described {
            match d {
                Ok(s) => seen.extend(s),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn list_lambda(
        &self,
        region: &str,
        sdk: &SdkConfig,
        seen: &mut Vec<Seen>,
    ) -> Result<(), CallError> {
        let lambda = aws_sdk_lambda::Client::from_conf(
            aws_sdk_lambda::config::Builder::from(sdk)
                .interceptor(self.recorder.clone())
                .build(),
        );
        let mut pages = lambda.list_functions().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("lambda:ListFunctions", &e))?;
            for f in page.functions() {
                if let Some(arn) = f.function_arn() {
                    seen.push(Seen::service(arn.to_string(), Some(region.to_string())));
                }
            }
        }
        Ok(())
    }

    async fn list_efs(
        &self,
        account: &str,
        region: &str,
        sdk: &SdkConfig,
        seen: &mut Vec<Seen>,
    ) -> Result<(), CallError> {
        let efs = aws_sdk_efs::Client::from_conf(
            aws_sdk_efs::config::Builder::from(sdk)
                .interceptor(self.recorder.clone())
                .build(),
        );
        let mut pages = efs.describe_file_systems().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| call_error("elasticfilesystem:DescribeFileSystems", &e))?;
            for fs in page.file_systems() {
                let id = fs.file_system_id();
                let arn = fs.file_system_arn().map(str::to_string).unwrap_or_else(|| {
                    format!(
                        "arn:{}:elasticfilesystem:{region}:{account}:file-system/{id}",
                        self.partition
                    )
                });
                let mut s = Seen::service(arn, Some(region.to_string()));
                s.tags = fs
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect();
                s.created_at = to_chrono(Some(fs.creation_time()));
                seen.push(s);
            }
        }
        Ok(())
    }

    /// Merges what services and the tagging API saw, by ARN. The service listing wins
    /// for location and replicas; tags are the union (service tags win on conflict).
    fn merge(&self, account: &str, seen: Vec<Seen>) -> Vec<Resource> {
        let mut by_arn: BTreeMap<String, Seen> = BTreeMap::new();
        for s in seen {
            match by_arn.get_mut(&s.arn) {
                None => {
                    by_arn.insert(s.arn.clone(), s);
                }
                Some(cur) => {
                    if s.from_service && !cur.from_service {
                        let mut tags = std::mem::take(&mut cur.tags);
                        let mut new = s;
                        for (k, v) in tags.iter_mut() {
                            new.tags.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                        *cur = new;
                    } else {
                        if cur.name.is_none() {
                            cur.name = s.name;
                        }
                        for (k, v) in s.tags {
                            cur.tags.entry(k).or_insert(v);
                        }
                        if cur.location.is_none() {
                            cur.location = s.location;
                        }
                        for r in s.replicas {
                            if !cur.replicas.contains(&r) {
                                cur.replicas.push(r);
                            }
                        }
                    }
                }
            }
        }
        by_arn
            .into_values()
            .filter_map(|s| {
                let arn = Arn::parse(&s.arn)?;
                let resource_type = arn.resource_type();
                let mut replicas: Vec<String> = s
                    .replicas
                    .iter()
                    .map(|r| self.catalog.normalise(Provider::Aws, r))
                    .collect();
                let location = s
                    .location
                    .as_deref()
                    .map(|l| self.catalog.normalise(Provider::Aws, l));
                replicas.retain(|r| Some(r) != location.as_ref());
                replicas.sort();
                replicas.dedup();
                Some(Resource {
                    provider: Provider::Aws,
                    scope_id: if arn.account.is_empty() {
                        account.to_string()
                    } else {
                        arn.account.to_string()
                    },
                    category: Category::classify(Provider::Aws, &resource_type),
                    name: s.name.unwrap_or_else(|| arn.resource_id().to_string()),
                    resource_type,
                    location,
                    replica_locations: replicas,
                    resource_group: None,
                    tags: s.tags,
                    created_at: s.created_at,
                    id: s.arn,
                })
            })
            .collect()
    }
}

/// The other regions holding a replica of a DynamoDB global table (version 2019.11.21,
/// `Replicas` in DescribeTable), normalised, without the table's own region.
pub(crate) fn table_replica_regions(
    t: &aws_sdk_dynamodb::types::TableDescription,
    region: &str,
    catalog: &cloudcensus_core::Catalog,
) -> Vec<String> {
    let mut out: Vec<String> = t
        .replicas()
        .iter()
        .filter_map(|r| r.region_name())
        .map(|r| catalog.normalise(Provider::Aws, r))
        .filter(|r| r != region)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Two listings of one service: everything either listed, and the first failure.
fn joined(
    seen: &mut Vec<Seen>,
    a: (Vec<Seen>, Result<(), CallError>),
    b: (Vec<Seen>, Result<(), CallError>),
) -> Result<(), CallError> {
    seen.extend(a.0);
    seen.extend(b.0);
    a.1.and(b.1)
}

fn failed(account: &str, region: &str, service: &str, err: &CallError) -> Coverage {
    Coverage::failed(
        Provider::Aws,
        account,
        region,
        service,
        err.status,
        err.message.clone(),
    )
}

fn bucket_err(bucket: &str, err: CallError) -> CallError {
    CallError {
        message: format!("bucket {bucket}: {}", err.message),
        ..err
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::{ReplicaDescription, TableDescription};

    #[test]
    fn global_table_replicas_are_the_other_regions() {
        // moto does not model global-table replicas, so the DescribeTable shape is built
        // here with the SDK's own types, as AWS returns it for version 2019.11.21.
        let catalog = cloudcensus_core::Catalog::builtin().unwrap();
        let t = TableDescription::builder()
            .table_name("people")
            .replicas(
                ReplicaDescription::builder()
                    .region_name("eu-west-1")
                    .build(),
            )
            .replicas(
                ReplicaDescription::builder()
                    .region_name("us-east-1")
                    .build(),
            )
            .replicas(
                ReplicaDescription::builder()
                    .region_name("AP-SOUTHEAST-2")
                    .build(),
            )
            .build();
        assert_eq!(
            table_replica_regions(&t, "eu-west-1", &catalog),
            ["ap-southeast-2", "us-east-1"]
        );
        let plain = TableDescription::builder().table_name("t").build();
        assert!(table_replica_regions(&plain, "eu-west-1", &catalog).is_empty());
    }
}
