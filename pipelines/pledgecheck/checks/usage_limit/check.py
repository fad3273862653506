"""usage_limit: subjects over a usage limit per calendar month or year."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...claims import Value, pledge_claim, pledge_data
from ..base import Check, Render, TableParams
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

    def bind(self, r: Render) -> dict:
        p = r.params
        return {"anchor": first_anchor(r.table), "max": r.b.bind(p.max),
                "unit": r.b.bind("month" if p.per == "calendar_month" else "year")}


    def claims(self, p) -> list:
        prm = p.params
        d = pledge_data(p, where={**prm.where, "per": prm.per})
        return [pledge_claim(p, "usage_limit",
                             Value("number", prm.max, prm.max, f"{prm.max} per {prm.per.replace('_', ' ')}"), d)]


CHECK = UsageLimit()
