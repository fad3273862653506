"""The scheduled run (`pledgecheck report`): check once, execute every analyst notebook over
that run, write one dated folder atomically and append the run to the policy's history.

    <out>/<policy>/<as-of>/        results.json, results.parquet, report.html,
                                   notebooks/*.ipynb (executed), validation.json, data_docs/
    <out>/<policy>/history.parquet one row per (as_of, pledge): status and counts, for trends

The export is ingested and checked once, into a DuckDB file in a temporary folder; the
notebooks get that file (read-only, for aggregate trends such as the request backlog) and the
run's results.json, so they show exactly the numbers and pseudonyms of the run. The salt is
never passed to a notebook (an executed notebook stores its parameters). The temporary folder,
which holds the staged personal data, is deleted at the end.
"""
from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from . import paths
from .errors import PledgecheckError

NOTEBOOKS_DIR = paths.notebooks_dir()
HISTORY_FILE = "history.parquet"
HISTORY_SCHEMA = {
    "as_of": pl.Date, "policy": pl.String, "policy_version": pl.String, "policy_sha256": pl.String,
    "pledge_id": pl.String, "kind": pl.String, "severity": pl.String, "effective": pl.Boolean,
    "status": pl.String, "population": pl.Int64, "violations": pl.Int64, "exempt": pl.Int64,
    "open": pl.Int64, "due_soon": pl.Int64, "overdue": pl.Int64, "rate": pl.Float64, "coverage": pl.Float64,
}
NOTEBOOK_FAILED = 4  # exit code when a notebook could not be executed

Progress = Callable[[str, str], None]


# ---------------------------------------------------------------- run history
def to_polars(rel: duckdb.DuckDBPyRelation) -> pl.DataFrame:
    """DuckDB -> Arrow -> polars (no pandas in between)."""
    arrow = rel.arrow()
    return pl.from_arrow(arrow.read_all() if hasattr(arrow, "read_all") else arrow)


def history_rows(doc: dict) -> pl.DataFrame:
    """One row per pledge of a results document (counts only)."""
    m = doc["meta"]
    rows = [{
        "as_of": date.fromisoformat(m["as_of"]), "policy": m["policy"], "policy_version": m.get("policy_version"),
        "policy_sha256": m.get("policy_sha256"), "pledge_id": p["pledge_id"], "kind": p["kind"],
        "severity": p["severity"], "effective": p.get("effective", True), "status": p["status"],
        "population": p.get("population") or 0, "violations": p.get("violations") or 0,
        "exempt": p.get("exempt") or 0, "open": p.get("open") or 0, "due_soon": p.get("due_soon") or 0,
        # overdue: still open past the deadline (deadline checks); `violations` also counts late answers
        "overdue": (p.get("by_reason") or {}).get("overdue", 0),
        "rate": p.get("rate"), "coverage": p.get("coverage"),
    } for p in doc["pledges"]]
    return pl.DataFrame(rows, schema=HISTORY_SCHEMA)


def read_history(path: str | Path) -> pl.DataFrame:
    """The history file (DuckDB -> Arrow -> polars); empty with the schema when there is none."""
    p = Path(path)
    if not p.exists():
        return pl.DataFrame(schema=HISTORY_SCHEMA)
    from .engine import connect

    con = connect()  # UTC, bounded memory, like every connection of the project
    try:
        df = to_polars(con.sql("SELECT * FROM read_parquet($path) ORDER BY as_of, pledge_id",
                               params={"path": str(p)}))
    finally:
        con.close()
    return df.select([pl.col(c).cast(t) if c in df.columns else pl.lit(None, t).alias(c)
                      for c, t in HISTORY_SCHEMA.items()])


def history_with(path: str | Path, doc: dict) -> pl.DataFrame:
    """The history with this run's rows: a re-run of the same as-of date replaces its rows."""
    new = history_rows(doc)
    old = read_history(path)
    as_of = new["as_of"][0] if len(new) else None
    kept = old.filter(pl.col("as_of") != as_of) if as_of is not None else old
    return pl.concat([kept, new], how="vertical").sort("as_of", "pledge_id")


