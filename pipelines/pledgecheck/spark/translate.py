"""DuckDB SQL -> Spark SQL: sqlglot's transpiler plus the rules it cannot know.

The check templates (`checks/*/check.sql`) and the runner's aggregates stay written in DuckDB
SQL, the one definition of every check. At run time the rendered SQL is parsed as DuckDB,
the rules below rewrite what has no faithful sqlglot translation, and the tree is written as
Spark SQL. Every engine-specific difference lives in this file, each rule with its reason;
`MACROS` is the Spark counterpart of `sql/macros.sql` (a test fails if a DuckDB macro has no
translation here).

Parameters stay parameters: sqlglot turns DuckDB's `$name` into Spark's `:name` and the
values travel in `spark.sql(query, args=...)`; identifiers stay quoted (backticks).
"""
from __future__ import annotations

import re
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.helper import seq_get

from ..cards import spark_macros


class _DuckDB(DuckDB):
    """DuckDB as the checks use it.

    Rule: `len(x)` is a list length. DuckDB's `len` works on lists and strings alike and
    sqlglot parses it as a string LENGTH, which Spark refuses on arrays; the checks write
    `len()` for lists and `length()` for text, so `len` becomes Spark's `size`."""

    class Parser(DuckDB.Parser):
        FUNCTIONS = {**DuckDB.Parser.FUNCTIONS, "LEN": lambda args: exp.ArraySize(this=seq_get(args, 0))}


# ------------------------------------------------------------------ macros (sql/macros.sql)
# Spark SQL bodies of the DuckDB macros; `__arg` is the macro's argument. Lambdas become
# Spark higher-order functions (filter/transform/aggregate). Regex rules:
# - DuckDB's regexp_full_match(s, re) is a whole-string match: Spark's RLIKE searches, so the
#   pattern is anchored as ^(?:re)\z (\z, not $: Java's $ also matches before a final newline).
# - DuckDB list indexes are 1-based and out-of-range gives NULL: Spark arrays are 0-based and
#   ANSI mode raises, so element access uses get()/try_element_at().
# - DuckDB regexp_extract_all returns group 0 by default, Spark group 1: group 0 is asked for.
MACROS: dict[str, str] = {
    # IPv6 address -> its 8 groups, expanding '::'; NULL if not IPv6-shaped.
    # Spark's split() takes a regex ('::' and ':' have no special meaning) and keeps trailing
    # empty strings with limit -1, as DuckDB's string_split does.
    "ipv6_groups": r"""
        CASE
            WHEN __arg IS NULL OR instr(__arg, ':') = 0 OR NOT (lower(__arg) RLIKE '^(?:[0-9a-f:]+)\z') THEN NULL
            WHEN size(split(lower(__arg), '::', -1)) > 2 THEN NULL
            WHEN size(split(lower(__arg), '::', -1)) = 1 THEN split(lower(__arg), ':', -1)
            ELSE concat(
                filter(split(get(split(lower(__arg), '::', -1), 0), ':', -1), __g -> __g <> ''),
                array_repeat('0', greatest(0, 8
                    - size(filter(split(get(split(lower(__arg), '::', -1), 0), ':', -1), __g -> __g <> ''))
                    - size(filter(split(get(split(lower(__arg), '::', -1), 1), ':', -1), __g -> __g <> '')))),
                filter(split(get(split(lower(__arg), '::', -1), 1), ':', -1), __g -> __g <> ''))
        END""",
    "ip_kind": r"""
        CASE
            WHEN __arg RLIKE '^(?:((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))\z'
                THEN 'ipv4'
            WHEN size(ipv6_groups(__arg)) = 8
                 AND size(filter(ipv6_groups(__arg), __g -> NOT (__g RLIKE '^(?:[0-9a-f]{1,4})\z'))) = 0
                 AND (instr(__arg, '::') > 0 OR size(split(__arg, ':', -1)) = 8)
                THEN 'ipv6'
        END""",
    # DuckDB list[4:8] (1-based, inclusive) is slice(list, 4, 5); ltrim(g, '0') is TRIM(LEADING '0').
    "ip_is_truncated": r"""
        CASE ip_kind(__arg)
            WHEN 'ipv4' THEN split_part(__arg, '.', 4) = '0'
            WHEN 'ipv6' THEN size(filter(slice(ipv6_groups(__arg), 4, 5), __g -> TRIM(LEADING '0' FROM __g) <> '')) = 0
        END""",
    # luhn_ok, card_brand, card_candidate, card_count: derived from the brand table (cards.py)
    **spark_macros(),
    "has_email": r"""
        (__arg RLIKE '(^|[^A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}($|[^A-Za-z0-9-])')""",
    "is_adaptive_hash": r"""
        (__arg RLIKE '^(?:\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53})\z'
         OR __arg RLIKE '^\$argon2(id|i|d)\$'
         OR __arg RLIKE '^(\$scrypt\$|\$7\$)'
         OR __arg RLIKE '^(pbkdf2_sha(256|512)\$|\$pbkdf2-sha(256|512)\$)')""",
}

