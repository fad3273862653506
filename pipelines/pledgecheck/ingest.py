"""Load an export folder into DuckDB without losing a row.

For every contract table the export may hold one or more files (`<table>.parquet`,
`<table>.csv`, `<table>.jsonl`, or a folder `<table>/` of such parts; web access logs also as
Apache/Nginx combined-format `*.log` files). Each file is read as it is (never modified), every
value is cast to the contract type, and each row either loads or goes to the `quarantine`
table with its file, line and reason. Per table and file:

    rows read = rows loaded + rows quarantined

Quarantined raw values may hold personal data: they stay in the local database
(`quarantine.raw`) and only counts and reasons reach reports.

Database layout after ingestion:
    <table>          typed rows (a view over _typed_<table> where the row passed)
    _typed_<table>   every row read, typed, with `_file`, `_line`, `_reason`
    quarantine       table_name, file, line, reason, raw (JSON of the raw values)
    ingest_log       table_name, file, format, rows_read, rows_loaded, rows_quarantined
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .contract import Column, Contract, Table, load_contract
from .engine import lit, q
from .errors import IngestError

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
           ".log": "combined"}
SQL_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "decimal": "DECIMAL(38,6)", "boolean": "BOOLEAN",
             "date": "DATE", "timestamp": "TIMESTAMP", "json": "VARCHAR"}
# Apache/Nginx "combined" format: host ident user [time] "request" status bytes "referer" "agent"
COMBINED = (r'^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\d+|-)'
            r'(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?\s*$')
UNIT_SEP = "\x1f"  # delimiter used to read text formats line by line
MAX_LINE = 64 * 1024 * 1024  # longest line read (bytes); a longer one makes the file unreadable, named


@dataclass
class FileResult:
    table: str
    file: str
    format: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0


@dataclass
class TableResult:
    table: str
    files: list[FileResult] = field(default_factory=list)
    error: str | None = None
    extra_columns: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def present(self) -> bool:
        return bool(self.files) and self.error is None


@dataclass
class IngestReport:
    export_dir: str
    tables: dict[str, TableResult]
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> quarantine reason -> rows
    # (table, file relative to the export, reason, rows) of every quarantined row kind, most rows first
    file_reasons: list[tuple[str, str, str, int]] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, str]:
        return {t: r.error for t, r in self.tables.items() if r.error}

    @property
    def present(self) -> set[str]:
        """The tables the export holds (read without a table-level error)."""
        return {t for t, r in self.tables.items() if r.present}

    def reconciles(self) -> bool:
        return all(f.rows_read == f.rows_loaded + f.rows_quarantined
                   for r in self.tables.values() for f in r.files)

    def as_rows(self) -> list[dict]:
        return [
            {"table": t, "present": r.present, "files": len(r.files), "rows_read": r.rows_read,
             "rows_loaded": r.rows_loaded, "rows_quarantined": r.rows_quarantined, "error": r.error,
             "quarantine_reasons": self.reasons.get(t, {})}
            for t, r in self.tables.items()
        ]


def find_files(export_dir: Path, table: str) -> list[tuple[Path, str]]:
    """The files of one table in an export folder, with their format, sorted by name."""
    found: list[Path] = []
    for ext in FORMATS:
        found += export_dir.glob(f"{table}{ext}")
        found += export_dir.glob(f"{table}{ext}.gz")
        found += export_dir.glob(f"{table}.*{ext}")  # e.g. web_access_logs.2026-10.log
    part_dir = export_dir / table
    if part_dir.is_dir():
        found += [p for p in part_dir.rglob("*") if p.is_file() and _fmt(p)]
    uniq = sorted(set(found))
    return [(p, _fmt(p)) for p in uniq if _fmt(p)]


def _fmt(p: Path) -> str | None:
    suffixes = [s for s in p.suffixes if s != ".gz"]
    return FORMATS.get(suffixes[-1]) if suffixes else None


def ingest(con: duckdb.DuckDBPyConnection, export_dir: str | Path, contract: Contract | None = None,
           tables: list[str] | None = None, progress: Callable[[str, int], None] | None = None) -> IngestReport:
    """Load every contract table found in `export_dir` into `con`."""
    contract = contract or load_contract()
    export = Path(export_dir)
    if not export.is_dir():
        raise IngestError(f"{export}: the export folder does not exist or is not a folder")
    con.execute("CREATE OR REPLACE TABLE quarantine (table_name VARCHAR, file VARCHAR, line BIGINT, "
                "reason VARCHAR, raw VARCHAR)")
    con.execute("CREATE OR REPLACE TABLE ingest_log (table_name VARCHAR, file VARCHAR, format VARCHAR, "
                "rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT)")
    report = IngestReport(str(export), {})
    for name in tables or list(contract.tables):
        t = contract.table(name)
        result = TableResult(name)
        report.tables[name] = result
        files = find_files(export, name)
        if not files:
            _empty_table(con, t)
            continue
        try:
            if all(fmt == "parquet" for _, fmt in files):
                _load_parquet_table(con, t, files, result)
            else:
                _load_table(con, t, files, result)
        except IngestError as e:
            result.error = str(e)
            result.files = []
            _empty_table(con, t)
        except duckdb.Error as e:  # unreadable file: name it, never a bare stack trace
            result.error = f"{files[0][0] if len(files) == 1 else export / name}: cannot read: {_first_line(e)}"
            result.files = []
            _empty_table(con, t)
        if progress:
            progress(name, result.rows_read)
    for r in report.tables.values():
        for f in r.files:
            con.execute("INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?)",
                        [f.table, f.file, f.format, f.rows_read, f.rows_loaded, f.rows_quarantined])
    summarize_quarantine(con, report, export)
    return report


def summarize_quarantine(con, report: IngestReport, export) -> None:
    """The report's quarantine reasons by kind (no file positions, no values: safe to show in
    reports), per table and per (table, file), from the `quarantine` table of either engine."""
    for table, reason, n in con.execute(
            "SELECT table_name, regexp_replace(reason, ' \\(first seen at .*\\)$', ''), count(*) FROM quarantine "
            "GROUP BY ALL ORDER BY 1, 3 DESC, 2").fetchall():
        report.reasons.setdefault(table, {})[reason] = n
    export = Path(export)
    for table, file, reason, n in con.execute(
            "SELECT table_name, file, regexp_replace(reason, ' \\(first seen at .*\\)$', '') AS r, count(*) "
            "FROM quarantine GROUP BY ALL ORDER BY 1, 4 DESC, 2, 3").fetchall():
        rel = Path(file).relative_to(export) if Path(file).is_relative_to(export) else Path(file).name
        report.file_reasons.append((table, Path(rel).as_posix(), reason, int(n)))


def require_tables(report: IngestReport, contract: Contract | None = None) -> None:
    """An export folder with no table of the contract is bad input: one line naming the folder
    (a wrong --export must not be checked as an export where every table is missing)."""
    if not any(r.files or r.error for r in report.tables.values()):
        contract = contract or load_contract()
        some = ", ".join(f"{t}.parquet" for t in list(contract.tables)[:3])
        raise IngestError(f"{report.export_dir}: no export file found (expected files such as {some}; "
                          "see data/CONTRACT.md)")


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:300]


def _kind(con, name: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None for a name in the current schema."""
    row = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ? "
                      "AND table_schema = current_schema()", [name]).fetchone()
    return row[0] if row else None


