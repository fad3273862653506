"""Where the project's working folders are: one place for every module.

The bundled policies (`policies/`), the generated Great Expectations suites (`expectations/`),
the analyst notebooks (`notebooks/`), the sample export (`data/sample/`) and the default
report folder (`reports/`) live in the project folder, not in the Python package. That folder
is `$PLEDGECHECK_HOME` when set, else the source checkout this package was installed from
(an editable install), else the current folder.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=None)
def project_dir() -> Path:
    home = os.environ.get("PLEDGECHECK_HOME")
    if home:
        return Path(home).expanduser().resolve()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "policies").is_dir():
        return checkout
    return Path.cwd()


def policies_dir() -> Path:
    return project_dir() / "policies"


def expectations_dir() -> Path:
    return project_dir() / "expectations"


def notebooks_dir() -> Path:
    return project_dir() / "notebooks"


def sample_dir() -> Path:
    return project_dir() / "data" / "sample"


def reports_dir() -> Path:
    return project_dir() / "reports"
