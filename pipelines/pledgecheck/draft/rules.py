"""From the units of a policy text to proposed pledges and unverifiable promises.

Rules, in the order they are tried on each unit (a sentence, list item or table row):

1. ages ("aged 18 and over", "under the age of 16", "adults")       -> minimum_age
2. counts ("limited to 10 downloads per calendar month")            -> usage_limit
3. periods, by what the sentence is about:
   consent validity ("consent is valid for 12 months")              -> consent_coverage validity
   opt-out delay ("allow up to 5 days to unsubscribe")              -> optout_latency grace
   backups ("backups are rotated within 30-90 days")                -> backup_rotation
   an action on a record that has a completion event
   ("we respond to requests within 30 days", "notify ... within 72 hours") -> deadline
   keeping or deleting data ("kept 3 years", "deleted after 24 months of inactivity",
   a row of a retention table)                                       -> retention
   minimums ("at least 6 years"), cookie lifetimes, periods of data no export holds
                                                                     -> unverifiable
4. no period: "indefinitely"/"permanently", "until ..." ("until consent is withdrawn"),
   negative pledges ("we do not sell / collect / store ...")        -> a check when the object
   names one (card numbers, a contract column, selling data), else unverifiable
5. opt-out at any time / immediately                                 -> optout_latency (grace 0)

A range ("36-60 months") is pledged at its upper bound. What a rule cannot decide (several
tables fit, no word names the anchor, no calendar) is filled with the best candidate and
recorded in the pledge's `todo` list with the other candidates.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..contract import Contract, load_contract
from ..policy import CHECK_PARAMS
from . import grammar
from .segment import Unit, plain
from .vocab import ANCHOR_WORDS, END_WORDS, LEXICON, NOTIFY_WHO, anchor_for, expand, fides_category, vocabulary, words
from .vocab import build as build_vocabulary

RETAIN = re.compile(r"(?i)\b(retain|retention|retained|keep|keeps|kept|store[sd]?|storing|storage|hold|held|delet|eras|"
                    r"purg|destroy|anonymi[sz]|remov|archiv|maintain|preserv|dispos|lifespan|expire|expiry|overwrit)\w*")
DEADLINE_VERB = re.compile(r"(?i)\b(respond|response|reply|answer|acknowledg|notif|inform(?!ation)|fulfil|complet|"
                           r"process|handle|resolv|action|honou?r|comply|confirm|provid|deliver|suppl(?:y|ie)|tell|alert)\w*")
WITHIN = re.compile(r"(?i)\b(within|no later than|not later than|in no more than|at the latest|up to|in)\s*$")
CONSENT = re.compile(r"(?i)\bconsent\w*\b")
VALIDITY = re.compile(r"(?i)\b(valid|validity|expire|expires|renew|renewed|re-?ask|refresh|re-?confirm|re-?prompt|lasts|lasting|again|every)\w*")
OPTOUT = re.compile(r"(?i)\b(unsubscrib\w*|opt(?:-|\s)?out|opt(?:s|ed)?\s+out|stop receiving|suppression list)\b")
ANYTIME = re.compile(r"(?i)\b(at any time|any time|immediately|without delay|promptly|straight away)\b")
COOKIE_LIFE = re.compile(r"(?i)\bcookie")
COOKIE_LIFE2 = re.compile(r"(?i)\b(expir\w*|lifespan|lifetime|duration|persist\w*|last(?:s)? for|stored on your|valid for)\b")
_ADV = r"(?:(?:knowingly|directly|currently|ever|intentionally|explicitly|actively|otherwise|routinely|deliberately|"\
       r"generally|and will not|and won['’]t|,)\s*)*"
_VERBS = (r"sell|rent|trade|share|disclose|collect|store|keep|retain|process|use|request|transfer|save|record|hold|log|"
          r"track|receive")
NEG_PLEDGE = re.compile(rf"(?i)\b(?:do|does|will|shall|would|can|did)\s*(?:not|n['’]t)\s+{_ADV}(?P<verb>{_VERBS})\b"
                        r"(?P<obj>[^.;]*)")
NEVER_VERB = re.compile(rf"(?i)\bnever\s+{_ADV}(?P<verb>{_VERBS})\b(?P<obj>[^.;]*)")
# passive: "Video from webcam shows is never stored", "Your data will not be sold"
_PARTICIPLES = {"sold": "sell", "rented": "rent", "traded": "trade", "shared": "share", "disclosed": "disclose",
                "collected": "collect", "stored": "store", "kept": "keep", "retained": "retain", "processed": "process",
                "used": "use", "transferred": "transfer", "saved": "save", "recorded": "record", "held": "hold",
                "logged": "log", "tracked": "track"}
NEG_PASSIVE = re.compile(rf"(?i)\b(?:is|are|will\s+(?:never|not)\s+be|shall\s+(?:never|not)\s+be|be)\s*(?:never|not)?\s+"
                         rf"{_ADV}(?P<verb>{'|'.join(_PARTICIPLES)})\b")
SELL = re.compile(r"(?i)^(sell|rent|trade)$")
CARD = re.compile(r"(?i)\b(card numbers?|credit card numbers?|full (?:card|credit card|payment card) numbers?|full number|"
                  r"\bpans?\b|primary account numbers?|complete card numbers?|card details|payment card details)")
ADULTS = re.compile(r"(?i)\b(?:for|to|by|intended for|meant for|only for)\s+adults\b|\badults only\b")
UNTIL = re.compile(r"(?i)\b(until|as long as|while)\b(?P<event>[^.;,]{3,80})")
AGGREGATE_SHARE = re.compile(r"(?i)\b(share|shares|provide|disclose|sell|give|make available)\b[^.;]{0,60}\baggregat\w*"
                             r"|\baggregat\w*[^.;]{0,60}\b(shared|provided|disclosed|given)\b")
IP_ADDR = re.compile(r"(?i)\bIP(?:s|\s*-?\s*address(?:es)?|v[46])?\b(?!\s*(?:rights?|law)\b)")
ANONYMIZE = re.compile(r"(?i)\b(anonymi[sz]\w*|truncat\w*|mask(?:s|ed|ing)?|shorten\w*|de-?identif\w*)\b")
DELETE = re.compile(r"(?i)\b(delet|eras|purg|destroy|remov)\w*")
# what is left after the data is erased: "remain for 120 days after your account is deleted",
# "erased 90 days after you close your account", "until you close your account, and up to 30 days after"
_ACCT = r"(?:account|membership|subscription|profile)"
ERASURE_EVENT = re.compile(
    rf"(?i)\b(?:clos|terminat|cancel|delet|eras|remov)\w*\s+(?:of\s+)?(?:your\s+|the\s+|an?\s+|their\s+)?(?:\w+\s+)?{_ACCT}s?\b"
    rf"|\b{_ACCT}\s+(?:is|has\s+been|was|gets|are)\s+(?:closed|deleted|terminated|cancell?ed|erased|removed)\b"
    r"|\b(?:deletion|erasure)\b(?!\s+(?:of\s+)?(?:the\s+)?(?:ticket|order|message|request)s?\b)"
    r"|\b(?:delet|eras)\w*\s+(?:your|the|their)\s+(?:personal\s+)?(?:data|information)\b"
    r"|\b(?:data|information)\s+(?:is|has\s+been|was|are)\s+(?:deleted|erased)\b")
REMAIN = re.compile(r"(?i)\b(?:remain|remains|persist|persists|linger|lingers|left)\b")


def after_erasure(text: str, p) -> bool:
    """Does the period run from the erasure of the data (or the closure of the account)?"""
    after, before = text[p.end:], text[:p.start]
    m = re.match(r"(?i)\s*(?:after|following|since|from|of)\b", after)
    if m and ERASURE_EVENT.search(after[m.end():m.end() + 50]):
        return True
    if re.match(r"(?i)\s*(?:after|afterwards|thereafter)\s*\W*$", after) and ERASURE_EVENT.search(before):
        return True
    return bool(REMAIN.search(text)) and bool(re.search(r"(?i)\b(?:after|following|once)\b", text)) \
        and bool(ERASURE_EVENT.search(text))


MIN_SCORE = 3.5   # one word of a table's name, or two of its columns / description


@dataclass
class Proposal:
    kind: str
    check: str
    params: dict
    category: str
    quote: str
    section: str
    todo: list[str] = field(default_factory=list)
    note: str | None = None


@dataclass
class Unverifiable:
    quote: str
    section: str
    reason: str


def _levels(u: Unit) -> list[tuple[str, str]]:
    """Where to look for what a unit is about, nearest first: the unit, its lead-in or preceding
    cell, its heading, the headings above."""
    out = [("text", plain(u.text))]
    if u.context:
        out.append(("context", plain(u.context)))
    if u.section:
        out.append(("section", u.section))
    for p in reversed(u.parents):
        out.append(("section", p))
    return out


def _quote(u: Unit, used: str) -> str:
    if u.kind == "cell" and used == "context" and u.context:
        return f"{u.context} {u.text}"
    return u.text


def _extension_by(text: str, p, e) -> str:
    """'extendable by 45 days' adds 45 days; 'may take up to 60 days' (same unit) adds 60 - limit."""
    by = e.amount
    more = re.search(r"(?i)\b(more|additional|further|another|extra)\b", text[max(0, e.start - 12):e.end + 8])
    total = re.search(r"(?i)\b(total|in all|altogether)\b", text[e.end:e.end + 20])
    if e.unit == p.unit and e.amount > p.amount and (total or (
            not more and re.search(r"(?i)\bup\s+to\s*$", text[:e.start]))):
        by = e.amount - p.amount
    unit = e.unit.replace("_", " ")
    return f"{by} {unit[:-1] if by == 1 else unit}"


def _range_todo(field: str, p, lower: bool = False) -> list[str]:
    """A range ("12–36 months") is one pledge: a limit (retention, deadline, rotation, validity)
    at its upper bound, the longest time the text allows; a minimum at its lower bound, the
    shortest. Both bounds are listed for the reviewer."""
    if p.low is None:
        return []
    unit = p.unit.replace("_", " ")
    lo = f"{p.low} {unit[:-1] if p.low == 1 else unit}"
    if lower:
        return [f"{field}: a range ({lo} to {p.duration}) stated as a minimum: the lower bound {lo} chosen; "
                f"candidates: {lo}, {p.duration}"]
    return [f"{field}: a range ({lo} to {p.duration}): the upper bound {p.duration} chosen (the longest time "
            f"the text allows); candidates: {p.duration}, {lo}"]


def _low(p) -> str:
    unit = p.unit.replace("_", " ")
    return f"{p.low} {unit[:-1] if p.low == 1 else unit}"


class Drafter:
    def __init__(self, contract: Contract | None = None) -> None:
        self.last_deadline: tuple[int, Proposal] | None = None
        self.contract = contract or load_contract()
        self.vocab = vocabulary() if contract is None else build_vocabulary(contract)
        c = self.contract
        # tables whose anchors name a completion of an action: where deadlines are measured
        ends = {t for ts in END_WORDS.values() for t in ts}
        self.deadline_tables = [t.name for t in c.tables.values()
                                if any(p in ends for a in t.anchors for p in a.split("_"))]
        self.purpose_tables = [t.name for t in c.tables.values() if "purpose" in t.columns and "action" not in t.columns]
        consent_log = [t for t in c.tables.values() if "purpose" in t.columns and "action" in t.columns]
        self.purposes = list(consent_log[0].columns["purpose"].values or ()) if consent_log else []
        self.default_table = {name: m.model_fields["table"].default for name, m in CHECK_PARAMS.items()
                              if "table" in m.model_fields and isinstance(m.model_fields["table"].default, str)}

    # ------------------------------------------------------------ helpers
    def tables_for(self, u: Unit, window: str | None = None, among: list[str] | None = None,
                   skip_text: bool = False) -> tuple[list[str], str, float]:
        levels = _levels(u)
        if window:
            levels.insert(0, ("window", window))
        for k, (where, text) in enumerate(levels):
            if skip_text and where in ("text", "window"):
                continue
            best, score = self.vocab.best(text, among)
            if best and score >= MIN_SCORE:
                if len(best) > 1:   # a tie: let the surrounding text break it
                    for _, outer in levels[k + 1:]:
                        b2, s2 = self.vocab.best(outer, best)
                        if b2 and s2 >= MIN_SCORE:
                            rest = [t for t in best if t not in b2]
                            self.subject = text
                            return b2 + rest if len(b2) > 1 else b2, where, score
                self.subject = text
                return best, where, score
        self.subject = ""
        return [], "", 0.0

    def _choose(self, best: list[str], text: str) -> tuple[list[str], list[str]]:
        """Tables to pledge on and the todo notes. A class word names several tables at once
        ('financial' data: orders and payments; 'transaction': orders and payments): each table
        whose name it names gets the pledge. Otherwise a tie is a todo."""
        named: list[str] = []
        for w in words(text):
            targets = LEXICON.get(w, ())
            if len(targets) > 1:
                for t, bag in self.vocab.terms.items():
                    if any(bag.get(x, 0) >= 1.5 for x in targets) and t not in named:
                        named.append(t)
        if len(named) > 1 and best and best[0] in named:
            return [t for t in best if t in named] + [t for t in named if t not in best], []
        # a coordination names one table per part: "support e-mails and chat transcripts"
        head = re.sub(r"^\s*(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVXL]{1,5}\.|[A-Z]\.)\s+", "", text)  # heading number
        head = re.split(r"(?i):|\d", head)[0]  # the subject
        head = RETAIN.split(head)[0]
        head = re.split(r"(?i)\b(?:is|are|will|shall|may|must|we|for|up to|within)\b", head)[0]
        parts = [x for x in re.split(r"(?i)\s*(?:&|\band\b)\s*", head) if x.strip()]
        if len(parts) > 1:
            per = []
            for part in parts:
                b, sc = self.vocab.best(part)
                if b and sc >= MIN_SCORE and len(b) == 1 and b[0] not in per:
                    per.append(b[0])
            if len(per) > 1 and best and best[0] in per:
                return per, []
        if len(best) <= 1:
            return best, []
        return best[:1], [f"params.table: {best[0]} chosen; other candidates: {', '.join(best[1:])}"]

    def category(self, table: str, text: str) -> tuple[str, list[str]]:
        cat, _ = fides_category(table, text, self.contract)
        return cat, []

    # ------------------------------------------------------------ per unit
    def read(self, u: Unit) -> list[Proposal | Unverifiable]:
        text = plain(u.text)
        periods = grammar.periods(text)
        out: list[Proposal | Unverifiable] = []
        age = self._age(u, text)
        if age:
            return age
        cnt = grammar.counts(text)
        if cnt:
            return self._usage(u, cnt)
        if periods:
            return self._with_periods(u, text, periods)
        out += self._without_period(u, text)
        return out

    def _age(self, u: Unit, text: str) -> list:
        found = grammar.ages(text)
        if not found:
            if ADULTS.search(text) and re.search(r"(?i)\b(site|website|service|services|platform|app|products?)\b", text):
                n, todo = 18, ["params.min_age: 'adults' read as 18; check the age of majority where you operate"]
            else:
                return []
        else:
            if not re.search(r"(?i)\b(age|aged|old|adults?|minors?|child|children|under|older|younger)\b", text):
                return []
            scope = f"{text} {u.context if u.kind == 'item' else ''}"
            if not (re.search(r"(?i)\b(we|our|us|you|your)\b", scope) or re.search(
                    r"(?i)\b(users?|members?|customers?|visitors?|players?|subscribers?)\b[^.;]*\b(must|need to|have to|"
                    r"are required|shall)\b", scope)):
                return []   # a statement about the law ("Article 8 ... children under 16"), not a pledge
            n, todo = found[0][0], []
        check = "minimum_age"
        table = self.default_table.get(check)
        params = {"min_age": n}
        if table:
            params["table"] = table
        cat = "user.demographic.date_of_birth" if "user.demographic.date_of_birth" in _fides() else "user"
        return [Proposal("age", check, params, cat, u.text, u.section, todo)]

    def _usage(self, u: Unit, cnt) -> list:
        out = []
        for n, what, per in cnt:
            best, _ = self.vocab.best(what)
            table = best[0] if best else self.default_table.get("usage_limit")
            todo = [] if best else [f"params.table: nothing names '{what}'; {table} is the check's default"]
            cat, t2 = self.category(table, what)
            out.append(Proposal("usage_limit", "usage_limit", {"table": table, "per": per, "max": n}, cat,
                                u.text, u.section, todo + t2))
        return out

    def _with_periods(self, u: Unit, text: str, periods: list) -> list:
        limits = [p for p in periods if p.role == "limit"]
        exts = [p for p in periods if p.role == "extension"]
        mins = [p for p in periods if p.role == "minimum"]
        ctx = plain(u.context)
        whole = f"{ctx} {text}" if u.kind == "cell" else text
        if limits and CONSENT.search(text) and VALIDITY.search(text):
            return self._consent_validity(u, text, limits[0])
        if COOKIE_LIFE.search(whole) and COOKIE_LIFE2.search(whole):
            return [Unverifiable(u.text, u.section, "a cookie's lifetime on the visitor's device: no export records "
                                                     "when cookies expire")]
        if not limits and exts and self.last_deadline and self.last_deadline[0] == u.block \
                and "extension" not in self.last_deadline[1].params:
            prev = self.last_deadline[1]
            from ..duration import Duration
            d = Duration.model_validate(prev.params["limit"])
            lim = grammar.Period(d.amount, d.unit, 0, 0)
            if lim is not None:
                prev.params["extension"] = {"by": _extension_by(text, lim, exts[0]) if lim.unit == exts[0].unit
                                            else exts[0].duration}
                prev.note = (prev.note + " " if prev.note else "") + f"Extension from the next sentence: {u.text}"
            return []
        if not limits:
            if mins:
                return self._minimum(u, text, mins)
            return []
        if CONSENT.search(text) and VALIDITY.search(text):
            return self._consent_validity(u, text, limits[0])
        if OPTOUT.search(whole) and not RETAIN.search(text) and not re.search(r"(?i)\b(sale|sell|selling|sharing)\b", text):
            p = limits[0]
            cat, _ = self.category(self.default_table["optout_latency"], text)
            return [Proposal("consent", "optout_latency", {"table": self.default_table["optout_latency"],
                                                           "grace": p.duration}, "user.contact.email"
                             if "user.contact.email" in _fides() else cat, u.text, u.section, [])]
        if "backup" in expand(whole) or any("backup" in expand(s) for _, s in _levels(u)[1:2]):
            if RETAIN.search(whole) or re.search(r"(?i)rotat|overwrit|rolling|cycle|purg", whole) or u.kind in ("cell", "row", "item"):
                p = limits[-1]
                note = f"range {p.low}-{p.amount}: the upper bound is the limit" if p.low else None
                return [Proposal("retention", "backup_rotation", {"rotation": p.duration}, "user", u.text, u.section,
                                 _range_todo("params.rotation", p), note)]
        deadline = self._deadline(u, text, limits, exts)
        if deadline:
            return deadline
        if WITHIN.search(text[:limits[0].start][-25:]) and not RETAIN.search(text) and \
                re.search(r"\bwithin\b", text[:limits[0].start][-25:], re.I):
            # "Review the request within 30 days": a deadline for an action no export records
            return [Unverifiable(u.text, u.section, f"a deadline ({limits[0].duration}) for an action no export "
                                                    "records the completion of")]
        return self._retention(u, text, limits, mins)

    def _consent_validity(self, u: Unit, text: str, p) -> list:
        """Events need a consent given less than `validity` ago. The events are those the
        sentence names (not the consent log itself), else the tables with a purpose column."""
        consent_log = [t for t in self.contract.tables.values() if "purpose" in t.columns and "action" in t.columns]
        among = [t for t in self.contract.tables if t not in {c.name for c in consent_log}]
        best, where, _ = self.tables_for(u, among=among)
        todo: list[str] = []
        if best and where in ("text", "window") and best[0] not in self.purpose_tables and not any(
                t in self.purpose_tables for t in best):
            table = best[0]
        elif best and best[0] in self.purpose_tables:
            table = best[0]
        else:
            table = self.purpose_tables[0] if self.purpose_tables else ""
            if not best:
                todo.append(f"params.table: nothing names the events; candidates: {', '.join(self.purpose_tables)}")
        cols = self.contract.tables[table].columns if table else {}
        values = list(cols["purpose"].values or ()) if "purpose" in cols else self.purposes
        ws = set(words(text))
        named = [x for x in values if all(part in ws for part in x.split("_"))]
        if not named:
            # "consent is valid for 12 months": every purpose that needs consent (not the necessary one)
            named = [x for x in values if x != "necessary"]
            todo.append(f"params.purpose: no purpose named: one pledge per consent purpose of {table}; "
                        "delete those the sentence does not cover")
        cat, _ = self.category(table, text)
        todo += _range_todo("params.validity", p)
        return [Proposal("consent", "consent_coverage", {"table": table, "purpose": x, "validity": p.duration},
                         cat, u.text, u.section, list(todo)) for x in named]

    def _deadline(self, u: Unit, text: str, limits, exts) -> list:
        """One deadline per limit, each ended by the action verb nearest before it ("we acknowledge
        within 10 business days and respond within 45 days": two deadlines)."""
        retain = RETAIN.search(text)
        lead = plain(u.context) if u.kind == "item" else ""
        verbs = list(DEADLINE_VERB.finditer(text))
        if not verbs and not DEADLINE_VERB.search(lead):
            return []
        p0 = limits[0]
        within = any(WITHIN.search(text[:p.start][-25:]) for p in limits)
        starts_at = any(re.match(r"(?i)\s*(?:calendar\s+)?(?:from|of|after|following)\b", text[p.end:]) for p in limits)
        if not within and (retain or not (starts_at or u.kind in ("cell", "row"))):
            return []
        best, where, score = self.tables_for(u, among=self.deadline_tables)
        if not best:
            return []
        if retain and (not verbs or retain.start() < verbs[0].start()) and where != "text" and not re.search(
                r"(?i)\brequest", text):
            return []
        todo0 = ([f"params.table: {best[0]} chosen; other candidates: {', '.join(best[1:])}"] if len(best) > 1 else [])
        table = best[0]
        anchors = list(self.contract.tables[table].anchors)
        ends_all = {x for ts in END_WORDS.values() for x in ts}
        notified = [a for a in anchors if a.endswith("notified") and not a.startswith("extension")]
        out: list = []
        prev_end = 0
        for p in limits:
            todo = list(todo0)
            clause = text[prev_end:p.end + 40]
            vs = [m for m in verbs if m.end() <= p.start] or verbs
            vtext = (vs[-1].group(0) if vs else "") + " " + text[(vs[-1].end() if vs else 0):p.start]
            vtext = vtext if vs else lead
            prev_end = p.end
            ends = anchor_for(table, vtext, END_WORDS, self.contract, exclude=(anchors[0],), raw=False)
            ends = [a for a in ends if any(a.endswith(x) for x in ends_all) and not a.startswith("extension")]
            if notified and (any(a.endswith("notified") for a in ends) or re.search(r"(?i)\bnotif|\binform", vtext)):
                who = anchor_for(table, clause, NOTIFY_WHO, self.contract, exclude=(anchors[0],), raw=False)
                who = [a for a in who if a in notified]
                if who:
                    ends = who[:1]
                else:
                    ends = notified[:1]
                    todo.append(f"params.end: who is notified? candidates: {', '.join(notified)}")
            if not ends:
                ends = [a for a in anchors[1:] if any(a.endswith(x) for x in ("completed", "responded"))] or anchors[1:2]
                todo.append(f"params.end: no verb names the end; {ends[0]} chosen; candidates: {', '.join(anchors[1:])}")
            end = ends[0]
            named = [a for a in anchor_for(table, clause, ANCHOR_WORDS, self.contract, raw=False) if a != end]
            # several start events named ("receipt of a verified request"): the clock starts at the later one
            start = max(named, key=anchors.index) if named else anchors[0]
            params: dict = {"table": table, "start": start, "end": end, "limit": p.duration}
            where = self._where(table, text)
            if where:
                params["where"] = where
            ext = [e for e in exts if e.start > p.end and (p is limits[-1] or e.start < limits[limits.index(p) + 1].start)]
            if ext:
                params["extension"] = {"by": _extension_by(text, p, ext[0])}
            cat, _ = self.category(table, text)
            todo += _range_todo("params.limit", p)
            kind = "incident_deadline" if re.search(r"(?i)breach|incident", f"{text} {u.section}") else "request_deadline"
            prop = Proposal(kind, "deadline", params, cat, u.text, u.section, todo)
            out.append(prop)
            self.last_deadline = (u.block, prop)
        return out

    def _where(self, table: str, text: str) -> dict:
        """A filter when the text names exactly one value of an enumerated column of the table
        ("requests to opt out of the sale ..." -> request_type: opt_out)."""
        ws = set(words(text.replace("-", " ")))
        out = {}
        for c in self.contract.tables[table].columns.values():
            if not c.values or c.name == "jurisdiction":
                continue
            hits = [v for v in c.values if all(part in ws for part in words(v.replace("_", " ")))]
            if len(hits) == 1 and "_" in hits[0]:   # a two-word value ("opt_out"); one word is too loose
                out[c.name] = hits[0]
        return out

    def _retention(self, u: Unit, text: str, limits, mins) -> list:
        ctx_retain = any(RETAIN.search(s) for _, s in _levels(u)[1:])
        if not RETAIN.search(text) and not (u.kind in ("cell", "row", "item") and ctx_retain) and not (
                re.search(r"(?i)^\s*(for|up to|within)\b", text) and ctx_retain):
            if re.search(r"(?i)\b(will|shall|must|promise|commit|guarantee)\b", text) and ctx_retain:
                pass
            else:
                return []
        out: list = []
        prev_end = 0
        for p in limits:
            tail = re.match(r"[^.;,]*", text[p.end:]).group(0)
            tail = re.split(r"(?i)\b(?:from|after|following|since|of|once|until)\b", tail)[0]
            window = text[prev_end:p.end] + tail     # this clause, without the event the period runs from
            window = re.sub(r"(?i)\buntil\s+[\w\s'’-]*?(?=\bor\b|\+|,|;|$)", " ", window)  # "until opt-out or ..."
            prev_end = p.end
            best, where, score = self.tables_for(u, window=window)
            if not best:
                out.append(Unverifiable(u.text, u.section, f"a period ({p.duration}) for data no export table "
                                                           "holds (nothing in the contract matches what it is about)"))
                continue
            subject = self.subject
            tables, todo = self._choose(best, subject)
            cue_all = text if u.kind != "cell" else f"{u.context} {text}"
            if after_erasure(text, p):
                out.append(self._erasure_grace(u, cue_all, p, tables, todo, where))
                continue
            for table in tables:
                anchors = list(self.contract.tables[table].anchors)
                cue_text = text if u.kind != "cell" else f"{u.context} {text}"
                hits = anchor_for(table, cue_text, ANCHOR_WORDS, self.contract)
                t_todo = list(todo)
                if hits:
                    anchor = hits[0]
                else:
                    last = [a for a in anchors if a.startswith("last")]
                    anchor = last[0] if last else anchors[0]
                    if len(anchors) > 1:
                        t_todo.append(f"params.from: nothing names when the period starts; {anchor} chosen "
                                      f"(the latest event, the lenient reading); candidates: {', '.join(anchors)}")
                ev = re.search(r"(?i)\b(clos(?:e|es|ed|ing|ure)|terminat\w*|cancel\w*|delet(?:e|es|ion))\b[^.;]{0,25}"
                               r"\baccount|\baccount\b[^.;]{0,15}\b(closed|closure|deleted|terminated|cancell?ed)\b", cue_text)
                if ev and not hits:
                    out.append(Unverifiable(u.text, u.section, f"the period ({p.duration}) runs from an event no "
                                                               f"contract anchor records ('{ev.group(0)}'); an "
                                                               "anchor on the closure date would make it checkable"))
                    continue
                cat, t2 = self.category(table, subject)
                note = None
                if p.low is not None:
                    note = f"a range ({p.low} to {p.duration}): the upper bound is the limit"
                t_todo += _range_todo("params.period", p)
                ip = self._ip_rows(u, table, f"{window} {cue_text}", p, anchor, cat, where, t_todo, note)
                if ip is not None:
                    out.append(ip)
                    continue
                out.append(Proposal("retention", "retention",
                                    {"table": table, "from": anchor, "period": p.duration}, cat,
                                    _quote(u, where), u.section, t_todo + t2, note))
        return out

    def _ip_rows(self, u: Unit, table: str, about: str, p, anchor: str, cat: str, where: str, todo: list[str],
                 note: str | None) -> Proposal | None:
        """A period on IP addresses in a table that stores them. When the text says they are
        anonymised / truncated / masked, that is an ip_truncation pledge (the rows may stay, the
        full address may not); when it only gives the period, the retention pledge stays and a
        todo names ip_truncation as the other reading."""
        if not IP_ADDR.search(about) or "ip" not in self.contract.tables[table].columns:
            return None
        said = " ".join([u.text, u.context or ""])
        if ANONYMIZE.search(said):
            t = list(todo)
            if DELETE.search(said):
                t.append(f"check: the text says deleted or anonymised: ip_truncation is met by either; a retention "
                         f"pledge (from {anchor}, {p.duration}) would require the rows to be deleted")
            return Proposal("anonymization", "ip_truncation", {"table": table, "column": "ip", "after": p.duration},
                            "user.device.ip_address" if "user.device.ip_address" in _fides() else cat,
                            _quote(u, where), u.section, t, note)
        todo.append(f"check: a period on IP addresses; if they are truncated or anonymised after {p.duration} "
                    f"rather than deleted with the row, use ip_truncation (column ip, after {p.duration})")
        return None

    def _erasure_grace(self, u: Unit, text: str, p, tables: list[str], todo: list[str], where: str) -> Proposal:
        """A period for what remains after the data is deleted, erased or the account closed
        ("log records may remain for 120 days after your account is deleted"): a grace on
        erasure_completeness over the tables the statement names."""
        tables = [t for t in tables if self.contract.tables[t].subject_column is not None]
        t_todo = [x for x in todo if not x.startswith("params.table")]
        if not tables:
            tables = [t.name for t in self.contract.tables.values() if t.subject_column is not None and t.pii_columns]
            t_todo.append("params.tables: nothing names the data; every table with a subject chosen: keep those "
                          "the statement covers")
        if any(re.match(r"(?i)(clos|terminat|cancel)", m.group(0)) or re.search(r"(?i)\b(closed|terminated|cancell?ed)\b",
                                                                                 m.group(0))
               for m in ERASURE_EVENT.finditer(text)):
            t_todo.append("check: the export records completed erasures, not account closures: keep this pledge "
                          "if closing the account erases it, else move the statement to unverifiable")
        t_todo += _range_todo("params.grace", p)
        return Proposal("erasure", "erasure_completeness", {"tables": tables, "grace": p.duration}, "user",
                        _quote(u, where), u.section, t_todo)

    def _minimum(self, u: Unit, text: str, mins) -> list:
        """A minimum retention ("kept at least 7 years", "a minimum of 7 years"): a
        minimum_retention pledge on the tables the statement is about whose export records the
        deletion (a `deleted` anchor); without one, unverifiable with what would make it checkable."""
        out: list = []
        for p in mins:
            best, where, _ = self.tables_for(u, window=text)
            if not best:
                out.append(Unverifiable(u.text, u.section, f"a minimum period ({p.duration}) for data no export "
                                                           "table holds"))
                continue
            tables, todo = self._choose(best, self.subject)
            for table in tables:
                anchors = [a for a in self.contract.tables[table].anchors if a != "deleted"]
                if "deleted" not in self.contract.tables[table].anchors:
                    out.append(Unverifiable(u.text, u.section, f"a minimum period ({p.duration}) on {table}, whose "
                                                               "export records no deletion: a deletion instant (a "
                                                               "'deleted' anchor) would make it checkable"))
                    continue
                cue_text = text if u.kind != "cell" else f"{u.context} {text}"
                hits = [a for a in anchor_for(table, cue_text, ANCHOR_WORDS, self.contract) if a != "deleted"]
                t_todo = list(todo)
                anchor = hits[0] if hits else anchors[0]
                if not hits and len(anchors) > 1:
                    t_todo.append(f"params.from: nothing names when the minimum starts; {anchor} chosen; "
                                  f"candidates: {', '.join(anchors)}")
                cat, t2 = self.category(table, self.subject)
                out.append(Proposal("retention", "minimum_retention",
                                    {"table": table, "from": anchor, "period": _low(p) if p.low else p.duration}, cat,
                                    _quote(u, where), u.section, t_todo + t2 + _range_todo("params.period", p, lower=True)))
        return out

    def _without_period(self, u: Unit, text: str) -> list:
        retain = RETAIN.search(text)
        neg = re.search(r"(?i)\b(?:not|never|no)\b\s+(?:\w+\s+){0,3}?(?:retain|keep|kept|store|stored|hold|held)\w*"
                        r"[^.;]*\b(?:indefinitely|permanently|forever)|\bnot\b[^.;]{0,12}\b(?:indefinitely|permanently|forever)",
                        text)
        if grammar.INDEFINITE.search(text) and (retain or u.kind in ("cell", "row")):
            if neg and retain:
                return [Unverifiable(u.text, u.section, "states that data is not kept without limit, but no period: "
                                                        "nothing to measure until a period is given")]
            return [Unverifiable(u.text, u.section, "kept without a time limit: there is no period to check")]
        m = NEG_PLEDGE.search(text) or NEVER_VERB.search(text)
        # a pledge has the company as its subject: "we do not ...", "LustMonster does not ..."
        # (not a quoted link text such as '... a link labeled "Do Not Sell"')
        if m and (re.search(r"(?i)\b(we|it|they)\b[^.;]{0,40}$", text[:m.start() + 1])
                  or re.fullmatch(r"\s*[A-Z][\w-]*(?:\s+[A-Z][\w-]*)?\s*", text[:m.start()])):
            return self._negative(u, text, m.group("verb").lower(), m.group("obj"))
        pm = NEG_PASSIVE.search(text)
        if pm and re.search(r"(?i)\b(never|not)\b", pm.group(0)) and not re.search(r"(?i)\b(if|unless|when)\b",
                                                                                      text[:pm.start()]):
            return self._negative(u, text, _PARTICIPLES[pm.group("verb").lower()], text[:pm.start()])
        if OPTOUT.search(text) and ANYTIME.search(text) and re.search(r"(?i)\b(market|email|newsletter|promot|"
                                                                        r"communication|messages?)\w*", text):
            return [Proposal("consent", "optout_latency", {"table": self.default_table["optout_latency"],
                                                           "grace": "0 days"}, "user.contact.email", u.text,
                             u.section, ["params.grace: no delay stated; 0 days (no send after the opt-out)"])]
        if AGGREGATE_SHARE.search(text) and re.search(r"(?i)\b(third[- ]part\w*|partners?|advertisers?|sponsors?|"
                                                       r"affiliates?|others)\b", text):
            k = re.search(r"(?i)\bfewer than (\d+)\s+(?:people|persons|individuals|users|members|customers)", text)
            check = "k_anonymity"
            prm = {"table": self.default_table[check]}
            todo = []
            if k:
                prm["k"] = int(k.group(1))
            else:
                todo.append("params.k: no group size stated; 5 (the check's default) is the smallest number of "
                            "people a shared cell may describe")
            return [Proposal("anonymization", check, prm, "user", u.text, u.section, todo)]
        if UNTIL.search(text) and retain:
            ev = UNTIL.search(text).group("event").strip()
            return [Unverifiable(u.text, u.section, f"kept until an event ({ev}) with no fixed period: the checks "
                                                    "need a period from a recorded event")]
        return []

    def _negative(self, u: Unit, text: str, verb: str, obj: str) -> list:
        if SELL.match(verb):
            table = self.default_table.get("third_party_identifiers")
            cat, _ = self.category(table, text)
            return [Proposal("sharing", "third_party_identifiers", {"table": table}, "user", u.text, u.section,
                             ["params: 'not sold' is checked as 'no direct identifiers in the rows shared "
                              "with third parties'; confirm that is what the export can show"])]
        if verb in ("share", "disclose", "transfer") and re.search(r"(?i)identif", obj):
            table = self.default_table.get("third_party_identifiers")
            return [Proposal("sharing", "third_party_identifiers", {"table": table}, "user", u.text, u.section, [])]
        out: list = []
        if CARD.search(obj):
            out.append(Proposal("security", "card_numbers", {"tables": "all"}, "user.financial.credit_card"
                                if "user.financial.credit_card" in _fides() else "user", u.text, u.section, []))
        ows = set(words(obj.replace("_", " ")))
        for t in self.contract.tables.values():
            for c in t.columns.values():
                if c.key or c.subject or c.required or not (c.pii or c.type == "boolean"):
                    continue
                if verb not in ("collect", "store", "keep", "retain", "save", "record", "hold", "log", "use", "process"):
                    continue
                cw = [w for w in words(c.name.replace("_", " ")) if w not in ("flag", "id", "at")]
                if c.name in ows or (len(cw) >= 2 and all(w in ows or w in set(words(text)) for w in cw)
                                     and any(w in ows for w in cw)):
                    out.append(Proposal("minimization", "column_empty", {"table": t.name, "column": c.name},
                                        c.pii or "user", u.text, u.section, []))
        if out:
            return out
        if verb in ("collect", "store", "keep", "retain", "save", "record", "hold", "log", "process", "use",
                    "share", "disclose", "transfer", "request", "track"):
            return [Unverifiable(u.text, u.section, f"a negative pledge ('{verb} ...'): no export column holds "
                                                    "what it names; propose a contract column if one would")]
        return []


def _fides() -> frozenset[str]:
    from ..contract import fides_categories

    return fides_categories()
