"""TCF v2 consent strings: the decoder, and the tcf_strings check on hand-built records."""
from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pledgecheck import tcf

T0 = datetime(2025, 3, 1, 12, 0)


def test_decodes_every_core_field():
    s = tcf.encode(T0, T0 + timedelta(days=2), purposes_consent=[1, 3, 4, 9], purposes_li=[2, 7],
                   vendors_consent=[1, 5, 755], vendors_li=[5], policy_version=4, cmp_id=300,
                   language="FR", publisher_cc="LU")
    t = tcf.decode(s)
    assert t.error is None
    assert (t.version, t.created, t.last_updated) == (2, T0, T0 + timedelta(days=2))
    assert (t.cmp_id, t.policy_version, t.consent_language, t.publisher_cc) == (300, 4, "FR", "LU")
    assert (t.purposes_consent, t.purposes_li) == ([1, 3, 4, 9], [2, 7])
    assert (t.vendors_consent, t.vendors_li) == (3, 1)


def test_broken_strings_name_what_is_wrong():
    s = tcf.encode(T0, purposes_consent=[1, 2], vendors_consent=[10, 20])
    assert tcf.decode(s[:30]).error == "truncated"              # cut inside the core fields
    assert tcf.decode(s[:-8]).error == "truncated"              # cut inside the vendor sections
    assert tcf.decode(s[:20] + "!" + s[21:]).error == "not_base64url"
    assert tcf.decode(s + "..").error == "not_base64url"        # empty segment
    assert tcf.decode("BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA").error == "not_version_2"  # a TCF v1 string
    assert tcf.decode(s[:-1] + "B").error == "malformed"        # non-zero padding bits
    assert tcf.decode(s + ".YAAAAAAAAA").error is None            # publisher TC segment (type 3), 57 bits
    assert tcf.decode(s + ".YAAA").error == "truncated"          # ... cut after 24 bits
    assert tcf.decode(s + ".AAAA").error == "malformed"          # segment type 0 does not exist
    assert tcf.decode(None) is None and tcf.decode("  ") is None


@given(created=st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2030, 1, 1)),
       consent=st.sets(st.integers(1, 24)), li=st.sets(st.integers(1, 24)),
       vendors=st.sets(st.integers(1, 2000), max_size=30), policy=st.integers(2, 5))
def test_encode_decode_round_trip(created, consent, li, vendors, policy):
    created = created.replace(microsecond=0)
    s = tcf.encode(created, purposes_consent=consent, purposes_li=li, vendors_consent=vendors,
                   policy_version=policy)
    t = tcf.decode(s)
    assert t.error is None
    assert t.created == created and t.policy_version == policy
    assert t.purposes_consent == sorted(consent) and t.purposes_li == sorted(li)
    assert t.vendors_consent == len(vendors)
    for cut in (len(s) // 3, len(s) - 4):  # any cut of a string is noticed
        assert tcf.decode(s[:cut]).error in ("truncated", "malformed")


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
    import pytest

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
