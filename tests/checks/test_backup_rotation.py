"""backup_rotation: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

from rows import erasure_world

AS_OF = date(2026, 6, 15)


def test_backups_held_purged_late_in_time_and_within_rotation(evaluate_in):
    pledges = [{"id": "bk", "kind": "erasure", "check": "backup_rotation", "params": {"rotation": "30 days"}}]
    r = evaluate_in(erasure_world(), pledges, AS_OF)
    assert r["bk"].by_reason == {"still_held": 1, "purged_in_time": 1, "purged_late": 1, "within_rotation": 1}
    assert (r["bk"].violations, r["bk"].population) == (2, 4)
