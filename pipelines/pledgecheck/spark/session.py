"""A Spark session that answers the DuckDB connection calls the runner makes.

`SparkConnection.execute(sql, params)` takes the same DuckDB SQL and `$name` parameters the
runner, the metrics and the checks send to DuckDB, translates it (translate.py) and runs it
with `spark.sql(query, args=params)`. So runner.py, metrics.py and the check templates run
unchanged on either engine; what differs is this module, translate.py and ingest.py here.
"""
from __future__ import annotations

import bisect
import os
import re
import sys
from datetime import date

from ..errors import EngineError
from . import DEFAULT_MASTER, spark_available
from .translate import MACROS, keyed, macro_names, to_spark, to_spark_tree


def spark_session(master: str = DEFAULT_MASTER, app_name: str = "pledgecheck", conf: dict | None = None):
    """A Spark session in UTC. Local masters get few shuffle partitions (small data, 2 cores);
    on a cluster, Spark's defaults and the cluster's own configuration apply."""
    why = spark_available()
    if why:
        raise EngineError(why)
    from pyspark.sql import SparkSession

    b = SparkSession.builder.master(master).appName(app_name)
    settings = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false",
                # the driver and workers run in UTC too (Python UDFs see UTC datetimes)
                "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
                "spark.executor.extraJavaOptions": "-Duser.timezone=UTC"}
    if master.startswith("local"):
        # Python UDFs (tcf_decode) import pledgecheck: local workers use this interpreter
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        settings["spark.pyspark.python"] = os.environ["PYSPARK_PYTHON"]
        # local mode: the driver is the executor; its heap holds the checkpointed check tables
        settings["spark.driver.memory"] = os.environ.get("PLEDGECHECK_SPARK_DRIVER_MEMORY", "6g")
        settings.update({"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false",
                         "spark.sql.adaptive.enabled": "true"})
    settings.update(conf or {})
    for k, v in settings.items():
        b = b.config(k, v)
    spark = b.getOrCreate()
    level = os.environ.get("PLEDGECHECK_SPARK_LOG_LEVEL", "FATAL")
    spark.sparkContext.setLogLevel(level)
    # PySpark also logs every failed query in Python (with the JVM stack): a failed check is
    # reported in its result, so that log stays quiet unless asked for
    import logging

    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL if level == "FATAL" else level)
    return spark


class _Relation:
    def __init__(self, df):
        self.df = df

    def arrow(self):
        return self.df.toArrow()

    def fetchall(self) -> list[tuple]:
        return [tuple(r) for r in self.df.collect()]


class _Cursor:
    def __init__(self, rows: list[tuple]):
        self._rows = rows

    def fetchall(self) -> list[tuple]:
        return self._rows

    def fetchone(self) -> tuple | None:
        return self._rows[0] if self._rows else None


_CREATE = re.compile(r"^\s*create\s+(or\s+replace\s+)?(temp\s+|temporary\s+)?(table|view)\s+(\S+)\s+as\s+(.*)$",
                     re.I | re.S)
_LEADING_COMMENTS = re.compile(r"^(\s*--[^\n]*(\n|$))*")
_CREATE_EMPTY = re.compile(r"^\s*create\s+(?:or\s+replace\s+)?(?:temp\s+|temporary\s+)?table\s+(\S+)\s*\((?!\s*select)",
                           re.I)
_MACRO = re.compile(r"^\s*create\s+or\s+replace\s+macro\b", re.I)


class SparkChecks:
    """How the runner evaluates checks on Spark (runner.DuckDBChecks is DuckDB's): every
    check is evaluated up front in `prepare`, and the runner's queries over a check's compact
    rows are answered for all checks at once where they can be."""

    # text searched row by row: a search per distinct value is joined back to the rows, a
    # shuffle per text column on Spark (checks.base.Render)
    distinct_values = False

    def __init__(self, conn: "SparkConnection"):
        self.conn = conn

    def prepare(self, checks: list[tuple[tuple, object]], progress=None) -> None:
        self.conn.prefetch(checks, progress)

    def compact(self, key: tuple, rendered) -> None:
        self.conn.use(key, rendered)

    def read(self, sql: str, params: dict | None = None) -> list[tuple]:
        return self.conn.read_compact(sql, params)


