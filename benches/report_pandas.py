#!/usr/bin/env python3
"""The yearly report's cells written the way a user would without cloudcensus: pandas +
xlsxwriter. Comparison for benches/report.rs (see BENCHMARKS.md).

Input: the per-sheet CSVs of a cloudcensus report (the report bench keeps them with
REPORT_CSV_DIR=DIR; `cloudcensus report` writes the same files). They hold exactly the
rows and columns of the workbook. The script reads each CSV with pandas and writes one
workbook with a sheet per CSV, a bold header row, frozen panes and an autofilter — the
minimum a ministry would accept — then prints wall time per run, the median and the peak
RSS. It does not re-implement the evaluation (matching, rules, first/last seen): that
would be far slower in pandas, so this measures only the reading + writing share.

Usage: report_pandas.py CSV_DIR [--runs 5] [--out /tmp/pandas.xlsx]
Needs: pandas, xlsxwriter (e.g. a venv under ~/.cache/cloudcensus/venv-bench).
"""

import argparse
import glob
import os
import resource
import statistics
import time

import pandas as pd


def write_report(csv_dir: str, out: str) -> int:
    files = sorted(glob.glob(os.path.join(csv_dir, "*.csv")))
    if not files:
        raise SystemExit(f"no CSV files in {csv_dir}: run the report bench with REPORT_CSV_DIR")
    cells = 0
    with pd.ExcelWriter(out, engine="xlsxwriter") as xw:
        header = xw.book.add_format({"bold": True, "bg_color": "#154273", "font_color": "white"})
        for path in files:
            # Strings stay strings (ids, codes); the BOM is stripped by utf-8-sig.
            df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
            name = os.path.basename(path)[:-4].split("-")[-1][:31] or "sheet"
            df.to_excel(xw, sheet_name=name, index=False)
            ws = xw.sheets[name]
            for col, title in enumerate(df.columns):
                ws.write_string(0, col, title, header)
            ws.freeze_panes(1, 0)
            ws.autofilter(0, 0, max(len(df), 1), max(len(df.columns) - 1, 0))
            cells += df.size
    return cells


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv_dir")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default="/tmp/cloudcensus-pandas-report.xlsx")
    a = ap.parse_args()
    times = []
    for run in range(1, a.runs + 1):
        load = " ".join(open("/proc/loadavg").read().split()[:3])
        t = time.perf_counter()
        cells = write_report(a.csv_dir, a.out)
        s = time.perf_counter() - t
        times.append(s)
        size = os.path.getsize(a.out) / 1048576
        print(f"run {run}: {s:.2f} s, {cells} cells, {size:.1f} MiB, load {load}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"median of {a.runs}: {statistics.median(times):.2f} s (pandas {pd.__version__}); peak RSS {peak:.0f} MiB")
    os.remove(a.out)


if __name__ == "__main__":
    main()
