"""Synthetic exports with known truth.

`generate_world(out_dir, policy, ...)` writes one file per contract table for a fictional
company (accounts, orders, payments, web access logs, consents, marketing, requests, tickets,
backups, affiliate exports...) plus `manifest.json`, and returns the manifest. For every pledge
of the policy the manifest holds the exact expected `violations`, `exempt` and `population`,
computed over exactly the rows written by `pledgecheck.synth.truth`, a Python implementation of
docs/CHECKS.md written independently of the SQL checks.

The data are plausible and deterministic for a seed: a few heavy users, an evening-heavy
time-of-day curve, jurisdictions EU 45% / UK 15% / US-CA 15% / OTHER 25%, and a minority of
violations of every kind the policy checks. The policy's own parameters place most records
inside its limits, per pledge: history reaches past the longest retention period and the
retention is then executed (expired rows purged except a few misses per pledge, held rows and
exempt rows); each deadline-bound record ends against the strictest pledge that applies to it,
with boundary cases forced for every pledge; marketing sends and tracker fires are drawn
mostly under a valid consent and outside opt-outs; finally each pledge keeps about 3% of its
population in violation (at least two where it can): the excess is fixed (address truncated,
column emptied, identifier removed, cell raised to k) or dropped (sends, usage over the limit),
and a too-clean table gets a couple of rows spoiled. Edge cases are planted on purpose: requests received on 31 Jan,
month ends, 29 Feb 2024, weekends and public holidays, with completions exactly on and one day
after the due date; extension notices on the last day of the notice window and the day after;
legal holds starting or ending exactly on the as-of date and the day before; withdrawn,
expired, tied (grant and withdrawal at one instant) and missing consents; erased customers with
leftovers and backups inside and past the rotation; truncated and full IPv4/IPv6 addresses;
card numbers of many brands (with spaces or dashes, Mastercard 2-series included) in free
text, next to masked numbers and Luhn-invalid digit runs that must not count; stored CVVs;
weak password hashes; identifiers in affiliate rows; aggregate cells under k; download counts
over the monthly limit; under-age sign-ups (29 Feb birthdays included); timestamps after the
as-of date and null optional timestamps. Names and e-mails are fake (`user12@example.test`).

Memory stays bounded at any size: the world is built in shards of at most `SHARD_ACCOUNTS`
accounts (one shard for small worlds). Each shard is a world of its own customers (numbered on
from the previous shard's), with their orders, consents, requests, holds, erasures, backups
and access-log share (`events` split in proportion to the accounts, generated in chunks of at
most `CHUNK_ROWS` rows), drawn from random streams of its own (shard 0 keeps the plain stream
names, so a one-shard world is the same as before sharding). Every other id of shard k > 0 is
numbered in a block of its own (from k * ID_BLOCK + 1), so keys are unique across shards and a
shard needs nothing of the ones before it: `workers` processes build shards at once, each
shard's tables are encoded into chunk files, and the parent appends them in shard order to the
table's single file (Parquet row groups, CSV/JSONL/log lines), so the files do not depend on
the number of workers. The truth of a shard is computed over its rows and its own auxiliary
tables, then added up (`Truth.absorb`): every check is per row or per subject, and subjects
(accounts and anonymous visitors) never span shards. The registers that are not about
accounts (breaches, vulnerability reports, affiliate exports) get a share per shard; the
shared aggregates, a fixed-size register, come from shard 0.

## Generator notes
Decisions on points docs/CHECKS.md leaves open (the expected counts follow them):
- "After A" (future) means `date(x) > A`: an event on the as-of date itself is evaluated.
  This holds for every check, minimum_age included (a future `at` is `unknown`).
- Pledge `jurisdictions` filter the rows of every table that has a `jurisdiction` column,
  also inside the multi-table checks (card_numbers, erasure_completeness); rows whose
  jurisdiction is null are out of scope when the pledge lists jurisdictions.
- `where` values are compared as text (booleans as `true`/`false`); a null never matches.
- "Blank" means empty or whitespace only; the generator writes only space-only blanks.
- Deadlines: the calendar is the pledge's `calendar`, else the policy's. `next_working_day`
  moves both the original and the extended due date; an extension in a different unit is
  added to the (moved) original due date. The notice window (`notice_within`) is counted from
  `date(s)` and is not moved. A completion after the as-of date is judged like any other.
- consent_coverage: the event instant is the table's first anchor. optout_latency: a grant
  lifts an opt-out when `u < grant ts <= t` (a grant at the opt-out instant does not).
- ip_truncation: an IPv4 address is a dotted quad of decimal octets without leading zeros;
  an IPv6 address is written in hex groups and colons only (`::` allowed; no embedded IPv4,
  no zone index). Anything else is "not an IP" (`unknown`).
- card_numbers: runs are maximal, so a card number followed by ` 2024` is a 20-digit run and
  not a card number; two spaces or a space and a dash break a run.
- usage_limit: the calendar month or year is the UTC one; a null subject forms a group.
- erasure_completeness / backup_rotation: only evaluation rows are counted, so for erasure
  `population` = violations + exempt; a hold makes a leftover `exempt`; `grace`/`rotation` in
  business days use the policy calendar.
- retention in business days uses the policy calendar; in hours, `expiry` is midnight of
  `date(anchor)` plus the hours.
"""
from __future__ import annotations