@lru_cache(maxsize=None)
def _macro_tree(name: str) -> exp.Expression:
    # the bodies write regexes as DuckDB does (one backslash); Spark string literals treat a
    # backslash as an escape, so it is doubled before Spark-dialect parsing
    return sqlglot.parse_one(MACROS[name].replace("\\", "\\\\"), read="spark")


def macro_names(duckdb_macros_sql: str) -> list[str]:
    """The macros a DuckDB macro file defines (to check that each one has a translation)."""
    return re.findall(r"create\s+or\s+replace\s+macro\s+([a-z_0-9]+)", duckdb_macros_sql, flags=re.I)


def _expand_macro(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous) and node.name.lower() in MACROS:
        arg = node.expressions[0]
        body = _macro_tree(node.name.lower()).copy()
        body = body.transform(lambda n: arg.copy() if isinstance(n, exp.Column) and n.name == "__arg"
                              and not n.table else n)
        return exp.Paren(this=body.transform(_expand_macro))
    return node


# ------------------------------------------------------------------ rules over the DuckDB tree
def _rule_duration(node: exp.Expression) -> exp.Expression:
    """`x + to_days/to_hours/to_months/to_years(n)` (checks._Binder.add/add_ts).

    Spark has no to_* interval constructors. A DATE plus months or years becomes add_months,
    which clamps to the end of the month as DuckDB does (2024-01-31 + 1 month = 2024-02-29,
    2020-02-29 + 3 years = 2023-02-28; Spark 3+ no longer moves month-ends to month-ends).
    An instant plus a duration becomes timestampadd(UNIT, n, ts), with the same clamping for
    months. Sessions run in UTC, so an hour or a day is never shortened by a DST change, as
    with DuckDB's naive UTC timestamps."""
    if not isinstance(node, exp.Add):
        return node
    fn = node.expression
    name = _duration_fn(fn)
    if name is None:
        return node
    unit = name[3:].rstrip("s").upper()
    n = fn.this if isinstance(fn, exp.ToDays) else fn.expressions[0]
    base = node.this
    date_like = isinstance(base, exp.Cast) and base.to.this == exp.DataType.Type.DATE
    if unit in ("MONTH", "YEAR") and date_like:
        months = n if unit == "MONTH" else exp.Mul(this=exp.Paren(this=n), expression=exp.Literal.number(12))
        return exp.Anonymous(this="add_months", expressions=[base, months])
    return exp.Anonymous(this="timestampadd", expressions=[exp.var(unit), n, base])


def _duration_fn(fn: exp.Expression) -> str | None:
    if isinstance(fn, exp.ToDays):
        return "to_days"
    if isinstance(fn, exp.Anonymous) and fn.name.lower() in ("to_days", "to_hours", "to_months", "to_years"):
        return fn.name.lower()
    return None


