"""Deadline engine on hand-built requests; expected due dates worked out by hand."""
from datetime import date


GDPR = {"id": "gdpr", "kind": "request_deadline", "check": "deadline",
        "params": {"table": "data_subject_requests", "start": "received", "end": "completed",
                   "limit": "1 month", "extension": {"by": "2 months"}}}


def dsr(rid, received, completed=None, notice=None, jurisdiction="EU", verified=None, ack=None, rtype="access"):
    return {"request_id": rid, "account_id": "a" + rid, "request_type": rtype, "jurisdiction": jurisdiction,
            "received_at": received, "completed_at": completed, "extension_notified_at": notice,
            "identity_verified_at": verified, "acknowledged_at": ack}


def outcomes(res):
    return res.by_reason


def test_gdpr_month_clamps_at_month_end_and_leap_day(evaluate_in):
    rows = [
        dsr("1", "2024-01-31T09:00:00Z", "2024-02-29T23:00:00Z"),  # due 2024-02-29 (leap year): on time
        dsr("2", "2023-01-31T09:00:00Z", "2023-03-01T08:00:00Z"),  # due 2023-02-28: late
        dsr("3", "2024-02-29T12:00:00Z", "2024-03-29T12:00:00Z"),  # due 2024-03-29: on time
        dsr("4", "2024-02-29T12:00:00Z", "2024-03-30T00:00:00Z"),  # late by a day
        dsr("5", "2023-08-31T12:00:00Z", "2023-09-30T18:00:00Z"),  # due 2023-09-30: on time
    ]
    r = evaluate_in({"data_subject_requests": rows}, [GDPR], date(2026, 1, 1))["gdpr"]
    assert (r.population, r.violations) == (5, 2)
    assert r.by_reason == {"on_time": 3, "late": 2}


def test_gdpr_extension_only_when_notified_within_first_month(evaluate_in):
    rows = [
        # notified inside the first month: due 2024-04-30 (received + 3 months, clamped)
        dsr("1", "2024-01-31T09:00:00Z", "2024-04-30T10:00:00Z", notice="2024-02-20T10:00:00Z"),
        # notified after the first month (due 2024-02-29): no extension, late
        dsr("2", "2024-01-31T09:00:00Z", "2024-04-01T10:00:00Z", notice="2024-03-01T10:00:00Z"),
        # notified on the last day of the first month: extension applies
        dsr("3", "2024-01-31T09:00:00Z", "2024-04-01T10:00:00Z", notice="2024-02-29T22:00:00Z"),
        # extension applies but completed after the extended deadline
        dsr("4", "2024-01-31T09:00:00Z", "2024-05-01T10:00:00Z", notice="2024-02-01T10:00:00Z"),
    ]
    r = evaluate_in({"data_subject_requests": rows}, [GDPR], date(2026, 1, 1))["gdpr"]
    assert r.by_reason == {"on_time": 2, "late": 2}


def test_open_requests_overdue_due_soon_and_open(evaluate_in):
    as_of = date(2026, 3, 10)
    rows = [
        dsr("1", "2026-02-01T10:00:00Z"),  # due 2026-03-01 < as_of: overdue
        dsr("2", "2026-02-10T10:00:00Z"),  # due 2026-03-10 == as_of: not overdue, due soon
        dsr("3", "2026-03-01T10:00:00Z"),  # due 2026-04-01: open
        dsr("4", "2026-03-11T10:00:00Z"),  # received after as-of: not assessable
        dsr("5", "2026-02-01T10:00:00Z", jurisdiction="US-CA"),  # out of scope for an EU-only pledge
    ]
    pledge = dict(GDPR, jurisdictions=["EU", "UK"])
    r = evaluate_in({"data_subject_requests": rows}, [pledge], as_of)["gdpr"]
    assert r.by_reason == {"overdue": 1, "due_soon": 1, "open": 1, "future": 1}
    assert (r.violations, r.population, r.unknown) == (1, 3, 1)


