"""The runner's reads of a check's compact table, against independent computations."""
import numpy as np
import pytest

from pledgecheck import runner
from pledgecheck.engine import connect


def test_both_distribution_queries_equal_numpy_over_the_raw_rows():
    """The runner picks EXPANDED or RANKED by how well a check compacted; both must give the
    quantiles, mean, min and max of the rows the compact table stands for."""
    rng = np.random.default_rng(7)
    rows = [(1, str(o), f"s{rng.integers(3)}", float(m) if rng.random() > 0.1 else None, int(rng.integers(1, 40)))
            for o, m in zip(rng.choice(["ok", "violation", "exempt", "unknown"], 300), rng.integers(0, 50, 300) / 4)]
    con = connect()
    con.execute("CREATE TEMP TABLE _cev (g INTEGER, outcome VARCHAR, segment VARCHAR, measure DOUBLE, n BIGINT)")
    con.executemany("INSERT INTO _cev VALUES (?, ?, ?, ?, ?)", rows)
    raw = [(o, s, m) for _, o, s, m, n in rows for _ in range(n) if m is not None and o != "unknown"]

    def expected(values):
        return (len(values), np.mean(values), min(values), max(values), np.quantile(values, 0.5),
                np.quantile(values, 0.95))
    want = {("all", None): expected([m for _, _, m in raw]),
            ("violation", None): expected([m for o, _, m in raw if o == "violation"])}
    for seg in {s for _, s, _ in raw}:
        want[("segment", seg)] = expected([m for _, s, m in raw if s == seg])
    expanded = {(k, s): tuple(r) for k, s, *r in con.execute(runner.DISTRIBUTIONS_EXPANDED).fetchall()}
    ranked = {(k, s): runner._ranked(r) for k, s, *r in con.execute(runner.DISTRIBUTIONS_RANKED).fetchall()}
    assert expanded.keys() == ranked.keys() == want.keys()
    for key, values in want.items():
        assert expanded[key] == pytest.approx(values), key
        assert ranked[key] == pytest.approx(values), key
