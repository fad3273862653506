"""k_anonymity: shared aggregate cells that describe fewer than k people."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...engine import q
from ...claims import Value, pledge_claim
from ..base import Check, Render, TableParams, Validator, rate
from ..sql import first_anchor, segment


class Params(TableParams):
    check: Literal["k_anonymity"] = "k_anonymity"
    table: str = "shared_aggregates"
    count_column: str = "member_count"
    k: int = Field(5, ge=2)


class KAnonymity(Check):
    Params = Params
    outcomes = {"at_least_k": "ok", "below_k": "violation"}
    measure_label = "people in the shared cell"

    def validate_table(self, p: Params, t, v: Validator) -> None:
        v.column(t, p.count_column, "params.count_column")

    def bind(self, r: Render) -> dict:
        return {"count_column": q(r.params.count_column), "k": r.b.bind(r.params.k), "anchor": first_anchor(r.table),
                "segment": segment(r.table, "recipient")}


    def describe(self, res: dict, p: Params | None) -> str:
        k = p.k if p else "k"
        return (f"**{res['violations']:,}** of {res['population']:,} shared cells ({rate(res)}) describe fewer than "
                f"k = {k} people, so a member of such a cell can be singled out.")

    def gx_hints(self, p: Params, contract, as_of) -> list:
        return [(p.table, "ExpectColumnValuesToBeBetween", {"column": p.count_column, "min_value": p.k})]

    def claims(self, p) -> list:
        return [pledge_claim(p, "k_anonymity", Value("number", p.params.k, p.params.k, f"{p.params.k} people"))]


CHECK = KAnonymity()
