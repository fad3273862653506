"""Verdicts a privacy officer can sign (issue #21): a pledge with nothing in scope is never
"kept", superseded pledges say so and name the winner, the counts add up, rows lost to
quarantine are visible where people look, and bad runs (an export with no table, a forgotten
--export) fail loudly instead of checking the wrong thing."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pledgecheck import verdict
from pledgecheck.cli import app
from pledgecheck.results import publish, write_run

from conftest import write_table

HEADER = "ticket_id,account_id,email,created_at,last_message_at,closed_at,channel,category,abuse_flag,body\n"
AS_OF = "2026-11-01"


def _policy(folder: Path) -> Path:
    base = {"kind": "retention", "check": "retention", "category": "user.content", "severity": "critical"}
    doc = {"policy": {"id": "t", "name": "Test policy"}, "pledges": [
        {**base, "id": "t.tickets-24m", "quote": "Support tickets are kept 24 months", "section": "8.3 Support",
         "params": {"table": "support_tickets", "from": "last_communication", "period": "24 months"}},
        {**base, "id": "t.tickets-3y", "quote": "Correspondence is kept 3 years", "section": "16.1 Table",
         "params": {"table": "support_tickets", "from": "last_communication", "period": "3 years"}},
        {**base, "id": "t.orders-7y", "quote": "Orders are kept 7 years", "section": "9 Orders",
         "params": {"table": "orders", "from": "ordered", "period": "7 years"}},
    ]}
    path = folder / "t.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _tickets(rows: list[tuple[str, str]]) -> list[dict]:
    return [{"ticket_id": tid, "account_id": "a1", "created_at": ts, "last_message_at": ts, "channel": "email",
             "category": "billing", "body": "x"} for tid, ts in rows]


def _run(tmp_path: Path, export: Path, *extra: str):
    res = CliRunner().invoke(app, ["run", "--policy", str(_policy(tmp_path)), "--export", str(export),
                                   "--as-of", AS_OF, "--out", str(tmp_path / "out"), "--salt", "s", "--no-charts",
                                   *extra], catch_exceptions=False)
    doc = json.loads((tmp_path / "out" / "t" / AS_OF / "results.json").read_text()) \
        if (tmp_path / "out" / "t" / AS_OF / "results.json").exists() else None
    return res, doc


def _by_id(doc: dict) -> dict:
    return {p["pledge_id"]: p for p in doc["pledges"]}


def _counts_line(text: str) -> dict[str, int]:
    line = next(ln for ln in text.splitlines() if "as of" in ln and "kept" in ln)
    got = {k: int(n) for n, k in re.findall(r"(\d+) (kept|broken|superseded|not checked|no data)", line)}
    got["total"] = int(re.search(r"of (\d+) pledges", line).group(1))
    return got


def test_a_header_only_table_is_no_data_not_kept(tmp_path):
    """Before: 0 records in scope made a pledge 'kept' (and the run exit 0)."""
    export = tmp_path / "export"
    export.mkdir()
    (export / "support_tickets.csv").write_text(HEADER, encoding="utf-8")
    res, doc = _run(tmp_path, export)
    p = _by_id(doc)["t.tickets-24m"]
    assert p["status"] == "no_data" and p["population"] == 0, p
    assert "0 records in scope" in p["message"]
    assert doc["summary"]["kept"] == 0 and doc["summary"]["no_data"] == 1
    assert "t.tickets-24m" in doc["summary"]["critical_unchecked"]
    assert res.exit_code == 3, res.output            # like not_checked for a critical pledge
    assert "no data tickets-24m: nothing to check" in " ".join(res.output.split())


def test_superseded_pledges_name_the_winner_and_counts_add_up(tmp_path):
    export = tmp_path / "export"
    write_table(export, "support_tickets", _tickets([("T1", "2020-01-01T00:00:00Z"), ("T2", "2026-10-01T00:00:00Z")]))
    res, doc = _run(tmp_path, export)
    by = _by_id(doc)
    assert by["t.tickets-24m"]["status"] == "broken"
    loser = by["t.tickets-3y"]
    assert loser["status"] == "superseded" and loser["superseded_by"] == "t.tickets-24m"
    assert loser["violations"] == 1            # measured anyway, for the record
    assert by["t.orders-7y"]["status"] == "not_checked"
    s = doc["summary"]
    assert (s["kept"], s["broken"], s["superseded"], s["not_checked"], s["no_data"]) == (0, 1, 1, 1, 0)
    assert sum(s[k] for k in verdict.COUNTED) == s["total"] == 3
    assert _counts_line(res.output) == {"kept": 0, "broken": 1, "superseded": 1, "not checked": 1, "no data": 0,
                                        "total": 3}
    assert res.exit_code == 1


def test_report_first_screen_counts_add_up_and_name_the_broken_pledge(tmp_path):
    export = tmp_path / "export"
    write_table(export, "support_tickets", _tickets([("T1", "2020-01-01T00:00:00Z")]))
    res, doc = _run(tmp_path, export)
    html = (tmp_path / "out" / "t" / AS_OF / "report.html").read_text()
    first = html[:html.index("Pledges at a glance")]
    for k in verdict.COUNTED:
        assert f'<b class="st {k}">{doc["summary"][k]}</b><span>{verdict.label(k)}</span>' in first
    assert "= 3 pledges in the policy" in first
    assert "Support tickets are kept 24 months" in first and "8.3 Support" in first and "100.00%" in first
    assert "Tables not exported:" not in html and "NEEDS CONTRACT" not in html


def test_quarantined_rows_are_shown_and_fail_the_run_past_the_limit(tmp_path):
    """Before: run said nothing about unreadable rows while a pledge's scope shrank."""
    export = tmp_path / "export"
    rows = _tickets([(f"T{i}", "2026-10-01T00:00:00Z") for i in range(20)])
    rows[3]["created_at"] = rows[3]["last_message_at"] = "not a date"
    write_table(export, "support_tickets", rows)
    res, doc = _run(tmp_path, export)
    out = " ".join(res.output.split())
    assert re.search(r"quarantined 1 row of support_tickets \(support_tickets\.csv\): \S", out), out
    assert doc["quarantine"]["lines"][0] == {"table": "support_tickets", "file": "support_tickets.csv",
                                             "reason": doc["quarantine"]["lines"][0]["reason"], "rows": 1}
    assert _by_id(doc)["t.tickets-24m"]["quarantined"] == {"support_tickets": 1}
    assert res.exit_code == 2 and doc["summary"]["exit_code"] == 2      # 5% > the default 1%
    html = (tmp_path / "out" / "t" / AS_OF / "report.html").read_text()
    first = html[:html.index("Pledges at a glance")]
    assert "Rows that could not be read" in first and "support_tickets.csv" in first
    assert "1 row of support_tickets could not be read: the verdict may change" in html
    res, doc = _run(tmp_path, export, "--max-quarantine", "0.10")
    assert res.exit_code == 3 and doc["quarantine"]["exceeded"] == []      # orders missing: not checked


