"""card_numbers: full card numbers in any text column."""
from __future__ import annotations

from typing import Literal

from ...claims import Value, pledge_claim, pledge_data
from ..base import Check, Render, Strict, Validator
from ..sql import record_id, subject
from ...engine import q


class Params(Strict):
    """Full card numbers (Luhn-valid) in any text column of the listed tables."""

    check: Literal["card_numbers"] = "card_numbers"
    tables: list[str] | Literal["all"] = "all"


def searched_columns(table) -> list:
    """The columns of a contract table that may hold a card number: free text and JSON."""
    return [c for c in table.columns.values() if c.type in ("string", "json") and not c.values]


class CardNumbers(Check):
    Params = Params
    # a hit's reason names the column (table.column) that held the number
    outcomes = {"none": "ok"}
    reads_one_table = False
    union_of_tables = True

    def validate(self, p: Params, v: Validator) -> None:
        if p.tables != "all":
            for name in p.tables:
                v.table(name, "params.tables")

    def bind(self, r: Render) -> dict:
        p, contract, b = r.params, r.contract, r.b
        names = list(contract.tables) if p.tables == "all" else list(p.tables)
        if r.present is not None:
            names = [n for n in names if n in r.present]
        scans = []
        for n in names:
            tt = contract.table(n)
            cols = searched_columns(tt)
            if cols:
                scans.append({"ident": q(n), "subject": subject(tt), "record_id": record_id(tt),
                              "label": b.bind(n),
                              "columns": [{"ident": q(c.name), "label": b.bind(f"{n}.{c.name}"),
                                           "row_by_row": tt.key == [c.name] or not r.distinct_values}
                                          for c in cols]})
        r.tables += names[:1]
        return {"scans": scans}

    def describe(self, res: dict, p: Params | None) -> str:
        return f"**{res['violations']:,}** text cells hold a full, checksum-valid card number ({res['population']:,} rows scanned)."

    def gx_hints(self, p: Params, contract, as_of) -> list:
        names = list(contract.tables) if p.tables == "all" else p.tables
        return [(n, "ExpectColumnValuesToNotMatchRegex", {"column": c.name, "regex": r"\d(?:[ -]?\d){11,18}"})
                for n in names for c in searched_columns(contract.table(n))]

    def claims(self, p) -> list:
        tables = [] if p.params.tables == "all" else p.params.tables
        return [pledge_claim(p, "collected", Value("no", text="not kept"),
                             pledge_data(p, tables=tables, scope=["full_card_number"]))]


CHECK = CardNumbers()
