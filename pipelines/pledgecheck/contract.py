"""The export contract: load, validate and query `contract.yaml`.

The contract is the one description of the exports; ingestion, the generator, the data page
and the leak scan all read it through this module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from .errors import ContractError

TYPES = {"string", "integer", "decimal", "boolean", "date", "timestamp", "json"}
IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    optional: bool = False
    key: bool = False
    subject: bool = False
    pii: str | None = None
    values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: dict[str, Column]
    timezone: str = "UTC"
    anchors: dict[str, str] = field(default_factory=dict)
    exemptions: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.key]

    @property
    def subject_column(self) -> str | None:
        for c in self.columns.values():
            if c.subject:
                return c.name
        return None

    @property
    def pii_columns(self) -> list[Column]:
        return [c for c in self.columns.values() if c.pii and not c.subject]


@dataclass(frozen=True)
class Contract:
    version: int
    tables: dict[str, Table]

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            known = ", ".join(sorted(self.tables))
            raise ContractError(f"unknown table {name!r}; the contract defines: {known}") from None


def _ident(name: str, where: str) -> str:
    if not IDENT.match(name):
        raise ContractError(f"{where}: {name!r} is not a valid identifier (lowercase, digits, _)")
    return name


def parse_contract(raw: dict[str, Any]) -> Contract:
    default_tz = raw.get("defaults", {}).get("timezone", "UTC")
    tables: dict[str, Table] = {}
    for tname, t in raw["tables"].items():
        _ident(tname, "table")
        cols: dict[str, Column] = {}
        for cname, c in t["columns"].items():
            _ident(cname, f"{tname}.{cname}")
            if c.get("type") not in TYPES:
                raise ContractError(f"{tname}.{cname}: unknown type {c.get('type')!r}")
            if c.get("required") and c.get("optional"):
                raise ContractError(f"{tname}.{cname}: a column cannot be required and optional")
            vals = c.get("values")
            cols[cname] = Column(
                name=cname,
                type=c["type"],
                required=bool(c.get("required")),
                optional=bool(c.get("optional")),
                key=bool(c.get("key")),
                subject=bool(c.get("subject")),
                pii=c.get("pii"),
                values=tuple(vals) if vals else None,
            )
        for aname in t.get("anchors", {}):
            _ident(aname, f"{tname} anchor")
        for ename in t.get("exemptions", {}):
            _ident(ename, f"{tname} exemption")
        tables[tname] = Table(
            name=tname,
            description=t.get("description", ""),
            columns=cols,
            timezone=t.get("timezone", default_tz),
            anchors=dict(t.get("anchors", {})),
            exemptions=dict(t.get("exemptions", {})),
        )
    return Contract(version=int(raw.get("version", 1)), tables=tables)


@lru_cache(maxsize=1)
def load_contract() -> Contract:
    text = resources.files("pledgecheck").joinpath("contract.yaml").read_text(encoding="utf-8")
    return parse_contract(yaml.safe_load(text))


@lru_cache(maxsize=1)
def fides_categories() -> frozenset[str]:
    """Every data-category key in the Fides default taxonomy."""
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    return frozenset(c.fides_key for c in DEFAULT_TAXONOMY.data_category)


def unknown_pii_labels(contract: Contract) -> list[str]:
    """Contract columns whose `pii` label is not a Fides data category (should be empty)."""
    known = fides_categories()
    return [
        f"{t.name}.{c.name}: {c.pii}"
        for t in contract.tables.values()
        for c in t.columns.values()
        if c.pii and c.pii not in known
    ]
