"""Personal-data detectors: e-mail addresses, full payment card numbers, full IP addresses.

One implementation, used by the ad-hoc scan (`pledgecheck scan`) and by the leak scan that
CI runs over every artifact a run writes. Findings carry a masked value, never the value.
Card numbers follow the one brand table and run rule of `pledgecheck.cards`, from which the
SQL macros (sql/macros.sql) and their Spark translation are derived; tests/test_detectors.py
holds the three to the same cases, and holds the detectors to mixed prose written for them.

Kinds: `card`, `email`, `software_email` (an e-mail address inside a User-Agent: the contact
address of a crawler or library, `help@moz.com`, not a person's), `ipv4`, `ipv6`, `name`.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .cards import PREFILTER as CARD_PREFILTER
from .cards import card_brand, card_runs, is_card_number, luhn_ok  # noqa: F401 - re-exported

EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])")
# An IPv4 address, unless it is a version string: after a letter (`v1.2.3.4`, `Version1.2.3.4`),
# after `rv:` (`rv:1.9.0.19`), or after a product token's slash (`Firefox/2.0.0.4`; a slash after
# a letter, digit or underscore). `http://203.0.113.7/` and `GET /203.0.113.7` stay addresses.
# (The lookbehinds follow the first digit so that the search skips to digits: 2x faster.)
IPV4 = re.compile(r"[0-9](?<![0-9.A-Za-z][0-9])(?<![rR][vV]:[0-9])(?<![A-Za-z0-9_]/[0-9])"
                  r"[0-9]{0,2}\.(?:[0-9]{1,3}\.){2}[0-9]{1,3}(?![0-9]|\.[0-9])")
# bounded by characters that cannot belong to a word or an address (so CSS `a::after`,
# C++ `std::map` and times `10:05:03` are not candidates)
IPV6 = re.compile(r"(?<![0-9A-Za-z_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Za-z_:])")
# a valid IPv6 address has '::' or eight groups: lines without either need no IPv6 search
IPV6_PREFILTER = re.compile(r"::|(?:[0-9A-Fa-f]{1,4}:){7}")
_CARD_PREFILTER = re.compile(CARD_PREFILTER)
NOT_PERSONAL_IPS = {"0.0.0.0", "127.0.0.1", "255.255.255.255", "::", "::1"}

# Apache/Nginx "combined" (and "common") log lines: client, identity, user, [time], "request",
# status, size, then "referrer" "agent" (combined). Fields are read, not searched: the client field
# is an address, the agent field is text whose e-mail addresses belong to software.
_QUOTED = r'[^"\\]*(?:\\.[^"\\]*)*'   # the text of a quoted field, backslash escapes allowed
COMBINED = re.compile(rf'(?P<client>[^ "]+) (?P<ident>[^ "]+) (?P<user>[^ "]+) \[(?P<time>[^\]]*)\] '
                      rf'"(?P<request>{_QUOTED})" (?P<status>[0-9]{{3}}|-) (?P<size>[0-9]+|-)'
                      rf'(?: "(?P<referrer>{_QUOTED})" "(?P<agent>{_QUOTED})")?')
LOG_FIELDS = ("client", "ident", "user", "request", "referrer", "agent")   # the fields worth searching


@dataclass(frozen=True)
class Hit:
    kind: str        # card | email | software_email | ipv4 | ipv6 | name
    masked: str
    start: int
    column: str | None = None                               # the log field, for log lines
    key: bytes = field(default=b"", repr=False, compare=False)  # digest of the value: distinct counts


def digest(value: str) -> bytes:
    """A short digest of a normalized value, to count distinct values without keeping them."""
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def cards(text: str) -> Iterator[Hit]:
    """Full card numbers (pledgecheck.cards: brand table, Luhn, maximal runs not glued to letters,
    not inside decimal numbers)."""
    if not _CARD_PREFILTER.search(text):
        return
    for start, d in card_runs(text):
        yield Hit("card", f"{card_brand(d)} ****{d[-4:]}", start, key=digest(d))


def emails(text: str, software: bool = False) -> Iterator[Hit]:
    if "@" not in text:
        return
    for m in EMAIL.finditer(text):
        local, _, domain = m.group().partition("@")
        tld = domain.rsplit(".", 1)[-1]
        yield Hit("software_email" if software else "email", f"{local[0]}***@***.{tld}", m.start(),
                  key=digest(m.group().lower()))


_IPV4_CACHE: dict[str, tuple[str, str] | None] = {}


def ipv4_finding(value: str, include_truncated: bool = False) -> tuple[str, str] | None:
    """(kind, masked) of a dotted quad the IPV4 pattern matched, None if it is no personal address."""
    got = _IPV4_CACHE.get(value, False)
    if got is False:
        got = None
        try:
            ip = ipaddress.IPv4Address(value)
        except ValueError:
            ip = None
        if ip is not None and value not in NOT_PERSONAL_IPS:
            a, b, c, last = value.split(".")
            got = ("ipv4_truncated" if last == "0" else "ipv4", f"{a}.{b}.{c}.x")
        if len(_IPV4_CACHE) > 200_000:
            _IPV4_CACHE.clear()
        _IPV4_CACHE[value] = got
    if got is not None and got[0] == "ipv4_truncated" and not include_truncated:
        return None
    return got


def ips(text: str, include_truncated: bool = False, v6: bool = True) -> Iterator[Hit]:
    """Full IPv4 (last octet not 0) and IPv6 (not a /48) addresses."""
    for m in IPV4.finditer(text) if "." in text else ():
        got = ipv4_finding(m.group(), include_truncated)
        if got is not None:
            yield Hit(got[0], got[1], m.start(), key=digest(m.group()))
    if not v6 or ("::" not in text and (text.count(":") < 7 or not IPV6_PREFILTER.search(text))):
        return
    for m in IPV6.finditer(text):
        cand = m.group()
        if cand.count(":") < 2 or len([g for g in cand.split(":") if g]) < 2:
            continue  # at least two groups: '::1', '::afe' are not a person's address
        try:
            ip = ipaddress.IPv6Address(cand)
        except ValueError:
            continue
        if str(ip) in NOT_PERSONAL_IPS:
            continue
        truncated = int(ip) & ((1 << 80) - 1) == 0
        if include_truncated or not truncated:
            net = ipaddress.IPv6Network(f"{ip}/48", strict=False)
            yield Hit("ipv6" if not truncated else "ipv6_truncated", f"{net.network_address}/48 + x", m.start(),
                      key=digest(str(ip)))


def ipv6_truncated(ip: str) -> bool:
    return int(ipaddress.IPv6Address(ip)) & ((1 << 80) - 1) == 0


def find_all(text: str, kinds: set[str] | None = None, software: bool = False) -> list[Hit]:
    """Every finding in a text, in order. `software`: the text is a User-Agent (its e-mail
    addresses are `software_email`)."""
    if not text:
        return []
    hits: list[Hit] = []
    if kinds is None or "card" in kinds:
        hits += cards(text)
    if kinds is None or kinds & {"email", "software_email"}:
        hits += emails(text, software)
    if kinds is None or kinds & {"ipv4", "ipv6", "ip"}:
        hits += ips(text, v6=kinds is None or bool(kinds & {"ipv6", "ip"}))
    return sorted(hits, key=lambda h: h.start) if len(hits) > 1 else hits


def find_in_line(line: str, maybe: set[str] | None = None) -> list[Hit]:
    """Every finding in one line of a text file. An Apache/Nginx combined (or common) log line is
    read by its fields (each hit names its field in `column`); any other line is searched whole.
    `maybe`: "card" and/or "email" when the caller (textscan) already found their necessary
    condition in the line (a run of 12 digits, an '@'); None: test here. IP addresses are always
    searched."""
    if maybe is not None:
        maybe = maybe | {"ipv4", "ipv6"}
    m = COMBINED.match(line)
    if m is None:
        return find_all(line, maybe)
    # the detectors whose cheap test passes on the whole line are run on each field
    if maybe is None:
        kinds = {"ipv4", "ipv6"}
        if "@" in line:
            kinds.add("email")
        if _CARD_PREFILTER.search(line):
            kinds.add("card")
    else:
        kinds = maybe
    hits: list[Hit] = []
    kinds_f = frozenset(kinds)
    for name in LOG_FIELDS:
        value = m.group(name)
        if value and value != "-":
            off = m.start(name)
            hits += (Hit(h.kind, h.masked, h.start + off, name, h.key)
                     for h in _field_hits(value, kinds_f, name == "agent"))
    rest = line[m.end():]
    if rest.strip():   # fields some servers add after the agent (e.g. X-Forwarded-For): text
        hits += (Hit(h.kind, h.masked, h.start + m.end(), "extra", h.key) for h in find_all(rest))
    return hits


_FIELD_HITS: dict[tuple[str, frozenset, bool], list[Hit]] = {}


def _field_hits(value: str, kinds: frozenset, software: bool) -> list[Hit]:
    """find_all of a log field, remembered: logs repeat the same agents, referrers and requests
    over many lines (a bounded cache, in memory only)."""
    key = (value, kinds, software)
    got = _FIELD_HITS.get(key)
    if got is None:
        got = find_all(value, set(kinds), software=software)
        if len(_FIELD_HITS) >= 20_000:
            _FIELD_HITS.clear()
        _FIELD_HITS[key] = got
    return got


def names_in(text: str, names: set[str]) -> list[Hit]:
    """Known names (e.g. from the inputs' name columns) appearing as whole words in a text."""
    out = []
    low = text.lower()
    for name in names:
        if len(name) < 5:
            continue
        for m in re.finditer(rf"(?<![a-z]){re.escape(name.lower())}(?![a-z])", low):
            out.append(Hit("name", f"{name[0]}*** (name from the inputs)", m.start(), key=digest(name.lower())))
    return out
