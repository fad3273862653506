"""Ad-hoc commands: personal-data scan, k-anonymity, deadline calculator (values worked out by hand)."""
import json
import subprocess
import sys
from datetime import date

import pytest

from pledgecheck.adhoc import deadlines, k_anonymity, scan_path
from pledgecheck.checks import macros_sql
from pledgecheck.detectors import find_all
from pledgecheck.engine import connect
from pledgecheck.errors import PledgecheckError

CARDS = {  # well-known test numbers, one per brand
    "visa16": "4111111111111111", "visa13": "4222222222222", "mastercard": "5555555555554444",
    "mastercard_2series": "2223003122003222", "amex": "378282246310005", "discover": "6011111111111117",
    "diners": "30569309025904", "jcb": "3530111333300000", "unionpay": "6200000000000005",
    "maestro": "6759649826438453",
}
NOT_CARDS = ["4111 **** **** 1111", "411111XXXXXX1111", "ending 1111", "4111111111111112",
             "41111111111111110", "1234567812345670", "2015-05-17 10:05:03", "+44 20 7946 0958",
             'transform="translate(47.69230769230769,15)"', "amount 6011111111111117.50"]


@pytest.mark.parametrize("brand, number", CARDS.items())
def test_every_brand_with_and_without_separators(brand, number):
    spaced = " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    dashed = spaced.replace(" ", "-")
    for text in (number, f"card {spaced}.", f"#{dashed};"):
        hits = [h for h in find_all(text) if h.kind == "card"]
        assert len(hits) == 1, (brand, text)
        assert number not in hits[0].masked and hits[0].masked.endswith(number[-4:])
    for glued in (f"x{dashed}", f"{number}y", f"ref{spaced}"):   # a run that continues a word is none
        assert [h for h in find_all(glued) if h.kind == "card"] == [], glued


@pytest.mark.parametrize("text", NOT_CARDS)
def test_masked_invalid_and_other_digit_runs_are_not_cards(text):
    assert [h for h in find_all(text) if h.kind == "card"] == []


def test_python_and_sql_detectors_agree():
    con = connect()
    con.execute(macros_sql())
    samples = list(CARDS.values()) + NOT_CARDS + ["pay 4111-1111-1111-1111 and 5555 5555 5555 4444 now"]
    for s in samples:
        sql = con.execute("SELECT card_count(?)", [s]).fetchone()[0]
        py = len([h for h in find_all(s) if h.kind == "card"])
        assert sql == py, s


def test_ip_detection_full_versus_truncated():
    kinds = lambda s: [h.kind for h in find_all(s)]  # noqa: E731
    assert kinds("from 203.0.113.7 and 203.0.113.0") == ["ipv4"]
    assert kinds("v6 2001:db8:abcd:12::1 and 2001:db8:abcd:: done") == ["ipv6"]
    assert kinds("at 10:05:03, version 1.2.3, 999.1.1.1") == []
    assert kinds("css i::after, a::before, std::map, ::1, fe80::") == []
    assert kinds("mail jane.doe@example.test now") == ["email"]


def test_scan_reports_file_line_column_and_masks(tmp_path):
    (tmp_path / "a.csv").write_text("id,note\n1,ok\n2,call me at jane@example.test\n3,4111 1111 1111 1111\n")
    (tmp_path / "b.log").write_text('198.51.100.23 - - [x] "GET /" 200 1\nclean line\n')
    (tmp_path / "c.jsonl").write_text('{"id": 1, "ip": "2001:db8:1:2::5"}\n')
    doc = scan_path(tmp_path)
    assert doc["files_scanned"] == 3 and doc["counts"] == {"email": 1, "card": 1, "ipv4": 1, "ipv6": 1}
    by_kind = {x["kind"]: x for x in doc["findings"]}
    assert (by_kind["email"]["row"], by_kind["email"]["column"]) == (2, "note")
    assert by_kind["card"]["line"] == 4 and by_kind["ipv4"]["line"] == 1
    text = json.dumps(doc)
    for raw in ("jane@example.test", "4111 1111 1111 1111", "198.51.100.23", "2001:db8:1:2::5"):
        assert raw not in text


