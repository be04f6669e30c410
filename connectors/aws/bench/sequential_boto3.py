"""The baseline: a straightforward sequential boto3 script making the same calls as the
connector (S3 per bucket, six services per region) against the same moto server.

Usage: python3 sequential_boto3.py ENDPOINT ACCOUNT_ID REGION[,REGION...]
Prints the wall time in seconds and the resource count.
"""

import sys
import time

import boto3

ENDPOINT, ACCOUNT, REGIONS = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
sts = boto3.client("sts", region_name="us-east-1", endpoint_url=ENDPOINT,
                   aws_access_key_id="testing", aws_secret_access_key="testing")
c = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/bench", RoleSessionName="bench")["Credentials"]
KW = dict(endpoint_url=ENDPOINT, aws_access_key_id=c["AccessKeyId"],
          aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])

start = time.monotonic()
found = {}
s3 = boto3.client("s3", region_name="us-east-1", **KW)
clients = {}
for b in s3.list_buckets()["Buckets"]:
    name = b["Name"]
    loc = s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1"
    loc = "eu-west-1" if loc == "EU" else loc
    rc = clients.setdefault(loc, boto3.client("s3", region_name=loc, **KW))
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
    found[f"arn:aws:s3:::{name}"] = (loc, tags)
for region in REGIONS:
    tag = boto3.client("resourcegroupstaggingapi", region_name=region, **KW)
    for page in tag.get_paginator("get_resources").paginate(ResourcesPerPage=100):
        for m in page["ResourceTagMappingList"]:
            found.setdefault(m["ResourceARN"], (region, {}))
    ec2 = boto3.client("ec2", region_name=region, **KW)
    for page in ec2.get_paginator("describe_instances").paginate():
        for r in page["Reservations"]:
            for i in r["Instances"]:
                found[f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{i['InstanceId']}"] = (region, {})
    for page in ec2.get_paginator("describe_volumes").paginate():
        for v in page["Volumes"]:
            found[f"arn:aws:ec2:{region}:{ACCOUNT}:volume/{v['VolumeId']}"] = (region, {})
    rds = boto3.client("rds", region_name=region, **KW)
    for page in rds.get_paginator("describe_db_instances").paginate():
        for d in page["DBInstances"]:
            found[d["DBInstanceArn"]] = (region, {})
    for page in rds.get_paginator("describe_db_clusters").paginate():
        for d in page["DBClusters"]:
            found[d["DBClusterArn"]] = (region, {})
    ddb = boto3.client("dynamodb", region_name=region, **KW)
    for page in ddb.get_paginator("list_tables").paginate():
        for t in page["TableNames"]:
            found[ddb.describe_table(TableName=t)["Table"]["TableArn"]] = (region, {})
    lam = boto3.client("lambda", region_name=region, **KW)
    for page in lam.get_paginator("list_functions").paginate():
        for f in page["Functions"]:
            found[f["FunctionArn"]] = (region, {})
    efs = boto3.client("efs", region_name=region, **KW)
    for page in efs.get_paginator("describe_file_systems").paginate():
        for f in page["FileSystems"]:
            found[f["FileSystemArn"]] = (region, {})
print(f"{time.monotonic() - start:.3f} {len(found)}")
