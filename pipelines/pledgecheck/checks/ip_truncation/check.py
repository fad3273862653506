"""ip_truncation: IP addresses stored in full where the policy promises them truncated."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...duration import Duration
from ...engine import q
from ...claims import pledge_claim, duration_value
from ..base import Check, Render, TableParams, Validator, rate
from ..sql import first_anchor


class Params(TableParams):
    """IP addresses not truncated (IPv4 /24, IPv6 /48) once older than `after`."""

    check: Literal["ip_truncation"] = "ip_truncation"
    column: str = "ip"
    from_: str | None = Field(None, alias="from")  # default: the table's first anchor
    after: Duration = Duration(days=0)


class IpTruncation(Check):
    Params = Params
    # a full address's reason is 'full_ipv4' or 'full_ipv6' (a violation)
    outcomes = {"not_an_ip": "unknown", "null_time": "unknown", "future": "unknown", "truncated": "ok",
                "within_window": "ok"}

    def validate_table(self, p: Params, t, v: Validator) -> None:
        v.column(t, p.column, "params.column")
        if p.from_:
            v.anchor(t, p.from_, "params.from")

    def bind(self, r: Render) -> dict:
        p, t = r.params, r.table
        return {"column": q(p.column), "anchor": t.anchors[p.from_] if p.from_ else first_anchor(t)}


    def describe(self, res: dict, p: Params | None) -> str:
        return (f"**{res['violations']:,}** of {res['population']:,} logged IP addresses ({rate(res)}) are stored in "
                "full instead of truncated (IPv4 to /24, IPv6 to /48).")

    def gx_hints(self, p: Params, contract, as_of) -> list:
        return [(p.table, "ExpectColumnValuesToMatchRegex",
                 {"column": p.column,
                  "regex": r"^(\d{1,3}\.\d{1,3}\.\d{1,3}\.0|[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){0,2}::)$"})]

    def claims(self, p) -> list:
        return [pledge_claim(p, "anonymized_after", duration_value(p.params.after, p.quote, zero_is_unstated=True))]


CHECK = IpTruncation()
