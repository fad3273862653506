"""IAB TCF v2 consent strings (TC strings): strict decoding and validation.

A TC string is base64url text (no padding) of a bit stream; segments are separated by dots and
the first one is the core segment (IAB Tech Lab, "TCF v2.2 Consent string and vendor list
formats"). This decoder reads every segment completely (the core segment with its vendor
consent, vendor legitimate-interest and publisher-restriction sections; the disclosed-vendors,
allowed-vendors and publisher-TC segments) so that a truncated string is noticed.

Why not a library: the one Python package (iab-tcf 0.2.2) is unmaintained since 2022, pulls a
forked bit-array C extension, and reads past the end of a truncated string as zero bits, so a
cut-off string decodes "successfully". The format is small and fixed; `scripts/crosscheck_tcf.py`
compares this decoder with iab-tcf on generated strings.

`decode(text)` never raises: a string that does not decode gives `error` (one word from
ERRORS) and `reason` (one line: what is wrong and where). `decode(text, full=True)` also lists
the vendor ids, publisher restrictions and optional segments (`pledgecheck tcf`; `describe`
turns the result into JSON values). `encode(...)` builds core strings for tests and the synthetic
world.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
ERRORS = ("not_base64url", "not_version_2", "truncated", "malformed")
# TCF policy version 4 (TCF v2.2) forbids legitimate interest as a legal basis for these
# purposes (3-6: personalised advertising and content profiles).
CONSENT_ONLY_PURPOSES = (3, 4, 5, 6)
SEGMENT_TYPES = {1: "disclosed_vendors", 2: "allowed_vendors", 3: "publisher_tc"}
SEGMENT_NAMES = {1: "the disclosed-vendors segment", 2: "the allowed-vendors segment", 3: "the publisher TC segment"}


@dataclass
class TCString:
    error: str | None = None
    version: int | None = None
    created: datetime | None = None
    last_updated: datetime | None = None
    cmp_id: int | None = None
    cmp_version: int | None = None
    consent_language: str | None = None
    vendor_list_version: int | None = None
    policy_version: int | None = None
    purposes_consent: list[int] = field(default_factory=list)
    purposes_li: list[int] = field(default_factory=list)
    special_features: list[int] = field(default_factory=list)
    publisher_cc: str | None = None
    vendors_consent: int = 0      # number of vendors with consent
    vendors_li: int = 0
    # with decode(..., full=True) (`pledgecheck tcf`): the why of an error, and every list
    reason: str | None = None     # one line: what is wrong and where
    vendor_ids_consent: list[int] = field(default_factory=list)
    vendor_ids_li: list[int] = field(default_factory=list)
    publisher_restrictions: list[dict] = field(default_factory=list)   # {purpose, type, vendors}
    segments: dict = field(default_factory=dict)   # disclosed_vendors, allowed_vendors, publisher_tc

    def as_row(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class _Bits:
    def __init__(self, text: str):
        self.n = 6 * len(text)
        v = 0
        for c in text:
            v = (v << 6) | _VALUE[c]
        self.v = v
        self.pos = 0
        self.section = "the core segment"   # what is being read (for the reason of an error)

    def read(self, width: int) -> int:
        if self.pos + width > self.n:
            raise _Truncated(f"{self.section} runs past the string's end (it needs bit {self.pos + width}, "
                             f"the string has {self.n})")
        out = (self.v >> (self.n - self.pos - width)) & ((1 << width) - 1)
        self.pos += width
        return out

    def flags(self, width: int) -> list[int]:
        bits = self.read(width)
        return [i + 1 for i in range(width) if bits >> (width - 1 - i) & 1]

    def letters(self) -> str:
        return "".join(chr(ord("A") + self.read(6)) for _ in range(2))

    def rest_is_zero(self) -> bool:
        left = self.n - self.pos
        return left == 0 or self.v & ((1 << left) - 1) == 0


class _Truncated(Exception):
    pass


class _Malformed(Exception):
    pass


def _vendors(b: _Bits, ids: list[int] | None = None) -> int:
    """A vendor section (bit field or ranges): the number of vendors it names (their ids into
    `ids` when given)."""
    max_id = b.read(16)
    if b.read(1) == 0:
        if not max_id:
            return 0
        bits = b.read(max_id)
        if ids is not None:
            ids.extend(i + 1 for i in range(max_id) if bits >> (max_id - 1 - i) & 1)
        return bin(bits).count("1")
    return _ranges(b, max_id, ids)


def _ranges(b: _Bits, max_id: int | None, ids: list[int] | None = None) -> int:
    count = 0
    for k in range(1, b.read(12) + 1):
        if b.read(1):
            start, end = b.read(16), b.read(16)
        else:
            start = end = b.read(16)
        if start == 0:
            raise _Malformed(f"{b.section}: range {k} starts at vendor 0 (ids start at 1)")
        if end < start:
            raise _Malformed(f"{b.section}: range {k} ends at vendor {end}, before its start {start}")
        if max_id is not None and end > max_id:
            raise _Malformed(f"{b.section}: range {k} ends at vendor {end}, past the section's max vendor id "
                             f"{max_id}")
        count += end - start + 1
        if ids is not None:
            ids.extend(range(start, end + 1))
    return count


def _instant(deciseconds: int) -> datetime:
    return datetime.fromtimestamp(deciseconds / 10, tz=timezone.utc).replace(tzinfo=None)


@lru_cache(maxsize=65536)
def decode(text: str | None, full: bool = False) -> TCString | None:
    """Decode a TC string; None for a null or blank value. `full`: also the vendor ids, the
    publisher restrictions, the optional segments and a one-line `reason` for an error."""
    if text is None or not text.strip():
        return None
    segments = text.strip().split(".")
    for k, seg in enumerate(segments, start=1):
        bad = next((i for i, c in enumerate(seg) if c not in _VALUE), None)
        if not seg or bad is not None:
            why = (f"segment {k} is empty" if not seg else
                   f"segment {k}: character {seg[bad]!r} at position {bad + 1} is not base64url (A-Z a-z 0-9 - _)")
            return TCString(error="not_base64url", reason=why)
    b = _Bits(segments[0])
    t = TCString()
    ids_c: list[int] | None = t.vendor_ids_consent if full else None
    ids_li: list[int] | None = t.vendor_ids_li if full else None
    try:
        t.version = b.read(6)
        if t.version != 2:
            return TCString(error="not_version_2", version=t.version,
                            reason=f"version {t.version}: only TCF v2 strings are decoded")
        t.created, t.last_updated = _instant(b.read(36)), _instant(b.read(36))
        t.cmp_id, t.cmp_version = b.read(12), b.read(12)
        b.read(6)  # consent screen
        t.consent_language = b.letters()
        t.vendor_list_version, t.policy_version = b.read(12), b.read(6)
        b.read(2)  # is service specific, use non-standard texts
        t.special_features = b.flags(12)
        t.purposes_consent, t.purposes_li = b.flags(24), b.flags(24)
        b.read(1)  # purpose one treatment
        t.publisher_cc = b.letters()
        b.section = "the vendor consent section"
        t.vendors_consent = _vendors(b, ids_c)
        b.section = "the vendor legitimate-interest section"
        t.vendors_li = _vendors(b, ids_li)
        b.section = "the publisher restrictions"
        for _ in range(b.read(12)):  # publisher restrictions
            purpose, kind = b.read(6), b.read(2)
            vendors: list[int] | None = [] if full else None
            _ranges(b, None, vendors)
            if full:
                t.publisher_restrictions.append({"purpose": purpose, "type": kind, "vendors": vendors})
        if not b.rest_is_zero():
            raise _Malformed("the core segment has non-zero bits after its last section")
        for k, seg in enumerate(segments[1:], start=2):
            sb = _Bits(seg)
            sb.section = f"segment {k}"
            kind = sb.read(3)
            if kind not in SEGMENT_TYPES:
                raise _Malformed(f"segment {k} has type {kind} (1: disclosed vendors, 2: allowed vendors, "
                                 "3: publisher TC)")
            content = _segment(sb, kind)   # read in full: a cut-off segment is noticed
            if full:
                t.segments[SEGMENT_TYPES[kind]] = content
    except _Truncated as e:
        return TCString(error="truncated", version=t.version, reason=str(e))
    except _Malformed as e:
        return TCString(error="malformed", version=t.version, reason=str(e))
    if not (t.consent_language.isalpha() and t.publisher_cc.isalpha()):
        return TCString(error="malformed", version=t.version,
                        reason=f"language {t.consent_language!r} or publisher country {t.publisher_cc!r} "
                               "is not two letters")
    if t.cmp_id == 0:
        return TCString(error="malformed", version=t.version, reason="CMP id 0 (ids start at 1)")
    return t


def _segment(b: _Bits, kind: int):
    """An optional segment (its type already read): vendor ids, or the publisher's purposes."""
    b.section = SEGMENT_NAMES[kind]
    if kind in (1, 2):
        ids: list[int] = []
        _vendors(b, ids)
        return ids
    out = {"purposes_consent": b.flags(24), "purposes_li": b.flags(24)}
    n = b.read(6)
    out["custom_purposes_consent"], out["custom_purposes_li"] = b.flags(n), b.flags(n)
    return out


