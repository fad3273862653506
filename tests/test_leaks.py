"""No personal data in anything a run writes; the salt never leaves; same inputs, same bytes."""
from datetime import date

import pytest

from pledgecheck.adhoc import scan_path
from pledgecheck.pipeline import check_export, write_report
from pledgecheck.policy import load_policy, policies_dir

generate = pytest.importorskip("pledgecheck.synth.generate")
AS_OF = date(2026, 11, 1)
SALT = "leak-test-salt-4f9c2b"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("leaks")
    policy = load_policy(policies_dir() / "lustmonster.yaml")
    generate.generate_world(root / "export", policy, seed=5, accounts=300, as_of=AS_OF)
    return root, policy


def names_of(export):
    import duckdb

    return {r[0] for r in duckdb.sql(f"SELECT DISTINCT name FROM read_parquet('{export}/accounts.parquet') "
                                     "WHERE name IS NOT NULL").fetchall()}


def test_run_outputs_hold_no_personal_data(world):
    root, policy = world
    run = check_export(policy, root / "export", AS_OF, SALT)
    folder = write_report(run, root / "reports")
    names = names_of(root / "export")
    assert names, "the world should have names to look for"
    found = scan_path(folder, names=names)
    assert found["files_scanned"] >= 3
    assert found["findings"] == [], found["findings"][:5]
    # ... while the same scanner does find personal data in the inputs (it can fail)
    assert scan_path(root / "export", names=names, max_findings=50)["findings"]
    for f in folder.rglob("*"):
        if f.is_file():
            assert SALT.encode() not in f.read_bytes(), f"the salt leaked into {f.name}"


def test_same_inputs_and_salt_give_identical_bytes(world, tmp_path):
    root, policy = world
    a = write_report(check_export(policy, root / "export", AS_OF, SALT), tmp_path / "a")
    b = write_report(check_export(policy, root / "export", AS_OF, SALT), tmp_path / "b")
    for name in ("results.json", "results.parquet", "report.html"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    c = write_report(check_export(policy, root / "export", AS_OF, "another-salt"), tmp_path / "c")
    assert (a / "results.json").read_bytes() != (c / "results.json").read_bytes()  # pseudonyms differ


def test_interrupted_write_leaves_no_half_report(world, tmp_path, monkeypatch):
    root, policy = world
    run = check_export(policy, root / "export", AS_OF, SALT)
    import pledgecheck.results as results

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(results.pq, "write_table", boom)
    with pytest.raises(KeyboardInterrupt):
        write_report(run, tmp_path / "out")
    assert not any((tmp_path / "out").rglob("results.json"))
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name.startswith(".")]


