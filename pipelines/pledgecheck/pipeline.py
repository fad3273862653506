"""The main job: ingest an export folder, run a policy's checks, write the dated report.

Used by the CLI (`pledgecheck run`), the notebooks and the scheduler alike.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from .contract import load_contract
from .engine import connect, connect_scratch
from .errors import PledgecheckError
from .ingest import IngestReport, ingest, require_tables
from .lint import Finding, lint_policy, superseded
from .policy import Policy, load_policy, resolve_policy
from .results import build_document, publish, quarantine_exceeded
from .runner import PledgeResult, run_policy
from .verdict import MAX_QUARANTINE, RunSummary, summarize


@dataclass
class Run:
    policy: Policy
    as_of: date
    ingest: IngestReport
    results: list[PledgeResult]
    findings: list[Finding]
    con: duckdb.DuckDBPyConnection
    folder: Path | None = None
    metrics: dict = field(default_factory=dict)
    max_quarantine: float = MAX_QUARANTINE

    @property
    def summary(self) -> RunSummary:
        return summarize(self.results, quarantine_exceeded=bool(quarantine_exceeded(self.ingest, self.max_quarantine)))

    def document(self) -> dict:
        return build_document(self.policy, self.as_of.isoformat(), self.results, self.ingest, self.findings,
                              self.metrics, self.max_quarantine)


def salt_from(value: str | None) -> tuple[str, bool]:
    """The pseudonym salt: argument, else $PLEDGECHECK_SALT, else a random one (flag False)."""
    s = value or os.environ.get("PLEDGECHECK_SALT")
    if s:
        return s, True
    return secrets.token_hex(16), False


ENGINES = ("duckdb", "spark")


def check_export(policy: str | Policy, export_dir: str | Path, as_of: date, salt: str,
                 database: str | Path | None = None, progress: Callable[[str, str], None] | None = None,
                 engine: str = "duckdb", spark_master: str | None = None,
                 max_quarantine: float = MAX_QUARANTINE) -> Run:
    """Ingest + lint + every check of the policy.

    The export is staged in `database`: a DuckDB file (kept), ":memory:", or by default a
    scratch file in a private temporary folder that is removed with the connection (when the
    run and its `con` are garbage-collected, or at exit). Nothing else is written to disk.

    engine="spark" runs the same checks on Apache Spark (`spark_master`, default local[2];
    see docs/SPARK.md); `database` is then unused."""
    pol = policy if isinstance(policy, Policy) else load_policy(resolve_policy(policy))
    contract = load_contract()
    tick = (lambda t, n: progress("ingest", t)) if progress else None
    if engine == "duckdb":
        con = connect_scratch() if database is None else connect(database)
        rep = ingest(con, export_dir, contract, progress=tick)
    elif engine == "spark":
        from .spark import DEFAULT_MASTER, SparkConnection
        from .spark.ingest import ingest as spark_ingest

        con = SparkConnection(master=spark_master or DEFAULT_MASTER)
        rep = spark_ingest(con, export_dir, contract, progress=tick)
    else:
        raise PledgecheckError(f"engine {engine!r}: use one of {', '.join(ENGINES)}")
    require_tables(rep, contract)
    present = rep.present
    missing = {t: f"{t}: {r.error}" if r.error else f"no {t} export in {export_dir}" for t, r in rep.tables.items()
               if not r.present}
    findings = lint_policy(pol, contract)
    results = run_policy(con, pol, as_of, salt, present, missing, superseded(findings), contract,
                         progress=(lambda pid: progress("check", pid)) if progress else None,
                         preparing=(lambda what: progress("prepare", what)) if progress else None)
    metrics = {}
    if "data_subject_requests" in present:
        from .metrics import ccpa_7102, denials

        metrics = {"ccpa_7102": {"year": as_of.year - 1, "rows": ccpa_7102(con, as_of.year - 1)},
                   "ccpa_7102_year_to_date": {"year": as_of.year, "rows": ccpa_7102(con, as_of.year)},
                   "denials": denials(con)}
    return Run(pol, as_of, rep, results, findings, con, metrics=metrics, max_quarantine=max_quarantine)


def write_report(run: Run, out_root: str | Path, charts: bool = True, folders: dict[str, Path] | None = None,
                 progress: Callable[[str, str], None] | None = None) -> Path:
    """The run folder (results.publish), from a finished run."""
    run.folder = publish(out_root, run.document(), charts=charts, folders=folders, progress=progress)
    return run.folder
