"""Scan throughput under realistic latency: cloudcensus against Cloud Custodian and
boto3, on recorded moto answers served with a latency per region.

  1. Record: each client scans the seeded moto server once through `cc-replay record`,
     which appends every exchange to a file.
  2. Replay: `cc-replay replay` serves all recordings from memory and delays each answer
     by the latency of the region in the request's SigV4 credential scope (a profile
     from PROFILES, as seen from a scanner in eu-west-1), or a flat latency.
  3. Every client runs --runs times per profile; per run: wall time, requests served,
     the injected latency summed over the run's requests, client CPU (user + system,
     from wait4), peak RSS (wait4's ru_maxrss) and the replay server's own CPU (/proc).
     A request the recording lacks fails the run (the clients must make the calls
     they made while recording).
  4. The ceiling of a cloudcensus run at concurrency C is the injected latency summed
     over its requests divided by C: no client holding C calls in flight can wait less.

Prints Markdown tables (one per profile, plus the calls each client made by operation)
and writes every measurement to OUT/results.json.

Usage (run by connectors/aws/bench/scan-latency, which sets everything up):
  python3 latency.py --moto URL --estate regions|org --cloudcensus BIN --replay BIN \
      --out DIR [--runs 3] [--concurrency 16,64,256] [--profiles region,flat50] \
      [--clients cloudcensus,c7n,boto3,boto3-16] [--c7n CUSTODIAN]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TICK = os.sysconf("SC_CLK_TCK")
REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-1", "ap-southeast-2"]
# Average round trips from EU (Ireland) to each region, as measured in "Latency Between
# AWS Global Regions" (reproduced at
# https://acomputerscientistlearnsaws.blogspot.com/2017/04/aws-regions.html), rounded;
# within eu-west-1 a call still costs a TLS-reused round trip plus the service's own
# time, taken as 10 ms.
PROFILES = {
    "region": "eu-west-1=10,eu-central-1=20,us-east-1=81,ap-southeast-1=239,ap-southeast-2=310,*=81",
    "flat50": "*=50",
}


# Listings whose pages depend on each other (each page carries the previous one's token).
PAGED = {"tagging:GetResources", "ec2:DescribeVolumes", "ec2:DescribeInstances",
         "dynamodb:ListTables", "rds:DescribeDBInstances", "rds:DescribeDBClusters",
         "lambda:GET /2015-03-31/functions", "elasticfilesystem:GET /2015-02-01/file-systems",
         "organizations:ListAccounts", "s3:ListBuckets"}


def latency_of(table):
    pairs = dict(p.split("=") for p in table.split(","))
    return lambda region: int(pairs.get(region, pairs.get("*", 0))) / 1000


def longest_chain(recording, table):
    """Seconds of the longest run of dependent pages in a recording: one paged listing of
    one account in one region, each page waiting for the one before. No client making
    these calls can finish sooner, whatever its concurrency."""
    lat, chains = latency_of(table), {}
    for line in open(recording):
        r = json.loads(line)
        if r["op"] not in PAGED:
            continue
        head = r["key"].split(" body=", 1)[0]
        parts = dict(p.split("=", 1) for p in head.split(" ") if "=" in p)
        k = (r["op"], parts.get("region", ""), parts.get("key", ""))
        chains[k] = chains.get(k, 0) + lat(parts.get("region", ""))
    return max(chains.values(), default=0.0)


def cpu_of(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def start_server(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("listening on "):
        sys.exit(f"{cmd[0]} did not start: {line!r}")
    return p, line.removeprefix("listening on ")


def http(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
    return json.loads(body) if body else None


def write_cloudcensus_config(args, endpoint, concurrency, store):
    org = "" if args.estate == "regions" else (
        'organization = true\nassume_role = "OrganizationAccountAccessRole"\n')
    path = os.path.join(args.out, f"cloudcensus-{concurrency}.toml")
    with open(path, "w") as f:
        f.write(f"""organisation = "Benchmark"
register = "{os.path.join(ROOT, 'examples', 'register.csv')}"
store = "{store}"
max_concurrency = {concurrency}

[[aws]]
name = "bench"
endpoint_url = "{endpoint}"
regions = {json.dumps(REGIONS)}
# moto has no Cloud Control API; the comparison is of the calls all three clients make.
cloud_control = false
# Creator lookups are paced to CloudTrail's 2 requests/s: another benchmark.
creator_lookup = false
max_concurrency = {concurrency}
{org}""")
    return path


C7N_POLICY = """policies:
  - name: buckets
    resource: aws.s3
    conditions:
      - type: value
        key: region
        value: us-east-1
    query:
      - augment-keys: ['Replication']
  - name: volumes
    resource: aws.ebs
  - name: instances
    resource: aws.ec2
