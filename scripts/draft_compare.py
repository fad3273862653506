"""Draft each bundled policy from its text and compare the draft with the hand encoding.

    python scripts/draft_compare.py            # the table
    python scripts/draft_compare.py --details  # also every miss and every invented pledge

For every policy in policies/*.yaml and the worked example docs/examples/acme.yaml (each encoded by
hand from the text in its `source`), the text is drafted with `pledgecheck draft` and each hand
pledge is looked for among the draft's pledges. A draft pledge has one statement per quote: its
`quote` and each of its `also_stated` quotes (the drafter merges a rule stated several times
into one pledge). Matching rules, tried in this order:

  1. by quote: a draft statement whose quote overlaps the hand pledge's quote (one contains the
     other, or they share a run of at least 60% of the shorter) and that names the same check;
  2. by section: a draft statement under the same section heading with the same check, the same
     number and unit, the same table(s) and the same anchor(s). Hand encoders and the drafter
     often quote different sentences of one section for one rule (the period line and the
     "deletion before expiry is not permitted" line); the pledge checked is the same. --details
     marks these matches "(by section)".
Each draft statement answers at most one hand pledge, and each hand pledge one statement.

Counted:

  numeric   hand pledges with a number: a period, deadline, validity, grace, rotation, age, count
  right     numeric ones the draft proposes with the same check, number and unit, table(s) and
            anchor(s) (from / start / end)
  period    the draft has the right number and unit but another table or anchor
  missed    numeric ones with no draft pledge of the right number
  not in text  of the missed, those whose number and unit the hand pledge's own quote does not
            state (the hand encoder's choice: a legal default, "a few days" read as 5 days):
            the drafter cannot propose a number the statement does not give. Both ratios are
            printed: raw (over all numeric hand pledges) and adjusted (these left out).
  invented  draft pledges none of whose statements answers a hand pledge (a quote the hand
            encoding does not use, or lists under unverifiable: counted apart)
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
from pledgecheck.draft.grammar import ages, counts, periods  # noqa: E402
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


def stated(h: dict) -> bool:
    """Does the hand pledge's own quote state its number (amount and unit)?"""
    text = h["quote"]
    said = {(p.amount, p.unit) for p in periods(text)} | {(p.low, p.unit) for p in periods(text) if p.low}
    for field, amount, unit in h["nums"]:
        if unit:
            if (amount, unit) not in said and not (unit == "months" and amount % 12 == 0 and (amount // 12, "years") in said):
                return False
        elif amount not in {a for a, *_ in ages(text)} | {n for n, *_ in counts(text)}:
            return False
    return True


def compare(pol, draft: dict) -> dict:
    hand = hand_pledges(pol)
    drafted = [{"check": d["check"], "quote": d["quote"], "params": d["params"], "id": d["id"],
                "statements": [(d["quote"], d["section"])] + [(x["quote"], x["section"]) for x in d.get("also_stated", [])]}
               for d in draft["pledges"]]
    unverif = [u.quote for u in pol.unverifiable]
    sections = {p.id: p.section for p in pol.pledges}
    for h in hand:
        h["numeric"] = bool(main_number(numbers(h["params"])))
        h["nums"] = main_number(numbers(h["params"]))
        h["data"] = data(h["params"])
        h["section"] = sections[h["id"]]
    for d in drafted:
        d["nums"] = main_number(numbers(d["params"]))
        d["data"] = data(d["params"])
    # score every (hand, draft statement) pair that reads the same statement with the same check
    # (rule 1), or states the same pledge in the same section (rule 2, ranked below every rule-1 pair)
    pairs = []
    for i, h in enumerate(hand):
        for j, d in enumerate(drafted):
            if d["check"] != h["check"]:
                continue
            same = h["nums"] == d["nums"] and h["data"] == d["data"]
            for k, (quote, section) in enumerate(d["statements"]):
                if overlaps(h["quote"], quote):
                    score = 10 + (h["nums"] == d["nums"]) * 2 + (h["data"] == d["data"]) * 1
                    pairs.append((-score, i, j, k, "quote"))
                elif same and norm(section) == norm(h["section"]):
                    pairs.append((-5, i, j, k, "section"))
    pairs.sort()
    used_h, used_s, match, how = set(), set(), {}, {}
    for s, i, j, k, rule in pairs:
        if i in used_h or (j, k) in used_s:
            continue
        used_h.add(i)
        used_s.add((j, k))
        match[i] = j
        how[i] = rule
    used_d = {j for j, _ in used_s}
    res = {"numeric": 0, "right": 0, "period": 0, "missed": 0, "not_in_text": 0, "not_in_text_kind": 0,
           "by_section": 0, "other": 0, "other_found": 0,
           "drafted": len(drafted), "invented": 0, "invented_unverifiable": 0, "misses": [], "inventions": [],
           "wrong": [], "unstated": [], "sectioned": []}
    for i, h in enumerate(hand):
        j = match.get(i)
        d = drafted[j] if j is not None else None
        if d is not None and how[i] == "section":
            res["by_section"] += 1
            res["sectioned"].append((h, d))
        if h["numeric"]:
            res["numeric"] += 1
            if d and d["nums"] == h["nums"] and d["data"] == h["data"]:
                res["right"] += 1
            elif d and d["nums"] == h["nums"]:
                res["period"] += 1
                res["wrong"].append((h, d))
            else:
                res["missed"] += 1
                if not stated(h):
                    res["not_in_text"] += 1
                    res["not_in_text_kind"] += d is not None
                    res["unstated"].append((h, d))
                else:
                    res["misses"].append((h, d))
        else:
            res["other"] += 1
            res["other_found"] += d is not None
    for j, d in enumerate(drafted):
        if j in used_d:
            continue
        res["invented"] += 1
        if any(overlaps(q, u) for q, _ in d["statements"] for u in unverif):
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
            for h, d in r["unstated"]:
                print(f"  NOT IN TEXT {h['check']} {h['nums']} (hand encoder's choice) | {h['quote'][:80]!r}"
                      + (f"\n         draft proposes the check: {d['nums'] or 'no number'} {d['data']}" if d else ""))
            for h, d in r["wrong"]:
                print(f"  DATA   {h['check']} {h['nums']} hand {h['data']} draft {d['data']} | {h['quote'][:70]!r}")
            for h, d in r["sectioned"]:
                print(f"  (by section) {h['check']} {h['nums']} | hand {h['quote'][:60]!r} ~ draft {d['quote'][:60]!r}")
            for d in r["inventions"]:
                print(f"  INVENTED {d['check']} {d['nums']} {d['data']} | {d['quote'][:90]!r}")
    head = (f"{'policy':14} {'numeric':>7} {'right':>6} {'period ok,':>10} {'missed':>6} {'not in':>6} | {'other':>5} "
            f"{'found':>5} | {'drafted':>7} {'invented':>8} {'(hand: unverif.)':>16}")
    print(head)
    print(f"{'':14} {'(hand)':>7} {'':>6} {'data wrong':>10} {'':>6} {'text':>6} | {'(hand)':>5} {'':>5} |")
    print("-" * len(head))
    for name, r in rows + [("TOTAL", tot)]:
        print(f"{name:14} {r['numeric']:>7} {r['right']:>6} {r['period']:>10} {r['missed']:>6} {r['not_in_text']:>6} | "
              f"{r['other']:>5} {r['other_found']:>5} | {r['drafted']:>7} {r['invented']:>8} {r['invented_unverifiable']:>16}")
    n, d, ni = tot["numeric"], tot["drafted"], tot["not_in_text"]
    print(f"\nnumeric pledges proposed right (number, unit, table, anchor): {tot['right']}/{n} = "
          f"{100 * tot['right'] / max(n, 1):.1f}% raw; with the right number: {tot['right'] + tot['period']}/{n} = "
          f"{100 * (tot['right'] + tot['period']) / max(n, 1):.1f}%")
    print(f"  adjusted, without the {ni} whose number the quote does not state (hand encoder's choice; the draft "
          f"proposes the check for {tot['not_in_text_kind']} of them): {tot['right']}/{n - ni} = "
          f"{100 * tot['right'] / max(n - ni, 1):.1f}%")
    print(f"  {tot['by_section']} hand pledges (numeric or not) matched by section rather than by quote")
    print(f"invented: {tot['invented']}/{d} drafted pledges = {100 * tot['invented'] / max(d, 1):.1f}% "
          f"({tot['invented_unverifiable']} of them on statements the hand encoding lists as unverifiable)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
