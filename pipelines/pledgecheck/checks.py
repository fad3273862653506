"""Render a check's SQL for one pledge.

Each check is a Jinja template in `sql/checks/<check>.sql`. Identifiers come from the export
contract (validated names, quoted); every value from a policy (periods, purposes, filters,
the as-of date) is bound as a DuckDB parameter, never pasted into the SQL text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources

import jinja2

from .contract import Contract, Table
from .duration import Duration
from .engine import q
from .errors import CheckError
from .policy import (
    AgeParams, BackupParams, CardParams, ColumnAbsentParams, ConsentParams, DeadlineParams,
    ErasureParams, IdentifierParams, IpParams, KAnonParams, OptOutParams, PasswordParams, Pledge,
    PseudonymParams, RetentionParams, TcfParams, UsageParams,
)

CHECK_DIR = "sql/checks"


@lru_cache(maxsize=None)
def template_text(check: str) -> str:
    return resources.files("pledgecheck").joinpath(f"{CHECK_DIR}/{check}.sql").read_text(encoding="utf-8")


def macros_sql() -> str:
    from .cards import duckdb_macros  # the card macros are derived from the one brand table

    return resources.files("pledgecheck").joinpath("sql/macros.sql").read_text(encoding="utf-8") + duckdb_macros()


def available_checks() -> list[str]:
    root = resources.files("pledgecheck").joinpath(CHECK_DIR)
    return sorted(p.name.removesuffix(".sql") for p in root.iterdir() if p.name.endswith(".sql"))


def header(check: str) -> dict[str, str]:
    """The `-- key: value` header of a check file (check, measures, semantics, verifies)."""
    out: dict[str, str] = {}
    key = None
    for line in template_text(check).splitlines():
        if not line.startswith("--"):
            break
        m = re.match(r"^--\s*([a-z_]+):\s*(.*)$", line)
        if m:
            key = m.group(1)
            out[key] = m.group(2).strip()
        elif key:
            out[key] += " " + line.lstrip("- ").strip()
    return out


_env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass
class Rendered:
    sql: str
    params: dict[str, object]
    tables: list[str]            # tables the check needs (must be present in the export)
    calendars: list[str] = field(default_factory=list)
    # A check over several tables whose SQL is a union of one independent query per table:
    # those queries (`sql` is their union), which the runner may evaluate one at a time.
    parts: list[str] = field(default_factory=list)

    def part_params(self, part: str) -> dict[str, object]:
        """The parameters one part uses."""
        return _used(self.params, part)


class _Binder:
    """Collects parameters and renders duration arithmetic."""

    def __init__(self, as_of: date, default_calendar: str | None = None):
        self.params: dict[str, object] = {"as_of": as_of}
        self.calendars: list[str] = []
        self.default_calendar = default_calendar

    def bind(self, value: object) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def add(self, expr: str, d: Duration, calendar: str | None = None) -> str:
        """`expr` (a DATE) + duration, as a DATE (hours: as a TIMESTAMP)."""
        n = self.bind(d.amount)
        if d.unit == "days":
            return f"({expr} + CAST({n} AS INTEGER))"
        if d.unit in ("months", "years"):
            fn = "to_months" if d.unit == "months" else "to_years"
            return f"CAST({expr} + {fn}(CAST({n} AS INTEGER)) AS DATE)"
        if d.unit == "hours":
            return f"(CAST({expr} AS TIMESTAMP) + to_hours(CAST({n} AS BIGINT)))"
        if d.unit == "business_days":
            calendar = calendar or self.default_calendar
            if not calendar:
                raise CheckError("a business-day period needs a holiday calendar: set `calendar` on the pledge "
                                 "or the policy")
            cal = self.calendar(calendar)
            # one subquery correlated by an equality only (a hash join), whatever the nesting
            return (f"(SELECT b2.d FROM calendar_days c JOIN business_days b2 ON b2.calendar = c.calendar "
                    f"AND b2.idx = c.prev_idx + CAST({n} AS INTEGER) WHERE c.calendar = {cal} AND c.d = {expr})")
        raise ValueError(d.unit)

    def add_ts(self, expr: str, d: Duration) -> str:
        """`expr` (a TIMESTAMP) + a calendar duration, as a TIMESTAMP."""
        n = self.bind(d.amount)
        fn = {"days": "to_days", "months": "to_months", "years": "to_years", "hours": "to_hours"}.get(d.unit)
        if fn is None:
            raise ValueError(f"{d} cannot be added to an instant (business days need a date and a calendar)")
        return f"({expr} + {fn}(CAST({n} AS INTEGER)))"

    def calendar(self, code: str) -> str:
        if code not in self.calendars:
            self.calendars.append(code)
        return self.bind(code)

    def next_working_day(self, expr: str, calendar: str | None) -> str:
        calendar = calendar or self.default_calendar
        if not calendar:
            raise CheckError("next_working_day needs a holiday calendar: set `calendar` on the pledge or the policy")
        cal = self.calendar(calendar)
        return (f"(SELECT b.d FROM calendar_days c JOIN business_days b ON b.calendar = c.calendar "
                f"AND b.idx = c.next_idx WHERE c.calendar = {cal} AND c.d = {expr})")


def _record_id(t: Table) -> str:
    if not t.key:
        return "CAST(NULL AS VARCHAR)"
    return " || '/' || ".join(f"CAST({q(k)} AS VARCHAR)" for k in t.key)


def _subject(t: Table) -> str:
    return q(t.subject_column) if t.subject_column else "CAST(NULL AS VARCHAR)"


def _first_anchor(t: Table) -> str:
    return next(iter(t.anchors.values()))


def _scope(b: _Binder, t: Table, pledge: Pledge, where: dict) -> str:
    parts = ["true"]
    for col, val in where.items():
        vals = val if isinstance(val, list) else [val]
        parts.append(f"list_contains({b.bind([_text(v) for v in vals])}, CAST({q(col)} AS VARCHAR))")
    if pledge.jurisdictions != "all" and "jurisdiction" in t.columns:
        parts.append(f"list_contains({b.bind(list(pledge.jurisdictions))}, {q('jurisdiction')})")
    return " AND ".join(parts)


def _text(v: object) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def _segment(t: Table, *cols: str) -> str:
    present = [c for c in cols if c in t.columns]
    if not present:
        return "'all'"
    return " || '/' || ".join(f"coalesce(CAST({q(c)} AS VARCHAR), '?')" for c in present)


def render(pledge: Pledge, contract: Contract, as_of: date, present: set[str] | None = None,
           calendar: str | None = None) -> Rendered:
    """The SQL and parameters that evaluate `pledge` (see docs/CHECKS.md).

    `calendar` is the policy's default holiday calendar, used where the pledge names none."""
    p = pledge.params
    b = _Binder(as_of, calendar)
    ctx: dict[str, object] = {"p": p, "as_of": "$as_of", "add": b.add, "add_ts": b.add_ts}
    tables: list[str] = []
    t: Table | None = None
    if hasattr(p, "table") and not isinstance(p, (CardParams, ErasureParams, BackupParams)):
        t = contract.table(p.table)
        tables.append(t.name)
        ctx.update(table=q(t.name), table_name=b.bind(t.name), subject=_subject(t), record_id=_record_id(t),
                   scope=_scope(b, t, pledge, p.where), segment=_segment(t, "jurisdiction"))

    if isinstance(p, RetentionParams):
        names = list(p.exceptions)
        conds = []
        for ex in names:
            conds.append("h.subject_id IS NOT NULL" if ex == "legal_hold" else None)
        row_ex = [{"expr": t.exemptions[ex]} for ex in names if ex != "legal_hold"]
        i = 0
        for k, ex in enumerate(names):
            if ex != "legal_hold":
                i += 1
                conds[k] = f"d.ex_{i}"
        ctx.update(anchor=t.anchors[p.from_], exceptions=conds, row_exemptions=row_ex,
                   exception_names=[b.bind(n) for n in names])
        if "legal_hold" in names:
            tables.append("legal_holds")
    elif isinstance(p, DeadlineParams):
        hours = p.limit.unit == "hours"
        start, end = t.anchors[p.start], t.anchors[p.end]
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
        ctx.update(start=start, end=end, notice=notice, due_expr=due, extended_expr=extended,
                   notice_deadline_expr=notice_deadline,
                   end_cmp="end_at" if hours else "CAST(end_at AS DATE)",
                   as_of_due="CAST($as_of AS TIMESTAMP)" if hours else "$as_of",
                   soon_due=soon, segment=_segment(t, "request_type", "jurisdiction"))
    elif isinstance(p, ConsentParams):
        ctx.update(event_time=_first_anchor(t), purpose=b.bind(p.purpose),
                   segment=_segment(t, "jurisdiction"))
        tables.append("consent_events")
    elif isinstance(p, OptOutParams):
        ctx.update(segment=_segment(t, "channel"))
        tables.append("unsubscribes")
    elif isinstance(p, IpParams):
        ctx.update(column=q(p.column), anchor=t.anchors[p.from_] if p.from_ else _first_anchor(t))
    elif isinstance(p, (ColumnAbsentParams, PasswordParams, PseudonymParams)):
        ctx.update(column=q(p.column), anchor=_first_anchor(t))
    elif isinstance(p, TcfParams):
        ctx.update(column=q(p.column), v22_from=b.bind(p.v22_from),
                   purposes=[{"purpose": b.bind(k), "ids": f"CAST({b.bind(list(v))} AS INTEGER[])"}
                             for k, v in sorted(p.purposes.items())])
    elif isinstance(p, IdentifierParams):
        cols = p.columns or [c.name for c in t.pii_columns]
        ctx.update(columns=[{"ident": q(c), "label": b.bind(c)} for c in cols], anchor=_first_anchor(t))
    elif isinstance(p, KAnonParams):
        ctx.update(count_column=q(p.count_column), k=b.bind(p.k), anchor=_first_anchor(t),
                   segment=_segment(t, "recipient"))
    elif isinstance(p, UsageParams):
        ctx.update(anchor=_first_anchor(t), max=b.bind(p.max),
                   unit=b.bind("month" if p.per == "calendar_month" else "year"))
    elif isinstance(p, AgeParams):
        ctx.update(anchor=t.anchors[p.at], min_age=Duration(years=p.min_age))
    elif isinstance(p, CardParams):
        names = list(contract.tables) if p.tables == "all" else list(p.tables)
        if present is not None:
            names = [n for n in names if n in present]
        scans = []
        for n in names:
            tt = contract.table(n)
            cols = [c for c in tt.columns.values() if c.type in ("string", "json") and not c.values]
            if cols:
                scans.append({"ident": q(n), "subject": _subject(tt), "record_id": _record_id(tt),
                              "label": b.bind(n),
                              "columns": [{"ident": q(c.name), "label": b.bind(f"{n}.{c.name}"),
                                           "unique": tt.key == [c.name]} for c in cols]})
        ctx.update(scans=scans)
        tables += names[:1]
    elif isinstance(p, ErasureParams):
        names = [n for n in p.tables if present is None or n in present]
        ctx.update(tables=[{"ident": q(n), "subject": _subject(contract.table(n)),
                            "record_id": _record_id(contract.table(n)), "label": b.bind(n),
                            "anchor": _first_anchor(contract.table(n))} for n in names])
        tables += ["erasure_log"]
    elif isinstance(p, BackupParams):
        tables += ["backups", "erasure_log"]

    template = _env.from_string(template_text(p.check))
    parts: list[str] = []
    if isinstance(p, CardParams):
        # the template searches one table; the check is the union of every table's search, which
        # the runner may compact table by table: at 100M events the union held all their hash
        # tables of distinct values at once and spilled (102 s, against 76 s one by one)
        searches = [template.render(**ctx, t=scan) for scan in ctx.pop("scans")]
        sql = "\nunion all\n".join(searches)
        parts = searches if len(searches) > 1 else []
    else:
        sql = template.render(**ctx)
    return Rendered(sql=sql, params=_used(b.params, sql), tables=tables, calendars=b.calendars, parts=parts)


def _used(params: dict[str, object], sql: str) -> dict[str, object]:
    return {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}
