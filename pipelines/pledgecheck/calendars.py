"""Business-day calendars from the `holidays` package, as a table the SQL checks join.

A calendar code is a country (ISO 3166-1 alpha-2, e.g. LU, FR, ES, US, GB) optionally with a
subdivision after a dash (US-CA, GB-ENG, ES-CT). Business days are Monday-Friday that are
not public holidays of that calendar.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

from .errors import PolicyError

FIRST_YEAR = 1970


@lru_cache(maxsize=None)
def holiday_set(code: str, last_year: int) -> frozenset[date]:
    country, _, subdiv = code.partition("-")
    try:
        cal = holidays.country_holidays(country, subdiv=subdiv or None, years=range(FIRST_YEAR, last_year + 1))
    except (NotImplementedError, KeyError) as e:
        raise PolicyError(f"unknown holiday calendar {code!r} ({e}); use a country code such as LU, FR, "
                          "GB-ENG or US-CA") from None
    return frozenset(cal.keys())


def business_days(code: str, last_year: int) -> list[date]:
    hol = holiday_set(code, last_year)
    d, end, out = date(FIRST_YEAR, 1, 1), date(last_year, 12, 31), []
    while d <= end:
        if d.weekday() < 5 and d not in hol:
            out.append(d)
        d += timedelta(days=1)
    return out


def add_business_days(start: date, n: int, code: str) -> date:
    """The n-th business day strictly after `start` (Python reference, used by the calculator)."""
    hol = holiday_set(code, start.year + 2 + n // 200)
    d, left = start, n
    while left > 0:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in hol:
            left -= 1
    return d


def next_working_day(d: date, code: str) -> date:
    hol = holiday_set(code, d.year + 1)
    while d.weekday() >= 5 or d in hol:
        d += timedelta(days=1)
    return d


def load_business_days(con, codes: list[str], last_year: int) -> None:
    """(Re)create the table business_days(calendar, d, idx) for the given calendars."""
    import pyarrow as pa

    cal, ds, idx = [], [], []
    for code in codes:
        days = business_days(code, last_year)
        cal += [code] * len(days)
        ds += days
        idx += range(len(days))
    tbl = pa.table({"calendar": pa.array(cal, pa.string()), "d": pa.array(ds, pa.date32()),
                    "idx": pa.array(idx, pa.int64())})
    con.register("_bd_arrow", tbl)
    con.execute("CREATE OR REPLACE TEMP TABLE business_days AS SELECT * FROM _bd_arrow")
    con.unregister("_bd_arrow")
