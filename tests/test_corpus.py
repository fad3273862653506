"""A named corpus of broken exports, each run through the whole tool (`pledgecheck run`).

Every case must end in a clear error naming the file, or in quarantined rows with their
reasons; the reconciliation (read = loaded + quarantined) holds per file; the command exits
with a documented code and never prints a bare stack trace; the export is left untouched.
"""
from __future__ import annotations

import gzip
import io
import json
import stat
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pledgecheck import tcf
from pledgecheck.cli import app
from pledgecheck.contract import load_contract

HEADER = "ticket_id,account_id,email,created_at,last_message_at,closed_at,channel,category,abuse_flag,body\n"
GOOD = "T1,a1,,2024-01-01T10:00:00Z,,,email,billing,,hello\n"


def tickets_csv(folder: Path, body: str, name: str = "support_tickets.csv", header: str = HEADER) -> None:
    (folder / name).write_bytes((header + body).encode("utf-8") if isinstance(body, str) else header.encode() + body)


def tickets_parquet(folder: Path, rows: list[dict], name: str = "support_tickets.parquet") -> None:
    cols = list(load_contract().table("support_tickets").columns)
    pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows]), folder / name)


def consent_jsonl(folder: Path, strings: list[str | None]) -> None:
    with open(folder / "consent_events.jsonl", "w", encoding="utf-8") as f:
        for i, s in enumerate(strings):
            f.write(json.dumps({"consent_id": f"c{i}", "subject_id": "a1", "purpose": "advertising",
                                "action": "granted", "ts": "2026-05-01T10:00:00Z", "source": "banner",
                                "jurisdiction": "EU", "tcf_string": s}) + "\n")


def _truncated_parquet(folder: Path) -> None:
    buf = io.BytesIO()
    cols = list(load_contract().table("support_tickets").columns)
    pq.write_table(pa.Table.from_pylist([{c: ("T1" if c == "ticket_id" else None) for c in cols}]), buf)
    (folder / "support_tickets.parquet").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])


