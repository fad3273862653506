"""Ad-hoc checks an analyst runs on any file or date.

- `scan_path`: a personal-data scan of a file or folder (cards, e-mails, full IPs).
- `k_anonymity`: k, l, equivalence classes and unique rows of a table before it is shared.
- `deadlines`: due dates of a request under every regime the policies use.

Each returns a plain dict whose keys are documented in docs/ADHOC.md and kept stable.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

from .detectors import find_all, names_in
from .engine import connect, lit, q
from .errors import PledgecheckError

TEXT_SUFFIXES = {".txt", ".log", ".html", ".htm", ".md", ".ipynb", ".json", ".xml", ".sql", ".py", ".yaml",
                 ".yml", ".svg", ".tsv"}
MAX_FINDINGS = 10_000   # findings listed; counts and distinct values always cover the whole input
FAST_BYTES = 8 << 20    # text files from this size on are counted by pledgecheck.textscan


# ---------------------------------------------------------------- personal-data scan
def scan_path(path: str | Path, names: set[str] | None = None, max_findings: int = MAX_FINDINGS,
              workers: int | None = None, fast_bytes: int = FAST_BYTES) -> dict:
    """Scan a file or every file below a folder.

    Keys: files_scanned, bytes_scanned, findings (the first `max_findings`, in file and line
    order), counts and distinct (per kind, over the WHOLE input: totals, never cut off by the cap),
    truncated (the list holds fewer findings than counted), max_findings. Text files of
    `fast_bytes` or more are counted by `textscan` (one process per core, or `workers`); their
    findings list is read line by line up to the cap only."""
    root = Path(path)
    if not root.exists():
        raise PledgecheckError(f"{root}: no such file or folder")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    findings: list[dict] = []
    counts: Counter = Counter()
    keys: dict[str, set[bytes]] = {}
    scanned = nbytes = 0
    for f in files:
        kind = _file_kind(f)
        if kind is None:
            continue
        scanned += 1
        size = f.stat().st_size
        nbytes += size
        if kind == "text" and size >= fast_bytes:
            from .textscan import count_file

            c, k, _ = count_file(f, names, workers)
            counts.update(c)
            for kd, s in k.items():
                keys.setdefault(kd, set()).update(s)
            if len(findings) < max_findings:
                items = _scan_file(f, kind, names or set())
                for item, _key in items:
                    findings.append(item)
                    if len(findings) >= max_findings:
                        break
                items.close()
            continue
        for item, key in _scan_file(f, kind, names or set()):
            counts[item["kind"]] += 1
            keys.setdefault(item["kind"], set()).add(key)
            if len(findings) < max_findings:
                findings.append(item)
    return {"files_scanned": scanned, "bytes_scanned": nbytes, "findings": findings,
            "counts": dict(sorted(counts.items())),
            "distinct": {kd: len(keys.get(kd, ())) for kd in sorted(counts)},
            "truncated": sum(counts.values()) > len(findings), "max_findings": max_findings}


def _is_agent(column: str | None) -> bool:
    """A column (or JSON key) that holds User-Agent strings: its e-mails are software's."""
    c = (column or "").lower()
    return "agent" in c or c in ("ua", "http_ua")


def _file_kind(f: Path) -> str | None:
    suffixes = [s.lower() for s in f.suffixes]
    if not suffixes:
        return "text"
    s = suffixes[-1]
    if s == ".parquet":
        return "parquet"
    if s == ".csv":
        return "csv"
    if s in (".jsonl", ".ndjson"):
        return "jsonl"
    if s in TEXT_SUFFIXES or s.startswith(".log") or (len(suffixes) > 1 and suffixes[-2] == ".log"):
        return "text"
    if s in (".png", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".gz", ".zip", ".duckdb", ".pyc"):
        return None
    return "text"


def _finding(f: Path, kind: str, masked: str, line: int | None = None, row: int | None = None,
             column: str | None = None) -> dict:
    return {"file": str(f), "line": line, "row": row, "column": column, "kind": kind, "masked": masked}


