"""Cross-check pledgecheck's TC-string decoder against iab-tcf (an independent decoder).

iab-tcf is not a project dependency (unmaintained, forked C extension); run this in a
separate venv that has both:

    python3 -m venv /tmp/vt && /tmp/vt/bin/pip install iab-tcf==0.2.2 -e .
    /tmp/vt/bin/python scripts/crosscheck_tcf.py [N]

Prints how many random strings were compared and any field that differs; exit 1 on a
difference. Also shows the one known weakness of iab-tcf: truncated strings decode.
"""
import random
import sys
from datetime import datetime, timedelta

from iab_tcf import decode_v2

from pledgecheck import tcf


def main(n: int = 2000) -> int:
    rng = random.Random(7)
    diffs = 0
    for _ in range(n):
        created = datetime(2020, 1, 1) + timedelta(seconds=rng.randrange(0, 6 * 365 * 86400))
        updated = created + timedelta(seconds=rng.randrange(0, 400 * 86400))
        pc = sorted(rng.sample(range(1, 25), rng.randrange(0, 11)))
        pl = sorted(rng.sample(range(1, 25), rng.randrange(0, 11)))
        vc = sorted(rng.sample(range(1, 1200), rng.randrange(0, 40)))
        vl = sorted(rng.sample(range(1, 1200), rng.randrange(0, 40)))
        s = tcf.encode(created, updated, purposes_consent=pc, purposes_li=pl, vendors_consent=vc, vendors_li=vl,
                       policy_version=rng.choice([2, 4, 5]), cmp_id=rng.randrange(1, 4000))
        ours, theirs = tcf.decode(s), decode_v2(s)
        pairs = {
            "created": (ours.created.replace(microsecond=0), theirs.created),
            "last_updated": (ours.last_updated.replace(microsecond=0), theirs.last_updated),
            "cmp_id": (ours.cmp_id, theirs.cmp_id),
            "policy_version": (ours.policy_version, theirs.tcf_policy_version),
            "purposes_consent": (ours.purposes_consent, [k for k, v in theirs.purposes_consent.items() if v]),
            "purposes_li": (ours.purposes_li, [k for k, v in theirs.purposes_legitimate_interests.items() if v]),
            "vendors_consent": (ours.vendors_consent, sum(theirs.consented_vendors.values())),
            "vendors_li": (ours.vendors_li, sum(theirs.interests_vendors.values())),
            "publisher_cc": (ours.publisher_cc, theirs.publisher_cc.decode()),
        }
        for k, (a, b) in pairs.items():
            if a != b:
                diffs += 1
                print(f"differs: {k}: ours {a!r} iab-tcf {b!r} ({s})")
    cut = tcf.encode(datetime(2025, 1, 1), purposes_consent=[1, 2])[:30]
    try:
        decode_v2(cut)
        their_cut = "decodes (reads missing bits as zeros)"
    except Exception as e:  # noqa: BLE001
        their_cut = f"raises {type(e).__name__}"
    print(f"{n} random TC strings compared field by field: {diffs} differences")
    print(f"a truncated string: pledgecheck -> {tcf.decode(cut).error}; iab-tcf -> {their_cut}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
