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
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__
from .ingest import IngestReport
from .lint import Finding
from .policy import Policy
from .runner import PledgeResult

SCALAR_COLUMNS = ("policy", "pledge_id", "kind", "check", "category", "severity", "section", "status",
                  "population", "violations", "exempt", "unknown", "open", "due_soon", "rate", "coverage",
                  "threshold", "effective", "superseded_by", "message")


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass
class RunSummary:
    kept: int
    broken: int
    not_checked: int
    errors: int
    critical_broken: list[str]
    critical_unchecked: list[str]

    @property
    def exit_code(self) -> int:
        if self.critical_broken:
            return 1
        if self.errors or self.critical_unchecked:
            return 3
        return 0


def summarize(results: list[PledgeResult]) -> RunSummary:
    eff = [r for r in results if r.effective]
    return RunSummary(
        kept=sum(r.status == "kept" for r in eff),
        broken=sum(r.status == "broken" for r in eff),
        not_checked=sum(r.status == "not_checked" for r in eff),
        errors=sum(r.status == "error" for r in eff),
        critical_broken=[r.pledge_id for r in eff if r.status == "broken" and r.severity == "critical"],
        critical_unchecked=[r.pledge_id for r in eff if r.status in ("not_checked", "error")
                            and r.severity == "critical"],
    )


def build_document(policy: Policy, as_of: str, results: list[PledgeResult], ingest: IngestReport,
                   findings: list[Finding], metrics: dict | None = None) -> dict:
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
    s = summarize(results)
    return {
        "meta": {
            "tool": f"pledgecheck {__version__}",
            "policy": policy.id, "policy_name": policy.policy.name, "company": policy.policy.company,
            "policy_version": policy.policy.version, "policy_sha256": policy_sha, "as_of": as_of,
        },
        "summary": {"kept": s.kept, "broken": s.broken, "not_checked": s.not_checked, "errors": s.errors,
                    "critical_broken": s.critical_broken, "critical_unchecked": s.critical_unchecked,
                    "exit_code": s.exit_code},
        "inputs": inputs,
        "ingest": ingest.as_rows(),
        "pledges": [r.to_dict() for r in results],
        "unverifiable": [u.model_dump() for u in policy.unverifiable],
        "metrics": metrics or {},
        "lint": [{"kind": f.kind, "pledges": f.pledges, "message": f.message, "winner": f.winner,
                  "supersedes": f.supersedes,
                  "sections": [q[0] for q in f.quotes], "quotes": [q[1] for q in f.quotes]} for f in findings],
    }


def write_run(out_root: str | Path, doc: dict, extra: dict[str, bytes | str] | None = None) -> Path:
    """Write `<out_root>/<policy>/<as_of>/` atomically; returns the final folder."""
    final = Path(out_root) / doc["meta"]["policy"] / doc["meta"]["as_of"]
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        (tmp / "results.json").write_text(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n",
                                          encoding="utf-8")
        rows = [{k: p.get(k) for k in SCALAR_COLUMNS} for p in doc["pledges"]]
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
    types = {"population": pa.int64(), "violations": pa.int64(), "exempt": pa.int64(), "unknown": pa.int64(),
             "open": pa.int64(), "due_soon": pa.int64(), "rate": pa.float64(), "coverage": pa.float64(),
             "threshold": pa.float64(), "effective": pa.bool_()}
    fields = [pa.field(c, types.get(c, pa.string())) for c in SCALAR_COLUMNS]
    return pa.schema(fields + [pa.field("as_of", pa.string()), pa.field("policy_sha256", pa.string())])


def load_results(folder: str | Path) -> dict:
    path = Path(folder) / "results.json"
    return json.loads(path.read_text(encoding="utf-8"))
