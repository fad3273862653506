"""Counting the personal data in a large text file (logs) fast, in bounded memory.

The line-by-line detectors (`detectors.find_in_line`) run at about 3-6 MB/s in Python. Most
lines of a log need none of them in full, so a file is read in chunks of whole lines and
- one RE2 pass over each chunk (`CANDIDATES`, a DFA: no backtracking at every digit as Python's
  `re` does) finds what could be personal data: an '@', an IPv6 shape ('::' or eight groups), a
  run of 12 digits, a dotted quad inside a line, and with `names` any of the names;
- the first field of each line (a log's client field) is counted as a value: a log repeats few
  clients over many lines, so each distinct field is searched once with the IPv4 pattern;
- a dotted quad inside a line with nothing else is settled on the spot: the IPv4 pattern of the
  detectors is matched at that offset (same lookbehinds: version strings are no addresses);
- every other candidate line goes through the line detector, `find_in_line`, told which of the
  card and e-mail detectors its candidates call for.
The result equals `find_in_line` over every line (tests/test_detectors.py compares both on
mixed prose and on the real Apache log). Chunks go to one process per core; each returns its
counts per kind and the 8-byte digests of the values it saw (distinct counts). Memory: a 16 MB
chunk per worker and its line index, plus about 100 bytes per distinct value (a digest in a
Python set): it grows with distinct values, never with the size of the input.
`findings_in_order` lists findings with line numbers in order (the line detector on every line,
with the same hints), for the capped findings list.

Why these candidates are enough: a card needs a run of 12 digits, an e-mail an '@', an IPv6
address '::' or eight groups. A dotted quad the scan settles alone sits on a line without those;
a quad that overlaps another candidate (both consume digits) only occurs on lines that go
through the full detector anyway, because its digits are part of a decimal number, never of a
card run.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path

import re2

from .cards import PREFILTER as CARD_PREFILTER
from .detectors import IPV4, digest, find_in_line, ipv4_finding, names_in

CHUNK_BYTES = 16 << 20
_LATIN1 = re2.Options()
_LATIN1.encoding = re2.Options.Encoding.LATIN1   # one byte, one character: any bytes, no decoding
# Candidates other than a line's first field; a dotted quad comes last (an alternative tried
# earlier at the same offset wins) and never takes a digit, dot or '@' before it as its first
# character, so it cannot hide another candidate of its line.
CANDIDATES = re2.compile(rb"(@)|(::|(?:[0-9A-Fa-f]{1,4}:){7})|(" + CARD_PREFILTER.encode()
                         + rb")|[^\n0-9.@]((?:[0-9]{1,3}\.){3}[0-9]{1,3})", _LATIN1)
_GROUP_KIND = {1: "email", 2: "ipv6", 3: "card"}   # (the ipv6 hint is not passed on: find_in_line tests it)
_IPV4_BYTES = re.compile(IPV4.pattern.encode())
_FIRST_FIELD = re.compile(rb"\n([^ \n]*)")   # the first field of every line (of b"\n" + chunk)


@lru_cache(maxsize=4)
def _names_pattern(names: tuple[str, ...]):
    usable = sorted({n.lower() for n in names if len(n) >= 5})   # names_in ignores shorter names
    if not usable:
        return None
    return re2.compile(b"(?i)(?:" + b"|".join(re2.escape(n.encode()) for n in usable) + b")")


def _candidates(data: bytes, names: tuple[str, ...]) -> tuple[dict[int, set[str]], list[int]]:
    """The lines of `data` that need the full line detector ({line start: the kinds their
    candidates call for}) and the offsets of dotted quads inside lines."""
    exact: dict[int, set[str]] = {}
    quads: list[int] = []
    rfind = data.rfind
    for m in CANDIDATES.finditer(data):
        q = m.start(4)
        if q >= 0:
            quads.append(q)
        else:
            kind = next(k for g, k in _GROUP_KIND.items() if m.start(g) >= 0)
            exact.setdefault(rfind(b"\n", 0, m.start()) + 1, set()).add(kind)
    pattern = _names_pattern(names) if names else None
    if pattern is not None:
        for m in pattern.finditer(data):
            exact.setdefault(rfind(b"\n", 0, m.start()) + 1, set()).add("name")
    return exact, quads


def count_chunk(data: bytes, names: tuple[str, ...] = ()) -> tuple[Counter, dict[str, set[bytes]]]:
    """Counts per kind and value digests per kind of the findings in `data` (whole lines)."""
    counts: Counter = Counter()
    keys: dict[str, set[bytes]] = {}
    exact, quads = _candidates(data, names)
    rfind = data.rfind
    # The first field of every line (up to its first space; a log's client field) is counted
    # as a value: a log repeats few clients over many lines, and each distinct field is searched
    # once, with the IPv4 pattern itself (a field boundary is no digit, dot or letter: exact).
    firsts = Counter(_FIRST_FIELD.findall(b"\n" + data))
    for ls in exact:   # those lines are searched whole below
        le = data.find(b"\n", ls)
        firsts[data[ls:le if le >= 0 else len(data)].partition(b" ")[0]] -= 1
    for token, n in firsts.items():
        if n > 0 and b"." in token:
            for kind, key in _first_field(token):
                counts[kind] += n
                keys.setdefault(kind, set()).add(key)
    match = _IPV4_BYTES.match
    find = data.find
    for q in quads:
        ls = rfind(b"\n", 0, q) + 1
        if (exact and ls in exact) or find(b" ", ls, q) < 0:
            continue   # a whole-line search, or a quad inside the first field (counted above)
        m = match(data, q)
        if m is not None:
            for kind, key in _first_field(m.group()):
                counts[kind] += 1
                keys.setdefault(kind, set()).add(key)
    name_set = set(names)
    for ls, maybe in exact.items():
        le = data.find(b"\n", ls)
        line = data[ls:le if le >= 0 else len(data)].decode("utf-8", errors="replace")
        hits = find_in_line(line, maybe)
        if "name" in maybe:
            hits += names_in(line, name_set)
        for h in hits:
            counts[h.kind] += 1
            keys.setdefault(h.kind, set()).add(h.key)
    return counts, keys


_FIELDS: dict[bytes, list[tuple[str, bytes]]] = {}


def _first_field(field: bytes) -> list[tuple[str, bytes]]:
    """(kind, digest) of each IPv4 finding in a first field (or in one address), cached."""
    got = _FIELDS.get(field)
    if got is None:
        got = []
        for m in _IPV4_BYTES.finditer(field):
            text = m.group().decode("ascii")
            found = ipv4_finding(text)
            if found is not None:
                got.append((found[0], digest(text)))
        if len(_FIELDS) > 100_000:
            _FIELDS.clear()
        _FIELDS[field] = got
    return got


def findings_in_order(path: str | Path, names: set[str] | None = None):
    """(line number, Hit) of every finding of a text file, in order: the line detector on every
    line, told by the chunk's RE2 candidates which detectors a line can need (lines split at
    '\n'). A caller that needs only the first findings stops iterating."""
    names_t = tuple(sorted(names or ()))
    name_set = set(names_t)
    line_no = 0
    with open(path, "rb") as fh:
        while True:
            data = fh.read(CHUNK_BYTES)
            if not data:
                return
            data += fh.readline(CHUNK_BYTES)   # (a line longer than a chunk is cut: memory stays bounded)
            exact, _ = _candidates(data, names_t)
            pos = 0
            for raw in data.split(b"\n"):
                start, pos = pos, pos + len(raw) + 1
                if not raw and pos > len(data):
                    break   # (after the chunk's last newline)
                line_no += 1
                maybe = exact.get(start, _NONE)
                line = raw.decode("utf-8", errors="replace")
                hits = find_in_line(line, maybe)
                if "name" in maybe:
                    hits += names_in(line, name_set)
                for h in hits:
                    yield line_no, h


_NONE: set[str] = set()


def _count_range(path: str, start: int, end: int, names: tuple[str, ...]) -> tuple[Counter, dict, int]:
    counts: Counter = Counter()
    keys: dict[str, set[bytes]] = {}
    lines = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        left = end - start
        while left > 0:
            data = fh.read(min(CHUNK_BYTES, left))
            if not data:
                break
            left -= len(data)
            if left > 0:   # end the chunk at a line end; the rest goes to the next chunk
                tail = fh.readline(CHUNK_BYTES)
                left -= len(tail)
                data += tail
            lines += data.count(b"\n")
            c, k = count_chunk(data, names)
            counts.update(c)
            for kind, s in k.items():
                keys.setdefault(kind, set()).update(s)
    return counts, keys, lines


def _ranges(path: Path, parts: int) -> list[tuple[int, int]]:
    size = path.stat().st_size
    cuts = [0]
    with open(path, "rb") as fh:
        for i in range(1, parts):
            fh.seek(size * i // parts)
            fh.readline(CHUNK_BYTES)
            pos = fh.tell()
            if cuts[-1] < pos < size:
                cuts.append(pos)
    cuts.append(size)
    return list(zip(cuts, cuts[1:]))


def count_file(path: str | Path, names: set[str] | None = None, workers: int | None = None
               ) -> tuple[Counter, dict[str, set[bytes]], int]:
    """(counts per kind, value digests per kind, lines) of a text file; `workers` processes
    (default: one per core) each take a contiguous part of the file."""
    path = Path(path)
    workers = workers or os.cpu_count() or 1
    names_t = tuple(sorted(names or ()))
    if workers == 1:
        return _count_range(str(path), 0, path.stat().st_size, names_t)
    # several parts per worker, so a slow part does not leave a core idle at the end
    ranges = _ranges(path, workers * 4)
    counts: Counter = Counter()
    keys: dict[str, set[bytes]] = {}
    lines = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_count_range, str(path), a, b, names_t) for a, b in ranges]
        for fut in futures:
            c, k, n = fut.result()
            counts.update(c)
            lines += n
            for kind, s in k.items():
                keys.setdefault(kind, set()).update(s)
    return counts, keys, lines
