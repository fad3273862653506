"""Print the digest of every pledge result of the bundled policies on generated worlds.

A refactoring must not change any result: run this before and after and compare.

    python scripts/result_digests.py > before.json      # on the old code
    python scripts/result_digests.py --compare before.json

Worlds: every bundled policy at two seeds and two formats (parquet, mixed CSV/JSONL/log);
`--spark` also runs the Spark engine on one world per policy and checks equality.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

from pledgecheck.pipeline import check_export
from pledgecheck.policy import load_policy, policies_dir
from pledgecheck.synth import generate_world

AS_OF = date(2026, 11, 1)
WORLDS = [(1, 300, "parquet"), (7, 200, "mixed")]


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compare", type=Path, help="a JSON file printed earlier; exit 1 on any difference")
    ap.add_argument("--spark", action="store_true", help="also compare the Spark engine (slow)")
    ap.add_argument("--strip", default="", help="comma-separated result keys left out of the digest")
    args = ap.parse_args()
    strip = {k for k in args.strip.split(",") if k}
    out: dict[str, dict[str, str]] = {}
    # a fixed folder: the ingest rows name their files, so the path must not change between runs
    tmp = Path(tempfile.gettempdir()) / "pledgecheck-digests"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        for path in sorted(policies_dir().glob("*.yaml")):
            policy = load_policy(path)
            for seed, accounts, fmt in WORLDS:
                world = Path(tmp) / f"{policy.id}-{seed}-{fmt}"
                generate_world(world, policy, seed=seed, accounts=accounts, as_of=AS_OF, fmt=fmt)
                run = check_export(policy, world, AS_OF, "digest-salt")
                doc = run.document()
                key = f"{policy.id}/{seed}/{fmt}"
                out[key] = {p["pledge_id"]: digest({k: v for k, v in p.items() if k not in strip}) for p in doc["pledges"]}
                out[key]["_ingest"] = digest(doc["ingest"])
                print(f"{key}: {digest(out[key])}", file=sys.stderr)
                if args.spark and seed == WORLDS[0][0]:
                    srun = check_export(policy, world, AS_OF, "digest-salt", engine="spark")
                    sdoc = srun.document()
                    sd = {p["pledge_id"]: digest({k: v for k, v in p.items() if k not in strip}) for p in sdoc["pledges"]}
                    diff = [k for k in sd if sd[k] != out[key].get(k)]
                    print(f"{key} spark: {'equal' if not diff else 'DIFFERENT: ' + ', '.join(diff)}", file=sys.stderr)
                    out[key + "/spark-equal"] = {"equal": str(not diff)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.compare:
        before = json.loads(args.compare.read_text())
        bad = [(w, p) for w in before for p in before[w] if out.get(w, {}).get(p) != before[w][p]]
        bad += [(w, p) for w in out for p in out[w] if p not in before.get(w, {})]
        for w, p in bad:
            print(f"DIFFERENT {w} {p}", file=sys.stderr)
        print(f"{sum(len(v) for v in out.values())} results compared, {len(bad)} different", file=sys.stderr)
        return 1 if bad else 0
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
