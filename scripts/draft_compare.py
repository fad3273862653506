"""Draft each bundled policy from its text and compare the draft with the hand encoding.

    python scripts/draft_compare.py            # the table
    python scripts/draft_compare.py --details  # also every miss and every invented pledge

For every policy in policies/*.yaml and the worked example docs/examples/acme.yaml (each encoded by
hand from the text in its `source`), the text is
drafted with `pledgecheck draft` and each hand pledge is looked for among the draft's pledges:
a draft pledge answers a hand pledge when their quotes overlap (one contains the other, or they
share a run of at least 60% of the shorter) and they name the same check. Counted:

  numeric   hand pledges with a number: a period, deadline, validity, grace, rotation, age, count
  right     numeric ones the draft proposes with the same check, number and unit, table(s) and
            anchor(s) (from / start / end)
  period    the draft has the right number and unit but another table or anchor
  missed    numeric ones with no draft pledge of the right number
  invented  draft pledges that answer no hand pledge at all (a quote the hand encoding does
            not use, or lists under unverifiable: counted apart), duplicates included
The non-numeric hand pledges (consent, opt-out, card numbers ...) are counted the same way,
in the columns "other".
"""
from __future__ import annotations

import argparse
import sys
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "pipelines"))

from pledgecheck.draft import draft_text  # noqa: E402
from pledgecheck.duration import Duration  # noqa: E402
from pledgecheck.policy import load_policy, policies_dir  # noqa: E402

DURATIONS = ("period", "limit", "validity", "grace", "rotation", "after")


def norm(s: str) -> str:
    return " ".join(s.lower().replace("*", "").replace("_", " ").split())


def overlaps(a: str, b: str) -> bool:
    a, b = norm(a), norm(b)
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size >= 0.6 * min(len(a), len(b))


def numbers(params: dict) -> tuple:
    """The numbers of a pledge, as (field, amount, unit)."""
    out = []
    for k in DURATIONS:
        if params.get(k) not in (None, ""):
            d = Duration.model_validate(params[k])
            if d.amount:
                out.append((k, d.amount, d.unit))
    ext = params.get("extension")
    if isinstance(ext, dict) and ext.get("by"):
        d = Duration.model_validate(ext["by"])
        out.append(("extension", d.amount, d.unit))
    for k in ("min_age", "max"):
        if params.get(k) is not None:
            out.append((k, int(params[k]), ""))
    return tuple(sorted(out))


def data(params: dict) -> tuple:
    t = params.get("table", params.get("tables"))
    t = tuple(sorted(t)) if isinstance(t, list) else t
    return (t, params.get("from"), params.get("start"), params.get("end"))


def hand_pledges(pol) -> list[dict]:
    out = []
    for p in pol.pledges:
        prm = p.params.model_dump(by_alias=True, mode="json")
        out.append({"id": p.id, "check": p.check, "quote": p.quote, "params": prm})
    return out


def main_number(nums: tuple) -> tuple:
    """The pledge's own number (the extension is compared apart)."""
    return tuple(n for n in nums if n[0] != "extension")


