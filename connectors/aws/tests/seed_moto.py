"""Seeds a moto server with a test estate and prints what it created as JSON.

Test setup only: these are write calls against the emulator, never made by the
connector. Usage: python3 seed_moto.py ENDPOINT SCENARIO ACCOUNT_ID
Scenarios: estate, enabled, organization, iam-users, tagged-volumes.
"""

import io
import json
import sys
import zipfile

import boto3

ENDPOINT, SCENARIO, ACCOUNT = sys.argv[1], sys.argv[2], sys.argv[3]
BASE = dict(endpoint_url=ENDPOINT, aws_access_key_id="testing", aws_secret_access_key="testing")


def creds_for(account):
    sts = boto3.client("sts", region_name="us-east-1", **BASE)
    c = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed"
    )["Credentials"]
    return dict(
        endpoint_url=ENDPOINT,
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
    )


def bucket(kw, name, region, constraint=None, tags=None):
    s3 = boto3.client("s3", region_name=region, **kw)
    if constraint is not None:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": constraint})
    elif region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if tags:
        s3.put_bucket_tagging(
            Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )
    return s3


def instance(kw, region, tags=None):
    ec2 = boto3.client("ec2", region_name=region, **kw)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    args = dict(ImageId=image, MinCount=1, MaxCount=1)
    if tags:
        args["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    return ec2.run_instances(**args)["Instances"][0]["InstanceId"]


def volumes(kw, region):
    ec2 = boto3.client("ec2", region_name=region, **kw)
    return sorted(v["VolumeId"] for v in ec2.describe_volumes()["Volumes"])


def lambda_role(kw):
    iam = boto3.client("iam", region_name="us-east-1", **kw)
    return iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]


def function(kw, region, name, role):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("f.py", "def h(event, context):\n    return 1\n")
    lam = boto3.client("lambda", region_name=region, **kw)
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="f.h",
        Code={"ZipFile": buf.getvalue()},
    )


def table(kw, region, name, tags=None):
    ddb = boto3.client("dynamodb", region_name=region, **kw)
    args = dict(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    if tags:
        args["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    ddb.create_table(**args)


def estate():
    kw = creds_for(ACCOUNT)
    p = f"cc{ACCOUNT}"
    out = {}
    bucket(kw, f"{p}-tagged", "eu-west-1", tags={"verwerking": "VA-0001", "owner": "team-a"})
    bucket(kw, f"{p}-untagged", "eu-central-1")
    bucket(kw, f"{p}-legacy-eu", "us-east-1", constraint="EU")
    bucket(kw, f"{p}-useast", "us-east-1")
    bucket(kw, f"{p}-sydney", "ap-southeast-2")
    replica = bucket(kw, f"{p}-replica", "us-east-1")
    replica.put_bucket_versioning(Bucket=f"{p}-replica", VersioningConfiguration={"Status": "Enabled"})
    src = bucket(kw, f"{p}-replicated", "eu-west-1", tags={"verwerking": "VA-0002"})
    src.put_bucket_versioning(Bucket=f"{p}-replicated", VersioningConfiguration={"Status": "Enabled"})
    src.put_bucket_replication(
        Bucket=f"{p}-replicated",
        ReplicationConfiguration={
            "Role": f"arn:aws:iam::{ACCOUNT}:role/replication",
            "Rules": [{
                "ID": "to-us", "Priority": 1, "Status": "Enabled", "Filter": {},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": f"arn:aws:s3:::{p}-replica"},
            }],
        },
    )
    out["instances"] = {
        "eu-west-1": [instance(kw, "eu-west-1", tags={"Name": "web", "verwerking": "VA-0004"})],
        "ap-southeast-2": [instance(kw, "ap-southeast-2")],
    }
    ec2 = boto3.client("ec2", region_name="eu-central-1", **kw)
    ec2.create_volume(
        AvailabilityZone="eu-central-1a", Size=10,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "verwerking", "Value": "VA-0003"}]}],
    )
    out["volumes"] = {r: volumes(kw, r) for r in ["eu-west-1", "ap-southeast-2", "eu-central-1"]}
    rds = boto3.client("rds", region_name="eu-central-1", **kw)
    rds.create_db_instance(
        DBInstanceIdentifier="orders", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="admin1", MasterUserPassword="password1", AllocatedStorage=20,
        Tags=[{"Key": "verwerking", "Value": "VA-0005"}],
    )
    table(kw, "eu-west-1", "people")
    table(kw, "us-east-1", "audit", tags={"verwerking": "VA-0006"})
    role = lambda_role(kw)
    function(kw, "eu-south-2", "madrid-fn", role)
    function(kw, "eu-west-1", "dublin-fn", role)
    efs = boto3.client("efs", region_name="eu-west-1", **kw)
    fs = efs.create_file_system(CreationToken="share", Tags=[{"Key": "verwerking", "Value": "VA-0007"}])
    out["file_systems"] = {"eu-west-1": [fs["FileSystemId"]]}
    return out


