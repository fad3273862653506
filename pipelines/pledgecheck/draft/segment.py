"""A policy text as units to read: headings, paragraphs, list items and table rows, each cut into
sentences, each with the section heading it sits under.

Three inputs: HTML (parsed with BeautifulSoup; quotes are taken from its rendered text),
Markdown, and plain text (both parsed with markdown-it-py, which treats plain text as
paragraphs; quotes are taken from the source lines, inline markup included, so that a quote is
verbatim after whitespace normalisation). Plain-text conventions are recognised too: numbered
headings ("8.1 Order Data", a one-item "1. Data Retention" list), short title lines, bullet
glyphs ("•", "–") and tables flattened one cell per line (a run of short lines, as a PDF or a
web page copied as text leaves them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

BULLET = re.compile(r"^\s*(?:[•◦▪▫●○■□‣⁃∙·]|[-–—*+](?=\s))\s*")
NUMBERED = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVXL]{1,5}\.|[A-Z]\.)\s+\S")
_END_PUNCT = ".;,!?"
# Abbreviations whose period does not end a sentence (lower case, without the period).
ABBREVIATIONS = frozenset("""
e.g i.e etc cf art arts no nos vs approx incl excl sec secs para paras p pp ch fig al ltd inc corp co
jr sr mr mrs ms dr st mo mos yr yrs hr hrs min mins max u.s u.k e.u cal civ reg regs ref dept est
jan feb mar apr jun jul aug sep sept oct nov dec
""".split())


@dataclass
class Unit:
    """A sentence, list item or table row to read, where it sits and what surrounds it."""

    text: str                 # verbatim (inline markup kept), whitespace-normalised
    section: str              # the nearest heading ("" before the first)
    parents: tuple[str, ...]  # the headings above the nearest one, outermost first
    kind: str                 # sentence | item | row | cell
    context: str = ""         # lead-in of a list, parent item, table header or preceding cell
    block: int = 0            # index of the block (paragraph, item, row) it belongs to
    cells: tuple[str, ...] = ()


@dataclass
class _Block:
    kind: str                 # heading | para | item | row
    text: str
    level: int = 0
    cells: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    parent: str = ""          # for items: the lead-in paragraph or the parent item
    single_ol: bool = False   # an ordered list with exactly one item (plain-text heading style)
    number: str = ""
    extra: dict = field(default_factory=dict)


def norm(s: str) -> str:
    return " ".join(s.split())


def plain(s: str) -> str:
    """Inline Markdown markup removed, for matching (not for quotes)."""
    s = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", s)
    s = re.sub(r"(\*\*|__|`)", "", s)
    s = re.sub(r"(?<![\w*])[*_](\S(?:.*?\S)?)[*_](?![\w*])", r"\1", s)
    return s.replace("\\", "")


# ---------------------------------------------------------------- sentences
_SPLIT = re.compile(r"([.!?])([\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9•])")


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences: at . ! ? followed by a space and a capital or digit,
    unless the word before the period is an abbreviation (e.g., Art., yrs.), an initial, or a
    number such as '12.' inside '12.3'."""
    out, start = [], 0
    for m in _SPLIT.finditer(text):
        if m.group(1) == ".":
            word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[start:m.start()])
            w = word.group(1).lower().rstrip(".") if word else ""
            if w in ABBREVIATIONS or (len(w) == 1 and w.isalpha()) or re.search(r"\b[A-Z]\.[A-Z]$", text[start:m.start()]):
                continue
            if re.search(r"\b(?:No|Art|Sec|§)\s*$", text[start:m.start()]):
                continue
        end = m.end(2)
        out.append(text[start:end].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


# ---------------------------------------------------------------- blocks
def _md_blocks(text: str) -> list[_Block]:
    # no indented code blocks: in a policy, a line indented by 4 spaces is mis-indented text
    md = MarkdownIt("commonmark").enable("table").disable("code")
    tokens = md.parse(text)
    blocks: list[_Block] = []
    lists: list[dict] = []          # open lists
    items: list[dict] = []          # open list items
    last_para = ""
    row: list[str] = []
    header: tuple[str, ...] = ()
    in_head = False
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.type in ("bullet_list_open", "ordered_list_open"):
            lists.append({"ordered": t.type == "ordered_list_open", "n": 0, "start": t.attrGet("start") or 1,
                          "first": None})
        elif t.type in ("bullet_list_close", "ordered_list_close"):
            lst = lists.pop()
            if lst["ordered"] and lst["n"] == 1 and lst["first"] is not None:
                lst["first"].single_ol = True
                lst["first"].number = f"{lst['start']}."
        elif t.type == "list_item_open":
            lists[-1]["n"] += 1
            parent = items[-1]["text"] if items and items[-1]["text"] else last_para
            items.append({"text": "", "parent": parent, "list": lists[-1]})
        elif t.type == "list_item_close":
            items.pop()
        elif t.type == "heading_open":
            b = _Block("heading", tokens[i + 1].content, level=int(t.tag[1]))
            if items and not items[-1]["text"]:       # "1. ## Title": a numbered heading
                items[-1]["text"] = b.text
                if items[-1]["list"]["first"] is None:
                    items[-1]["list"]["first"] = b
            blocks.append(b)
            last_para = ""
            i += 3
            continue
        elif t.type == "thead_open":
            in_head = True
        elif t.type == "thead_close":
            in_head = False
        elif t.type == "tr_open":
            row = []
        elif t.type in ("th_open", "td_open"):
            row.append(tokens[i + 1].content if tokens[i + 1].type == "inline" else "")
        elif t.type == "tr_close":
            if in_head:
                header = tuple(row)
            else:
                blocks.append(_Block("row", " | ".join(c for c in row if c.strip()), cells=tuple(row), header=header))
        elif t.type == "table_close":
            header = ()
        elif t.type == "paragraph_open":
            content = tokens[i + 1].content
            lines = content.split("\n")
            if any(BULLET.match(x) for x in lines):
                # bullet glyph lines (plain text) are items of their own
                lead = last_para
                groups: list[list[str]] = []
                for x in lines:
                    if BULLET.match(x) or not groups:
                        groups.append([x])
                    else:
                        groups[-1].append(x)
                for g in groups:
                    s = "\n".join(g)
                    if BULLET.match(g[0]):
                        blocks.append(_Block("item", BULLET.sub("", s, count=1), parent=lead))
                    else:
                        blocks.append(_Block("para", s))
                        lead = last_para = s
            elif items and not items[-1]["text"]:
                it = items[-1]
                it["text"] = content
                b = _Block("item", content, parent=it["parent"])
                if it["list"]["first"] is None:
                    it["list"]["first"] = b
                blocks.append(b)
            else:
                blocks.append(_Block("para", content))
                last_para = content
            i += 3
            continue
        i += 1
    return blocks


def _html_blocks(html: str) -> list[_Block]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "head", "nav", "footer"]):
        tag.decompose()
    blocks: list[_Block] = []
    last_para = ""

    def text(el) -> str:
        return norm(el.get_text(" "))

    for el in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "dt", "dd"]):
        name = el.name
        if name.startswith("h") and len(name) == 2:
            blocks.append(_Block("heading", text(el), level=int(name[1])))
        elif name == "tr":
            cells = [text(c) for c in el.find_all(["td", "th"], recursive=False)]
            if el.find("th") and not el.find("td"):
                blocks.append(_Block("row", "", header=tuple(cells), extra={"header_only": True}))
                continue
            header = ()
            table = el.find_parent("table")
            if table is not None:
                th = table.find("tr")
                if th is not None and th.find("th") and th is not el:
                    header = tuple(text(c) for c in th.find_all(["td", "th"], recursive=False))
            blocks.append(_Block("row", " ".join(c for c in cells if c), cells=tuple(cells), header=header))
        elif name in ("li", "dd", "dt"):
            if el.find(["p", "ul", "ol", "table"]):
                own = norm(" ".join(s for s in el.find_all(string=True, recursive=False)))
                if own:
                    blocks.append(_Block("item", own, parent=last_para))
                continue
            parent_li = el.find_parent("li")
            parent = ""
            if parent_li is not None:
                parent = norm(" ".join(s for s in parent_li.find_all(string=True, recursive=False)))
            blocks.append(_Block("item", text(el), parent=parent or last_para))
        else:
            if el.find_parent(["li", "td", "th"]):
                continue
            t = text(el)
            if not t:
                continue
            strong = el.find(["strong", "b"])
            if strong is not None and norm(strong.get_text(" ")) == t and len(t) < 90:
                blocks.append(_Block("heading", t, level=6))
                continue
            blocks.append(_Block("para", t))
            last_para = t
    return [b for b in blocks if not b.extra.get("header_only")]


