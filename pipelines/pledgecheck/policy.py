"""Policies as data: the pledge schema, the loader and its error messages.

A policy file is YAML:

    policy:   {id, name, company, source, version, calendar}
    pledges:  [ {id, kind, check, category, params, severity, jurisdictions, quote, section, ...} ]
    unverifiable: [ {quote, section, reason} ]

`check` names a check kind (pledgecheck/checks/<name>/) and selects the schema of `params`
(see CHECK_PARAMS). Every identifier in params (tables, anchors, columns, exemptions) is
validated against the export contract, so a policy never puts raw text into SQL.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from . import paths
from .checks import Validator, param_models
from .checks import get as get_check
from .checks.base import Scalar, Strict
from .contract import Contract, fides_categories, load_contract
from .duration import Duration
from .errors import PolicyError

JURISDICTIONS = ("EU", "UK", "US-CA", "OTHER")
KINDS = (
    "retention", "consent", "request_deadline", "incident_deadline", "anonymization",
    "minimization", "security", "usage_limit", "age", "erasure", "sharing",
)
SLUG = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"


# ---------------------------------------------------------------- check parameters
# Each check kind's parameters model lives in its folder (checks/<name>/check.py); the
# `check` field selects it.
_PARAM_MODELS = param_models()
CheckParams = Annotated[Union[_PARAM_MODELS], Field(discriminator="check")]
CHECK_PARAMS = {m.model_fields["check"].default: m for m in _PARAM_MODELS}


# ---------------------------------------------------------------- typed claims (the linter's view)
class ClaimData(Strict):
    """What a statement is about, when the pledge's own params do not say it (or it has none)."""

    category: str | None = None
    tables: list[str] | None = None
    where: dict[str, Union[Scalar, list[Scalar]]] | None = None
    scope: list[str] | None = None        # the things the sentence names, e.g. [contact_forms, email]
    recipient: str | None = None          # for recipient_fields: who receives the data
    jurisdictions: list[Literal[JURISDICTIONS]] | Literal["all"] | None = None  # type: ignore[valid-type]


class ClaimSpec(Strict):
    """A statement as a typed claim (see pledgecheck.claims). On a pledge every field is optional
    and overrides what the linter derives from the check's params; on an unverifiable statement
    `predicate` and `value` are required."""

    predicate: str | None = None
    value: Union[Scalar, list[str], dict[str, Any], None] = None
    data: ClaimData | None = None
    yields_to_law: bool | None = None   # the statement says "unless otherwise required by law"

    @field_validator("predicate")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        from .claims import PREDICATES
        if v is not None and v not in PREDICATES:
            raise ValueError(f"unknown predicate {v!r}; known: {', '.join(PREDICATES)}")
        return v

    @field_validator("value")
    @classmethod
    def _readable(cls, v):
        from .claims import parse_value
        if v is not None:
            parse_value(v)
        return v


# ---------------------------------------------------------------- pledges and policies
def _cited(v: str) -> str:
    """A quote or section heading: the policy's own words, whitespace folded."""
    if not v.strip():
        raise ValueError("must not be empty: cite the policy's own words")
    return " ".join(v.split())


class Statement(Strict):
    """Another place in the text that states the same pledge (same check and params)."""

    quote: str
    section: str

    @field_validator("quote", "section")
    @classmethod
    def _nonempty(cls, v: str) -> str:
        return _cited(v)


