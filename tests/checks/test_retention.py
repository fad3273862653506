"""retention: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

from rows import hold, ticket

AS_OF = date(2026, 6, 15)


RET = {"id": "ret", "check": "retention",
       "params": {"table": "support_tickets", "from": "last_communication", "period": "3 years",
                  "exceptions": ["legal_hold", "abuse"]}}


def test_retention_boundaries_and_legal_holds(evaluate_in):
    rows = [
        ticket("1", "a1", "2023-06-15T10:00:00Z"),               # expires 2026-06-15 == as-of: ok
        ticket("2", "a2", "2023-06-14T23:59:59Z"),               # expired yesterday: violation
        ticket("3", "a3", "2020-01-01T00:00:00Z", "2023-07-01T00:00:00Z"),  # last message counts: ok
        ticket("4", "a4", "2020-01-01T00:00:00Z"),               # hold ends on as-of: exempt
        ticket("5", "a5", "2020-01-01T00:00:00Z"),               # hold ended the day before: violation
        ticket("6", "a6", "2020-01-01T00:00:00Z"),               # hold starts on as-of: exempt
        ticket("7", "a7", "2020-01-01T00:00:00Z"),               # hold on another table: violation
        ticket("8", "a8", "2020-01-01T00:00:00Z", abuse="true"),  # abuse exemption
        ticket("9", "a9", "2030-01-01T00:00:00Z"),               # future date: unknown
        ticket("10", "a10", "2020-01-01T00:00:00Z"),             # hold scope 'all': exempt
        ticket("11", "a11", "2020-02-29T12:00:00+05:00"),        # 2020-02-29T07:00Z +3y = 2023-02-28: violation
    ]
    holds = [hold("h4", "a4", "2025-01-01T00:00:00Z", "2026-06-15T08:00:00Z"),
             hold("h5", "a5", "2025-01-01T00:00:00Z", "2026-06-14T23:00:00Z"),
             hold("h6", "a6", "2026-06-15T00:00:00Z"),
             hold("h7", "a7", "2025-01-01T00:00:00Z", scope="orders"),
             hold("h10", "a10", "2025-01-01T00:00:00Z", scope="all")]
    r = evaluate_in({"support_tickets": rows, "legal_holds": holds}, [RET], AS_OF)["ret"]
    assert r.by_reason == {"within_period": 2, "past_due": 4, "legal_hold": 3, "abuse": 1, "future": 1}
    assert (r.violations, r.exempt, r.population, r.unknown) == (4, 4, 10, 1)
    # days past due: ticket 2 expired 2026-06-14 -> 1 day; ticket 11 on 2023-02-28 -> 1203 days;
    # tickets 5 and 7 on 2023-01-01 -> 1261 days
    assert r.measure["violation_max"] == 1261
    assert [h["violations"] for h in r.histogram if h["violations"]] and sum(
        h["violations"] for h in r.histogram) == 4