def test_business_days_skip_weekends_and_holidays(evaluate_in):
    # LU public holidays: 2024-12-25, 2024-12-26, 2025-01-01.
    # Received Fri 2024-12-20; 7 business days after: 23, 24, 27, 30, 31 Dec, 2, 3 Jan -> due 2025-01-03.
    pledge = {"id": "vuln", "kind": "incident_deadline", "check": "deadline",
              "params": {"table": "vulnerability_reports", "start": "received", "end": "acknowledged",
                         "limit": "7 business days", "calendar": "LU"}}
    rows = [
        {"report_id": "1", "received_at": "2024-12-20T17:00:00Z", "acknowledged_at": "2025-01-03T17:00:00Z"},
        {"report_id": "2", "received_at": "2024-12-20T17:00:00Z", "acknowledged_at": "2025-01-06T08:00:00Z"},
        # received on a Saturday: counting starts Monday 2025-03-03 -> 7th business day is Tue 2025-03-11
        {"report_id": "3", "received_at": "2025-03-01T10:00:00Z", "acknowledged_at": "2025-03-11T10:00:00Z"},
        {"report_id": "4", "received_at": "2025-03-01T10:00:00Z", "acknowledged_at": "2025-03-12T10:00:00Z"},
    ]
    r = evaluate_in({"vulnerability_reports": rows}, [pledge], date(2026, 1, 1))["vuln"]
    assert r.by_reason == {"on_time": 2, "late": 2}


def test_ccpa_clock_starts_at_verification(evaluate_in):
    pledge = {"id": "ccpa", "kind": "request_deadline", "check": "deadline", "jurisdictions": ["US-CA"],
              "params": {"table": "data_subject_requests", "start": "verified", "end": "completed",
                         "limit": "45 days", "extension": {"by": "45 days"}}}
    rows = [
        # verified 2025-01-10 -> due 2025-02-24; completed 2025-02-24: on time even though 50 days after receipt
        dsr("1", "2025-01-05T10:00:00Z", "2025-02-24T10:00:00Z", verified="2025-01-10T10:00:00Z", jurisdiction="US-CA"),
        # never verified: the clock has not started
        dsr("2", "2025-01-05T10:00:00Z", None, jurisdiction="US-CA"),
        # extension notified within 45 days -> due 2025-04-10 (90 days); completed 2025-04-10: on time
        dsr("3", "2025-01-10T10:00:00Z", "2025-04-10T10:00:00Z", verified="2025-01-10T10:00:00Z",
            notice="2025-02-20T10:00:00Z", jurisdiction="US-CA"),
    ]
    r = evaluate_in({"data_subject_requests": rows}, [pledge], date(2026, 1, 1))["ccpa"]
    assert r.by_reason == {"on_time": 2, "not_started": 1}
    assert r.violations == 0


def test_next_working_day_rule_moves_weekend_deadline(evaluate_in):
    # Received 2025-04-05 (Sat) + 1 month = 2025-05-05, a bank holiday in England (Early May):
    # moves to Tue 2025-05-06.
    pledge = dict(GDPR, id="uk", params={"table": "data_subject_requests", "start": "received", "end": "completed",
                                          "limit": "1 month", "next_working_day": True, "calendar": "GB-ENG"})
    rows = [dsr("1", "2025-04-05T10:00:00Z", "2025-05-06T15:00:00Z", jurisdiction="UK"),
            dsr("2", "2025-04-05T10:00:00Z", "2025-05-07T15:00:00Z", jurisdiction="UK")]
    r = evaluate_in({"data_subject_requests": rows}, [pledge], date(2026, 1, 1))["uk"]
    assert r.by_reason == {"on_time": 1, "late": 1}


def test_breach_72_hours_is_an_instant_deadline(evaluate_in):
    pledge = {"id": "breach", "kind": "incident_deadline", "check": "deadline",
              "params": {"table": "breach_incidents", "start": "aware", "end": "authority_notified",
                         "limit": "72 hours", "where": {"notification_required": True}}}
    rows = [
        {"incident_id": "1", "aware_at": "2025-03-29T10:00:00+01:00", "authority_notified_at": "2025-04-01T09:59:00+02:00",
         "notification_required": "true"},   # 72h = 2025-04-01T09:00Z; notified 07:59Z: on time (DST change between)
        {"incident_id": "2", "aware_at": "2025-03-29T10:00:00Z", "authority_notified_at": "2025-04-01T10:00:01Z",
         "notification_required": "true"},   # one second late
        {"incident_id": "3", "aware_at": "2025-03-29T10:00:00Z", "notification_required": "false"},  # out of scope
    ]
    r = evaluate_in({"breach_incidents": rows}, [pledge], date(2026, 1, 1))["breach"]
    assert r.by_reason == {"on_time": 1, "late": 1}
