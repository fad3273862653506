"""Benchmark step for `pledgecheck scan` (issue #24), used by scripts/benchmark.py.

    python -m pledgecheck.scanbench LOG SIZE [WORKERS]

builds SIZE bytes of LOG repeated (whole copies, the last one cut at a line end) in a private
temporary folder, scans it as `pledgecheck scan` does (textscan, one process per core) and, as
the baseline, runs every detector over every whole line of one copy of LOG (the path every
text file took before). Prints one JSON line: MB/s of both, counts and distinct values of both (the fast scan's
counts are the baseline's times the number of copies), peak RSS of this process and of its
workers. The temporary folder is removed at the end.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .adhoc import scan_path
from .detectors import find_all


def build(log: Path, size: int, folder: Path) -> tuple[Path, int]:
    """LOG repeated up to `size` bytes (whole lines); returns the file and the number of whole copies."""
    data = log.read_bytes()
    if not data.endswith(b"\n"):
        data += b"\n"
    big = folder / f"{log.stem}-x.log"
    copies = 0
    with open(big, "wb") as fh:
        written = 0
        while written + len(data) <= size:
            fh.write(data)
            written += len(data)
            copies += 1
        rest = data[:size - written]
        rest = rest[:rest.rfind(b"\n") + 1]
        fh.write(rest)
    return big, copies


def baseline(log: Path) -> dict:
    """Every detector over every whole line, as `scan` read a text file before issue #24 (with
    today's patterns; no log fields, so a crawler's address counts as `email`)."""
    counts: dict[str, int] = {}
    keys: dict[str, set] = {}
    with open(log, encoding="utf-8", errors="replace", newline="") as fh:
        for line in fh:
            for h in find_all(line):
                counts[h.kind] = counts.get(h.kind, 0) + 1
                keys.setdefault(h.kind, set()).add(h.key)
    return {"counts": dict(sorted(counts.items())), "distinct": {k: len(keys[k]) for k in sorted(keys)}}


def main(argv: list[str]) -> dict:
    log, size = Path(argv[0]), int(float(argv[1]))
    workers = int(argv[2]) if len(argv) > 2 else (os.cpu_count() or 1)
    folder = Path(tempfile.mkdtemp(prefix="pledgecheck-scanbench-"))
    try:
        t0 = time.perf_counter()
        big, copies = build(log, size, folder)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        slow = baseline(log)
        slow_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        fast = scan_path(big, workers=workers)
        fast_s = time.perf_counter() - t0
        mb = big.stat().st_size / 1e6
        rss = lambda who: resource.getrusage(who).ru_maxrss / 1024  # noqa: E731 - kB -> MB
        return {"step": "scan", "file_mb": round(mb, 1), "copies": copies, "workers": workers,
                "seconds": round(fast_s, 2), "mb_s": round(mb / fast_s, 1),
                "baseline_mb": round(log.stat().st_size / 1e6, 2), "baseline_s": round(slow_s, 2),
                "baseline_mb_s": round(log.stat().st_size / 1e6 / slow_s, 1),
                "counts": fast["counts"], "distinct": fast["distinct"],
                "baseline_counts": slow["counts"], "baseline_distinct": slow["distinct"],
                "build_s": round(build_s, 1), "rss_mb": round(rss(resource.RUSAGE_SELF)),
                "workers_rss_mb": round(rss(resource.RUSAGE_CHILDREN))}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
