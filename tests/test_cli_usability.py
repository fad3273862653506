"""The command line as a new user meets it (issue #21): whole help lines, developer commands
apart, a list of the bundled policies, pledge names that stay distinguishable at 80 columns,
the chart-rendering stage shown, and the README's deadline example."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from typer.testing import CliRunner

from pledgecheck.cli import DEVELOPER_COMMANDS, app, print_summary

ENV80 = {**os.environ, "COLUMNS": "80"}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pledgecheck.cli", *args], capture_output=True, text=True,
                          env=ENV80, timeout=600)


def test_top_level_help_is_whole_and_groups_developer_commands():
    r = _cli("--help")
    assert r.returncode == 0
    commands = r.stdout[r.stdout.index("Commands:"):]
    assert "..." not in commands, commands
    user, _, dev = commands.partition("Developer commands")
    assert dev, r.stdout
    for name in DEVELOPER_COMMANDS:
        assert re.search(rf"^\s+{name}\s", dev, re.M) and not re.search(rf"^\s+{name}\s", user, re.M)
    for name in ("run", "report", "validate", "deadline", "policies"):
        assert re.search(rf"^\s+{name}\s", user, re.M), name


def test_policies_lists_the_bundled_policies():
    from pledgecheck.policy import load_all_bundled

    res = CliRunner().invoke(app, ["policies"], env={"COLUMNS": "80"})
    assert res.exit_code == 0
    for pol in load_all_bundled():
        assert re.search(rf"│ {pol.id}\s+│.*│\s+{len(pol.pledges)} │", res.output), pol.id


def _first_column(text: str) -> list[str]:
    """The first cell of each row of a rich table, folded continuation lines joined."""
    names: list[str] = []
    for line in text.splitlines():
        if "│" not in line:
            continue
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if all(not c for c in cells[1:]) and names:
            names[-1] += cells[0]
        else:
            names.append(cells[0])
    return names


def test_pledge_names_stay_distinguishable_at_80_columns(capsys):
    from rich.console import Console

    import pledgecheck.cli as cli

    long = "lustmonster.optout-object-direct-marketing-immediately"
    pledges = [{"pledge_id": f"{long}-{s}", "status": "broken", "severity": "critical", "violations": 9,
                "population": 7962, "rate": 0.0011, "message": None, "quarantined": {}} for s in ("eu", "uk")]
    doc = {"meta": {"policy": "lustmonster", "policy_name": "LustMonster", "as_of": "2026-11-01"},
           "summary": {"kept": 0, "broken": 2, "superseded": 0, "not_checked": 0, "no_data": 0, "total": 2},
           "pledges": pledges, "lint": []}
    old = cli.out
    cli.out = Console(width=80, force_terminal=False)
    try:
        print_summary(doc)
    finally:
        cli.out = old
    names = _first_column(capsys.readouterr().out)
    assert f"{long.removeprefix('lustmonster.')}-eu" in names and f"{long.removeprefix('lustmonster.')}-uk" in names


def test_readme_deadline_example_with_a_policy():
    """Before: TypeError (cannot unpack NoneType) for pledges whose filters left the one
    request out of scope."""
    r = _cli("deadline", "--received", "2024-01-31", "--policy", "lustmonster", "--json")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    doc = json.loads(r.stdout)
    assert doc["gdpr"]["due"] == "2024-02-29"
    own = {k: v for k, v in doc["regimes"].items() if k.startswith("lustmonster.")}
    assert own and any(v["due"] for v in own.values())
    deletion = own.get("lustmonster.dsr-deletion-30d")
    assert deletion and deletion["due"], own       # a deletion-only pledge gets a deletion request
    r = _cli("deadline", "--received", "2024-01-31", "--policy", "lustmonster")
    names = _first_column(r.stdout)
    assert "dsr-deletion-30d" in names and len(set(names)) == len(names), names


def test_the_chart_stage_is_shown_after_the_checks(tmp_path):
    from conftest import write_table

    export = tmp_path / "export"
    write_table(export, "support_tickets", [{"ticket_id": "T1", "account_id": "a1", "created_at": "2020-01-01T00:00:00Z",
                                            "last_message_at": "2020-01-01T00:00:00Z", "channel": "email",
                                            "category": "billing"}])
    r = _cli("run", "--policy", "xcams", "--export", str(export), "--out", str(tmp_path / "out"), "--salt", "s")
    stages = [ln for ln in r.stderr.splitlines() if re.match(r"\d{4}-\d\d-\d\dT", ln)]
    from pledgecheck.policy import load_policy, resolve_policy

    n = len(load_policy(resolve_policy("xcams")).pledges)
    checked = next(i for i, ln in enumerate(stages) if " checked " in ln and f"{n}/{n}" in ln)
    assert any("rendering charts" in ln for ln in stages[checked:]), stages