def compare(pol, draft: dict) -> dict:
    hand = hand_pledges(pol)
    drafted = [{"check": d["check"], "quote": d["quote"], "params": d["params"], "id": d["id"]} for d in draft["pledges"]]
    unverif = [u.quote for u in pol.unverifiable]
    for h in hand:
        h["numeric"] = bool(main_number(numbers(h["params"])))
        h["nums"] = main_number(numbers(h["params"]))
        h["data"] = data(h["params"])
    for d in drafted:
        d["nums"] = main_number(numbers(d["params"]))
        d["data"] = data(d["params"])
    # score every (hand, draft) pair that reads the same statement with the same check
    pairs = []
    for i, h in enumerate(hand):
        for j, d in enumerate(drafted):
            if d["check"] != h["check"] or not overlaps(h["quote"], d["quote"]):
                continue
            score = 1 + (h["nums"] == d["nums"]) * 2 + (h["data"] == d["data"]) * 1
            pairs.append((-score, i, j))
    pairs.sort()
    used_h, used_d, match = set(), set(), {}
    for s, i, j in pairs:
        if i in used_h or j in used_d:
            continue
        used_h.add(i)
        used_d.add(j)
        match[i] = j
    res = {"numeric": 0, "right": 0, "period": 0, "missed": 0, "other": 0, "other_found": 0,
           "drafted": len(drafted), "invented": 0, "invented_unverifiable": 0, "misses": [], "inventions": [],
           "wrong": []}
    for i, h in enumerate(hand):
        j = match.get(i)
        d = drafted[j] if j is not None else None
        if h["numeric"]:
            res["numeric"] += 1
            if d and d["nums"] == h["nums"] and d["data"] == h["data"]:
                res["right"] += 1
            elif d and d["nums"] == h["nums"]:
                res["period"] += 1
                res["wrong"].append((h, d))
            else:
                res["missed"] += 1
                res["misses"].append((h, d))
        else:
            res["other"] += 1
            res["other_found"] += d is not None
    for j, d in enumerate(drafted):
        if j in used_d:
            continue
        # a second draft pledge on a statement already answered with other numbers/data, or none at all
        res["invented"] += 1
        if any(overlaps(d["quote"], q) for q in unverif):
            res["invented_unverifiable"] += 1
        res["inventions"].append(d)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--details", action="store_true", help="list every miss and invented pledge")
    args = ap.parse_args(argv)
    rows, tot = [], {}
    # the five seeds, and the worked example of docs/POLICIES.md (written apart from the drafter)
    for path in [*sorted(policies_dir().glob("*.yaml")), ROOT / "docs" / "examples" / "acme.yaml"]:
        pol = load_policy(path)
        src = path.parent / pol.policy.source
        draft = draft_text(src.read_text(encoding="utf-8"), pol.id)
        r = compare(pol, draft)
        rows.append((pol.id, r))
        for k, v in r.items():
            if isinstance(v, int):
                tot[k] = tot.get(k, 0) + v
        if args.details:
            print(f"== {pol.id}")
            for h, d in r["misses"]:
                print(f"  MISSED {h['check']} {h['nums']} {h['data']} | {h['quote'][:90]!r}"
                      + (f"\n         draft: {d['nums']} {d['data']}" if d else ""))
            for h, d in r["wrong"]:
                print(f"  DATA   {h['check']} {h['nums']} hand {h['data']} draft {d['data']} | {h['quote'][:70]!r}")
            for d in r["inventions"]:
                print(f"  INVENTED {d['check']} {d['nums']} {d['data']} | {d['quote'][:90]!r}")
    head = (f"{'policy':14} {'numeric':>7} {'right':>6} {'period ok,':>10} {'missed':>6} | {'other':>5} {'found':>5} |"
            f" {'drafted':>7} {'invented':>8} {'(hand: unverif.)':>16}")
    print(head)
    print(f"{'':14} {'(hand)':>7} {'':>6} {'data wrong':>10} {'':>6} | {'(hand)':>5} {'':>5} |")
    print("-" * len(head))
    for name, r in rows + [("TOTAL", tot)]:
        print(f"{name:14} {r['numeric']:>7} {r['right']:>6} {r['period']:>10} {r['missed']:>6} | {r['other']:>5} "
              f"{r['other_found']:>5} | {r['drafted']:>7} {r['invented']:>8} {r['invented_unverifiable']:>16}")
    n, d = tot["numeric"], tot["drafted"]
    print(f"\nnumeric pledges proposed right (number, unit, table, anchor): {tot['right']}/{n} = "
          f"{100 * tot['right'] / max(n, 1):.1f}%; with the right number: {tot['right'] + tot['period']}/{n} = "
          f"{100 * (tot['right'] + tot['period']) / max(n, 1):.1f}%")
    print(f"invented: {tot['invented']}/{d} drafted pledges = {100 * tot['invented'] / max(d, 1):.1f}% "
          f"({tot['invented_unverifiable']} of them on statements the hand encoding lists as unverifiable)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
