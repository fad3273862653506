"""optout_latency: marketing sent after the person opted out, beyond the promised delay."""
from __future__ import annotations

from typing import Literal

from ...duration import Duration
from ...claims import pledge_claim, duration_value
from ..base import Check, Render, TableParams, num, rate
from ..sql import segment


class Params(TableParams):
    """Sends after an opt-out, beyond the promised `grace`."""

    check: Literal["optout_latency"] = "optout_latency"
    table: str = "marketing_sends"
    grace: Duration = Duration(days=0)


class OptoutLatency(Check):
    Params = Params
    outcomes = {"null_time": "unknown", "future": "unknown", "no_optout": "ok", "sent_after_optout": "violation"}
    measure_label = "days from opt-out to send"
    report_charts = ("over_time", "distribution")

    def bind(self, r: Render) -> dict:
        r.tables.append("unsubscribes")
        return {"segment": segment(r.table, "channel")}


    def describe(self, res: dict, p: Params | None) -> str:
        v, pop, m = res["violations"], res["population"], res.get("measure") or {}
        grace = f"{p.grace}" if p else "the promised delay"
        text = f"**{v:,}** of {pop:,} marketing sends ({rate(res)}) went to people more than {grace} after they opted out."
        if v and m.get("violation_p50") is not None:
            text += f" Median delay after the opt-out: {num(m.get('violation_p50'))} days."
        return text

    def claims(self, p) -> list:
        return [pledge_claim(p, "optout_delay", duration_value(p.params.grace, p.quote, zero_is_unstated=True))]


CHECK = OptoutLatency()
