"""card_numbers: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

import pytest

from pledgecheck import runner

AS_OF = date(2026, 6, 15)


def test_card_numbers_every_brand_and_no_false_positives(evaluate_in):
    comments = {
        "visa": "pay with 4111 1111 1111 1111 please",
        "mc2": "card 2221-0000-0000-0009",
        "amex": "378282246310005",
        "discover": "6011111111111117",
        "jcb": "3530111333300000",
        "diners": "30569309025904",
        "unionpay": "6200000000000005",
        "masked": "4111 **** **** 1111",
        "masked2": "411111XXXXXX1111",
        "last4": "card ending 1111",
        "luhn_bad": "4111 1111 1111 1112",
        "long_run": "order 41111111111111110000000",
        "two": "4111111111111111 and 5555555555554444",
        "maestro12": "501234567896",        # 12 characters, the shortest text that can hold a card
        "eleven": "50123456789",
    }
    orders = [{"order_id": k, "account_id": "a", "ordered_at": "2025-01-01T00:00:00Z", "amount": "1.00",
               "currency": "EUR", "comment": v} for k, v in comments.items()]
    pledge = {"id": "cards", "kind": "minimization", "check": "card_numbers", "params": {"tables": ["orders"]}}
    r = evaluate_in({"orders": orders}, [pledge], AS_OF)["cards"]
    # 9 rows with numbers (visa, mc2, amex, discover, jcb, diners, unionpay, two, maestro12); 6 clean
    assert r.violations == 9
    assert r.population == 15


def test_card_numbers_over_several_tables_one_table_at_a_time_equal_the_union(evaluate_in):
    """A multi-table card search is compacted table by table and merged; the result must be
    the one the single union query gives: counts, segments, measures and offenders, with a
    subject that holds cards in two tables and in two columns of one row."""
    orders = [{"order_id": f"o{i}", "account_id": acc, "ordered_at": "2025-01-01T00:00:00Z", "amount": "1.00",
               "currency": "EUR", "comment": text, "shipping_name": name}
              for i, (acc, text, name) in enumerate([("a", "4111 1111 1111 1111", "5555555555554444"),
                                                     ("a", "378282246310005", None), ("b", "no card", None),
                                                     ("c", "6011111111111117", None)])]
    tickets = [{"ticket_id": f"t{i}", "account_id": acc, "created_at": "2025-01-01T00:00:00Z", "body": text}
               for i, (acc, text) in enumerate([("a", "my card 4111-1111-1111-1111"), ("b", "hello"),
                                                ("d", "30569309025904"), (None, "4111111111111111")])]
    pledge = {"id": "cards", "kind": "minimization", "check": "card_numbers",
              "params": {"tables": ["orders", "support_tickets"]}}
    parts = evaluate_in({"orders": orders, "support_tickets": tickets}, [pledge], AS_OF)["cards"]

    real_render = runner.render

    def union_only(*args, **kwargs):
        rendered = real_render(*args, **kwargs)
        assert len(rendered.parts) == 2   # the path under test was taken above
        rendered.parts = []
        return rendered
    with pytest.MonkeyPatch.context() as mp:   # (test_spark reuses this test with evaluate_in only)
        mp.setattr(runner, "render", union_only)
        union = evaluate_in({"orders": orders, "support_tickets": tickets}, [pledge], AS_OF)["cards"]

    assert parts.to_dict() == union.to_dict()
    assert (parts.violations, parts.population) == (6, 8)
    assert {s["segment"]: s["violations"] for s in parts.by_segment} == {"orders": 3, "support_tickets": 3}
    # subject a: 3 rows in 2 tables, worst 2 columns in one row; the NULL subject is no offender
    assert [(o["violations"], o["worst"]) for o in parts.offenders] == [(3, 2.0), (1, 1.0), (1, 1.0)]


def test_card_numbers_row_by_row_finds_what_the_distinct_value_search_finds(evaluate_in):
    """Spark searches every text row by row (`distinct_values=False`), DuckDB once per distinct
    value joined back to the rows: the same rows, counts and offenders, with repeated values,
    NULLs and a value repeated in two columns."""
    orders = [{"order_id": f"o{i}", "account_id": acc, "ordered_at": "2025-01-01T00:00:00Z", "amount": "1.00",
               "currency": "EUR", "comment": text, "shipping_name": name}
              for i, (acc, text, name) in enumerate([("a", "4111 1111 1111 1111", "4111 1111 1111 1111"),
                                                     ("a", "4111 1111 1111 1111", None), ("b", None, None),
                                                     ("c", "6011111111111117", "no card at all"),
                                                     ("c", "no card at all", "no card at all")])]
    pledge = {"id": "cards", "kind": "minimization", "check": "card_numbers", "params": {"tables": ["orders"]}}
    distinct = evaluate_in({"orders": orders}, [pledge], AS_OF)["cards"]
    real_render = runner.render
    seen = []

    def row_by_row(*args, **kwargs):
        rendered = real_render(*args[:5], distinct_values=False)
        seen.append("left join" in rendered.sql.lower())
        return rendered
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "render", row_by_row)
        rows = evaluate_in({"orders": orders}, [pledge], AS_OF)["cards"]
    assert seen and not any(seen)   # the row-by-row form was evaluated: no join back
    assert rows.to_dict() == distinct.to_dict()
    assert (distinct.violations, distinct.population) == (3, 5)
    assert [(o["violations"], o["worst"]) for o in distinct.offenders] == [(2, 2.0), (1, 1.0)]
