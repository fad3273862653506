"""IAB TCF v2 consent strings (TC strings): strict decoding and validation.

A TC string is base64url text (no padding) of a bit stream; segments are separated by dots and
the first one is the core segment (IAB Tech Lab, "TCF v2.2 Consent string and vendor list
formats"). This decoder reads the core segment completely (its vendor consent, vendor
legitimate-interest and publisher-restriction sections) so that a truncated string is noticed,
and checks the type field of each further segment.

Why not a library: the one Python package (iab-tcf 0.2.2) is unmaintained since 2022, pulls a
forked bit-array C extension, and reads past the end of a truncated string as zero bits, so a
cut-off string decodes "successfully". The format is small and fixed; `scripts/crosscheck_tcf.py`
compares this decoder with iab-tcf on generated strings.

`decode(text)` never raises: a string that does not decode gives `error` (one word from
ERRORS). `encode(...)` builds core strings for tests and the synthetic world.
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

    def read(self, width: int) -> int:
        if self.pos + width > self.n:
            raise _Truncated
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


def _vendors(b: _Bits) -> int:
    """A vendor section (bit field or ranges): the number of vendors it names."""
    max_id = b.read(16)
    if b.read(1) == 0:
        return bin(b.read(max_id)).count("1") if max_id else 0
    return _ranges(b, max_id)


def _ranges(b: _Bits, max_id: int | None) -> int:
    count = 0
    for _ in range(b.read(12)):
        if b.read(1):
            start, end = b.read(16), b.read(16)
        else:
            start = end = b.read(16)
        if start == 0 or end < start or (max_id is not None and end > max_id):
            raise _Malformed
        count += end - start + 1
    return count


def _instant(deciseconds: int) -> datetime:
    return datetime.fromtimestamp(deciseconds / 10, tz=timezone.utc).replace(tzinfo=None)


@lru_cache(maxsize=65536)
def decode(text: str | None) -> TCString | None:
    """Decode a TC string; None for a null or blank value."""
    if text is None or not text.strip():
        return None
    segments = text.strip().split(".")
    if any(not s or any(c not in _VALUE for c in s) for s in segments):
        return TCString(error="not_base64url")
    b = _Bits(segments[0])
    t = TCString()
    try:
        t.version = b.read(6)
        if t.version != 2:
            return TCString(error="not_version_2", version=t.version)
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
        t.vendors_consent = _vendors(b)
        t.vendors_li = _vendors(b)
        for _ in range(b.read(12)):  # publisher restrictions
            b.read(6 + 2)
            _ranges(b, None)
        if not b.rest_is_zero():
            raise _Malformed
        for seg in segments[1:]:
            sb = _Bits(seg)
            if sb.read(3) not in SEGMENT_TYPES:
                raise _Malformed
    except _Truncated:
        return TCString(error="truncated", version=t.version)
    except _Malformed:
        return TCString(error="malformed", version=t.version)
    if not (t.consent_language.isalpha() and t.publisher_cc.isalpha()) or t.cmp_id == 0:
        return TCString(error="malformed", version=t.version)
    return t


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