@pytest.mark.parametrize("command", ["run", "ingest", "report", "validate"])
def test_a_folder_with_no_table_is_one_error_line_and_exit_2(tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.txt").write_text("not an export")
    args = {"ingest": ["ingest", str(empty), "--db", str(tmp_path / "x.duckdb")]}.get(
        command, [command, "--policy", "xcams", "--export", str(empty), "--as-of", AS_OF, "--out",
                  str(tmp_path / "out"), "--salt", "s"])
    res = CliRunner().invoke(app, args)
    # the app raises the one-line error; cli.main prints it and exits 2 (see the next test)
    from pledgecheck.errors import IngestError

    assert isinstance(res.exception, IngestError), res.output
    assert "no export file found" in str(res.exception) and str(empty) in str(res.exception)
    assert not (tmp_path / "out" / "xcams").exists()


def test_no_table_error_through_main_is_one_line(tmp_path):
    import subprocess
    import sys

    empty = tmp_path / "empty"
    empty.mkdir()
    r = subprocess.run([sys.executable, "-m", "pledgecheck.cli", "run", "--policy", "xcams", "--export", str(empty),
                        "--out", str(tmp_path / "out"), "--salt", "s"], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"})
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "no export file found" in lines[0] and str(empty) in lines[0], r.stderr


def test_a_run_that_found_nothing_never_replaces_an_existing_folder(tmp_path):
    folder = tmp_path / "t" / AS_OF
    folder.mkdir(parents=True)
    (folder / "results.json").write_text("{}")
    doc = {"meta": {"policy": "t", "as_of": AS_OF}, "ingest": [{"table": "orders", "files": 0}], "pledges": []}
    from pledgecheck.errors import IngestError

    with pytest.raises(IngestError, match="left as it was"):
        write_run(tmp_path, doc)
    assert (folder / "results.json").read_text() == "{}"
    assert publish is not None


@pytest.mark.parametrize("command", ["run", "report", "validate"])
def test_export_is_required(command, tmp_path):
    """Before: a cron job that forgot --export silently checked the synthetic sample."""
    res = CliRunner().invoke(app, [command, "--policy", "xcams", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "--export" in res.output


def test_as_of_defaults_to_today_and_is_printed(tmp_path):
    export = tmp_path / "export"
    write_table(export, "support_tickets", _tickets([("T1", "2026-10-01T00:00:00Z")]))
    res = CliRunner().invoke(app, ["run", "--policy", str(_policy(tmp_path)), "--export", str(export),
                                   "--out", str(tmp_path / "out"), "--salt", "s", "--no-charts"])
    today = date.today().isoformat()
    assert f"as of {today}" in res.output, res.output
    assert (tmp_path / "out" / "t" / today / "results.json").exists()


def test_gx_treats_no_data_as_not_checkable(tmp_path):
    from pledgecheck.policy import load_policy
    from pledgecheck.validation import ingest_frame, pledge_frame, validate_frames

    export = tmp_path / "export"
    export.mkdir()
    (export / "support_tickets.csv").write_text(HEADER, encoding="utf-8")
    _run(tmp_path, export)
    doc = json.loads((tmp_path / "out" / "t" / AS_OF / "results.json").read_text())
    outcome = validate_frames(load_policy(_policy(tmp_path)), pledge_frame(doc["pledges"]),
                              ingest_frame(doc["ingest"]))
    failed = {(r["pledge_id"], r["assertion"]) for r in outcome.failures}
    assert ("t.tickets-24m", "checkable") in failed
    assert outcome.exit_code == 1


def test_one_status_rule():
    assert verdict.measured_status(0, 0, None, None) == "no_data"
    assert verdict.measured_status(0, 5, 1.0, None) == "kept"
    assert verdict.measured_status(1, 5, 0.8, None) == "broken"
    assert verdict.measured_status(1, 5, 0.8, 0.75) == "kept"
    assert verdict.measured_status(2, 5, 0.6, 0.75) == "broken"
    assert list(verdict.ORDER)[0] == "broken" and list(verdict.ORDER)[-1] == "kept"
    s = verdict.summarize([{"pledge_id": "a", "severity": "critical", "status": "error"},
                           {"pledge_id": "b", "severity": "warning", "status": "kept"}])
    assert s.not_checked == 1 and s.total == 2 and s.exit_code == 3


def test_result_columns_are_listed_once():
    """results.parquet, the GX frame and the notebooks' frame all derive from PledgeResult."""
    from pledgecheck import notebook, results, validation

    names = [f.name for f in results._schema()]
    assert names[:len(verdict.COLUMNS)] == list(verdict.COLUMNS)
    assert set(validation.PLEDGE_COLUMNS) <= set(verdict.COLUMNS)
    assert tuple(notebook.SCALARS) == tuple(verdict.COLUMNS)
    assert "tables" not in verdict.COLUMNS and "status" in verdict.COLUMNS


def test_one_writer_of_the_run_folder():
    """run, validate and report all write their folder through results.publish (issue #20)."""
    import inspect

    from pledgecheck import cli, pipeline, results, scheduled, validation

    for mod in (pipeline, validation, scheduled, cli):
        src = inspect.getsource(mod)
        assert "write_run(" not in src and "render_html(" not in src, mod.__name__
    assert "write_run(" in inspect.getsource(results.publish)


def test_internal_notes_and_empty_labels_read_for_a_privacy_officer():
    from pledgecheck.report import reader_note, render_html

    assert reader_note("NEEDS CONTRACT: no referral table.") == "The export holds no data for this: no referral table."
    doc = {"meta": {"policy": "t", "policy_name": "T", "as_of": AS_OF, "company": None, "policy_version": None,
                    "policy_sha256": None, "tool": "pledgecheck"},
           "summary": verdict.summarize([]).as_dict(), "pledges": [],
           "unverifiable": [{"section": "4", "quote": "We reward referrals", "reason": "NEEDS CONTRACT: no referral table."}],
           "ingest": [{"table": "orders", "files": 1, "error": None, "rows_read": 1, "rows_loaded": 1,
                       "rows_quarantined": 0}], "lint": []}
    html = render_html(doc, charts=False)
    assert "NEEDS CONTRACT" not in html and "The export holds no data for this: no referral table." in html
    assert "Tables not exported" not in html and "Tables the export does not contain" not in html   # none missing


def test_monthly_charts_name_the_year_and_each_chart_keeps_its_legend():
    from pledgecheck.charts import pledge_chart

    p = {"status": "broken", "population": 30, "check": "consent_coverage", "violations": 3,
         "by_period": [{"period": f"2025-{m:02d}-01", "population": 10, "violations": 1} for m in (11, 12)]
         + [{"period": "2026-01-01", "population": 10, "violations": 1}],
         "histogram": [{"bin_start": 0.0, "bin_width": 50.0, "violations": 3, "others": 27}], "by_segment": []}
    spec = pledge_chart(p).to_dict()
    month = spec["vconcat"][0]["encoding"]["x"]
    assert "%Y" in month["axis"]["format"] and month["timeUnit"] == "yearmonth"
    assert spec["resolve"]["scale"]["color"] == "independent"
    hist = spec["vconcat"][1]["encoding"]
    assert hist["x"]["axis"]["labelOverlap"] and hist["color"]["legend"]["orient"] == "right"
