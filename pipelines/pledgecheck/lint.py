"""The policy linter: contradictions, overlaps, unreachable rules and orphans.

Two pledges of one policy **rule on the same thing** when they use the same check on the same
table and anchors, their jurisdictions overlap and their `where` filters can select a common
row. If their numbers differ (7 vs 10 years, 30 days vs one month) that is a
**contradiction**: both quotes and sections are reported and the strictest pledge wins unless
one says `resolution: this`. The loser is kept in the report but marked superseded.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .checks import available_checks, header
from .checks import get as get_check
from .contract import Contract, load_contract
from .policy import Pledge, Policy


@dataclass
class Finding:
    kind: str                 # contradiction | overlap | unreachable | orphan
    policy: str
    pledges: list[str]
    message: str
    quotes: list[tuple[str, str]] = field(default_factory=list)   # (section, quote) per pledge
    winner: str | None = None
    supersedes: bool = False   # the winner's scope covers the loser's: the loser is out of force

    def render(self) -> str:
        lines = [f"[{self.kind}] {self.policy}: {self.message}"]
        for pid, (section, quote) in zip(self.pledges, self.quotes):
            lines.append(f"    {pid}  (section: {section})")
            lines.append(f"        \"{quote}\"")
        if self.winner:
            lines.append(f"    resolution: {self.winner} applies"
                         + ("" if self.supersedes else " where both apply (scopes overlap only partly; both stay in force)"))
        return "\n".join(lines)


def rule_value(p: Pledge) -> tuple[float, bool, str] | None:
    """(value used for comparison, smaller-is-stricter?, human text) of a pledge's rule."""
    r = get_check(p.check).rule(p.params)
    return None if r is None else (r.value, r.smaller_is_stricter, r.text)


def scope_key(p: Pledge) -> tuple:
    """What a pledge rules on, without its number (its check's `terms`) and filters."""
    d = p.params.model_dump(by_alias=True, exclude={"where", *get_check(p.check).terms})
    return tuple(sorted((k, str(v)) for k, v in d.items()))


def _overlap(a: Pledge, b: Pledge) -> bool:
    ja = None if a.jurisdictions == "all" else set(a.jurisdictions)
    jb = None if b.jurisdictions == "all" else set(b.jurisdictions)
    if ja is not None and jb is not None and not ja & jb:
        return False
    wa, wb = getattr(a.params, "where", {}) or {}, getattr(b.params, "where", {}) or {}
    for col in set(wa) & set(wb):
        va = {str(v) for v in (wa[col] if isinstance(wa[col], list) else [wa[col]])}
        vb = {str(v) for v in (wb[col] if isinstance(wb[col], list) else [wb[col]])}
        if not va & vb:
            return False
    return True


def lint_policy(policy: Policy, contract: Contract | None = None) -> list[Finding]:
    contract = contract or load_contract()
    out: list[Finding] = []
    groups: dict[tuple, list[Pledge]] = {}
    for p in policy.pledges:
        groups.setdefault(scope_key(p), []).append(p)
        out += _unreachable(policy, p, contract)
    for members in groups.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if not _overlap(a, b):
                    continue
                ra, rb = rule_value(a), rule_value(b)
                quotes = [(a.section, a.quote), (b.section, b.quote)]
                if ra is None or rb is None or ra[0] == rb[0]:
                    out.append(Finding("overlap", policy.id, [a.id, b.id],
                                       "two pledges rule on the same records with the same terms", quotes))
                    continue
                winner = _winner(a, b, ra, rb)
                loser = b if winner == a.id else a
                win = a if winner == a.id else b
                out.append(Finding(
                    "contradiction", policy.id, [a.id, b.id],
                    f"{a.check} on {getattr(a.params, 'table', 'the export')}: {ra[2]} vs {rb[2]}",
                    quotes, winner, supersedes=_covers(win, loser)))
    return out


def _covers(w: Pledge, x: Pledge) -> bool:
    """True when every record `x` rules on is also ruled on by `w` (w's scope contains x's)."""
    if w.jurisdictions != "all" and (x.jurisdictions == "all" or not set(x.jurisdictions) <= set(w.jurisdictions)):
        return False
    ww, wx = getattr(w.params, "where", {}) or {}, getattr(x.params, "where", {}) or {}
    for col, val in ww.items():
        if col not in wx:
            return False
        vw = {str(v) for v in (val if isinstance(val, list) else [val])}
        vx = {str(v) for v in (wx[col] if isinstance(wx[col], list) else [wx[col]])}
        if not vx <= vw:
            return False
    return True


def _winner(a: Pledge, b: Pledge, ra, rb) -> str:
    if a.resolution == "this" and b.resolution != "this":
        return a.id
    if b.resolution == "this" and a.resolution != "this":
        return b.id
    smaller_stricter = ra[1]
    a_stricter = ra[0] < rb[0] if smaller_stricter else ra[0] > rb[0]
    return a.id if a_stricter else b.id


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