def _drop(con, name: str) -> None:
    """Drop a table or view of that name, whichever it is (a re-run may find either)."""
    kind = _kind(con, name)
    if kind:
        con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {q(name)}")


def _empty_table(con, t: Table) -> None:
    _drop(con, "_typed_" + t.name)
    cols = ", ".join(f"CAST(NULL AS {SQL_TYPES[c.type]}) AS {q(c.name)}" for c in t.columns.values())
    con.execute(f"CREATE OR REPLACE TABLE {q('_typed_' + t.name)} AS SELECT {cols}, "
                f"CAST(NULL AS VARCHAR) AS _file, CAST(NULL AS BIGINT) AS _line, CAST(NULL AS VARCHAR) AS _reason "
                f"WHERE false")
    con.execute(f"CREATE OR REPLACE VIEW {q(t.name)} AS SELECT {', '.join(q(c) for c in t.columns)} "
                f"FROM {q('_typed_' + t.name)} WHERE _reason IS NULL")


# ------------------------------------------------------------------ raw readers
# Each reader creates the temp table _raw(<source columns>, _file, _line, _err) for one file,
# where _err is a structural error (bad CSV line, invalid JSON) and the source columns are null.

def _read_parquet(con, path: Path, t: Table) -> tuple[dict[str, str], list[str]]:
    schema = dict(con.execute(f"SELECT name, type FROM parquet_schema({lit(path)}) WHERE num_children IS NULL "
                              f"OR num_children = 0").fetchall())
    cols = [c for c in schema if c in t.columns]
    sel = ", ".join(q(c) for c in cols) or "NULL AS _none"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _raw AS SELECT {sel}, {lit(path)} AS _file, "
                f"file_row_number + 1 AS _line, CAST(NULL AS VARCHAR) AS _err, CAST(NULL AS VARCHAR) AS _rawtext "
                f"FROM read_parquet({lit(path)}, file_row_number = true)")
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE _raw)").fetchall())
    return {c: types[c] for c in cols}, [c for c in schema if c not in t.columns]


