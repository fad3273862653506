"""Policies as data: the pledge schema, the loader and its error messages.

A policy file is YAML:

    policy:   {id, name, company, source, version, calendar}
    pledges:  [ {id, kind, check, category, params, severity, jurisdictions, quote, section, ...} ]
    unverifiable: [ {quote, section, reason} ]

`check` names a SQL check in pledgecheck/sql/checks/ and selects the schema of `params`
(see CHECK_PARAMS). Every identifier in params (tables, anchors, columns, exemptions) is
validated against the export contract, so a policy never puts raw text into SQL.
"""
from __future__ import annotations

import difflib
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .contract import Contract, fides_categories, load_contract
from .duration import Duration
from .errors import PolicyError

JURISDICTIONS = ("EU", "UK", "US-CA", "OTHER")
KINDS = (
    "retention", "consent", "request_deadline", "incident_deadline", "anonymization",
    "minimization", "security", "usage_limit", "age", "erasure", "sharing",
)
Scalar = Union[str, int, float, bool]
SLUG = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ---------------------------------------------------------------- check parameters
class _TableParams(Strict):
    table: str
    where: dict[str, Union[Scalar, list[Scalar]]] = Field(default_factory=dict)


class RetentionParams(_TableParams):
    """Records kept longer than `period` after the instant `from` (a contract anchor)."""

    check: Literal["retention"] = "retention"
    from_: str = Field(alias="from")
    period: Duration
    exceptions: list[str] = Field(default_factory=lambda: ["legal_hold"])


class Extension(Strict):
    by: Duration
    notice: str = "extension_notified"
    notice_within: Duration | None = None  # default: within the original limit


class DeadlineParams(_TableParams):
    """Time from `start` to `end` (contract anchors) against `limit` (+ extension)."""

    check: Literal["deadline"] = "deadline"
    start: str
    end: str
    limit: Duration
    extension: Extension | None = None
    calendar: str | None = None  # holidays country (e.g. LU, GB, US-CA) for business days
    next_working_day: bool = False
    due_soon: Duration = Duration(days=7)


class ConsentParams(_TableParams):
    """Each event joined to the subject's consent state for `purpose` at that instant."""

    check: Literal["consent_coverage"] = "consent_coverage"
    purpose: str
    validity: Duration | None = None
    threshold: float = Field(1.0, ge=0, le=1)


class OptOutParams(_TableParams):
    """Sends after an opt-out, beyond the promised `grace`."""

    check: Literal["optout_latency"] = "optout_latency"
    table: str = "marketing_sends"
    grace: Duration = Duration(days=0)


class IpParams(_TableParams):
    """IP addresses not truncated (IPv4 /24, IPv6 /48) once older than `after`."""

    check: Literal["ip_truncation"] = "ip_truncation"
    column: str = "ip"
    from_: str | None = Field(None, alias="from")  # default: the table's first anchor
    after: Duration = Duration(days=0)


class CardParams(Strict):
    """Full card numbers (Luhn-valid) in any text column of the listed tables."""

    check: Literal["card_numbers"] = "card_numbers"
    tables: list[str] | Literal["all"] = "all"


class ColumnAbsentParams(_TableParams):
    """A column that must hold no values (e.g. CVV)."""

    check: Literal["column_empty"] = "column_empty"
    column: str


class PasswordParams(_TableParams):
    check: Literal["password_hash"] = "password_hash"
    table: str = "accounts"
    column: str = "password_hash"


class IdentifierParams(_TableParams):
    """Direct identifiers in data shared with third parties."""

    check: Literal["third_party_identifiers"] = "third_party_identifiers"
    table: str = "affiliate_exports"
    columns: list[str] | None = None  # default: every pii column of the table


class KAnonParams(_TableParams):
    check: Literal["k_anonymity"] = "k_anonymity"
    table: str = "shared_aggregates"
    count_column: str = "member_count"
    k: int = Field(5, ge=2)


class UsageParams(_TableParams):
    check: Literal["usage_limit"] = "usage_limit"
    table: str = "downloads"
    per: Literal["calendar_month", "calendar_year"] = "calendar_month"
    max: int = Field(ge=0)


class AgeParams(_TableParams):
    check: Literal["minimum_age"] = "minimum_age"
    table: str = "accounts"
    min_age: int = Field(18, ge=1)
    at: str = "created"


class ErasureParams(Strict):
    """Personal data left in non-exempt tables after an erasure completed (+ grace)."""

    check: Literal["erasure_completeness"] = "erasure_completeness"
    tables: list[str]
    grace: Duration = Duration(days=0)


class BackupParams(Strict):
    """Backups still holding an erased subject longer than `rotation` after the erasure."""

    check: Literal["backup_rotation"] = "backup_rotation"
    rotation: Duration


class PseudonymParams(_TableParams):
    """A column that must hold pseudonyms: a value holding an e-mail address is a violation."""

    check: Literal["pseudonymized"] = "pseudonymized"
    column: str


