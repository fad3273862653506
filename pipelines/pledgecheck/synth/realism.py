"""A plausible month for the demo sample: most pledges kept, violations planted in a share of
them, a few registers with nothing in them, a few unreadable rows.

The generator (`pledgecheck.generate`) plants violations for every pledge: the world the tests
need. With `planted=` it keeps the violations of those pledges only: after a shard is built,
the rows that break any other pledge are removed (retention executed, erasures completed,
late requests and sends without consent never made, full addresses, cards and under-age
sign-ups gone...), twice over, since removing a consent can break another pledge. Whatever
remains is what is written and what the ground truth counts, so the manifest stays exact; a
pledge whose violations could not all be removed is simply broken in the manifest too.

`empty=` tables are written with no rows (pledges on them have nothing in scope), and
`damaged=` tables get a few rows no reader can type (quarantined at ingestion; the manifest
counts them apart, and the truth never sees them).
"""
from __future__ import annotations

import csv
from collections.abc import Collection, Iterator
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from ..contract import Contract
from ..policy import Policy
from .truth import DAY, VIOLATION, Context, card_cells, card_columns, day_of, outcomes, pledge_tables

PLANTED_SHARE = 0.2        # pledges with planted violations in the demo sample
EMPTY = ("breach_incidents", "minor_reports")   # registers with nothing this period in the demo sample
DAMAGED = {"data_subject_requests": 1 / 300}    # share of unreadable rows added to these tables (as CSV)


def choose_planted(policy: Policy, share: float = PLANTED_SHARE, seed: int = 1) -> list[str]:
    """About `share` of the policy's pledges, drawn deterministically. Pledges with the same
    check over the same tables (the same promise stated in several sections, or the same
    consent log read for several purposes) share their violating rows, so they are drawn
    together: otherwise planting one would break the others too."""
    from ..contract import load_contract

    contract = load_contract()
    clusters: dict[tuple, list[str]] = {}
    for p in policy.pledges:
        clusters.setdefault((p.check, tuple(pledge_tables(p, contract))), []).append(p.id)
    keys = sorted(clusters)
    rng = np.random.default_rng(seed)
    target, chosen = max(1, round(share * len(policy.pledges))), []
    for i in rng.permutation(len(keys)):
        ids = clusters[keys[i]]
        if len(chosen) + len(ids) <= target:
            chosen += ids
    return sorted(chosen or clusters[keys[0]])


def _violating(ctx: Context, pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    p = pledge.params
    if p.check == "card_numbers":
        return (card_cells(df, card_columns(ctx.table(table))) > 0) & ctx.scope(pledge, table, df)
    if p.check == "usage_limit":   # rows beyond the limit in their (subject, period)
        at = ctx.first_anchor(table, df)
        rows = ctx.scope(pledge, table, df) & ctx.known(at)
        unit = "datetime64[M]" if p.per == "calendar_month" else "datetime64[Y]"
        g = pl.DataFrame({"s": ctx.subject(table, df), "p": day_of(at).astype(unit).astype(DAY), "in": rows})
        rank = g.with_columns(pl.int_range(pl.len()).over(["s", "p", "in"]).alias("r"))["r"].to_numpy()
        return rows & (rank >= p.max)
    return outcomes(ctx, pledge, table, df) == VIOLATION


def clean_frame(ctx: Context, clean: list, keep: list, table: str, df: pl.DataFrame) -> pl.DataFrame:
    """`df` without the rows that break a pledge of `clean` on `table`, sparing the rows that
    break a pledge of `keep` (the planted violations)."""
    if not df.height:
        return df
    spared = np.zeros(df.height, dtype=bool)
    for pledge in keep:
        if table in pledge_tables(pledge, ctx.contract):
            spared |= _violating(ctx, pledge, table, df)
    bad = np.zeros(df.height, dtype=bool)
    for pledge in clean:
        if table in pledge_tables(pledge, ctx.contract):
            bad |= _violating(ctx, pledge, table, df)
    return df.filter(pl.Series(~bad | spared)) if (bad & ~spared).any() else df


def _split(policy: Policy, planted: Collection[str]) -> tuple[list, list]:
    chosen = set(planted)
    return ([p for p in policy.pledges if p.id not in chosen], [p for p in policy.pledges if p.id in chosen])


def keep_planted(tables: dict[str, pl.DataFrame], policy: Policy, as_of: date, contract: Contract,
                 planted: Collection[str], empty: Collection[str] = ()) -> Context:
    """Remove, in place, the violations of every pledge not in `planted`; empty the `empty`
    tables. Returns the context for the tables streamed later (web access logs)."""
    for name in empty:
        if name in tables:
            tables[name] = tables[name].clear()
    clean, keep = _split(policy, planted)
    for _ in range(2):
        ctx = Context(policy, as_of, tables, contract)
        for name in list(tables):
            tables[name] = clean_frame(ctx, clean, keep, name, tables[name])
    return Context(policy, as_of, tables, contract)


def clean_chunks(chunks: Iterator[pl.DataFrame], ctx: Context, policy: Policy, planted: Collection[str],
                 table: str) -> Iterator[pl.DataFrame]:
    clean, keep = _split(policy, planted)
    for chunk in chunks:
        yield clean_frame(ctx, clean, keep, table, chunk)


def damage(path: Path, table, share: float, rows: int) -> int:
    """Append unreadable rows to the CSV `path` (a timestamp no reader can type); returns how many."""
    n = max(1, round(share * rows))
    ts = next(c.name for c in table.columns.values() if c.type == "timestamp")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        like = next(reader, None)   # a real-looking row, but for its key and one timestamp
    with open(path, "a", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        for i in range(n):
            row = dict(zip(header, like)) if like else {c: "" for c in header}
            for k in table.key:
                row[k] = f"damaged-{i + 1}"
            row[ts] = "31/31/2026 25:61"
            w.writerow([row[c] for c in header])
    return n


def plausible(policy: Policy, seed: int = 1) -> dict:
    """generate_world's options for a plausible month (the demo sample): violations planted in
    PLANTED_SHARE of the pledges, the EMPTY registers empty, DAMAGED rows unreadable."""
    from ..contract import load_contract

    tables = load_contract().tables
    return {"planted": choose_planted(policy, PLANTED_SHARE, seed), "empty": [t for t in EMPTY if t in tables],
            "damaged": {t: s for t, s in DAMAGED.items() if t in tables}}


def ensure_sample(folder: Path, as_of: date, policy: Policy | None = None, seed: int = 1,
                  accounts: int = 1000) -> bool:
    """The bundled sample (`make demo`, the notebooks): a plausible month for lustmonster,
    generated when `folder` holds none (or holds a world with every pledge planted, which the
    tests write). Returns whether it was generated."""
    import json

    from .generate import generate_world
    from ..policy import load_policy, resolve_policy

    manifest = Path(folder) / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text(encoding="utf-8")).get("planted") is not None:
        return False
    pol = policy or load_policy(resolve_policy("lustmonster"))
    generate_world(Path(folder), pol, seed=seed, accounts=accounts, as_of=as_of, **plausible(pol, seed))
    return True
