"""tcf_strings: stored TCF v2 consent strings that do not decode, break v2.2 or contradict the record."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from ...engine import q
from ..base import Check, Render, TableParams, Validator


class Params(TableParams):
    """TCF v2 consent strings that do not decode, break TCF v2.2 rules, or contradict the
    consent record they are stored with (`purposes`: consent purpose -> TCF purpose ids)."""

    check: Literal["tcf_strings"] = "tcf_strings"
    table: str = "consent_events"
    column: str = "tcf_string"
    purposes: dict[str, list[Annotated[int, Field(ge=1, le=24)]]] = Field(
        default_factory=lambda: {"advertising": [3, 4], "personalization": [5, 6], "analytics": [8, 9]})
    v22_from: date = date(2023, 11, 20)   # strings created since then must be TCF v2.2 (policy version >= 4)


class TcfStrings(Check):
    Params = Params
    # every other reason (a decoding error, a broken rule) names what is wrong with the string
    outcomes = {"valid": "ok"}

    def validate_table(self, p: Params, t, v: Validator) -> None:
        v.column(t, p.column, "params.column")
        if t is None:
            return
        for name in ("purpose", "action", "ts"):
            v.column(t, name, "params.table")
        known = t.columns["purpose"].values if "purpose" in t.columns else None
        for purpose in p.purposes:
            if known and purpose not in known:
                v.add("params.purposes", f"unknown consent purpose {purpose!r}; known: {', '.join(known)}")

    def bind(self, r: Render) -> dict:
        p, b = r.params, r.b
        return {"column": q(p.column), "v22_from": b.bind(p.v22_from),
                "purposes": [{"purpose": b.bind(k), "ids": f"CAST({b.bind(list(v))} AS INTEGER[])"}
                             for k, v in sorted(p.purposes.items())]}


CHECK = TcfStrings()
