"""Generate data/CONTRACT.md, the human-readable page of the export contract."""
from __future__ import annotations

from .contract import Contract, load_contract

HEADER = """# The export contract

<!-- Generated from pipelines/pledgecheck/contract.yaml by `pledgecheck contract-doc`;
     tests/test_contract.py fails when this page and the contract differ. Do not edit by hand. -->

Every table pledgecheck reads, with its columns. An export folder holds one file per table
(`<table>.parquet`, `<table>.csv`, `<table>.jsonl`, optionally `.gz`) or a folder `<table>/` of
such parts; web access logs may also come as Apache/Nginx combined-format `*.log` files.
Missing tables are allowed: the pledges that need them are reported as *not checked*.

- **required**: the column must be present and non-null (else the row is quarantined).
- **optional**: the column may be absent from the file. Other columns must be present but may be empty.
- **key**: duplicates are quarantined. **subject**: identifies the person (pseudonymized in outputs).
- **personal data**: the Fides data category of the column (fideslang default taxonomy).
- Timestamps: ISO 8601; an offset in the value wins, naive values are read in the table's time
  zone; everything is stored in UTC. Booleans: true/false, t/f, 1/0, yes/no.
"""


def render_contract(contract: Contract | None = None) -> str:
    c = contract or load_contract()
    parts = [HEADER]
    for t in c.tables.values():
        parts.append(f"\n## `{t.name}`\n\n{t.description}\n")
        if t.timezone != "UTC":
            parts.append(f"\nNaive timestamps are read as {t.timezone}.\n")
        parts.append("\n| column | type | presence | personal data | notes |\n|---|---|---|---|---|\n")
        for col in t.columns.values():
            presence = "required" if col.required else ("optional" if col.optional else "present, may be empty")
            notes = []
            if col.key:
                notes.append("key")
            if col.subject:
                notes.append("subject")
            if col.values:
                notes.append("one of: " + ", ".join(f"`{v}`" for v in col.values))
            parts.append(f"| `{col.name}` | {col.type} | {presence} | {f'`{col.pii}`' if col.pii else ''} | "
                         f"{'; '.join(notes)} |\n")
        if t.anchors:
            parts.append("\nAnchors (instants pledges measure from): " +
                         ", ".join(f"`{a}` = `{e}`" for a, e in t.anchors.items()) + "\n")
        if t.exemptions:
            parts.append("\nRow exemptions: " + ", ".join(f"`{a}` = `{e}`" for a, e in t.exemptions.items()) + "\n")
    return "".join(parts)
