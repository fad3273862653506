"""tcf_strings: hand-built consent records with TC strings, expected verdicts worked out by hand."""
from datetime import date, datetime, timedelta

import pytest

from pledgecheck import tcf

T0 = datetime(2025, 3, 1, 12, 0)


def consent(cid, action, ts, purpose="advertising", tcf_string=None, acc="a1"):
    return {"consent_id": cid, "subject_id": acc, "purpose": purpose, "action": action, "ts": ts,
            "source": "banner", "jurisdiction": "EU", "tcf_string": tcf_string}


TCF = {"id": "tcf", "kind": "consent", "check": "tcf_strings", "params": {}}


def test_tcf_strings_check(evaluate_in):
    day = datetime(2026, 5, 1, 9)
    ok_ads = tcf.encode(day, purposes_consent=[1, 3, 4])
    rows = [
        consent("1", "granted", "2026-05-01T10:00:00Z", tcf_string=ok_ads),                       # valid
        consent("2", "granted", "2026-05-01T10:00:00Z", tcf_string=ok_ads[:25]),                  # truncated
        consent("3", "granted", "2026-05-01T10:00:00Z", tcf_string="BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA"),  # v1
        consent("4", "granted", "2026-05-01T10:00:00Z",
                tcf_string=tcf.encode(day, purposes_consent=[1, 3])),                              # 4 missing
        consent("5", "withdrawn", "2026-05-01T10:00:00Z", tcf_string=ok_ads),                      # still consented
        consent("6", "withdrawn", "2026-05-01T10:00:00Z", tcf_string=tcf.encode(day, purposes_consent=[1])),  # valid
        consent("7", "granted", "2026-05-01T10:00:00Z",
                tcf_string=tcf.encode(day, purposes_consent=[1, 3, 4], purposes_li=[4])),          # LI for 4 (v2.2)
        consent("8", "granted", "2026-05-01T10:00:00Z",
                tcf_string=tcf.encode(day, purposes_consent=[1, 3, 4], purposes_li=[4], policy_version=2)),  # outdated
        consent("9", "granted", "2023-06-01T10:00:00Z",
                tcf_string=tcf.encode(datetime(2023, 6, 1), purposes_consent=[3, 4], purposes_li=[4],
                                      policy_version=2)),                                         # 2.1 era: valid
        consent("10", "granted", "2026-04-30T23:00:00Z", tcf_string=ok_ads),                      # updated after record
        consent("11", "granted", "2026-05-01T10:00:00Z",
                tcf_string=tcf.encode(day, day - timedelta(days=1), purposes_consent=[3, 4])),     # created > updated
        consent("12", "granted", "2026-05-01T10:00:00Z", purpose="functional",
                tcf_string=tcf.encode(day)),                                                       # no TCF purpose: valid
        consent("13", "granted", "2026-05-01T10:00:00Z"),                                          # no string: not in scope
        consent("14", "granted", "2026-05-01T10:00:00Z", purpose="analytics",
                tcf_string=tcf.encode(day, purposes_consent=[8, 9])),                              # valid
    ]
    r = evaluate_in({"consent_events": rows}, [TCF], date(2026, 6, 1))["tcf"]
    assert (r.population, r.violations, r.status) == (13, 8, "broken")
    assert r.by_reason == {"valid": 5, "truncated": 1, "not_version_2": 1, "grant_missing_in_string": 1,
                           "withdrawal_missing_in_string": 1, "li_for_consent_only_purpose": 1,
                           "outdated_policy_version": 1, "updated_after_record": 1, "created_after_updated": 1}


def test_tcf_purpose_mapping_is_validated():
    from pledgecheck.errors import PolicyError
    from pledgecheck.policy import parse_policy

    with pytest.raises(PolicyError, match="unknown consent purpose 'adverts'"):
        parse_policy({"policy": {"id": "t", "name": "t"}, "pledges": [
            {**TCF, "id": "t.tcf", "category": "user", "quote": "q", "section": "s",
             "params": {"purposes": {"adverts": [3]}}}]}, "t")
    with pytest.raises(PolicyError, match="purposes"):
        parse_policy({"policy": {"id": "t", "name": "t"}, "pledges": [
            {**TCF, "id": "t.tcf", "category": "user", "quote": "q", "section": "s",
             "params": {"purposes": {"advertising": [25]}}}]}, "t")
