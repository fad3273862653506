"""Run every pledge of a policy over an ingested export and aggregate the results.

The check SQL produces evaluation rows (one per in-scope record, see docs/CHECKS.md); this
module turns them into compact results: counts, rates, breakdowns, distributions and a bounded
list of salted pseudonyms. Nothing returned here holds a raw identifier.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable
from datetime import date

import duckdb

from . import tcf
from .calendars import load_business_days
from .checks import Rendered, get, macros_sql, render
from .contract import Contract, load_contract
from .errors import CheckError, EngineError
from .policy import Pledge, Policy
from .verdict import ERROR, NO_DATA, NOT_CHECKED, OFFENDERS, SUPERSEDED, PledgeResult, measured_status  # noqa: F401


def prepare(con: duckdb.DuckDBPyConnection, policy: Policy, as_of: date) -> None:
    """Macros, the TC-string decoder and business-day calendars the checks use."""
    con.execute(macros_sql())
    tcf.register(con)
    cals = sorted({pl.params.calendar for pl in policy.pledges
                   if getattr(pl.params, "calendar", None)} | ({policy.policy.calendar} - {None}))
    if cals:
        load_business_days(con, cals, as_of.year + 3)
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE business_days (calendar VARCHAR, d DATE, idx BIGINT)")
        con.execute("CREATE OR REPLACE TEMP TABLE calendar_days (calendar VARCHAR, d DATE, prev_idx BIGINT, "
                    "next_idx BIGINT)")


def run_policy(con, policy: Policy, as_of: date, salt: str,
               present: set[str], missing_reason: dict[str, str] | None = None,
               superseded: dict[str, str] | None = None, contract: Contract | None = None,
               progress: Callable[[str], None] | None = None,
               preparing: Callable[[str], None] | None = None) -> list[PledgeResult]:
    """Every pledge of `policy` over the staged export on `con` (a DuckDB connection, or an
    engine connection with `check_engine()`, such as the Spark one). `progress` is told each
    pledge done; `preparing`, what an engine that evaluates checks ahead is working on."""
    contract = contract or load_contract()
    engine = check_engine(con)
    prepare(con, policy, as_of)
    # every check rendered once, up front: the engine may evaluate them together
    planned = [plan(pledge, contract, as_of, present, policy.policy.calendar, engine.distinct_values)
               for pledge in policy.pledges]
    engine.prepare([(key, r) for r, key in planned if key is not None and _runnable(r, present)], preparing)
    out = []
    cache: dict = {}
    for pledge, (rendered, key) in zip(policy.pledges, planned):
        res = evaluate(engine, pledge, policy.id, salt, present, missing_reason or {}, rendered, key, cache)
        if superseded and pledge.id in superseded:
            res.effective, res.superseded_by = False, superseded[pledge.id]
            res.status = SUPERSEDED
        out.append(res)
        if progress:
            progress(pledge.id)
    return out


_MEASURED = ("population", "violations", "exempt", "unknown", "open", "due_soon", "by_reason", "by_segment",
             "by_period", "measure", "histogram", "offenders")


def check_key(sql: str, params: dict | None) -> tuple:
    """How evaluations are told apart: the SQL and its parameter values. Pledges with equal
    keys (the same promise stated in several sections) are measured once."""
    return (sql, tuple(sorted((k, repr(v)) for k, v in (params or {}).items())))


def plan(pledge: Pledge, contract: Contract, as_of: date, present: set[str], calendar: str | None,
         distinct_values: bool = True):
    """(rendered check or the CheckError that prevents it, its key or None)."""
    try:
        r = render(pledge, contract, as_of, present, calendar, distinct_values)
    except CheckError as e:
        return e, None
    return r, check_key(r.sql, r.params)


def _absent(r: Rendered, present: set[str]) -> list[str]:
    return [t for t in r.tables if t not in present and t != "legal_holds"]


def _runnable(r, present: set[str]) -> bool:
    return isinstance(r, Rendered) and not _absent(r, present)


def evaluate(engine, pledge: Pledge, policy_id: str, salt: str, present: set[str],
             missing_reason: dict[str, str], rendered, key, cache: dict | None = None) -> PledgeResult:
    """Evaluate one pledge from its rendered check. Pledges whose rendered SQL and parameters
    are identical (the same promise stated in several sections) are measured once: `cache`
    maps them to the counts."""
    res = PledgeResult(policy=policy_id, pledge_id=pledge.id, kind=pledge.kind, check=pledge.check,
                       category=pledge.category, severity=pledge.severity, section=pledge.section,
                       quote=pledge.quote, status=NOT_CHECKED)
    res.threshold = get(pledge.check).threshold(pledge.params)
    if isinstance(rendered, CheckError):
        res.status, res.message = ERROR, str(rendered)
        return res
    res.tables = rendered.tables
    absent = _absent(rendered, present)
    if absent:
        why = "; ".join(missing_reason.get(t, f"no {t} export") for t in absent)
        res.message = f"not checked: {why}"
        return res
    if cache is not None and key in cache:
        for name, value in cache[key].items():
            setattr(res, name, copy.deepcopy(value))
    else:
        try:
            engine.compact(key, rendered)
        except (duckdb.Error, EngineError) as e:
            res.status, res.message = ERROR, f"check {pledge.check} failed: {str(e).splitlines()[0][:300]}"
            return res
        _aggregate(engine, res, salt)
        if cache is not None:
            cache[key] = {name: copy.deepcopy(getattr(res, name)) for name in _MEASURED}
    ok = res.population - res.violations - res.exempt - res.open - res.due_soon
    res.coverage = (ok / res.population) if res.population else None
    res.rate = (res.violations / res.population) if res.population else None
    res.status = measured_status(res.violations, res.population, res.coverage, res.threshold)
    if res.status == NO_DATA:
        res.message = (f"nothing to check: 0 records in scope in {', '.join(res.tables)}"
                       + (f" ({res.unknown:,} could not be assessed)" if res.unknown else ""))
    return res


def check_engine(con):
    """The runner's engine adapter for `con`: its own (`con.check_engine()`, e.g. Spark's),
    else DuckDB's."""
    own = getattr(con, "check_engine", None)
    return own() if own is not None else DuckDBChecks(con)


