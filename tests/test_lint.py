"""The typed-claim linter: fixture pairs with their expected verdicts, value parsing, the bundled
policies' false contradictions gone and the missed ones found, and `lint --json`."""
import json
from pathlib import Path

import pytest
import yaml

from pledgecheck.claims import parse_value, refine_from_quote, period
from pledgecheck.lint import claims_of, lint_policy, superseded
from pledgecheck.policy import load_all_bundled, parse_policy

FIXTURES = yaml.safe_load((Path(__file__).parent / "fixtures" / "lint" / "claims.yaml").read_text(encoding="utf-8"))


def _policy(a: dict, b: dict):
    doc = {"policy": {"id": "p", "name": "P"},
           "pledges": [{"id": "p.anchor", "kind": "security", "check": "password_hash", "category": "user.authorization",
                        "params": {}, "quote": "passwords are hashed", "section": "S"}],
           "unverifiable": [{"quote": "statement A", "section": "A", "reason": "fixture", "claim": a},
                            {"quote": "statement B", "section": "B", "reason": "fixture", "claim": b}]}
    return parse_policy(doc, "fixture")


@pytest.mark.parametrize("case", FIXTURES, ids=[c["name"] for c in FIXTURES])
def test_fixture_pair_gets_its_verdict(case):
    for a, b in ((case["a"], case["b"]), (case["b"], case["a"])):   # the verdict does not depend on order
        found = [f.kind for f in lint_policy(_policy(a, b)) if f.kind in ("contradiction", "refinement", "overlap")]
        assert found == ([] if case["expect"] == "none" else [case["expect"]]), case["name"]


def test_fixtures_cover_each_rule_with_pairs_that_must_and_must_not_be_flagged():
    by_rule: dict[str, set[str]] = {}
    for c in FIXTURES:
        by_rule.setdefault(c["a"]["predicate"], set()).add(c["expect"])
    for rule, verdicts in by_rule.items():
        if rule in ("min_age",):
            continue
        assert "contradiction" in verdicts and verdicts - {"contradiction"}, rule


@pytest.mark.parametrize("text,kind,lo,hi", [
    ("6–10 years", "range", 6 * 365.25, 10 * 365.25),
    ("at least 7 years", "min", 7 * 365.25, float("inf")),
    ("indefinitely", "word", float("inf"), float("inf")),
    ("immediately", "word", 0, 0),
    ("at any time", "word", None, None),
    ("without undue delay", "word", None, None),
    ("within the timelines prescribed by law", "word", None, None),
])
def test_values_keep_what_the_text_says(text, kind, lo, hi):
    v = parse_value(text)
    assert (v.kind, v.lo, v.hi) == (kind, lo, hi)


def test_bad_claim_value_is_a_clear_error():
    from pledgecheck.errors import PolicyError
    with pytest.raises(PolicyError, match="unverifiable #1.*cannot read the claim value"):
        _policy({"predicate": "max_retention", "value": "sometime soonish"}, {"predicate": "max_retention", "value": "1 day"})


def test_a_quote_refines_the_checks_number_and_never_invents_one():
    assert refine_from_quote(period(3652.5, "10 years"), "typically 6–10 years").kind == "range"
    assert refine_from_quote(period(30.44, "1 month"), "within the timelines prescribed by law").text == "as required by law"
    assert refine_from_quote(period(0, "0 days"), "You can opt-out any time you want.", zero_is_unstated=True).text == "at any time"
    assert refine_from_quote(period(0, "0 days"), "You may opt out of e-mails.", zero_is_unstated=True).text == "unstated"
    assert refine_from_quote(period(30, "30 days"), "within 30 days").kind == "period"


@pytest.fixture(scope="module")
def bundled():
    return {p.id: (p, lint_policy(p)) for p in load_all_bundled()}


def _pairs(findings, kind="contradiction"):
    return [set(f.pledges) for f in findings if f.kind == kind]


def test_false_contradictions_of_the_old_linter_are_gone(bundled):
    _, lm = bundled["lustmonster"]
    con = _pairs(lm)
    # one sentence split into pledges is one statement
    assert {"lustmonster.retention-orders-7y", "lustmonster.retention-orders-10y-some-jurisdictions"} not in con
    # "within the timelines prescribed by law" fixes no number; "30 days" vs "30 days + 30" is a refinement
    assert not [c for c in con if any("timelines-by-law" in x for x in c)]
    assert not [c for c in con if "lustmonster.dsr-gdpr-aim-30d" in c]
    _, xc = bundled["xconfessions"]
    assert not [c for c in _pairs(xc) if any("optout" in x or "stop" in x for x in c)]   # "at any time" vs "a few days"
    # a 5-year cap on tokens does not put payment records (kept at least 7 years) out of force
    assert "lustmonster.retention-payments-7y" not in superseded(lm)


