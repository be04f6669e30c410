#!/usr/bin/env python3
"""Checks connectors/core/catalog/aws-cloudcontrol.csv against the CloudFormation
resource schemas (maintenance tool, not run by the tests).

The schemas ship in the cfn-lint wheel on PyPI (cfnlint/data/schemas): per region the
types offered there, per type its primaryIdentifier and handlers.list (permissions,
required ResourceModel). Run:

    python3 scripts/cloudcontrol-types.py [path/to/cfn_lint-*.whl]

Without a wheel it downloads the latest with pip. It prints, per row, what disagrees:
a `list` value that does not match the schema's list handler, read permissions the
handler names that the row lacks, and in how many regions the type is offered.
"""
import csv
import glob
import json
import os
import subprocess
import sys
import tempfile
import zipfile

READ = ("List", "Get", "Describe", "Select", "GET")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = os.path.join(ROOT, "connectors/core/catalog/aws-cloudcontrol.csv")


def wheel(arg):
    if arg:
        return arg
    d = tempfile.mkdtemp()
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", d,
                    "cfn-lint"], check=True)
    return glob.glob(os.path.join(d, "*.whl"))[0]


def main():
    z = zipfile.ZipFile(wheel(sys.argv[1] if len(sys.argv) > 1 else None))
    base = "cfnlint/data/schemas/"
    regions = {os.path.basename(n)[:-5]: json.loads(z.read(n))
               for n in z.namelist()
               if n.startswith(base + "providers/") and n.endswith(".json")}
    index = regions["us-east-1"]
    rows = csv.DictReader(line for line in open(TABLE) if not line.startswith("#"))
    problems = 0
    for r in rows:
        t = r["type_name"]
        if t not in index:
            if r["list"] != "none":
                print(f"{t}: not a CloudFormation type; set list = none")
                problems += 1
            continue
        schema = json.loads(z.read(f"{base}resources/{index[t]}.json"))
        handler = schema.get("handlers", {}).get("list")
        want = "yes" if handler else "no"
        if r["list"] != want:
            print(f"{t}: list = {r['list']}, schema says {want}")
            problems += 1
        if handler:
            perms = {p if ":" not in p else p.split(":")[0].lower() + ":" + p.split(":")[1]
                     for p in handler.get("permissions", [])}
            reads = {p for p in perms if p.split(":")[1].startswith(READ)}
            missing = reads - set(r["list_permissions"].split())
            if missing:
                print(f"{t}: list handler also reads {' '.join(sorted(missing))}")
                problems += 1
        offered = sum(1 for idx in regions.values() if t in idx)
        print(f"{t}: offered in {offered} of {len(regions)} regions; "
              f"identifier {schema.get('primaryIdentifier')}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