class DuckDBChecks:
    """How the runner evaluates checks on DuckDB: each check's evaluation rows are compacted
    into the temp table `_cev` when the runner comes to it, and read by plain SQL."""

    distinct_values = True   # text searched once per distinct value (checks.base.Render)

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def prepare(self, checks: list[tuple[tuple, Rendered]], progress: Callable[[str], None] | None = None) -> None:
        """Nothing to do ahead: DuckDB evaluates one check at a time."""

    def compact(self, key: tuple, rendered: Rendered) -> None:
        if rendered.parts:
            _compact_parts(self.con, rendered)
        else:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE _cev AS {compact_sql(rendered.sql)}",
                             rendered.params)

    def read(self, sql: str, params: dict | None = None) -> list[tuple]:
        """Rows of a query over the current check's `_cev`."""
        return self.con.execute(sql, params).fetchall() if params else self.con.execute(sql).fetchall()


# One pass over a check's evaluation rows leaves a compact table: the rows counted per distinct
# (outcome, reason, segment, period, measure), and per violating subject. Every aggregate of
# a result (counts, quantiles, histogram, offenders) is computed from it exactly, so no
# evaluation row is ever materialized, however large the table. An engine that evaluates many
# checks in one pass (Spark) stacks their evaluation rows with a key column and gets every
# check's compact table at once (`compact_keyed_sql`).
EVALUATION = """SELECT outcome, reason, coalesce(CAST(segment AS VARCHAR), '?') AS segment, period,
       CAST(measure AS DOUBLE) AS measure, CASE WHEN outcome = 'violation' THEN subject_id END AS vsub
FROM ({sql}) ev"""
COMPACT = """
SELECT {k}grouping(vsub) AS g, outcome, reason, segment, period, measure, vsub, count(*) AS n, max(measure) AS worst
FROM ({rows}) evr
GROUP BY GROUPING SETS (({k}outcome, reason, segment, period, measure), ({k}vsub))
"""


def compact_sql(sql: str) -> str:
    """COMPACT over the evaluation rows of one check."""
    return COMPACT.format(rows=EVALUATION.format(sql=sql), k="")


def compact_keyed_sql(checks: list[tuple[int, str]], key: str = "_k") -> str:
    """COMPACT over the evaluation rows of many checks at once, told apart by `key`: the rows
    of (key value, check SQL) stacked, then grouped by the key too. Per key, exactly the
    compact table `compact_sql` gives for that check alone."""
    rows = "\nUNION ALL\n".join(f"SELECT {k} AS {key}, * FROM ({EVALUATION.format(sql=sql)}) e{k}"
                                 for k, sql in checks)
    return COMPACT.format(rows=rows, k=f"{key}, ")


# The compact table of a union, from the compact tables of its parts: every compact row is a
# group (the grouping-set columns) with its count and its worst measure, so equal groups of
# different parts merge by summing counts and taking the larger worst: exactly the table
# COMPACT gives over the whole union.
MERGE_PARTS = """
SELECT g, outcome, reason, segment, period, measure, vsub, CAST(sum(n) AS BIGINT) AS n, max(worst) AS worst
FROM _cev_parts GROUP BY g, outcome, reason, segment, period, measure, vsub
"""


