"""Build a check's SQL for one pledge: the one public module that writes check SQL.

Each check kind's template is `checks/<name>/check.sql` (Jinja). Identifiers come from the
export contract (validated names, quoted); every value from a policy (periods, purposes,
filters, the as-of date) is bound as a DuckDB parameter, never pasted into the SQL text.
The template computes a `reason` per in-scope record; the outcome is derived from it here,
by the check's map, so that a condition is written once.

The runner, the notebooks, the benchmark and the Spark engine all build check SQL through
this module (`render`, and `Binder`, `scope`, `subject`, `record_id`, `first_anchor` for
SQL over a contract table).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2

from ..contract import Contract, Table
from ..duration import Duration
from ..engine import q
from ..errors import CheckError
from .base import Render


def template_path(check: str) -> Path:
    """The file of a check kind's template (`sync-headers` rewrites its header)."""
    return Path(str(resources.files("pledgecheck.checks").joinpath(f"{check}/check.sql")))


@lru_cache(maxsize=None)
def template_text(check: str) -> str:
    return template_path(check).read_text(encoding="utf-8")


def macros_sql() -> str:
    """The DuckDB macros the checks use: sql/macros.sql and the card macros, which are derived
    from the one brand table (cards.py)."""
    from ..cards import duckdb_macros

    return resources.files("pledgecheck").joinpath("sql/macros.sql").read_text(encoding="utf-8") + duckdb_macros()


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
        return used_params(self.params, part)


class Binder:
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


def record_id(t: Table) -> str:
    """The record id of a row of `t`: its key columns joined by '/'."""
    if not t.key:
        return "CAST(NULL AS VARCHAR)"
    return " || '/' || ".join(f"CAST({q(k)} AS VARCHAR)" for k in t.key)


def subject(t: Table) -> str:
    """The data subject of a row of `t` (NULL for tables about no one)."""
    return q(t.subject_column) if t.subject_column else "CAST(NULL AS VARCHAR)"


def first_anchor(t: Table) -> str:
    """The instant a row of `t` is about, when a check names none."""
    return next(iter(t.anchors.values()))


def scope(b: Binder, t: Table, pledge, where: dict) -> str:
    """The rows a pledge is about: its `where` filter and its jurisdictions."""
    parts = ["true"]
    for col, val in where.items():
        vals = val if isinstance(val, list) else [val]
        parts.append(f"list_contains({b.bind([_text(v) for v in vals])}, CAST({q(col)} AS VARCHAR))")
    if pledge.jurisdictions != "all" and "jurisdiction" in t.columns:
        parts.append(f"list_contains({b.bind(list(pledge.jurisdictions))}, {q('jurisdiction')})")
    return " AND ".join(parts)


def _text(v: object) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def segment(t: Table, *cols: str) -> str:
    """The breakdown column of a result: the first of `cols` the table has, joined by '/'."""
    present = [c for c in cols if c in t.columns]
    if not present:
        return "'all'"
    return " || '/' || ".join(f"coalesce(CAST({q(c)} AS VARCHAR), '?')" for c in present)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def with_outcome(sql: str, outcomes: dict[str, str]) -> str:
    """The evaluation rows of a template (which computes `reason`) with their `outcome`."""
    whens = " ".join(f"WHEN {_literal(r)} THEN {_literal(o)}" for r, o in outcomes.items())
    return (f"SELECT _ev.*, CASE _ev.reason {whens} ELSE 'violation' END AS outcome\nFROM (\n{sql.rstrip()}\n) AS _ev")


def render(pledge, contract: Contract, as_of: date, present: set[str] | None = None,
           calendar: str | None = None, distinct_values: bool = True) -> Rendered:
    """The SQL and parameters that evaluate `pledge` (see docs/CHECKS.md).

    `calendar` is the policy's default holiday calendar, used where the pledge names none;
    `distinct_values`, the engine's preference for text searches (checks.base.Render)."""
    from . import get

    p = pledge.params
    kind = get(p.check)
    b = Binder(as_of, calendar)
    r = Render(pledge=pledge, params=p, contract=contract, b=b, present=present, distinct_values=distinct_values)
    ctx: dict[str, object] = {"p": p, "as_of": "$as_of", "add": b.add, "add_ts": b.add_ts}
    if kind.reads_one_table:
        t = r.table = contract.table(p.table)
        r.tables.append(t.name)
        ctx.update(table=q(t.name), table_name=b.bind(t.name), subject=subject(t), record_id=record_id(t),
                   scope=scope(b, t, pledge, p.where), segment=segment(t, "jurisdiction"))
    ctx.update(kind.bind(r))
    template = _env.from_string(template_text(p.check))
    outcomes = kind.outcome_map(p)
    parts: list[str] = []
    if kind.union_of_tables:
        # the template searches one table `t`; the check is the union of every table's search,
        # which the runner may compact table by table: at 100M events the union held all their
        # hash tables of distinct values at once and spilled (102 s, against 76 s one by one)
        searches = [with_outcome(template.render(**ctx, t=one), outcomes) for one in ctx.pop("scans")]
        sql = "\nunion all\n".join(searches)
        parts = searches if len(searches) > 1 else []
    else:
        sql = with_outcome(template.render(**ctx), outcomes)
    return Rendered(sql=sql, params=used_params(b.params, sql), tables=r.tables, calendars=b.calendars, parts=parts)


def used_params(params: dict[str, object], sql: str) -> dict[str, object]:
    """The parameters `sql` names."""
    return {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}