def write_history(df: pl.DataFrame, path: str | Path) -> Path:
    """Write the history atomically (temporary file, then rename)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.parent / f".{p.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        df.write_parquet(tmp, compression="zstd")
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)
    return p


# ---------------------------------------------------------------- notebooks
def notebooks(folder: str | Path = NOTEBOOKS_DIR) -> list[Path]:
    return sorted(Path(folder).glob("[0-9]*.ipynb"))


def execute_notebook(nb: Path, output: Path, parameters: dict, cwd: Path, timeout: int = 900) -> str | None:
    """Execute one notebook with papermill; returns None, or the error (the output notebook is
    written either way, so a failure can be read in it).

    The kernel talks to papermill over Unix sockets in a private temporary folder (IPC
    transport), not over unencrypted local TCP: it handles the staged personal data."""
    import papermill as pm
    from traitlets.config import Config

    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pc-kernel-") as sockets:
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(Path(sockets) / "k")
        try:
            pm.execute_notebook(str(nb), str(output), parameters=parameters, kernel_name="python3", cwd=str(cwd),
                                progress_bar=False, log_output=False, execution_timeout=timeout, config=config)
        except pm.PapermillExecutionError as e:
            first = str(e.evalue).splitlines()[0][:300] if e.evalue else ""
            return f"{nb.name}: cell {e.exec_count}: {e.ename}: {first}"
    return None


# ---------------------------------------------------------------- the scheduled run
@dataclass
class ReportOutcome:
    folder: Path
    doc: dict
    exit_code: int
    history: Path
    notebooks: list[str] = field(default_factory=list)
    notebook_errors: list[str] = field(default_factory=list)
    validation: object | None = None  # validation.ValidationOutcome


def scheduled_report(policy: str, export: str | Path, as_of: date, out_root: str | Path, salt: str,
                     notebooks_dir: str | Path = NOTEBOOKS_DIR, validate: bool = True,
                     progress: Progress | None = None, timeout: int = 900,
                     max_quarantine: float | None = None) -> ReportOutcome:
    """The whole scheduled run; see the module docstring. `salt` is required (pipeline.salt_from)."""
    from .pipeline import check_export
    from .policy import load_policy, resolve_policy
    from .results import publish

    tick = progress or (lambda stage, what: None)
    pol_path = resolve_policy(policy)
    pol = load_policy(pol_path)
    export = Path(export).resolve()
    out_root = Path(out_root)
    nbs = notebooks(notebooks_dir)
    if not nbs:
        raise PledgecheckError(f"{notebooks_dir}: no notebooks to execute")
    history_path = out_root / pol.id / HISTORY_FILE
    with tempfile.TemporaryDirectory(prefix="pledgecheck-report-") as tmp:
        work = Path(tmp)
        staged = work / "staged.duckdb"
        run = check_export(pol, export, as_of, salt, database=staged, progress=tick,
                           **({"max_quarantine": max_quarantine} if max_quarantine is not None else {}))
        doc = run.document()
        outcome_v = None
        if validate:
            tick("validate", "great expectations")
            from .validation import validate as gx_validate

            outcome_v = gx_validate(run, work / "gx")
        run.con.close()
        results_json = work / "results.json"
        results_json.write_text(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        history = history_with(history_path, doc)
        hist_tmp = write_history(history, work / HISTORY_FILE)
        given = Path(policy)
        params = {"policy": str(given.resolve()) if given.suffix in (".yaml", ".yml") or given.exists() else policy,
                  "export_dir": str(export), "as_of": as_of.isoformat(), "results": str(results_json),
                  "staged": str(staged), "history": str(hist_tmp)}
        errors = []
        for nb in nbs:
            tick("notebook", nb.name)
            err = execute_notebook(nb, work / "notebooks" / nb.name, params, cwd=Path(notebooks_dir), timeout=timeout)
            if err:
                errors.append(err)
        folders = {"": work / "gx", "notebooks": work / "notebooks"}
        folder = publish(out_root, doc, folders={k: v for k, v in folders.items() if v.is_dir()}, progress=tick)
        write_history(history, history_path)
    code = doc["summary"]["exit_code"] or (NOTEBOOK_FAILED if errors else 0)
    return ReportOutcome(folder=folder, doc=doc, exit_code=code, history=history_path,
                         notebooks=[nb.name for nb in nbs], notebook_errors=errors, validation=outcome_v)