def _compact_parts(con: duckdb.DuckDBPyConnection, rendered: Rendered) -> None:
    """`_cev` of a check that is a union of independent parts (one per table), compacted one
    part at a time: DuckDB runs a union's branches in one plan, and holds every branch's hash
    tables until the whole plan is done."""
    con.execute("DROP TABLE IF EXISTS _cev_parts")
    for i, part in enumerate(rendered.parts):
        head = "CREATE TEMP TABLE _cev_parts AS" if i == 0 else "INSERT INTO _cev_parts"
        con.execute(f"{head} {compact_sql(part)}", rendered.part_params(part))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _cev AS {MERGE_PARTS}")
    con.execute("DROP TABLE _cev_parts")


# Reads of the compact table `_cev` (plain SQL: FILTER, window functions, no engine
# specifics). Distributions are exact, by one of two equivalent queries chosen by how well
# the check compacted (`_distributions`):
# - EXPANDED: the compact rows are expanded back to the rows they count (`n` copies of each
#   measure) and `quantile_cont` interpolates between the closest ranks, as over the raw rows.
#   Cheap when rows barely compact (a continuous measure such as consent age in seconds:
#   0.5 s at 3.5M rows), but it holds every value: too much for 62M rows of a card scan.
# - RANKED: a running sum over the compact rows sorted by measure finds the values at 0-based
#   ranks floor((N-1)q) and ceil((N-1)q), interpolated in Python (`_ranked`). Its cost is the
#   number of compact rows, whatever they count (10 s at 3.5M compact rows, 0.01 s at 200).
COUNTS = """SELECT outcome, reason, sum(n) AS n FROM _cev WHERE g = 1 GROUP BY outcome, reason ORDER BY outcome, reason"""
SEGMENTS = """SELECT segment, sum(n) FILTER (WHERE outcome <> 'unknown'), sum(n) FILTER (WHERE outcome = 'violation'),
       sum(n) FILTER (WHERE outcome = 'ok'), sum(n) FILTER (WHERE outcome = 'exempt'),
       sum(n) FILTER (WHERE outcome = 'open'), sum(n) FILTER (WHERE outcome = 'due_soon'),
       sum(n) FILTER (WHERE outcome = 'unknown')
FROM _cev WHERE g = 1 GROUP BY segment ORDER BY segment"""
PERIODS = """SELECT period, sum(n) FILTER (WHERE outcome <> 'unknown'), sum(n) FILTER (WHERE outcome = 'violation')
FROM _cev WHERE g = 1 AND period IS NOT NULL GROUP BY period ORDER BY period"""
DISTRIBUTION_SIZE = """SELECT count(*), sum(n) FROM _cev
WHERE g = 1 AND outcome <> 'unknown' AND measure IS NOT NULL"""
DISTRIBUTIONS_EXPANDED = """WITH x AS (
    SELECT segment, outcome, measure, unnest(range(n)) AS copy
    FROM _cev WHERE g = 1 AND outcome <> 'unknown' AND measure IS NOT NULL)
SELECT 'segment' AS kind, segment AS seg, count(*), avg(measure), min(measure), max(measure),
       quantile_cont(measure, 0.5), quantile_cont(measure, 0.95) FROM x GROUP BY segment
UNION ALL SELECT 'all', NULL, count(*), avg(measure), min(measure), max(measure),
       quantile_cont(measure, 0.5), quantile_cont(measure, 0.95) FROM x
UNION ALL SELECT 'violation', NULL, count(*), avg(measure), min(measure), max(measure),
       quantile_cont(measure, 0.5), quantile_cont(measure, 0.95) FROM x WHERE outcome = 'violation'"""
DISTRIBUTIONS_RANKED = """WITH base AS (
    SELECT segment, measure, n, outcome FROM _cev WHERE g = 1 AND outcome <> 'unknown' AND measure IS NOT NULL),
d AS (
    SELECT 'segment' AS kind, segment AS seg, measure, sum(n) AS n FROM base GROUP BY segment, measure
    UNION ALL SELECT 'all', NULL, measure, sum(n) FROM base GROUP BY measure
    UNION ALL SELECT 'violation', NULL, measure, sum(n) FROM base WHERE outcome = 'violation' GROUP BY measure),
c AS (
    SELECT kind, seg, measure, n,
           sum(n) OVER (PARTITION BY kind, seg ORDER BY measure ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum,
           sum(n) OVER (PARTITION BY kind, seg) AS total
    FROM d)
SELECT kind, seg, max(total), sum(measure * n) / max(total), min(measure), max(measure),
       min(measure) FILTER (WHERE cum > floor((total - 1) * 0.5)), min(measure) FILTER (WHERE cum > ceil((total - 1) * 0.5)),
       min(measure) FILTER (WHERE cum > floor((total - 1) * 0.95)), min(measure) FILTER (WHERE cum > ceil((total - 1) * 0.95))
FROM c GROUP BY kind, seg"""

