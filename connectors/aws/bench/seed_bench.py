"""Seeds the benchmark estate into a moto server: 5 000 untagged buckets and 10 000
tagged EBS volumes over four regions, in one account.

Usage: python3 seed_bench.py ENDPOINT ACCOUNT_ID [BUCKETS] [TAGGED]
"""

import sys
from concurrent.futures import ThreadPoolExecutor

import boto3

ENDPOINT, ACCOUNT = sys.argv[1], sys.argv[2]
BUCKETS = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
TAGGED = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-2"]

sts = boto3.client("sts", region_name="us-east-1", endpoint_url=ENDPOINT,
                   aws_access_key_id="testing", aws_secret_access_key="testing")
c = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/seed", RoleSessionName="seed")["Credentials"]
KW = dict(endpoint_url=ENDPOINT, aws_access_key_id=c["AccessKeyId"],
          aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])


def make_bucket(i):
    region = REGIONS[i % len(REGIONS)]
    s3 = boto3.client("s3", region_name=region, **KW)
    args = {"Bucket": f"bench{ACCOUNT}-{i:05d}"}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**args)


def make_volumes(region, n):
    ec2 = boto3.client("ec2", region_name=region, **KW)
    for i in range(n):
        ec2.create_volume(
            AvailabilityZone=f"{region}a", Size=1,
            TagSpecifications=[{"ResourceType": "volume",
                                "Tags": [{"Key": "verwerking", "Value": f"VA-{i % 50:04d}"}]}],
        )


with ThreadPoolExecutor(8) as pool:
    list(pool.map(make_bucket, range(BUCKETS)))
    per = TAGGED // len(REGIONS)
    list(pool.map(lambda r: make_volumes(r, per), REGIONS))
print(f"seeded {BUCKETS} buckets and {TAGGED} tagged volumes in account {ACCOUNT}")
