"""The words that name each export table, its anchors and its data, derived from the contract.

Every table's vocabulary comes from the export contract (pipelines/pledgecheck/contract.yaml):
its name, description, column names, enumerated column values and the Fides names of its
personal-data columns (fideslang's taxonomy). No table name is written here: the small English
lexicon below maps words a policy uses ("invoice", "cookie", "newsletter") onto words of that
vocabulary ("order", "tracker", "marketing"), and a test checks that every target word is
still in the contract's vocabulary, so a renamed table breaks a test, not a draft.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from ..contract import Contract, fides_categories, load_contract

STOP = frozenset("""
a an the of and or for to in on at by per with from as is are be one row rows each every any all our your
their its this that these those we you us data personal information info record records detail details
id flag time ts etc incl including e g i more other which what who no not only such may will
user users retention retain retained deletion delete deleted period periods purpose purposes mandated typically
standard kept keep store stored held hold law required legal gdpr ccpa cpra uk eu us
""".split())

VERB_BEFORE = frozenset("i you we they he she it to will may can must shall should would could not never also".split())

# policy words -> contract vocabulary words (targets must exist in the vocabulary: tested)
LEXICON: dict[str, tuple[str, ...]] = {
    "transaction": ("order", "payment"), "purchase": ("order",), "invoice": ("order",), "invoicing": ("order",),
    "shipping": ("order",), "delivery": ("order",), "sale": ("order",), "tax": ("order",), "vat": ("order",),
    "accounting": ("order",), "bookkeeping": ("order",),
    "financial": ("payment", "order"), "billing": ("payment",), "card": ("payment",), "token": ("payment",),
    "profile": ("account",), "registration": ("account",), "member": ("account",),
    "membership": ("account",), "inactivity": ("account",), "inactive": ("account",), "subscriber": ("account",),
    "inquiry": ("support", "ticket"), "enquiry": ("support", "ticket"), "complaint": ("support", "ticket"),
    "helpdesk": ("support", "ticket"), "service": ("support",),
    "newsletter": ("marketing",), "promotional": ("marketing",), "mailing": ("marketing",),
    "cookie": ("tracker",), "tracking": ("tracker",), "beacon": ("tracker",), "tag": ("tracker",),
    "analytic": ("tracker", "analytic"), "server": ("access",), "visitor": ("access",), "web": ("web",),
    "opt-out": ("unsubscribe",), "optout": ("unsubscribe",),
    "opt-in": ("consent",), "optin": ("consent",), "permission": ("consent",),
    "voice": ("audio",), "microphone": ("audio",), "archive": ("backup",), "snapshot": ("backup",),
    "right": ("request",), "child": ("minor",), "children": ("minor",), "underage": ("minor",),
    "kid": ("minor",), "researcher": ("vulnerability",), "bug": ("vulnerability",),
    "breache": ("breach",),
}
PHRASES: dict[str, tuple[str, ...]] = {
    "contact form": ("support", "ticket"), "customer service": ("support", "ticket"),
    "data subject": ("request",), "user agent": ("agent",), "ip address": ("ip",),
    "security log": ("security",), "fraud prevention": ("fraud",), "opt in": ("consent",),
    "legal hold": ("hold",), "litigation hold": ("hold",),
    # fraud as a kind of record (not as a purpose: "for tax, accounting or fraud prevention")
    "fraud log": ("security",), "fraud screening": ("security",), "fraud record": ("security",),
    "fraud event": ("security",), "fraud alert": ("security",), "fraud check": ("security",),
}
# words that name when a period starts, mapped onto words of anchor names
ANCHOR_WORDS: dict[str, tuple[str, ...]] = {
    "inactivity": ("activity",), "inactive": ("activity",), "activity": ("activity",), "login": ("activity",), "sign": ("activity",),
    "signin": ("activity",), "sign-in": ("activity",), "log-in": ("activity",),
    "use": ("activity",), "visit": ("activity",), "interaction": ("communication", "activity"),
    "communication": ("communication",), "contact": ("communication",), "message": ("communication",),
    "correspondence": ("communication",),
    "creation": ("created",), "created": ("created",), "opened": ("created",), "registration": ("created",),
    "signup": ("created",), "sign-up": ("created",),
    "receipt": ("received",), "receiving": ("received",), "received": ("received",), "receive": ("received",),
    "submission": ("received",), "submitted": ("received",),
    "verified": ("verified",), "verification": ("verified",), "verifying": ("verified",),
    "aware": ("aware",), "awareness": ("aware",), "discovery": ("aware",), "discovering": ("aware",),
    "detection": ("aware",), "report": ("reported",), "reported": ("reported",),
    "withdrawal": ("recorded",), "withdrawn": ("recorded",),
    "order": ("ordered",), "purchase": ("ordered",), "payment": ("paid",), "transaction": ("ordered", "paid"),
}
# verbs of an action a deadline ends with, mapped onto words of anchor names
END_WORDS: dict[str, tuple[str, ...]] = {
    "respond": ("responded", "completed"), "response": ("responded", "completed"), "reply": ("responded", "completed"),
    "answer": ("responded", "completed"), "fulfil": ("completed",), "fulfill": ("completed",),
    "complete": ("completed",), "process": ("completed",), "handle": ("completed", "responded"),
    "comply": ("completed",), "provide": ("completed", "responded"), "honor": ("completed",),
    "honour": ("completed",), "action": ("completed",), "delete": ("removed", "completed"),
    "erase": ("removed", "completed"), "remove": ("removed", "completed"),
    "acknowledge": ("acknowledged",), "acknowledgement": ("acknowledged",), "acknowledgment": ("acknowledged",),
    "confirm": ("acknowledged",), "confirmation": ("acknowledged",), "resolve": ("resolved",), "fix": ("resolved",), "remediate": ("resolved",),
    "notify": ("notified",), "inform": ("notified",), "tell": ("notified",), "alert": ("notified",), "notification": ("notified",), "report": ("notified",),
}
NOTIFY_WHO = {"authority": ("authority",), "regulator": ("authority",), "supervisory": ("authority",),
              "ico": ("authority",), "cnil": ("authority",), "customer": ("subjects",), "user": ("subjects",),
              "individual": ("subjects",), "affected": ("subjects",), "you": ("subjects",), "subject": ("subjects",),
              "people": ("subjects",), "person": ("subjects",), "member": ("subjects",)}


_IES_E = ("cookies", "movies", "zombies", "selfies", "goodies")


def singular(w: str) -> str:
    if w in _IES_E:
        return w[:-1]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def words(text: str) -> list[str]:
    text = text.lower().replace("&", " and ").replace("e-mail", "email")
    out = []
    for w in re.findall(r"[a-z][a-z0-9-]*[a-z0-9]|[a-z]", text):
        out.append(singular(w))
        if "-" in w:   # "fraud-prevention": the whole and its parts
            out += [singular(x) for x in w.split("-") if x]
    return out


@dataclass(frozen=True)
class Vocabulary:
    contract: Contract
    terms: dict[str, dict[str, float]]   # table -> word -> weight
    idf: dict[str, float]

    def score(self, text: str, tables: list[str] | None = None) -> dict[str, float]:
        """How strongly the text names each table (0 when it does not)."""
        ws = set(expand(text))
        out: dict[str, float] = {}
        for t in tables or self.terms:
            s = sum(self.terms[t].get(w, 0.0) * self.idf.get(w, 0.0) for w in ws)
            if s > 0:
                out[t] = s
        return out

    def best(self, text: str, tables: list[str] | None = None, tie: float = 0.8) -> tuple[list[str], float]:
        """The tables the text names best (several when their scores are within `tie` of the best)."""
        sc = self.score(text, tables)
        if not sc:
            return [], 0.0
        top = max(sc.values())
        near = [t for t, s in sc.items() if s >= tie * top]
        if len(near) > 1:   # near ties: the table named first in the text (the head of "accounts without purchases")
            ws = expand(text)
            first = {t: min((i for i, w in enumerate(ws) if self.terms[t].get(w, 0) >= 1.5), default=len(ws))
                     for t in near}
            return sorted(near, key=lambda t: (first[t], -sc[t])), top
        return near, top


def expand(text: str) -> list[str]:
    low = text.lower()
    ws = words(low)
    # a word after a pronoun or a modal is a verb ("you send us", "we log"), not the table it spells
    ws = [w for i, w in enumerate(ws) if not (i and ws[i - 1] in VERB_BEFORE)]
    out = [w for w in ws if w not in STOP]
    for w in ws:   # a gerund names what its verb's table holds: "sending logs" -> send
        if len(w) > 6 and w.endswith("ing") and w not in LEXICON and w not in STOP:
            out.append(w[:-3])
    for w in ws:
        out += LEXICON.get(w, ())
    for ph, targets in PHRASES.items():
        if ph in low:
            out += targets    # a phrase may name a table with a word that alone is too common
    return out


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return build(load_contract())


def build(contract: Contract) -> Vocabulary:
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    fides_names = {c.fides_key: c.name or "" for c in DEFAULT_TAXONOMY.data_category}
    terms: dict[str, dict[str, float]] = {}
    in_names: dict[str, int] = {}
    for t in contract.tables.values():
        for w in set(words(t.name.replace("_", " "))):
            in_names[w] = in_names.get(w, 0) + 1
    for t in contract.tables.values():
        bag: dict[str, float] = {}

        def add(text: str, weight: float) -> None:
            for w in words(text.replace("_", " ")):
                if w not in STOP:
                    bag[w] = max(bag.get(w, 0.0), weight)

        for w in words(t.name.replace("_", " ")):
            # a word of one table's name names it; a word shared by several less so. (A stop word of a
            # name, e.g. 'hold', is matched only through a phrase: "legal hold".)
            bag[w] = 3.0 if in_names[w] == 1 else 1.5
        add(t.description, 1.0)
        for c in t.columns.values():
            if c.key or c.subject or c.type == "boolean":   # a flag marks rows; it does not name the data
                continue
            add(c.name, 1.0)
            for v in c.values or ():
                if c.name != "jurisdiction":
                    add(v, 0.5)
            if c.pii:
                add(fides_names.get(c.pii, ""), 0.5)
        terms[t.name] = bag
    n = len(terms)
    df: dict[str, int] = {}
    for bag in terms.values():
        for w in bag:
            df[w] = df.get(w, 0) + 1
    idf = {w: math.log(1 + n / d) for w, d in df.items()}
    return Vocabulary(contract, terms, idf)


def anchor_for(table: str, text: str, cues: dict[str, tuple[str, ...]], contract: Contract | None = None,
               exclude: tuple[str, ...] = (), raw: bool = True) -> list[str]:
    """Anchors of `table` that the words of `text` name (via `cues`), best first."""
    contract = contract or load_contract()
    anchors = [a for a in contract.tables[table].anchors if a not in exclude]
    hits: dict[str, int] = {}
    ws = words(text)
    for w in ws:
        for target in cues.get(w, ()):
            for a in anchors:
                if target in a.split("_"):
                    hits[a] = hits.get(a, 0) + 2
        if raw and len(w) > 3:
            for a in anchors:
                if w in a.split("_"):
                    hits[a] = hits.get(a, 0) + 1
    return sorted(hits, key=lambda a: -hits[a])


def fides_category(table: str, text: str, contract: Contract | None = None) -> tuple[str, bool]:
    """A Fides data category for what the text describes in `table`, and whether it is a guess.

    First a Fides category whose name the text uses ("IP address", "purchase history");
    then the most common personal-data category of the table's columns; else `user`."""
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    contract = contract or load_contract()
    ws = set(words(text))
    best, best_n = None, 0
    for c in DEFAULT_TAXONOMY.data_category:
        if not c.fides_key.startswith("user.") or c.fides_key not in fides_categories():
            continue
        name = [w for w in words(c.name or "") if w not in STOP and w not in ("user", "contact")]
        if name and all(w in ws for w in name) and len(name) > best_n:
            best, best_n = c.fides_key, len(name)
    if best:
        return best, False
    t = contract.tables[table]
    cats = [c.pii for c in t.columns.values() if c.pii and not c.subject]
    if cats:
        return max(sorted(set(cats)), key=cats.count), False
    return "user", True