"""


def client_commands(args, endpoint, run_id):
    """name -> (argv, env) for one run against `endpoint`."""
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=os.path.join(args.out, "aws-config"),
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true")
    env.pop("AWS_SESSION_TOKEN", None)
    cmds = {}
    for c in args.concurrency:
        store = os.path.join(args.out, "stores", f"{run_id}-{c}.db")
        cfg = write_cloudcensus_config(args, endpoint, c, store)
        cmds[f"cloudcensus {c}"] = ([args.cloudcensus, "--config", cfg, "scan", "--quiet"], env)
    regions = ",".join(REGIONS)
    cmds["boto3 sequential"] = ([sys.executable, os.path.join(HERE, "boto3_scan.py"), regions], env)
    cmds["boto3 16 threads"] = ([sys.executable, os.path.join(HERE, "boto3_scan.py"), regions,
                                 "--threads", "16"], env)
    c7n_out = os.path.join(args.out, "c7n", run_id)
    cmds["Cloud Custodian"] = ([args.c7n, "run", "--cache-period", "0", "-s", c7n_out]
                               + [x for r in REGIONS for x in ("-r", r)]
                               + [os.path.join(args.out, "c7n-policy.yml")], env)
    ids = {"Cloud Custodian": "c7n", "boto3 sequential": "boto3", "boto3 16 threads": "boto3-16"}
    return {k: v for k, v in cmds.items() if ids.get(k, "cloudcensus") in args.clients}


def run_client(argv, env, out_dir):
    """Runs one client; returns wall time, exit code, stdout, stderr and its own rusage."""
    os.makedirs(out_dir, exist_ok=True)
    out_path, err_path = os.path.join(out_dir, "stdout"), os.path.join(out_dir, "stderr")
    with open(out_path, "w") as o, open(err_path, "w") as e:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, env=env, stdout=o, stderr=e)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, p.returncode, open(out_path).read(), open(err_path).read(), usage


def measured(name, argv, env, server, out_dir):
    http(f"{server['url']}/__replay/reset", "POST")
    cpu0 = cpu_of(server["pid"])
    wall, rc, out, err, usage = run_client(argv, env, out_dir)
    stats = http(f"{server['url']}/__replay/stats")
    # cloudcensus exits 3 when coverage has gaps; the table shows the run's summary.
    if rc != 0 and not (name.startswith("cloudcensus") and rc == 3):
        sys.exit(f"{name} failed ({rc}); its stderr ends:\n{err[-3000:]}")
    if stats["misses"]:
        sys.exit(f"{name} made {stats['misses']} calls the recording lacks, "
                 f"e.g. {stats['first_miss']}")
    return dict(
        wall=wall,
        exit=rc,
        requests=stats["requests"],
        # Connections the client opened (the stats request's own is not one of them).
        connections=stats.get("connections", 1) - 1,
        latency_sum=stats["latency_ms_sum"] / 1000,
        client_cpu=usage.ru_utime + usage.ru_stime,
        rss_mib=usage.ru_maxrss / 1024,
        server_cpu=cpu_of(server["pid"]) - cpu0,
        by_operation=stats["by_operation"],
        stdout_tail=out[-600:],
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--moto", required=True)
    p.add_argument("--estate", choices=["regions", "org"], required=True)
    p.add_argument("--cloudcensus", required=True)
    p.add_argument("--replay", required=True)
    p.add_argument("--c7n", default="custodian")
    p.add_argument("--out", required=True)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--sequential-runs", type=int, default=None,
                   help="runs of the sequential boto3 script (default: --runs)")
    p.add_argument("--concurrency", default="16,64,256")
    p.add_argument("--profiles", default="region,flat50")
    p.add_argument("--clients", default="cloudcensus,c7n,boto3,boto3-16")
    args = p.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c]
    args.clients = [c for c in args.clients.split(",") if c]
    os.makedirs(os.path.join(args.out, "stores"), exist_ok=True)
    with open(os.path.join(args.out, "aws-config"), "w") as f:
        f.write("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
    with open(os.path.join(args.out, "c7n-policy.yml"), "w") as f:
        f.write(C7N_POLICY)

    # 1. Record each client once against moto.
    recordings = []
    for name, (argv, env) in client_commands(args, "", "x").items():
        if name.startswith("cloudcensus") and not name.endswith(f" {args.concurrency[0]}"):
            continue  # the calls do not depend on the concurrency
        if name == "boto3 16 threads":
            continue  # the same calls as the sequential script
        rec = os.path.join(args.out, f"rec-{name.replace(' ', '-')}.jsonl")
        if os.path.exists(rec):
            os.remove(rec)
        proc, url = start_server([args.replay, "record", "--upstream", args.moto, "--out", rec])
        argv, env = client_commands(args, url, "record")[name]
        t0 = time.monotonic()
        wall, rc, out, err, _ = run_client(argv, env, os.path.join(args.out, "logs", os.path.basename(rec)[:-6]))
        proc.terminate()
        proc.wait()
        if rc != 0 and not name.startswith("cloudcensus"):
            sys.exit(f"recording {name} failed ({rc}):\n{err[-3000:]}")
        print(f"recorded {name}: {sum(1 for _ in open(rec))} exchanges in {time.monotonic() - t0:.1f} s"
              f" (exit {rc})", file=sys.stderr, flush=True)
        recordings.append((name, rec))

    results = {"estate": args.estate, "machine": os.uname().nodename, "profiles": {},
               "load_start": os.getloadavg()}
    for profile in args.profiles.split(","):
        table = PROFILES[profile]
        cmd = [args.replay, "replay", "--latency", table]
        for _, r in recordings:
            cmd += ["--recording", r]
        proc, url = start_server(cmd)
        server = {"url": url, "pid": proc.pid, "cloudcensus": args.cloudcensus}
        rows = {}
        for name, (argv, env) in client_commands(args, url, f"{profile}").items():
            runs = []
            n = args.sequential_runs if name == "boto3 sequential" and args.sequential_runs else args.runs
            for i in range(n):
                argv_i, env_i = client_commands(args, url, f"{profile}-{i}")[name]
                log_dir = os.path.join(args.out, "logs", f"{profile}-{name.replace(' ', '-')}-{i}")
                runs.append(measured(name, argv_i, env_i, server, log_dir))
                print(f"{profile} {name} run {i + 1}: {runs[-1]['wall']:.2f} s, "
                      f"{runs[-1]['requests']} requests", file=sys.stderr, flush=True)
            rows[name] = runs
        proc.terminate()
        proc.wait()
        chains = {}
        for recorded, r in recordings:
            family = recorded.split(" ")[0]
            for name in rows:
                if name.split(" ")[0] == family:
                    chains[name] = longest_chain(r, table)
        results["profiles"][profile] = {"latency": table, "rows": rows, "chains": chains}
    results["load_end"] = os.getloadavg()
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print_tables(results)


def med(runs, k):
    return statistics.median(r[k] for r in runs)


def print_tables(results):
    for profile, data in results["profiles"].items():
        rows, chains = data["rows"], data.get("chains", {})
        print(f"\n#### Estate `{results['estate']}`, latency `{profile}` ({data['latency']})\n")
        print("| client | wall, median (runs) | requests | Σ latency | ceiling Σ ÷ C | "
              "longest page chain | wall ÷ ceiling | wall ÷ max(ceiling, chain) | "
              "client CPU per request | peak RSS | connections | replay CPU ÷ wall |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        c7n = med(rows["Cloud Custodian"], "wall") if "Cloud Custodian" in rows else None
        for name, runs in rows.items():
            wall, reqs, lat = med(runs, "wall"), med(runs, "requests"), med(runs, "latency_sum")
            # Cloud Custodian sizes its own thread pools: no ceiling to compare it with.
            conc = int(name.split(" ")[1]) if name.startswith("cloudcensus") else (
                16 if "16" in name else 1 if name.startswith("boto3") else None)
            ceiling = lat / conc if conc else None
            chain = chains.get(name)
            bound = max(ceiling, chain or 0) if ceiling else None
            speedup = f"; **{c7n / wall:.1f}×** Cloud Custodian" if c7n and name.startswith("cloudcensus") else ""
            each = ", ".join(f"{r['wall']:.2f}" for r in runs)
            dash = "—"
            print(f"| {name} | {wall:.2f} s ({each}){speedup} | "
                  f"{reqs:.0f} | {lat:.1f} s | {f'{ceiling:.2f} s' if ceiling else dash} | "
                  f"{f'{chain:.2f} s' if chain else dash} | "
                  f"{f'{wall / ceiling:.2f}' if ceiling else dash} | "
                  f"{f'{wall / bound:.2f}' if bound else dash} | "
                  f"{1000 * med(runs, 'client_cpu') / reqs:.2f} ms | {max(r['rss_mib'] for r in runs):.0f} MiB | "
                  f"{max(r.get('connections', 0) for r in runs)} | "
                  f"{100 * med(runs, 'server_cpu') / wall:.1f} % |")
    first = next(iter(results["profiles"].values()))["rows"]
    ops = sorted({op for runs in first.values() for op in runs[0]["by_operation"]})
    names = list(first)
    print("\n| operation | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for op in ops:
        print(f"| {op} | " + " | ".join(str(first[n][0]["by_operation"].get(op, 0)) for n in names) + " |")
    print(f"\nload average: start {results.get('load_start')}, end {results.get('load_end')}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--tables"]:  # re-print the tables of an earlier run
        print_tables(json.load(open(sys.argv[2])))
    else:
        main()