class SparkConnection:
    """The subset of a DuckDB connection that the runner, metrics and checks use."""

    engine = "spark"

    def __init__(self, spark=None, master: str = DEFAULT_MASTER):
        self.spark = spark or spark_session(master)
        self._cached: dict[str, object] = {}
        self._registered: dict[str, object] = {}
        self._calendars: dict[str, list[date]] = {}
        self._register_udfs()
        self._fused: list = []                    # checkpointed compact rows of each fused job, key _k
        self._next_k = 0                          # the next check's _k
        # compact rows small enough (LOCAL_ROWS in all) are pulled to the driver once and the
        # runner's reads of them run there, in an in-memory DuckDB: the reads are DuckDB SQL,
        # and each would otherwise be a Spark job of its own (one histogram, one distribution
        # per pledge); larger compact tables stay on the cluster and are read by Spark
        self._duck = None
        self._pulled: set[int] = set()            # jobs in _fused whose rows the driver holds
        self._pulled_rows = 0
        self._on_driver = False                   # `_cev` is the driver's (current check pulled)
        self._batch = None                        # DataFrame _prefetched: all of them
        self._table = "_cev"                      # the table the runner creates per check
        self._keys: dict[tuple, tuple[int, int]] = {}   # (check SQL, params) -> (_k, its job in _fused)
        self._current: int | None = None          # _k that the view self._table shows now
        self._seen: dict[str, tuple] = {}         # aggregate SQL -> params of its first use
        self._answers: dict[tuple, tuple[dict[int, list[tuple]], bool]] = {}

    # -- many checks in one Spark job
    def check_engine(self) -> "SparkChecks":
        """The runner's engine adapter (runner.check_engine)."""
        return SparkChecks(self)

    def prefetch(self, checks: list[tuple[tuple, object]], progress=None) -> int:
        """Evaluate every check the runner will ask for, before it asks (`checks`: the
        runner's (key, rendered check) list, each rendered once by the runner).

        Checks are fused the way Deequ fuses its analyzers: the checks that read the same
        tables are evaluated together, their evaluation rows stacked with a key `_k` and
        compacted by one aggregation (`runner.compact_keyed_sql`), so a table and its
        pledges cost one Spark job (at most FUSE_MAX checks a job: a longer union only makes
        Catalyst's planning slower), not one job per pledge. Each job's compact rows are
        checkpointed once. They are stacked as `_prefetched`, and a query the runner repeats
        for every pledge with the same parameters is answered for every key by one keyed
        query (translate.keyed). The answers are those of the per-pledge queries; anything
        else still runs per pledge over the pledge's own rows. Returns how many checks were
        prefetched."""
        from functools import reduce

        self._drop_batch()
        groups = fusion_groups(checks)
        for i, members in enumerate(groups, start=1):
            if progress:
                tables = sorted({t for _, r in members for t in r.tables})
                shown = ", ".join(tables[:3]) + (f" and {len(tables) - 3} more" if len(tables) > 3 else "")
                progress(f"evaluating {len(members)} check{'s' if len(members) > 1 else ''} over {shown} "
                         f"(job {i} of {len(groups)})")
            self._fuse(members)
        if not self._fused:
            return 0
        self._batch = reduce(lambda a, b: a.unionAll(b), self._fused)
        self._batch.createOrReplaceTempView("_prefetched")
        return len(self._keys)

    def _fuse(self, members: list[tuple[tuple, object]]) -> None:
        """One Spark job for the compact rows of `members`; if Spark refuses it, each member on
        its own, and a member Spark refuses alone is left to the runner (which reports its
        error)."""
        base = self._next_k
        try:
            df = self._df(*fused_compact(members, base)).localCheckpoint(eager=True)
        except Exception:  # noqa: BLE001
            if len(members) > 1:
                for m in members:
                    self._fuse([m])
            return
        self._next_k += len(members)
        g = len(self._fused)
        self._fused.append(df)
        rows = df.count()
        if self._pulled_rows + rows <= LOCAL_ROWS:   # small: the driver reads it, as DuckDB would
            self._local().register(f"_fused_{g}", df.toArrow())
            self._pulled.add(g)
            self._pulled_rows += rows
        for i, (key, _) in enumerate(members):
            self._keys[key] = (base + i, g)

    def use(self, key: tuple, rendered) -> None:
        """Make `_cev` the compact rows of one check: its prefetched rows, or computed now."""
        from pyspark.sql import functions as F

        from .. import runner

        self._on_driver = False
        if self._batch is not None and key in self._keys:
            k, g = self._keys[key]
            self._current = k
            if g in self._pulled:
                self._local().execute(f"CREATE OR REPLACE TEMP TABLE {self._table} AS "
                                      f"SELECT * EXCLUDE (_k) FROM _fused_{g} WHERE _k = {int(k)}")
                self._on_driver = True
                return
            self._fused[g].where(F.col("_k") == k).drop("_k").createOrReplaceTempView(self._table)
            return
        self._current = None
        self._create(self._table, runner.compact_sql(rendered.sql), rendered.params)

    def read_compact(self, sql: str, params) -> list[tuple]:
        """Rows of a runner query over `_cev` (the current check)."""
        if self._on_driver:
            return self._local().execute(sql, params).fetchall() if params else self._local().execute(sql).fetchall()
        if self._current is not None:
            rows = self._answer(sql, params)
            if rows is not None:
                return rows
        return [tuple(r) for r in self._df(sql, params).collect()]

    def _local(self):
        """The driver's in-memory DuckDB that holds the compact rows pulled from Spark."""
        if self._duck is None:
            import duckdb

            self._duck = duckdb.connect()
        return self._duck

    def _drop_batch(self) -> None:
        for df in self._fused:
            df.unpersist()
        self._fused.clear()
        if self._duck is not None:
            self._duck.close()
        self._duck, self._pulled, self._pulled_rows, self._on_driver = None, set(), 0, False
        self._batch, self._current = None, None
        self._keys.clear()
        self._seen.clear()
        self._answers.clear()

    def _answer(self, sql: str, params) -> list[tuple] | None:
        """Rows of a query over `_cev` for the current key from a grouped query, or None."""
        pkey = repr(sorted((params or {}).items()))
        hit = self._answers.get((sql, pkey))
        if hit is None:
            first = self._seen.get(sql)
            if first is None:
                self._seen[sql] = pkey
                return None
            if first != pkey:     # parameters differ between pledges (e.g. histogram width)
                return None
            tree = keyed(sql, self._table, "_prefetched")
            if tree is None:
                self._seen[sql] = ("not keyable",)
                return None
            grouped = _had_group(sql) or not _aggregates(sql)
            rows = self._df(tree, params).collect()
            by_key: dict[int, list[tuple]] = {}
            for r in rows:
                vals = tuple(r)
                if "__rn" in r.__fields__:
                    vals = vals[:-1]
                by_key.setdefault(vals[0], []).append((r["__rn"] if "__rn" in r.__fields__ else 0, vals[1:]))
            answers = {k: [v for _, v in sorted(lst, key=lambda x: x[0])] for k, lst in by_key.items()}
            hit = (answers, grouped)
            self._answers[(sql, pkey)] = hit
        answers, grouped = hit
        if self._current in answers:
            return answers[self._current]
        return [] if grouped else None   # no group: an empty key still gives one row, asked directly

    # -- the DuckDB calls
    def execute(self, sql: str, params: dict | list | None = None) -> _Cursor:
        head = _LEADING_COMMENTS.sub("", sql)
        if _MACRO.match(head):
            self._check_macros(sql)   # sql/macros.sql: each macro is a translation rule instead
            return _Cursor([])
        m = _CREATE_EMPTY.match(head)
        if m:   # CREATE TEMP TABLE t (col TYPE, ...): an empty view of that schema
            import sqlglot
            from sqlglot import exp

            schema = sqlglot.parse_one(head, read="duckdb").this
            ddl = ", ".join(f"`{c.name}` {c.args['kind'].sql('spark')}" for c in schema.expressions
                            if isinstance(c, exp.ColumnDef))
            self.spark.createDataFrame([], ddl).createOrReplaceTempView(m.group(1).strip('"'))
            return _Cursor([])
        m = _CREATE.match(head)
        if m:
            self._create(m.group(4).strip('"'), m.group(5), params)
            return _Cursor([])
        df = self._df(sql, params)
        return _Cursor([tuple(r) for r in df.collect()])

    def sql(self, sql: str, params: dict | None = None) -> "_Relation":
        """DuckDB SQL as a relation with .arrow() (notebook drill-downs, scheduled.to_polars)."""
        return _Relation(self._df(sql, params))

    def register(self, name: str, table) -> None:
        """An Arrow table as a view (the business-day calendars come this way)."""
        if name == "_bd_arrow":
            self._load_calendars(table)
        df = self.spark.createDataFrame(table)  # Spark 4 takes Arrow tables
        df.createOrReplaceTempView(name)
        self._registered[name] = df

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self._registered.pop(name, None)

    def create_function(self, name: str, fn, parameters=None, return_type=None, **kwargs) -> None:
        """A DuckDB Python UDF (e.g. tcf.register's tcf_decode) becomes a Spark Python UDF of the
        same Python function; its DuckDB return type is translated by sqlglot (a DuckDB
        TIMESTAMP stays a naive TIMESTAMP_NTZ: the function returns naive UTC datetimes)."""
        import sqlglot

        ddl = "STRING"
        if return_type is not None:
            ddl = sqlglot.parse_one(f"CAST(NULL AS {return_type})", read="duckdb").to.sql(dialect="spark")
        self.spark.udf.register(name, fn, ddl)

    def remove_function(self, name: str) -> None:
        """Registering a UDF again replaces it on Spark."""

    def close(self) -> None:
        for df in self._cached.values():
            df.unpersist()
        self._cached.clear()

    # -- internals
    def _df(self, sql, params):
        try:
            text = to_spark(sql) if isinstance(sql, str) else to_spark_tree(sql).sql(dialect="spark", comments=False)
        except NotImplementedError as e:
            raise EngineError(f"no Spark translation: {e}") from None
        args = _args(text, params)
        try:
            return self.spark.sql(text, args=args or None)
        except Exception as e:  # noqa: BLE001 - Spark raises many kinds; all become EngineError
            raise EngineError(_first_line(e)) from e

    def _create(self, name: str, body: str, params) -> None:
        df = self._df(body, params)
        try:
            # materialized now (the aggregates read it several times) and cut from the check's
            # plan, so that each later query is planned over a small leaf, not the whole check
            df = df.localCheckpoint(eager=True)
        except Exception as e:  # noqa: BLE001
            raise EngineError(_first_line(e)) from e
        old = self._cached.pop(name, None)
        df.createOrReplaceTempView(name)
        self._cached[name] = df
        if old is not None:
            old.unpersist()

    def _check_macros(self, sql: str) -> None:
        missing = [m for m in macro_names(sql) if m.lower() not in MACROS]
        if missing:
            raise EngineError(f"DuckDB macro(s) {', '.join(missing)} have no Spark translation "
                              "(pledgecheck/spark/translate.py MACROS)")

    def _load_calendars(self, table) -> None:
        cols = table.to_pydict()
        cals: dict[str, list[date]] = {}
        for c, d, i in zip(cols["calendar"], cols["d"], cols["idx"]):
            cals.setdefault(c, []).append(d)
        self._calendars = {c: sorted(ds) for c, ds in cals.items()}
        self._register_udfs()

    def _register_udfs(self) -> None:
        from pyspark.sql.types import DateType

        cals = self._calendars

        def add_business_days(cal, d, n):
            # DuckDB: the day whose idx = (max idx of business days <= d) + n
            days = cals.get(cal)
            if days is None or d is None or n is None:
                return None
            i = bisect.bisect_right(days, d) - 1
            if i < 0:
                return None
            j = i + int(n)
            return days[j] if 0 <= j < len(days) else None

        def next_working_day(cal, d):
            # DuckDB: min(business day >= d)
            days = cals.get(cal)
            if days is None or d is None:
                return None
            i = bisect.bisect_left(days, d)
            return days[i] if i < len(days) else None

        self.spark.udf.register("pledgecheck_add_business_days", add_business_days, DateType())
        self.spark.udf.register("pledgecheck_next_working_day", next_working_day, DateType())