def _read_csv(con, path: Path, t: Table) -> tuple[dict[str, str], list[str]] | None:
    if path.stat().st_size == 0:
        return None
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _csv AS SELECT * FROM read_csv({lit(path)}, header = true, "
                f"all_varchar = true, store_rejects = true, auto_detect = true, null_padding = false, "
                f"max_line_size = {MAX_LINE})")
    header = [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE _csv)").fetchall()]
    cols = [c for c in header if c in t.columns]
    # Good rows keep file order (insertion order is preserved): rowid + 1 is the ordinal among
    # parsed rows; a rejected line before a row shifts its physical line by one.
    con.execute("CREATE OR REPLACE TEMP TABLE _rej AS SELECT line, string_agg(DISTINCT error_type || "
                "coalesce(' (column ' || column_name || ')', ''), '; ') AS err, any_value(csv_line) AS raw "
                "FROM reject_errors GROUP BY line")
    con.execute("CREATE OR REPLACE TEMP TABLE _rej_rank AS SELECT line, line - row_number() OVER (ORDER BY line) "
                "AS shift FROM _rej")
    sel = ", ".join(q(c) for c in cols) or "NULL AS _none"
    nulls = ", ".join(f"NULL AS {q(c)}" for c in cols) or "NULL AS _none"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _raw AS
        SELECT {sel}, {lit(path)} AS _file,
               o + 1 + (SELECT count(*) FROM _rej_rank r WHERE r.shift < o + 1) AS _line,
               CAST(NULL AS VARCHAR) AS _err, NULL AS _rawtext
        FROM (SELECT *, rowid + 1 AS o FROM _csv)
        UNION ALL
        SELECT {nulls}, {lit(path)}, line, 'malformed CSV line: ' || err, raw FROM _rej
    """)
    return {c: "VARCHAR" for c in cols}, [c for c in header if c not in t.columns]


def _read_lines(con, path: Path) -> None:
    """One row per non-blank physical line: _line, text (invalid UTF-8 lines become errors)."""
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    comp = ", compression = 'gzip'" if path.suffix == ".gz" else ""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _lines_read AS SELECT text FROM read_csv({lit(path)},
        columns = {{'text': 'VARCHAR'}}, header = false, delim = {lit(UNIT_SEP)}, quote = '', escape = '',
        store_rejects = true, auto_detect = false, strict_mode = true, max_line_size = {MAX_LINE}{comp})""")
    con.execute("CREATE OR REPLACE TEMP TABLE _lines_ok AS SELECT rowid AS ord, text FROM _lines_read")
    con.execute("""CREATE OR REPLACE TEMP TABLE _lines AS
        WITH rej AS (SELECT line, any_value(error_type) AS err, line - row_number() OVER (ORDER BY line) AS shift
                     FROM reject_errors GROUP BY line)
        SELECT * FROM (SELECT ord + 1 + (SELECT count(*) FROM rej WHERE rej.shift < ord + 1) AS _line, text,
                              NULL AS _err FROM _lines_ok)
        WHERE text IS NOT NULL AND trim(text, ' \t\r') <> ''  -- blank lines (spaces, tabs) are not records
        UNION ALL SELECT line, NULL, 'unreadable line: ' || err FROM rej""")


