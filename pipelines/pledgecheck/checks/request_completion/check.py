"""request_completion: requests of a right with no stated deadline are completed, or open for a
recorded reason. A policy that grants a right without a response time still promises that
requests are handled: every request of that type is completed, or still open for a reason the
export records (identity not verified yet, an extension notified)."""
from __future__ import annotations

from typing import Literal

from ...claims import Value, pledge_claim
from ..base import Check, Render, TableParams, Validator, num, rate
from ..sql import segment


class Params(TableParams):
    """Requests from `start` that must reach `end` (contract anchors), unless a reason to be open
    is recorded: an anchor of `open_while_missing` still empty (e.g. identity not verified), or an
    anchor of `open_while_set` present (e.g. an extension notified)."""

    check: Literal["request_completion"] = "request_completion"
    table: str = "data_subject_requests"
    start: str = "received"
    end: str = "completed"
    open_while_missing: list[str] = ["verified"]
    open_while_set: list[str] = ["extension_notified"]


def _pending(anchor: str) -> str:
    return f"awaiting_{anchor}"


def _recorded(anchor: str) -> str:
    return f"recorded_{anchor}"


class RequestCompletion(Check):
    Params = Params
    outcomes = {"not_started": "unknown", "future": "unknown", "completed": "ok"}
    measure_label = "days open or to completion"

    def validate_table(self, p: Params, t, v: Validator) -> None:
        v.anchor(t, p.start, "params.start")
        v.anchor(t, p.end, "params.end")
        for a in p.open_while_missing:
            v.anchor(t, a, "params.open_while_missing")
        for a in p.open_while_set:
            v.anchor(t, a, "params.open_while_set")

    def bind(self, r: Render) -> dict:
        p, t, b = r.params, r.table, r.b
        return {"start": t.anchors[p.start], "end": t.anchors[p.end],
                "pending": [{"expr": t.anchors[a], "reason": b.bind(_pending(a))} for a in p.open_while_missing],
                "recorded": [{"expr": t.anchors[a], "reason": b.bind(_recorded(a))} for a in p.open_while_set],
                "segment": segment(t, "request_type", "jurisdiction")}

    def outcome_map(self, p: Params) -> dict[str, str]:
        return {**self.outcomes, **{_pending(a): "open" for a in p.open_while_missing},
                **{_recorded(a): "open" for a in p.open_while_set}}

    def describe(self, res: dict, p: Params | None) -> str:
        v, pop, m = res["violations"], res["population"], res.get("measure") or {}
        text = (f"Of {pop:,} requests, **{v:,}** ({rate(res)}) are neither completed nor open for a recorded "
                "reason (no response time is stated, so an open request needs a reason the export shows).")
        if res.get("open"):
            text += f" {res['open']:,} more are open for a recorded reason."
        if v and m.get("violation_max") is not None:
            text += f" The oldest has been open {num(m.get('violation_max'))} days."
        return text

    def claims(self, p) -> list:
        # a right with no stated response time: the claim keeps that no number is stated
        return [pledge_claim(p, "response_deadline", Value("word", text="unstated"))]


CHECK = RequestCompletion()