# Checks fused into one Spark job at most (prefetch).
FUSE_MAX = 16
# Compact rows the driver pulls from Spark at most, over all checks of a run (about 60 bytes a
# row in Arrow: 4M rows, some 250 MB). Beyond it the reads run on Spark.
LOCAL_ROWS = int(os.environ.get("PLEDGECHECK_SPARK_LOCAL_ROWS", 4_000_000))


def fusion_groups(checks: list[tuple[tuple, object]], most: int = FUSE_MAX) -> list[list[tuple[tuple, object]]]:
    """The runner's (key, rendered check) list in the groups evaluated together: the checks
    that read the same tables, at most `most` a group, each key once (pledges with equal
    checks are measured once)."""
    groups: dict[tuple, list[tuple[tuple, object]]] = {}
    seen: set[tuple] = set()
    for key, r in checks:
        if key not in seen:
            seen.add(key)
            groups.setdefault(tuple(sorted(r.tables)), []).append((key, r))
    return [members[i:i + most] for members in groups.values() for i in range(0, len(members), most)]


def fused_compact(members: list[tuple[tuple, object]], base: int) -> tuple[str, dict]:
    """The SQL and parameters of one fused job: the compact rows of `members` (rendered
    checks), keyed `_k` = base, base + 1, ... in their order (runner.compact_keyed_sql)."""
    from .. import runner

    stacked, params = [], {}
    for i, (_, r) in enumerate(members, start=base):
        sql, p = _prefixed(r.sql, r.params, f"k{i}_")
        stacked.append((i, sql))
        params.update(p)
    return runner.compact_keyed_sql(stacked), params


