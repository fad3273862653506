"""The project sets up the same way everywhere: pins agree, CI runs the README's command."""
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pins(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_environment_yml_pins_match_requirements():
    req = pins((ROOT / "requirements.txt").read_text().splitlines())
    req.update(pins((ROOT / "requirements-dev.txt").read_text().splitlines()))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda = pins(pip_section)
    assert conda == req, {k: (req.get(k), conda.get(k)) for k in set(req) | set(conda) if req.get(k) != conda.get(k)}


def test_installed_versions_are_the_pinned_ones():
    from importlib.metadata import version

    req = pins((ROOT / "requirements.txt").read_text().splitlines())
    wrong = {name: (want, version(name)) for name, want in req.items() if version(name) != want}
    assert not wrong, f"installed versions differ from requirements.txt: {wrong}"


def test_ci_runs_the_readme_test_command():
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()
          if ln.strip() and not ln.strip().startswith(("#", "set ", "cd ", "export "))]
    readme = (ROOT / "README.md").read_text()
    assert ci[-1] in readme, f".ci/run ends with {ci[-1]!r}, which the README does not show"


def test_every_duckdb_connection_is_utc_and_draws_no_progress_bar_of_its_own():
    from pledgecheck.engine import connect, connect_scratch

    for con in (connect(), connect_scratch()):
        assert con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "UTC"
        # DuckDB's bar would print over the run's own progress display and into captured stdout
        assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0] is False


def test_an_in_memory_connection_spills_into_a_private_folder_removed_with_it(tmp_path, monkeypatch):
    import gc
    import tempfile

    from pledgecheck.engine import connect

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    con = connect(memory_limit="64MB")
    spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
    assert spill.parent.parent == tmp_path and spill.parent.stat().st_mode & 0o077 == 0
    # a sort larger than the memory limit spills there, not into ./.tmp of the working folder
    con.execute("SELECT * FROM range(20000000) t(i) ORDER BY hash(i)").fetchmany(1)
    assert spill.is_dir() and not (tmp_path / ".tmp").exists()
    del con
    gc.collect()
    assert not spill.parent.exists()


def test_notebooks_are_committed_without_outputs():
    import json

    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        cells = json.loads(nb.read_text())["cells"]
        dirty = [i for i, c in enumerate(cells) if c.get("outputs") or c.get("execution_count")]
        assert not dirty, f"{nb.name}: cells {dirty} have outputs; strip them before committing"


def test_spark_extra_allows_the_pinned_versions():
    """The `spark` extra (pyproject.toml) and the pins CI tests (requirements-dev.txt) agree."""
    import tomllib

    from packaging.specifiers import SpecifierSet

    dev = pins((ROOT / "requirements-dev.txt").read_text().splitlines())
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["spark"]
    for req in extra:
        name, spec = re.match(r"([A-Za-z0-9_.\-]+)(.*)", req).groups()
        assert dev[name.lower()] in SpecifierSet(spec), (name, spec, dev.get(name.lower()))
    assert {"pyspark", "sqlglot"} <= set(dev)


def test_spark_engine_without_its_extra_is_a_clear_error(tmp_path):
    """`run --engine spark` where the `spark` extra is missing names what to install (the
    brackets of `pledgecheck[spark]` intact), exits 2, and shows no stack trace."""
    blocked = tmp_path / "blocked" / "sqlglot"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('not installed', name='sqlglot')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocked.parent), os.environ.get("PYTHONPATH", "")])}
    (tmp_path / "export").mkdir()
    r = subprocess.run([sys.executable, "-m", "pledgecheck.cli", "run", "--policy", "xcams", "--export",
                        str(tmp_path / "export"), "--engine", "spark", "--salt", "s", "--out", str(tmp_path / "out")],
                       capture_output=True, text=True, env={**env, "COLUMNS": "200"})
    assert r.returncode == 2, r.stderr
    assert "pip install 'pledgecheck[spark]'" in r.stderr and "is not installed" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_messages_print_bracketed_paths_intact(tmp_path):
    """A path with square brackets (rich markup syntax) is printed as it is, not eaten as a tag."""
    folder = tmp_path / "run [bold]2026"
    folder.mkdir()
    r = subprocess.run([sys.executable, "-m", "pledgecheck.cli", "summary", str(folder)],
                       capture_output=True, text=True, env={**os.environ, "COLUMNS": "400"})
    assert r.returncode == 2
    assert "run [bold]2026: no results.json" in r.stderr
