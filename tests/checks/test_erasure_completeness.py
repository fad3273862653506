"""erasure_completeness: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

from rows import erasure_world

AS_OF = date(2026, 6, 15)


def test_leftovers_after_completed_erasures_only(evaluate_in):
    pledges = [{"id": "er", "kind": "erasure", "check": "erasure_completeness",
                "params": {"tables": ["support_tickets"], "grace": "30 days"}}]
    r = evaluate_in(erasure_world(), pledges, AS_OF)
    # t1 only: t2 came after the erasure, t3 is within the grace, t4's erasure failed
    assert (r["er"].violations, r["er"].population) == (1, 1)
