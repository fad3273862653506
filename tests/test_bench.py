"""The benchmark's building blocks work (no timing is asserted: see BENCHMARKS.md)."""
from pledgecheck import bench
from pledgecheck.policy import load_policy, resolve_policy


def test_floor_touches_the_columns_the_checks_read():
    cols = bench.columns_touched(load_policy(resolve_policy("lustmonster")))
    assert {"ts", "ip", "path", "user_agent"} <= set(cols["web_access_logs"])
    assert "created_at" in cols["support_tickets"]
    assert "password_hash" in cols["accounts"]


def test_gx_plan_covers_only_single_table_column_pledges():
    plan = bench.gx_plan(load_policy(resolve_policy("lustmonster")))
    classes = {cls for exps in plan.values() for cls, _ in exps}
    assert classes <= {"ExpectColumnValuesToBeBetween", "ExpectColumnValuesToMatchRegex",
                       "ExpectColumnValuesToNotMatchRegex", "ExpectColumnValuesToBeNull"}
    assert ("ExpectColumnValuesToBeNull", {"column": "cvv"}) in plan["payments"]
    # deadlines need calendars and joins: no GX equivalent; only the card-number scan reads requests
    assert {cls for cls, _ in plan["data_subject_requests"]} == {"ExpectColumnValuesToNotMatchRegex"}


def test_every_step_runs_on_a_small_world(tmp_path):
    world = tmp_path / "w"
    gen = bench.child("generate", "xcams", str(world), 2000, 100)
    assert "error" not in gen and gen["rows"] > 2000 and gen["rss_mb"] > 0
    floor = bench.child("floor", "xcams", str(world))
    full = bench.child("full", "xcams", str(world), str(tmp_path / "runs"))
    gx = bench.child("gx", "xcams", str(world))
    sub = bench.child("subset", "xcams", str(world))
    for step in (floor, full, gx, sub):
        assert "error" not in step, step
        assert step["seconds"] > 0
    assert full["rows"] == sub["rows"] >= floor["rows"] > 0
    assert full["errors"] == 0 and full["pledges"] == len(load_policy(resolve_policy("xcams")).pledges)
    assert any((tmp_path / "runs").rglob("results.json"))
