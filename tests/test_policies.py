"""The five seed policies load; quotes are the policies' own words; bad files get clear errors."""
from pathlib import Path

import pytest

from pledgecheck.duration import Duration
from pledgecheck.errors import PolicyError
from pledgecheck.lint import lint_policy, superseded
from pledgecheck.policy import load_all_bundled, load_policy, parse_policy, policies_dir

ROOT = Path(__file__).resolve().parents[1]
SEED_POLICIES = {"xconfessions", "lustmonster", "livejasmin", "xcams", "jespionne"}


def norm(s: str) -> str:
    return " ".join(s.split())


def test_every_seed_policy_is_encoded():
    assert SEED_POLICIES <= {p.stem for p in policies_dir().glob("*.yaml")}


@pytest.mark.parametrize("path", sorted(policies_dir().glob("*.yaml")), ids=lambda p: p.stem)
def test_policy_loads_and_quotes_are_verbatim(path):
    pol = load_policy(path)
    assert pol.pledges, "a policy without pledges checks nothing"
    src = Path(path).parent / pol.policy.source
    text = norm(src.read_text(encoding="utf-8"))
    missing = [x.quote for x in [*pol.pledges, *pol.unverifiable] if norm(x.quote) not in text]
    assert not missing, f"quotes not found in {src.name}: {missing}"
    for u in pol.unverifiable:
        assert len(u.reason) > 10, f"unverifiable promise without a real reason: {u.quote!r}"


def test_pledge_ids_are_unique_across_policies():
    ids = [p.id for pol in load_all_bundled() for p in pol.pledges]
    assert len(ids) == len(set(ids))


def test_the_rich_policies_have_dozens_of_pledges():
    pols = {p.id: p for p in load_all_bundled()}
    assert len(pols["lustmonster"].pledges) >= 24
    assert len(pols["livejasmin"].pledges) >= 12
    for small in ("xcams", "jespionne"):
        assert 2 <= len(pols[small].pledges) <= 15


BASE = {"id": "p.x", "kind": "retention", "check": "retention", "category": "user.content", "quote": "q",
        "section": "s", "params": {"table": "support_tickets", "from": "created", "period": "3 years"}}


def bad(**changes):
    pledge = {**BASE, **changes}
    return {"policy": {"id": "p", "name": "P"}, "pledges": [pledge]}


@pytest.mark.parametrize("doc, message", [
    (bad(category="user.contnt"), "pledge #1 (p.x), field 'category': 'user.contnt' is not a Fides data category"),
    (bad(params={"table": "support_tickets", "from": "created", "period": "3 fortnights"}),
     "field 'params.period': cannot read the duration '3 fortnights'"),
    (bad(params={"table": "support_ticket", "from": "created", "period": "3 years"}),
     "pledge p.x: field 'params.table': unknown table 'support_ticket'"),
    (bad(params={"table": "support_tickets", "from": "closed", "period": "3 years"}),
     "field 'params.from': table support_tickets has no anchor 'closed'"),
    (bad(check="retension"), "field 'params': unknown check"),
    (bad(severity="high"), "field 'severity'"),
    (bad(id="other.x"), "pledge ids look like 'p.<slug>'"),
    (bad(colour="red"), "field 'colour': unknown field"),
    ({"policy": {"id": "p", "name": "P"}}, "needs the top-level keys 'policy' and 'pledges'"),
])
def test_bad_policies_get_messages_an_author_understands(doc, message):
    with pytest.raises(PolicyError) as e:
        parse_policy(doc, "acme.yaml")
    assert message in str(e.value)
    assert str(e.value).startswith("acme.yaml: ")


