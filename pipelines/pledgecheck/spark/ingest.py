"""Load an export folder into Spark the way ingest.py loads it into DuckDB.

Same file discovery (ingest.find_files; for object-store URIs the same name rules over a
Hadoop FileSystem listing), same typing to the contract, same quarantine reasons, same
reconciliation (rows read = loaded + quarantined, per file). Views after ingestion:
`<table>` (typed, loaded rows), `_typed_<table>` (every row with _file, _line, _reason),
`quarantine` and `ingest_log`, as in DuckDB.

Differences from the DuckDB reader, by design or by Spark's readers (docs/SPARK.md):
- Apache/Nginx combined `*.log` files are refused with a message naming the file (use the
  DuckDB engine, or convert them to Parquet/CSV/JSON Lines).
- CSV: comma-separated, RFC 4180 quoting ("" inside quotes), header line; DuckDB sniffs other
  dialects. Records may span lines (multiLine), so one CSV file is read by one task: split
  big CSV exports into parts (`<table>/part-*.csv`). A record's `_line` is its ordinal + 1
  (the physical line when no record spans lines). Lines that DuckDB rejects as malformed
  (unclosed quotes, too many or too few columns) are not all detected by Spark's CSV parser.
- Text lines that are not valid UTF-8 are read with replacement characters, not quarantined.
"""
from __future__ import annotations

import copy
import fnmatch
import re
from collections.abc import Callable
from pathlib import Path

from ..contract import Column, Contract, Table, load_contract
from ..errors import IngestError
from ..ingest import FORMATS, SQL_TYPES, FileResult, IngestReport, TableResult, _fmt, find_files, summarize_quarantine

_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_LAST: dict[int, tuple] = {}   # Spark session -> (signature of the last export ingested, its report)


def ingest(con, export_dir: str | Path, contract: Contract | None = None, tables: list[str] | None = None,
           progress: Callable[[str, int], None] | None = None) -> IngestReport:
    """Load every contract table found in `export_dir` (a local folder or a URI the cluster
    can read: s3a://, abfss://, gs://, hdfs://, file://) into the Spark session of `con`."""
    from pyspark.sql import functions as F

    spark = con.spark
    contract = contract or load_contract()
    export = str(export_dir)
    remote = bool(_URI.match(export))
    if not remote and not Path(export).is_dir():
        raise IngestError(f"{export}: the export folder does not exist or is not a folder")
    names = tables or list(contract.tables)
    listing = {name: (_remote_files(spark, export, name) if remote else [
        (str(p), fmt, p.stat().st_size, p.stat().st_mtime_ns) for p, fmt in find_files(Path(export), name)])
        for name in names}
    # The same files, unchanged, were the last ingestion of this session: its views are still
    # there (several policies checked on one export read it once).
    signature = (export, repr(listing), id(contract))
    last = _LAST.get(id(spark))
    if last is not None and last[0] == signature:
        return copy.deepcopy(last[1])
    report = IngestReport(export, {})
    quarantines, logs = [], []
    for name in names:
        t = contract.table(name)
        result = TableResult(name)
        report.tables[name] = result
        files = [f[:3] for f in listing[name]]
        if not files:
            _empty_table(spark, t)
            continue
        try:
            typed = _load_table(spark, t, files, result)
            if typed is not None:
                quarantines.append(typed.where("_reason IS NOT NULL").select(
                    F.lit(t.name).alias("table_name"), F.col("_file").alias("file"), F.col("_line").alias("line"),
                    F.col("_reason").alias("reason"), F.col("_raw").alias("raw")))
        except IngestError as e:
            result.error = str(e)
            result.files = []
            _empty_table(spark, t)
        except Exception as e:  # noqa: BLE001 - an unreadable file: name it, never a bare stack trace
            where = files[0][0] if len(files) == 1 else f"{export.rstrip('/')}/{name}"
            result.error = f"{where}: cannot read: {_first_line(e)}"
            result.files = []
            _empty_table(spark, t)
        if progress:
            progress(name, result.rows_read)
        logs += [(f.table, f.file, f.format, f.rows_read, f.rows_loaded, f.rows_quarantined) for f in result.files]
    q_schema = "table_name STRING, file STRING, line BIGINT, reason STRING, raw STRING"
    q = spark.createDataFrame([], q_schema)
    for df in quarantines:
        q = q.unionByName(df)
    q.createOrReplaceTempView("quarantine")
    spark.createDataFrame(logs, "table_name STRING, file STRING, format STRING, rows_read BIGINT, "
                                "rows_loaded BIGINT, rows_quarantined BIGINT").createOrReplaceTempView("ingest_log")
    summarize_quarantine(con, report, export)   # the same queries as ingest.py's, translated
    _LAST[id(spark)] = (signature, copy.deepcopy(report))
    return report


