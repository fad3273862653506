"""Every pledge maps to a check and every check names the pledges it verifies."""
from pledgecheck.checks import available_checks, header
from pledgecheck.lint import orphans
from pledgecheck.policy import CHECK_PARAMS, load_all_bundled


def test_every_check_has_sql_and_a_params_schema():
    assert set(available_checks()) == set(CHECK_PARAMS)


def test_check_headers_cite_their_pledges():
    for c in available_checks():
        h = header(c)
        assert h.get("check") == c and h.get("measures") and h.get("semantics", "").startswith("docs/CHECKS.md")


def test_no_orphans_either_way():
    problems = [f.message for f in orphans(load_all_bundled())]
    assert not problems, "run `pledgecheck sync-headers` after editing policies:\n" + "\n".join(problems)
