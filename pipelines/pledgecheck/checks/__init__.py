"""The check registry: every check kind, one folder each (`checks/<name>/check.sql` and
`check.py`). Adding a kind is one folder and one line in KINDS (docs/ADDING_A_CHECK.md).

Everything else asks the registry: the policy schema (the `check` field selects a kind's
`Params`), the contract validation, the SQL (`render`), the linter's claims, the notebooks'
prose, the charts' labels and the benchmark's Great Expectations plan.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import import_module

from .base import Check, Render, Validator
from .sql import (Binder, Rendered, first_anchor, header, macros_sql, record_id, render, scope, segment, subject,
                  template_path, template_text, used_params)

# The registry. The order is the order of the policy schema's union (and of docs/CHECKS.md).
KINDS = (
    "retention",
    "deadline",
    "consent_coverage",
    "optout_latency",
    "ip_truncation",
    "card_numbers",
    "column_empty",
    "password_hash",
    "third_party_identifiers",
    "k_anonymity",
    "usage_limit",
    "minimum_age",
    "erasure_completeness",
    "backup_rotation",
    "tcf_strings",
    "pseudonymized",
    "request_completion",
    "minimum_retention",
)


@lru_cache(maxsize=None)
def registry() -> dict[str, Check]:
    out: dict[str, Check] = {}
    for name in KINDS:
        kind = import_module(f".{name}.check", __name__).CHECK
        if kind.name != name:
            raise RuntimeError(f"checks/{name}/check.py declares the check {kind.name!r}")
        out[name] = kind
    return out


def get(name: str) -> Check:
    return registry()[name]


def available_checks() -> list[str]:
    return sorted(KINDS)


def param_models() -> tuple:
    """Every kind's parameters model, in registry order."""
    return tuple(k.Params for k in registry().values())


__all__ = ["Binder", "Check", "KINDS", "Render", "Rendered", "Validator", "available_checks", "first_anchor",
           "get", "header", "macros_sql", "param_models", "record_id", "registry", "render", "scope", "segment",
           "subject", "template_path", "template_text", "used_params"]
