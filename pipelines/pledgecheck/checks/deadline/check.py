"""deadline: time from a start to an end event against a limit (request and incident deadlines)."""
from __future__ import annotations

from typing import Literal

from ...duration import Duration
from ...claims import pledge_claim, duration_value
from ..base import Check, Render, Strict, TableParams, Validator, num
from ..sql import segment


class Extension(Strict):
    by: Duration
    notice: str = "extension_notified"
    notice_within: Duration | None = None  # default: within the original limit


class Params(TableParams):
    """Time from `start` to `end` (contract anchors) against `limit` (+ extension)."""

    check: Literal["deadline"] = "deadline"
    start: str
    end: str
    limit: Duration
    extension: Extension | None = None
    calendar: str | None = None  # holidays country (e.g. LU, GB, US-CA) for business days
    next_working_day: bool = False
    due_soon: Duration = Duration(days=7)


class Deadline(Check):
    Params = Params
    outcomes = {"not_started": "unknown", "future": "unknown", "on_time": "ok", "late": "violation",
                "overdue": "violation", "due_soon": "due_soon", "open": "open"}
    measure_label = "days to respond"
    report_charts = ("distribution", "by_segment")

    def validate_table(self, p: Params, t, v: Validator) -> None:
        v.anchor(t, p.start, "params.start")
        v.anchor(t, p.end, "params.end")
        if p.extension:
            v.anchor(t, p.extension.notice, "params.extension.notice")

    def bind(self, r: Render) -> dict:
        p, t, b = r.params, r.table, r.b
        hours = p.limit.unit == "hours"
        sdate = "CAST(start_at AS DATE)"
        due = b.add(sdate if not hours else "start_at", p.limit, p.calendar)
        if p.next_working_day and not hours and p.limit.unit != "business_days":
            due = b.next_working_day(due, p.calendar)
        if p.extension:
            ext = p.extension
            if ext.by.unit == p.limit.unit:
                total = Duration(**{p.limit.unit: p.limit.amount + ext.by.amount})
                extended = b.add(sdate if not hours else "start_at", total, p.calendar)
            else:
                extended = b.add(f"CAST({due} AS DATE)" if not hours else due, ext.by, p.calendar)
            if p.next_working_day and not hours and p.limit.unit != "business_days":
                extended = b.next_working_day(extended, p.calendar)
            notice_deadline = b.add(sdate, ext.notice_within, p.calendar) if ext.notice_within else (
                f"CAST({due} AS DATE)")
            notice = t.anchors[ext.notice]
        else:
            extended, notice_deadline, notice = due, "CAST(NULL AS DATE)", "CAST(NULL AS TIMESTAMP)"
        soon = b.add("$as_of", p.due_soon, p.calendar) if p.due_soon.unit != "hours" else \
            b.add("CAST($as_of AS TIMESTAMP)", p.due_soon)
        return {"start": t.anchors[p.start], "end": t.anchors[p.end], "notice": notice, "due_expr": due,
                "extended_expr": extended, "notice_deadline_expr": notice_deadline,
                "end_cmp": "end_at" if hours else "CAST(end_at AS DATE)",
                "as_of_due": "CAST($as_of AS TIMESTAMP)" if hours else "$as_of",
                "soon_due": soon, "segment": segment(t, "request_type", "jurisdiction")}


    def describe(self, res: dict, p: Params | None) -> str:
        pop, m = res["population"], res.get("measure") or {}
        limit = "the deadline"
        if p is not None:
            limit = str(p.limit)
            if p.extension:
                limit += f", +{p.extension.by} when the person is told in time"
        late = (res.get("by_reason") or {}).get("late", 0)
        overdue = (res.get("by_reason") or {}).get("overdue", 0)
        text = (f"{pop:,} requests in scope. **{late:,}** were answered after the deadline ({limit}) and "
                f"**{overdue:,}** are still open past it. Open within the deadline: {res['open'] + res['due_soon']:,}, "
                f"of which {res['due_soon']:,} fall due within days. ")
        if m.get("p50") is not None:
            text += (f"Time to respond (or, for open requests, time so far): median {num(m.get('p50'))} days, "
                     f"95th percentile {num(m.get('p95'))} days.")
        return text

    def claims(self, p) -> list:
        ext = p.params.extension.by if p.params.extension else None
        return [pledge_claim(p, "response_deadline", duration_value(p.params.limit, p.quote, extension=ext))]


CHECK = Deadline()