def _read_jsonl(con, path: Path, t: Table) -> tuple[dict[str, str], list[str]] | None:
    if path.stat().st_size == 0:
        return None
    _read_lines(con, path)
    keys = {r[0] for r in con.execute(
        "SELECT DISTINCT unnest(json_keys(j)) FROM (SELECT CASE WHEN json_valid(text) THEN "
        "(CASE WHEN json_type(text::JSON) = 'OBJECT' THEN text::JSON END) END AS j FROM _lines) WHERE j IS NOT NULL"
    ).fetchall()}
    cols = [c for c in t.columns if c in keys]
    sel = ", ".join(f"CASE WHEN json_type(j, {lit('$.' + c)}) IN ('OBJECT', 'ARRAY') THEN "
                    f"json_extract(j, {lit('$.' + c)})::VARCHAR ELSE json_extract_string(j, {lit('$.' + c)}) "
                    f"END AS {q(c)}" for c in cols) or "NULL AS _none"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _raw AS
        SELECT {sel}, {lit(path)} AS _file, _line,
               coalesce(_err, CASE WHEN NOT json_valid(text) THEN 'invalid JSON'
                                   WHEN j IS NULL THEN 'JSON line is not an object' END) AS _err,
               text AS _rawtext
        FROM (SELECT *, CASE WHEN json_valid(text) THEN (CASE WHEN json_type(text::JSON) = 'OBJECT'
                             THEN text::JSON END) END AS j FROM _lines)""")
    return {c: "VARCHAR" for c in cols}, sorted(keys - set(t.columns))


def _read_combined(con, path: Path, t: Table) -> tuple[dict[str, str], list[str]] | None:
    if path.stat().st_size == 0:
        return None
    _read_lines(con, path)
    rx = lit(COMBINED)
    g = lambda i: f"regexp_extract(text, {rx}, {i})"  # noqa: E731
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _raw AS
        SELECT {g(1)} AS ip,
               strftime(try_strptime({g(4)}, '%d/%b/%Y:%H:%M:%S %z'), '%Y-%m-%dT%H:%M:%S%z') AS ts,
               nullif(split_part({g(5)}, ' ', 1), '') AS method,
               nullif(split_part({g(5)}, ' ', 2), '') AS path,
               nullif({g(6)}, '-') AS status, nullif({g(7)}, '-') AS bytes,
               nullif(nullif({g(8)}, '-'), '') AS referrer, nullif({g(9)}, '') AS user_agent,
               {lit(path)} AS _file, _line,
               coalesce(_err, CASE WHEN NOT regexp_matches(text, {rx}) THEN 'not a combined-format log line'
                   WHEN try_strptime({g(4)}, '%d/%b/%Y:%H:%M:%S %z') IS NULL THEN 'ts: cannot read the time' END) AS _err,
               text AS _rawtext
        FROM _lines""")
    return {c: "VARCHAR" for c in ("ip", "ts", "method", "path", "status", "bytes", "referrer", "user_agent")}, []


READERS = {"parquet": _read_parquet, "csv": _read_csv, "jsonl": _read_jsonl, "combined": _read_combined}


