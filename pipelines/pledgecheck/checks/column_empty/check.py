"""column_empty: a column that must hold no values (e.g. a CVV)."""
from __future__ import annotations

from typing import Literal

from ...engine import q
from ...claims import Value, pledge_claim, pledge_data
from ..base import Check, Render, TableParams, Validator, rate
from ..sql import first_anchor


class Params(TableParams):
    """A column that must hold no values (e.g. CVV)."""

    check: Literal["column_empty"] = "column_empty"
    column: str


class ColumnEmpty(Check):
    Params = Params
    outcomes = {"empty": "ok", "value_present": "violation"}

    def validate_table(self, p: Params, t, v: Validator) -> None:
        v.column(t, p.column, "params.column")

    def bind(self, r: Render) -> dict:
        return {"column": q(r.params.column), "anchor": first_anchor(r.table)}

    def describe(self, res: dict, p: Params | None) -> str:
        return f"**{res['violations']:,}** of {res['population']:,} rows ({rate(res)}) hold a value in a column that must stay empty."

    def gx_hints(self, p: Params, contract, as_of) -> list:
        return [(p.table, "ExpectColumnValuesToBeNull", {"column": p.column})]

    def claims(self, p) -> list:
        return [pledge_claim(p, "collected", Value("no", text="not kept"), pledge_data(p, scope=[p.params.column]))]


CHECK = ColumnEmpty()
