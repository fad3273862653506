"""Durations with units, as policies state them ("3 years", "1 month", "10 business days").

Calendar arithmetic follows GDPR month counting: a month runs to the same date next month, or
to the last day of that month when the date does not exist (31 Jan + 1 month = 28/29 Feb).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, model_validator

UNITS = ("years", "months", "days", "business_days", "hours")
_WORDS = {
    "year": "years", "years": "years", "yr": "years", "yrs": "years",
    "month": "months", "months": "months",
    "week": "weeks", "weeks": "weeks",
    "day": "days", "days": "days", "calendar day": "days", "calendar days": "days",
    "business day": "business_days", "business days": "business_days",
    "working day": "business_days", "working days": "business_days",
    "hour": "hours", "hours": "hours",
}
_TEXT = re.compile(r"^\s*(\d+)\s+([a-z ]+?)\s*$")


class Duration(BaseModel):
    """A period with exactly one unit. Written as '3 years' or {months: 24}."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    years: int = 0
    months: int = 0
    days: int = 0
    business_days: int = 0
    hours: int = 0

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value):
        if isinstance(value, str):
            m = _TEXT.match(value.lower())
            unit = _WORDS.get(m.group(2)) if m else None
            if not m or not unit:
                raise ValueError(
                    f"cannot read the duration {value!r}: write a whole number and one unit, "
                    "e.g. '3 years', '24 months', '30 days', '10 business days', '72 hours'"
                )
            n = int(m.group(1))
            return {"days": 7 * n} if unit == "weeks" else {unit: n}
        return value

    @model_validator(mode="after")
    def _one_unit(self):
        used = [u for u in UNITS if getattr(self, u)]
        if any(getattr(self, u) < 0 for u in UNITS):
            raise ValueError("a duration cannot be negative")
        if len(used) > 1:
            raise ValueError(f"a duration takes one unit, got {', '.join(used)}")
        return self

    @property
    def unit(self) -> str:
        for u in UNITS:
            if getattr(self, u):
                return u
        return "days"

    @property
    def amount(self) -> int:
        return getattr(self, self.unit)

    def approx_days(self) -> float:
        """For ordering durations of different units (strictest-wins); not for deadlines."""
        return {"years": 365.25, "months": 30.44, "days": 1, "business_days": 1.4, "hours": 1 / 24}[
            self.unit
        ] * self.amount

    def __str__(self) -> str:
        n, u = self.amount, self.unit.replace("_", " ")
        return f"{n} {u[:-1] if n == 1 else u}"

    def add_to(self, d: date | datetime) -> date | datetime:
        """Calendar addition (not for business days: see pledgecheck.calendar)."""
        if self.unit == "business_days":
            raise ValueError("business days need a holiday calendar: use pledgecheck.calendar")
        if self.unit == "hours":
            return d + timedelta(hours=self.hours)
        return d + relativedelta(years=self.years, months=self.months, days=self.days)
