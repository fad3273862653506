"""Personal-data detectors: e-mail addresses, full payment card numbers, full IP addresses.

One implementation, used by the ad-hoc scan (`pledgecheck scan`) and by the leak scan that
CI runs over every artifact a run writes. Findings carry a masked value, never the value.
The SQL checks use the same rules (sql/macros.sql); tests/test_detectors.py holds both to
the same cases.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass

EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])")
DIGIT_RUN_ANY = re.compile(r"[0-9](?:[ -]?[0-9])*")
DECIMAL = re.compile(r"[0-9]*\.[0-9]+")
IPV4 = re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9]|\.[0-9])")
# bounded by characters that cannot belong to a word or an address (so CSS `a::after`,
# C++ `std::map` and times `10:05:03` are not candidates)
IPV6 = re.compile(r"(?<![0-9A-Za-z_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Za-z_:])")
NOT_PERSONAL_IPS = {"0.0.0.0", "127.0.0.1", "255.255.255.255", "::", "::1"}


@dataclass(frozen=True)
class Hit:
    kind: str        # email | card | ipv4 | ipv6
    masked: str
    start: int


def card_brand(d: str) -> str | None:
    n = len(d)
    if d[0] == "4" and n in (13, 16, 19):
        return "visa"
    if n == 16 and (d[:2] in ("51", "52", "53", "54", "55") or 2221 <= int(d[:4]) <= 2720):
        return "mastercard"
    if n == 15 and d[:2] in ("34", "37"):
        return "amex"
    if 16 <= n <= 19 and (d.startswith(("6011", "65")) or 644 <= int(d[:3]) <= 649):
        return "discover"
    if 14 <= n <= 19 and (d.startswith(("36", "38", "39")) or 300 <= int(d[:3]) <= 305):
        return "diners"
    if 16 <= n <= 19 and 3528 <= int(d[:4]) <= 3589:
        return "jcb"
    if 16 <= n <= 19 and d.startswith("62"):
        return "unionpay"
    if 12 <= n <= 19 and (d.startswith("50") or 56 <= int(d[:2]) <= 69):
        return "maestro"
    return None


def luhn_ok(d: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(d)):
        x = ord(ch) - 48
        if i % 2:
            x = x * 2 - 9 if x >= 5 else x * 2
        total += x
    return total % 10 == 0


def is_card_number(digits: str) -> bool:
    return 12 <= len(digits) <= 19 and card_brand(digits) is not None and luhn_ok(digits)


def cards(text: str) -> Iterator[Hit]:
    """Full card numbers: maximal digit runs (single space/dash separators), brand + Luhn;
    digits that are part of a decimal number (e.g. 47.69230769230769) are not candidates."""
    # decimal numbers (chart coordinates, amounts) are not card numbers: blank them first,
    # keeping offsets, exactly as the SQL macro card_count does
    text = DECIMAL.sub(lambda m: " " * len(m.group()), text)
    for m in DIGIT_RUN_ANY.finditer(text):
        d = re.sub(r"[ -]", "", m.group())
        if is_card_number(d):
            yield Hit("card", f"{card_brand(d)} ****{d[-4:]}", m.start())


def emails(text: str) -> Iterator[Hit]:
    for m in EMAIL.finditer(text):
        local, _, domain = m.group().partition("@")
        tld = domain.rsplit(".", 1)[-1]
        yield Hit("email", f"{local[0]}***@***.{tld}", m.start())


def ips(text: str, include_truncated: bool = False) -> Iterator[Hit]:
    """Full IPv4 (last octet not 0) and IPv6 (not a /48) addresses."""
    for m in IPV4.finditer(text):
        try:
            ip = ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        if str(ip) in NOT_PERSONAL_IPS:
            continue
        truncated = str(ip).endswith(".0")
        if include_truncated or not truncated:
            a, b, c, _ = str(ip).split(".")
            yield Hit("ipv4" if not truncated else "ipv4_truncated", f"{a}.{b}.{c}.x", m.start())
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
            yield Hit("ipv6" if not truncated else "ipv6_truncated", f"{net.network_address}/48 + x", m.start())


def ipv6_truncated(ip: str) -> bool:
    return int(ipaddress.IPv6Address(ip)) & ((1 << 80) - 1) == 0


def find_all(text: str, kinds: set[str] | None = None) -> list[Hit]:
    """Every finding in a text, in order."""
    if not text:
        return []
    hits: list[Hit] = []
    if kinds is None or "card" in kinds:
        hits += cards(text)
    if kinds is None or "email" in kinds:
        hits += emails(text)
    if kinds is None or kinds & {"ipv4", "ipv6", "ip"}:
        hits += ips(text)
    return sorted(hits, key=lambda h: h.start)


def names_in(text: str, names: set[str]) -> list[Hit]:
    """Known names (e.g. from the inputs' name columns) appearing as whole words in a text."""
    out = []
    low = text.lower()
    for name in names:
        if len(name) < 5:
            continue
        for m in re.finditer(rf"(?<![a-z]){re.escape(name.lower())}(?![a-z])", low):
            out.append(Hit("name", f"{name[0]}*** (name from the inputs)", m.start()))
    return out
