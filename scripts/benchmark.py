"""Benchmark the full compliance run: see BENCHMARKS.md for results and how to read them.

    python scripts/benchmark.py                       # 1M, 10M and 100M access-log events
    python scripts/benchmark.py --sizes 1M,10M --policy livejasmin
    python scripts/benchmark.py --sizes 50k --no-gx   # a quick smoke run
    python scripts/benchmark.py --sizes 10M --spark-max 10M   # with the Spark engine beside DuckDB
    python scripts/benchmark.py --sizes 1M --spark-max 1M --spark-cluster   # and on a standalone cluster
    python scripts/benchmark.py --sizes '' --scan-size 1G     # only the personal-data scan (issue #24)

Worlds are generated once into --work (kept for re-runs; 100M events need about 12.5 GB of disk)
with accounts = events / 20, by --workers processes (one per core by default) and without the
ground truth (`generate_world(..., truth=False)`: the benchmark compares engines; the tests
check the counts). Each step runs in its own process; the table is printed at the
end, one line per size, and also written as JSON next to the worlds.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pledgecheck.bench import child

console = Console(stderr=True)


def size(text: str) -> int:
    t = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(t[-1], 1)
    return int(float(t.rstrip("kmg")) * mult)


def main() -> int:
    # SIGTERM (a scheduler's timeout) unwinds like Ctrl-C: the running step is stopped and waited for
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1M,10M,100M", help="access-log events per world (k/M suffixes)")
    ap.add_argument("--policy", default="lustmonster")
    ap.add_argument("--work", default="/tmp/pledgecheck-bench", help="where worlds and run folders go")
    ap.add_argument("--gx-max", default="10M", help="largest world the GX-pandas baseline runs on")
    ap.add_argument("--no-gx", action="store_true", help="skip the GX-pandas baseline")
    ap.add_argument("--spark-max", default="0", help="largest world also run on the Spark engine (needs the "
                    "`spark` extra and Java; 0: none)")
    ap.add_argument("--spark-master", default="local[2]")
    ap.add_argument("--spark-cluster", action="store_true",
                    help="also run the Spark step on a standalone cluster (a master and a worker started on this "
                         "machine by scripts/spark_cluster.py, stopped after)")
    ap.add_argument("--executor-memory", default="6g", help="memory of the cluster's executor (--spark-cluster)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="processes generating a world's shards at once (default: one per core)")
    ap.add_argument("--scan-size", default="1G", help="`pledgecheck scan` of the real Apache log repeated to this "
                    "size (k/M/G suffixes; built in a temporary folder, removed after; 0: skip)")
    ap.add_argument("--scan-log", default=str(SCAN_LOG), help="the log repeated for the scan step")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    lines = []
    for label in [x for x in args.sizes.split(",") if x.strip()]:
        events = size(label)
        accounts = max(events // 20, 1000)
        world = work / f"{args.policy}-{label}"
        line = {"size": label, "events": events, "accounts": accounts}
        with console.status(f"[{label}] generating {events:,} events, {accounts:,} accounts") as status:
            if not (world / "manifest.json").exists():
                line["generate"] = child("generate", args.policy, str(world), events, accounts, args.workers)
            status.update(f"[{label}] floor: one aggregate pass")
            line["floor"] = child("floor", args.policy, str(world))
            status.update(f"[{label}] bound: the work no exact run can skip")
            line["bound"] = child("bound", args.policy, str(world))
            status.update(f"[{label}] full run of {args.policy}")
            line["full"] = child("full", args.policy, str(world), str(work / "runs"))
            if events <= size(args.spark_max):
                status.update(f"[{label}] full run of {args.policy} on Spark ({args.spark_master})")
                line["spark"] = child("spark", args.policy, str(world), str(work / "runs"), args.spark_master)
                if args.spark_cluster:
                    status.update(f"[{label}] full run of {args.policy} on a Spark standalone cluster")
                    line["cluster"] = cluster_step(args.policy, world, work, args.executor_memory)
            if not args.no_gx and events <= size(args.gx_max):
                status.update(f"[{label}] pledgecheck on the GX-expressible pledges")
                line["subset"] = child("subset", args.policy, str(world))
                status.update(f"[{label}] GX on pandas")
                line["gx"] = child("gx", args.policy, str(world))
        lines.append(line)
        console.print(f"[{label}] " + json.dumps({k: v for k, v in line.items() if isinstance(v, dict)}))
    (work / "results.json").write_text(json.dumps(lines, indent=2))
    if lines:
        print_table(lines)
    if size(args.scan_size):
        scan_step(Path(args.scan_log), size(args.scan_size), args.workers, work)
    return 0


# ------------------------------------------------------------------ Spark standalone (issue #23)
CLUSTER_SCRIPT = Path(__file__).resolve().parent / "spark_cluster.py"


def cluster_step(policy: str, world: Path, work: Path, executor_memory: str) -> dict:
    """The Spark step against a standalone master and worker (separate JVMs started by
    scripts/spark_cluster.py with every core and the executor's memory), stopped after."""
    import subprocess

    state = work / "spark-cluster"
    mem_mb = _mb(executor_memory)
    cmd = [sys.executable, str(CLUSTER_SCRIPT)]
    started = subprocess.run([*cmd, "start", "--state", str(state), "--memory", f"{mem_mb + 512}m"],
                             capture_output=True, text=True)
    if started.returncode != 0:
        return {"step": "cluster", "error": (started.stderr.strip().splitlines() or ["(no output)"])[-1][:300]}
    url = started.stdout.strip().splitlines()[-1]
    env = {"PYSPARK_PYTHON": sys.executable,
           # shuffle partitions: 4 per core of the worker (Spark's default, 200, is sized for a
           # large cluster; adaptive execution coalesces them, but every map task still writes 200)
           "PYSPARK_SUBMIT_ARGS": f"--conf spark.executor.memory={executor_memory} "
                                  f"--conf spark.sql.shuffle.partitions={4 * (os.cpu_count() or 1)} "
                                  f"--conf spark.driver.memory=2g pyspark-shell"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        res = child("spark", policy, str(world), str(work / "runs-cluster"), url)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        subprocess.run([*cmd, "stop", "--state", str(state)], capture_output=True, text=True)
    if "error" not in res:
        res["step"] = "cluster"
        res["master"] = url
    return res


def _mb(text: str) -> int:
    t = text.strip().lower()
    return int(float(t[:-1]) * {"g": 1024, "m": 1}[t[-1]]) if t[-1] in "gm" else int(t)


# ------------------------------------------------------------------ the personal-data scan (issue #24)
SCAN_LOG = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "apache_combined_access.log"


def scan_step(log: Path, nbytes: int, workers: int, work: Path) -> None:
    """`pledgecheck scan` on LOG repeated to nbytes, beside the line detector on one copy."""
    if not log.is_file():
        console.print(f"[scan] skipped: {log} not found (--scan-log)")
        return
    with console.status(f"[scan] {log.name} repeated to {nbytes / 1e6:,.0f} MB, {workers} workers"):
        res = child_scan(log, nbytes, workers)
    (work / "scan.json").write_text(json.dumps(res, indent=2))
    if "error" in res:
        console.print(f"[scan] error: {res['error']}")
        return
    t = Table(title="pledgecheck scan (MB/s; baseline: the line detector on one copy of the log)")
    for col in ("file MB", "workers", "scan s", "scan MB/s", "baseline MB", "baseline MB/s", "speed-up",
                "counts", "distinct", "RSS MB", "workers RSS MB"):
        t.add_column(col, justify="right")
    t.add_row(f"{res['file_mb']:,.0f}", str(res["workers"]), f"{res['seconds']:.1f}", f"{res['mb_s']:.1f}",
              f"{res['baseline_mb']:.1f}", f"{res['baseline_mb_s']:.1f}", f"{res['mb_s'] / res['baseline_mb_s']:.0f}x",
              json.dumps(res["counts"]), json.dumps(res["distinct"]), str(res["rss_mb"]), str(res["workers_rss_mb"]))
    Console(width=220).print(t)


def child_scan(log: Path, nbytes: int, workers: int) -> dict:
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "pledgecheck.scanbench", str(log), str(nbytes), str(workers)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["(no output)"])[-1][:300]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _s(step: dict | None, key: str = "seconds", fmt: str = "{:.1f}") -> str:
    if not step:
        return "-"
    if "error" in step:
        return "error"
    return fmt.format(step[key]) if step.get(key) is not None else "-"


def _ratio(a: dict | None, b: dict | None) -> str:
    return f"{a['seconds'] / b['seconds']:.1f}x" if a and b and "error" not in a and "error" not in b else "-"


def print_table(lines: list[dict]) -> None:
    t = Table(title="pledgecheck benchmark (wall seconds, peak RSS MB)")
    for col in ("events", "rows read", "full s", "ingest s", "checks s", "rows/s", "full RSS", "staged MB",
                "floor s", "full/floor", "bound s", "bound/floor", "full/bound", "ns/row",
                "subset s", "GX s", "GX RSS", "GX/subset", "Spark s", "Spark RSS", "Spark/full",
                "cluster s", "cluster/full",
                "generate s", "generate RSS"):
        t.add_column(col, justify="right")
    for ln in lines:
        full, floor, bound, gx, sub, gen, spark, cluster = (
            ln.get(k) for k in ("full", "floor", "bound", "gx", "subset", "generate", "spark", "cluster"))
        ok = full and "error" not in full
        spark_ok = ok and spark and "error" not in spark
        cluster_ok = ok and cluster and "error" not in cluster
        t.add_row(
            f"{ln['events']:,}", f"{full['rows']:,}" if ok else "-", _s(full), _s(full, "ingest_s"),
            _s(full, "checks_s"), f"{full['rows'] / full['seconds']:,.0f}" if ok else "-",
            _s(full, "rss_mb", "{:.0f}"), _s(full, "staged_mb", "{:.0f}"),
            _s(floor, "seconds", "{:.2f}"),
            _ratio(full, floor), _s(bound, "seconds", "{:.2f}"), _ratio(bound, floor), _ratio(full, bound),
            f"{full['seconds'] / full['rows'] * 1e9:.0f}" if ok else "-",
            _s(sub), _s(gx), _s(gx, "rss_mb", "{:.0f}"),
            _ratio(gx, sub),
            _s(spark), _s(spark, "rss_mb", "{:.0f}"),
            (f"{spark['seconds'] / full['seconds']:.1f}x"
             + ("" if spark["digest"] == full["digest"] else " (results differ!)")) if spark_ok else "-",
            _s(cluster),
            (f"{cluster['seconds'] / full['seconds']:.1f}x"
             + ("" if cluster["digest"] == full["digest"] else " (results differ!)")) if cluster_ok else "-",
            _s(gen), _s(gen, "rss_mb", "{:.0f}"))
    Console(width=220).print(t)


if __name__ == "__main__":
    sys.exit(main())
