"""Every check's counts equal the generator's ground truth, for every bundled policy, at more
than one seed, scale and file format."""
from datetime import date

import pytest

from pledgecheck.pipeline import check_export
from pledgecheck.policy import load_policy, policies_dir

generate = pytest.importorskip("pledgecheck.synth.generate", reason="the generator is not there yet")

POLICIES = sorted(p.stem for p in policies_dir().glob("*.yaml"))
AS_OF = date(2026, 11, 1)


def mismatches(world, manifest, policy):
    run = check_export(policy, world, AS_OF, "truth-salt")
    assert run.ingest.reconciles()
    got = {r.pledge_id: r for r in run.results}
    bad = {}
    for pid, want in manifest["expected"].items():
        r = got[pid]
        have = {"violations": r.violations, "exempt": r.exempt, "population": r.population}
        if r.status in ("error", "not_checked") or any(have[k] != want[k] for k in have if k in want):
            bad[pid] = {"want": want, "have": have, "status": r.status, "message": r.message}
    return bad


@pytest.mark.parametrize("policy_id", POLICIES)
@pytest.mark.parametrize("seed, accounts, fmt", [(1, 400, "parquet"), (7, 250, "mixed")])
def test_checks_match_ground_truth(tmp_path, policy_id, seed, accounts, fmt):
    policy = load_policy(policies_dir() / f"{policy_id}.yaml")
    manifest = generate.generate_world(tmp_path / "w", policy, seed=seed, accounts=accounts, as_of=AS_OF, fmt=fmt)
    assert set(manifest["expected"]) == {p.id for p in policy.pledges}
    assert sum(v["violations"] for v in manifest["expected"].values()) > 0, "the world planted nothing"
    assert not mismatches(tmp_path / "w", manifest, policy)


def test_ground_truth_catches_a_missing_row(tmp_path):
    """The comparison can fail: drop one violating ticket from the files and the counts differ."""
    import pyarrow.parquet as pq

    policy = load_policy(policies_dir() / "lustmonster.yaml")
    manifest = generate.generate_world(tmp_path / "w", policy, seed=3, accounts=300, as_of=AS_OF)
    path = tmp_path / "w" / "support_tickets.parquet"
    table = pq.read_table(path)
    pq.write_table(table.slice(1), path)
    assert mismatches(tmp_path / "w", manifest, policy) or table.num_rows == 0