def _scan_file(f: Path, kind: str, names: set[str]):
    """(finding, value digest) of each finding of a file, in order."""
    if kind == "parquet":
        yield from _scan_parquet(f, names)
        return
    if kind == "text":
        from .textscan import findings_in_order

        try:
            for n, h in findings_in_order(f, names):
                yield _finding(f, h.kind, h.masked, line=n, column=h.column), h.key
        except OSError as e:
            raise PledgecheckError(f"{f}: cannot read ({e.strerror})") from None
        return
    try:
        handle = open(f, encoding="utf-8", errors="replace", newline="")
    except OSError as e:
        raise PledgecheckError(f"{f}: cannot read ({e.strerror})") from None
    with handle:
        if kind == "csv":
            reader = csv.reader(handle)
            header = next(reader, [])
            for i, rec in enumerate(reader, start=1):
                for j, value in enumerate(rec):
                    col = header[j] if j < len(header) else f"column {j + 1}"
                    for h in _value_hits(value, col, names):
                        yield _finding(f, h.kind, h.masked, line=reader.line_num, row=i, column=col), h.key
        else:
            for n, text in enumerate(handle, start=1):
                if kind == "jsonl":
                    try:
                        obj = json.loads(text)
                    except ValueError:
                        obj = None
                    if isinstance(obj, dict):
                        for key, value in obj.items():
                            s = value if isinstance(value, str) else json.dumps(value)
                            for h in _value_hits(s, key, names):
                                yield _finding(f, h.kind, h.masked, line=n, row=n, column=key), h.key
                        continue
                for h in find_all(text) + (names_in(text, names) if names else []):   # (a line that is no JSON)
                    yield _finding(f, h.kind, h.masked, line=n), h.key


def _value_hits(value: str, column: str | None, names: set[str]):
    hits = find_all(value, software=_is_agent(column))
    return hits + names_in(value, names) if names else hits


def _scan_parquet(f: Path, names: set[str]):
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(f)
    except Exception as e:  # noqa: BLE001 - pyarrow raises several types for broken files
        raise PledgecheckError(f"{f}: not a readable Parquet file ({e})") from None
    row0 = 0
    text_cols = [fld.name for fld in pf.schema_arrow if str(fld.type) in ("string", "large_string")]
    for batch in pf.iter_batches(batch_size=65536, columns=text_cols or None):
        for name in text_cols:
            for i, value in enumerate(batch.column(name).to_pylist()):
                if value:
                    for h in _value_hits(value, name, names):
                        yield _finding(f, h.kind, h.masked, row=row0 + i + 1, column=name), h.key
        row0 += batch.num_rows


# ---------------------------------------------------------------- k-anonymity
def _relation(f: Path) -> str:
    if not f.is_file():
        raise PledgecheckError(f"{f}: no such file")
    s = [x.lower() for x in f.suffixes if x.lower() != ".gz"]
    ext = s[-1] if s else ""
    if ext == ".parquet":
        return f"read_parquet({lit(f)})"
    if ext == ".csv":
        return f"read_csv({lit(f)}, header = true)"
    if ext in (".jsonl", ".ndjson", ".json"):
        return f"read_json({lit(f)}, format = 'newline_delimited')"
    raise PledgecheckError(f"{f}: unsupported format {ext or '(none)'}; use CSV, Parquet or JSON Lines")