def test_invalid_yaml_names_line(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("policy: {id: p\npledges: [\n")
    with pytest.raises(PolicyError, match=r"p.yaml: line \d+, column \d+: not valid YAML"):
        load_policy(f)


@pytest.mark.parametrize("text, unit, n", [("3 years", "years", 3), ("24 months", "months", 24),
                                            ("10 business days", "business_days", 10), ("72 hours", "hours", 72),
                                            ("30 calendar days", "days", 30), ("2 weeks", "days", 14)])
def test_durations(text, unit, n):
    d = Duration.model_validate(text)
    assert (d.unit, d.amount) == (unit, n)


def test_linter_reports_contradictions_with_both_quotes_and_strictest_wins():
    doc = {"policy": {"id": "p", "name": "P"}, "pledges": [
        {**BASE, "id": "p.a", "quote": "kept 3 years", "section": "A",
         "params": {"table": "support_tickets", "from": "last_communication", "period": "3 years"}},
        {**BASE, "id": "p.b", "quote": "kept 24 months", "section": "B",
         "params": {"table": "support_tickets", "from": "last_communication", "period": "24 months"}},
        {**BASE, "id": "p.c", "quote": "orders 7 years", "section": "C",
         "params": {"table": "orders", "from": "ordered", "period": "7 years"}},
    ]}
    findings = lint_policy(parse_policy(doc, "t"))
    (f,) = [f for f in findings if f.kind == "contradiction"]
    assert f.pledges == ["p.a", "p.b"] and f.winner == "p.b"
    assert f.quotes == [("A", "kept 3 years"), ("B", "kept 24 months")]
    assert superseded(findings) == {"p.a": "p.b"}
    doc["pledges"][0]["resolution"] = "this"
    assert superseded(lint_policy(parse_policy(doc, "t"))) == {"p.b": "p.a"}


def test_linter_separates_jurisdictions_and_flags_unreachable_filters():
    doc = {"policy": {"id": "p", "name": "P"}, "pledges": [
        {**BASE, "id": "p.eu", "kind": "request_deadline", "check": "deadline", "jurisdictions": ["EU"],
         "params": {"table": "data_subject_requests", "start": "received", "end": "completed", "limit": "1 month"}},
        {**BASE, "id": "p.ca", "kind": "request_deadline", "check": "deadline", "jurisdictions": ["US-CA"],
         "params": {"table": "data_subject_requests", "start": "received", "end": "completed", "limit": "45 days"}},
        {**BASE, "id": "p.u", "params": {"table": "support_tickets", "from": "created", "period": "1 year",
                                         "where": {"channel": "pigeon"}}},
    ]}
    kinds = sorted(f.kind for f in lint_policy(parse_policy(doc, "t")))
    assert kinds == ["unreachable"]


def test_bundled_policies_contradict_themselves_and_the_linter_notices():
    pols = {p.id: p for p in load_all_bundled()}
    for pid in ("lustmonster", "livejasmin"):
        found = [f for f in lint_policy(pols[pid]) if f.kind == "contradiction"]
        assert found, f"{pid}: expected contradictions (e.g. different retention periods for one category)"


def test_worked_example_sixth_policy_loads_and_quotes_its_source():
    path = ROOT / "docs" / "examples" / "acme.yaml"
    pol = load_policy(path)
    text = norm((path.parent / pol.policy.source).read_text(encoding="utf-8"))
    assert all(norm(p.quote) in text for p in pol.pledges)
    assert len(pol.pledges) == 8 and not [f for f in lint_policy(pol) if f.kind == "contradiction"]


def test_partial_overlap_reports_but_does_not_switch_off_the_broader_pledge():
    doc = {"policy": {"id": "p", "name": "P"}, "pledges": [
        {**BASE, "id": "p.all", "kind": "request_deadline", "check": "deadline", "quote": "30 days", "section": "A",
         "params": {"table": "data_subject_requests", "start": "received", "end": "completed", "limit": "30 days"}},
        {**BASE, "id": "p.eu", "kind": "request_deadline", "check": "deadline", "jurisdictions": ["EU"],
         "quote": "aim 20 days", "section": "B",
         "params": {"table": "data_subject_requests", "start": "received", "end": "completed", "limit": "20 days"}},
    ]}
    findings = lint_policy(parse_policy(doc, "t"))
    # a stricter rule for a subset (EU requests) is a refinement, reported apart from contradictions
    assert not [f for f in findings if f.kind == "contradiction"]
    (f,) = [f for f in findings if f.kind == "refinement"]
    assert not f.supersedes
    assert superseded(findings) == {}