def test_the_staged_export_lives_in_a_private_scratch_file_removed_with_the_run(world, tmp_path, monkeypatch):
    import gc
    import json
    import subprocess
    import sys
    import tempfile

    root, policy = world
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    run = check_export(policy, root / "export", AS_OF, SALT)
    (folder,) = list(scratch.iterdir())
    assert folder.name.startswith("pledgecheck-") and (folder / "staged.duckdb").is_file()
    assert folder.stat().st_mode & 0o077 == 0, "the staged rows hold personal data: private to the user"
    assert run.con.execute("SELECT current_database()").fetchone()[0] == "staged"
    in_memory = check_export(policy, root / "export", AS_OF, SALT, database=":memory:")
    assert run.document() == in_memory.document()  # where the rows are staged changes no result
    del run, in_memory  # the in-memory run has a private spill folder, removed the same way
    gc.collect()
    assert not folder.exists(), "the scratch folder outlived its run"
    # a process that exits with the run still open leaves nothing behind either
    code = ("import sys; from datetime import date; from pledgecheck.pipeline import check_export; "
            f"run = check_export('lustmonster', {str(root / 'export')!r}, date(2026, 11, 1), 's'); "
            "print(run.con.execute('PRAGMA database_list').fetchall()[0][2])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__('os').environ, "TMPDIR": str(scratch)}, check=True)
    staged = out.stdout.strip().splitlines()[-1]
    assert staged.startswith(str(scratch)) and staged.endswith("staged.duckdb"), staged
    assert list(scratch.iterdir()) == [], json.dumps(out.stderr[-500:])
    assert "Error" not in out.stderr, out.stderr[-500:]


CLI = "sys.argv = ['pledgecheck', 'run', '--policy', 'lustmonster', '--export', 'unused']\nfrom pledgecheck.cli import main\nmain()\n"
BENCH = "from pledgecheck.bench import main\nmain(['full', 'lustmonster', 'export', sys.argv[1]])\n"


# (papermill runs an asyncio loop per notebook: a loop that closes may reset SIGTERM to its default
# and the wakeup fd to none, as nbclient used directly does; `pledgecheck report` queries on after)
AFTER_A_NOTEBOOK = """import nbformat, pathlib
from pledgecheck.scheduled import execute_notebook
query = endless
folder = pathlib.Path(sys.argv[1])   # (before CLI replaces sys.argv)
def endless(*args, **kwargs):
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3"}})
    nb.cells.append(nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}))
    nbformat.write(nb, folder / "nb.ipynb")
    assert execute_notebook(folder / "nb.ipynb", folder / "out.ipynb", {"x": 2}, cwd=folder) is None
    return query(*args, **kwargs)
pledgecheck.pipeline.check_export = endless
""" + CLI


@pytest.mark.parametrize("signame,entry", [("SIGTERM", CLI), ("SIGINT", CLI), ("SIGTERM", BENCH),
                                           ("SIGTERM", AFTER_A_NOTEBOOK)],
                         ids=["SIGTERM", "SIGINT", "SIGTERM-benchmark-step", "SIGTERM-after-a-notebook"])
def test_a_signal_mid_query_interrupts_it_and_removes_the_staged_data(tmp_path, signame, entry):
    """A scheduler's timeout sends SIGTERM, a user presses Ctrl-C, often while DuckDB runs a
    query of minutes. DuckDB interrupts its query on SIGINT by itself, but SIGTERM's default is
    to die at once, leaving the private scratch folder of staged personal data behind. With
    `stop_on_signals` (the CLI and the benchmark's steps run in `stoppable`) the query is interrupted and
    the process exits through its finalizers: promptly, with nothing left in $TMPDIR, either way."""
    import os
    import signal
    import subprocess
    import sys

    # `pledgecheck run` (or the benchmark's full step) whose run is one endless query (it would take hours)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code = ("import sys\n"
            "import pledgecheck.pipeline\n"
            "from pledgecheck.engine import connect_scratch\n"
            "def endless(*args, **kwargs):\n"
            "    con = connect_scratch()\n"
            "    print(con.execute('PRAGMA database_list').fetchall()[0][2], flush=True)\n"
            "    con.execute('SELECT sum(a.i * b.i) FROM range(100000000) a(i), range(100000000) b(i)').fetchall()\n"
            "pledgecheck.pipeline.check_export = endless\n" + entry)
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "runs")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(tmp)},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as from a terminal
    try:
        staged = proc.stdout.readline().strip()
        if not staged:   # it ended before staging: say why
            pytest.fail(proc.communicate(timeout=60)[1][-1500:])
        assert staged.startswith(str(tmp)) and staged.endswith("staged.duckdb"), staged
        proc.send_signal(getattr(signal, signame))
        _, err = proc.communicate(timeout=60)   # the query alone would run for hours
    finally:
        proc.kill()
    assert list(tmp.iterdir()) == [], err[-500:]
    if signame == "SIGTERM":
        assert proc.returncode == 143, err[-500:]
        assert "stopped by SIGTERM" in err and "Traceback" not in err and "leaked" not in err, err[-500:]
    else:
        assert proc.returncode == 130 and "Traceback" not in err, err[-500:]   # as Ctrl-C ends any command
