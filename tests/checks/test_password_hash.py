"""password_hash: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

from rows import accounts_born_around_leap_days

AS_OF = date(2026, 6, 15)


def test_password_formats(evaluate_in):
    pledges = [{"id": "pw", "kind": "security", "check": "password_hash", "params": {}}]
    r = evaluate_in({"accounts": accounts_born_around_leap_days()}, pledges, AS_OF)
    # bcrypt and argon2 ok; md5 and plaintext violations; no password: unknown
    assert (r["pw"].violations, r["pw"].population, r["pw"].unknown) == (2, 4, 1)
    assert r["pw"].by_reason == {"adaptive_hash": 2, "md5_like": 1, "not_a_known_hash": 1, "no_password": 1}
