"""minimum_age: subjects younger than the minimum age at an instant (e.g. sign-up)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...duration import Duration
from ...claims import Value, pledge_claim
from ..base import Check, Render, TableParams, Validator


class Params(TableParams):
    check: Literal["minimum_age"] = "minimum_age"
    table: str = "accounts"
    min_age: int = Field(18, ge=1)
    at: str = "created"


class MinimumAge(Check):
    Params = Params
    outcomes = {"no_date_of_birth": "unknown", "null_time": "unknown", "future": "unknown", "of_age": "ok",
                "under_age": "violation"}
    measure_label = "age in years"

    def validate_table(self, p: Params, t, v: Validator) -> None:
        v.anchor(t, p.at, "params.at")
        v.column(t, "date_of_birth", "params.table")

    def bind(self, r: Render) -> dict:
        return {"anchor": r.table.anchors[r.params.at], "min_age": Duration(years=r.params.min_age)}


    def claims(self, p) -> list:
        n = p.params.min_age
        return [pledge_claim(p, "min_age", Value("number", n, n, f"{n} years"))]


CHECK = MinimumAge()
