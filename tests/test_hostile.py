"""Hostile values never reach SQL as text: policy values are parameters, names are validated,
paths are quoted; odd folder names work."""
from datetime import date

import pytest

from pledgecheck.contract import load_contract
from pledgecheck.engine import connect
from pledgecheck.errors import PolicyError
from pledgecheck.ingest import ingest
from pledgecheck.policy import parse_policy
from pledgecheck.runner import run_policy

from conftest import write_table

EVIL = "x'); DROP TABLE quarantine; --"


def policy_with(params, check="retention", kind="retention"):
    return {"policy": {"id": "p", "name": "P"}, "pledges": [
        {"id": "p.x", "kind": kind, "check": check, "category": "user", "quote": "q", "section": "s",
         "params": params}]}


def test_where_values_are_parameters(tmp_path):
    export = tmp_path / "export"
    write_table(export, "support_tickets", [
        {"ticket_id": "t1", "account_id": "a1", "created_at": "2010-01-01T00:00:00Z", "channel": "email",
         "category": EVIL}])
    pol = parse_policy(policy_with({"table": "support_tickets", "from": "created", "period": "1 year",
                                    "where": {"category": [EVIL, "a'b", "c;d"]}}), "t")
    con = connect()
    ingest(con, export)
    (res,) = run_policy(con, pol, date(2026, 1, 1), "s", {"support_tickets"})
    assert res.status == "broken" and res.violations == 1   # the hostile value matched as data
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0  # table still there


@pytest.mark.parametrize("params, field", [
    ({"table": "support_tickets; drop table x", "from": "created", "period": "1 year"}, "params.table"),
    ({"table": "support_tickets", "from": "created_at) or (1=1", "period": "1 year"}, "params.from"),
    ({"table": "support_tickets", "from": "created", "period": "1 year", "where": {"x\"; --": 1}},
     "params.where"),
])
def test_identifiers_are_validated_against_the_contract(params, field):
    with pytest.raises(PolicyError, match=field.replace(".", r"\.")):
        parse_policy(policy_with(params), "evil.yaml")


def test_consent_purpose_is_validated():
    with pytest.raises(PolicyError, match="unknown consent purpose"):
        parse_policy(policy_with({"table": "marketing_sends", "purpose": EVIL}, "consent_coverage", "consent"), "t")


@pytest.mark.parametrize("name", ["it's here", "semi;colon", "dollar$x", "quote\"d", "..", "spa ce"])
def test_odd_folder_names(tmp_path, name):
    export = tmp_path / name / "export"
    write_table(export, "downloads", [{"download_id": "d1", "account_id": "a1",
                                       "downloaded_at": "2025-01-01T00:00:00Z"}])
    rep = ingest(connect(), export)
    assert rep.tables["downloads"].rows_loaded == 1 and not rep.errors


def test_path_traversal_in_table_files_is_not_followed(tmp_path):
    # only files named after contract tables are read: a file outside the naming scheme is ignored
    export = tmp_path / "export"
    export.mkdir()
    (export / "..%2F..%2Fetc%2Fpasswd.csv").write_text("a\n1\n")
    rep = ingest(connect(), export)
    assert all(not r.files for r in rep.tables.values())
    assert set(rep.tables) == set(load_contract().tables)