class TcfParams(_TableParams):
    """TCF v2 consent strings that do not decode, break TCF v2.2 rules, or contradict the
    consent record they are stored with (`purposes`: consent purpose -> TCF purpose ids)."""

    check: Literal["tcf_strings"] = "tcf_strings"
    table: str = "consent_events"
    column: str = "tcf_string"
    purposes: dict[str, list[Annotated[int, Field(ge=1, le=24)]]] = Field(
        default_factory=lambda: {"advertising": [3, 4], "personalization": [5, 6], "analytics": [8, 9]})
    v22_from: date = date(2023, 11, 20)   # strings created since then must be TCF v2.2 (policy version >= 4)


_PARAM_MODELS = (
    RetentionParams, DeadlineParams, ConsentParams, OptOutParams, IpParams, CardParams,
    ColumnAbsentParams, PasswordParams, IdentifierParams, KAnonParams, UsageParams,
    AgeParams, ErasureParams, BackupParams, TcfParams, PseudonymParams,
)
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
    claim: ClaimSpec | list[ClaimSpec] | None = None   # what the text says, where the params cannot

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
        if not v.strip():
            raise ValueError("must not be empty: cite the policy's own words")
        return " ".join(v.split())


class Unverifiable(Strict):
    quote: str
    section: str
    reason: str
    claim: ClaimSpec | list[ClaimSpec] | None = None   # compared by the linter with every other claim

    @field_validator("claim")
    @classmethod
    def _complete(cls, v):
        for c in (v if isinstance(v, list) else [v] if v else []):
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
        where = f"{parts[0][:-1]} #{parts[1] + 1}" + (f" ({ident})" if ident else "")
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
    for c in (claim if isinstance(claim, list) else [claim] if claim else []):
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
    out: list[str] = []

    def table(name: str, field: str = "params.table"):
        if name not in contract.tables:
            out.append(f"field '{field}': unknown table {name!r}; known: {', '.join(sorted(contract.tables))}")
            return None
        return contract.tables[name]

    def anchor(t, name: str, field: str):
        if t is not None and name not in t.anchors:
            out.append(f"field '{field}': table {t.name} has no anchor {name!r}; known: {', '.join(sorted(t.anchors))}")

    def column(t, name: str, field: str):
        if t is not None and name not in t.columns:
            out.append(f"field '{field}': table {t.name} has no column {name!r}")

    t = table(params.table) if hasattr(params, "table") else None
    for col in getattr(params, "where", {}) or {}:
        column(t, col, f"params.where.{col}")
    if isinstance(params, RetentionParams):
        anchor(t, params.from_, "params.from")
        for ex in params.exceptions:
            if ex != "legal_hold" and t is not None and ex not in t.exemptions:
                out.append(
                    f"field 'params.exceptions': table {t.name} has no exemption {ex!r}; "
                    f"known: legal_hold, {', '.join(sorted(t.exemptions)) or '(none)'}"
                )
    elif isinstance(params, DeadlineParams):
        anchor(t, params.start, "params.start")
        anchor(t, params.end, "params.end")
        if params.extension:
            anchor(t, params.extension.notice, "params.extension.notice")
    elif isinstance(params, ConsentParams):
        purposes = contract.tables["consent_events"].columns["purpose"].values or ()
        if params.purpose not in purposes:
            out.append(f"field 'params.purpose': unknown consent purpose {params.purpose!r}; known: {', '.join(purposes)}")
    elif isinstance(params, (IpParams, ColumnAbsentParams, PasswordParams, TcfParams, PseudonymParams)):
        column(t, params.column, "params.column")
        if isinstance(params, TcfParams) and t is not None:
            for name in ("purpose", "action", "ts"):
                column(t, name, "params.table")
            known = t.columns["purpose"].values if "purpose" in t.columns else None
            for purpose in params.purposes:
                if known and purpose not in known:
                    out.append(f"field 'params.purposes': unknown consent purpose {purpose!r}; "
                               f"known: {', '.join(known)}")
        if isinstance(params, IpParams) and params.from_:
            anchor(t, params.from_, "params.from")
    elif isinstance(params, IdentifierParams):
        for c in params.columns or []:
            column(t, c, "params.columns")
    elif isinstance(params, KAnonParams):
        column(t, params.count_column, "params.count_column")
    elif isinstance(params, AgeParams):
        anchor(t, params.at, "params.at")
        column(t, "date_of_birth", "params.table")
    elif isinstance(params, CardParams) and params.tables != "all":
        for name in params.tables:
            table(name, "params.tables")
    elif isinstance(params, ErasureParams):
        for name in params.tables:
            tt = table(name, "params.tables")
            if tt is not None and tt.subject_column is None:
                out.append(f"field 'params.tables': table {name} has no subject column")
    return out


def policies_dir() -> Path:
    """The bundled policies (policies/ at the project root)."""
    return Path(__file__).resolve().parents[2] / "policies"


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
