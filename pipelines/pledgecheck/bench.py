"""Benchmark: the full compliance run against its single-scan floor and the GX-pandas way.

Used by `scripts/benchmark.py` (see BENCHMARKS.md). Every measured step runs in a fresh child
process so that its peak resident memory is its own (`ru_maxrss` of that process):

- **full**: `check_export` (ingest every table, run every pledge of the policy) and the result
  files, exactly what `pledgecheck run` does without the HTML charts.
- **floor**: one DuckDB aggregate pass per table over the same files, touching the same
  columns the policy's checks touch (`sum(hash(col))`, so every value is read and nothing is
  answered from Parquet statistics). No run can read less.
- **gx**: the pledges a Great Expectations user can write as column expectations over one table
  (retention as a date range, IP truncation and password formats as regexes, card numbers as a
  digit-run regex, empty and identifier columns as nulls, k-anonymity as a minimum), run the way
  GX documents it for DataFrames: each table read into pandas, a suite per table, one validation
  each. Only where the tables fit in memory.
- **spark**: the full run on the Spark engine (local mode, the `spark` extra and Java needed),
  including the session start a cluster job pays too. Its peak memory is the Python driver's
  plus the JVM's (`VmHWM` of the Java child); `digest` is compared with the DuckDB run's to
  show the results agree.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from .checks import get as get_check
from .checks import render
from .contract import load_contract
from .ingest import find_files
from .policy import Policy, load_policy, resolve_policy

AS_OF = date(2026, 11, 1)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(step: str, policy: str, export: str, *extra: str) -> dict:
    """Run one measured step in a fresh interpreter; returns its JSON line.

    If this process is stopped meanwhile (Ctrl-C, or SIGTERM where the caller turned it into
    SystemExit), the child is asked to stop with SIGTERM and waited for, so that it removes its
    scratch folder of staged rows (`subprocess.run` would SIGKILL it, which leaves the folder)."""
    cmd = [sys.executable, "-m", "pledgecheck.bench", step, policy, export, *map(str, extra)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"}) as proc:
        try:
            out, err = proc.communicate()
        except BaseException:
            proc.terminate()
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
    if proc.returncode != 0:
        tail = (err.strip().splitlines() or ["(no output)"])[-1]
        return {"step": step, "error": tail[:300]}
    return json.loads(out.strip().splitlines()[-1])


# ------------------------------------------------------------------ steps (run in the child)
def run_full(policy: str, export: str, out: str, engine: str = "duckdb", master: str = "local[2]") -> dict:
    from .pipeline import check_export, write_report

    t0 = time.perf_counter()
    stages: dict[str, float] = {}
    log_path = Path(out) / f"{engine}-progress.log"   # `tail -f` it to follow a long run
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        def progress(stage: str, what: str) -> None:
            now = time.perf_counter() - t0
            stages[stage] = now  # the last tick of each stage
            log.write(f"{now:9.1f} s  {stage:7} {what}\n")
            log.flush()

        run = check_export(policy, export, AS_OF, "bench-salt", engine=engine, spark_master=master,
                           progress=progress)
        checked = time.perf_counter() - t0
        staged = _staged_bytes(run.con) if engine == "duckdb" else 0
        write_report(run, Path(out) / engine, charts=False)
    wall = time.perf_counter() - t0
    rows = sum(r.rows_read for r in run.ingest.tables.values())
    doc = run.document()
    digest = hashlib.sha256(json.dumps([doc["ingest"], doc["pledges"]], sort_keys=True,
                                       default=str).encode()).hexdigest()[:16]
    children = _children_peak_rss_mb()
    return {"step": "full" if engine == "duckdb" else engine, "seconds": wall, "rows": rows,
            "rss_mb": peak_rss_mb() + children, "children_rss_mb": children, "pledges": len(run.results),
            # ingest ends with its last table; the checks (with lint and calendars) run from there
            # until the result files are written
            "ingest_s": stages.get("ingest", 0.0), "checks_s": checked - stages.get("ingest", 0.0),
            "staged_mb": staged / 2**20,
            "broken": sum(r.status == "broken" for r in run.results),
            "errors": sum(r.status == "error" for r in run.results), "digest": digest}


def _staged_bytes(con) -> int:
    """Size on disk of the run's staged DuckDB file and its spill folder (0 in memory)."""
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    if not path:
        return 0
    spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
    files = [Path(path), Path(path + ".wal")] + [f for f in spill.rglob("*") if f.is_file()]
    return sum(f.stat().st_size for f in files if f.exists())


def _children_peak_rss_mb() -> float:
    """Peak resident memory of this process's live descendants (the Spark JVM), from VmHWM."""
    procs: dict[str, tuple[str, float]] = {}   # pid -> (parent pid, peak MB)
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(ln.split(":", 1) for ln in status.read_text().splitlines() if ":" in ln)
        except OSError:
            continue
        hwm = fields.get("VmHWM", "0 kB").split()[0]
        procs[status.parent.name] = (fields.get("PPid", "").strip(), int(hwm) / 1024)
    mine, total, grew = {str(os.getpid())}, 0.0, True
    while grew:
        grew = False
        for pid, (ppid, mb) in procs.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                total += mb
                grew = True
    return total


