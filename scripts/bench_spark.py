"""Time one full policy run on DuckDB and on local Spark over the same export, side by side.

    python scripts/bench_spark.py                      # generates 10M access-log events first
    python scripts/bench_spark.py --export DIR --policy lustmonster --master 'local[2]'

The export is generated once (`pledgecheck generate OUT --events 10000000 --accounts 100000`)
and reused. Each engine runs `check_export` (ingestion + every check + aggregates) in its own
process, so neither pays for the other's memory; the Spark time includes starting the session
(a cluster job pays that too). Prints one line per engine and whether the results agree.
`bench(...)` returns the numbers for a caller (e.g. the main benchmark).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from datetime import date
from pathlib import Path

AS_OF = date(2026, 11, 1)


def _run(engine: str, export: str, policy: str, master: str, queue) -> None:
    import resource

    from pledgecheck.pipeline import check_export

    t0 = time.perf_counter()
    run = check_export(policy, export, AS_OF, "bench-salt", engine=engine, spark_master=master)
    doc = run.document()
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"engine": engine, "seconds": round(seconds, 1), "driver_rss_mb": round(rss),
               "pledges": len(doc["pledges"]), "rows_loaded": sum(r["rows_loaded"] for r in doc["ingest"]),
               "digest": json.dumps([doc["ingest"], doc["pledges"]], sort_keys=True, default=str)})


def bench(export: str | Path, policy: str = "lustmonster", master: str = "local[2]",
          engines: tuple[str, ...] = ("duckdb", "spark")) -> list[dict]:
    out = []
    ctx = mp.get_context("spawn")
    for engine in engines:
        q = ctx.Queue()
        p = ctx.Process(target=_run, args=(engine, str(export), policy, master, q))
        p.start()
        res = q.get()
        p.join()
        out.append(res)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", default="/tmp/pledgecheck-bench-10m")
    ap.add_argument("--policy", default="lustmonster")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--accounts", type=int, default=100_000)
    a = ap.parse_args()
    export = Path(a.export)
    if not (export / "manifest.json").exists():
        from pledgecheck.generate import generate_world
        from pledgecheck.policy import load_policy, resolve_policy

        t0 = time.perf_counter()
        generate_world(export, load_policy(resolve_policy(a.policy)), seed=1, accounts=a.accounts, events=a.events,
                       as_of=AS_OF)
        print(f"generated {export} in {time.perf_counter() - t0:.0f} s")
    rows = bench(export, a.policy, a.master)
    print(f"policy {a.policy}, export {export} ({rows[0]['rows_loaded']:,} rows loaded), "
          f"{os.cpu_count()} cores, Spark master {a.master}")
    print(f"{'engine':8} {'seconds':>8} {'driver RSS MB':>14} {'pledges':>8}")
    for r in rows:
        print(f"{r['engine']:8} {r['seconds']:8.1f} {r['driver_rss_mb']:14d} {r['pledges']:8d}")
    print("results agree:", len({r["digest"] for r in rows}) == 1)


if __name__ == "__main__":
    main()