# ------------------------------------------------------------------ file discovery
def _remote_files(spark, export: str, table: str) -> list[tuple[str, str, int, int]]:
    """ingest.find_files over a Hadoop FileSystem (object stores): `<table>.<ext>[.gz]`,
    `<table>.*.<ext>[.gz]` in the folder, and every file of a `<table>/` folder."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    root = jvm.org.apache.hadoop.fs.Path(export)
    fs = root.getFileSystem(conf)
    if not fs.exists(root):
        raise IngestError(f"{export}: the export folder does not exist or is not a folder")
    found: dict[str, int] = {}
    for st in fs.listStatus(root):
        if not st.isFile():
            continue
        n = st.getPath().getName()
        for ext in FORMATS:
            if n in (f"{table}{ext}", f"{table}{ext}.gz") or fnmatch.fnmatchcase(n, f"{table}.*{ext}"):
                found[st.getPath().toString()] = (st.getLen(), st.getModificationTime())
    sub = jvm.org.apache.hadoop.fs.Path(root, table)
    if fs.exists(sub) and fs.getFileStatus(sub).isDirectory():
        it = fs.listFiles(sub, True)
        while it.hasNext():
            st = it.next()
            found[st.getPath().toString()] = (st.getLen(), st.getModificationTime())
    out = []
    for path in sorted(found):
        fmt = _fmt(Path(path.rsplit("/", 1)[-1]))
        if fmt:
            out.append((path, fmt, found[path][0], found[path][1]))
    return out


# ------------------------------------------------------------------ raw readers
# Each returns (DataFrame with the source columns + _file, _line, _err, _rawtext,
# {column: source kind}, extra columns) or None for an empty file. Source kinds follow
# ingest._cast: "VARCHAR" (text), "TIMESTAMPTZ" (an instant), "TIMESTAMP" (naive), else typed.

def _with_lines(df, start: int):
    """Add _line (ordinal within the file + `start`) to a DataFrame read from one file in
    order: monotonically_increasing_id() is (partition << 33) + row within the partition and a
    single file's splits keep the file's order, so partition sizes give the offsets."""
    from pyspark.sql import functions as F

    df = df.withColumn("_id", F.monotonically_increasing_id()).withColumn("_pid", F.spark_partition_id()).persist()
    sizes = sorted(df.groupBy("_pid").count().collect())
    offsets, acc = [], 0
    for pid, n in sizes:
        offsets.append((pid, acc))
        acc += n
    off = df.sparkSession.createDataFrame(offsets or [(0, 0)], "_pid INT, _off BIGINT")
    return df.join(F.broadcast(off), "_pid").withColumn(
        "_line", F.col("_off") + (F.col("_id") - F.shiftleft(F.col("_pid").cast("bigint"), 33)) + start
    ).drop("_id", "_pid", "_off")


def _read_parquet(spark, path: str, t: Table):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    df = spark.read.parquet(path)
    leaves = {f.name: f.dataType for f in df.schema.fields
              if not isinstance(f.dataType, (T.StructType, T.ArrayType, T.MapType))}
    cols = [c for c in leaves if c in t.columns]
    kinds = {}
    for c in cols:
        dt = leaves[c]
        kinds[c] = ("VARCHAR" if isinstance(dt, T.StringType) else "TIMESTAMPTZ" if isinstance(dt, T.TimestampType)
                    else "TIMESTAMP" if isinstance(dt, T.TimestampNTZType) else dt.simpleString())
    raw = df.select(*[F.col(f"`{c}`") for c in cols], F.lit(path).alias("_file"),
                    (F.col("_metadata.row_index") + 1).alias("_line"), F.lit(None).cast("string").alias("_err"),
                    F.lit(None).cast("string").alias("_rawtext"))
    return raw, kinds, [c for c in leaves if c not in t.columns]


def _csv_reader(spark):
    return (spark.read.option("header", True).option("multiLine", True).option("escape", '"')
            .option("mode", "PERMISSIVE"))


def _read_csv(spark, path: str, t: Table, size: int):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if size == 0:
        return None
    header = _csv_reader(spark).csv(path).columns
    schema = T.StructType([T.StructField(c, T.StringType()) for c in header]
                          + [T.StructField("_corrupt", T.StringType())])
    df = _csv_reader(spark).option("columnNameOfCorruptRecord", "_corrupt").schema(schema).csv(path)
    cols = [c for c in header if c in t.columns]
    df = _with_lines(df, 2)   # line 1 is the header

    def value(c: str):
        v = F.col(f"`{c}`")
        if c == header[-1]:
            # a line ending in CRLF in a file of LF lines (Spark's parser takes the first line's
            # ending as the file's): the CR is not part of the last field, as in DuckDB; an
            # empty field is NULL
            v = F.regexp_replace(v, "\r$", "")
            v = F.when(v != "", v)
        return F.when(F.col("_corrupt").isNull(), v)
    raw = df.select(*[value(c).alias(c) for c in cols],
                    F.lit(path).alias("_file"), "_line",
                    F.when(F.col("_corrupt").isNotNull(), F.lit("malformed CSV line")).alias("_err"),
                    F.col("_corrupt").alias("_rawtext"))
    return raw, {c: "VARCHAR" for c in cols}, [c for c in header if c not in t.columns]


def _read_jsonl(spark, path: str, t: Table, size: int):
    from pyspark.sql import functions as F

    if size == 0:
        return None
    lines = _with_lines(spark.read.text(path), 1)
    # blank lines (spaces, tabs) are not records, as in DuckDB
    lines = lines.where(F.regexp_replace("value", r"[ \t\r]", "") != "")
    parsed = (lines.withColumn("_v", F.expr("try_parse_json(value)"))
              .withColumn("_obj", F.expr("_v IS NOT NULL AND schema_of_variant(_v) LIKE 'OBJECT%'"))
              .withColumn("_m", F.when(F.col("_obj"), F.from_json("value", "MAP<STRING, STRING>"))))
    keys = {r[0] for r in parsed.select(F.explode(F.map_keys("_m"))).distinct().collect()}
    cols = [c for c in t.columns if c in keys]
    raw = parsed.select(*[F.col("_m").getItem(c).alias(c) for c in cols], F.lit(path).alias("_file"), "_line",
                        F.when(F.col("_v").isNull(), F.lit("invalid JSON"))
                        .when(~F.col("_obj"), F.lit("JSON line is not an object")).alias("_err"),
                        F.col("value").alias("_rawtext"))
    return raw, {c: "VARCHAR" for c in cols}, sorted(keys - set(t.columns))


def _read_combined(spark, path: str, t: Table, size: int):
    raise IngestError(f"{path}: Apache/Nginx combined log files are not read by the Spark engine; "
                      "run with --engine duckdb, or export the access log as Parquet, CSV or JSON Lines")


# ------------------------------------------------------------------ typing and quarantine
_SPARK_TYPES = {"string": "STRING", "integer": "BIGINT", "decimal": "DECIMAL(38,6)", "boolean": "BOOLEAN",
                "date": "DATE", "timestamp": "TIMESTAMP", "json": "STRING"}


def _cast(col: Column, kind: str | None, tz: str):
    """(typed Column, 'cannot read' condition) for one contract column, as ingest._cast."""
    from pyspark.sql import functions as F

    target = _SPARK_TYPES[col.type]
    if kind is None:   # optional column absent from the file
        return F.lit(None).cast(target), F.lit(False)
    c = F.col(f"`{col.name}`")
    text = kind == "VARCHAR"
    src = F.when(F.trim(c) != "", F.trim(c)) if text else c
    zone = F.lit(tz)
    if col.type == "timestamp":
        if text:
            naive = F.to_utc_timestamp(F.expr(f"try_cast(nullif(trim(`{col.name}`), '') AS TIMESTAMP_NTZ)")
                                       .cast("timestamp"), zone)
            aware = F.expr(f"try_cast(nullif(trim(`{col.name}`), '') AS TIMESTAMP)")
            expr = F.when(src.rlike(r"(Z|[+-]\d\d(:?\d\d)?)$"), aware).otherwise(naive)
        elif kind == "TIMESTAMPTZ":
            expr = c
        else:
            expr = F.to_utc_timestamp(F.expr(f"try_cast(`{col.name}` AS TIMESTAMP_NTZ)").cast("timestamp"), zone)
    elif col.type == "json":
        expr = F.when(F.expr(f"try_parse_json(nullif(trim(`{col.name}`), '')) IS NOT NULL"), src)
    elif col.type == "string":
        expr = c.cast("string")
    elif col.type == "boolean" and text:
        low = F.lower(src)
        expr = (F.when(low == "yes", True).when(low == "no", False)
                .otherwise(F.expr(f"try_cast(nullif(trim(`{col.name}`), '') AS BOOLEAN)")))
    else:
        inner = f"nullif(trim(`{col.name}`), '')" if text else f"`{col.name}`"
        expr = F.expr(f"try_cast({inner} AS {target})")
    return expr, (src.isNotNull() & expr.isNull())


def _load_table(spark, t: Table, files: list[tuple[str, str, int]], result: TableResult):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    readers = {"parquet": lambda p, s: _read_parquet(spark, p, t), "csv": lambda p, s: _read_csv(spark, p, t, s),
               "jsonl": lambda p, s: _read_jsonl(spark, p, t, s), "combined": lambda p, s: _read_combined(spark, p, t, s)}
    typed_parts = []
    for path, fmt, size in files:
        read = readers[fmt](path, size)
        result.files.append(FileResult(t.name, path, fmt))
        if read is None:
            continue
        raw, kinds, extra = read
        missing = [c.name for c in t.columns.values() if not c.optional and c.name not in kinds]
        if fmt == "jsonl" and not kinds and not extra:
            missing = []  # no line is a JSON object: every line is quarantined with its reason
        if missing and raw.isEmpty():
            missing = []  # an empty file (or a header only): nothing read, nothing to complain about
        if extra:
            result.extra_columns[path] = extra
        if missing:
            raise IngestError(f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)} (table {t.name}; see data/CONTRACT.md)")
        exprs, problems = [], []
        for col in t.columns.values():
            expr, bad = _cast(col, kinds.get(col.name), t.timezone)
            exprs.append(expr.alias(col.name))
            label = SQL_TYPES[col.type].split("(")[0].lower()
            problems.append(F.when(bad, F.lit(f"{col.name}: cannot read as {label}")))
            if col.required:
                problems.append(F.when(expr.isNull() & ~bad, F.lit(f"{col.name}: required value missing")))
            if col.values:
                problems.append(F.when(expr.isNotNull() & ~expr.isin(*col.values),
                                       F.lit(f"{col.name}: not one of the allowed values")))
        reason = F.coalesce(F.col("_err"), F.when(F.concat_ws("; ", *problems) != "", F.concat_ws("; ", *problems)))
        raw_json = (F.coalesce(F.col("_rawtext"), F.to_json(F.struct(*[F.col(f"`{c}`") for c in kinds])))
                    if kinds else F.col("_rawtext"))
        typed_parts.append(raw.select(*exprs, "_file", F.col("_line").cast("bigint").alias("_line"),
                                      reason.alias("_reason"), raw_json.alias("_rawall")))
    if not typed_parts:
        _empty_table(spark, t)
        return None
    typed = typed_parts[0]
    for p in typed_parts[1:]:
        typed = typed.unionByName(p)
    typed = typed.withColumn("_raw", F.when(F.col("_reason").isNotNull(), F.col("_rawall"))).drop("_rawall")
    typed = typed.persist()
    counts = {(f, ok): n for f, ok, n in typed.groupBy("_file", F.col("_reason").isNull()).count().collect()}
    dup = _duplicates(typed, t) if t.key else None
    dups = dict(dup.groupBy("_file").count().collect()) if dup is not None else {}
    for fr in result.files:
        fr.rows_read = counts.get((fr.file, True), 0) + counts.get((fr.file, False), 0)
        fr.rows_quarantined = counts.get((fr.file, False), 0) + dups.get(fr.file, 0)
        fr.rows_loaded = fr.rows_read - fr.rows_quarantined
        if fr.format == "parquet":  # cross-check with the file's own row count
            n = _parquet_rows(spark, fr.file)
            if n != fr.rows_read:
                raise IngestError(f"{fr.file}: read {fr.rows_read} of {n} rows; refusing to continue")
    if dups:   # the duplicates get their reason (and, like DuckDB's, no raw text); the view leaves them out
        small = sum(dups.values()) <= BROADCAST_ROWS
        flagged = (typed.join(F.broadcast(dup) if small else dup, ["_file", "_line"], "left")
                   .withColumn("_reason", F.coalesce(F.col("_reason"), F.col("_dupreason")))
                   .drop("_dupreason").persist())
        flagged.count()
        typed.unpersist()
        dup.unpersist()
        typed = flagged
    typed.createOrReplaceTempView(f"_typed_{t.name}")
    typed.where("_reason IS NULL").select(*[F.col(f"`{c}`") for c in t.columns]).createOrReplaceTempView(t.name)
    return typed


# Duplicate keys (or rows) up to this many are joined by broadcast; more (a file exported
# twice) by a shuffle join, which Spark sizes itself.
BROADCAST_ROWS = 200_000


def _duplicates(typed, t: Table):
    """(_file, _line, _dupreason) of every loaded row whose key was loaded before (earliest
    file, then line, wins), as DuckDB's ingest finds them: the keys loaded more than once are
    found by one aggregate (usually none, and then no row is sorted), and only their rows are
    ranked. Persisted: small, and read twice (counts, then the quarantine)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    keys = [F.col(f"`{k}`") for k in t.key]
    ok = typed.where(F.col("_reason").isNull()).select(*keys, "_file", "_line")
    repeated = ok.groupBy(*keys).count().where("count > 1").drop("count").persist()
    n = repeated.count()
    if not n:
        repeated.unpersist()
        return None
    w = Window.partitionBy(*keys).orderBy("_file", "_line")
    whole = w.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    dup = (ok.join(F.broadcast(repeated) if n <= BROADCAST_ROWS else repeated, list(t.key), "left_semi")
           .withColumn("_n", F.row_number().over(w))
           .withColumn("_ff", F.first("_file").over(whole)).withColumn("_fl", F.first("_line").over(whole))
           .where("_n > 1")
           .select("_file", "_line", F.concat(F.lit(f"duplicate key {', '.join(t.key)} (first seen at "), F.col("_ff"),
                                             F.lit(" line "), F.col("_fl").cast("string"), F.lit(")")).alias("_dupreason"))
           .persist())
    repeated.unpersist()
    return dup


def _parquet_rows(spark, path: str) -> int:
    """Rows in a Parquet file by its footer (pyarrow for local files, Spark otherwise)."""
    if not _URI.match(path):
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return spark.read.parquet(path).count()


def _empty_table(spark, t: Table) -> None:
    schema = ", ".join(f"`{c.name}` {_SPARK_TYPES[c.type]}" for c in t.columns.values())
    df = spark.createDataFrame([], schema)
    df.createOrReplaceTempView(t.name)
    spark.createDataFrame([], f"{schema}, _file STRING, _line BIGINT, _reason STRING, _raw STRING") \
        .createOrReplaceTempView(f"_typed_{t.name}")


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:300]
