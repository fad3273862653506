"""What every check kind is made of: its parameters model and a `Check` that knows, for
that kind only, the tables it reads, how its parameters are validated against the export
contract, the template bindings, the map from reason to outcome, the plain-language text,
the lint rule, the chart label and the Great Expectations hint.

A check kind lives in one folder, `checks/<name>/`: `check.sql` (the Jinja template) and
`check.py` (a `Params` model and a `CHECK` instance of a `Check` subclass). The registry
(`checks/__init__.py`) lists the folders; nothing else names a check kind.

Every kind's check.py has the same shape (a Params model, `outcomes`, `validate_table`, `bind`,
`describe`) and most templates start with the same `scoped` CTE (the in-scope rows with subject,
record id, instant and segment): the duplicates tool pairs them by shape. That is the pattern a
kind follows (docs/ADDING_A_CHECK.md), not a rule written twice: what they share is computed
once, here and in checks/sql.py (`scope`, `subject`, `record_id`, `segment`, `with_outcome`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Union

from pydantic import BaseModel, ConfigDict, Field

from ..duration import Duration

if TYPE_CHECKING:  # pragma: no cover
    from ..contract import Contract, Table
    from .sql import Binder

Scalar = Union[str, int, float, bool]

# The outcomes of an evaluation row (docs/CHECKS.md): every check's SQL computes a `reason`
# per in-scope record and its `Check.outcomes` maps each reason to one of these; a reason
# the map does not name is a violation.
OUTCOMES = ("ok", "violation", "exempt", "unknown", "open", "due_soon")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TableParams(Strict):
    """Parameters of a check over one contract table, with an optional row filter."""

    table: str
    where: dict[str, Union[Scalar, list[Scalar]]] = Field(default_factory=dict)



@dataclass
class Render:
    """What a check's `bind` gets: the pledge, its parameters, the contract, the parameter
    binder, the tables present in the export (None: all), and the table it reads (None for
    checks over several tables)."""

    pledge: object
    params: BaseModel
    contract: "Contract"
    b: "Binder"
    present: set[str] | None
    table: "Table | None" = None
    tables: list[str] = field(default_factory=list)   # tables the check needs, in order
    # How the engine prefers a search over text (card numbers): once per distinct value,
    # joined back to the rows (DuckDB: most columns repeat their values), or row by row
    # (Spark: a join per column is a shuffle per column). Same rows found either way.
    distinct_values: bool = True


class Validator:
    """Collects contract problems of one pledge's parameters as one-line messages."""

    def __init__(self, contract: "Contract"):
        self.contract = contract
        self.problems: list[str] = []

    def add(self, field_: str, message: str) -> None:
        self.problems.append(f"field '{field_}': {message}")

    def table(self, name: str, field_: str = "params.table"):
        if name not in self.contract.tables:
            self.add(field_, f"unknown table {name!r}; known: {', '.join(sorted(self.contract.tables))}")
            return None
        return self.contract.tables[name]

    def anchor(self, t, name: str, field_: str) -> None:
        if t is not None and name not in t.anchors:
            self.add(field_, f"table {t.name} has no anchor {name!r}; known: {', '.join(sorted(t.anchors))}")

    def column(self, t, name: str, field_: str) -> None:
        if t is not None and name not in t.columns:
            self.add(field_, f"table {t.name} has no column {name!r}")


class Check:
    """One check kind. Subclasses set `Params` and override what differs from the defaults
    (a check over one table, `params.table`, whose template needs only the common bindings)."""

    Params: ClassVar[type[BaseModel]]
    # reason -> outcome; reasons not listed are violations (dynamic reasons such as a column
    # label or a decoding error name what broke the pledge)
    outcomes: ClassVar[dict[str, str]] = {}
    measure_label: ClassVar[str | None] = None    # the unit of `measure`, for charts
    # the report's charts of a pledge of this kind, in order (charts.py draws them)
    report_charts: ClassVar[tuple[str, ...]] = ("distribution",)
    # the check's SQL is a union of one independent search per table (see Rendered.parts)
    union_of_tables: ClassVar[bool] = False
    reads_one_table: ClassVar[bool] = True

    @property
    def name(self) -> str:
        return self.Params.model_fields["check"].default

    # -- contract
    def validate(self, params, v: Validator) -> None:
        """Identifiers in `params` against the contract (the common part: table, where)."""
        if self.reads_one_table:
            t = v.table(params.table)
            for col in params.where or {}:
                v.column(t, col, f"params.where.{col}")
            self.validate_table(params, t, v)

    def validate_table(self, params, t, v: Validator) -> None:
        """Kind-specific checks once the table is known (`t` is None when unknown)."""

    # -- SQL
    def bind(self, r: Render) -> dict:
        """Template bindings beyond the common ones (table, subject, record_id, scope, segment)."""
        return {}

    def outcome_map(self, params) -> dict[str, str]:
        return self.outcomes

    # -- words, lint, charts, GX
    def threshold(self, params) -> float | None:
        """The share of records that must keep the pledge (None: all of them)."""
        return None

    def claims(self, pledge) -> list:
        """The pledge as typed claims for the linter (pledgecheck.claims): [] when no other
        statement of a policy can contradict it (a storage format, say)."""
        return []

    def describe(self, p: dict, params) -> str:
        """One paragraph: what the result's numbers mean (counts and rates only)."""
        v, pop = p["violations"], p["population"]
        reasons = ", ".join(f"{k.replace('_', ' ')} {c:,}" for k, c in sorted((p.get("by_reason") or {}).items()))
        return f"**{v:,}** of {pop:,} records ({_rate(p)}) break the pledge" + (
            f" (by reason: {reasons})." if reasons else ".")

    def gx_hints(self, params, contract: "Contract", as_of) -> list[tuple[str, str, dict]]:
        """(table, expectation class, kwargs) a Great Expectations user would write for this
        pledge as single-table column expectations; [] when GX cannot express it."""
        return []


def _rate(p: dict) -> str:
    return f"{100 * (p['rate'] or 0):.2f}%"


def num(x: float | None) -> str:
    """A measure for prose: no decimals from 10 up, one below."""
    if x is None:
        return "?"
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.1f}"


def rate(p: dict) -> str:
    return _rate(p)


__all__ = ["Check", "Duration", "OUTCOMES", "Render", "Scalar", "Strict", "TableParams", "Validator", "num",
           "rate"]
