"""Scan throughput against one moto server, three ways, in one run:

  * cloudcensus's AWS connector (the `bench_scan` example) at the given concurrencies;
  * the sequential boto3 script (`sequential_boto3.py`) making the same calls;
  * moto's own ceiling: the connector's per-bucket S3 requests (GetBucketLocation,
    GetBucketTagging, GetBucketReplication: 99 % of the scan's requests) replayed as raw
    HTTP from client threads at increasing concurrency, counting requests/s served.

For every run it records the wall time, the requests moto served (lines in its access
log), the client's CPU time and moto's CPU time (from /proc), so the table shows where
the time goes. Median of --runs runs per row.

Usage:
  python3 throughput.py --endpoint http://127.0.0.1:5125 --account 555555555555 \
      --regions eu-west-1,eu-central-1,us-east-1,ap-southeast-2 \
      --moto-pid PID --moto-log moto.log --scan-bin target/release/examples/bench_scan \
      [--concurrency 16,64] [--runs 5] [--ceiling 1,4,16,64]
"""

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


def moto_cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def log_lines(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def measure(args, fn):
    """Runs fn() -> (client_cpu, extra); returns a dict of measurements."""
    cpu0, req0, t0 = moto_cpu(args.moto_pid), log_lines(args.moto_log), time.monotonic()
    client_cpu, extra = fn()
    wall = time.monotonic() - t0
    time.sleep(0.5)  # let moto flush its access log
    requests = log_lines(args.moto_log) - req0
    return dict(wall=wall, requests=requests, rps=requests / wall, client_cpu=client_cpu,
                moto_cpu=moto_cpu(args.moto_pid) - cpu0, extra=extra)


def run_process(cmd):
    def fn():
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        out = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        if status != 0:
            sys.exit(f"{cmd[0]} failed with status {status}")
        return usage.ru_utime + usage.ru_stime, out.strip()
    return fn


def bucket_names(args):
    conn = http.client.HTTPConnection(urllib.parse.urlparse(args.endpoint).netloc)
    conn.request("GET", "/", headers=AUTH)
    body = conn.getresponse().read().decode()
    names = [part.split("</Name>")[0] for part in body.split("<Name>")[1:]]
    return names


AUTH = {
    # moto does not check signatures unless IAM authorization is enabled; the header
    # only has to name the account's access key so moto picks the account.
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
}


def replay(args, names, concurrency):
    paths = [f"/{n}?{q}" for n in names for q in ("location", "tagging", "replication")]
    host = urllib.parse.urlparse(args.endpoint).netloc
    lock = threading.Lock()
    queue = list(reversed(paths))
    errors = []

    def worker():
        conn = http.client.HTTPConnection(host)
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            conn.request("GET", path, headers=AUTH)
            r = conn.getresponse()
            body = r.read()
            if r.status not in (200, 404):  # 404: no tag set / no replication configuration
                errors.append((path, r.status))

    def fn():
        c0 = time.process_time()
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            sys.exit(f"moto refused {len(errors)} replayed requests, e.g. {errors[0]}")
        return time.process_time() - c0, f"{len(paths)} requests"
    return fn


def median_row(name, runs):
    med = {k: statistics.median(r[k] for r in runs) for k in ("wall", "requests", "rps", "client_cpu", "moto_cpu")}
    walls = ", ".join(f"{r['wall']:.1f}" for r in runs)
    print(f"| {name} | {med['wall']:.1f} s ({walls}) | {med['requests']:.0f} | {med['rps']:.0f} | "
          f"{med['client_cpu']:.1f} s | {med['moto_cpu']:.1f} s |", flush=True)
    return med


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--account", required=True)
    p.add_argument("--regions", required=True)
    p.add_argument("--moto-pid", type=int, required=True)
    p.add_argument("--moto-log", required=True)
    p.add_argument("--scan-bin", required=True)
    p.add_argument("--concurrency", default="16,64")
    p.add_argument("--ceiling", default="1,4,16,64")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--skip-boto3", action="store_true")
    args = p.parse_args()
    # The estate lives in --account: moto maps an assumed role's access key to its account.
    import boto3
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=args.endpoint,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    key = sts.assume_role(RoleArn=f"arn:aws:iam::{args.account}:role/bench",
                          RoleSessionName="bench")["Credentials"]["AccessKeyId"]
    AUTH["Authorization"] = AUTH["Authorization"].replace("AKIAIOSFODNN7EXAMPLE", key)

    print(f"load average at start: {os.getloadavg()}", flush=True)
    print("| run | wall time, median (runs) | requests served | requests/s | client CPU | moto CPU |")
    print("|---|---|---|---|---|---|", flush=True)
    results = {}
    if not args.skip_boto3:
        cmd = [sys.executable, os.path.join(HERE, "sequential_boto3.py"), args.endpoint, args.account, args.regions]
        results["boto3"] = median_row("sequential boto3", [measure(args, run_process(cmd)) for _ in range(args.runs)])
    for c in filter(None, args.concurrency.split(",")):
        cmd = [args.scan_bin, args.endpoint, args.account, args.regions, c]
        results[f"cc{c}"] = median_row(f"cloudcensus, max_concurrency = {c}",
                                       [measure(args, run_process(cmd)) for _ in range(args.runs)])
    names = bucket_names(args)
    for c in filter(None, args.ceiling.split(",")):
        results[f"ceil{c}"] = median_row(f"moto ceiling: raw S3 GETs, {c} client threads",
                                         [measure(args, replay(args, names, int(c))) for _ in range(max(1, args.runs // 2))])
    print(f"load average at end: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