def k_anonymity(path: str | Path, quasi_identifiers: list[str], sensitive: list[str] | None = None,
                k: int | None = None, max_classes: int = 100) -> dict:
    """k (smallest class), l (fewest distinct sensitive values in a class), classes, unique rows.

    Keys: file, rows, quasi_identifiers, sensitive, k, l, equivalence_classes, unique_rows,
    threshold, classes_below_threshold (each: values of the quasi-identifiers, size).
    Null values of a quasi-identifier form their own value (as in a GROUP BY).
    """
    f = Path(path)
    if not quasi_identifiers:
        raise PledgecheckError("name at least one quasi-identifier column (--qi)")
    con = connect()
    rel = _relation(f)
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
    except Exception as e:  # noqa: BLE001 - duckdb raises IO/Invalid input errors for unreadable files
        raise PledgecheckError(f"{f}: cannot read ({str(e).splitlines()[0]})") from None
    for c in quasi_identifiers + (sensitive or []):
        if c not in cols:
            raise PledgecheckError(f"{f}: unknown column {c!r}; the file has: {', '.join(cols)}")
    qi = ", ".join(q(c) for c in quasi_identifiers)
    l_expr = ", ".join(f"count(DISTINCT {q(s)})" for s in sensitive or []) or "NULL"
    con.execute(f"CREATE TEMP TABLE classes AS SELECT {qi}, count(*) AS size, "
                f"{'least(' + l_expr + ')' if sensitive and len(sensitive) > 1 else l_expr} AS l "
                f"FROM {rel} GROUP BY ALL")
    rows, k_val, l_val, n_classes, unique = con.execute(
        "SELECT coalesce(sum(size), 0), min(size), min(l), count(*), coalesce(sum(size) FILTER (size = 1), 0) "
        "FROM classes").fetchone()
    below = []
    if k:
        for rec in con.execute(f"SELECT {qi}, size FROM classes WHERE size < $k ORDER BY size, {qi} LIMIT $m",
                               {"k": k, "m": max_classes}).fetchall():
            below.append({"values": {c: _plain(v) for c, v in zip(quasi_identifiers, rec[:-1])}, "size": rec[-1]})
    return {"file": str(f), "rows": int(rows), "quasi_identifiers": quasi_identifiers, "sensitive": sensitive or [],
            "k": int(k_val) if k_val is not None else None, "l": int(l_val) if l_val is not None else None,
            "equivalence_classes": int(n_classes), "unique_rows": int(unique), "threshold": k,
            "classes_below_threshold": below}


def _plain(v):
    return v.isoformat() if isinstance(v, (date, datetime)) else v