def test_scan_command_exit_codes(tmp_path):
    (tmp_path / "clean.txt").write_text("nothing personal here\n")
    cmd = [sys.executable, "-m", "pledgecheck.cli", "scan", str(tmp_path), "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0 and json.loads(r.stdout)["findings"] == []
    (tmp_path / "dirty.txt").write_text("card 5555555555554444\n")
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 1 and json.loads(r.stdout)["counts"] == {"card": 1}


def test_k_anonymity_by_hand(tmp_path):
    f = tmp_path / "share.csv"
    f.write_text("zip,age_band,disease\n"
                 "1000,20-30,flu\n1000,20-30,flu\n1000,20-30,cold\n"    # class of 3, l = 2
                 "2000,30-40,flu\n2000,30-40,flu\n"                     # class of 2, l = 1
                 "3000,40-50,cold\n")                                   # class of 1 (unique)
    doc = k_anonymity(f, ["zip", "age_band"], ["disease"], k=3)
    assert {key: doc[key] for key in ("rows", "k", "l", "equivalence_classes", "unique_rows")} == {
        "rows": 6, "k": 1, "l": 1, "equivalence_classes": 3, "unique_rows": 1}
    assert doc["classes_below_threshold"] == [{"values": {"zip": 3000, "age_band": "40-50"}, "size": 1},
                                              {"values": {"zip": 2000, "age_band": "30-40"}, "size": 2}]
    assert k_anonymity(f, ["zip"], None)["l"] is None


def test_k_anonymity_errors_name_file_and_column(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("a,b\n1,2\n")
    with pytest.raises(PledgecheckError, match=r"t.csv: unknown column 'zip'; the file has: a, b"):
        k_anonymity(f, ["zip"])
    with pytest.raises(PledgecheckError, match="no such file"):
        k_anonymity(tmp_path / "missing.csv", ["a"])


@pytest.mark.parametrize("received, gdpr_due, gdpr_ext, ccpa_due", [
    (date(2024, 1, 31), "2024-02-29", "2024-04-30", "2024-03-16"),   # leap year month end
    (date(2023, 1, 31), "2023-02-28", "2023-04-30", "2023-03-17"),
    (date(2024, 2, 29), "2024-03-29", "2024-05-29", "2024-04-14"),   # leap day receipt
    (date(2023, 12, 15), "2024-01-15", "2024-03-15", "2024-01-29"),
])
def test_deadline_calculator_by_hand(received, gdpr_due, gdpr_ext, ccpa_due):
    doc = deadlines(received)
    assert doc["received"] == received.isoformat()
    assert doc["gdpr"] == {"due": gdpr_due, "extended_due": gdpr_ext}
    assert doc["ccpa"]["due"] == ccpa_due


def test_deadline_calculator_holidays_and_next_working_day():
    # 2025-04-05 + 1 month = Mon 2025-05-05, Early May bank holiday in England -> Tue 2025-05-06
    doc = deadlines(date(2025, 4, 5))
    assert doc["gdpr"]["due"] == "2025-05-05"
    assert doc["gdpr_uk_next_working_day"]["due"] == "2025-05-06"
    # CCPA acknowledgement: received Fri 2024-11-22; 10 business days in California skip
    # Thanksgiving (Thu 28 Nov) and the day after (Fri 29 Nov): 25,26,27 Nov, 2,3,4,5,6,9,10 Dec
    assert deadlines(date(2024, 11, 22))["ccpa_acknowledge"]["due"] == "2024-12-10"


def test_deadline_calculator_uses_the_policy_promises():
    from pledgecheck.policy import parse_policy

    pol = parse_policy({"policy": {"id": "acme", "name": "Acme"}, "pledges": [{
        "id": "acme.dsr-30", "kind": "request_deadline", "check": "deadline", "category": "user", "quote": "30 days",
        "section": "Rights", "params": {"table": "data_subject_requests", "start": "received", "end": "completed",
                                        "limit": "30 days", "extension": {"by": "30 days"}}}]}, "t")
    doc = deadlines(date(2024, 1, 31), policy=pol)
    assert doc["acme.dsr-30"] == {"due": "2024-03-01", "extended_due": "2024-03-31"}


def test_deadline_command_json(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pledgecheck.cli", "deadline", "--received", "2024-01-31", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["gdpr"]["due"] == "2024-02-29"
    r = subprocess.run([sys.executable, "-m", "pledgecheck.cli", "deadline", "--received", "31/01/2024"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "not a date" in r.stderr and "Traceback" not in r.stderr
