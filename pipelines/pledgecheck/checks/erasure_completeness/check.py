"""erasure_completeness: personal data left behind after an erasure completed."""
from __future__ import annotations

from typing import Literal

from ...duration import Duration
from ...engine import q
from ...claims import pledge_claim, pledge_data, duration_value
from ..base import Check, Render, Strict, Validator, num, rate
from ..sql import first_anchor, record_id, subject


class Params(Strict):
    """Personal data left in non-exempt tables after an erasure completed (+ grace)."""

    check: Literal["erasure_completeness"] = "erasure_completeness"
    tables: list[str]
    grace: Duration = Duration(days=0)


# The subjects whose erasure completed, with the instant of their last completed erasure:
# read by this check and by backup_rotation (one definition for both).
ERASED = """select account_id as subject_id, max(erased_at) as erased_at
    from erasure_log
    where status = 'completed'
    group by account_id"""


class ErasureCompleteness(Check):
    Params = Params
    outcomes = {"legal_hold": "exempt", "not_erased": "violation"}
    measure_label = "days since the erasure"
    reads_one_table = False

    def validate(self, p: Params, v: Validator) -> None:
        for name in p.tables:
            t = v.table(name, "params.tables")
            if t is not None and t.subject_column is None:
                v.add("params.tables", f"table {name} has no subject column")

    def bind(self, r: Render) -> dict:
        names = [n for n in r.params.tables if r.present is None or n in r.present]
        r.tables.append("erasure_log")
        c = r.contract
        return {"erased": ERASED, "tables": [{"ident": q(n), "subject": subject(c.table(n)), "record_id": record_id(c.table(n)),
                            "label": r.b.bind(n), "anchor": first_anchor(c.table(n))} for n in names]}

    def describe(self, res: dict, p: Params | None) -> str:
        return _erasure_text(res, "rows still held for people whose erasure was completed")

    def claims(self, p) -> list:
        return [pledge_claim(p, "erasure_delay", duration_value(p.params.grace, p.quote, zero_is_unstated=True),
                             pledge_data(p, tables=p.params.tables))]


def _erasure_text(res: dict, what: str) -> str:
    m = res.get("measure") or {}
    text = f"**{res['violations']:,}** of {res['population']:,} {what} ({rate(res)})."
    if res["violations"] and m.get("violation_p50") is not None:
        text += f" Median {num(m.get('violation_p50'))} days, worst {num(m.get('violation_max'))} days."
    if res["exempt"]:
        text += f" {res['exempt']:,} are exempt under a legal hold."
    return text


CHECK = ErasureCompleteness()