def columns_touched(pol: Policy) -> dict[str, list[str]]:
    """Per table, the contract columns the policy's rendered checks mention."""
    contract = load_contract()
    sqls = []
    for pledge in pol.pledges:
        try:
            sqls.append(render(pledge, contract, AS_OF, set(contract.tables), pol.policy.calendar).sql)
        except Exception:  # noqa: BLE001 - a pledge the contract cannot render touches nothing
            continue
    out: dict[str, list[str]] = {}
    sqls = [re.sub(r"--[^\n]*", "", s) for s in sqls]
    for name, t in contract.tables.items():
        mine = [s for s in sqls if f'"{name}"' in s]
        used = [c for c in t.columns if any(re.search(rf'(?<![\w.$]){re.escape(c)}(?!\w)', s) for s in mine)]
        if used:
            out[name] = used
    return out


def run_floor(policy: str, export: str) -> dict:
    from .engine import connect, lit, q

    touched = columns_touched(load_policy(resolve_policy(policy)))   # (rendering every pledge: 0.4 s, not timed)
    con = connect()
    t0 = time.perf_counter()
    rows = 0
    for table, cols in touched.items():
        files = [p for p, fmt in find_files(Path(export), table) if fmt == "parquet"]
        if not files:
            continue
        plist = "[" + ", ".join(lit(p) for p in files) + "]"
        aggs = ", ".join(f"sum(hash({q(c)}))" for c in cols)
        rows += con.execute(f"SELECT count(*), {aggs} FROM read_parquet({plist}, union_by_name = true)").fetchone()[0]
    wall = time.perf_counter() - t0
    return {"step": "floor", "seconds": wall, "rows": rows, "rss_mb": peak_rss_mb()}


def run_bound(policy: str, export: str) -> dict:
    """The work no exact run of the policy can skip, done once and nothing else:
    - the floor's pass over typed values (the columns the checks touch, typed as the contract
      says), with every row's quarantine reason: the ingest's validation, storing nothing;
    - one duplicate-key aggregate per keyed table;
    - one as-of join, counting only, per (event table, consent purpose) of the policy's consent
      pledges: pledges that share a table and a purpose share it, with the union of their scopes.
    The keys and joins read every row (the rows' validation is counted once, in the first pass).
    Nothing per pledge: no outcome, no compaction, no distribution, no offenders. Every exact
    run does these operations and more; here each is done once, in three passes (an engine that
    merged the passes could go somewhat lower). Parquet exports only."""
    from .engine import connect, q
    from .ingest import TableResult, parquet_source

    pol, contract = load_policy(resolve_policy(policy)), load_contract()
    touched = columns_touched(pol)
    con = connect()
    t0 = time.perf_counter()
    sources, rows = {}, 0
    for name, t in contract.tables.items():
        files = find_files(Path(export), name)
        if files and all(fmt == "parquet" for _, fmt in files):
            sources[name] = parquet_source(con, t, files, TableResult(name))[0]
            aggs = "".join(f", sum(hash({q(c)}))" for c in touched.get(name, []))
            rows += con.execute(f"SELECT count(*), count(_reason){aggs} FROM {sources[name]}").fetchone()[0]
    typed = time.perf_counter()
    for name, src in sources.items():
        key = contract.table(name).key
        if key:
            cols = ", ".join(q(k) for k in key)
            con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {src} GROUP BY ALL HAVING count(*) > 1)").fetchone()
    keys = time.perf_counter()
    consent = get_check("consent_coverage")
    groups: dict[tuple[str, str], list] = {}
    for pledge in pol.pledges:
        p = pledge.params
        if pledge.check == consent.name and p.table in sources and consent.CONSENT_TABLE in sources:
            groups.setdefault((p.table, p.purpose), []).append(pledge)
    joined: dict[str, list[int]] = {}   # per join: events, events with a consent state before them
    for (table, purpose), pledges in groups.items():
        sql, params = consent.join_count_sql(contract.table(table), pledges, purpose, AS_OF, sources[table],
                                             sources[consent.CONSENT_TABLE])
        joined[f"{table}/{purpose}"] = list(con.execute(sql, params).fetchone())
    wall = time.perf_counter() - t0
    return {"step": "bound", "seconds": wall, "rows": rows, "rss_mb": peak_rss_mb(), "typed_s": typed - t0,
            "keys_s": keys - typed, "joins_s": wall - (keys - t0), "joins": len(groups), "joined": joined}


