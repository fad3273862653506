"""TCF v2 consent strings: the decoder (the tcf_strings check: tests/checks/test_tcf_strings.py)."""
from datetime import datetime, timedelta

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
    assert tcf.decode(s + ".YAAA").error is None                  # publisher TC segment (type 3)
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
