"""The Great Expectations suites: generated from the pledges, committed up to date, able to fail
(exactly on the broken pledges), and leaking no personal data into Data Docs or results."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from conftest import write_table
from typer.testing import CliRunner

from pledgecheck import validation as V
from pledgecheck.lint import lint_policy, superseded
from pledgecheck.policy import load_all_bundled, load_policy, resolve_policy

AS_OF = date(2026, 11, 1)
SALT = "test-salt"

# A tiny company: one pledge per family the notebooks show, written as a policy file.
TINY_POLICY = {
    "policy": {"id": "tiny", "name": "Tiny Co privacy policy", "company": "Tiny Co", "version": "1"},
    "pledges": [
        {"id": "tiny.tickets-3y", "kind": "retention", "check": "retention", "category": "user.content",
         "params": {"table": "support_tickets", "from": "created", "period": "3 years"}, "severity": "critical",
         "quote": "We keep support tickets for 3 years.", "section": "Retention"},
        {"id": "tiny.marketing-optin", "kind": "consent", "check": "consent_coverage",
         "category": "user.contact.email", "severity": "critical",
         "params": {"table": "marketing_sends", "purpose": "marketing_email", "threshold": 0.75},
         "quote": "We only send marketing to people who opted in.", "section": "Marketing"},
        {"id": "tiny.access-1m", "kind": "request_deadline", "check": "deadline", "category": "user",
         "params": {"table": "data_subject_requests", "start": "received", "end": "completed", "limit": "1 month"},
         "severity": "critical", "quote": "We answer within one month.", "section": "Your rights"},
        {"id": "tiny.ip-truncated", "kind": "anonymization", "check": "ip_truncation",
         "category": "user.device.ip_address", "params": {"table": "web_access_logs"}, "severity": "warning",
         "quote": "IP addresses in our logs are anonymized.", "section": "Analytics"},
        {"id": "tiny.cells-k5", "kind": "anonymization", "check": "k_anonymity", "category": "user",
         "params": {"table": "shared_aggregates", "k": 5}, "severity": "critical",
         "quote": "Statistics we share never describe fewer than five members.", "section": "Partners"},
    ],
}
# personal data in the inputs that must never reach an output
EMAILS = ["alice.liddell@example.org", "bob.builder@example.net"]
IPS = ["203.0.113.77", "198.51.100.23"]
BROKEN = {"tiny.tickets-3y", "tiny.marketing-optin", "tiny.ip-truncated", "tiny.cells-k5"}


def build_world(folder: Path, broken: bool) -> Path:
    """A clean export (every pledge kept) or the same with one planted breach per broken pledge."""
    tickets = [
        {"ticket_id": "T1", "account_id": "A1", "email": EMAILS[0], "created_at": "2025-06-01T10:00:00Z",
         "body": f"please call me, my IP is {IPS[1]}"},
        {"ticket_id": "T2", "account_id": "A2", "email": EMAILS[1], "created_at": "2024-02-01T10:00:00Z"},
    ]
    if broken:  # created more than 3 years before the as-of date
        tickets.append({"ticket_id": "T3", "account_id": "A1", "email": EMAILS[0],
                        "created_at": "2021-01-05T10:00:00Z"})
    write_table(folder, "support_tickets", tickets)
    write_table(folder, "consent_events", [
        {"consent_id": f"C{i}", "subject_id": f"A{i}", "purpose": "marketing_email", "action": "granted",
         "ts": "2026-01-01T00:00:00Z", "jurisdiction": "EU"} for i in range(1, 5)])
    sends = [{"send_id": f"S{i}", "account_id": f"A{i}", "sent_at": "2026-03-01T00:00:00Z", "channel": "email",
              "jurisdiction": "EU"} for i in range(1, 5)]
    if broken:  # 3 sends without consent: coverage 4/7 < 75%
        sends += [{"send_id": f"S{i}", "account_id": f"A{i}", "sent_at": "2026-04-01T00:00:00Z",
                   "channel": "email", "jurisdiction": "UK"} for i in range(5, 8)]
    write_table(folder, "marketing_sends", sends)
    write_table(folder, "data_subject_requests", [
        {"request_id": "R1", "account_id": "A1", "request_type": "access", "jurisdiction": "EU",
         "received_at": "2026-09-01T09:00:00Z", "completed_at": "2026-09-20T09:00:00Z"},
        {"request_id": "R2", "account_id": "A2", "request_type": "erasure", "jurisdiction": "EU",
         "received_at": "2026-10-20T09:00:00Z"}])
    write_table(folder, "web_access_logs", [
        {"ts": "2026-10-01T12:00:00Z", "ip": "203.0.113.0", "method": "GET", "path": "/", "status": 200,
         "bytes": 10},
        {"ts": "2026-10-02T12:00:00Z", "ip": IPS[0] if broken else "198.51.100.0", "method": "GET",
         "path": "/x", "status": 200, "bytes": 10}])
    write_table(folder, "shared_aggregates", [
        {"share_id": "SH1", "cell_id": f"c{i}", "recipient": "adnet", "shared_at": "2026-10-01T00:00:00Z",
         "country": "FR", "age_band": band, "member_count": n}
        for i, (band, n) in enumerate([("18-24", 12), ("25-34", 40), ("35-44", 3 if broken else 7)])])
    return folder


def policy_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY_POLICY, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------- generated and committed
def test_committed_suites_are_up_to_date():
    pols = load_all_bundled()
    stale = [p.id for p in pols if not V.expectations_path(p.id).exists()
             or V.expectations_path(p.id).read_text(encoding="utf-8") != V.render_expectations(p)]
    assert not stale, f"expectations/ is stale for {stale}: run `pledgecheck expectations`"
    generated = {p.stem for p in V.EXPECTATIONS_DIR.glob("*.json") if V._is_generated(p)}
    assert generated == {p.id for p in pols}, "expectations/ holds suites of policies that are gone"


def test_every_pledge_in_force_gets_its_expectations_with_its_words():
    for pol in load_all_bundled():
        pledges_suite, ingestion_suite = V.suite_specs(pol)
        out_of_force = superseded(lint_policy(pol))
        by_pledge: dict[str, list[dict]] = {}
        for e in pledges_suite["expectations"]:
            if e["meta"]["pledge_id"]:
                by_pledge.setdefault(e["meta"]["pledge_id"], []).append(e)
        assert set(by_pledge) == {p.id for p in pol.pledges} - set(out_of_force)
        for p in pol.pledges:
            if p.id in out_of_force:
                continue
            exps = by_pledge[p.id]
            assert [e["meta"]["assertion"] for e in exps][1:] == ["checkable"]
            thr = getattr(p.params, "threshold", None)
            want = "coverage_at_least_threshold" if thr is not None and thr < 1 else "zero_violations"
            assert exps[0]["meta"]["assertion"] == want
            for e in exps:
                assert e["meta"]["severity"] == e["severity"] == p.severity
                assert (e["meta"]["quote"], e["meta"]["section"]) == (p.quote, p.section)
                assert e["kwargs"]["row_condition"]["parameter"] == p.id
        assert {e["meta"]["assertion"] for e in ingestion_suite["expectations"]} == {
            "reconciliation", "quarantine_share", "readable"}


def test_suites_round_trip_through_gx():
    """The committed dictionaries are GX's own suite format (what GX would serialize)."""
    import great_expectations as gx

    pol = load_policy(resolve_policy("xcams"))
    for spec in V.suite_specs(pol):
        d = V._build_suite(gx, spec).to_json_dict()
        for e in d["expectations"]:
            e.pop("id", None)
            e.pop("rendered_content", None)
        assert [e["type"] for e in d["expectations"]] == [e["type"] for e in spec["expectations"]]
        assert [e["meta"] for e in d["expectations"]] == [e["meta"] for e in spec["expectations"]]
        assert [e["kwargs"]["column"] if "column" in e["kwargs"] else e["kwargs"]["column_A"]
                for e in d["expectations"]] == [e["kwargs"].get("column", e["kwargs"].get("column_A"))
                                               for e in spec["expectations"]]
        for got, want in zip(d["expectations"], spec["expectations"]):
            if "row_condition" in want["kwargs"]:
                assert got["kwargs"]["row_condition"] == want["kwargs"]["row_condition"]


