"""column_empty: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

AS_OF = date(2026, 6, 15)


def test_values_in_a_column_that_must_stay_empty(evaluate_in):
    payments = [{"payment_id": f"p{i}", "order_id": f"o{i}", "account_id": "a1", "paid_at": "2026-01-01T00:00:00Z",
                 "cvv": cvv} for i, cvv in enumerate([None, "", "   ", "123", "0"])]
    pledges = [{"id": "cvv", "kind": "security", "check": "column_empty", "params": {"table": "payments",
                                                                                   "column": "cvv"}}]
    r = evaluate_in({"payments": payments}, pledges, AS_OF)
    # null, empty and blank are empty; "123" and "0" are stored values
    assert (r["cvv"].violations, r["cvv"].population) == (2, 5)
    assert r["cvv"].by_reason == {"empty": 3, "value_present": 2}
