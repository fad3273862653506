"""Cross-check `pledgecheck kanon` against pyCANON's k-anonymity and l-diversity definitions.

pyCANON pins pandas 2.3.3 / numpy 2.0.2 exactly, so it cannot live in the project's environment;
run it from its own virtualenv:

    python3 -m venv /tmp/pc && /tmp/pc/bin/pip install pycanon
    .venv/bin/python scripts/crosscheck_pycanon.py --pycanon-python /tmp/pc/bin/python

It writes random tables (several seeds, sizes and numbers of quasi-identifiers), computes k and
l with both tools and prints them side by side; it exits 1 on any disagreement.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

PYCANON_SNIPPET = """
import json, sys
import pandas as pd
from pycanon import anonymity
df = pd.read_csv(sys.argv[1])
qi = sys.argv[2].split(","); sa = sys.argv[3].split(",")
print(json.dumps({"k": int(anonymity.k_anonymity(df, qi)), "l": int(anonymity.l_diversity(df, qi, sa))}))
"""


def make_table(path: Path, seed: int, rows: int, n_qi: int) -> list[str]:
    rnd = random.Random(seed)
    qi = [f"q{i}" for i in range(n_qi)]
    with open(path, "w") as f:
        f.write(",".join(qi + ["disease"]) + "\n")
        for _ in range(rows):
            vals = [str(rnd.choice(range(rnd.randint(2, 6)))) for _ in qi]
            f.write(",".join(vals + [rnd.choice(["flu", "cold", "covid", "asthma"])]) + "\n")
    return qi


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pycanon-python", required=True)
    args = ap.parse_args()
    from pledgecheck.adhoc import k_anonymity

    bad = 0
    print(f"{'seed':>4} {'rows':>5} {'qi':>2} | {'k ours':>6} {'k pyCANON':>9} | {'l ours':>6} {'l pyCANON':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(12):
            rows, n_qi = random.Random(seed).choice([50, 200, 1000]), 1 + seed % 3
            path = Path(tmp) / f"t{seed}.csv"
            qi = make_table(path, seed, rows, n_qi)
            ours = k_anonymity(path, qi, ["disease"])
            ref = json.loads(subprocess.run([args.pycanon_python, "-c", PYCANON_SNIPPET, str(path), ",".join(qi),
                                             "disease"], capture_output=True, text=True, check=True).stdout)
            ok = ours["k"] == ref["k"] and ours["l"] == ref["l"]
            bad += not ok
            print(f"{seed:>4} {rows:>5} {n_qi:>2} | {ours['k']:>6} {ref['k']:>9} | {ours['l']:>6} {ref['l']:>9}"
                  f"{'' if ok else '   DIFFERENT'}")
    print("all agree" if not bad else f"{bad} disagreements")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
