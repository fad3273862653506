"""The demo sample is a plausible month (issue #21): most pledges kept, violations planted in
about a fifth, a few with no data, a little quarantine; its manifest stays exact. The tests'
world (every pledge planted) is unchanged."""
from datetime import date

import pytest

from pledgecheck.synth import realism
from pledgecheck.synth.generate import generate_world
from pledgecheck.lint import lint_policy, superseded
from pledgecheck.pipeline import check_export
from pledgecheck.policy import load_policy, policies_dir

AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="module")
def plausible_world(tmp_path_factory):
    policy = load_policy(policies_dir() / "lustmonster.yaml")
    world = tmp_path_factory.mktemp("plausible")
    manifest = generate_world(world, policy, seed=1, accounts=600, as_of=AS_OF, **realism.plausible(policy))
    return policy, world, manifest, check_export(policy, world, AS_OF, "salt")


def test_plausible_world_truth_is_exact(plausible_world):
    policy, world, manifest, run = plausible_world
    got = {r.pledge_id: r for r in run.results}
    for pid, want in manifest["expected"].items():
        r = got[pid]
        assert (r.violations, r.exempt, r.population) == (want["violations"], want["exempt"], want["population"]), pid


def test_plausible_world_looks_like_a_month(plausible_world):
    policy, world, manifest, run = plausible_world
    s = run.summary
    in_force = s.total - s.superseded
    assert 0.1 <= s.broken / in_force <= 0.3, s           # about a fifth broken
    assert s.kept > s.broken + s.no_data + s.not_checked    # most kept
    assert 1 <= s.no_data <= 5, s                           # a few registers with nothing in them
    assert s.kept + s.broken + s.superseded + s.not_checked + s.no_data == s.total == len(policy.pledges)
    lost = {t: r.rows_quarantined for t, r in run.ingest.tables.items() if r.rows_quarantined}
    assert lost == manifest["quarantined"] and sum(lost.values()) >= 1
    assert not run.document()["quarantine"]["exceeded"]      # a little quarantine: under --max-quarantine
    for pid in manifest["planted"]:                          # planted pledges do break
        assert manifest["expected"][pid]["violations"] > 0 or manifest["expected"][pid]["population"] == 0, pid


def test_choose_planted_is_deterministic_and_about_a_fifth():
    policy = load_policy(policies_dir() / "livejasmin.yaml")
    a, b = realism.choose_planted(policy, 0.2, 1), realism.choose_planted(policy, 0.2, 1)
    assert a == b and 0.1 * len(policy.pledges) <= len(a) <= round(0.2 * len(policy.pledges))
    assert realism.choose_planted(policy, 0.2, 2) != a


def test_the_tests_world_still_plants_every_pledge(tmp_path):
    policy = load_policy(policies_dir() / "lustmonster.yaml")
    manifest = generate_world(tmp_path / "w", policy, seed=1, accounts=300, as_of=AS_OF)
    assert "planted" not in manifest and "quarantined" not in manifest
    out = superseded(lint_policy(policy))
    broken = [p for p, e in manifest["expected"].items() if e["violations"] and p not in out]
    assert len(broken) > 0.6 * (len(policy.pledges) - len(out))