def gx_expressible(pledge) -> bool:
    """Whether a GX user can express the pledge as single-table column expectations: the
    GX-pandas baseline and the like-for-like pledgecheck subset both take exactly these."""
    return bool(get_check(pledge.check).gx_hints(pledge.params, load_contract(), AS_OF))


def gx_plan(pol: Policy) -> dict[str, list[tuple[str, dict]]]:
    """Per table, the (expectation class, kwargs) a GX user would write for the pledges that
    fit a single-table column expectation (each check kind's `gx_hints`)."""
    contract = load_contract()
    plan: dict[str, list[tuple[str, dict]]] = {}
    for pledge in pol.pledges:
        for table, cls, kw in get_check(pledge.check).gx_hints(pledge.params, contract, AS_OF):
            if (cls, kw) not in plan.setdefault(table, []):
                plan[table].append((cls, kw))
    return {t: exps for t, exps in plan.items() if exps}


def run_gx(policy: str, export: str) -> dict:
    import logging

    import great_expectations as gx
    import great_expectations.expectations as gxe
    import pandas as pd

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    pol = load_policy(resolve_policy(policy))
    plan = gx_plan(pol)
    t0 = time.perf_counter()
    ctx = gx.get_context(mode="ephemeral")
    ds = ctx.data_sources.add_pandas("bench")
    rows = expectations = 0
    for table, exps in plan.items():
        files = [p for p, fmt in find_files(Path(export), table) if fmt == "parquet"]
        if not files:
            continue
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        rows += len(df)
        for cls, kw in exps:
            if kw["column"] in df.columns and kw.get("min_value") and "Between" in cls and \
                    str(df[kw["column"]].dtype).startswith("datetime"):
                kw = {**kw, "min_value": pd.Timestamp(kw["min_value"], tz=df[kw["column"]].dt.tz)}
        suite = ctx.suites.add(gx.ExpectationSuite(name=f"bench_{table}", expectations=[
            getattr(gxe, cls)(**{k: v for k, v in kw.items() if v is not None})
            for cls, kw in exps if kw["column"] in df.columns]))
        expectations += len(suite.expectations)
        batch_def = ds.add_dataframe_asset(table).add_batch_definition_whole_dataframe("all")
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"bench_{table}", data=batch_def,
                                                                    suite=suite))
        vd.run(batch_parameters={"dataframe": df}, result_format="SUMMARY")
        del df
    wall = time.perf_counter() - t0
    return {"step": "gx", "seconds": wall, "rows": rows, "rss_mb": peak_rss_mb(), "expectations": expectations}


def run_subset(policy: str, export: str) -> dict:
    """pledgecheck on the same pledges the GX plan covers (for a like-for-like line)."""
    from .pipeline import check_export

    pol = load_policy(resolve_policy(policy))
    sub = pol.model_copy(update={"pledges": [p for p in pol.pledges if gx_expressible(p)]})
    t0 = time.perf_counter()
    run = check_export(sub, export, AS_OF, "bench-salt")
    wall = time.perf_counter() - t0
    rows = sum(r.rows_read for r in run.ingest.tables.values())
    return {"step": "subset", "seconds": wall, "rows": rows, "rss_mb": peak_rss_mb(), "pledges": len(run.results)}


def run_generate(policy: str, export: str, events: int, accounts: int, workers: int = 1) -> dict:
    """Generate a benchmark world: shards built by `workers` processes, no ground truth (the
    benchmark compares engines, not counts; the tests check the counts)."""
    from .synth.generate import generate_world

    t0 = time.perf_counter()
    manifest = generate_world(Path(export), load_policy(resolve_policy(policy)), seed=1, accounts=accounts,
                              events=events, as_of=AS_OF, workers=workers, truth=False)
    wall = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in Path(export).rglob("*") if f.is_file())
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if workers > 1 else 0.0
    return {"step": "generate", "seconds": wall, "rows": sum(manifest["tables"].values()),
            "rss_mb": peak_rss_mb() + workers * worker, "worker_rss_mb": worker, "workers": workers, "bytes": size}


def main(argv: list[str]) -> None:
    from .engine import stoppable

    with stoppable():   # SIGTERM / Ctrl-C: interrupt the query and remove the scratch folder, as `pledgecheck` does
        _main(argv)


def _main(argv: list[str]) -> None:
    step, policy, export = argv[:3]
    if step == "generate":
        workers = int(argv[5]) if len(argv) > 5 else 1
        print(json.dumps(run_generate(policy, export, int(argv[3]), int(argv[4]), workers)))
        return
    fn = {"full": lambda: run_full(policy, export, argv[3]),
          "spark": lambda: run_full(policy, export, argv[3], "spark", argv[4] if len(argv) > 4 else "local[2]"),
          "floor": lambda: run_floor(policy, export), "bound": lambda: run_bound(policy, export),
          "gx": lambda: run_gx(policy, export), "subset": lambda: run_subset(policy, export)}[step]
    print(json.dumps(fn()))


if __name__ == "__main__":
    main(sys.argv[1:])