def _rule_date_diff(node: exp.Expression) -> exp.Expression:
    """date_diff(unit, a, b) counts unit boundaries crossed.

    'day' on dates: Spark's datediff(end, start). 'second': DuckDB subtracts whole epoch
    seconds (floor), which Spark's timestampdiff does not (it truncates the difference:
    10:00:00.9 -> 10:00:01.1 is 1 in DuckDB, 0 in timestampdiff), so unix_seconds() are
    subtracted instead."""
    if not isinstance(node, exp.DateDiff):
        return node
    unit = (node.unit.name if node.unit else "day").lower()
    end, start = node.this, node.expression
    if unit == "day":
        return exp.Anonymous(this="datediff", expressions=[exp.cast(end, "date"), exp.cast(start, "date")])
    if unit == "second":
        sec = lambda e: exp.Anonymous(this="unix_seconds", expressions=[exp.cast(e, "timestamp")])  # noqa: E731
        return exp.Paren(this=exp.Sub(this=sec(end), expression=sec(start)))
    raise NotImplementedError(f"date_diff unit {unit!r} has no Spark rule yet")


def _rule_decimal_literal(node: exp.Expression) -> exp.Expression:
    """Numeric literals with a fraction (86400.0, 365.25) are DECIMAL in both engines, but
    DuckDB divides decimals in DOUBLE while Spark keeps DECIMAL with a rounded scale: they are
    made DOUBLE so measures, quantiles and histograms see the same numbers."""
    if isinstance(node, exp.Literal) and not node.is_string and re.fullmatch(r"\d+\.\d*|\.\d+", node.this):
        return exp.cast(node, "double")
    return node


def _rule_full_match(node: exp.Expression) -> exp.Expression:
    """regexp_full_match(s, re) -> s RLIKE '^(?:re)\\z' (RLIKE searches; see MACROS)."""
    if isinstance(node, exp.RegexpFullMatch):
        pat = node.expression
        if not (isinstance(pat, exp.Literal) and pat.is_string):
            raise NotImplementedError("regexp_full_match needs a literal pattern on Spark")
        return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^(?:{pat.this})\\z"))
    return node


def _rule_index(node: exp.Expression) -> exp.Expression:
    """list[i]: sqlglot normalises DuckDB's 1-based index to 0; Spark's `[]` raises on an
    out-of-range index in ANSI mode where DuckDB gives NULL (`coalesce(hits[1], 'none')` on an
    empty list), so element access becomes try_element_at (1-based, NULL out of range).
    Slices list[a:b] (1-based, inclusive) become slice(list, a, b - a + 1)."""
    if not isinstance(node, exp.Bracket) or len(node.expressions) != 1:
        return node
    idx = node.expressions[0]
    if isinstance(idx, exp.Slice):
        lo, hi = idx.this, idx.expression
        return exp.Anonymous(this="slice", expressions=[
            node.this, lo, exp.Add(this=exp.Sub(this=hi, expression=lo), expression=exp.Literal.number(1))])
    if node.args.get("offset") == 1:   # already 1-based (written as try_element_at)
        return node
    one_based = (exp.Literal.number(int(idx.this) + 1) if isinstance(idx, exp.Literal)
                 else exp.Add(this=idx, expression=exp.Literal.number(1)))
    return exp.Anonymous(this="try_element_at", expressions=[node.this, one_based])


def _rule_quantile(node: exp.Expression) -> exp.Expression:
    """quantile_cont(x, q): Spark's exact percentile(x, q) interpolates linearly between the
    closest ranks as DuckDB's quantile_cont does (not percentile_approx)."""
    if isinstance(node, (exp.PercentileCont, exp.Quantile)):
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    return node


def _rule_timestamp_type(node: exp.Expression) -> exp.Expression:
    """DuckDB's TIMESTAMP is naive; sqlglot maps it to TIMESTAMP_NTZ. Spark tables here hold
    TIMESTAMP (instants) in a UTC session, the same wall clock: casts stay TIMESTAMP so no
    expression mixes the two kinds."""
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TIMESTAMPNTZ:
        return exp.DataType.build("timestamp")
    return node


