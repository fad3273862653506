"""Typed claims: what one statement of a policy says, checked or not.

A claim is (data, predicate, value):

* **data**: the Fides category, the tables (or none: any), `where` filters, explicit `scope`
  names (the things the sentence names, e.g. `contact_forms`), a `recipient` for sharing
  claims, and the jurisdictions;
* **predicate**: one of PREDICATES (maximum retention, minimum retention, response deadline ...);
* **value**: what the text says, kept as the text says it: a period, a range (`6-10 years`),
  or a word value (`indefinitely`, `permanently`, `immediately`, `at any time`,
  `without undue delay`, `as required by law`, `as long as needed`, `a few days`), a set of
  fields, a consent mode, yes/no. No number is ever invented for a word value.

Values are parsed from YAML `claim:` blocks (unverifiable statements; overrides on pledges)
and from a pledge's own quote when it states its number in another form than the check's
parameter (a range whose upper bound is the parameter, "at least", "at any time", ...).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

PREDICATES = {
    "max_retention": "kept at most",
    "min_retention": "kept at least",
    "response_deadline": "answered within",
    "optout_delay": "an opt-out takes effect within",
    "erasure_delay": "erased data is gone within",
    "anonymized_after": "anonymized after",
    "consent_mode": "consent is",
    "recipient_fields": "the recipient receives",
    "collected": "collected",
    "performed": "this processing takes place:",
    "consent_validity": "consent is valid for",
    "k_anonymity": "shared groups of at least",
    "usage_limit": "at most",
    "min_age": "holders at least",
}
# word values: kind -> (interval in days or None when the word fixes no number, regex)
WORDS = {
    # "not indefinitely" fixes no number but denies an unlimited one (listed before "indefinitely")
    "not indefinitely": (None, r"\bnot (be )?(retain(ed)? |kept |stored )?(\w+ )?indefinitely\b|\bnot retain data indefinitely\b"),
    "until withdrawal": ((0.0, 0.0), r"\buntil (the )?(opt-out|withdrawal|consent is withdrawn)( is received)?\b"),
    "immediately": ((0.0, 0.0), r"\bimmediate(ly)?\b|\binstant(ly|aneous(ly)?)?\b|\bat once\b|\bupon collection\b|\bat collection\b"),
    "permanently": ((math.inf, math.inf), r"\bpermanent(ly)?\b"),
    "indefinitely": ((math.inf, math.inf), r"\bindefinite(ly)?\b|\bforever\b"),
    "a few days": ((1.0, 7.0), r"\ba few days\b|\bseveral days\b"),
    "without undue delay": (None, r"\bwithout undue delay\b|\bpromptly\b|\bas soon as (reasonably )?possible\b"),
    "as required by law": (None, r"\bprescribed by law\b|\brequired by law\b|\bmandated by law\b|\bas the law allows\b"),
    "as long as needed": (None, r"\bas long as (is |we deem |it is )?(needed|necessary)\b|\bbased on need\b"),
    "at any time": (None, r"\b(at )?any time\b|\banytime\b"),
    "unstated": (None, r"^unstated$"),
}
_NUM = r"(\d+(?:\.\d+)?)"
_UNIT = r"(years?|yrs?|months?|mo\.?|weeks?|days?|calendar days?|business days?|working days?|hours?)"
_RANGE = re.compile(rf"{_NUM}\s*(?:-|–|—|to)\s*{_NUM}\s*{_UNIT}", re.I)
_ONE = re.compile(rf"{_NUM}\s*{_UNIT}", re.I)
_EXT = re.compile(r"\(?\s*(?:\+|extendable by|extended by|plus)\s*", re.I)
_DAYS = {"year": 365.25, "yr": 365.25, "month": 30.44, "mo": 30.44, "week": 7.0, "day": 1.0,
         "calendar day": 1.0, "business day": 1.4, "working day": 1.4, "hour": 1 / 24}
_WORD_NUMS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
              "eight": "8", "nine": "9", "ten": "10", "twelve": "12", "thirty": "30"}


def _unit_days(unit: str) -> float:
    u = unit.lower().rstrip(".").strip()
    if u.endswith("s") and u[:-1] in _DAYS:
        u = u[:-1]
    return _DAYS[u]


@dataclass(frozen=True)
class Value:
    """kind: period | range | min | word (text names the word) | fields | mode | yes | no | number."""

    kind: str
    lo: float | None = None        # days (or a plain number for k, counts, ages)
    hi: float | None = None
    text: str = ""
    items: frozenset[str] = frozenset()
    extension: float | None = None  # days a deadline may be extended by
    legal: bool = False              # the text makes the value depend on the law or jurisdiction
    upto: bool = False               # "up to N", "N max": a ceiling only, any lower value allowed

    @property
    def interval(self) -> tuple[float, float] | None:
        """The values the text allows, or None when it fixes no number (by law, at any time ...)."""
        if self.lo is None or self.hi is None:
            return None
        return self.lo, self.hi

    @property
    def precise(self) -> bool:
        return self.kind in ("period", "range", "min", "number")

    def __str__(self) -> str:
        return self.text


def period(days: float, text: str) -> Value:
    return Value("period", days, days, text)


def parse_value(raw: Any) -> Value:
    """A claim value as the policy states it; raises ValueError with the accepted forms."""
    if isinstance(raw, bool):
        return Value("yes" if raw else "no", text="yes" if raw else "no")
    if isinstance(raw, (int, float)):
        return Value("number", float(raw), float(raw), str(raw))
    if isinstance(raw, list):
        items = frozenset(str(x) for x in raw)
        return Value("fields", text=", ".join(sorted(items)) or "no personal data", items=items)
    if isinstance(raw, dict):
        if "fields" in raw:
            return parse_value(list(raw["fields"] or []))
        if "mode" in raw:
            return Value("mode", text=str(raw["mode"]))
        raise ValueError(f"cannot read the claim value {raw!r}: give text, a number, a list of fields, "
                         "{fields: [...]} or {mode: explicit|implied}")
    text = " ".join(str(raw).split())
    low = text.lower()
    if low in ("no personal data", "none", "nothing"):
        return Value("fields", text="no personal data", items=frozenset())
    if low in ("yes", "no"):
        return Value(low, text=low)
    if low in ("explicit", "implied", "opt-in", "opt-out"):
        return Value("mode", text={"opt-in": "explicit", "opt-out": "implied"}.get(low, low))
    for w, nums in _WORD_NUMS.items():
        low = re.sub(rf"\b{w}\b", nums, low)
    ext = None
    parts = _EXT.split(low, maxsplit=1)
    if len(parts) == 2 and _ONE.search(parts[1]):
        m = _ONE.search(parts[1])
        ext = float(m.group(1)) * _unit_days(m.group(2))
        low = parts[0]
    m = _RANGE.search(low)
    if m:
        u = _unit_days(m.group(3))
        lo, hi = float(m.group(1)) * u, float(m.group(2)) * u
        return Value("range", lo, hi, text)
    m = _ONE.search(low)
    if m:
        d = float(m.group(1)) * _unit_days(m.group(2))
        if re.search(r"\bat least\b|\bminimum\b|\bno less than\b|\bnot less than\b", low):
            return Value("min", d, math.inf, text)
        upto = bool(re.search(r"\bup to\b|\bat most\b|\bmaximum\b|\bmax\b", low))
        return Value("period", d, d, text, extension=ext, upto=upto)
    for kind, (iv, rx) in WORDS.items():
        if re.search(rx, low):
            return Value("word", iv[0] if iv else None, iv[1] if iv else None, kind)
    raise ValueError(f"cannot read the claim value {text!r}: write a period ('30 days', '6-10 years', "
                     "'at least 7 years', '30 days + 30 days'), one of " + ", ".join(repr(w) for w in WORDS)
                     + ", a list of fields, 'no personal data', explicit/implied, yes/no")


_LEGAL = re.compile(r"\b(mandated|required|prescribed) by (the )?law\b|\bunder [\w ]{0,12}law\b|"
                    r"jurisdiction-dependent|\bin some jurisdictions\b", re.I)


def depends_on_law(text: str) -> bool:
    return bool(_LEGAL.search(text))


def words_in(quote: str) -> list[str]:
    """The word values a quote states, in WORDS order (strongest statement first)."""
    low = quote.lower()
    return [k for k, (_, rx) in WORDS.items() if k != "unstated" and re.search(rx, low)]


def refine_from_quote(v: Value, quote: str, *, zero_is_unstated: bool = False) -> Value:
    """A pledge's number as its quote states it. The check needs one number; the text may say
    more: a range whose upper bound is that number ('typically 6-10 years'), a minimum
    ('at least 7 years'), a word ('immediately', 'at any time'). When the check's number is 0
    and the quote states no delay at all, the 0 is an encoding choice: 'unstated'."""
    if depends_on_law(quote) and v.kind == "period":
        v = replace(v, legal=True)
    low = quote.lower()
    for w, n in _WORD_NUMS.items():
        low = re.sub(rf"\b{w}\b", n, low)
    if v.kind == "period" and v.hi:
        for m in _RANGE.finditer(low):
            u = _unit_days(m.group(3))
            lo, hi = float(m.group(1)) * u, float(m.group(2)) * u
            if abs(hi - v.hi) <= max(1.0, 0.02 * hi):
                return Value("range", lo, hi, m.group(0), extension=v.extension, legal=v.legal)
    if v.kind != "period":
        return v
    said = [m for m in _ONE.finditer(low) if abs(float(m.group(1)) * _unit_days(m.group(2)) - v.hi) <= max(1.0, 0.02 * v.hi)]
    if said:
        before, after = low[max(0, said[0].start() - 12):said[0].start()], low[said[0].end():said[0].end() + 5]
        if re.search(r"\bup to\s*$|\bmaximum of\s*$|\bat most\s*$|\bwithin\s*$", before) or re.match(r"\s*max\b", after):
            return replace(v, upto=True)
        return v
    found = words_in(quote)
    if "immediately" in found:
        return Value("word", 0.0, 0.0, "immediately")
    if found:
        iv = WORDS[found[0]][0]
        return Value("word", iv[0] if iv else None, iv[1] if iv else None, found[0])
    if zero_is_unstated and v.hi == 0:
        return Value("word", None, None, "unstated")
    return v


@dataclass(frozen=True)
class Data:
    category: str
    tables: frozenset[str] = frozenset()      # empty: not tied to a table
    where: tuple = ()                           # ((column, frozenset(values)), ...)
    scope: frozenset[str] = frozenset()         # things the statement names explicitly
    recipient: str | None = None
    jurisdictions: frozenset[str] | None = None  # None: all
    excludes: frozenset[str] = frozenset()       # exceptions the statement sets apart (e.g. fraud)

    def describe(self) -> str:
        bits = [self.category]
        if self.scope:
            bits.append("/".join(sorted(self.scope)))
        elif self.tables:
            bits.append("/".join(sorted(self.tables)))
        if self.where:
            bits.append(", ".join(f"{c}={'|'.join(sorted(v))}" for c, v in self.where))
        if self.recipient:
            bits.append(f"to {self.recipient}")
        return " ".join(bits)


BACKUPS = "backups"   # a pseudo-table for claims on backup copies (no export holds them)


def where_key(where: dict | None) -> tuple:
    out = []
    for col, val in sorted((where or {}).items()):
        vals = val if isinstance(val, list) else [val]
        out.append((col, frozenset(str(v) for v in vals)))
    return tuple(out)


@dataclass(frozen=True)
class Claim:
    ref: str                  # pledge id, or '<policy>.unverifiable-<n>'
    checked: bool             # a pledge (checked) or an unverifiable statement
    predicate: str
    data: Data
    value: Value
    section: str
    quote: str
    resolution: str = "strictest"
    check: str | None = None
    yields_to_law: bool = False   # "unless otherwise required by law": a legal value does not contradict it
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def with_(self, **kw) -> "Claim":
        return replace(self, **kw)

    def say(self) -> str:
        return f"{PREDICATES.get(self.predicate, self.predicate)} {self.value}"


# ------------------------------------------------------------------ how two claims' data relate
def _cat_rel(a: str, b: str) -> str | None:
    if a == b:
        return "same"
    if b.startswith(a + "."):
        return "a_covers"
    if a.startswith(b + "."):
        return "b_covers"
    return None


def relation(a: Data, b: Data) -> str:
    """'disjoint' | 'same' | 'a_in_b' | 'b_in_a' | 'overlap' (records both rule on, partly)."""
    ja, jb = a.jurisdictions, b.jurisdictions
    if ja is not None and jb is not None and not ja & jb:
        return "disjoint"
    if (a.recipient or b.recipient) and a.recipient != b.recipient:
        return "disjoint"
    cat = _cat_rel(a.category, b.category)
    if cat is None:
        # unrelated categories are other data, unless both name a table they share: a record
        # (a row) is kept or deleted whole, whichever of its columns a statement names
        if not (a.tables and b.tables and a.tables & b.tables):
            return "disjoint"
        cat = "same"
    if a.tables and b.tables and not a.tables & b.tables:
        return "disjoint"
    wa, wb = dict(a.where), dict(b.where)
    for col in set(wa) & set(wb):
        if not wa[col] & wb[col]:
            return "disjoint"
    if a.scope & b.excludes or b.scope & a.excludes:
        return "disjoint"   # one statement is about records the other one lists as an exception
    if a.scope and b.scope:
        # Both statements name what they cover: they rule on the same thing exactly when they
        # name a common item (e.g. both name contact forms), whatever else each names.
        return "same" if a.scope & b.scope else "disjoint"
    a_cov = _covers(a, b, cat in ("same", "a_covers"), wa, wb, ja, jb)
    b_cov = _covers(b, a, cat in ("same", "b_covers"), wb, wa, jb, ja)
    if a_cov and b_cov:
        return "same"
    if a_cov:
        return "b_in_a"
    if b_cov:
        return "a_in_b"
    if a.scope or b.scope:
        # a statement naming specific things (e.g. abuse records) and one naming tables: only a
        # statement that covers the other, or names the same thing, rules on the same records
        return "disjoint"
    return "overlap"


def _covers(x: Data, y: Data, cat_ok: bool, wx: dict, wy: dict, jx, jy) -> bool:
    if not cat_ok:
        return False
    if x.tables and (not y.tables or not y.tables <= x.tables):
        return False
    if x.scope and not y.scope:
        return False
    if jx is not None and (jy is None or not jy <= jx):
        return False
    for col, vals in wx.items():
        if col not in wy or not wy[col] <= vals:
            return False
    return True


# ------------------------------------------------------------------ building a checked pledge's claims
# (each check kind's `claims` in checks/<name>/check.py uses these)
def pledge_data(p, *, tables=None, where=None, category=None, scope=None) -> Data:
    """What a pledge is about: its category, tables, filters, named things and jurisdictions."""
    prm = p.params
    if tables is None:
        t = getattr(prm, "table", None)
        tables = [t] if t else []
    return Data(category=category or p.category, tables=frozenset(tables),
                where=where_key(getattr(prm, "where", None) if where is None else where),
                scope=frozenset(scope or ()),
                jurisdictions=None if p.jurisdictions == "all" else frozenset(p.jurisdictions))


def pledge_claim(p, predicate: str, value: Value, data: Data | None = None) -> Claim:
    return Claim(p.id, True, predicate, data or pledge_data(p), value, p.section, p.quote, p.resolution, p.check)


def duration_value(d, quote: str, zero_is_unstated: bool = False, extension=None) -> Value:
    """A pledge's duration as the text states it (a range, a ceiling, a word: see refine_from_quote)."""
    v = period(d.approx_days(), str(d))
    if extension is not None:
        v = Value("period", v.lo, v.hi, f"{d} (+{extension} with notice)", extension=extension.approx_days())
    return refine_from_quote(v, quote, zero_is_unstated=zero_is_unstated)
