"""Report metrics that are not pledges: the CCPA 11 CCR 7102 yearly table, and the
data-subject-request outcomes (denials by reason) per type and jurisdiction."""
from __future__ import annotations

from importlib import resources

import duckdb

CCPA_COLUMNS = ("request_kind", "received", "complied_in_whole_or_part", "denied", "pending",
                "median_days_to_respond", "mean_days_to_respond")


def ccpa_7102(con: duckdb.DuckDBPyConnection, year: int) -> list[dict]:
    """One row per CCPA request type for requests received in `year` (statutory columns)."""
    sql = resources.files("pledgecheck").joinpath("sql/metrics/ccpa_7102.sql").read_text(encoding="utf-8")
    return [dict(zip(CCPA_COLUMNS, row)) for row in con.execute(sql, {"year": year}).fetchall()]


def denials(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Denied requests by type, jurisdiction and reason (counts only)."""
    rows = con.execute(
        "SELECT request_type, jurisdiction, coalesce(denial_reason, 'not given'), count(*) "
        "FROM data_subject_requests WHERE outcome = 'denied' GROUP BY ALL ORDER BY ALL").fetchall()
    return [{"request_type": t, "jurisdiction": j, "denial_reason": r, "requests": n} for t, j, r, n in rows]
