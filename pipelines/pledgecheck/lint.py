"""The policy linter: every statement as a typed claim, contradictions by meaning, refinements,
overlaps, unreachable rules and orphans.

Each pledge becomes one or more claims (its check kind's `claims`, in checks/<name>/check.py);
each unverifiable statement with a `claim:` block becomes a claim too (see pledgecheck.claims).
Two claims are compared when their data can concern the same records (relation() is not
'disjoint') and their predicates have a rule (RULES). Findings:

* **contradiction**: no record can satisfy both (7 vs 10 years for the same records, a minimum
  of 7 years vs a maximum of 5, "we do not rely on implicit consent" vs "by using our website
  you consent", "receives no personal data" vs "receives username and country"). Both quotes,
  both sections and one sentence saying why. Between two pledges of one predicate the strictest
  wins unless one says `resolution: this`; the loser is superseded when the winner's scope
  covers it.
* **refinement**: a stricter rule for a subset of the records (contact forms 12 months inside
  "support 3 years" when only one of them names contact forms), or a deadline restated with
  its extension. Harmless; reported apart.
* **overlap**: the same rule stated twice.

Word values ("at any time", "without undue delay", "as required by law", "as long as needed",
a 0-day grace whose quote states no delay) fix no number, so they are never compared as one.
Two claims taken from one sentence of the policy text are one statement and never contradict.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .checks import available_checks, header
from .checks import get as get_check
from .claims import PREDICATES, Claim, Data, Value, parse_value, pledge_claim, relation, where_key
from .contract import Contract, load_contract
from .policy import ClaimSpec, Pledge, Policy


@dataclass
class Finding:
    kind: str                 # contradiction | refinement | overlap | unreachable | orphan
    policy: str
    pledges: list[str]        # pledge ids, or '<policy>.unverifiable-<n>' for unverifiable statements
    message: str
    quotes: list[tuple[str, str]] = field(default_factory=list)   # (section, quote) per pledge
    winner: str | None = None
    supersedes: bool = False   # the winner's scope covers the loser's: the loser is out of force
    rule: str | None = None    # the predicate(s) compared
    values: list[str] = field(default_factory=list)   # each claim's value as the text states it
    checked: list[bool] = field(default_factory=list)  # per claim: a checked pledge or unverifiable

    def render(self) -> str:
        lines = [f"[{self.kind}] {self.policy}: {self.message}"]
        for i, (pid, (section, quote)) in enumerate(zip(self.pledges, self.quotes)):
            tag = "" if not self.checked or self.checked[i] else "  [unverifiable]"
            lines.append(f"    {pid}  (section: {section}){tag}")
            lines.append(f"        \"{quote}\"")
        if self.winner:
            lines.append(f"    resolution: {self.winner} applies"
                         + ("" if self.supersedes else " where both apply (its check does not measure every record "
                                                       "of the other, so both stay in force)"))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["quotes"] = [{"section": s, "quote": q} for s, q in self.quotes]
        return d


def _apply(spec: ClaimSpec, base: Claim) -> Claim:
    """A YAML claim block over a claim derived from params (or over an empty one)."""
    kw: dict = {}
    if spec.yields_to_law is not None:
        kw["yields_to_law"] = spec.yields_to_law
    if spec.predicate:
        kw["predicate"] = spec.predicate
    if spec.value is not None:
        kw["value"] = parse_value(spec.value)
    if spec.data is not None:
        d, b = spec.data, base.data
        kw["data"] = Data(
            category=d.category or b.category,
            tables=frozenset(d.tables) if d.tables is not None else b.tables,
            where=where_key(d.where) if d.where is not None else b.where,
            scope=frozenset(d.scope) if d.scope is not None else b.scope,
            recipient=d.recipient if d.recipient is not None else b.recipient,
            jurisdictions=(b.jurisdictions if d.jurisdictions is None else
                           None if d.jurisdictions == "all" else frozenset(d.jurisdictions)),
            excludes=b.excludes)
    return base.with_(**kw)


def _specs(claim) -> list[ClaimSpec]:
    return claim if isinstance(claim, list) else [claim] if claim else []


def claims_of(policy: Policy) -> list[Claim]:
    """Every statement of the policy as typed claims: pledges, then unverifiable statements."""
    out: list[Claim] = []
    for p in policy.pledges:
        # the data the check measures stays beside the claim: supersession is decided on it
        derived = [c.with_(extra={"checked_data": c.data}) for c in get_check(p.check).claims(p)]
        specs = _specs(p.claim)
        # a block with the derived claim's predicate (or none) restates it as the text says it;
        # a block with another predicate is one more statement the same sentence makes
        base = derived[0] if derived else pledge_claim(p, "collected", Value("yes", text="yes"))
        over = [s for s in specs if derived and s.predicate in (None, base.predicate)]
        if over:
            derived[0] = _apply(over[0], base)
        # another statement starts from the pledge's category and jurisdictions only
        neutral = base.with_(data=Data(p.category, jurisdictions=base.data.jurisdictions))
        out += derived + [_apply(s, neutral) for s in specs if s not in over]
    for i, u in enumerate(policy.unverifiable, 1):
        for s in _specs(u.claim):
            blank = Claim(f"{policy.id}.unverifiable-{i}", False, s.predicate, Data("user"),
                          parse_value(s.value), " ".join(u.section.split()), " ".join(u.quote.split()))
            out.append(_apply(s, blank))
    return out


# ------------------------------------------------------------------ rules
UPPER = {"max_retention", "response_deadline", "optout_delay", "erasure_delay", "anonymized_after",
         "usage_limit", "consent_validity"}    # a limit: smaller is stricter
LOWER = {"min_retention", "k_anonymity", "min_age"}   # a floor: larger is stricter

Verdict = tuple[str, str, str | None]   # (kind, why, winner ref or None)


def _both(a: Claim, b: Claim) -> str:
    return f"\u201c{a.value}\u201d ({a.section}) vs \u201c{b.value}\u201d ({b.section})"


def _upper(a: Claim, b: Claim, rel: str) -> Verdict | None:
    ia, ib = a.value.interval, b.value.interval
    what = f"{PREDICATES[a.predicate]} for {a.data.describe()}"
    for x, y, inner in ((a, b, "b_in_a"), (b, a, "a_in_b")):
        if x.value.text == "not indefinitely":
            iy = y.value.interval
            if iy is not None and iy[1] == math.inf and rel in ("same", inner):
                return ("contradiction", f"{what}: {_both(x, y)}; data said never to be kept indefinitely is "
                        "said elsewhere to be kept without limit", None)
            return None
    if ia is None or ib is None:
        return None   # a word that fixes no number (at any time, by law, undue delay, unstated)
    if (a.yields_to_law and b.value.legal) or (b.yields_to_law and a.value.legal):
        return None   # "unless otherwise required by law" against a period the law sets
    same_ceiling = ia[1] == ib[1] and (a.value.upto or b.value.upto)   # "up to N" allows less
    if same_ceiling or (ia == ib and a.value.kind == b.value.kind):
        if (a.value.extension or 0) != (b.value.extension or 0):
            return ("refinement", f"{what}: the same limit, one statement also names an extension: {_both(a, b)}", None)
        return ("overlap", f"{what}: the same rule stated twice: {_both(a, b)}", None)
    vague = any(c.value.kind == "word" and c.value.text == "a few days" for c in (a, b))
    if vague and ia[0] <= ib[1] and ib[0] <= ia[1]:
        return None   # "a few days" and 5 days can both be true
    stricter = a if (ia[1], ia[0]) < (ib[1], ib[0]) else b
    looser = b if stricter is a else a
    inner = {"a_in_b": a, "b_in_a": b}.get(rel)
    if inner is stricter and inner.value.interval[1] <= looser.value.interval[0]:
        return ("refinement", f"{what}: a stricter rule for a subset of the records: {_both(a, b)}", stricter.ref)
    records = "the records both cover" if rel == "overlap" else "the same records"
    why = (f"{what}: {_both(a, b)}; the statements set different limits for {records}, "
           "so a record kept (or handled) between them breaks one of them")
    if inner is looser:
        why = (f"{what}: {_both(a, b)}; the narrower statement allows more than the general one, "
               "which covers its records too")
    return ("contradiction", why, _pick(a, b, stricter))


def _lower(a: Claim, b: Claim, rel: str) -> Verdict | None:
    ia, ib = a.value.interval, b.value.interval
    if ia is None or ib is None:
        return None
    what = f"{PREDICATES[a.predicate]} for {a.data.describe()}"
    if ia == ib:
        return ("overlap", f"{what}: the same rule stated twice ({a.value})", None)
    return ("refinement", f"{what}: {_both(a, b)}; the higher floor implies the lower one", None)


def _min_max(a: Claim, b: Claim, rel: str) -> Verdict | None:
    mn, mx = (a, b) if a.predicate == "min_retention" else (b, a)
    imn, imx = mn.value.interval, mx.value.interval
    if imn is None or imx is None or imn[0] <= imx[1]:
        return None
    return ("contradiction",
            f"retention of {mx.data.describe()}: \u201c{mn.value}\u201d ({mn.section}) is a minimum above the "
            f"maximum \u201c{mx.value}\u201d ({mx.section}), so every record is either deleted too early or kept too long",
            None)


def _wider(a: Claim, b: Claim, rel: str) -> Data:
    return b.data if rel == "a_in_b" else a.data


def _mode(a: Claim, b: Claim, rel: str) -> Verdict | None:
    if a.value.text == b.value.text:
        return None
    return ("contradiction",
            f"consent for {_wider(a, b, rel).describe()}: {_both(a, b)}; consent cannot be both explicit (opt-in) "
            "and implied by using the service", None)


def _fields(a: Claim, b: Claim, rel: str) -> Verdict | None:
    if a.value.kind != "fields" or b.value.kind != "fields":
        return None
    fa, fb = a.value.items, b.value.items
    if fa == fb:
        return None
    if not fa or not fb:
        none, some = (a, b) if not fa else (b, a)
        return ("contradiction",
                f"{some.data.recipient or 'the recipient'}: \u201c{none.value}\u201d ({none.section}) vs "
                f"\u201c{some.value}\u201d ({some.section}); a recipient said to receive no personal data is said "
                "elsewhere to receive these fields", None)
    return ("overlap", f"{a.data.recipient}: the lists of fields shared differ: {_both(a, b)}", None)


def _collected(a: Claim, b: Claim, rel: str) -> Verdict | None:
    if a.value.kind == b.value.kind:
        return None
    said = ("the data is said not to be kept and to be kept" if a.predicate == "collected" else
            "the processing is said not to take place and to take place")
    return ("contradiction", f"{_wider(a, b, rel).describe()}: {_both(a, b)}; {said}", None)


RULES: dict[frozenset, Callable[[Claim, Claim, str], Verdict | None]] = {
    **{frozenset([p]): _upper for p in UPPER},
    **{frozenset([p]): _lower for p in LOWER},
    frozenset(["min_retention", "max_retention"]): _min_max,
    frozenset(["consent_mode"]): _mode,
    frozenset(["recipient_fields"]): _fields,
    frozenset(["collected"]): _collected,
    frozenset(["performed"]): _collected,
}


def _pick(a: Claim, b: Claim, stricter: Claim) -> str:
    if a.resolution == "this" and b.resolution != "this":
        return a.ref
    if b.resolution == "this" and a.resolution != "this":
        return b.ref
    return stricter.ref


def _norm(s: str) -> str:
    return " ".join(s.split()).lower()


def _source_lines(policy: Policy) -> list[str]:
    if not policy.path or not policy.policy.source:
        return []
    for base in (Path(policy.path).parent, Path(policy.path).resolve().parents[1] / "shared" / "seeds"):
        f = base / policy.policy.source
        if f.exists():
            return [_norm(x) for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    return []


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")


def _sentences(line: str, start: int, end: int) -> set[int]:
    """Indices of the sentences of `line` that the span [start, end) touches."""
    bounds = [m.end() for m in _SENTENCE_END.finditer(line)]
    return {sum(1 for x in bounds if x <= i) for i in (start, max(start, end - 1))} | {
        k for k in range(len(bounds) + 1) if any(start <= x < end for x in bounds[k - 1:k])}


def _one_statement(a: Claim, b: Claim, lines: list[str]) -> bool:
    """Two claims taken from one sentence of the text are one statement (a range or an "up to"
    split into several pledges): never a contradiction of each other."""
    if a.section != b.section:
        return False
    qa, qb = _norm(a.quote), _norm(b.quote)
    if qa in qb or qb in qa:
        return True
    for ln in lines:
        ia, ib = ln.find(qa), ln.find(qb)
        if ia >= 0 and ib >= 0 and _sentences(ln, ia, ia + len(qa)) & _sentences(ln, ib, ib + len(qb)):
            return True
    return False


def lint_policy(policy: Policy, contract: Contract | None = None) -> list[Finding]:
    contract = contract or load_contract()
    out: list[Finding] = []
    for p in policy.pledges:
        out += _unreachable(policy, p, contract)
    claims = claims_of(policy)
    lines = _source_lines(policy)
    for i, a in enumerate(claims):
        for b in claims[i + 1:]:
            rule = RULES.get(frozenset([a.predicate, b.predicate]))
            if rule is None or a.ref == b.ref:
                continue
            rel = relation(a.data, b.data)
            if rel == "disjoint" or _one_statement(a, b, lines):
                continue
            verdict = rule(a, b, rel)
            if verdict is None:
                continue
            kind, why, winner = verdict
            sup = False
            if not (a.checked and b.checked):
                winner = None   # strictest-wins decides between checked pledges only
            if kind == "contradiction" and winner and a.predicate == b.predicate:
                # the loser is out of force only when the winner's check measures all it measures
                loser = b if winner == a.ref else a
                crel = relation(a.extra["checked_data"], b.extra["checked_data"])
                sup = crel == "same" or (crel == "a_in_b" and loser is a) or (crel == "b_in_a" and loser is b)
            elif kind != "contradiction":
                winner = None
                if a.checked and b.checked and a.predicate == b.predicate and (a.resolution == "this") != (b.resolution == "this"):
                    # a pledge that says `resolution: this` is the one in force for what both measure
                    win, los = (a, b) if a.resolution == "this" else (b, a)
                    crel = relation(win.extra["checked_data"], los.extra["checked_data"])
                    winner = win.ref
                    sup = crel == "same" or crel == ("a_in_b" if los is a else "b_in_a")
            out.append(Finding(kind, policy.id, [a.ref, b.ref], why, [(a.section, a.quote), (b.section, b.quote)],
                               winner, sup, "/".join(sorted({a.predicate, b.predicate})),
                               [str(a.value), str(b.value)], [a.checked, b.checked]))
    return _merge(out)


GROUPED = {"consent_mode", "recipient_fields", "collected", "performed"}


def _merge(findings: list[Finding]) -> list[Finding]:
    """One statement contradicted by several claims of one value (e.g. "by using our website you
    consent" against fifteen opt-in pledges) is one contradiction listing every quote."""
    pair = [f for f in findings if f.kind == "contradiction" and f.rule in GROUPED]
    if not pair:
        return findings
    count: dict[str, int] = {}
    for f in pair:
        for r in f.pledges:
            count[r] = count.get(r, 0) + 1
    groups: dict[tuple, Finding] = {}
    out = []
    for f in findings:
        if f not in pair:
            out.append(f)
            continue
        i = 0 if count[f.pledges[0]] >= count[f.pledges[1]] else 1
        key = (f.rule, f.pledges[i], f.values[1 - i])
        g = groups.get(key)
        if g is None:
            g = groups[key] = Finding(f.kind, f.policy, [f.pledges[i]], f.message, [f.quotes[i]], None, False,
                                      f.rule, [f.values[i]], [f.checked[i]])
            out.append(g)
        else:
            g.message = g.message.split(" [and ", 1)[0] + (
                f" [and {len(g.pledges) - 1} more statements saying \u201c{f.values[1 - i]}\u201d]")
        g.pledges.append(f.pledges[1 - i])
        g.quotes.append(f.quotes[1 - i])
        g.values.append(f.values[1 - i])
        g.checked.append(f.checked[1 - i])
    return out


def _unreachable(policy: Policy, p: Pledge, contract: Contract) -> list[Finding]:
    out = []
    table = getattr(p.params, "table", None)
    t = contract.tables.get(table) if table else None
    if t is None:
        return out
    if p.jurisdictions != "all" and "jurisdiction" not in t.columns:
        out.append(Finding("unreachable", policy.id, [p.id],
                           f"jurisdictions {p.jurisdictions} cannot be applied: {t.name} has no jurisdiction "
                           "column, so the pledge is checked for every jurisdiction", [(p.section, p.quote)]))
    for col, val in (getattr(p.params, "where", {}) or {}).items():
        allowed = t.columns[col].values if col in t.columns else None
        vals = val if isinstance(val, list) else [val]
        if allowed and not {str(v) for v in vals} & set(allowed):
            out.append(Finding("unreachable", policy.id, [p.id],
                               f"where {col} in {vals}: none of these values can occur (allowed: {list(allowed)})",
                               [(p.section, p.quote)]))
    return out


def superseded(findings: list[Finding]) -> dict[str, str]:
    """pledge id -> the pledge that wins over it (strictest wins, or resolution: this).

    Only a winner whose scope covers the loser's whole scope supersedes it; when scopes only
    partly overlap, both stay in force (the contradiction is still reported)."""
    out: dict[str, str] = {}
    for f in findings:
        if f.kind == "contradiction" and f.winner and f.supersedes:
            for pid in f.pledges:
                if pid != f.winner:
                    out.setdefault(pid, f.winner)
    return out


def orphans(policies: list[Policy]) -> list[Finding]:
    """Checks no pledge uses, and pledges whose check has no SQL file, or whose SQL header does
    not list them (for the bundled policies)."""
    out: list[Finding] = []
    checks = set(available_checks())
    used: dict[str, set[str]] = {c: set() for c in checks}
    for pol in policies:
        for p in pol.pledges:
            if p.check not in checks:
                out.append(Finding("orphan", pol.id, [p.id], f"no SQL check named {p.check!r}"))
            else:
                used[p.check].add(p.id)
    for c, ids in used.items():
        if not ids:
            out.append(Finding("orphan", "-", [], f"check {c} verifies no pledge"))
        listed = {w for w in header(c).get("verifies", "").replace(",", " ").split() if "." in w}
        for pid in sorted(ids - listed):
            out.append(Finding("orphan", pid.split(".")[0], [pid], f"checks/{c}/check.sql does not list {pid} "
                                                                    "in its 'verifies' header"))
        for pid in sorted(listed - ids):
            out.append(Finding("orphan", pid.split(".")[0], [pid], f"checks/{c}/check.sql lists {pid}, "
                                                                    "which no bundled pledge with that check has"))
    return out


def sync_headers(policies: list[Policy]) -> list[str]:
    """Rewrite each check's `-- verifies:` header from the bundled policies; returns changed checks."""
    from .checks import template_path, template_text

    by_check: dict[str, list[str]] = {}
    for pol in policies:
        for p in pol.pledges:
            by_check.setdefault(p.check, []).append(p.id)
    changed = []
    for c in available_checks():
        path = template_path(c)
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        start = next(i for i, ln in enumerate(lines) if ln.startswith("-- verifies:"))
        end = start + 1
        while end < len(lines) and lines[end].startswith("--   "):
            end += 1
        ids = sorted(by_check.get(c, []))
        new = (["-- verifies:\n"] + [f"--   {pid}\n" for pid in ids]) if ids else ["-- verifies: (none)\n"]
        if lines[start:end] != new:
            lines[start:end] = new
            path.write_text("".join(lines), encoding="utf-8")
            changed.append(c)
    template_text.cache_clear()
    return changed

