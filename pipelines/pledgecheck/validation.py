"""Great Expectations suites generated from the pledges, and the validation of a run.

The checks (DuckDB) compute; GX asserts invariants on their compact results:

- suite `<policy>.pledges`, over the per-pledge results frame (one row per pledge: pledge_id,
  status, violations, coverage, population, severity ...). For every pledge in force:
  * `violations` at most 0 (row_condition selects the pledge), or, for a consent pledge with a
    threshold below 1, `coverage` at least the threshold (verdict.threshold_rule: the
    runner's rule for "kept", written once);
  * `status` in {kept, broken}: the pledge could be checked at all (not `not_checked`,
    `error`, nor `no_data`: 0 records in scope is nothing to sign off).
  Plus one suite-level expectation: every pledge of the policy has a result row.
  Each expectation's meta carries the pledge id, severity, quote and section, so a failure in
  Data Docs reads as "this promise, in the policy's own words, is broken".
- suite `<policy>.ingestion`, over the ingestion summary (one row per table): rows read =
  rows loaded + rows quarantined (critical), quarantined share <= 1% (warning), every file
  readable (warning).

Both frames hold pledge ids, table names, counts and rates only: never a raw row, so neither
GX results nor Data Docs can carry personal data. The suites are generated, never hand-written:
`pledgecheck expectations` writes them to expectations/<policy>.json (reviewable, committed;
tests/test_validation.py fails when they are stale).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import paths
from .ingest import IngestReport
from .lint import lint_policy, superseded
from .checks import get as get_check
from .policy import Policy
from .verdict import COLUMNS, MAX_QUARANTINE, MEASURED, PledgeResult, threshold_rule

if TYPE_CHECKING:  # pipeline imports duckdb; keep this module importable on its own
    from .pipeline import Run

EXPECTATIONS_DIR = paths.expectations_dir()
SEVERITIES = ("critical", "warning")
CHECKABLE = list(MEASURED)              # a pledge in force could be measured: kept or broken
MAX_QUARANTINE_SHARE = MAX_QUARANTINE
# the result columns (verdict.COLUMNS) minus free text: a failed check's message may quote a value
PLEDGE_COLUMNS = tuple(c for c in COLUMNS if c not in ("message", "quote"))
GENERATED_BY = "pledgecheck expectations (generated from the policy; do not edit by hand)"


# ---------------------------------------------------------------- the frames GX validates
def pledge_frame(results: list[PledgeResult] | list[dict]) -> pd.DataFrame:
    """One row per pledge, counts and rates only (pandas: GX has no polars support)."""
    rows = [r.to_dict() if isinstance(r, PledgeResult) else r for r in results]
    df = pd.DataFrame([{c: r.get(c) for c in PLEDGE_COLUMNS} for r in rows], columns=list(PLEDGE_COLUMNS))
    for c in (c for c in PLEDGE_COLUMNS if COLUMNS[c] == "int"):
        df[c] = df[c].fillna(0).astype("int64")
    for c in (c for c in PLEDGE_COLUMNS if COLUMNS[c] == "float"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["effective"] = df["effective"].fillna(True).astype(bool)
    return df


def ingest_frame(ingest: IngestReport | list[dict]) -> pd.DataFrame:
    """One row per table that was in the export (files found or unreadable): counts only.

    A read error's text is not carried (a parser message can quote a raw line); `readable`
    says whether there was one.
    """
    rows = ingest.as_rows() if isinstance(ingest, IngestReport) else ingest
    out = []
    for r in rows:
        if not (r["files"] or r["error"]):
            continue
        read = int(r["rows_read"])
        out.append({"table": r["table"], "files": int(r["files"]), "rows_read": read,
                    "rows_loaded": int(r["rows_loaded"]), "rows_quarantined": int(r["rows_quarantined"]),
                    "rows_accounted": int(r["rows_loaded"]) + int(r["rows_quarantined"]),
                    "quarantine_share": (int(r["rows_quarantined"]) / read) if read else 0.0,
                    "readable": not r["error"]})
    cols = ["table", "files", "rows_read", "rows_loaded", "rows_quarantined", "rows_accounted",
            "quarantine_share", "readable"]
    return pd.DataFrame(out, columns=cols)


# ---------------------------------------------------------------- suites, generated from the pledges
def _spec(type_: str, kwargs: dict, severity: str, meta: dict, notes: str) -> dict:
    return {"type": type_, "kwargs": kwargs, "severity": severity, "meta": {**meta, "severity": severity},
            "notes": notes}


def _where(pid: str) -> dict:
    # the serialized form of gx Column("pledge_id") == pid (pledge ids are validated slugs)
    return {"type": "comparison", "column": {"name": "pledge_id"}, "operator": "==", "parameter": pid}


def suite_specs(policy: Policy) -> list[dict]:
    """The two suites of a policy as GX suite dictionaries (deterministic: no ids)."""
    out_of_force = superseded(lint_policy(policy))
    pledges: list[dict] = []
    for p in policy.pledges:
        if p.id in out_of_force:  # a stricter contradicting pledge is the one in force
            continue
        meta = {"pledge_id": p.id, "quote": p.quote, "section": p.section, "kind": p.kind, "check": p.check}
        cite = f"{p.id} ({p.section}): \u201c{p.quote}\u201d"
        where = _where(p.id)
        column, bound, side = threshold_rule(get_check(p.check).threshold(p.params))
        if side == "min":
            pledges.append(_spec(
                "expect_column_values_to_be_between",
                {"column": column, "min_value": bound, "row_condition": where},
                p.severity, {**meta, "assertion": "coverage_at_least_threshold"},
                f"{cite}: at least {bound:.2%} of the in-scope records are covered."))
        else:
            pledges.append(_spec(
                "expect_column_values_to_be_between",
                {"column": column, "max_value": bound, "row_condition": where},
                p.severity, {**meta, "assertion": "zero_violations"}, f"{cite}: no record is in breach."))
        pledges.append(_spec(
            "expect_column_values_to_be_in_set",
            {"column": "status", "value_set": CHECKABLE, "row_condition": where},
            p.severity, {**meta, "assertion": "checkable"},
            f"{cite}: the pledge could be checked (its exports are present, hold records in scope, "
            "and the check ran)."))
    pledges.append(_spec(
        "expect_column_distinct_values_to_equal_set",
        {"column": "pledge_id", "value_set": sorted(p.id for p in policy.pledges)},
        "critical", {"pledge_id": None, "assertion": "every_pledge_has_a_result"},
        "Every pledge of the policy has a result row (none silently skipped)."))
    ingestion = [
        _spec("expect_column_pair_values_to_be_equal", {"column_A": "rows_read", "column_B": "rows_accounted"},
              "critical", {"pledge_id": None, "assertion": "reconciliation"},
              "Per table: rows read = rows loaded + rows quarantined (no row silently dropped)."),
        _spec("expect_column_values_to_be_between",
              {"column": "quarantine_share", "max_value": MAX_QUARANTINE_SHARE},
              "warning", {"pledge_id": None, "assertion": "quarantine_share"},
              f"Per table: at most {MAX_QUARANTINE_SHARE:.0%} of the rows read are quarantined as malformed."),
        _spec("expect_column_values_to_be_in_set", {"column": "readable", "value_set": [True]},
              "warning", {"pledge_id": None, "assertion": "readable"}, "Every export file could be read."),
    ]
    version = _gx_version()
    return [
        {"name": f"{policy.id}.pledges", "expectations": pledges, "notes": None,
         "meta": {"great_expectations_version": version, "policy": policy.id, "frame": "pledge results",
                  "superseded": dict(sorted(out_of_force.items()))}},
        {"name": f"{policy.id}.ingestion", "expectations": ingestion, "notes": None,
         "meta": {"great_expectations_version": version, "policy": policy.id, "frame": "ingestion summary"}},
    ]


def _gx_version() -> str:
    from importlib.metadata import version

    return version("great-expectations")


def render_expectations(policy: Policy) -> str:
    """The committed JSON of a policy's suites (stable bytes for the staleness test)."""
    doc = {"generated_by": GENERATED_BY, "policy": policy.id, "policy_version": policy.policy.version,
           "suites": suite_specs(policy)}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expectations_path(policy_id: str, folder: Path = EXPECTATIONS_DIR) -> Path:
    return Path(folder) / f"{policy_id}.json"


