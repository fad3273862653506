"""consent_coverage: hand-built edge cases, expected counts worked out by hand."""
from datetime import date

import numpy as np
import pytest
from rows import consent, send

AS_OF = date(2026, 6, 15)


def test_consent_as_of_join(evaluate_in):
    consents = [
        consent("c1", "a1", "marketing_email", "granted", "2025-01-01T00:00:00Z"),
        consent("c2", "a2", "marketing_email", "granted", "2025-01-01T00:00:00Z"),
        consent("c3", "a2", "marketing_email", "withdrawn", "2025-03-01T00:00:00Z"),
        consent("c4", "a3", "marketing_email", "granted", "2024-01-01T00:00:00Z"),
        consent("c5", "a4", "marketing_email", "granted", "2025-05-01T00:00:00Z"),
        consent("c6", "a4", "marketing_email", "withdrawn", "2025-05-01T00:00:00Z"),  # same instant: withdrawal wins
        consent("c7", "a5", "analytics", "granted", "2025-01-01T00:00:00Z"),           # other purpose only
        consent("c8", "a6", "marketing_email", "withdrawn", "2025-01-01T00:00:00Z"),
        consent("c9", "a6", "marketing_email", "granted", "2025-02-01T00:00:00Z"),     # re-granted
    ]
    sends = [
        send("s1", "a1", "2025-06-01T00:00:00Z"),   # covered
        send("s2", "a1", "2026-01-01T00:00:00Z"),   # 12 months validity expired on 2026-01-01: expired
        send("s3", "a2", "2025-02-01T00:00:00Z"),   # covered before withdrawal
        send("s4", "a2", "2025-03-01T00:00:00Z"),   # at the withdrawal instant: withdrawn
        send("s5", "a3", "2024-06-01T00:00:00Z"),   # covered
        send("s6", "a4", "2025-06-01T00:00:00Z"),   # tie: withdrawn
        send("s7", "a5", "2025-06-01T00:00:00Z"),   # no marketing consent at all
        send("s8", "a7", "2025-06-01T00:00:00Z"),   # subject with no consent record: no_consent
        send("s9", "a6", "2025-03-01T00:00:00Z"),   # re-granted: covered
        send("s10", "a1", "2024-12-31T23:59:59Z"),  # before the grant: no_consent
    ]
    pledge = {"id": "c", "kind": "consent", "check": "consent_coverage",
              "params": {"table": "marketing_sends", "purpose": "marketing_email", "validity": "12 months"}}
    r = evaluate_in({"consent_events": consents, "marketing_sends": sends}, [pledge], AS_OF)["c"]
    assert r.by_reason == {"covered": 4, "expired": 1, "withdrawn": 2, "no_consent": 3}
    assert r.violations == 6 and r.population == 10
    assert abs(r.coverage - 0.4) < 1e-9
    # distributions are those of the raw rows (days from the consent in force to the send;
    # no consent in force: no measure), 31 twice so that a compact row stands for two
    days = {"s1": 151, "s2": 365, "s3": 31, "s4": 0, "s5": 152, "s6": 31, "s9": 28}
    bad = [days[s] for s in ("s2", "s4", "s6")]
    every = list(days.values())
    expected = {"p50": np.quantile(every, 0.5), "p95": np.quantile(every, 0.95), "mean": np.mean(every),
                "violation_p50": np.quantile(bad, 0.5), "violation_p95": np.quantile(bad, 0.95),
                "violation_mean": np.mean(bad), "violation_max": max(bad)}
    assert r.measure == pytest.approx({k: round(float(v), 4) for k, v in expected.items()})
    assert sum(b["violations"] + b["others"] for b in r.histogram) == len(every)


def test_consent_threshold_below_one(evaluate_in):
    consents = [consent("c1", "a1", "advertising", "granted", "2025-01-01T00:00:00Z")]
    fires = [{"event_id": str(i), "ts": "2025-06-01T00:00:00Z", "subject_id": "a1" if i < 9 else "a2",
              "tracker": "meta_pixel", "purpose": "advertising"} for i in range(10)]
    pledges = [{"id": "p90", "kind": "consent", "check": "consent_coverage",
                "params": {"table": "tracker_events", "purpose": "advertising", "threshold": 0.9}},
               {"id": "p95", "kind": "consent", "check": "consent_coverage",
                "params": {"table": "tracker_events", "purpose": "advertising", "threshold": 0.95}}]
    r = evaluate_in({"consent_events": consents, "tracker_events": fires}, pledges, AS_OF)
    assert r["p90"].status == "kept" and r["p95"].status == "broken"