def _rule_business_days(node: exp.Expression) -> exp.Expression:
    """Business-day arithmetic (checks._Binder.add / next_working_day).

    DuckDB looks days up in the business_days(calendar, d, idx) table with correlated scalar
    subqueries whose correlation is a range (`b1.d <= expr`), which Spark cannot decorrelate.
    Spark evaluates the same lookups with Python UDFs over the same table
    (pledgecheck_add_business_days / pledgecheck_next_working_day, session.py)."""
    if not isinstance(node, exp.Subquery):
        return node
    sel = node.this
    if not isinstance(sel, exp.Select) or not _from_table(sel) == "business_days":
        return node
    where = sel.args.get("where")
    conds = _conjuncts(where.this) if where else []
    cal = next((c.expression for c in conds if isinstance(c, exp.EQ) and c.this.name == "calendar"), None)
    proj = sel.expressions[0]
    if isinstance(proj, exp.Min):   # next working day: min(d) where d >= expr
        ge = next(c for c in conds if isinstance(c, exp.GTE) and c.this.name == "d")
        return exp.Anonymous(this="pledgecheck_next_working_day", expressions=[cal, ge.expression])
    idx = next(c for c in conds if isinstance(c, exp.EQ) and c.this.name == "idx")
    add = idx.expression          # (SELECT max(idx) ... d <= expr) + n
    inner = add.this.this if isinstance(add.this, exp.Subquery) else add.this
    inner_conds = _conjuncts(inner.args["where"].this)
    le = next(c for c in inner_conds if isinstance(c, exp.LTE) and c.this.name == "d")
    return exp.Anonymous(this="pledgecheck_add_business_days", expressions=[cal, le.expression, add.expression])


def _from_table(sel: exp.Select) -> str | None:
    f = sel.args.get("from_") or sel.args.get("from")
    return f.this.name if f is not None and isinstance(f.this, exp.Table) else None


def _conjuncts(e: exp.Expression) -> list[exp.Expression]:
    return list(e.flatten()) if isinstance(e, exp.And) else [e]