def is_html(text: str) -> bool:
    head = text.lstrip()[:2000].lower()
    return head.startswith(("<!doctype html", "<html")) or bool(re.search(r"<(p|h[1-6]|li|table|div|body)\b", head))


def _short(s: str) -> bool:
    s = s.strip()
    return len(s) <= 90 and len(s.split()) <= 14 and "\n" not in s


def _heading_like(s: str) -> bool:
    s = plain(s).strip()
    if not s or not _short(s) or s[-1] in _END_PUNCT + ":":
        return False
    first = re.sub(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVXL]{1,5}\.|[A-Z]\.)\s+", "", s)[:1]
    return bool(first) and (first.isupper() or first.isdigit())


def _labelled_period(s: str) -> bool:
    """A "label: value" line whose value is a period ("Retention period: 6 years") states a
    rule; it is not a title, even when it is short and has no final full stop."""
    from .grammar import periods

    label, colon, value = plain(s).partition(":")
    return bool(colon) and bool(periods(value))


def _promote_headings(blocks: list[_Block]) -> list[_Block]:
    """Plain-text conventions: numbered title lines, one-item numbered lists, a bold line and a
    short title line before a longer paragraph are headings; a run of short lines (a table
    flattened to one cell per line) is not."""
    short = [b.kind == "para" and _short(b.text) and "|" not in b.text and not b.text.rstrip().endswith(":")
             and not (NUMBERED.match(b.text) and _heading_like(b.text)) for b in blocks]
    run = [False] * len(blocks)
    i = 0
    while i < len(blocks):
        if short[i]:
            j = i
            while j < len(blocks) and short[j]:
                j += 1
            if j - i >= 4:
                for k in range(i, j):
                    run[k] = True
            i = j
        else:
            i += 1
    out: list[_Block] = []
    for k, b in enumerate(blocks):
        nxt = blocks[k + 1] if k + 1 < len(blocks) else None
        bold = re.fullmatch(r"\s*(\*\*|__)(.+?)\1\s*:?\s*", b.text or "")
        if b.kind == "para" and bold and _short(bold.group(2)):
            out.append(_Block("heading", bold.group(2).strip(), level=6))
            continue
        if b.kind == "para" and NUMBERED.match(b.text) and _heading_like(b.text):
            depth = len(re.match(r"[\dIVXLA-Z.]+", b.text).group(0).rstrip(".").split("."))
            out.append(_Block("heading", b.text.strip(), level=2 + depth))
            continue
        if b.kind == "item" and b.single_ol and _heading_like(b.text) and nxt is not None and nxt.kind != "item":
            out.append(_Block("heading", f"{b.number} {b.text.strip()}", level=2))
            continue
        if (b.kind == "para" and _heading_like(b.text) and not run[k] and len(b.text.split()) <= 8
                and not _labelled_period(b.text) and nxt is not None and nxt.kind in ("para", "item") and not _short(nxt.text)):
            out.append(_Block("heading", b.text.strip(), level=6))
            continue
        if b.kind == "para" and run[k]:
            b = _Block("cell", b.text)
        out.append(b)
    return out


