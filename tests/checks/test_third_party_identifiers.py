"""third_party_identifiers: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

AS_OF = date(2026, 6, 15)


def row(n, **pii):
    return {"export_id": "x1", "row_no": n, "webmaster_id": "wm1", "exported_at": "2026-01-05T00:00:00Z",
            "country": "FR", **pii}


def test_identifiers_in_shared_rows_by_first_column_found(evaluate_in):
    rows = [row(1), row(2, email="a@example.test"), row(3, name="Ann", ip="192.0.2.1"), row(4, address="  ")]
    pledges = [{"id": "tp", "kind": "sharing", "check": "third_party_identifiers", "params": {}},
               {"id": "ip", "kind": "sharing", "check": "third_party_identifiers", "params": {"columns": ["ip"]}}]
    r = evaluate_in({"affiliate_exports": rows}, pledges, AS_OF)
    # a blank address is no identifier; the reason is the first identifying column in contract order
    assert (r["tp"].violations, r["tp"].population) == (2, 4)
    assert r["tp"].by_reason == {"none": 2, "email": 1, "name": 1}
    assert r["tp"].measure["violation_max"] == 2.0           # row 3 carries two identifiers
    assert (r["ip"].violations, r["ip"].by_reason) == (1, {"none": 3, "ip": 1})
