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


def calendar_tables(codes: list[str], last_year: int) -> tuple[dict, dict]:
    """Columns of business_days(calendar, d, idx): the business days numbered in order; and of
    calendar_days(calendar, d, prev_idx, next_idx): every date with the number of the last
    business day on or before it and of the first on or after it. Business-day arithmetic is
    then an equality lookup (a hash join), never a range scan per record."""
    bd = {"calendar": [], "d": [], "idx": []}
    cd = {"calendar": [], "d": [], "prev_idx": [], "next_idx": []}
    for code in codes:
        days = business_days(code, last_year)
        bd["calendar"] += [code] * len(days)
        bd["d"] += days
        bd["idx"] += range(len(days))
        d, end, k = date(FIRST_YEAR, 1, 1), date(last_year, 12, 31), 0  # k: business days before d
        while d <= end:
            is_bd = k < len(days) and days[k] == d
            cd["calendar"].append(code)
            cd["d"].append(d)
            cd["prev_idx"].append(k if is_bd else (k - 1 if k else None))
            cd["next_idx"].append(k if k < len(days) else None)
            k += is_bd
            d += timedelta(days=1)
    return bd, cd


def load_business_days(con, codes: list[str], last_year: int) -> None:
    """(Re)create the tables business_days and calendar_days for the given calendars."""
    import pyarrow as pa

    bd, cd = calendar_tables(codes, last_year)
    tables = {
        "business_days": pa.table({"calendar": pa.array(bd["calendar"], pa.string()),
                                   "d": pa.array(bd["d"], pa.date32()), "idx": pa.array(bd["idx"], pa.int64())}),
        "calendar_days": pa.table({"calendar": pa.array(cd["calendar"], pa.string()),
                                   "d": pa.array(cd["d"], pa.date32()),
                                   "prev_idx": pa.array(cd["prev_idx"], pa.int64()),
                                   "next_idx": pa.array(cd["next_idx"], pa.int64())}),
    }
    for name, tbl in tables.items():
        con.register("_cal_arrow", tbl)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _cal_arrow")
        con.unregister("_cal_arrow")
