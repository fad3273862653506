"""third_party_identifiers: direct identifiers in data shared with third parties."""
from __future__ import annotations

from typing import Literal

from ...engine import q
from ...claims import Data, Value, pledge_claim, pledge_data
from ..base import Check, Render, TableParams, Validator, rate
from ..sql import first_anchor


class Params(TableParams):
    """Direct identifiers in data shared with third parties."""

    check: Literal["third_party_identifiers"] = "third_party_identifiers"
    table: str = "affiliate_exports"
    columns: list[str] | None = None  # default: every pii column of the table


def _columns(p: Params, t) -> list[str]:
    return p.columns or [c.name for c in t.pii_columns]


class ThirdPartyIdentifiers(Check):
    Params = Params
    # a hit's reason names the first identifying column found
    outcomes = {"none": "ok"}
    measure_label = "identifiers in the shared row"

    def validate_table(self, p: Params, t, v: Validator) -> None:
        for c in p.columns or []:
            v.column(t, c, "params.columns")

    def bind(self, r: Render) -> dict:
        return {"columns": [{"ident": q(c), "label": r.b.bind(c)} for c in _columns(r.params, r.table)],
                "anchor": first_anchor(r.table)}

    def describe(self, res: dict, p: Params | None) -> str:
        return (f"**{res['violations']:,}** of {res['population']:,} rows shared with third parties ({rate(res)}) "
                "carry a direct identifier.")

    def gx_hints(self, p: Params, contract, as_of) -> list:
        return [(p.table, "ExpectColumnValuesToBeNull", {"column": c}) for c in _columns(p, contract.table(p.table))]

    def claims(self, p) -> list:
        d = pledge_data(p)
        d = Data(d.category, d.tables, d.where, d.scope, p.params.table, d.jurisdictions)
        # "no direct identifiers" names no field list: compared with nothing (only explicit lists are)
        return [pledge_claim(p, "recipient_fields", Value("no_identifiers", text="no direct identifiers"), d)]


CHECK = ThirdPartyIdentifiers()
