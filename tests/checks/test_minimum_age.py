"""minimum_age: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

from rows import accounts_born_around_leap_days

AS_OF = date(2026, 6, 15)


def test_age_at_sign_up_with_leap_day_births(evaluate_in):
    pledges = [{"id": "age", "kind": "age", "check": "minimum_age", "params": {}}]
    r = evaluate_in({"accounts": accounts_born_around_leap_days()}, pledges, AS_OF)
    # a2 signed up the day before turning 18; a5 born 29 Feb signed up on 27 Feb of year 18
    assert (r["age"].violations, r["age"].population) == (2, 5)