def _rule_asof_join(node: exp.Expression) -> exp.Expression:
    """`L e ASOF LEFT JOIN R c ON c.k = e.k AND c.t <= e.t` (consent_coverage).

    Spark SQL has no as-of join. The best match of a left row depends only on its key and
    time, so the match time is computed per distinct (key, time) of the left side, and the
    right row is joined on it. The match is found the way a sort-merge as-of join finds it:
    the left (key, time) pairs and the right rows' (key, time) in one stream, sorted by time
    within each key (right rows first at equal times: `<=`), and the latest right time seen so
    far is each left pair's match (one shuffle and sort; a range join `c.t <= x.t` compares
    every pair of a key's rows):
        L e LEFT JOIN (SELECT k, t, best FROM (
                           SELECT k, t, src, max(CASE WHEN src = 0 THEN t END) OVER (PARTITION BY k
                               ORDER BY t, src ROWS UNBOUNDED PRECEDING) AS best
                           FROM (SELECT DISTINCT k, t, 1 AS src FROM L UNION ALL SELECT k, t, 0 FROM R))
                       WHERE src = 1) m
                 ON m.k = e.k AND m.t = e.t
            LEFT JOIN R c ON c.k = e.k AND c.t = m.best
    It keeps every left row (duplicates included) and matches the same row as DuckDB when R
    has one row per (key, time), as the consents CTE has (it groups by subject and instant).
    Left rows with a NULL key or time match nothing, as in DuckDB."""
    if not isinstance(node, exp.Select):
        return node
    joins = node.args.get("joins") or []
    asof = [j for j in joins if (j.args.get("method") or "").upper() == "ASOF"]
    if not asof:
        return node
    if len(joins) != 1 or (joins[0].args.get("side") or "").upper() != "LEFT":
        raise NotImplementedError("only `L ASOF LEFT JOIN R ON equalities AND R.t <= L.t` has a Spark rule")
    j = joins[0]
    left_from = (node.args.get("from_") or node.args.get("from")).this
    la, ra = left_from.alias_or_name, j.this.alias_or_name
    eqs, ineq = [], None
    for c in _conjuncts(j.args["on"]):
        cols = {col.table: col for col in (c.this, c.expression) if isinstance(col, exp.Column)}
        if isinstance(c, exp.EQ) and set(cols) == {la, ra}:
            eqs.append((cols[la].name, cols[ra].name))
        elif isinstance(c, exp.LTE) and c.this.table == ra and c.expression.table == la:
            ineq = (c.expression.name, c.this.name)
        else:
            raise NotImplementedError(f"as-of join condition {c.sql('duckdb')} has no Spark rule")
    lt, rt = ineq
    q = lambda s: exp.to_identifier(s, quoted=True).sql("spark")  # noqa: E731
    lname, rname = left_from.name, j.this.name
    lkeys = ", ".join(q(lk) for lk, _ in eqs)
    rkeys = ", ".join(f"{q(rk)} AS {q(lk)}" for lk, rk in eqs)
    known = " AND ".join(f"{q(lk)} IS NOT NULL" for lk, _ in eqs)
    stream = (f"SELECT DISTINCT {lkeys}, {q(lt)} AS __asof_t, 1 AS __asof_src FROM {q(lname)} "
              f"WHERE {known} AND {q(lt)} IS NOT NULL "
              f"UNION ALL SELECT {rkeys}, {q(rt)} AS __asof_t, 0 AS __asof_src FROM {q(rname)} "
              f"WHERE {' AND '.join(f'{q(rk)} IS NOT NULL' for _, rk in eqs)} AND {q(rt)} IS NOT NULL")
    match = (f"(SELECT {lkeys}, __asof_t, __asof_best FROM (SELECT {lkeys}, __asof_t, __asof_src, "
             f"max(CASE WHEN __asof_src = 0 THEN __asof_t END) OVER (PARTITION BY {lkeys} "
             f"ORDER BY __asof_t, __asof_src ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS __asof_best "
             f"FROM ({stream}) AS __asof_s) AS __asof_w WHERE __asof_src = 1)")
    on_m = " AND ".join([f"__asof_m.{q(lk)} = {q(la)}.{q(lk)}" for lk, _ in eqs]
                        + [f"__asof_m.__asof_t = {q(la)}.{q(lt)}"])
    on_r = " AND ".join([f"{q(ra)}.{q(rk)} = {q(la)}.{q(lk)}" for lk, rk in eqs]
                        + [f"{q(ra)}.{q(rt)} = __asof_m.__asof_best"])
    tmpl = sqlglot.parse_one(f"SELECT 1 FROM a LEFT JOIN {match} AS __asof_m ON {on_m} "
                             f"LEFT JOIN {q(rname)} AS {q(ra)} ON {on_r}", read="spark")
    node = node.copy()
    node.set("joins", tmpl.args["joins"])
    return node


def _rule_list_has(node: exp.Expression) -> exp.Expression:
    """list_has_all(a, b) (every element of b is in a) has no Spark function of that name:
    size(array_except(b, a)) = 0, NULL when either list is NULL as in DuckDB.
    list_has_any(a, b) is Spark's arrays_overlap (sqlglot's ArrayOverlaps)."""
    name = node.name.lower() if isinstance(node, exp.Anonymous) else None
    if isinstance(node, exp.ArrayContainsAll) or name == "list_has_all":
        a, b = (node.this, node.expression) if isinstance(node, exp.ArrayContainsAll) else node.expressions
        diff = exp.Anonymous(this="array_except", expressions=[b, a])
        return exp.Paren(this=exp.EQ(this=exp.Anonymous(this="size", expressions=[diff]),
                                     expression=exp.Literal.number(0)))
    if isinstance(node, exp.ArrayOverlaps):
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if name == "list_has_any":
        return exp.Anonymous(this="arrays_overlap", expressions=node.expressions)
    return node


def _rule_macros(node: exp.Expression) -> exp.Expression:
    return _expand_macro(node)


# Order matters: durations and business days are matched on the DuckDB shapes the renderer
# writes, before other rules change those shapes.
RULES = (_rule_business_days, _rule_duration, _rule_date_diff, _rule_full_match, _rule_asof_join,
         _rule_quantile, _rule_index, _rule_decimal_literal, _rule_timestamp_type, _rule_list_has, _rule_macros)