# ---------------------------------------------------------------- the suites can fail
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """`pledgecheck validate` over the clean and the broken world (one run each)."""
    from pledgecheck.cli import app

    base = tmp_path_factory.mktemp("validation")
    pol = policy_file(base)
    out = {}
    for name, broken in (("clean", False), ("broken", True)):
        export = build_world(base / f"export-{name}", broken)
        res = CliRunner().invoke(app, ["validate", "--policy", str(pol), "--export", str(export), "--as-of",
                                       AS_OF.isoformat(), "--out", str(base / f"reports-{name}"), "--salt", SALT])
        folder = base / f"reports-{name}" / "tiny" / AS_OF.isoformat()
        out[name] = {"exit": res.exit_code, "output": res.output, "folder": folder, "export": export,
                     "validation": json.loads((folder / "validation.json").read_text()) if folder.exists() else None}
    return out


def test_clean_world_passes_every_expectation(runs):
    r = runs["clean"]
    assert r["exit"] == 0, r["output"]
    v = r["validation"]
    assert v["passed"] == {"critical": True, "warning": True}
    assert all(x["success"] for x in v["results"])
    assert len(v["results"]) == 2 * len(TINY_POLICY["pledges"]) + 1 + 3


def test_broken_world_fails_exactly_the_broken_pledges(runs):
    r = runs["broken"]
    assert r["exit"] == 1, r["output"]
    v = r["validation"]
    failed = [x for x in v["results"] if not x["success"]]
    assert {x["pledge_id"] for x in failed} == BROKEN
    assert sorted((x["pledge_id"], x["assertion"]) for x in failed) == sorted(
        [("tiny.tickets-3y", "zero_violations"), ("tiny.marketing-optin", "coverage_at_least_threshold"),
         ("tiny.ip-truncated", "zero_violations"), ("tiny.cells-k5", "zero_violations")])
    assert v["passed"] == {"critical": False, "warning": False}
    # the results document agrees: the failing expectations are the broken pledges
    doc = json.loads((r["folder"] / "results.json").read_text())
    assert {p["pledge_id"] for p in doc["pledges"] if p["status"] == "broken"} == BROKEN