def test_missed_contradictions_are_found(bundled):
    _, lm = bundled["lustmonster"]
    con = _pairs(lm)
    assert {"lustmonster.retention-support-24m", "lustmonster.retention-contact-forms-12m"} in con
    assert {"lustmonster.retention-web-logs-30d", "lustmonster.retention-security-60m"} in con
    assert {"lustmonster.retention-orders-legal-records-10y", "lustmonster.retention-orders-erasure-exception-10y"} in con
    consent = [f for f in lm if f.kind == "contradiction" and f.rule == "consent_mode"]
    # "by using our website you consent" against the opt-in statements: one finding listing them all
    assert consent and all(len(f.pledges) > 2 and not all(f.checked) for f in consent)
    assert [f for f in lm if f.kind == "contradiction" and "not indefinitely" in f.values]
    assert [f for f in lm if f.kind == "contradiction" and f.rule == "performed"]
    assert [f for f in lm if f.kind == "contradiction" and f.rule == "max_retention/min_retention"]
    _, lj = bundled["livejasmin"]
    assert [f for f in lj if f.kind == "contradiction" and f.rule == "recipient_fields"]
    assert {"livejasmin.backups-usually-30-days", "livejasmin.profile-data-no-copies"} in _pairs(lj)


def test_every_contradiction_cites_both_quotes_and_sections_and_says_why(bundled):
    for pol, findings in bundled.values():
        for f in findings:
            if f.kind == "contradiction":
                assert len(f.quotes) == len(f.pledges) >= 2 and all(q and s for s, q in f.quotes)
                assert " vs " in f.message or "minimum above" in f.message


def test_every_statement_with_a_claim_is_a_claim(bundled):
    for pol, _ in bundled.values():
        refs = {c.ref for c in claims_of(pol)}
        n_unv = sum(1 for u in pol.unverifiable if u.claim)
        assert sum(1 for r in refs if ".unverifiable-" in r) == n_unv


def test_lint_json(capsys):
    from typer.testing import CliRunner

    from pledgecheck.cli import app
    res = CliRunner().invoke(app, ["lint", "lustmonster", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    (pol,) = doc["policies"]
    con = [f for f in pol["findings"] if f["kind"] == "contradiction"]
    assert con and all(len(f["quotes"]) >= 2 and f["quotes"][0]["quote"] for f in con)


def test_docs_list_every_bundled_contradiction_with_both_quotes(bundled):
    import re
    doc = (Path(__file__).resolve().parents[1] / "docs" / "POLICIES.md").read_text(encoding="utf-8")
    listed = doc.split("### The contradictions in the bundled policies", 1)[1]
    for pid, (pol, findings) in bundled.items():
        con = [f for f in findings if f.kind == "contradiction"]
        m = re.search(rf"^### {pid} \((\d+)\)$", listed, re.M)
        assert m and int(m.group(1)) == len(con), f"{pid}: docs/POLICIES.md lists another number (re-run the list)"
        section = listed[m.end():].split("\n### ", 1)[0]
        for f in con:
            for ref, (_, quote) in zip(f.pledges, f.quotes):
                assert f"`{ref}`" in section and quote in section, (pid, ref)


def test_no_implicit_consent_is_compared_with_by_using_our_website(bundled):
    pol, findings = bundled["lustmonster"]
    refs = {" ".join(u.quote.split()): f"lustmonster.unverifiable-{i}" for i, u in enumerate(pol.unverifiable, 1)}
    no_implicit = next(r for q, r in refs.items() if q.startswith("We do not rely on implicit consent"))
    by_using = next(r for q, r in refs.items() if q.startswith("By using our website, you consent"))
    assert [f for f in findings if f.kind == "contradiction" and {no_implicit, by_using} <= set(f.pledges)]


def test_report_contradictions_section_shows_both_quotes(tmp_path, bundled):
    from pledgecheck.ingest import IngestReport
    from pledgecheck.report import render_html
    from pledgecheck.results import build_document

    pol, findings = bundled["livejasmin"]
    doc = build_document(pol, "2026-11-01", [], IngestReport(str(tmp_path), {}), findings)
    html = render_html(doc, charts=False)
    section = html.split("Contradictions inside the policy", 1)[1].split("<h2>", 1)[0]
    from markupsafe import escape
    quotes = [q for f in findings if f.kind == "contradiction" for _, q in f.quotes]
    assert quotes and all(str(escape(q)) in section for q in quotes)
