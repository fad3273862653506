"""What the policy asks for, read as targets for placing records (strictest wins)."""
from __future__ import annotations

import numpy as np

from ..duration import Duration
from ..policy import Pledge, Policy
from .truth import Context, add_to_dates
from .values import DEFAULT_SPAN


# ================================================================ what the policy asks for
class Hints:
    """The policy's parameters, read as targets for placing records (strictest wins)."""

    def __init__(self, policy: Policy, ctx: Context):
        self.policy, self.ctx = policy, ctx

    def of(self, check: str, table: str | None = None) -> list[Pledge]:
        return [p for p in self.policy.pledges if p.check == check
                and (table is None or getattr(p.params, "table", None) == table)]

    def ok_days(self, dur: Duration, calendar: str | None = None) -> int:
        """Largest n such that a record dated n days before the as-of date is still kept."""
        offs = np.arange(0, int(dur.approx_days() * 1.2) + 60)
        dates = self.ctx.A - offs.astype("timedelta64[D]")
        kept = add_to_dates(dates, dur, calendar or self.ctx.policy.policy.calendar) >= self.ctx.A
        return int(offs[kept].max()) if kept.any() else 0

    def span(self, table: str, anchor: str | None = None, default: int | None = None) -> int:
        """Days of history to generate: beyond the longest retention period of the table (so
        that every pledge on it, strict or lax, has expired records to purge or keep), else
        the table's default."""
        oks = [self.ok_days(p.params.period) for p in self.of("retention", table)
               if anchor is None or p.params.from_ == anchor]
        if not oks:
            return default or DEFAULT_SPAN.get(table, 365)
        ok = max(oks)
        return max(int(ok * 1.35), ok + 20)

    def retention_ok_days(self, table: str) -> int | None:
        oks = [self.ok_days(p.params.period) for p in self.of("retention", table)]
        return min(oks) if oks else None

    def where_values(self, table: str, column: str) -> list[str]:
        vals: set[str] = set()
        for p in self.policy.pledges:
            if getattr(p.params, "table", None) == table:
                v = (getattr(p.params, "where", None) or {}).get(column)
                if v is not None:
                    vals |= {str(x) for x in (v if isinstance(v, list) else [v])}
        return sorted(vals)

    def consent_validity(self, purpose: str) -> Duration | None:
        durations = [p.params.validity for p in self.of("consent_coverage")
                     if p.params.purpose == purpose and p.params.validity is not None]
        return min(durations, key=Duration.approx_days) if durations else None

    def graces(self) -> list[Duration]:
        return sorted({p.params.grace for p in self.of("optout_latency")}, key=Duration.approx_days) or [Duration(days=0)]

    def ip_pledges(self, table: str, column: str = "ip") -> list[Pledge]:
        return [p for p in self.of("ip_truncation", table) if p.params.column == column]

    def must_be_empty(self, table: str, column: str) -> bool:
        return any(p.params.column == column for p in self.of("column_empty", table))

    def usage_max(self, table: str) -> int:
        return min([p.params.max for p in self.of("usage_limit", table)] or [10])

    def k(self, table: str) -> int:
        return max([p.params.k for p in self.of("k_anonymity", table)] or [5])

    def min_age(self) -> int:
        return max([p.params.min_age for p in self.of("minimum_age")] or [18])

    def erasure_tables(self) -> list[str]:
        return sorted({t for p in self.of("erasure_completeness") for t in p.params.tables})

    def erasure_graces(self) -> list[Duration]:
        return sorted({p.params.grace for p in self.of("erasure_completeness")}, key=Duration.approx_days) or [Duration(days=0)]

    def rotation(self) -> Duration:
        rots = [p.params.rotation for p in self.of("backup_rotation")]
        return min(rots, key=Duration.approx_days) if rots else Duration(days=90)


# ================================================================ small helpers
