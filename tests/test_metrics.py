"""CCPA 11 CCR 7102 metrics and per-segment SLA statistics, by hand."""
from datetime import date

from pledgecheck.engine import connect
from pledgecheck.ingest import ingest
from pledgecheck.metrics import ccpa_7102, denials

from conftest import write_table


def req(rid, rtype, received, completed=None, outcome=None, jurisdiction="US-CA", reason=None):
    return {"request_id": rid, "request_type": rtype, "jurisdiction": jurisdiction, "received_at": received,
            "completed_at": completed, "outcome": outcome, "denial_reason": reason}


def test_ccpa_7102_table_by_hand(tmp_path):
    write_table(tmp_path, "data_subject_requests", [
        req("1", "access", "2025-01-01T00:00:00Z", "2025-01-11T00:00:00Z", "complied"),      # 10 days
        req("2", "access", "2025-02-01T00:00:00Z", "2025-03-03T00:00:00Z", "partial"),       # 30 days
        req("3", "access", "2025-03-01T00:00:00Z", "2025-03-06T00:00:00Z", "denied", reason="unverified"),  # 5
        req("4", "erasure", "2025-05-01T00:00:00Z"),                                          # pending
        req("5", "erasure", "2024-12-31T23:00:00Z", "2025-01-05T00:00:00Z", "complied"),      # other year
        req("6", "access", "2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z", "complied", jurisdiction="EU"),
        req("7", "opt_out", "2025-07-01T00:00:00Z", "2025-07-03T12:00:00Z", "complied"),      # 2.5 days
    ])
    con = connect()
    ingest(con, tmp_path)
    rows = {r["request_kind"]: r for r in ccpa_7102(con, 2025)}
    assert rows["know"] == {"request_kind": "know", "received": 3, "complied_in_whole_or_part": 2, "denied": 1,
                            "pending": 0, "median_days_to_respond": 10.0, "mean_days_to_respond": 15.0}
    assert rows["delete"]["received"] == 1 and rows["delete"]["pending"] == 1
    assert rows["delete"]["median_days_to_respond"] is None
    assert rows["opt-out of sale/sharing"]["median_days_to_respond"] == 2.5
    assert denials(con) == [{"request_type": "access", "jurisdiction": "US-CA", "denial_reason": "unverified",
                             "requests": 1}]


def test_deadline_segments_carry_sla_statistics(evaluate_in):
    pledge = {"id": "d", "kind": "request_deadline", "check": "deadline",
              "params": {"table": "data_subject_requests", "start": "received", "end": "completed",
                         "limit": "30 days"}}
    rows = [req("1", "access", "2026-01-01T00:00:00Z", "2026-01-11T00:00:00Z", jurisdiction="EU"),   # 10 d
            req("2", "access", "2026-01-01T00:00:00Z", "2026-02-10T00:00:00Z", jurisdiction="EU"),   # 40 d late
            req("3", "erasure", "2026-02-20T00:00:00Z", jurisdiction="EU")]                           # open
    r = evaluate_in({"data_subject_requests": rows}, [pledge], date(2026, 3, 1))["d"]
    seg = {s["segment"]: s for s in r.by_segment}
    assert seg["access/EU"]["ok"] == 1 and seg["access/EU"]["violations"] == 1
    assert seg["access/EU"]["p50"] == 25.0 and seg["access/EU"]["mean"] == 25.0
    assert seg["erasure/EU"]["open"] + seg["erasure/EU"]["due_soon"] == 1