# ------------------------------------------------------------------ typing and quarantine
def _cast(col: Column, src_type: str | None, tz: str) -> tuple[str, str]:
    """(typed expression, 'cannot read' condition) for one contract column."""
    c = q(col.name)
    if src_type is None:  # optional column absent from the file
        return f"CAST(NULL AS {SQL_TYPES[col.type]})", "false"
    text = src_type == "VARCHAR"
    # a blank text is a missing value: nullif(trim(c), ''), with trim (2.5 s per 12.7M values)
    # only where there is something to trim (0.2 s)
    src = (f"CASE WHEN {c} = '' OR starts_with({c}, ' ') OR ends_with({c}, ' ') THEN nullif(trim({c}), '') "
           f"ELSE {c} END") if text else c
    if col.type == "timestamp":
        if text:
            # an instant with an offset: its UTC wall time (make_timestamp(epoch_us(x)) is 10x faster
            # than timezone('UTC', x)); the session is in UTC, so in a UTC table a text without an
            # offset reads as UTC by the same cast
            instant = f"make_timestamp(epoch_us(try_cast({src} AS TIMESTAMPTZ)))"
            if tz == "UTC":
                expr = instant
            else:
                has_offset = f"regexp_matches({src}, '(Z|[+-]\\d\\d(:?\\d\\d)?)$')"
                expr = (f"CASE WHEN {has_offset} THEN {instant} "
                        f"ELSE timezone('UTC', timezone({lit(tz)}, try_cast({src} AS TIMESTAMP))) END")
        elif "WITH TIME ZONE" in src_type:
            # the UTC wall time of an instant (10x faster than timezone('UTC', x)); cannot fail
            return f"make_timestamp(epoch_us({c}))", "false"
        elif src_type == "TIMESTAMP" and tz == "UTC":
            return c, "false"
        else:
            expr = f"timezone('UTC', timezone({lit(tz)}, try_cast({c} AS TIMESTAMP)))"
    elif col.type == "json":
        expr = f"CASE WHEN json_valid({src}) THEN {src} END"
    elif col.type == "string":  # any value reads as text
        return (f"CAST({c} AS VARCHAR)" if not text else c), "false"
    elif src_type == SQL_TYPES[col.type]:  # already of the contract type (typed Parquet)
        return c, "false"
    elif col.type == "boolean" and text:
        expr = (f"CASE lower({src}) WHEN 'yes' THEN true WHEN 'no' THEN false "
                f"ELSE try_cast({src} AS BOOLEAN) END")
    else:
        expr = f"try_cast({src} AS {SQL_TYPES[col.type]})"
    return expr, f"({src} IS NOT NULL AND ({expr}) IS NULL)"


def _load_table(con, t: Table, files: list[tuple[Path, str]], result: TableResult) -> None:
    typed_name = q("_typed_" + t.name)
    first = True
    for path, fmt in files:
        read = READERS[fmt](con, path, t)
        fr = FileResult(t.name, str(path), fmt)
        result.files.append(fr)
        if read is None or con.execute("SELECT count(*) FROM _raw").fetchone()[0] == 0:
            continue  # an empty file (or a header only): nothing read
        src_types, extra = read
        if extra:
            result.extra_columns[str(path)] = extra
        missing = [c.name for c in t.columns.values() if not c.optional and c.name not in src_types]
        if fmt == "combined":
            missing = [m for m in missing if m != "account_id"]
        if fmt == "jsonl" and not src_types and not extra:
            missing = []  # no line is a JSON object: every line is quarantined with its reason
        if missing:
            raise IngestError(f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)} (table {t.name}; see data/CONTRACT.md)")
        exprs, reason = _typing(t, src_types)
        struct = ", ".join(f"{q(c)} := {q(c)}" for c in src_types)
        raw_json = f"coalesce(_rawtext, to_json(struct_pack({struct}))::VARCHAR)" if struct else "_rawtext"
        body = (f"SELECT {', '.join(exprs)}, _file, _line, _reason, "
                f"CASE WHEN _reason IS NOT NULL THEN {raw_json} END AS _raw "
                f"FROM (SELECT *, {reason} AS _reason FROM _raw)")
        if first:
            _drop(con, "_typed_" + t.name)
            con.execute(f"CREATE TABLE {typed_name} AS {body}")
            first = False
        else:
            con.execute(f"INSERT INTO {typed_name} {body}")
    if first:  # every file was empty
        _empty_table(con, t)
        return
    _settle(con, t, result)