def test_data_docs_are_a_static_site_in_the_run_folder_without_personal_data(runs):
    for name in ("clean", "broken"):
        folder = runs[name]["folder"]
        index = folder / "data_docs" / "index.html"
        assert index.exists()
        assert list((folder / "data_docs" / "validations").rglob("*.html"))
        for f in [*(folder / "data_docs").rglob("*.html"), folder / "validation.json"]:
            text = f.read_text(encoding="utf-8", errors="replace")
            for secret in EMAILS + IPS:
                assert secret not in text, f"{f}: holds {secret}"
            assert not re.search(r"[\w.+-]+@example\.(org|net)", text), f
        assert "tiny.tickets-3y" in index.read_text() or list((folder / "data_docs").rglob("*pledges*.html"))
    assert not (Path.cwd() / "gx").exists(), "GX must not leave a gx/ folder behind"


def test_validate_on_a_missing_export_is_an_input_error(tmp_path):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "pledgecheck.cli", "validate", "--policy", str(policy_file(tmp_path)),
                          "--export", str(tmp_path / "missing"), "--out", str(tmp_path / "r")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert "export folder does not exist" in res.stderr
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------- frame-level variants (no Data Docs)
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_policy(policy_file(tmp_path_factory.mktemp("tiny-policy")))


def _frames(statuses: dict[str, tuple[str, int, float | None]]):
    rows = [{"pledge_id": p["id"], "kind": p["kind"], "check": p["check"], "severity": p["severity"],
             "status": statuses.get(p["id"], ("kept", 0, 1.0))[0],
             "violations": statuses.get(p["id"], ("kept", 0, 1.0))[1],
             "coverage": statuses.get(p["id"], ("kept", 0, 1.0))[2], "population": 10, "effective": True}
            for p in TINY_POLICY["pledges"]]
    ingest = [{"table": "support_tickets", "files": 1, "rows_read": 100, "rows_loaded": 100, "rows_quarantined": 0,
               "error": None}]
    return rows, ingest


def test_only_a_warning_pledge_broken_exits_zero(tiny):
    rows, ingest = _frames({"tiny.ip-truncated": ("broken", 3, 0.7)})
    out = V.validate_frames(tiny, V.pledge_frame(rows), V.ingest_frame(ingest))
    assert out.passed == {"critical": True, "warning": False}
    assert out.exit_code == 0
    assert [(f["pledge_id"], f["severity"]) for f in out.failures] == [("tiny.ip-truncated", "warning")]


def test_a_pledge_that_could_not_be_checked_fails_as_uncheckable(tiny):
    rows, ingest = _frames({"tiny.access-1m": ("not_checked", 0, None),
                            "tiny.marketing-optin": ("kept", 2, 0.8)})  # 80% >= 75%: kept
    out = V.validate_frames(tiny, V.pledge_frame(rows), V.ingest_frame(ingest))
    assert [(f["pledge_id"], f["assertion"]) for f in out.failures] == [("tiny.access-1m", "checkable")]
    assert out.exit_code == 1


def test_a_missing_pledge_row_and_lost_rows_fail(tiny):
    rows, ingest = _frames({})
    rows = [r for r in rows if r["pledge_id"] != "tiny.cells-k5"]
    ingest = [{"table": "support_tickets", "files": 1, "rows_read": 100, "rows_loaded": 90, "rows_quarantined": 5,
               "error": None},
              {"table": "web_access_logs", "files": 1, "rows_read": 100, "rows_loaded": 95, "rows_quarantined": 5,
               "error": None},
              {"table": "orders", "files": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0,
               "error": "orders.csv: cannot read: line 3 'alice.liddell@example.org'"}]
    out = V.validate_frames(tiny, V.pledge_frame(rows), V.ingest_frame(ingest))
    got = {(f["assertion"], f["severity"]) for f in out.failures}
    assert got == {("every_pledge_has_a_result", "critical"), ("reconciliation", "critical"),
                   ("quarantine_share", "warning"), ("readable", "warning")}
    assert EMAILS[0] not in json.dumps(out.to_dict())
    assert EMAILS[0] not in V.ingest_frame(ingest).to_json()