def _known_functions_check(tree: exp.Expression) -> None:
    for fn in tree.find_all(exp.Anonymous, exp.ToDays):
        name = _duration_fn(fn)
        if name:
            raise NotImplementedError(f"{name}() outside `expr + {name}(n)` has no Spark rule")


@lru_cache(maxsize=4096)
def to_spark(sql: str) -> str:
    """One DuckDB statement (a query or CREATE ... AS query) as Spark SQL. (Checks fused into
    one query have their parameters renamed before, on the DuckDB text: session._prefixed.)"""
    tree = to_spark_tree(sql)
    return tree.sql(dialect="spark", comments=False)


def to_spark_tree(sql: str) -> exp.Expression:
    tree = sqlglot.parse_one(sql, read=_DuckDB) if isinstance(sql, str) else sql.copy()
    for rule in RULES:
        tree = tree.transform(rule)
    _known_functions_check(tree)
    return tree


def keyed(sql: str, table: str, keyed_table: str, key: str = "_k") -> exp.Expression | None:
    """A query over `table` rewritten to run once over `keyed_table` (the rows of many
    checks, told apart by `key`), giving per key the rows the query gives for that key alone;
    None when the query's shape is not one this rewrite knows (the caller then runs it per key).

    Known shapes: one SELECT from `table` (no join, subquery, window, DISTINCT) with
    aggregates and GROUP BY ALL / positional / expression GROUP BY or none, ORDER BY, and
    LIMIT (kept per key with row_number)."""
    tree = sqlglot.parse_one(sql, read=_DuckDB)
    if not isinstance(tree, exp.Select) or tree.args.get("joins") or tree.args.get("distinct"):
        return None
    frm = tree.args.get("from_") or tree.args.get("from")
    if frm is None or not isinstance(frm.this, exp.Table) or frm.this.name != table:
        return None
    if any(isinstance(n, (exp.Subquery, exp.Window)) for n in tree.walk() if n is not tree) or len(
            [t for t in tree.find_all(exp.Table)]) != 1:
        return None
    aggregated = any(isinstance(n, exp.AggFunc) for n in tree.walk())
    frm.this.replace(exp.to_table(keyed_table))
    outputs = [e.alias_or_name for e in tree.expressions]
    tree.set("expressions", [exp.column(key)] + list(tree.expressions))
    group = tree.args.get("group")
    shift = lambda e: (exp.Literal.number(int(e.this) + 1)  # noqa: E731
                       if isinstance(e, exp.Literal) and not e.is_string else e)
    if group is None and aggregated:
        tree.set("group", exp.Group(expressions=[exp.column(key)]))
    elif group is None:
        pass
    elif not group.args.get("all"):
        group.set("expressions", [exp.column(key)] + [shift(e) for e in group.expressions])
    order, limit = tree.args.get("order"), tree.args.get("limit")
    if order is not None and not limit:
        for o in order.expressions:
            if not (isinstance(o.this, exp.Var) and o.this.name.upper() == "ALL"):
                o.set("this", shift(o.this))
        if not any(isinstance(o.this, exp.Var) for o in order.expressions):
            order.set("expressions", [exp.Ordered(this=exp.column(key))] + list(order.expressions))
    if limit is not None:
        if order is None:
            return None
        ords = []
        for o in order.expressions:
            o = o.copy()
            if isinstance(o.this, exp.Literal) and not o.this.is_string:
                o.set("this", exp.column(outputs[int(o.this.this) - 1]))
            elif isinstance(o.this, exp.Column):
                pass
            else:
                return None
            ords.append(o)
        tree.set("order", None)
        tree.set("limit", None)
        n = limit.expression
        win = exp.Window(this=exp.RowNumber(), partition_by=[exp.column(key)], order=exp.Order(expressions=ords))
        ranked = exp.select("*", exp.alias_(win, "__rn")).from_(tree.subquery("__i"))
        tree = exp.select("*").from_(ranked.subquery("__r")).where(exp.LTE(this=exp.column("__rn"), expression=n))
    return tree
