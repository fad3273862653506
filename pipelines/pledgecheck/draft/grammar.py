"""The duration grammar: periods, deadlines, ranges, minimums, ages and counts in a sentence.

    "within 30 days", "for 7 years", "24 months of inactivity", "48 hours", "one (1) month",
    "ten years", "36–60 months", "between 6 and 10 years", "at least 6 months", "5 yrs max",
    "up to 60 days", "an additional 45 days", "two further months", "+ 2 yrs"

Each match says its amount and unit (one of the units of pledgecheck.duration), its role
(limit, minimum, range, extension) and where it sits in the sentence. Ages ("aged 18 and
over", "under the age of 16") and counts ("10 downloads per calendar month") are recognised
apart so that they are never read as periods.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "twenty-one": 21, "twenty-four": 24, "thirty": 30, "thirty-six": 36, "forty": 40,
    "forty-five": 45, "forty-eight": 48, "fifty": 50, "sixty": 60, "seventy-two": 72, "ninety": 90,
    "hundred": 100, "one hundred": 100, "one hundred twenty": 120, "one hundred and twenty": 120,
}
# unit words -> (unit of pledgecheck.duration, factor); weeks become days
UNIT_WORDS = {
    "year": ("years", 1), "years": ("years", 1), "calendar year": ("years", 1), "calendar years": ("years", 1),
    "calendar month": ("months", 1), "calendar months": ("months", 1), "yr": ("years", 1), "yrs": ("years", 1), "y": ("years", 1),
    "month": ("months", 1), "months": ("months", 1), "mo": ("months", 1), "mos": ("months", 1), "mth": ("months", 1),
    "mths": ("months", 1),
    "week": ("days", 7), "weeks": ("days", 7), "wk": ("days", 7), "wks": ("days", 7),
    "day": ("days", 1), "days": ("days", 1), "calendar day": ("days", 1), "calendar days": ("days", 1),
    "business day": ("business_days", 1), "business days": ("business_days", 1),
    "working day": ("business_days", 1), "working days": ("business_days", 1),
    "hour": ("hours", 1), "hours": ("hours", 1), "hr": ("hours", 1), "hrs": ("hours", 1), "h": ("hours", 1),
}
_NUM_WORD = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
NUM = rf"(?:\d{{1,4}}|(?:{_NUM_WORD})(?:\s*\(\d{{1,4}}\))?)"
_UNIT = ("(?:(?:calendar|business|working)\\s+days?|calendar\\s+(?:months?|years?)|years?|yrs?|months?|mos?|mths?|weeks?|wks?|days?|hours?|hrs?"
         "|(?<=\\d)h|(?<=\\d)y)")
# "36–60 months", "6 to 10 years", "between 6 and 10 years"
RANGE = re.compile(rf"(?i)\b(?:between\s+)?(?P<lo>{NUM})(?:\s*{_UNIT})?\s*(?:–|—|-|to|and)\s*(?P<hi>{NUM})\s*(?:\+\s*)?"
                   rf"(?:further\s+|additional\s+)?(?P<unit>{_UNIT})\b\.?")
SINGLE = re.compile(rf"(?i)(?<![\w.,])(?P<n>{NUM})[\s-]*(?:further\s+|additional\s+|more\s+|full\s+)?(?P<unit>{_UNIT})\b\.?")
_NOT_PERIOD = r"(?!\s*-?\s*(?:days?|weeks?|months?|mos?\b|hours?|hrs?|business|working|calendar|yrs?\b|years?(?!\s+(?:old|of age))))"
AGE = re.compile(rf"(?i)(?:\b(?:aged?|age of|ages? of|under|over|below|above|at least|younger than|older than|minimum age of)\s+(?P<a>{NUM})\b{_NOT_PERIOD}"
                 rf"|\b(?P<b>{NUM})\s*(?:\+|years? (?:of age|old)|yo\b|or older|and (?:over|older|above)))")
COUNT = re.compile(rf"(?i)\b(?:limited to|up to|maximum of|max(?:imum)?|no more than|at most)\s+(?P<n>{NUM})\s+"
                   r"(?P<what>[a-z][a-z -]{0,30}?)\s+(?:per|a|each|every)\s+(?P<per>calendar\s+month|calendar\s+year|month|year)\b")
MINIMUM = re.compile(r"(?i)\b(?:at least|a minimum of|minimum of|minimum|no less than|not less than|no fewer than|at a minimum)\s*$")
UPPER = re.compile(r"(?i)\b(?:up to|maximum of|a maximum of|max(?:imum)?|no more than|no longer than|not longer than|"
                   r"at most|within|no later than|not later than|at the latest)\s*$")
EXTENSION_BEFORE = re.compile(r"(?i)\b(?:extend(?:ed|able)?|extension|prolong(?:ed)?)\b[^.;]{0,40}?"
                              r"\b(?:by|of|for)\s+(?:up\s+to\s+)?(?:an?\s+)?(?:additional|further|another|more)?\s*$"
                              r"|\b(?:additional|further|another)\s+$|\b(?:extend(?:ed|able)?|extension)\b[^.;]{0,30}\bup\s+to\s+$"
                              r"|\b(?:may|can|might)\s+(?:require|take)\s+up\s+to\s+$"
                              r"|\b(?:more|additional|extra)\s+time\b[^.;]{0,25}$")
EXTENSION_AFTER = re.compile(r"(?i)^\s*(?:further|additional|more)\b")
AFTER_MAX = re.compile(r"(?i)^\s*(?:max(?:imum)?|at most|at the latest)\b")


@dataclass(frozen=True)
class Period:
    amount: int
    unit: str          # years | months | days | business_days | hours
    start: int
    end: int
    role: str = "limit"   # limit | minimum | extension
    low: int | None = None  # a range: its lower bound (amount is the upper)
    text: str = ""

    @property
    def duration(self) -> str:
        n, u = self.amount, self.unit.replace("_", " ")
        return f"{n} {u[:-1] if n == 1 else u}"


def number(text: str) -> int | None:
    t = text.strip().lower()
    m = re.search(r"\((\d+)\)", t)
    if m:
        return int(m.group(1))
    if t.isdigit():
        return int(t)
    return NUMBER_WORDS.get(" ".join(t.split()))


def _unit(word: str) -> tuple[str, int] | None:
    w = " ".join(word.lower().rstrip(".").split())
    return UNIT_WORDS.get(w)


def ages(text: str) -> list[tuple[int, int, int]]:
    """(age, start, end) of every age in the text."""
    out = []
    for m in AGE.finditer(text):
        n = number(m.group("a") or m.group("b"))
        if n is not None and 10 <= n <= 25:
            out.append((n, m.start(), m.end()))
    return out


def counts(text: str) -> list[tuple[int, str, str]]:
    """(max, what, per) of "limited to 10 downloads per calendar month"."""
    out = []
    for m in COUNT.finditer(text):
        n = number(m.group("n"))
        if n is not None:
            per = "calendar_year" if "year" in m.group("per").lower() else "calendar_month"
            out.append((n, m.group("what").strip(), per))
    return out


def periods(text: str) -> list[Period]:
    """Every period in the text, left to right, with its role."""
    taken: list[tuple[int, int]] = [(s, e) for _, s, e in ages(text)]
    for m in COUNT.finditer(text):
        taken.append((m.start(), m.end()))
    out: list[Period] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    for m in RANGE.finditer(text):
        lo, hi, unit = number(m.group("lo")), number(m.group("hi")), _unit(m.group("unit"))
        if lo is None or hi is None or unit is None or not free(m.start(), m.end()) or lo >= hi:
            continue
        if m.group(0).lower().split()[0] != "between" and re.search(r"(?i)\band\s", m.group(0)):
            continue  # "6 and 10 years" without "between" is two periods
        taken.append((m.start(), m.end()))
        out.append(Period(hi * unit[1], unit[0], m.start(), m.end(), "limit", lo * unit[1], m.group(0)))
    for m in SINGLE.finditer(text):
        n, unit = number(m.group("n")), _unit(m.group("unit"))
        if n is None or unit is None or not free(m.start(), m.end()):
            continue
        if unit[0] == "hours" and m.group("unit").lower() == "h" and not re.match(r"\d", m.group("n")):
            continue
        if m.group("n").lower() in ("a", "an") and unit[0] == "hours":
            continue
        taken.append((m.start(), m.end()))
        out.append(Period(n * unit[1], unit[0], m.start(), m.end(), "limit", None, m.group(0)))
    out.sort(key=lambda p: p.start)
    result = []
    for p in out:
        before, after = text[:p.start], text[p.end:]
        role = p.role
        if MINIMUM.search(before[-40:]):
            role = "minimum"
        elif EXTENSION_BEFORE.search(before[-60:]) or re.search(r"(?i)\b(?:further|additional)\s", p.text) \
                or EXTENSION_AFTER.match(after):
            role = "extension"
        if role == "limit" and re.match(r"(?i)\s*(?:ago|old)\b", after):
            continue
        result.append(Period(p.amount, p.unit, p.start, p.end, role, p.low, p.text))
    return result


INDEFINITE = re.compile(r"(?i)\b(?:indefinitely|permanently|forever|in perpetuity|for an unlimited (?:time|period))\b")
