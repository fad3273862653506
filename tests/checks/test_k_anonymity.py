"""k_anonymity: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

AS_OF = date(2026, 6, 15)


def test_cells_below_k_and_empty_cells(evaluate_in):
    cells = [{"share_id": "s", "cell_id": str(i), "recipient": "r", "shared_at": "2025-01-01T00:00:00Z",
              "member_count": n} for i, n in enumerate([1, 4, 5, 100, 0])]
    pledges = [{"id": "k", "kind": "sharing", "check": "k_anonymity", "params": {"k": 5}}]
    r = evaluate_in({"shared_aggregates": cells}, pledges, AS_OF)
    # 1 and 4 are below k = 5; an empty cell (0 people) describes no one and is not assessed
    assert (r["k"].violations, r["k"].population) == (2, 4)
