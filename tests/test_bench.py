"""The benchmark's building blocks work (no timing is asserted: see BENCHMARKS.md)."""
import json

import pytest

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
    bound = bench.child("bound", "xcams", str(world))
    full = bench.child("full", "xcams", str(world), str(tmp_path / "runs"))
    gx = bench.child("gx", "xcams", str(world))
    sub = bench.child("subset", "xcams", str(world))
    for step in (floor, bound, full, gx, sub):
        assert "error" not in step, step
        assert step["seconds"] > 0
    assert full["rows"] == sub["rows"] == bound["rows"] >= floor["rows"] > 0
    # the bound joins what the consent pledge joins: every sent message of its scope, once
    (consent,) = [r for r in json.loads(next((tmp_path / "runs").rglob("results.json")).read_text())["pledges"]
                  if r["check"] == "consent_coverage"]
    events, matched = bound["joined"]["marketing_sends/marketing_email"]
    assert bound["joins"] == 1 and events == consent["population"] + consent["unknown"] > 0
    assert events - consent["by_reason"]["no_consent"] >= matched >= consent["by_reason"].get("covered", 0) > 0
    assert bound["typed_s"] + bound["keys_s"] + bound["joins_s"] == pytest.approx(bound["seconds"])
    assert full["errors"] == 0 and full["pledges"] == len(load_policy(resolve_policy("xcams")).pledges)
    # the split of the full run's time, and the scratch database it staged the export in
    assert 0 < full["ingest_s"] < full["ingest_s"] + full["checks_s"] <= full["seconds"]
    assert full["staged_mb"] > 0
    log = (tmp_path / "runs" / "duckdb-progress.log").read_text().splitlines()
    assert "ingest" in log[0] and log[-1].split()[2] == "check", log[-3:]
    assert any((tmp_path / "runs").rglob("results.json"))


def test_spark_step_gives_the_duckdb_results(tmp_path):
    """The benchmark's Spark column runs the same checks: its digest equals the DuckDB run's."""
    import os

    from pledgecheck.spark import spark_available

    why = spark_available()
    if why and os.environ.get("PLEDGECHECK_REQUIRE_SPARK") != "1":
        pytest.skip(why)
    world = tmp_path / "w"
    assert "error" not in bench.child("generate", "xcams", str(world), 2000, 100)
    full = bench.child("full", "xcams", str(world), str(tmp_path / "runs"))
    spark = bench.child("spark", "xcams", str(world), str(tmp_path / "runs"), "local[2]")
    assert "error" not in spark, spark
    assert spark["step"] == "spark" and spark["rows"] == full["rows"] and spark["pledges"] == full["pledges"]
    assert spark["digest"] == full["digest"]
    assert full["children_rss_mb"] == 0 and spark["children_rss_mb"] > 100   # the JVM's memory is counted
    assert (tmp_path / "runs" / "spark").is_dir() and (tmp_path / "runs" / "duckdb").is_dir()


def test_bound_joins_each_table_and_purpose_once_over_the_union_of_the_pledges_scopes(tmp_path):
    """lustmonster has 13 consent pledges over 6 (table, purpose) pairs: the bound's join of a
    pair holds every event any of its pledges evaluates, and no other."""
    from pledgecheck.pipeline import check_export

    world = tmp_path / "w"
    assert "error" not in bench.child("generate", "lustmonster", str(world), 4000, 200)
    bound = bench.run_bound("lustmonster", str(world))
    run = check_export("lustmonster", world, bench.AS_OF, "salt")
    pledges = {p.id: p for p in run.policy.pledges}
    evaluated: dict[str, list[int]] = {}
    for r in run.results:
        if r.check == "consent_coverage":
            p = pledges[r.pledge_id].params
            evaluated.setdefault(f"{p.table}/{p.purpose}", []).append(r.population + r.unknown)
    assert bound["joins"] == len(evaluated) == 6 and set(bound["joined"]) == set(evaluated)
    for pair, (events, matched) in bound["joined"].items():
        assert events >= max(evaluated[pair]) and events >= matched > 0, pair
    # a pledge with no scope of its own (marketing-only-if-opted-in) evaluates every send
    assert bound["joined"]["marketing_sends/marketing_email"][0] == max(evaluated["marketing_sends/marketing_email"])
    # the meta pixel is an advertising tracker: the union of the four advertising scopes is the widest
    assert bound["joined"]["tracker_events/advertising"][0] == max(evaluated["tracker_events/advertising"])
