"""retention: records kept longer than their retention period."""
from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field

from ...duration import Duration
from ...claims import pledge_claim, pledge_data, duration_value
from ..base import Check, Render, TableParams, Validator, num, rate


class Params(TableParams):
    """Records kept longer than `period` after the instant `from` (a contract anchor)."""

    check: Literal["retention"] = "retention"
    from_: str = Field(alias="from")
    period: Duration
    exceptions: list[str] = Field(default_factory=lambda: ["legal_hold"])


class Retention(Check):
    Params = Params
    outcomes = {"null_time": "unknown", "future": "unknown", "within_period": "ok", "past_due": "violation"}
    measure_label = "days past the retention period"

    def validate_table(self, p: Params, t, v: Validator) -> None:
        v.anchor(t, p.from_, "params.from")
        for ex in p.exceptions:
            if ex != "legal_hold" and t is not None and ex not in t.exemptions:
                v.add("params.exceptions", f"table {t.name} has no exemption {ex!r}; "
                      f"known: legal_hold, {', '.join(sorted(t.exemptions)) or '(none)'}")

    def bind(self, r: Render) -> dict:
        p, t = r.params, r.table
        # the exceptions in the policy's order: a legal hold is a join, the others row conditions
        conds, row_ex = [], []
        for ex in p.exceptions:
            if ex == "legal_hold":
                conds.append("h.subject_id IS NOT NULL")
            else:
                row_ex.append({"expr": t.exemptions[ex]})
                conds.append(f"d.ex_{len(row_ex)}")
        if "legal_hold" in p.exceptions:
            r.tables.append("legal_holds")
        return {"anchor": t.anchors[p.from_], "exceptions": conds, "row_exemptions": row_ex,
                "exception_names": [r.b.bind(n) for n in p.exceptions]}

    def outcome_map(self, p: Params) -> dict[str, str]:
        return {**self.outcomes, **{ex: "exempt" for ex in p.exceptions}}


    def describe(self, res: dict, p: Params | None) -> str:
        v, pop, m = res["violations"], res["population"], res.get("measure") or {}
        text = (f"Of {pop:,} records in scope, **{v:,}** ({rate(res)}) are still kept although their retention "
                f"period ({p.period} from `{p.from_}`) ended before the as-of date." if p else
                f"{v:,} of {pop:,} records are kept past their retention period.")
        if v:
            text += (f" Half of them are more than {num(m.get('violation_p50'))} days past due; the oldest is "
                     f"{num(m.get('violation_max'))} days past due.")
        if res["exempt"]:
            text += f" {res['exempt']:,} more are past due but exempt (a legal hold or a listed exception)."
        return text

    def gx_hints(self, p: Params, contract, as_of) -> list:
        t = contract.table(p.table)
        col = t.anchors[p.from_].strip('"')
        if col in t.columns and p.period.unit in ("days", "months", "years"):
            days = p.period.amount * {"days": 1, "months": 31, "years": 366}[p.period.unit]
            return [(p.table, "ExpectColumnValuesToBeBetween", {"column": col,
                                                                "min_value": str(as_of - timedelta(days=days))})]
        return []

    def claims(self, p) -> list:
        from dataclasses import replace

        excludes = frozenset(e for e in p.params.exceptions if e != "legal_hold")
        return [pledge_claim(p, "max_retention", duration_value(p.params.period, p.quote),
                             replace(pledge_data(p), excludes=excludes))]


CHECK = Retention()