def write_expectations(policies: list[Policy], folder: str | Path = EXPECTATIONS_DIR,
                       prune: bool = True) -> list[Path]:
    """Write expectations/<policy>.json for each policy; with `prune`, remove generated files
    of policies that are gone. Returns the files that changed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    changed = []
    for pol in policies:
        path = expectations_path(pol.id, folder)
        text = render_expectations(pol)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
            changed.append(path)
    if prune:
        keep = {expectations_path(p.id, folder) for p in policies}
        for path in folder.glob("*.json"):
            if path not in keep and _is_generated(path):
                path.unlink()
                changed.append(path)
    return changed


def _is_generated(path: Path) -> bool:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("generated_by") == GENERATED_BY
    except (OSError, ValueError, AttributeError):
        return False


# ---------------------------------------------------------------- running the suites
@dataclass
class ValidationOutcome:
    passed: dict[str, bool]                       # severity -> every expectation of it passed
    results: list[dict] = field(default_factory=list)
    data_docs: Path | None = None

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.results if not r["success"]]

    @property
    def exit_code(self) -> int:
        """1 when a critical expectation failed, else 0."""
        return 0 if self.passed.get("critical", True) else 1

    def to_dict(self) -> dict:
        return {"passed": self.passed, "exit_code": self.exit_code,
                "failed": sorted({r["pledge_id"] or r["assertion"] for r in self.failures}),
                "results": self.results}


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    warnings.filterwarnings("ignore", module="great_expectations")
    warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*(condition|GX Core).*")


def _build_suite(gx, spec: dict):
    from great_expectations.expectations.row_conditions import Column

    exps = []
    for e in spec["expectations"]:
        cls = _expectation_class(e["type"])
        kwargs = dict(e["kwargs"])
        rc = kwargs.pop("row_condition", None)
        if rc is not None:
            kwargs["row_condition"] = Column(rc["column"]["name"]) == rc["parameter"]
        exps.append(cls(**kwargs, severity=e["severity"], meta=e["meta"], notes=e.get("notes")))
    return gx.ExpectationSuite(name=spec["name"], expectations=exps, meta=spec["meta"])


def _expectation_class(type_: str):
    import great_expectations.expectations as gxe

    name = "".join(part.capitalize() for part in type_.split("_"))
    return getattr(gxe, name)


def validate_frames(policy: Policy, pledges: pd.DataFrame, ingestion: pd.DataFrame,
                    out_dir: str | Path | None = None, run_name: str | None = None) -> ValidationOutcome:
    """Run the policy's suites over the two frames in an ephemeral GX context (nothing is kept
    in a gx/ folder); with `out_dir`, build Data Docs into <out_dir>/data_docs/ and write
    <out_dir>/validation.json."""
    _quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    specs = suite_specs(policy)
    with tempfile.TemporaryDirectory(prefix="pledgecheck-gx-") as tmp:
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        site = Path(tmp) / "data_docs"
        actions = []
        if out_dir is not None:
            ctx.add_data_docs_site(site_name="run", site_config={
                "class_name": "SiteBuilder", "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
            actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=["run"])]
        ds = ctx.data_sources.add_pandas("pledgecheck")
        frames = {"pledges": pledges, "ingestion": ingestion}
        definitions = []
        for spec, (asset_name, frame) in zip(specs, frames.items()):
            asset = ds.add_dataframe_asset(asset_name)
            batch = asset.add_batch_definition_whole_dataframe(asset_name)
            suite = ctx.suites.add(_build_suite(gx, spec))
            definitions.append((ctx.validation_definitions.add(
                gx.ValidationDefinition(name=spec["name"], data=batch, suite=suite)), frame))
        results: list[dict] = []
        for vd, frame in definitions:
            # one checkpoint per frame: each validation gets its own dataframe batch
            cp = ctx.checkpoints.add(gx.Checkpoint(
                name=f"{vd.name}.checkpoint", validation_definitions=[vd], actions=actions,
                result_format="SUMMARY"))  # a checkpoint's result format is its field, not a run() argument
            res = cp.run(batch_parameters={"dataframe": frame},
                         run_id=gx.RunIdentifier(run_name=run_name or vd.name))
            for vr in res.run_results.values():
                for er in vr.results:
                    results.append(_compact(vd.name, er))
        passed = {s: all(r["success"] for r in results if r["severity"] == s) for s in SEVERITIES}
        outcome = ValidationOutcome(passed=passed, results=results)
        if out_dir is not None:
            out = Path(out_dir)
            out.mkdir(parents=True, exist_ok=True)
            target = out / "data_docs"
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(site, target)
            prune_static(target)
            outcome.data_docs = target
            (out / "validation.json").write_text(
                json.dumps(outcome.to_dict(), indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return outcome


def _compact(suite: str, er: Any) -> dict:
    """One expectation result as counts: never the frame's rows."""
    cfg = er.expectation_config
    meta = dict(cfg.meta or {})
    res = er.result or {}
    observed = res.get("observed_value")
    if observed is None and res.get("partial_unexpected_list"):
        observed = res["partial_unexpected_list"][0]
    return {"suite": suite, "expectation": cfg.type, "column": cfg.kwargs.get("column") or cfg.kwargs.get("column_A"),
            "pledge_id": meta.get("pledge_id"), "assertion": meta.get("assertion"),
            "severity": meta.get("severity", "critical"), "success": bool(er.success),
            "element_count": res.get("element_count"), "unexpected_count": res.get("unexpected_count"),
            "observed": _jsonable(observed)}