import ctypes
import gc
import json
import multiprocessing as mp
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ..contract import Contract, load_contract
from ..policy import Policy
from .truth import Truth
from .values import (
    CHUNK_ROWS, EXTENSIONS, FORMATS, GENERATOR, MIN_SHARD_ACCOUNTS, OFFSET_TABLES, SHARD_ACCOUNTS,
    address_pool,
)
from .world import World

def generate_world(out_dir: Path, policy: Policy, seed: int = 1, accounts: int = 1000, events: int | None = None,
                   as_of: date = date(2026, 11, 1), fmt: str = "parquet", access_log_format: str = "table",
                   progress: Callable[[str, int], None] | None = None,
                   shard_accounts: int | None = None, workers: int = 1, truth: bool = True,
                   planted: Collection[str] | None = None, empty: Collection[str] = (),
                   damaged: dict[str, float] | None = None) -> dict:
    """Write a synthetic export for `policy` into `out_dir`; return (and write) its manifest.

    The world is built in shards of at most `shard_accounts` accounts (default SHARD_ACCOUNTS),
    each appended to every table's file, so memory stays bounded at any size. `workers` > 1
    builds that many shards at once in worker processes (the files are the same as with one);
    the workers are spawned, so a script that calls this with `workers` > 1 must do so under
    `if __name__ == "__main__":` (Python's rule for spawned processes). `truth=False` skips the
    ground truth (about 40% of the work): the manifest then has no `expected` counts, which
    suits benchmark worlds. `planted` (pledge ids; default every pledge), `empty` (tables) and
    `damaged` ({table: share of unreadable rows}) make a plausible month (see pledgecheck.realism)."""
    if fmt not in (*FORMATS, "mixed"):
        raise ValueError(f"format {fmt!r}: use parquet, csv, jsonl or mixed")
    if access_log_format not in ("table", "combined"):
        raise ValueError(f"access_log_format {access_log_format!r}: use table or combined")
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    events = 20 * accounts if events is None else events
    if events < 0:
        raise ValueError("events cannot be negative")
    size = SHARD_ACCOUNTS if shard_accounts is None else shard_accounts
    if size < MIN_SHARD_ACCOUNTS:
        raise ValueError(f"shard_accounts must be at least {MIN_SHARD_ACCOUNTS}")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    contract = load_contract()
    _remove_previous(out, contract)

    formats = {}
    for i, name in enumerate(contract.tables):
        formats[name] = FORMATS[i % 3] if fmt == "mixed" else fmt
        if name == "web_access_logs" and access_log_format == "combined":
            formats[name] = "combined"
        if name in (damaged or {}):
            formats[name] = "csv"   # realism.damage appends unreadable lines
    sinks = {name: _Sink(out / f"{name}.{EXTENSIONS[formats[name]]}", formats[name],
                         _arrow_schema(contract.table(name), name in OFFSET_TABLES)) for name in contract.tables}
    shards = -(-accounts // size)
    bounds = [accounts * k // shards for k in range(shards + 1)]
    whole = Truth(policy, as_of, {}, contract) if truth else None
    counts = dict.fromkeys(contract.tables, 0)
    with tempfile.TemporaryDirectory(prefix=".shards-", dir=out) as tmp:
        jobs = [_ShardJob(policy, seed, as_of, k, bounds[k], bounds[k + 1],
                          events * bounds[k + 1] // accounts - events * bounds[k] // accounts,
                          formats, accounts, Path(tmp) / f"shard{k}", truth, CHUNK_ROWS,
                          None if planted is None else tuple(sorted(planted)), tuple(empty)) for k in range(shards)]
        try:
            for done in _shards_in_order(jobs, workers):
                for name in contract.tables:  # append the shard's parts in table and chunk order
                    for part, rows in done.parts[name]:
                        sinks[name].append(part)
                        counts[name] += rows
                        if progress:
                            progress(name, counts[name])
                if whole is not None:
                    whole.absorb(done.tally)
                shutil.rmtree(Path(tmp) / f"shard{done.k}", ignore_errors=True)
        finally:
            for sink in sinks.values():
                sink.close()
            address_pool.cache_clear()  # drawn here if this process built shards itself

    quarantined = {}
    for name, share in sorted((damaged or {}).items()):
        from .realism import damage

        quarantined[name] = damage(sinks[name].path, contract.table(name), share, counts[name])
    manifest = {
        "generator": GENERATOR, "policy": policy.id, "seed": seed, "accounts": accounts, "events": events,
        "as_of": as_of.isoformat(), "format": fmt, "tables": counts,
        "expected": whole.expected() if whole is not None else None,
    }
    if planted is not None or empty or quarantined:   # a plausible month (pledgecheck.realism)
        manifest.update(planted=None if planted is None else sorted(planted), empty=sorted(empty),
                        quarantined=quarantined)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


@dataclass(frozen=True)
class _ShardJob:
    """One shard to build: its accounts [lo, hi) of the world's, its share of the access log."""
    policy: Policy
    seed: int
    as_of: date
    k: int
    lo: int
    hi: int
    events: int
    formats: dict[str, str]
    world_accounts: int  # accounts of the whole world (sizes the address pool)
    parts: Path          # folder the shard's encoded chunks are written to
    truth: bool
    chunk_rows: int
    planted: tuple[str, ...] | None = None   # pledges that keep their violations (None: all)
    empty: tuple[str, ...] = ()              # tables written without rows


@dataclass
class _ShardDone:
    k: int
    parts: dict[str, list[tuple[Path, int]]]  # table -> its chunk files in order, with their rows
    tally: list | None                         # Truth.tally() of the shard


def _shards_in_order(jobs: list[_ShardJob], workers: int) -> Iterator[_ShardDone]:
    """Build the shards, in this process or in `workers` processes at once; yield them in
    order. At most `workers` + 1 shards are built or waiting at a time (bounded memory)."""
    if workers == 1 or len(jobs) == 1:
        for job in jobs:
            yield _build_shard(job)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        todo = iter(jobs)
        pending = deque(pool.submit(_build_shard, job) for job in islice(todo, workers + 1))
        while pending:
            done = pending.popleft().result()
            pending.extend(pool.submit(_build_shard, job) for job in islice(todo, 1))
            yield done


def _build_shard(job: _ShardJob) -> _ShardDone:
    """Build one shard and write each of its tables as encoded chunk files (with its truth)."""
    contract = load_contract()
    world = World(job.policy, job.seed, job.hi - job.lo, job.as_of, contract, shard=job.k, offset=job.lo,
                  world_accounts=job.world_accounts)
    tables = world.build()
    realistic = None
    if job.planted is not None or job.empty:
        from .realism import keep_planted

        realistic = keep_planted(tables, job.policy, job.as_of, contract,
                                 job.planted if job.planted is not None else [p.id for p in job.policy.pledges],
                                 job.empty)
    part = Truth(job.policy, job.as_of, tables, contract) if job.truth else None  # this shard's holds, consents...
    job.parts.mkdir(parents=True, exist_ok=True)
    parts = {}
    for name in contract.tables:
        if name == "web_access_logs":
            chunks = world.access_log_chunks(job.events, job.formats[name] == "combined", job.chunk_rows)
            if realistic is not None and job.planted is not None:
                from .realism import clean_chunks

                chunks = clean_chunks(chunks, realistic, job.policy, job.planted, name)
        else:
            chunks = iter([tables.pop(name)])
        parts[name] = _write_parts(job.parts / name, job.formats[name], name, chunks, part, world)
    tally = part.tally() if part is not None else None
    del world, tables, part, chunks
    _release_memory()
    return _ShardDone(job.k, parts, tally)


def _release_memory() -> None:
    """Between shards: collect cycles and hand freed heap pages back to the system (glibc), so
    that the resident size does not creep up from shard to shard."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def _remove_previous(out: Path, contract: Contract) -> None:
    """Files an earlier run left (another format) would be ingested too: remove them, and the
    chunk files of a run that was stopped."""
    for name in contract.tables:
        for ext in EXTENSIONS.values():
            (out / f"{name}.{ext}").unlink(missing_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)
    for tmp in out.glob(".shards-*"):
        shutil.rmtree(tmp, ignore_errors=True)


# ================================================================ writing
def _write_parts(stem: Path, fmt: str, name: str, chunks: Iterator[pl.DataFrame], truth: Truth | None,
                 world: World) -> list[tuple[Path, int]]:
    """Encode `chunks` of one table (one shard's) into chunk files `stem.<i>` ready to be
    appended to the table's file (Arrow IPC for Parquet, text otherwise), feeding the truth
    with exactly what is written; returns the files and their rows."""
    table = world.contract.table(name)
    rng = world.rng(f"offsets/{name}")
    out = []
    for i, chunk in enumerate(chunks):
        chunk = chunk.select(list(table.columns))
        if truth is not None:
            truth.observe(name, chunk)
        path = stem.with_name(f"{stem.name}.{i}")
        if fmt == "combined":
            _combined_lines(chunk, rng).to_frame().write_csv(path, include_header=False, quote_style="never")
        else:
            data = _serialise(chunk, table, fmt, rng, name in OFFSET_TABLES)
            if fmt == "parquet":
                arrow = data.to_arrow()
                with pa.ipc.new_file(path, arrow.schema) as w:
                    w.write_table(arrow)
            elif fmt == "csv":
                data.write_csv(path, include_header=False)
            else:
                data.write_ndjson(path)
        out.append((path, chunk.height))
    return out


def _arrow_schema(table, offsets: bool) -> pa.Schema:
    types = {"string": pa.string(), "integer": pa.int64(), "decimal": pa.float64(), "boolean": pa.bool_(),
             "date": pa.date32(), "json": pa.string(),
             "timestamp": pa.string() if offsets else pa.timestamp("us", tz="UTC")}
    return pa.schema([(c.name, types[c.type]) for c in table.columns.values()])


OFFSETS_MIN = np.array([0, 0, 120, 60, -300, -480, 330, 0])
OFFSET_TEXT = np.array(["Z", "+00:00", "+02:00", "+01:00", "-05:00", "-08:00", "+05:30", "Z"])


def _serialise(df: pl.DataFrame, table, fmt: str, rng: np.random.Generator, offsets: bool):
    """The frame as written: Arrow for Parquet (UTC timestamps), text times for CSV/JSONL."""
    zone = rng.integers(0, len(OFFSETS_MIN), df.height) if offsets else None
    exprs = []
    for c in table.columns.values():
        col = pl.col(c.name)
        if c.type == "timestamp" and offsets:
            local = col + pl.duration(minutes=pl.Series(OFFSETS_MIN[zone]))
            text = local.dt.strftime("%Y-%m-%dT%H:%M:%S") + pl.Series(OFFSET_TEXT[zone])
            exprs.append(pl.when(col.is_null()).then(None).otherwise(text).alias(c.name))
        elif c.type == "timestamp" and fmt != "parquet":
            exprs.append(col.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
        elif c.type == "timestamp":
            exprs.append(col.dt.replace_time_zone("UTC"))
        elif c.type == "date" and fmt != "parquet":
            exprs.append(col.dt.strftime("%Y-%m-%d"))
        else:
            exprs.append(col)
    return df.select(exprs)


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _combined_lines(df: pl.DataFrame, rng: np.random.Generator) -> pl.Series:
    """Apache/Nginx combined log lines (a tenth of them in +02:00 local time)."""
    shift = np.where(rng.random(df.height) < 0.1, 120, 0)
    local = pl.col("ts") + pl.duration(minutes=pl.Series(shift))
    month = local.dt.month().cast(pl.Int64).replace_strict(list(range(1, 13)), MONTHS, return_dtype=pl.Utf8)
    zone = pl.Series(np.where(shift == 120, "+0200", "+0000"))
    return df.select(pl.concat_str([
        pl.col("ip"), pl.lit(" - - ["), local.dt.strftime("%d"), pl.lit("/"), month, pl.lit("/"),
        local.dt.strftime("%Y:%H:%M:%S"), pl.lit(" "), zone, pl.lit('] "'), pl.col("method"), pl.lit(" "),
        pl.col("path"), pl.lit(' HTTP/1.1" '), pl.col("status").cast(pl.Utf8).fill_null("-"), pl.lit(" "),
        pl.col("bytes").cast(pl.Utf8).fill_null("-"), pl.lit(' "'), pl.col("referrer").fill_null("-"),
        pl.lit('" "'), pl.col("user_agent").fill_null("-"), pl.lit('"'),
    ]))[:, 0]


class _Sink:
    """One output file, written by appending encoded chunk files (see `_write_parts`)."""

    def __init__(self, path: Path, fmt: str, schema: pa.Schema):
        self.path, self.fmt, self.schema = path, fmt, schema
        self.writer: pq.ParquetWriter | None = None
        self.file = None if fmt == "parquet" else open(path, "wb")
        if fmt == "csv":  # the header, also when there are no rows: it says what the table is
            self.file.write((",".join(schema.names) + "\n").encode())

    def append(self, part: Path) -> None:
        """Append one chunk file (and remove it)."""
        if self.fmt == "parquet":
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.path, self.schema)
            with pa.memory_map(str(part)) as src:
                self.writer.write_table(pa.ipc.open_file(src).read_all().cast(self.schema))
        else:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, self.file, 1 << 20)
        part.unlink()

    def close(self) -> None:
        if self.fmt == "parquet":
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.path, self.schema)
            self.writer.close()
        elif self.file:
            self.file.close()
