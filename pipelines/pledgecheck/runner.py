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
from .errors import CheckError
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
            con.execute(f"CREATE OR REPLACE TEMP TABLE _ev AS {rendered.sql}", rendered.params)
        except duckdb.Error as e:
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


def _aggregate(con, res: PledgeResult, salt: str) -> None:
    counts = con.execute("SELECT outcome, reason, count(*) FROM _ev GROUP BY ALL ORDER BY ALL").fetchall()
    res.by_reason = {}
    for outcome, reason, n in counts:
        res.by_reason[reason] = res.by_reason.get(reason, 0) + n
        if outcome == "violation":
            res.violations += n
        elif outcome == "exempt":
            res.exempt += n
        elif outcome == "unknown":
            res.unknown += n
        elif outcome == "open":
            res.open += n
        elif outcome == "due_soon":
            res.due_soon += n
    res.population = sum(n for o, _, n in counts if o != "unknown")
    # per segment (e.g. request type / jurisdiction): every outcome, and the measure's
    # median, mean and p95 over the assessed records (days to respond, days past due...)
    res.by_segment = [
        {"segment": seg, "population": pop, "violations": v, "ok": ok, "exempt": ex, "open": op,
         "due_soon": ds, "unknown": un,
         "p50": _r(p50), "mean": _r(mean), "p95": _r(p95)}
        for seg, pop, v, ok, ex, op, ds, un, p50, mean, p95 in con.execute(
            "SELECT coalesce(segment, '?'), count(*) FILTER (outcome <> 'unknown'), "
            "count(*) FILTER (outcome = 'violation'), count(*) FILTER (outcome = 'ok'), "
            "count(*) FILTER (outcome = 'exempt'), count(*) FILTER (outcome = 'open'), "
            "count(*) FILTER (outcome = 'due_soon'), count(*) FILTER (outcome = 'unknown'), "
            "quantile_cont(measure, 0.5) FILTER (outcome <> 'unknown'), avg(measure) FILTER (outcome <> 'unknown'), "
            "quantile_cont(measure, 0.95) FILTER (outcome <> 'unknown') FROM _ev GROUP BY 1 ORDER BY 1").fetchall()
    ]
    res.by_period = [
        {"period": p.isoformat(), "population": n, "violations": v}
        for p, n, v in con.execute(
            "SELECT period, count(*) FILTER (outcome <> 'unknown'), count(*) FILTER (outcome = 'violation') "
            "FROM _ev WHERE period IS NOT NULL GROUP BY 1 ORDER BY 1").fetchall()
    ]
    stats = con.execute(
        "SELECT quantile_cont(measure, 0.5) FILTER (outcome = 'violation'), "
        "quantile_cont(measure, 0.95) FILTER (outcome = 'violation'), avg(measure) FILTER (outcome = 'violation'), "
        "max(measure) FILTER (outcome = 'violation'), quantile_cont(measure, 0.5) FILTER (outcome <> 'unknown'), "
        "quantile_cont(measure, 0.95) FILTER (outcome <> 'unknown'), avg(measure) FILTER (outcome <> 'unknown') "
        "FROM _ev").fetchone()
    keys = ("violation_p50", "violation_p95", "violation_mean", "violation_max", "p50", "p95", "mean")
    res.measure = {k: (round(float(v), 4) if v is not None else None) for k, v in zip(keys, stats)}
    res.histogram = _histogram(con)
    res.offenders = [
        {"pseudonym": p, "violations": n, "worst": (round(float(m), 2) if m is not None else None)}
        for p, n, m in con.execute(
            "SELECT 's_' || substr(sha256($salt || subject_id), 1, 12) AS p, count(*) AS n, max(measure) AS m "
            "FROM _ev WHERE outcome = 'violation' AND subject_id IS NOT NULL "
            "GROUP BY 1 ORDER BY m DESC NULLS LAST, n DESC, p LIMIT $k", {"salt": salt, "k": OFFENDERS}).fetchall()
    ]


def _r(x) -> float | None:
    return round(float(x), 4) if x is not None else None


def _histogram(con) -> list[dict]:
    """Measure distribution in <= 20 equal-width bins of a round width (for charts)."""
    lo, hi = con.execute("SELECT min(measure), max(measure) FROM _ev WHERE outcome <> 'unknown'").fetchone()
    if lo is None or hi is None:
        return []
    span = max(hi - lo, 1e-9)
    raw = span / 20
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    width = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    rows = con.execute(
        "SELECT floor(measure / $w) * $w AS b, count(*) FILTER (outcome = 'violation'), "
        "count(*) FILTER (outcome <> 'violation') FROM _ev WHERE outcome <> 'unknown' AND measure IS NOT NULL "
        "GROUP BY 1 ORDER BY 1", {"w": width}).fetchall()
    return [{"bin_start": float(b), "bin_width": float(width), "violations": v, "others": o} for b, v, o in rows]
