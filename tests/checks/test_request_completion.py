"""request_completion: hand-built requests of rights with no stated deadline; counts by hand."""
from datetime import date

from tests.checks.test_deadline import dsr

ACCESS = {"id": "access", "kind": "request_deadline", "check": "request_completion",
          "params": {"where": {"request_type": "access"}}}


def test_completed_or_open_for_a_recorded_reason(evaluate_in):
    as_of = date(2026, 3, 10)
    rows = [
        dsr("1", "2026-01-05T09:00:00Z", "2026-03-01T10:00:00Z", verified="2026-01-06T09:00:00Z"),  # completed (late? no deadline)
        dsr("2", "2026-01-05T09:00:00Z", verified="2026-01-06T09:00:00Z"),                          # open, no reason: violation
        dsr("3", "2026-02-01T09:00:00Z"),                                                           # open, identity not verified
        dsr("4", "2026-02-01T09:00:00Z", verified="2026-02-02T09:00:00Z", notice="2026-02-20T09:00:00Z"),  # extension notified
        dsr("5", "2026-03-20T09:00:00Z"),                                                           # received after the as-of date
        dsr("6", "2026-01-05T09:00:00Z", verified="2026-01-06T09:00:00Z", rtype="erasure"),         # other right: out of scope
        dsr("7", "2026-03-10T08:00:00Z", verified="2026-03-10T08:30:00Z"),                          # received on the as-of day, open
    ]
    r = evaluate_in({"data_subject_requests": rows}, [ACCESS], as_of)["access"]
    assert r.by_reason == {"completed": 1, "open_without_reason": 2, "awaiting_verified": 1,
                           "recorded_extension_notified": 1, "future": 1}
    # open ones are in the population (as for deadlines) but neither kept nor broken
    assert (r.violations, r.open, r.unknown, r.population) == (2, 2, 1, 5)


def test_reasons_to_be_open_are_parameters(evaluate_in):
    as_of = date(2026, 3, 10)
    rows = [dsr("1", "2026-01-05T09:00:00Z"), dsr("2", "2026-01-05T09:00:00Z", ack="2026-01-06T09:00:00Z")]
    strict = {**ACCESS, "id": "strict", "params": {"where": {"request_type": "access"}, "open_while_missing": [],
                                                    "open_while_set": ["acknowledged"]}}
    r = evaluate_in({"data_subject_requests": rows}, [strict], as_of)["strict"]
    # unverified is no longer a reason; an acknowledgement is
    assert r.by_reason == {"open_without_reason": 1, "recorded_acknowledged": 1}
