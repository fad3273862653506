"""What a verdict is: the statuses a pledge can end in, what each means, their order, the rule
that decides kept or broken, the result record and its columns, and the exit code of a run.

Everything else (runner, results files, GX suites, report, terminal, notebooks) derives from
here; nothing else writes a status rule, a status list or the list of result columns.

    kept         measured: no violation (or consent coverage at least its threshold)
    broken       measured: violations (or coverage below its threshold)
    superseded   out of force: a stricter contradicting pledge of the same policy applies
                 (the linter's strictest-wins); measured anyway, the winner is named
    not_checked  an export the check needs is missing (or the check failed: `error`)
    no_data      the exports are there but hold 0 records in scope: nothing to check

kept + broken + superseded + not_checked (incl. error) + no_data = every pledge of the policy.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import asdict, dataclass, field

OFFENDERS = 25   # pseudonymized offenders kept per pledge (drill-down), most severe first
SAMPLE = 10      # of which shown as the sample in reports

KEPT, BROKEN, SUPERSEDED, NOT_CHECKED, ERROR, NO_DATA = \
    "kept", "broken", "superseded", "not_checked", "error", "no_data"

# status -> (label a reader sees, what it means). The order is the report's order: what needs
# action first.
STATUSES: dict[str, tuple[str, str]] = {
    BROKEN: ("broken", "records in breach of the pledge"),
    ERROR: ("check failed", "the check could not run"),
    NOT_CHECKED: ("not checked", "an export the check needs is missing"),
    NO_DATA: ("no data", "nothing to check: 0 records in scope"),
    SUPERSEDED: ("superseded", "out of force: a stricter pledge of the policy applies"),
    KEPT: ("kept", "no record in breach"),
}
ORDER = {s: i for i, s in enumerate(STATUSES)}
MEASURED = (KEPT, BROKEN)              # the statuses of a pledge that was measured and is in force
UNCHECKED = (NOT_CHECKED, ERROR, NO_DATA)  # a critical pledge here cannot be signed off: exit 3
# the counts a summary states; they add up to the number of pledges (errors count as not checked)
COUNTED = (KEPT, BROKEN, SUPERSEDED, NOT_CHECKED, NO_DATA)

EXIT_OK, EXIT_BROKEN, EXIT_BAD_INPUT, EXIT_UNCHECKED = 0, 1, 2, 3
MAX_QUARANTINE = 0.01   # default share of an export's rows that may be quarantined before a run exits 2


def label(status: str) -> str:
    return STATUSES.get(status, (status.replace("_", " "), ""))[0]


def counted(status: str) -> str:
    """The summary count a status belongs to."""
    return NOT_CHECKED if status == ERROR else status


def threshold_rule(threshold: float | None) -> tuple[str, float, str]:
    """The one rule for kept: (column, bound, 'min' | 'max'). A consent pledge with a threshold
    below 1 is kept while its coverage is at least the threshold; every other pledge while it
    has no violation. The GX suites are generated from this same rule."""
    if threshold is not None and threshold < 1:
        return "coverage", threshold, "min"
    return "violations", 0, "max"


def measured_status(violations: int, population: int, coverage: float | None,
                    threshold: float | None) -> str:
    """kept, broken or no_data for a pledge whose check ran."""
    if not population:
        return NO_DATA
    column, bound, side = threshold_rule(threshold)
    value = coverage if column == "coverage" else violations
    if value is None:
        return NO_DATA
    return KEPT if (value >= bound if side == "min" else value <= bound) else BROKEN


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
    status: str                      # one of STATUSES
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


def _scalar_columns() -> dict[str, str]:
    """The scalar fields of PledgeResult, in order, as name -> str | int | float | bool: the
    columns of results.parquet, of the GX pledge frame and of the notebooks' frames."""
    hints = typing.get_type_hints(PledgeResult)
    out = {}
    for f in dataclasses.fields(PledgeResult):
        hint = hints[f.name]
        if typing.get_origin(hint) in (typing.Union, types.UnionType):   # X | None
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        if hint in (str, int, float, bool):
            out[f.name] = hint.__name__
    return out


COLUMNS: dict[str, str] = _scalar_columns()


@dataclass
class RunSummary:
    counts: dict[str, int]               # COUNTED status -> pledges
    total: int
    errors: int                          # of not_checked, the checks that failed
    critical_broken: list[str]
    critical_unchecked: list[str]
    quarantine_exceeded: bool = False

    def __getattr__(self, name: str) -> int:
        if name in COUNTED:
            return self.counts[name]
        raise AttributeError(name)

    @property
    def exit_code(self) -> int:
        return exit_code(self.critical_broken, self.critical_unchecked, self.errors, self.quarantine_exceeded)

    def as_dict(self) -> dict:
        return {**self.counts, "total": self.total, "errors": self.errors,
                "critical_broken": self.critical_broken, "critical_unchecked": self.critical_unchecked,
                "quarantine_exceeded": self.quarantine_exceeded, "exit_code": self.exit_code}


def exit_code(critical_broken: list, critical_unchecked: list, errors: int, quarantine_exceeded: bool = False) -> int:
    """2 when the export lost more rows to quarantine than allowed (the verdicts rest on a broken
    export), else 1 when a critical pledge is broken, else 3 when a check failed or a critical
    pledge could not be checked (missing export, or no records in scope), else 0."""
    if quarantine_exceeded:
        return EXIT_BAD_INPUT
    if critical_broken:
        return EXIT_BROKEN
    if errors or critical_unchecked:
        return EXIT_UNCHECKED
    return EXIT_OK


def summarize(results: list, quarantine_exceeded: bool = False) -> RunSummary:
    """Counts per status (adding up to the number of pledges) and the critical lists, from
    PledgeResults or their dicts."""
    rows = [r.to_dict() if isinstance(r, PledgeResult) else r for r in results]
    counts = {s: 0 for s in COUNTED}
    for r in rows:
        counts[counted(r["status"])] += 1
    crit = [r for r in rows if r["severity"] == "critical"]
    return RunSummary(counts=counts, total=len(rows), errors=sum(r["status"] == ERROR for r in rows),
                      critical_broken=[r["pledge_id"] for r in crit if r["status"] == BROKEN],
                      critical_unchecked=[r["pledge_id"] for r in crit if r["status"] in UNCHECKED],
                      quarantine_exceeded=quarantine_exceeded)
