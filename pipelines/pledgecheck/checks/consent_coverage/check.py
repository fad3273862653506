"""consent_coverage: events that happened while the person had a valid consent for the purpose."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...duration import Duration
from ...claims import Value, pledge_claim, pledge_data, duration_value
from ..base import Check, Render, TableParams, Validator
from ..sql import Binder, first_anchor, scope, segment, subject, used_params


class Params(TableParams):
    """Each event joined to the subject's consent state for `purpose` at that instant."""

    check: Literal["consent_coverage"] = "consent_coverage"
    purpose: str
    validity: Duration | None = None
    threshold: float = Field(1.0, ge=0, le=1)


class ConsentCoverage(Check):
    Params = Params
    outcomes = {"null_time": "unknown", "future": "unknown", "covered": "ok", "no_consent": "violation",
                "withdrawn": "violation", "expired": "violation"}
    measure_label = "days since the consent"
    report_charts = ("over_time", "distribution")
    CONSENT_TABLE = "consent_events"

    def validate_table(self, p: Params, t, v: Validator) -> None:
        purposes = v.contract.tables[self.CONSENT_TABLE].columns["purpose"].values or ()
        if p.purpose not in purposes:
            v.add("params.purpose", f"unknown consent purpose {p.purpose!r}; known: {', '.join(purposes)}")

    def bind(self, r: Render) -> dict:
        r.tables.append(self.CONSENT_TABLE)
        return {"event_time": first_anchor(r.table), "purpose": r.b.bind(r.params.purpose),
                "segment": segment(r.table, "jurisdiction")}

    def join_count_sql(self, t, pledges: list, purpose: str, as_of, events_from: str,
                       consents_from: str) -> tuple[str, dict]:
        """The as-of join of check.sql alone, counting only: events of `pledges` (one table,
        one purpose; the union of their scopes) and how many have a consent state before
        them. The benchmark's `bound` times it as work no exact run can skip. It repeats the
        join of check.sql on purpose (no outcome, no validity, no compaction)."""
        b = Binder(as_of)
        scopes = " OR ".join(f"({scope(b, t, pl, pl.params.where)})" for pl in pledges)
        sql = f"""WITH events AS (
                SELECT {subject(t)} AS subject_id, {first_anchor(t)} AS event_at FROM {events_from}
                WHERE {scopes}),
            consents AS (   -- the purpose's rows only are parsed: the filter is applied first
                SELECT subject_id, ts AS consent_at, bool_or(action = 'withdrawn') AS withdrawn
                FROM {consents_from} WHERE purpose = {b.bind(purpose)} GROUP BY subject_id, ts)
            SELECT count(*), count(consent_at) FROM events e ASOF LEFT JOIN consents c
                ON c.subject_id = e.subject_id AND c.consent_at <= e.event_at"""
        return sql, used_params(b.params, sql)


    def threshold(self, p: Params) -> float:
        return p.threshold

    def describe(self, res: dict, p: Params | None) -> str:
        pop, v = res["population"], res["violations"]
        cov, thr = res.get("coverage"), res.get("threshold")
        purpose = p.purpose if p else "the purpose"
        text = (f"**{100 * (cov or 0):.2f}%** of the {pop:,} events in scope happened while the person had a valid "
                f"`{purpose}` consent on record" + (f" (the pledge allows down to {100 * thr:.0f}%)" if thr is not None
                                                     and thr < 1 else " (the pledge requires all of them)") + ".")
        if v:
            why = ", ".join(f"{k.replace('_', ' ')} {c:,}" for k, c in sorted((res.get("by_reason") or {}).items())
                            if k != "covered")
            text += f" The {v:,} uncovered events, by reason: {why}."
        return text

    def claims(self, p) -> list:
        prm = p.params
        data = pledge_data(p, where={**prm.where, "purpose": prm.purpose})
        out = [pledge_claim(p, "consent_mode", Value("mode", text="explicit"), data)]
        if prm.validity is not None:
            out.append(pledge_claim(p, "consent_validity", duration_value(prm.validity, p.quote), data))
        return out


CHECK = ConsentCoverage()
