"""The boto3 baselines of the latency benchmark: the calls cloudcensus makes for one
account, from a plain script, sequentially or from a thread pool.

  S3: ListBuckets once; per bucket GetBucketLocation, then GetBucketTagging and
  GetBucketReplication in the bucket's region. Per region: the tagging API's pages,
  DescribeInstances, DescribeVolumes, DescribeDBInstances, DescribeDBClusters,
  ListTables, ListFunctions, DescribeFileSystems.

Credentials and endpoint come from the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
...), as for any boto3 program. Usage: python3 boto3_scan.py REGION[,REGION...] [--threads N]
Prints the resource count.
"""

import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.config

REGIONS = sys.argv[1].split(",")
THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
CFG = botocore.config.Config(max_pool_connections=max(10, THREADS), retries={"mode": "standard"},
                             s3={"addressing_style": "path"})
SESSION = boto3.session.Session()
CLIENTS = {}


def client(service, region):
    # Clients are made up front (boto3 sessions are not thread-safe); clients are.
    return CLIENTS[(service, region)]


for r in set(REGIONS) | {"us-east-1"}:
    for svc in ("s3", "resourcegroupstaggingapi", "ec2", "rds", "dynamodb", "lambda", "efs"):
        CLIENTS[(svc, r)] = SESSION.client(svc, region_name=r, config=CFG)


def bucket(name):
    home = client("s3", "us-east-1")
    loc = home.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1"
    loc = "eu-west-1" if loc == "EU" else loc
    rc = client("s3", loc) if (("s3", loc) in CLIENTS) else home
    tags = {}
    try:
        tags = {t["Key"]: t["Value"] for t in rc.get_bucket_tagging(Bucket=name)["TagSet"]}
    except rc.exceptions.ClientError as e:
        if e.response["Error"]["Code"] != "NoSuchTagSet":
            raise
    try:
        rc.get_bucket_replication(Bucket=name)
    except rc.exceptions.ClientError as e:
        if e.response["Error"]["Code"] != "ReplicationConfigurationNotFoundError":
            raise
    return [f"arn:aws:s3:::{name}"]


def region_listing(job):
    region, what = job
    found = []
    if what == "tagging":
        tag = client("resourcegroupstaggingapi", region)
        for page in tag.get_paginator("get_resources").paginate(ResourcesPerPage=100, TagsPerPage=500):
            found += [m["ResourceARN"] for m in page["ResourceTagMappingList"]]
    elif what == "ec2":
        ec2 = client("ec2", region)
        for page in ec2.get_paginator("describe_instances").paginate():
            found += [i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]]
        for page in ec2.get_paginator("describe_volumes").paginate():
            found += [v["VolumeId"] for v in page["Volumes"]]
    elif what == "rds":
        rds = client("rds", region)
        for page in rds.get_paginator("describe_db_instances").paginate():
            found += [d["DBInstanceArn"] for d in page["DBInstances"]]
        for page in rds.get_paginator("describe_db_clusters").paginate():
            found += [d["DBClusterArn"] for d in page["DBClusters"]]
    elif what == "dynamodb":
        ddb = client("dynamodb", region)
        for page in ddb.get_paginator("list_tables").paginate():
            found += [ddb.describe_table(TableName=t)["Table"]["TableArn"] for t in page["TableNames"]]
    elif what == "lambda":
        for page in client("lambda", region).get_paginator("list_functions").paginate():
            found += [f["FunctionArn"] for f in page["Functions"]]
    elif what == "efs":
        for page in client("efs", region).get_paginator("describe_file_systems").paginate():
            found += [f["FileSystemArn"] for f in page["FileSystems"]]
    return found


def main():
    names = [b["Name"] for b in client("s3", "us-east-1").list_buckets()["Buckets"]]
    jobs = [(r, w) for r in REGIONS for w in ("tagging", "ec2", "rds", "dynamodb", "lambda", "efs")]
    found = set()
    if THREADS == 1:
        for n in names:
            found.update(bucket(n))
        for j in jobs:
            found.update(region_listing(j))
    else:
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(bucket, n) for n in names]
            futures += [pool.submit(region_listing, j) for j in jobs]
            for f in futures:
                found.update(f.result())
    print(len(found))


if __name__ == "__main__":
    main()