# ---------------------------------------------------------------- deadline calculator
def parse_day(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PledgecheckError(f"--{field}: {text!r} is not a date; write YYYY-MM-DD") from None


REGIMES = [
    # (name, description, start anchor, end anchor, params) — evaluated by the same SQL deadline check
    ("gdpr", "GDPR Art. 12(3): one calendar month (+2 months if notified within the first month)",
     {"start": "received", "limit": "1 month", "extension": {"by": "2 months"}}),
    ("gdpr_uk_next_working_day", "UK GDPR as the ICO applies it: a deadline on a weekend or bank holiday "
     "moves to the next working day",
     {"start": "received", "limit": "1 month", "extension": {"by": "2 months"}, "next_working_day": True,
      "calendar": "GB-ENG"}),
    ("ccpa", "CCPA 11 CCR 7021: 45 calendar days (+45 with notice), from receipt",
     {"start": "received", "limit": "45 days", "extension": {"by": "45 days"}}),
    ("ccpa_acknowledge", "CCPA 11 CCR 7021: acknowledge within 10 business days",
     {"start": "received", "limit": "10 business days", "calendar": "US-CA"}),
    ("ccpa_opt_out", "CCPA 11 CCR 7026: act on an opt-out of sale/sharing within 15 business days",
     {"start": "received", "limit": "15 business days", "calendar": "US-CA"}),
]


def deadlines(received: date, verified: date | None = None, extension_notice: date | None = None,
              jurisdiction: str | None = None, calendar: str | None = None, policy=None) -> dict:
    """Due dates under each regime. Keys: received, verified, extension_notice, regimes
    ({name: {description, start, due, extended_due, extension_applies}}), and one top-level
    object per regime name with `due` and `extended_due` (the documented short form)."""
    from .checks import get

    DeadlineParams = get("deadline").Params
    pledges = []
    for name, desc, prm in REGIMES:
        prm = dict(prm, table="data_subject_requests", end="completed")
        if calendar and prm.get("calendar") and name != "gdpr_uk_next_working_day":
            prm["calendar"] = calendar
        pledges.append((name, desc, DeadlineParams.model_validate(prm)))
    if policy is not None:
        for p in policy.pledges:
            prm = p.params
            if prm.check == "deadline" and prm.table == "data_subject_requests" and prm.end == "completed":
                if jurisdiction and p.jurisdictions != "all" and jurisdiction not in p.jurisdictions:
                    continue
                if prm.calendar is None and (prm.limit.unit == "business_days" or prm.next_working_day):
                    prm = prm.model_copy(update={"calendar": policy.policy.calendar})
                pledges.append((p.id, f"{p.quote} ({p.section})", prm, _request_like(prm, p.jurisdictions,
                                                                                    jurisdiction)))
    out_regimes = {}
    for name, desc, prm, *row in ((*x, None) if len(x) == 3 else x for x in pledges):
        due, ext_due, applies = _due_by_sql(prm, received, verified, extension_notice, row[0] if row else None)
        start = verified if prm.start == "verified" else received
        out_regimes[name] = {"description": desc, "start": _iso(start), "due": _iso(due),
                             "extended_due": _iso(ext_due), "extension_applies": applies}
    doc = {"received": received.isoformat(), "verified": _iso(verified), "extension_notice": _iso(extension_notice),
           "jurisdiction": jurisdiction, "regimes": out_regimes}
    for name, r in out_regimes.items():
        doc.setdefault(name, {"due": r["due"], "extended_due": r["extended_due"]})
    return doc


def _request_like(prm, jurisdictions, given: str | None) -> dict:
    """A request the pledge applies to: its `where` values (the first of each list) and one of
    its jurisdictions (the one asked for when it is among them)."""
    row = {}
    for col, v in (prm.where or {}).items():
        row[col] = v[0] if isinstance(v, list) else v
    if jurisdictions != "all" and jurisdictions:
        row["jurisdiction"] = given if given in jurisdictions else jurisdictions[0]
    elif given:
        row["jurisdiction"] = given
    return row


def _iso(d) -> str | None:
    return d.isoformat() if d else None


def _due_by_sql(prm, received: date, verified: date | None, notice: date | None, like: dict | None = None):
    """Run the deadline check's own SQL on a one-request table and read its due dates. `like`:
    column values that put the request in the pledge's scope (request type, jurisdiction...)."""
    from .checks import render
    from .contract import load_contract
    from .ingest import SQL_TYPES
    from .policy import Pledge, Policy, PolicyMeta
    from .runner import prepare

    contract = load_contract()
    t = contract.table("data_subject_requests")
    con = connect()
    cols = ", ".join(f"CAST(NULL AS {SQL_TYPES[c.type]}) AS {q(c.name)}" for c in t.columns.values())
    con.execute(f"CREATE TABLE data_subject_requests AS SELECT {cols} WHERE false")
    midnight = datetime.min.time()
    values = {"request_id": "r", "request_type": "access", "jurisdiction": "EU",
              "received_at": datetime.combine(received, midnight),
              "identity_verified_at": datetime.combine(verified, midnight) if verified else None,
              "extension_notified_at": datetime.combine(notice, midnight) if notice else None}
    values.update({k: v for k, v in (like or {}).items() if k in t.columns})
    names = list(values)
    con.execute(f"INSERT INTO data_subject_requests ({', '.join(q(n) for n in names)}) "
                f"VALUES ({', '.join('?' for _ in names)})", [values[n] for n in names])
    pledge = Pledge(id="calc.r", kind="request_deadline", category="user", quote="q", section="s", params=prm)
    as_of = max(received, verified or received)
    prepare(con, Policy(policy=PolicyMeta(id="calc", name="calculator"), pledges=[pledge]), as_of)
    rendered = render(pledge, contract, as_of)
    row = con.execute(f"SELECT due, due_original, due_extended FROM ({rendered.sql})", rendered.params).fetchone()
    if row is None:   # a request no pledge filter lets in: no due date under this pledge
        return None, None, False
    due, original, extended = row
    return original, (extended if prm.extension else None), due != original
