"""minimum_retention: records deleted before their minimum period; counts worked out by hand."""
from datetime import date

AS_OF = date(2026, 6, 15)
PLEDGE = {"id": "min7", "kind": "retention", "check": "minimum_retention",
          "params": {"table": "payments", "from": "paid", "period": "7 years"}}


def pay(i, paid, deleted=None):
    return {"payment_id": f"p{i}", "order_id": f"o{i}", "account_id": f"a{i}", "paid_at": paid, "deleted_at": deleted}


def test_deleted_too_early_and_boundaries(evaluate_in):
    rows = [
        pay(1, "2018-03-01T10:00:00Z"),                              # kept: ok
        pay(2, "2018-03-01T10:00:00Z", "2025-02-28T23:00:00Z"),      # earliest 2025-03-01: one day early
        pay(3, "2018-03-01T10:00:00Z", "2025-03-01T00:30:00Z"),      # deleted on the earliest day: ok
        pay(4, "2016-02-29T10:00:00Z", "2023-02-28T12:00:00Z"),      # 2016-02-29 + 7 y = 2023-02-28: ok
        pay(5, "2016-02-29T10:00:00Z", "2023-02-27T12:00:00Z"),      # a day early
        pay(6, "2026-07-01T10:00:00Z"),                              # paid after the as-of date
    ]
    r = evaluate_in({"payments": rows}, [PLEDGE], AS_OF)["min7"]
    assert r.by_reason == {"kept": 1, "deleted_early": 2, "deleted_after_minimum": 2, "future": 1}
    assert (r.violations, r.population, r.unknown) == (2, 5, 1)


def test_an_export_without_deletion_records_breaks_nothing(evaluate_in):
    rows = [{"payment_id": "p1", "order_id": "o1", "account_id": "a1", "paid_at": "2010-01-01T00:00:00Z"}]
    r = evaluate_in({"payments": rows}, [PLEDGE], AS_OF)["min7"]
    assert (r.violations, r.population) == (0, 1)