def _prefixed(sql: str, params: dict, prefix: str) -> tuple[str, dict]:
    """A check's SQL and parameters with every `$name` renamed `$<prefix>name`, so that the
    parameters of several checks (each numbered from p0) can travel in one query."""
    if not params:
        return sql, {}
    names = "|".join(re.escape(n) for n in sorted(params, key=len, reverse=True))
    text = re.sub(rf"\$({names})\b", lambda m: f"${prefix}{m.group(1)}", sql)
    return text, {f"{prefix}{k}": v for k, v in params.items()}


def _aggregates(sql: str) -> bool:
    import sqlglot
    from sqlglot import exp

    return any(isinstance(n, exp.AggFunc) for n in sqlglot.parse_one(sql, read="duckdb").walk())


def _had_group(sql: str) -> bool:
    return re.search(r"\bgroup\s+by\b", sql, re.I) is not None


def _args(spark_sql: str, params) -> dict:
    """Only the parameters the query names (Spark refuses unused named arguments? it ignores
    them, but DuckDB refuses them, so both engines get the same set)."""
    if not params:
        return {}
    if not isinstance(params, dict):
        raise EngineError("the Spark engine takes named parameters only ($name)")
    return {k: v for k, v in params.items() if re.search(rf":{re.escape(k)}\b", spark_sql)}


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:300]