def _typing(t: Table, src_types: dict[str, str]) -> tuple[list[str], str]:
    """Typed select expressions of every contract column, and the SQL of the row's quarantine
    reason (NULL when the row loads) over a relation with the source columns and `_err`."""
    exprs, problems = [], []
    for col in t.columns.values():
        expr, bad = _cast(col, src_types.get(col.name), t.timezone)
        exprs.append(f"{expr} AS {q(col.name)}")
        label = SQL_TYPES[col.type].split("(")[0].lower()
        problems.append(f"CASE WHEN {bad} THEN '{col.name}: cannot read as {label}' END")
        if col.required:
            problems.append(f"CASE WHEN ({expr}) IS NULL AND NOT ({bad}) THEN '{col.name}: required value missing' END")
        if col.values:
            allowed = ", ".join(lit(v) for v in col.values)
            problems.append(f"CASE WHEN ({expr}) IS NOT NULL AND ({expr}) NOT IN ({allowed}) "
                            f"THEN '{col.name}: not one of the allowed values' END")
    return exprs, f"coalesce(_err, nullif(concat_ws('; ', {', '.join(problems)}), ''))"


def _load_parquet_table(con, t: Table, files: list[tuple[Path, str]], result: TableResult) -> None:
    """Parquet files are typed by a view, not copied: one pass counts loaded and quarantined
    rows per file (cross-checked with the files' own row counts); quarantined rows and
    duplicate keys, usually none, are then stored and left out of the table's view."""
    source, parsed = parquet_source(con, t, files, result)
    typed = q("_typed_" + t.name)
    _drop(con, "_typed_" + t.name)
    con.execute(f"CREATE {'TABLE' if parsed else 'VIEW'} {typed} AS SELECT * FROM {source}")
    result.files += [FileResult(t.name, str(p), "parquet") for p, _ in files]
    _settle(con, t, result)


def parquet_source(con, t: Table, files: list[tuple[Path, str]], result: TableResult) -> tuple[str, bool]:
    """The view `_source_<table>` over a table's Parquet files: every contract column typed, and
    per row its file, line and quarantine reason (`_reason`, NULL when the row loads). Also
    whether a column must be parsed (text timestamps, numbers as text), which is done once
    into a table rather than by every read of the view."""
    paths = [p for p, _ in files]
    types: dict[str, str] = {}
    for path in paths:
        schema = dict(con.execute(f"SELECT name, type FROM parquet_schema({lit(path)}) WHERE num_children IS NULL "
                                  f"OR num_children = 0").fetchall())
        cols = [c for c in schema if c in t.columns]
        missing = [c.name for c in t.columns.values() if not c.optional and c.name not in cols]
        if missing and con.execute(f"SELECT sum(num_rows) FROM parquet_file_metadata({lit(path)})").fetchone()[0]:
            raise IngestError(f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)} (table {t.name}; see data/CONTRACT.md)")
        extra = [c for c in schema if c not in t.columns]
        if extra:
            result.extra_columns[str(path)] = extra
        types.update({c: None for c in cols})
    plist = "[" + ", ".join(lit(p) for p in paths) + "]"
    src = f"read_parquet({plist}, filename = true, file_row_number = true, union_by_name = true)"
    present = [c for c in t.columns if c in types]
    if present:
        described = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT "
                                     f"{', '.join(q(c) for c in present)} FROM {src})").fetchall())
    else:
        described = {}
    exprs, reason = _typing(t, described)
    source = q("_source_" + t.name)
    struct = ", ".join(f"{q(c)} := {q(c)}" for c in present)
    raw_json = f"to_json(struct_pack({struct}))::VARCHAR" if struct else "NULL"
    con.execute(f"CREATE OR REPLACE VIEW {source} AS SELECT {', '.join(exprs)}, filename AS _file, "
                f"file_row_number + 1 AS _line, _reason, CASE WHEN _reason IS NOT NULL THEN {raw_json} END AS _raw "
                f"FROM (SELECT *, {reason} AS _reason FROM (SELECT *, CAST(NULL AS VARCHAR) AS _err FROM {src}))")
    # Columns already of their contract type are read through the view at no cost; a column
    # that must be parsed (text timestamps, numbers as text) is parsed once into a table.
    parsed = any(_cast(col, described.get(col.name), t.timezone)[1] != "false" for col in t.columns.values())
    return source, parsed


