"""Run every pledge of a policy over an ingested export and aggregate the results.

The check SQL produces evaluation rows (one per in-scope record, see docs/CHECKS.md); this
module turns them into compact results: counts, rates, breakdowns, distributions and a bounded
list of salted pseudonyms. Nothing returned here holds a raw identifier.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date

import duckdb

from . import tcf
from .calendars import load_business_days
from .checks import macros_sql, render
from .contract import Contract, load_contract
from .errors import CheckError, EngineError
from .policy import ConsentParams, Pledge, Policy

OFFENDERS = 25   # pseudonymized offenders kept per pledge (drill-down), most severe first
SAMPLE = 10      # of which shown as the sample in reports


@dataclass
class PledgeResult:
    policy: str
    pledge_id: str
    kind: str
    check: str
    category: str
    severity: str
    section: str
    quote: str
    status: str                      # kept | broken | not_checked | error
    population: int = 0
    violations: int = 0
    exempt: int = 0
    unknown: int = 0
    open: int = 0
    due_soon: int = 0
    rate: float | None = None        # violations / population
    coverage: float | None = None    # ok / population
    threshold: float | None = None
    effective: bool = True           # False when a stricter contradicting pledge supersedes it
    superseded_by: str | None = None
    message: str | None = None
    tables: list[str] = field(default_factory=list)
    by_reason: dict[str, int] = field(default_factory=dict)
    by_segment: list[dict] = field(default_factory=list)
    by_period: list[dict] = field(default_factory=list)
    measure: dict[str, float | None] = field(default_factory=dict)
    histogram: list[dict] = field(default_factory=list)
    offenders: list[dict] = field(default_factory=list)

    @property
    def sample(self) -> list[str]:
        return [o["pseudonym"] for o in self.offenders[:SAMPLE]]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sample"] = self.sample
        return d


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


def run_policy(con: duckdb.DuckDBPyConnection, policy: Policy, as_of: date, salt: str,
               present: set[str], missing_reason: dict[str, str] | None = None,
               superseded: dict[str, str] | None = None, contract: Contract | None = None,
               progress: Callable[[str], None] | None = None) -> list[PledgeResult]:
    contract = contract or load_contract()
    prepare(con, policy, as_of)
    out = []
    cache: dict = {}
    for pledge in policy.pledges:
        res = evaluate(con, pledge, policy.id, as_of, salt, present, missing_reason or {}, contract,
                       calendar=policy.policy.calendar, cache=cache)
        if superseded and pledge.id in superseded:
            res.effective, res.superseded_by = False, superseded[pledge.id]
        out.append(res)
        if progress:
            progress(pledge.id)
    return out


_MEASURED = ("population", "violations", "exempt", "unknown", "open", "due_soon", "by_reason", "by_segment",
             "by_period", "measure", "histogram", "offenders")


def evaluate(con, pledge: Pledge, policy_id: str, as_of: date, salt: str, present: set[str],
             missing_reason: dict[str, str], contract: Contract, calendar: str | None = None,
             cache: dict | None = None) -> PledgeResult:
    """Evaluate one pledge. Pledges whose rendered SQL and parameters are identical (the same
    promise stated in several sections) are measured once: `cache` maps them to the counts."""
    res = PledgeResult(policy=policy_id, pledge_id=pledge.id, kind=pledge.kind, check=pledge.check,
                       category=pledge.category, severity=pledge.severity, section=pledge.section,
                       quote=pledge.quote, status="not_checked")
    if isinstance(pledge.params, ConsentParams):
        res.threshold = pledge.params.threshold
    try:
        rendered = render(pledge, contract, as_of, present, calendar)
    except CheckError as e:
        res.status, res.message = "error", str(e)
        return res
    res.tables = rendered.tables
    absent = [t for t in rendered.tables if t not in present and t != "legal_holds"]
    if absent:
        why = "; ".join(missing_reason.get(t, f"no {t} export") for t in absent)
        res.message = f"not checked: {why}"
        return res
    key = (rendered.sql, tuple(sorted((k, repr(v)) for k, v in rendered.params.items())))
    if cache is not None and key in cache:
        for name, value in cache[key].items():
            setattr(res, name, copy.deepcopy(value))
    else:
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _cev AS {COMPACT.format(sql=rendered.sql)}", rendered.params)
        except (duckdb.Error, EngineError) as e:
            res.status, res.message = "error", f"check {pledge.check} failed: {str(e).splitlines()[0][:300]}"
            return res
        _aggregate(con, res, salt)
        if cache is not None:
            cache[key] = {name: copy.deepcopy(getattr(res, name)) for name in _MEASURED}
    ok = res.population - res.violations - res.exempt - res.open - res.due_soon
    res.coverage = (ok / res.population) if res.population else None
    res.rate = (res.violations / res.population) if res.population else None
    if res.threshold is not None and res.threshold < 1:
        res.status = "kept" if (res.coverage is None or res.coverage >= res.threshold) else "broken"
    else:
        res.status = "kept" if res.violations == 0 else "broken"
    return res


# One pass over a check's evaluation rows leaves a compact table: the rows counted per distinct
# (outcome, reason, segment, period, measure), and per violating subject. Every aggregate of
# a result (counts, quantiles, histogram, offenders) is computed from it exactly, so no
# evaluation row is ever materialized, however large the table.
COMPACT = """
SELECT grouping(vsub) AS g, outcome, reason, segment, period, measure, vsub, count(*) AS n, max(measure) AS worst
FROM (SELECT outcome, reason, coalesce(CAST(segment AS VARCHAR), '?') AS segment, period,
             CAST(measure AS DOUBLE) AS measure,
             CASE WHEN outcome = 'violation' THEN subject_id END AS vsub
      FROM ({sql}) ev)
