"""Shared helpers: tiny hand-built exports and one-call evaluation of pledges over them."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from pledgecheck.contract import load_contract
from pledgecheck.engine import connect
from pledgecheck.ingest import ingest
from pledgecheck.policy import parse_policy
from pledgecheck.runner import run_policy

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"


def write_table(folder: Path, table: str, rows: list[dict], fmt: str = "csv") -> Path:
    """Write rows for a contract table with every contract column (missing values empty)."""
    cols = list(load_contract().table(table).columns)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}.{fmt}"
    if fmt == "csv":
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            for r in rows:
                unknown = set(r) - set(cols)
                assert not unknown, f"test bug: {unknown} not in {table}"
                w.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in cols})
    elif fmt == "jsonl":
        import json

        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps({c: r.get(c) for c in cols}) + "\n")
    return path


def edge_case(tmp_path: Path, tables: dict[str, list[dict]], pledges: list[dict], calendar: str | None = None):
    """A hand-built case: `tables` written as CSV into an export folder, and a policy `t` of
    `pledges` (ids prefixed `t.`). Returns (export folder, policy)."""
    export = tmp_path / "export"
    for name, rows in tables.items():
        write_table(export, name, rows)
    policy = parse_policy({
        "policy": {"id": "t", "name": "test", "calendar": calendar},
        "pledges": [{"kind": "retention", "category": "user", "quote": "q", "section": "s", **p,
                     "id": f"t.{p['id']}"} for p in pledges],
    }, "test")
    return export, policy


def evaluate(tmp_path: Path, tables: dict[str, list[dict]], pledges: list[dict], as_of: date,
             calendar: str | None = None, salt: str = "test-salt") -> dict:
    """Ingest `tables` (written as CSV), run `pledges`; returns {pledge suffix: PledgeResult}."""
    export, policy = edge_case(tmp_path, tables, pledges, calendar)
    con = connect()
    rep = ingest(con, export)
    assert rep.reconciles()
    assert not rep.errors, rep.errors
    present = rep.present | {"legal_holds"}
    results = run_policy(con, policy, as_of, salt, present)
    for r in results:
        assert r.status != "error", r.message
    return {r.pledge_id.removeprefix("t."): r for r in results}


@pytest.fixture
def evaluate_in(tmp_path):
    def run(tables, pledges, as_of, calendar=None):
        return evaluate(tmp_path, tables, pledges, as_of, calendar)
    return run


# Property tests explore a fixed set of examples in CI (a gate must not flip on a random draw);
# run `pytest --hypothesis-profile=explore` locally to search further.
from hypothesis import settings as _hsettings  # noqa: E402

_hsettings.register_profile("ci", derandomize=True, deadline=None)
_hsettings.register_profile("explore", max_examples=500, deadline=None)
_hsettings.load_profile("ci")
