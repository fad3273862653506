"""usage_limit: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

AS_OF = date(2026, 6, 15)


def test_monthly_limit_in_utc_months(evaluate_in):
    downloads = ([{"download_id": f"d{i}", "account_id": "a1", "downloaded_at": f"2025-01-{i + 1:02d}T10:00:00Z"}
                  for i in range(11)] +
                 [{"download_id": f"e{i}", "account_id": "a2", "downloaded_at": f"2025-01-{i + 1:02d}T10:00:00Z"}
                  for i in range(10)] +
                 [{"download_id": "f1", "account_id": "a1", "downloaded_at": "2025-01-31T23:30:00-02:00"}])  # Feb 1 UTC
    pledges = [{"id": "dl", "kind": "usage_limit", "check": "usage_limit", "params": {"max": 10}}]
    r = evaluate_in({"downloads": downloads}, pledges, AS_OF)
    # a1: 11 in January (over), 1 in February; a2: 10 in January (at the limit)
    assert (r["dl"].violations, r["dl"].population) == (1, 3)
