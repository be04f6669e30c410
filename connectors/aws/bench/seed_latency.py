"""Seeds the latency benchmark's estates into a fresh moto server (write calls against
the emulator, never made by cloudcensus).

  regions  one account (moto's default, 123456789012, credentials "testing"): BUCKETS
           buckets over five regions, every third replicated to a bucket in the next
           region, every second tagged; VOLUMES EBS volumes over the same regions, every
           second tagged; INSTANCES EC2 instances per region.
  org      the same account as the management account of an organization with MEMBERS
           member accounts (one OU per ten), each holding a few buckets and volumes per
           region.

Usage: python3 seed_latency.py ENDPOINT regions [BUCKETS VOLUMES INSTANCES]
       python3 seed_latency.py ENDPOINT org [MEMBERS BUCKETS_PER_MEMBER VOLUMES_PER_MEMBER]
Prints a JSON summary.
"""

import json
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3

REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-1", "ap-southeast-2"]
ENDPOINT, SCENARIO = sys.argv[1], sys.argv[2]
NUMS = [int(a) for a in sys.argv[3:]]
BASE = dict(endpoint_url=ENDPOINT, aws_access_key_id="testing", aws_secret_access_key="testing")


def creds_for(account):
    sts = boto3.client("sts", region_name="us-east-1", **BASE)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                        RoleSessionName="seed")["Credentials"]
    return dict(endpoint_url=ENDPOINT, aws_access_key_id=c["AccessKeyId"],
                aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])


def tagset(i):
    return [{"Key": "verwerking", "Value": f"VA-{i % 40:04d}"}, {"Key": "eigenaar", "Value": "team-a"}]


def make_bucket(kw, name, region, tagged):
    s3 = boto3.client("s3", region_name=region, **kw)
    args = {"Bucket": name}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**args)
    if tagged:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tagset(len(name))})


def replicate(kw, src, src_region, dest, account):
    s3 = boto3.client("s3", region_name=src_region, **kw)
    s3.put_bucket_versioning(Bucket=src, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=src, ReplicationConfiguration={
        "Role": f"arn:aws:iam::{account}:role/replicatie",
        "Rules": [{"ID": "naar-reserve", "Status": "Enabled", "Priority": 1, "Filter": {},
                   "DeleteMarkerReplication": {"Status": "Disabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{dest}"}}]})


def make_volumes(kw, region, n, start):
    ec2 = boto3.client("ec2", region_name=region, **kw)
    for i in range(start, start + n):
        args = dict(AvailabilityZone=f"{region}a", Size=1)
        if i % 2 == 0:
            args["TagSpecifications"] = [{"ResourceType": "volume", "Tags": tagset(i)}]
        ec2.create_volume(**args)


def make_instances(kw, region, n):
    if n == 0:
        return
    ec2 = boto3.client("ec2", region_name=region, **kw)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, MinCount=n, MaxCount=n, InstanceType="t3.micro")


def estate(kw, account, prefix, buckets, volumes, instances, pool):
    names = [(f"{prefix}-{i:05d}", REGIONS[i % len(REGIONS)]) for i in range(buckets)]
    list(pool.map(lambda i: make_bucket(kw, names[i][0], names[i][1], i % 2 == 0), range(buckets)))
    # Every third bucket replicates to the next bucket (the next region).
    repl = [i for i in range(0, buckets - 1, 3)]
    for i in repl:  # the destination needs versioning too
        boto3.client("s3", region_name=names[i + 1][1], **kw).put_bucket_versioning(
            Bucket=names[i + 1][0], VersioningConfiguration={"Status": "Enabled"})
    list(pool.map(lambda i: replicate(kw, names[i][0], names[i][1], names[i + 1][0], account), repl))
    per = volumes // len(REGIONS)
    jobs = []
    for r in REGIONS:
        for part in range(0, per, 100):
            jobs.append((r, min(100, per - part), part))
    list(pool.map(lambda j: make_volumes(kw, *j), jobs))
    list(pool.map(lambda r: make_instances(kw, r, instances), REGIONS))
    return dict(buckets=buckets, replicated=len(repl), tagged_buckets=(buckets + 1) // 2,
                volumes=per * len(REGIONS), instances=instances * len(REGIONS))


def main():
    account = "123456789012"
    with ThreadPoolExecutor(8) as pool:
        if SCENARIO == "regions":
            b, v, n = (NUMS + [2000, 5000, 10][len(NUMS):])[:3]
            out = estate(BASE, account, "bench", b, v, n, pool)
        elif SCENARIO == "org":
            members, b, v = (NUMS + [50, 10, 20][len(NUMS):])[:3]
            org = boto3.client("organizations", region_name="us-east-1", **BASE)
            org.create_organization(FeatureSet="ALL")
            root = org.list_roots()["Roots"][0]["Id"]
            ous = [org.create_organizational_unit(ParentId=root, Name=f"Directie {k}")
                   ["OrganizationalUnit"]["Id"] for k in range((members + 9) // 10)]
            ids = []
            for m in range(members):
                a = org.create_account(Email=f"lid-{m}@example.invalid", AccountName=f"lid-{m:02d}")
                a = a["CreateAccountStatus"]["AccountId"]
                org.move_account(AccountId=a, SourceParentId=root, DestinationParentId=ous[m // 10])
                ids.append(a)
            totals = {}
            for a in ids:
                got = estate(creds_for(a), a, f"lid{a}", b, v, 0, pool)
                for k, x in got.items():
                    totals[k] = totals.get(k, 0) + x
            out = dict(members=members, **totals)
        else:
            sys.exit(f"unknown scenario {SCENARIO}: regions or org")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