class Pledge(Strict):
    id: str
    kind: Literal[KINDS]  # type: ignore[valid-type]
    category: str
    params: CheckParams
    severity: Literal["critical", "warning"] = "critical"
    jurisdictions: list[Literal[JURISDICTIONS]] | Literal["all"] = "all"  # type: ignore[valid-type]
    quote: str
    section: str
    resolution: Literal["strictest", "this"] = "strictest"
    note: str | None = None
    # A drafted pledge (`pledgecheck draft`) lists here what the drafter could not decide;
    # the reviewer fixes the value and deletes the line. lint and run count what is left.
    todo: list[str] = Field(default_factory=list)
    # The same pledge stated again elsewhere in the text (`pledgecheck draft` merges repeats
    # into one pledge and lists the other quotes here); informational, not checked apart.
    also_stated: list[Statement] = Field(default_factory=list)
    claim: list[ClaimSpec] = Field(default_factory=list)   # what the text says, where the params cannot

    @field_validator("claim", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [] if v is None else [v] if isinstance(v, dict) else v

    @model_validator(mode="before")
    @classmethod
    def _check_into_params(cls, data: Any):
        # Authors write `check: retention` beside `params:`; the check selects the schema.
        if isinstance(data, dict) and "check" in data:
            data = dict(data)
            params = dict(data.get("params") or {})
            params["check"] = data.pop("check")
            data["params"] = params
        return data

    @property
    def check(self) -> str:
        return self.params.check

    @field_validator("category")
    @classmethod
    def _fides(cls, v: str) -> str:
        if v not in fides_categories():
            near = difflib.get_close_matches(v, sorted(fides_categories()), n=4, cutoff=0.6)
            raise ValueError(
                f"{v!r} is not a Fides data category" + (f"; did you mean one of {near}?" if near else "")
            )
        return v

    @field_validator("quote", "section")
    @classmethod
    def _nonempty(cls, v: str) -> str:
        return _cited(v)


class Unverifiable(Strict):
    quote: str
    section: str
    reason: str
    claim: list[ClaimSpec] = Field(default_factory=list)   # compared by the linter with every other claim

    @field_validator("claim", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [] if v is None else [v] if isinstance(v, dict) else v

    @field_validator("claim")
    @classmethod
    def _complete(cls, v):
        for c in v:
            if c.predicate is None or c.value is None:
                raise ValueError("a claim on an unverifiable statement needs 'predicate' and 'value'")
        return v


class PolicyMeta(Strict):
    id: str = Field(pattern=SLUG)
    name: str
    company: str | None = None
    source: str | None = None  # the policy text, relative to the policy file or the seeds folder
    version: str | None = None
    calendar: str | None = None  # default holiday calendar for business-day deadlines


class Policy(Strict):
    policy: PolicyMeta
    pledges: list[Pledge]
    unverifiable: list[Unverifiable] = Field(default_factory=list)
    path: str | None = None

    @property
    def id(self) -> str:
        return self.policy.id

    def pledge(self, pid: str) -> Pledge:
        for p in self.pledges:
            if p.id == pid:
                return p
        raise KeyError(pid)


# ---------------------------------------------------------------- loading with clear errors
def _loc(loc: tuple, raw: dict) -> str:
    """Turn a pydantic error location into 'pledge <id>, field params.period'."""
    parts = list(loc)
    where = ""
    if len(parts) >= 2 and parts[0] in ("pledges", "unverifiable") and isinstance(parts[1], int):
        items = raw.get(parts[0]) or []
        ident = items[parts[1]].get("id") if parts[1] < len(items) and isinstance(items[parts[1]], dict) else None
        where = f"{parts[0].removesuffix('s')} #{parts[1] + 1}" + (f" ({ident})" if ident else "")
        parts = parts[2:]
    # drop discriminator tags pydantic inserts (e.g. 'retention') from the field path
    fields = [str(p) for p in parts if not (isinstance(p, str) and p in CHECK_PARAMS)]
    field = ".".join(fields).replace("from_", "from")
    return ", ".join(x for x in (where, f"field '{field}'" if field else "") if x)


def parse_policy(raw: Any, path: str, contract: Contract | None = None) -> Policy:
    if not isinstance(raw, dict) or "policy" not in raw or "pledges" not in raw:
        raise PolicyError(f"{path}: a policy file needs the top-level keys 'policy' and 'pledges'")
    try:
        pol = Policy.model_validate({**raw, "path": path})
    except ValidationError as e:
        lines = []
        for err in e.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field (check the spelling against docs/POLICIES.md)"
            elif err["type"] == "union_tag_invalid":
                msg = f"unknown check; known checks: {', '.join(sorted(CHECK_PARAMS))}"
            lines.append(f"{path}: {_loc(err['loc'], raw)}: {msg}")
        raise PolicyError("\n".join(lines)) from None
    problems = validate_against_contract(pol, contract or load_contract())
    if problems:
        raise PolicyError("\n".join(f"{path}: {p}" for p in problems))
    return pol


def load_policy(path: str | Path, contract: Contract | None = None) -> Policy:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise PolicyError(f"{p}: cannot read the policy file ({e.strerror})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PolicyError(f"{p}:{where}: not valid YAML ({getattr(e, 'problem', e)})") from None
    return parse_policy(raw, str(p), contract)


def validate_against_contract(pol: Policy, contract: Contract) -> list[str]:
    """Identifiers in params must name contract tables, anchors, columns and exemptions."""
    out: list[str] = []
    seen: set[str] = set()
    prefix = pol.id + "."
    for p in pol.pledges:
        where = f"pledge {p.id}"
        if not re.match(SLUG, p.id.removeprefix(prefix)) or not p.id.startswith(prefix):
            out.append(f"{where}: field 'id': pledge ids look like '{prefix}<slug>' (lowercase, digits, '-')")
        if p.id in seen:
            out.append(f"{where}: field 'id': duplicate pledge id")
        seen.add(p.id)
        out += [f"{where}: {m}" for m in check_params_against_contract(p.params, contract)]
        if not (getattr(p.params, "calendar", None) or pol.policy.calendar) and _needs_calendar(p.params):
            out.append(f"{where}: field 'params.calendar': business days and next_working_day need a holiday "
                       "calendar (e.g. LU, GB-ENG, US-CA) on the pledge or the policy")
    for i, item in enumerate([*pol.pledges, *pol.unverifiable]):
        where = f"pledge {item.id}" if isinstance(item, Pledge) else f"unverifiable #{i - len(pol.pledges) + 1}"
        out += [f"{where}: {m}" for m in _claim_problems(item.claim, contract)]
    return out


def _claim_problems(claim, contract: Contract) -> list[str]:
    out = []
    for c in claim:
        d = c.data
        if d is None:
            continue
        if d.category and d.category not in fides_categories():
            out.append(f"field 'claim.data.category': {d.category!r} is not a Fides data category")
        for t in d.tables or []:
            if t not in contract.tables and t != "backups":
                out.append(f"field 'claim.data.tables': unknown table {t!r}; known: {', '.join(sorted(contract.tables))}")
    return out


def _needs_calendar(params: BaseModel) -> bool:
    if getattr(params, "next_working_day", False):
        return True
    for name in type(params).model_fields:
        v = getattr(params, name)
        for d in (v, getattr(v, "by", None), getattr(v, "notice_within", None)):
            if isinstance(d, Duration) and d.unit == "business_days":
                return True
    return False


def check_params_against_contract(params: BaseModel, contract: Contract) -> list[str]:
    """Problems of one pledge's parameters against the contract, from its check kind."""
    v = Validator(contract)
    get_check(params.check).validate(params, v)
    return v.problems


def policies_dir() -> Path:
    """The bundled policies (policies/ in the project folder, see paths.py)."""
    return paths.policies_dir()


def resolve_policy(name_or_path: str) -> Path:
    """A bundled policy id (e.g. 'lustmonster') or a path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    cand = policies_dir() / f"{name_or_path}.yaml"
    if cand.exists():
        return cand
    known = ", ".join(sorted(x.stem for x in policies_dir().glob("*.yaml")))
    raise PolicyError(f"no policy {name_or_path!r}: give a YAML path or one of: {known}")


def load_all_bundled() -> list[Policy]:
    return [load_policy(p) for p in sorted(policies_dir().glob("*.yaml"))]