def segment(text: str, fmt: str | None = None) -> list[Unit]:
    """The units of a policy text. fmt: html | markdown | text (default: guessed)."""
    fmt = fmt or ("html" if is_html(text) else "markdown")
    blocks = _html_blocks(text) if fmt == "html" else _md_blocks(text)
    blocks = _promote_headings(blocks)
    units: list[Unit] = []
    heads: list[tuple[int, str]] = []
    prev_cell = ""
    for n, b in enumerate(blocks):
        if b.kind == "heading":
            while heads and heads[-1][0] >= b.level:
                heads.pop()
            heads.append((b.level, norm(plain(b.text)) if fmt != "html" else b.text))
            prev_cell = ""
            continue
        section = heads[-1][1] if heads else ""
        parents = tuple(h for _, h in heads[:-1])
        if b.kind == "row":
            ctx = " | ".join(b.header)
            units.append(Unit(norm(b.text), section, parents, "row", ctx, n, tuple(norm(c) for c in b.cells)))
        elif b.kind == "cell":
            units.append(Unit(norm(b.text), section, parents, "cell", prev_cell, n))
            prev_cell = norm(b.text)
            continue
        else:
            kind = "item" if b.kind == "item" else "sentence"
            # an item's lead-in is the last sentence before the list ("If you ask us to, we will:")
            lead = (sentences(norm(b.parent)) or [""])[-1] if b.kind == "item" and b.parent else ""
            for s in sentences(norm(b.text)):
                units.append(Unit(s, section, parents, kind, lead, n))
        prev_cell = ""
    return units