HISTOGRAM = """SELECT floor(measure / $w) * $w AS b, sum(n) FILTER (WHERE outcome = 'violation'),
       sum(n) FILTER (WHERE outcome <> 'violation')
FROM _cev WHERE g = 1 AND outcome <> 'unknown' AND measure IS NOT NULL GROUP BY b ORDER BY b"""
TOP_OFFENDERS = ("SELECT 's_' || substr(sha256($salt || vsub), 1, 12) AS p, n, worst FROM _cev "
                 "WHERE g = 0 AND vsub IS NOT NULL ORDER BY worst DESC NULLS LAST, n DESC, p LIMIT $k")


def _aggregate(engine, res: PledgeResult, salt: str) -> None:
    """Counts, breakdowns, distribution and offenders of a result, from the compact table."""
    res.by_reason = {}
    for outcome, reason, n in engine.read(COUNTS):
        n = int(n)
        res.by_reason[reason] = res.by_reason.get(reason, 0) + n
        if outcome == "violation":
            res.violations += n
        elif outcome in ("exempt", "unknown", "open", "due_soon"):
            setattr(res, outcome, getattr(res, outcome) + n)
        if outcome != "unknown":
            res.population += n
    dists = _distributions(engine)
    none = (None,) * 6
    res.by_segment = []
    for seg, *counts in engine.read(SEGMENTS):
        d = dists.get(("segment", seg), none)
        pop, v, ok, ex, op, ds, un = (int(c or 0) for c in counts)
        res.by_segment.append({"segment": seg, "population": pop, "violations": v, "ok": ok, "exempt": ex, "open": op,
                               "due_soon": ds, "unknown": un, "p50": _r(_q(d, 0.5)), "mean": _r(d[1]),
                               "p95": _r(_q(d, 0.95))})
    res.by_period = [{"period": p.isoformat(), "population": int(n or 0), "violations": int(v or 0)}
                     for p, n, v in engine.read(PERIODS)]
    a, v = dists.get(("all", None), none), dists.get(("violation", None), none)
    vals = (_q(v, 0.5), _q(v, 0.95), v[1], v[3], _q(a, 0.5), _q(a, 0.95), a[1])
    keys = ("violation_p50", "violation_p95", "violation_mean", "violation_max", "p50", "p95", "mean")
    res.measure = {k: (round(float(x), 4) if x is not None else None) for k, x in zip(keys, vals)}
    res.histogram = _histogram(engine, a[2], a[3])
    res.offenders = [{"pseudonym": p, "violations": int(n), "worst": (round(float(m), 2) if m is not None else None)}
                     for p, n, m in engine.read(TOP_OFFENDERS, {"salt": salt, "k": OFFENDERS})]


EXPAND_MAX = 2_000_000   # rows a distribution may be expanded to, however badly they compact
EXPAND_RATIO = 16        # otherwise expanded while they count fewer than 16 rows per compact row


def _distributions(engine) -> dict[tuple, tuple]:
    """{(kind, segment): (total, mean, min, max, p50, p95)}; kind is segment, all or violation."""
    rows, total = engine.read(DISTRIBUTION_SIZE)[0]
    if not rows:
        return {}
    if total <= max(EXPAND_MAX, EXPAND_RATIO * rows):
        return {(kind, seg): tuple(row) for kind, seg, *row in engine.read(DISTRIBUTIONS_EXPANDED)}
    return {(kind, seg): _ranked(row) for kind, seg, *row in engine.read(DISTRIBUTIONS_RANKED)}


def _ranked(d: tuple) -> tuple:
    """A DISTRIBUTIONS_RANKED row (total, mean, min, max, lo50, hi50, lo95, hi95) as
    (total, mean, min, max, p50, p95): quantile_cont between the two closest ranks."""
    total = int(d[0] or 0)

    def q(lo, hi, p):
        if not total:
            return None
        h = (total - 1) * p
        return lo if lo == hi else lo + (hi - lo) * (h - math.floor(h))
    return (total, d[1], d[2], d[3], q(d[4], d[5], 0.5), q(d[6], d[7], 0.95))


def _q(d: tuple, q: float) -> float | None:
    """The quantile of a distribution: (total, mean, min, max, p50, p95)."""
    return (d[4] if q == 0.5 else d[5]) if d[0] else None


def _r(x) -> float | None:
    return round(float(x), 4) if x is not None else None


def _histogram(engine, lo: float | None, hi: float | None) -> list[dict]:
    """Measure distribution in <= 20 equal-width bins of a round width (for charts)."""
    if lo is None or hi is None:
        return []
    span = max(hi - lo, 1e-9)
    raw = span / 20
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    width = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [{"bin_start": float(b), "bin_width": float(width), "violations": int(v or 0), "others": int(o or 0)}
            for b, v, o in engine.read(HISTOGRAM, {"w": width})]
