"""Writing a run: a dated folder with machine-readable results and the HTML report.

The folder is written under a temporary name and renamed into place, so an interrupted run
never leaves a half-written report. Results hold counts, rates, distributions and salted
pseudonyms only; the same inputs and salt give byte-identical files.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__
from .errors import IngestError
from .ingest import IngestReport
from .lint import Finding
from .policy import Policy
from .verdict import COLUMNS, MAX_QUARANTINE, PledgeResult, RunSummary, summarize  # noqa: F401

# results.parquet: the scalar columns of a result (verdict.COLUMNS), plus the run's as-of date and policy hash
ARROW_TYPES = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def quarantine_lines(ingest: IngestReport) -> list[dict]:
    """One line per (table, file, reason) of rows lost to quarantine, most rows first within a
    table; counts and reasons only (never a value)."""
    if ingest.file_reasons:
        return [{"table": t, "file": f, "reason": r, "rows": n} for t, f, r, n in ingest.file_reasons]
    return [{"table": t, "file": "", "reason": r, "rows": n}            # engines without per-file reasons
            for t, reasons in ingest.reasons.items() for r, n in reasons.items()]


def quarantine_by_table(ingest: IngestReport) -> dict[str, dict]:
    """table -> rows read, quarantined and their share, for tables that lost rows."""
    return {t: {"rows_read": r.rows_read, "rows_quarantined": r.rows_quarantined,
                "share": r.rows_quarantined / r.rows_read if r.rows_read else 0.0}
            for t, r in ingest.tables.items() if r.rows_quarantined}


def quarantine_exceeded(ingest: IngestReport, max_rate: float) -> list[str]:
    """The tables whose quarantined share is above `max_rate`."""
    return sorted(t for t, q in quarantine_by_table(ingest).items() if q["share"] > max_rate)


def build_document(policy: Policy, as_of: str, results: list[PledgeResult], ingest: IngestReport,
                   findings: list[Finding], metrics: dict | None = None, max_quarantine: float = MAX_QUARANTINE) -> dict:
    export = Path(ingest.export_dir)
    inputs = []
    for t in ingest.tables.values():
        for f in t.files:
            inputs.append({"table": t.table, "file": str(Path(f.file).relative_to(export)) if
                           Path(f.file).is_relative_to(export) else Path(f.file).name,
                           "format": f.format, "sha256": sha256_file(f.file) if Path(f.file).is_file() else None,
                           "rows_read": f.rows_read,
                           "rows_loaded": f.rows_loaded, "rows_quarantined": f.rows_quarantined})
    policy_sha = sha256_file(policy.path) if policy.path and Path(policy.path).exists() else None
    over = quarantine_exceeded(ingest, max_quarantine)
    s = summarize(results, quarantine_exceeded=bool(over))
    lost = quarantine_by_table(ingest)
    return {
        "meta": {
            "tool": f"pledgecheck {__version__}",
            "policy": policy.id, "policy_name": policy.policy.name, "company": policy.policy.company,
            "policy_version": policy.policy.version, "policy_sha256": policy_sha, "as_of": as_of,
        },
        "summary": s.as_dict(),
        "quarantine": {"lines": quarantine_lines(ingest), "tables": lost, "max_rate": max_quarantine,
                       "exceeded": over},
        "inputs": inputs,
        "ingest": ingest.as_rows(),
        "pledges": [{**r.to_dict(), "quarantined": {t: lost[t]["rows_quarantined"] for t in r.tables if t in lost}}
                    for r in results],
        "unverifiable": [u.model_dump() for u in policy.unverifiable],
        "metrics": metrics or {},
        "lint": [{"kind": f.kind, "pledges": f.pledges, "message": f.message, "winner": f.winner,
                  "supersedes": f.supersedes,
                  "sections": [q[0] for q in f.quotes], "quotes": [q[1] for q in f.quotes]} for f in findings],
    }


def publish(out_root: str | Path, doc: dict, charts: bool = True, folders: dict[str, Path] | None = None,
            progress: Callable[[str, str], None] | None = None) -> Path:
    """The one writer of a run folder, for `run`, `validate` and `report`: results.json,
    results.parquet, report.html, and every file below each of `folders` ({prefix: local
    folder}: "" for the GX validation.json and data_docs/, "notebooks" for executed notebooks).
    Written atomically; returns the folder."""
    from .report import render_html

    if progress:
        progress("write", "report")
    extra: dict[str, bytes | str] = {}
    for prefix, folder in (folders or {}).items():
        for p in sorted(Path(folder).rglob("*")):
            if p.is_file():
                rel = p.relative_to(folder).as_posix()
                extra[f"{prefix}/{rel}" if prefix else rel] = p.read_bytes()
    extra["report.html"] = render_html(doc, charts=charts)
    return write_run(out_root, doc, extra)


def found_nothing(doc: dict) -> bool:
    """The run's ingestion found no table at all."""
    return not any(t.get("files") for t in doc.get("ingest") or [])


def write_run(out_root: str | Path, doc: dict, extra: dict[str, bytes | str] | None = None) -> Path:
    """Write `<out_root>/<policy>/<as_of>/` atomically; returns the final folder. A run whose
    ingestion found nothing never replaces an existing folder."""
    final = Path(out_root) / doc["meta"]["policy"] / doc["meta"]["as_of"]
    if found_nothing(doc) and final.exists():
        raise IngestError(f"the export holds no table of the contract; {final} is left as it was")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        (tmp / "results.json").write_text(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n",
                                          encoding="utf-8")
        rows = [{k: p.get(k) for k in COLUMNS} for p in doc["pledges"]]
        for r in rows:
            r["as_of"] = doc["meta"]["as_of"]
            r["policy_sha256"] = doc["meta"]["policy_sha256"]
        table = pa.Table.from_pylist(rows, schema=_schema())
        pq.write_table(table, tmp / "results.parquet", compression="zstd")
        for name, content in (extra or {}).items():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        if final.exists():
            old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _schema() -> pa.Schema:
    fields = [pa.field(c, ARROW_TYPES[t]) for c, t in COLUMNS.items()]
    return pa.schema(fields + [pa.field("as_of", pa.string()), pa.field("policy_sha256", pa.string())])


def load_results(folder: str | Path) -> dict:
    path = Path(folder) / "results.json"
    return json.loads(path.read_text(encoding="utf-8"))