def enabled():
    kw = creds_for(ACCOUNT)
    bucket(kw, f"cc{ACCOUNT}-stockholm", "eu-north-1")
    return {"instances": {"eu-north-1": [instance(kw, "eu-north-1")]}}


def organization():
    """ACCOUNT is the management account; creates one member in an OU, one outside."""
    kw = creds_for(ACCOUNT)
    org = boto3.client("organizations", region_name="us-east-1", **kw)
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="Productie")["OrganizationalUnit"]["Id"]
    member = org.create_account(Email=f"prod-{ACCOUNT}@example.invalid", AccountName="productie")
    member = member["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    org.tag_resource(ResourceId=member, Tags=[{"Key": "verwerking", "Value": "VA-0100"}])
    other = org.create_account(Email=f"test-{ACCOUNT}@example.invalid", AccountName="test")
    other = other["CreateAccountStatus"]["AccountId"]
    mkw = creds_for(member)
    bucket(mkw, f"cc{member}-member", "eu-west-1")
    bucket(kw, f"cc{ACCOUNT}-mgmt", "eu-west-1")
    return {"org_id": org_id, "root": root, "ou": ou, "member": member, "other": other}


def tagged_volumes():
    """120 volumes in eu-west-1, three tags each: more tags than one page of 100."""
    kw = creds_for(ACCOUNT)
    ec2 = boto3.client("ec2", region_name="eu-west-1", **kw)
    for i in range(120):
        ec2.create_volume(
            AvailabilityZone="eu-west-1a",
            Size=1,
            TagSpecifications=[{"ResourceType": "volume", "Tags": [
                {"Key": "verwerking", "Value": f"VA-{i:04d}"},
                {"Key": "eigenaar", "Value": "team-a"},
                {"Key": "omgeving", "Value": "productie"},
            ]}],
        )
    return {"volumes": 120}


def iam_users():
    """Two IAM users in ACCOUNT: one with iam-policy.json, one with it minus RDS."""
    import os

    kw = creds_for(ACCOUNT)
    policy_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "iam-policy.json")
    with open(policy_path) as f:
        full = json.load(f)
    # moto names two actions differently from AWS IAM (the signing name "tagging", and
    # GET ?replication, which moto authorises as s3:ListBucket); grant its spelling too.
    full["Statement"][0]["Action"] += ["tagging:GetResources", "s3:ListBucket"]
    no_rds = json.loads(json.dumps(full))
    for st in no_rds["Statement"]:
        st["Action"] = [a for a in st["Action"] if not a.startswith("rds:")]
    iam = boto3.client("iam", region_name="us-east-1", **kw)
    out = {}
    for name, doc in [("full", full), ("no-rds", no_rds)]:
        iam.create_user(UserName=f"cloudcensus-{name}")
        iam.put_user_policy(
            UserName=f"cloudcensus-{name}", PolicyName="inventory", PolicyDocument=json.dumps(doc)
        )
        key = iam.create_access_key(UserName=f"cloudcensus-{name}")["AccessKey"]
        out[name] = {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    bucket(kw, f"cc{ACCOUNT}-iam", "eu-west-1")
    out["instance"] = instance(kw, "eu-west-1")
    table(kw, "eu-central-1", "records")
    rds = boto3.client("rds", region_name="eu-west-1", **kw)
    rds.create_db_instance(
        DBInstanceIdentifier="hidden", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="admin1", MasterUserPassword="password1", AllocatedStorage=20,
    )
    return out


SCENARIOS = {"estate": estate, "enabled": enabled, "organization": organization,
             "iam-users": iam_users, "tagged-volumes": tagged_volumes}

if __name__ == "__main__":
    print(json.dumps(SCENARIOS[SCENARIO]()))
