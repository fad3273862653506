"""password_hash: stored passwords not hashed with an adaptive hash."""
from __future__ import annotations

from typing import Literal

from ...engine import q
from ..base import Check, Render, TableParams, Validator, rate
from ..sql import first_anchor


class Params(TableParams):
    check: Literal["password_hash"] = "password_hash"
    table: str = "accounts"
    column: str = "password_hash"


class PasswordHash(Check):
    Params = Params
    # weak formats are reasons of their own (md5_like, fast_hash, not_a_known_hash): violations
    outcomes = {"no_password": "unknown", "adaptive_hash": "ok"}

    def validate_table(self, p: Params, t, v: Validator) -> None:
        v.column(t, p.column, "params.column")

    def bind(self, r: Render) -> dict:
        return {"column": q(r.params.column), "anchor": first_anchor(r.table)}

    def describe(self, res: dict, p: Params | None) -> str:
        return (f"**{res['violations']:,}** of {res['population']:,} stored passwords ({rate(res)}) are not hashed "
                "with bcrypt, argon2, scrypt or PBKDF2.")

    def gx_hints(self, p: Params, contract, as_of) -> list:
        return [(p.table, "ExpectColumnValuesToMatchRegex",
                 {"column": p.column,
                  "regex": r"^(\$2[aby]\$\d\d\$.{53}|\$argon2(id|i|d)\$|\$scrypt\$|\$7\$|pbkdf2_sha(256|512)\$)"})]


CHECK = PasswordHash()
