"""minimum_retention: records deleted too early (a deletion recorded before the minimum period ran
out). The counterpart of `retention`: "kept at least 7 years" is broken by a record whose deletion
is recorded (a row left with its deletion instant) before its anchor + period."""
from __future__ import annotations

import math

from typing import Literal

from pydantic import Field

from ...duration import Duration
from ...claims import Value, pledge_claim
from ..base import Check, Render, TableParams, Validator, num, rate
from ..sql import segment


class Params(TableParams):
    """Records whose `deleted` anchor lies before `from` + `period` (both contract anchors)."""

    check: Literal["minimum_retention"] = "minimum_retention"
    from_: str = Field(alias="from")
    period: Duration
    deleted: str = "deleted"


class MinimumRetention(Check):
    Params = Params
    outcomes = {"null_time": "unknown", "future": "unknown", "kept": "ok", "deleted_after_minimum": "ok",
                "deleted_early": "violation"}
    measure_label = "days deleted too early"

    def validate_table(self, p: Params, t, v: Validator) -> None:
        v.anchor(t, p.from_, "params.from")
        v.anchor(t, p.deleted, "params.deleted")

    def bind(self, r: Render) -> dict:
        p, t = r.params, r.table
        return {"anchor": t.anchors[p.from_], "deleted": t.anchors[p.deleted],
                "earliest_expr": r.b.add(f"CAST({t.anchors[p.from_]} AS DATE)", p.period),
                "segment": segment(t, "jurisdiction")}

    def describe(self, res: dict, p: Params | None) -> str:
        v, pop, m = res["violations"], res["population"], res.get("measure") or {}
        text = (f"Of {pop:,} records in scope, **{v:,}** ({rate(res)}) were deleted before their minimum "
                f"retention ({p.period} from `{p.from_}`) had run out." if p else
                f"{v:,} of {pop:,} records were deleted too early.")
        if v:
            text += f" The earliest deletion came {num(m.get('violation_max'))} days too soon."
        return text

    def claims(self, p) -> list:
        return [pledge_claim(p, "min_retention", Value("min", p.params.period.approx_days(), math.inf,
                                                       f"at least {p.params.period}"))]


CHECK = MinimumRetention()
