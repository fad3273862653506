"""usage_limit: subjects over a usage limit per calendar month or year."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..base import Check, Render, Rule, TableParams
from ..sql import first_anchor


class Params(TableParams):
    check: Literal["usage_limit"] = "usage_limit"
    table: str = "downloads"
    per: Literal["calendar_month", "calendar_year"] = "calendar_month"
    max: int = Field(ge=0)


class UsageLimit(Check):
    Params = Params
    outcomes = {"within_limit": "ok", "over_limit": "violation"}
    measure_label = "uses in the period"
    terms = ("max",)

    def bind(self, r: Render) -> dict:
        p = r.params
        return {"anchor": first_anchor(r.table), "max": r.b.bind(p.max),
                "unit": r.b.bind("month" if p.per == "calendar_month" else "year")}

    def rule(self, p: Params) -> Rule:
        return Rule(float(p.max), True, f"at most {p.max} per {p.per.replace('_', ' ')}")


CHECK = UsageLimit()