GROUP BY GROUPING SETS ((outcome, reason, segment, period, measure), (vsub))
"""


# The compact rows (outcome, reason, segment, period, measure, n) and the most severe violating
# subjects, pseudonymized (pseudonym, violations, worst measure), read from `_cev`.
COMPACT_ROWS = "SELECT outcome, reason, segment, period, measure, n FROM _cev WHERE g = 1 ORDER BY outcome, reason"
TOP_OFFENDERS = ("SELECT 's_' || substr(sha256($salt || vsub), 1, 12) AS p, n, worst FROM _cev "
                 "WHERE g = 0 AND vsub IS NOT NULL ORDER BY worst DESC NULLS LAST, n DESC, p LIMIT $k")


def _aggregate(con, res: PledgeResult, salt: str) -> None:
    aggregate_compact(res, con.execute(COMPACT_ROWS).fetchall(),
                      con.execute(TOP_OFFENDERS, {"salt": salt, "k": OFFENDERS}).fetchall())


def aggregate_compact(res: PledgeResult, rows: list[tuple], top: list[tuple]) -> None:
    """Fill a result's counts, breakdowns, distribution and offenders from the compact rows
    (engine-independent: any engine that produces the compact table gets the same numbers)."""
    res.by_reason = {}
    tally = {"violation": 0, "exempt": 0, "unknown": 0, "open": 0, "due_soon": 0}
    segments: dict[str, dict] = {}
    periods: dict = {}
    assessed: dict[str, list] = {}
    for outcome, reason, seg, period, measure, n in rows:
        res.by_reason[reason] = res.by_reason.get(reason, 0) + n
        if outcome in tally:
            tally[outcome] += n
        s = segments.setdefault(seg, {"segment": seg, "population": 0, "violations": 0, "ok": 0, "exempt": 0,
                                      "open": 0, "due_soon": 0, "unknown": 0})
        s["unknown" if outcome == "unknown" else "population"] += n
        key = {"violation": "violations"}.get(outcome, outcome)
        if key in s and key != "unknown":
            s[key] += n
        if period is not None:
            pp = periods.setdefault(period, [0, 0])
            pp[0] += n if outcome != "unknown" else 0
            pp[1] += n if outcome == "violation" else 0
        if outcome != "unknown" and measure is not None:
            assessed.setdefault(seg, []).append((measure, n, outcome == "violation"))
    res.violations, res.exempt, res.unknown = tally["violation"], tally["exempt"], tally["unknown"]
    res.open, res.due_soon = tally["open"], tally["due_soon"]
    res.population = sum(n for o, _, _, _, _, n in rows if o != "unknown")
    res.by_segment = []
    for seg in sorted(segments):
        d = segments[seg]
        dist = _dist(assessed.get(seg, []))
        res.by_segment.append({**d, "p50": _r(_quantile(dist, 0.5)), "mean": _r(_mean(dist)),
                               "p95": _r(_quantile(dist, 0.95))})
    res.by_period = [{"period": p.isoformat(), "population": n, "violations": v}
                     for p, (n, v) in sorted(periods.items())]
    every = [x for xs in assessed.values() for x in xs]
    dist_all = _dist(every)
    dist_v = _dist([x for x in every if x[2]])
    vals = (_quantile(dist_v, 0.5), _quantile(dist_v, 0.95), _mean(dist_v), dist_v[-1][0] if dist_v else None,
            _quantile(dist_all, 0.5), _quantile(dist_all, 0.95), _mean(dist_all))
    keys = ("violation_p50", "violation_p95", "violation_mean", "violation_max", "p50", "p95", "mean")
    res.measure = {k: (round(float(v), 4) if v is not None else None) for k, v in zip(keys, vals)}
    res.histogram = _histogram(every)
    res.offenders = [{"pseudonym": p, "violations": n, "worst": (round(float(m), 2) if m is not None else None)}
                     for p, n, m in top]


def _dist(items: list[tuple[float, int, bool]]) -> list[tuple[float, int]]:
    """(value, count) sorted by value, counts of equal values summed."""
    acc: dict[float, int] = {}
    for v, n, _ in items:
        acc[v] = acc.get(v, 0) + n
    return sorted(acc.items())


def _quantile(dist: list[tuple[float, int]], q: float) -> float | None:
    """quantile_cont over a weighted distribution: linear interpolation between the values at
    positions floor((N-1)q) and ceil((N-1)q) of the sorted rows, as DuckDB and Spark compute it."""
    total = sum(n for _, n in dist)
    if not total:
        return None
    h = (total - 1) * q
    lo, hi = math.floor(h), math.ceil(h)
    vlo = vhi = None
    seen = 0
    for v, n in dist:
        if vlo is None and lo < seen + n:
            vlo = v
        if hi < seen + n:
            vhi = v
            break
        seen += n
    return vlo if lo == hi else vlo + (vhi - vlo) * (h - lo)


def _mean(dist: list[tuple[float, int]]) -> float | None:
    total = sum(n for _, n in dist)
    return math.fsum(v * n for v, n in dist) / total if total else None


def _r(x) -> float | None:
    return round(float(x), 4) if x is not None else None


def _histogram(items: list[tuple[float, int, bool]]) -> list[dict]:
    """Measure distribution in <= 20 equal-width bins of a round width (for charts)."""
    if not items:
        return []
    lo, hi = min(v for v, _, _ in items), max(v for v, _, _ in items)
    span = max(hi - lo, 1e-9)
    raw = span / 20
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    width = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    bins: dict[float, list[int]] = {}
    for v, n, violation in items:
        b = bins.setdefault(math.floor(v / width) * width, [0, 0])
        b[0 if violation else 1] += n
    return [{"bin_start": float(b), "bin_width": float(width), "violations": v, "others": o}
            for b, (v, o) in sorted(bins.items())]