def describe(t: TCString) -> dict:
    """A decoded string as plain JSON values (what `pledgecheck tcf --json` prints)."""
    if t.error:
        return {"ok": False, "error": t.error, "reason": t.reason, "version": t.version}
    iso = lambda d: d.isoformat(timespec="seconds") + "Z"  # noqa: E731 - naive UTC
    return {"ok": True, "version": t.version, "created": iso(t.created), "last_updated": iso(t.last_updated),
            "cmp_id": t.cmp_id, "cmp_version": t.cmp_version, "consent_language": t.consent_language,
            "vendor_list_version": t.vendor_list_version, "policy_version": t.policy_version,
            "publisher_country": t.publisher_cc, "special_features": t.special_features,
            "purposes_consent": t.purposes_consent, "purposes_legitimate_interest": t.purposes_li,
            "vendors_consent": t.vendor_ids_consent, "vendors_legitimate_interest": t.vendor_ids_li,
            "publisher_restrictions": t.publisher_restrictions, "segments": t.segments}


# ------------------------------------------------------------------ encoding (tests, generator)
def encode(created: datetime, last_updated: datetime | None = None, *, purposes_consent=(), purposes_li=(),
           vendors_consent=(), vendors_li=(), policy_version: int = 4, cmp_id: int = 300, cmp_version: int = 2,
           vendor_list_version: int = 150, language: str = "EN", publisher_cc: str = "GB",
           version: int = 2) -> str:
    """A core-segment TC string (vendor sections as bit fields). Times are naive UTC."""
    fields: list[tuple[int, int]] = []
    put = lambda value, width: fields.append((int(value), width))  # noqa: E731

    def ds(t: datetime) -> int:
        return int(round(t.replace(tzinfo=timezone.utc).timestamp() * 10))

    def flags(ids, width):
        v = 0
        for i in ids:
            v |= 1 << (width - i)
        put(v, width)

    def letters(s):
        for ch in s:
            put(ord(ch) - ord("A"), 6)

    def vendors(ids):
        m = max(ids, default=0)
        put(m, 16)
        put(0, 1)
        if m:
            flags(ids, m)

    put(version, 6)
    put(ds(created), 36)
    put(ds(last_updated or created), 36)
    put(cmp_id, 12)
    put(cmp_version, 12)
    put(1, 6)
    letters(language)
    put(vendor_list_version, 12)
    put(policy_version, 6)
    put(0, 2)
    put(0, 12)
    flags(purposes_consent, 24)
    flags(purposes_li, 24)
    put(0, 1)
    letters(publisher_cc)
    vendors(vendors_consent)
    vendors(vendors_li)
    put(0, 12)
    v, n = 0, 0
    for value, width in fields:
        v, n = (v << width) | value, n + width
    pad = -n % 24  # whole bytes and whole base64 characters, as the IAB reference encoder does
    v, n = v << pad, n + pad
    return "".join(ALPHABET[(v >> (n - 6 * (i + 1))) & 63] for i in range(n // 6))


# ------------------------------------------------------------------ DuckDB
DUCKDB_TYPE = ("STRUCT(error VARCHAR, version INTEGER, created TIMESTAMP, last_updated TIMESTAMP, "
               "policy_version INTEGER, purposes_consent INTEGER[], purposes_li INTEGER[])")


def _row(text: str | None) -> dict | None:
    t = decode(text)
    if t is None:
        return None
    return {"error": t.error, "version": t.version, "created": t.created, "last_updated": t.last_updated,
            "policy_version": t.policy_version, "purposes_consent": t.purposes_consent,
            "purposes_li": t.purposes_li}


def register(con) -> None:
    """`tcf_decode(text)` in a DuckDB connection (NULL for a null or blank string)."""
    import duckdb

    try:
        con.remove_function("tcf_decode")
    except (duckdb.InvalidInputException, duckdb.CatalogException):
        pass
    con.create_function("tcf_decode", _row, ["VARCHAR"], DUCKDB_TYPE, null_handling="special",
                        side_effects=False)
