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


def test_keyed_compaction_of_many_checks_equals_each_check_compacted_alone(tmp_path):
    """An engine that fuses checks (Spark) compacts their stacked evaluation rows once, keyed
    by `_k` (`runner.compact_keyed_sql`); per key that must be exactly the compact table of
    the check alone. Every check of lustmonster, over a small generated world, on DuckDB."""
    from datetime import date

    from pledgecheck.contract import load_contract
    from pledgecheck.ingest import ingest
    from pledgecheck.policy import load_policy, policies_dir
    from pledgecheck.synth import generate

    as_of = date(2026, 11, 1)
    policy = load_policy(policies_dir() / "lustmonster.yaml")
    generate.generate_world(tmp_path, policy, seed=3, accounts=150, as_of=as_of, truth=False)
    con = connect()
    rep = ingest(con, tmp_path)
    present = rep.present | {"legal_holds"}
    runner.prepare(con, policy, as_of)
    contract = load_contract()
    planned = [runner.plan(p, contract, as_of, present, policy.policy.calendar) for p in policy.pledges]
    checks = [(k, r) for r, k in planned if k is not None and runner._runnable(r, present)]
    assert len(checks) > 50
    # grouped as the Spark engine fuses them; the parameters of every check are named p0, p1,
    # ...: fused, they are renamed per key
    from pledgecheck.spark.session import fused_compact, fusion_groups

    groups = fusion_groups(checks)
    assert len(groups) < len(checks) / 2 and max(len(g) for g in groups) > 1
    cols = "g, outcome, reason, segment, period, measure, vsub, n, worst"
    violations = k = 0
    for members in groups:
        sql, params = fused_compact(members, k)
        fused = con.execute(f"SELECT _k, {cols} FROM ({sql})", params).fetchall()
        by_key: dict[int, list] = {}
        for key, *row in fused:
            by_key.setdefault(key, []).append(tuple(row))
        for i, (_, r) in enumerate(members, start=k):
            alone = con.execute(f"SELECT {cols} FROM ({runner.compact_sql(r.sql)})", r.params).fetchall()
            assert sorted(by_key.get(i, []), key=repr) == sorted(alone, key=repr), r.sql[:200]
            violations += sum(n for g, o, *_, n, _w in alone if g == 1 and o == "violation")
        k += len(members)
    assert violations > 0   # the world has planted violations: the comparison compares something
