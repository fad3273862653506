"""pseudonymized: a column promised to hold pseudonyms that holds e-mail addresses."""
from __future__ import annotations

from typing import Literal

from ...engine import q
from ..base import Check, Render, TableParams, Validator
from ..sql import first_anchor


class Params(TableParams):
    """A column that must hold pseudonyms: a value holding an e-mail address is a violation."""

    check: Literal["pseudonymized"] = "pseudonymized"
    column: str


class Pseudonymized(Check):
    Params = Params
    outcomes = {"blank": "unknown", "pseudonym": "ok", "email_address": "violation"}

    def validate_table(self, p: Params, t, v: Validator) -> None:
        v.column(t, p.column, "params.column")

    def bind(self, r: Render) -> dict:
        return {"column": q(r.params.column), "anchor": first_anchor(r.table)}


CHECK = Pseudonymized()
