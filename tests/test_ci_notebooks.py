"""CI executes the analyst notebooks the way analysts know it, with nbval, on the sample (in
addition to the papermill runs of tests/test_notebooks.py): `make test`, which .ci/run calls."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_test_runs_the_notebooks_with_nbval():
    make = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", make, re.M).group(1)
    assert re.search(r"pytest --nbval-lax notebooks/?\s*$", recipe, re.M), recipe
    assert (ROOT / ".ci" / "run").read_text().rstrip().splitlines()[-1] == "make test"
    assert list((ROOT / "notebooks").glob("*.ipynb"))