def _truncated_gzip(folder: Path) -> None:
    data = gzip.compress((HEADER + GOOD * 2000).encode())
    (folder / "support_tickets.csv.gz").write_bytes(data[: len(data) // 2])


# name -> (build, table, expected): expected is {"error": substring} or
# {"read": n, "quarantined": n, "reasons": [substrings that must appear among the reasons]}
CASES = {
    "truncated-csv-mid-line": (lambda d: tickets_csv(d, GOOD + 'T2,a2,,2024-01-01T10:00:00Z,,,em'), "support_tickets",
                               {"read": 2, "quarantined": 1, "reasons": ["malformed CSV line"]}),
    "truncated-parquet": (_truncated_parquet, "support_tickets", {"error": "support_tickets.parquet: cannot read"}),
    "truncated-gzip": (_truncated_gzip, "support_tickets", {"error": "support_tickets.csv.gz"}),
    # the delimiter is detected: a semicolon file loads as it is
    "semicolon-delimiter": (lambda d: tickets_csv(d, GOOD.replace(",", ";"), header=HEADER.replace(",", ";")),
                            "support_tickets", {"read": 1, "quarantined": 0, "reasons": []}),
    "tab-file-with-comma-header": (lambda d: tickets_csv(d, GOOD.replace(",", "\t")), "support_tickets",
                                   {"read": 1, "quarantined": 1, "reasons": ["malformed CSV line: MISSING COLUMNS"]}),
    "unbalanced-quote": (lambda d: tickets_csv(d, GOOD + 'T2,"a2,,2024-01-01,,,email,c,,x\n' + GOOD.replace("T1", "T3")),
                         "support_tickets", {"read": 3, "quarantined": 1,
                                             "reasons": ["created_at: cannot read as timestamp"]}),
    "invalid-utf8": (lambda d: tickets_csv(d, GOOD.encode() + b"T2,a\xff\xfe,,2024-01-01,,,email,c,,x\n"),
                     "support_tickets", {"read": 2, "quarantined": 1, "reasons": ["malformed CSV line"]}),
    "missing-required-column": (lambda d: tickets_csv(d, "T1,a1\n", header="ticket_id,account_id\n"),
                                "support_tickets", {"error": "missing columns created_at"}),
    "extra-columns": (lambda d: tickets_csv(d, GOOD.rstrip("\n") + ",surprise\n", header=HEADER.rstrip("\n") + ",mood\n"),
                      "support_tickets", {"read": 1, "quarantined": 0, "reasons": []}),
    "wrong-types": (lambda d: tickets_csv(d, "T1,a1,,yesterday,,,email,c,maybe,x\n"), "support_tickets",
                    {"read": 1, "quarantined": 1, "reasons": ["created_at: cannot read as timestamp",
                                                               "abuse_flag: cannot read as boolean"]}),
    "null-keys": (lambda d: tickets_csv(d, ",a1,,2024-01-01,,,email,c,,x\n"), "support_tickets",
                  {"read": 1, "quarantined": 1, "reasons": ["ticket_id: required value missing"]}),
    "duplicate-ids-across-parts": (lambda d: (d.joinpath("support_tickets").mkdir(),
                                              tickets_csv(d / "support_tickets", GOOD, "p1.csv"),
                                              tickets_csv(d / "support_tickets", GOOD, "p2.csv")),
                                   "support_tickets", {"read": 2, "quarantined": 1, "reasons": ["duplicate key ticket_id"]}),
    "naive-and-mixed-offsets": (lambda d: tickets_csv(d, "T1,a1,,2024-03-31 01:30:00,,,email,c,,x\n"
                                                         "T2,a1,,2024-03-31T03:30:00+02:00,,,email,c,,x\n"
                                                         "T3,a1,,2024-03-31T01:30:00Z,,,email,c,,x\n"),
                                "support_tickets", {"read": 3, "quarantined": 0, "reasons": []}),
    "future-and-pre-1970-dates": (lambda d: tickets_csv(d, "T1,a1,,2999-01-01T00:00:00Z,,,email,c,,x\n"
                                                           "T2,a1,,1969-07-20T20:17:00Z,,,email,c,,x\n"),
                                  "support_tickets", {"read": 2, "quarantined": 0, "reasons": []}),
    "empty-file": (lambda d: (d / "support_tickets.csv").write_bytes(b""), "support_tickets",
                   {"read": 0, "quarantined": 0, "reasons": []}),
    "very-long-line": (lambda d: tickets_csv(d, GOOD + "T2,a1,,2024-01-01,,,email,c,," + "x" * 3_000_000 + "\n"
                                             + 'T3,a1,,2024-01-01,,,email,c,,"' + "y" * 3_000_000 + "\n"),
                       "support_tickets", {"read": 3, "quarantined": 0, "reasons": []}),
    "huge-numbers": (lambda d: (d / "orders.csv").write_text(
        "order_id,account_id,ordered_at,amount,currency,status\n"
        "O1,a1,2024-01-01,99999999999999999999999999999999999999999,EUR,paid\n"
        "O2,a1,2024-01-01,1e400,EUR,paid\n"
        "O3,a1,2024-01-01,12.5,EUR,paid\n", encoding="utf-8"),
        "orders", {"read": 3, "quarantined": 2, "reasons": ["amount: cannot read as decimal"]}),
    "tcf-strings-that-do-not-decode": (lambda d: consent_jsonl(d, [
        tcf.encode(datetime(2026, 5, 1), purposes_consent=[1, 3, 4])[:20], "not base64 at all!", None]),
        "consent_events", {"read": 3, "quarantined": 0, "reasons": []}),
    "parquet-wrong-types": (lambda d: tickets_parquet(d, [{"ticket_id": "T1", "created_at": "2024-01-01T00:00:00Z",
                                                           "abuse_flag": "perhaps"}]),
                            "support_tickets", {"read": 1, "quarantined": 1,
                                                "reasons": ["abuse_flag: cannot read as boolean"]}),
}


@pytest.fixture
def cli(monkeypatch, tmp_path):
    monkeypatch.setenv("PLEDGECHECK_SALT", "corpus-salt")
    return CliRunner()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _read_only(folder: Path) -> None:
    for p in [folder, *folder.rglob("*")]:
        p.chmod(stat.S_IREAD | (stat.S_IEXEC if p.is_dir() else 0))


def _writable(folder: Path) -> None:
    for p in [folder, *folder.rglob("*")]:
        p.chmod(stat.S_IRWXU)


@pytest.mark.parametrize("name", list(CASES))
def test_broken_export(name, cli, tmp_path):
    build, table, expected = CASES[name]
    export = tmp_path / name
    export.mkdir()
    build(export)
    before = _snapshot(export)
    _read_only(export)
    try:
        res = cli.invoke(app, ["run", "--policy", "lustmonster", "--export", str(export), "--as-of", "2026-11-01",
                               "--out", str(tmp_path / "reports"), "--no-charts"], catch_exceptions=False)
    finally:
        _writable(export)
    assert "Traceback" not in res.output
    # 3: a critical pledge could not be checked; 2: more than 1% of a table's rows were unreadable
    assert res.exit_code in (0, 1, 2, 3), res.output
    assert _snapshot(export) == before, "the export was modified"
    results = next((tmp_path / "reports").rglob("results.json"))
    doc = json.loads(results.read_text())
    rows = [r for r in doc["inputs"] if r["table"] == table]
    tables = {t["table"]: t for t in doc["ingest"]}
    t = tables[table]
    if "error" in expected:
        assert t["error"] and expected["error"] in t["error"], t
        assert str(export) in t["error"] or name in t["error"]
        # the pledges on that table say why they were not checked
        msgs = [p["message"] or "" for p in doc["pledges"] if table in p["tables"]]
        assert msgs and all(expected["error"] in m for m in msgs if m.startswith("not checked"))
        return
    assert not t["error"], t
    assert (t["rows_read"], t["rows_quarantined"]) == (expected["read"], expected["quarantined"]), t
    assert t["rows_read"] == t["rows_loaded"] + t["rows_quarantined"]
    assert (res.exit_code == 2) == (t["rows_quarantined"] > 0.01 * t["rows_read"]), res.output
    for f in rows:
        assert f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"]
    reasons = " | ".join(t["quarantine_reasons"])
    assert sum(t["quarantine_reasons"].values()) == t["rows_quarantined"]
    for r in expected["reasons"]:
        assert r in reasons, reasons
    if table == "consent_events":  # strings that do not decode are violations of the pledge, not crashes
        p = next(p for p in doc["pledges"] if p["pledge_id"] == "lustmonster.consent-logs-valid-tcf")
        assert (p["population"], p["violations"], p["status"]) == (2, 2, "broken")
        assert p["by_reason"] == {"truncated": 1, "not_base64url": 1}


def test_policy_with_wrong_units_is_a_clear_error(tmp_path, monkeypatch, capsys):
    import sys

    from pledgecheck.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: {id: bad, name: Bad}\npledges:\n  - id: bad.tickets\n    kind: retention\n"
                   "    check: retention\n    category: user\n    quote: q\n    section: s\n"
                   "    params: {table: support_tickets, from: created, period: 3 fortnights}\n", encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["pledgecheck", "run", "--policy", str(bad), "--export", str(tmp_path),
                                      "--out", str(tmp_path / "r")])
    with pytest.raises(SystemExit) as e:
        main()
    out = capsys.readouterr()
    text = " ".join((out.out + out.err).split())
    assert e.value.code == 2
    assert "Traceback" not in text
    assert "bad.yaml" in text and "params.period" in text and "3 fortnights" in text


def test_scheduler_gets_progress_lines(cli, tmp_path):
    """Without a terminal (cron, Airflow) progress is plain timestamped lines, ending each stage."""
    import re

    export = tmp_path / "e"
    export.mkdir()
    tickets_csv(export, GOOD)
    res = cli.invoke(app, ["run", "--policy", "xcams", "--export", str(export), "--out", str(tmp_path / "r"),
                           "--no-charts"], catch_exceptions=False)
    lines = [ln for ln in res.output.splitlines() if re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \+\d+s ", ln)]
    from pledgecheck.policy import load_policy, resolve_policy

    n = len(load_policy(resolve_policy("xcams")).pledges)   # the count follows the policy file
    assert any(" ingested " in ln for ln in lines) and any(re.search(rf" {n}/{n} checked ", ln) for ln in lines), res.output