def _settle(con, t: Table, result: TableResult) -> None:
    """Once `_typed_<table>` holds every row read (a table, or a view over typed Parquet): count
    rows per file (cross-checked with Parquet's own counts), store the quarantined rows and the
    duplicate keys (both usually none) and define the table's view without them."""
    typed, dup, name = q("_typed_" + t.name), q("_dup_" + t.name), lit(t.name)
    seen = {f: (n, bad) for f, n, bad in con.execute(
        f"SELECT _file, count(*), count(*) FILTER (_reason IS NOT NULL) FROM (SELECT _file, _reason FROM {typed}) "
        f"GROUP BY 1").fetchall()}
    con.execute(f"CREATE OR REPLACE TABLE {dup} (_file VARCHAR, _line BIGINT, first_file VARCHAR, first_line BIGINT)")
    if t.key:  # every row after the first of a key is a duplicate (earliest file, then line, wins)
        key = ", ".join(q(k) for k in t.key)
        con.execute(f"""INSERT INTO {dup}
            SELECT _file, _line, first_file, first_line FROM (
                SELECT _file, _line, first_value(_file) OVER w AS first_file, first_value(_line) OVER w AS first_line,
                       row_number() OVER w AS n
                FROM (SELECT {key}, _file, _line FROM {typed} WHERE _reason IS NULL)
                SEMI JOIN (SELECT {key} FROM {typed} WHERE _reason IS NULL GROUP BY ALL HAVING count(*) > 1)
                    USING ({key})
                WINDOW w AS (PARTITION BY {key} ORDER BY _file, _line))
            WHERE n > 1""")
    dups = dict(con.execute(f"SELECT _file, count(*) FROM {dup} GROUP BY 1").fetchall())
    for fr in result.files:
        n, bad = seen.get(fr.file, (0, 0))
        fr.rows_read, fr.rows_quarantined = n, bad + dups.get(fr.file, 0)
        fr.rows_loaded = n - fr.rows_quarantined
    _check_read_counts(con, result)
    bad_rows = any(bad for _, bad in seen.values())
    if bad_rows or dups:
        con.execute(f"""INSERT INTO quarantine
            SELECT * FROM (
                SELECT {name}, _file, _line, _reason, _raw FROM {typed} WHERE {'_reason IS NOT NULL' if bad_rows else 'false'}
                UNION ALL
                SELECT {name}, _file, _line, 'duplicate key ' || {lit(', '.join(t.key))} || ' (first seen at ' ||
                       first_file || ' line ' || first_line || ')', NULL FROM {dup})
            ORDER BY 2, 3""")
    if _kind(con, "_typed_" + t.name) == "BASE TABLE":
        con.execute(f"ALTER TABLE {typed} DROP COLUMN _raw")  # raw values stay in the quarantine only
    where = (["_reason IS NULL"] if bad_rows else []) + (
        [f"NOT EXISTS (SELECT 1 FROM {dup} d WHERE d._file = x._file AND d._line = x._line)"] if dups else [])
    con.execute(f"CREATE OR REPLACE VIEW {q(t.name)} AS SELECT {', '.join(q(c) for c in t.columns)} FROM {typed} x"
                + (f" WHERE {' AND '.join(where)}" if where else ""))


def _check_read_counts(con, result: TableResult) -> None:
    """Cross-check: every physical record the reader saw is in exactly one bucket."""
    for fr in result.files:
        if fr.format == "parquet":
            n = con.execute(f"SELECT sum(num_rows) FROM parquet_file_metadata({lit(fr.file)})").fetchone()[0] or 0
            if n != fr.rows_read:
                raise IngestError(f"{fr.file}: read {fr.rows_read} of {n} rows; refusing to continue")
