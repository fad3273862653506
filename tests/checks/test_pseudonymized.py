"""pseudonymized: keys promised to be pseudonyms that still hold an e-mail address."""
from datetime import date

import duckdb
import pytest

from pledgecheck.checks import macros_sql
from pledgecheck.detectors import EMAIL

TEXTS = ["ann@example.test", "Ann.Lee+promo@mail.example.co.uk", "5f2b9c0e7d1a4b3c", "user 12", "",
         "x" * 65 + "@example.test", "a@b.c", "see bob@example.test!", "bob@example.test1", "bob@@example.test",
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "ann(at)example.test"]


@pytest.mark.parametrize("text", TEXTS)
def test_sql_and_python_email_detectors_agree(text):
    con = duckdb.connect()
    con.execute(macros_sql())
    assert con.execute("SELECT has_email(?)", [text]).fetchone()[0] == bool(EMAIL.search(text))


def row(i, key, j="EU"):
    return {"stat_id": str(i), "campaign": "spring", "email_key": key, "opens": 1, "clicks": 0,
            "computed_at": "2026-05-01T00:00:00Z", "jurisdiction": j}


def test_pseudonymized_check(evaluate_in):
    rows = [row(1, "5f2b9c0e7d1a4b3c"), row(2, "ann@example.test"), row(3, "  "), row(4, "sha:ANN@EXAMPLE.TEST"),
            row(5, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "US-CA")]
    r = evaluate_in({"marketing_statistics": rows},
                    [{"id": "ps", "kind": "anonymization", "check": "pseudonymized",
                      "params": {"table": "marketing_statistics", "column": "email_key"}}], date(2026, 6, 1))["ps"]
    assert (r.population, r.violations, r.unknown, r.status) == (4, 2, 1, "broken")
    assert r.by_reason == {"blank": 1, "email_address": 2, "pseudonym": 2}