def _jsonable(v: Any) -> Any:
    if isinstance(v, (list, tuple, set)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "item"):
        return v.item()
    return v


def validate(run: Run, out_dir: str | Path | None) -> ValidationOutcome:
    """Validate a finished run (see pipeline.check_export); Data Docs go to <out_dir>/data_docs/."""
    return validate_frames(run.policy, pledge_frame(run.results), ingest_frame(run.ingest), out_dir,
                           run_name=run.as_of.isoformat())


def validate_document(policy: Policy, doc: dict, out_dir: str | Path | None) -> ValidationOutcome:
    """The same over a results document (results.json of an earlier run)."""
    return validate_frames(policy, pledge_frame(doc["pledges"]), ingest_frame(doc["ingest"]), out_dir,
                           run_name=doc["meta"]["as_of"])


def write_validated_run(run: Run, out_root: str | Path, charts: bool = True,
                        progress=None) -> tuple[Path, ValidationOutcome]:
    """The dated run folder of `pledgecheck run` plus validation.json and data_docs/, written
    atomically in one step (validation runs in a temporary folder first)."""
    from .pipeline import write_report

    with tempfile.TemporaryDirectory(prefix="pledgecheck-validate-") as tmp:
        outcome = validate(run, tmp)
        write_report(run, out_root, charts=charts, folders={"": Path(tmp)}, progress=progress)
    outcome.data_docs = run.folder / "data_docs"
    return run.folder, outcome


def prune_static(site: Path) -> None:
    """Drop GX's tutorial images and fonts no page refers to (about 4 MB per run)."""
    texts = "".join(p.read_text(encoding="utf-8", errors="replace") for p in site.rglob("*")
                    if p.is_file() and p.suffix in (".html", ".css", ".js"))
    for p in sorted((site / "static").rglob("*")):
        if p.is_file() and p.name not in texts:
            p.unlink()
