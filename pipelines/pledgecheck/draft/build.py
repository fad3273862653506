"""Assemble a draft policy file: pledges with ids, the unverifiable list, the calendar guess."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import yaml

from ..errors import PolicyError
from .rules import Drafter, Proposal, Unverifiable
from . import grammar
from .segment import is_html, norm, plain, segment

UNIT_TAG = {"years": "y", "months": "m", "days": "d", "business_days": "bd", "hours": "h"}
HEADER = """\
# DRAFT written by `pledgecheck draft` from {source}: review every pledge before use.
#
# Each pledge quotes the sentence it was read from and its section heading. Where the drafter
# could not decide a value (which table, the event a period runs from, a consent purpose, the
# holiday calendar) it filled in its best candidate and listed the question under `todo:`
# with the other candidates. Review each one: fix the value, then delete the todo line.
# `pledgecheck lint` and `pledgecheck run` print how many todos are left ("draft: N TODOs").
#
# Statements that promise something no export can show are under `unverifiable` with a
# proposed reason; move one back to a pledge if your export can show it, or drop what is not
# a promise. The drafter reads periods, deadlines, ages, counts and negative pledges; consent
# requirements without a period ("only with your consent") are not drafted: add them by hand
# (docs/POLICIES.md, consent_coverage).
"""


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-") or "policy"


def _num_tag(d: str) -> str:
    n, unit = d.split(" ", 1)
    unit = unit.replace(" ", "_")
    unit = unit if unit.endswith("s") else unit + "s"
    return f"{n}{UNIT_TAG.get(unit, unit)}"


def _pledge_id(pid: str, p: Proposal) -> str:
    prm = p.params
    parts = [p.check.replace("_", "-")]
    if isinstance(prm.get("table"), str):
        parts.append(prm["table"].replace("_", "-"))
    if "column" in prm:
        parts.append(prm["column"].replace("_", "-"))
    for k in ("period", "limit", "validity", "grace", "rotation"):
        if k in prm:
            parts.append(_num_tag(prm[k]))
    for k in ("min_age", "max"):
        if k in prm:
            parts.append(str(prm[k]))
    return f"{pid}." + "-".join(parts)


def _calendar(text: str) -> tuple[str | None, str]:
    """The holiday calendar of the country the text names most (an address, a regulator)."""
    from holidays.registry import COUNTRIES

    counts: Counter = Counter()
    low = text
    for _, (cls, code, *_rest) in COUNTRIES.items():
        name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", cls)
        n = len(re.findall(rf"\b{re.escape(name)}\b", low))
        if n:
            counts[code] += n
    if not counts:
        return None, "no country named in the text"
    (code, n), *rest = counts.most_common()
    others = ", ".join(f"{c} ({k})" for c, k in rest[:4])
    return code, f"{code} is the country the text names most ({n} mentions" + (f"; then {others})" if others else ")")


def draft_text(text: str, policy_id: str = "draft", name: str | None = None, source: str | None = None,
               fmt: str | None = None) -> dict:
    """A draft policy (a dict in the policy YAML format) from a policy's text."""
    if not re.match(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$", policy_id):
        raise PolicyError(f"policy id {policy_id!r}: use lowercase letters, digits and '-'")
    drafter = Drafter()
    units = segment(text, fmt)
    pledges: list[dict] = []
    unverifiable: list[dict] = []
    seen_p: set = set()
    seen_u: set = set()
    ids: Counter = Counter()
    needs_calendar = []
    last_cell: tuple[int, dict] | None = None
    no_early: list = []
    for u in units:
        got = drafter.read(u)
        if not got and NO_EARLY_DELETION.search(plain(u.text)) and not grammar.periods(plain(u.text)):
            no_early.append(u)
        if u.kind == "cell" and last_cell and last_cell[0] == u.block - 1:
            # a table flattened one cell per line: "Account details (inactive > 24 mo.)" then
            # "Deleted after 24 months of inactivity" are one row and one pledge
            prev = last_cell[1]
            same = [x for x in got if isinstance(x, Proposal) and x.check == prev["check"] and x.params == prev["params"]]
            if same:
                prev["quote"] = f"{norm(prev['quote'])} {u.text}" if u.text not in prev["quote"] else prev["quote"]
                got = [x for x in got if x not in same]
        for item in got:
            if isinstance(item, Unverifiable):
                key = norm(item.quote)
                if key in seen_u:
                    continue
                seen_u.add(key)
                unverifiable.append({"quote": item.quote, "section": item.section or "(no heading)",
                                     "reason": item.reason})
                continue
            key = (item.check, repr(sorted(item.params.items())), norm(item.quote), item.section)
            if key in seen_p:
                continue
            seen_p.add(key)
            d: dict = {"id": _pledge_id(policy_id, item), "kind": item.kind, "check": item.check, "category": item.category,
                       "params": item.params, "severity": "critical", "quote": item.quote,
                       "section": item.section or "(no heading)"}
            if item.note:
                d["note"] = item.note
            if item.todo:
                d["todo"] = list(item.todo)
            if any("business" in str(v) for v in item.params.values()) or "business" in str(
                    item.params.get("extension", "")):
                needs_calendar.append(d)
            pledges.append(d)
            if u.kind == "cell":
                last_cell = (u.block, d)
    pledges += _minimums_from_sections(drafter, policy_id, pledges, no_early)
    pledges = merge_repeats(pledges)
    for d in pledges:
        ids[d["id"]] += 1
        if ids[d["id"]] > 1:
            d["id"] = f"{d['id']}-{ids[d['id']]}"
    kept = {id(d) for d in pledges}
    needs_calendar = [d for d in needs_calendar if id(d) in kept]
    # a pledge quoted from a sentence that also gave an unverifiable reading stays a pledge
    quoted = {norm(q) for p in pledges for q in [p["quote"], *(s["quote"] for s in p.get("also_stated", []))]}
    unverifiable = [u for u in unverifiable if norm(u["quote"]) not in quoted]
    meta: dict = {"id": policy_id, "name": name or f"{policy_id} privacy policy (draft)"}
    if source:
        meta["source"] = source
    if needs_calendar:
        code, why = _calendar(text if not is_html(text) else re.sub(r"<[^>]+>", " ", text))
        meta["calendar"] = code or "TODO"
        for d in needs_calendar:
            d.setdefault("todo", []).append(
                f"calendar: business days need the holiday calendar of your company; {why}"
                + ("" if code else "; set policy.calendar (e.g. GB-ENG, LU, US-CA)"))
    return {"policy": meta, "pledges": pledges, "unverifiable": unverifiable}


# "Deletion of this data prior to expiration is not permitted", "we may not erase these records before
# the end of the retention period": the section's retention period is also a minimum
NO_EARLY_DELETION = re.compile(
    r"(?i)^(?=.*\b(?:delet|eras|destr|purg|remov)\w*)"
    r"(?=.*\b(?:prior\s+to|before)\s+(?:the\s+|its\s+|their\s+)?(?:expir\w*|end\s+of|lapse|applicable|relevant|retention))"
    r"(?=.*\b(?:not\s+(?:be\s+)?(?:permitted|allowed|possible)|prohibit\w*|cannot|can['’]t|may\s+not|must\s+not|will\s+not|"
    r"won['’]t|never|forbidden|unable))")


def _days(d: str) -> float:
    n, unit = d.split(" ", 1)
    return int(n) * {"y": 365, "m": 30.4, "d": 1, "b": 1.4, "h": 1 / 24}[unit[0]]


def _minimums_from_sections(drafter: Drafter, policy_id: str, pledges: list[dict], units: list) -> list[dict]:
    """A sentence forbidding deletion before the retention period expires makes the retention
    period stated in its section a minimum too: one minimum_retention pledge per table, at the
    shortest period the section states for it (a range gives no single period: skipped), on
    tables whose export records deletions."""
    out = []
    for u in units:
        section = u.section or "(no heading)"
        shortest: dict[str, dict] = {}
        for d in pledges:
            prm = d["params"]
            if d["check"] != "retention" or d["section"] != section or (d.get("note") or "").startswith("a range"):
                continue
            if "deleted" not in drafter.contract.tables[prm["table"]].anchors:
                continue
            if prm["table"] not in shortest or _days(prm["period"]) < _days(shortest[prm["table"]]["params"]["period"]):
                shortest[prm["table"]] = d
        for table, d in shortest.items():
            prm = {"table": table, "from": d["params"]["from"], "period": d["params"]["period"]}
            item = Proposal("retention", "minimum_retention", prm, d["category"], u.text, section,
                            [x for x in d.get("todo", []) if x.startswith("params.from")])
            m = {"id": _pledge_id(policy_id, item), "kind": item.kind, "check": item.check, "category": item.category,
                 "params": prm, "severity": "critical", "quote": u.text, "section": section,
                 "note": f"the period of this section's retention pledge ({d['quote']}) as a minimum: the text "
                         "forbids deletion before it expires"}
            if item.todo:
                m["todo"] = item.todo
            out.append(m)
    return out


def _todo_field(line: str) -> str:
    return line.split(":", 1)[0].strip()


def merge_repeats(pledges: list[dict]) -> list[dict]:
    """One pledge per (kind, check, params): a policy often states the same rule several times
    (a heading line, a bullet, a summary table). The first statement keeps `quote` and
    `section`; the others are listed under `also_stated`. A todo stays only when every
    statement left that field undecided: one that names the anchor or the table decides it."""
    out: list[dict] = []
    first: dict[tuple, dict] = {}
    todo_fields: dict[int, list[set]] = {}
    for d in pledges:
        key = (d["kind"], d["check"], repr(sorted(d["params"].items(), key=lambda kv: kv[0])))
        fields = {_todo_field(t) for t in d.get("todo", [])}
        keep = first.get(key)
        if keep is None:
            first[key] = d
            todo_fields[id(d)] = [fields]
            out.append(d)
            continue
        where = (norm(d["quote"]), d["section"])
        if where not in [(norm(s["quote"]), s["section"]) for s in [keep, *keep.get("also_stated", [])]]:
            keep.setdefault("also_stated", []).append({"quote": d["quote"], "section": d["section"]})
        todo_fields[id(keep)].append(fields)
    for d in out:
        sets = todo_fields[id(d)]
        if len(sets) > 1 and d.get("todo"):
            undecided = set.intersection(*sets)
            d["todo"] = [t for t in d["todo"] if _todo_field(t) in undecided]
            if not d["todo"]:
                del d["todo"]
    return out


def render_yaml(doc: dict, source: str = "the policy text") -> str:
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)
    return HEADER.format(source=source) + "\n" + body


def draft_file(path: str | Path, out: str | Path | None = None, policy_id: str | None = None,
               fmt: str | None = None) -> tuple[dict, str]:
    """Draft from a file; writes `out` when given. Returns the document and its YAML."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PolicyError(f"{p}: cannot read the policy text ({getattr(e, 'strerror', None) or e})") from None
    if not text.strip():
        raise PolicyError(f"{p}: the policy text is empty")
    if fmt is None and p.suffix.lower() in (".html", ".htm"):
        fmt = "html"
    pid = policy_id or _slug(p.stem)
    source = None
    if out is not None:
        import os

        source = os.path.relpath(p.resolve(), Path(out).resolve().parent)
    doc = draft_text(text, pid, source=source, fmt=fmt)
    rendered = render_yaml(doc, p.name)
    if out is not None:
        try:
            Path(out).parent.mkdir(parents=True, exist_ok=True)   # e.g. -o policies/acme.yaml in a new project
            Path(out).write_text(rendered, encoding="utf-8")
        except OSError as e:
            raise PolicyError(f"{out}: cannot write the draft ({e.strerror})") from None
    return doc, rendered


def todo_count(policy) -> int:
    """How many todo lines a (drafted) policy still has."""
    return sum(len(p.todo) for p in policy.pledges)
