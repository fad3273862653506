"""Ground truth: an independent Python implementation of docs/CHECKS.md.

The generator (`pledgecheck.synth.generate`) uses it to compute, for every pledge, the exact number
of violations, exempt records and population over the rows it writes; the SQL checks are then
tested for equality against those numbers. Nothing here reads or renders the SQL checks.

Everything is vectorised with numpy and polars and works on one table, or one chunk of a
streamed table, at a time: `Truth.observe(table, frame)` may be called several times for the
same table. Frames hold the contract columns typed as the ingestion types them (timestamps as
naive UTC `Datetime("us")`, dates as `Date`); columns starting with `_` are ignored.

Decisions on points CHECKS.md leaves open are listed under "Generator notes" in the docstring
of `pledgecheck.synth.generate`.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import polars as pl

from ..calendars import business_days
from ..contract import Contract, Table, load_contract
from ..detectors import EMAIL
from ..duration import Duration
from ..policy import Pledge, Policy

US = "datetime64[us]"
DAY = "datetime64[D]"
NAT_US = np.datetime64("NaT", "us")

# Outcome codes of one evaluation row (NOT_ROW: the record is not an evaluation row at all).
NOT_ROW, OK, VIOLATION, EXEMPT, UNKNOWN = 0, 1, 2, 3, 4


# ---------------------------------------------------------------- calendar arithmetic
def day_of(ts: np.ndarray) -> np.ndarray:
    """UTC date of instants (NaT stays NaT)."""
    return ts.astype(DAY)


def add_months(d: np.ndarray, n: int) -> np.ndarray:
    """Same day n months later, clamped to the month's last day (dates; NaT stays NaT)."""
    d = d.astype(DAY)
    nat = np.isnat(d)
    safe = np.where(nat, np.datetime64("2000-01-01"), d)
    month = safe.astype("datetime64[M]")
    offset = (safe - month.astype(DAY)).astype(np.int64)
    target = month + n
    last = ((target + 1).astype(DAY) - target.astype(DAY)).astype(np.int64) - 1
    out = target.astype(DAY) + np.minimum(offset, last)
    out[nat] = np.datetime64("NaT")
    return out


@lru_cache(maxsize=None)
def business_day_array(code: str, last_year: int) -> np.ndarray:
    return np.array(business_days(code, last_year), dtype=DAY)


def _bdays(code: str | None, d: np.ndarray) -> np.ndarray:
    if not code:
        raise ValueError("business days need a holiday calendar")
    ok = d[~np.isnat(d)]
    last = int(ok.max().astype("datetime64[Y]").astype(int)) + 1970 if ok.size else 2000
    return business_day_array(code, max(last + 3, 2030))


def add_business_days(d: np.ndarray, n: int, code: str | None) -> np.ndarray:
    """The n-th business day strictly after each date (n = 0: the date itself)."""
    d = d.astype(DAY)
    if n == 0:
        return d.copy()
    bd = _bdays(code, d)
    nat = np.isnat(d)
    pos = np.searchsorted(bd, np.where(nat, bd[0], d), side="right") + n - 1
    out = bd[np.minimum(pos, len(bd) - 1)]
    out[nat] = np.datetime64("NaT")
    return out


def next_working_day(d: np.ndarray, code: str | None) -> np.ndarray:
    """Each date, or the next business day when it falls on a weekend or holiday."""
    d = d.astype(DAY)
    bd = _bdays(code, d)
    nat = np.isnat(d)
    out = bd[np.searchsorted(bd, np.where(nat, bd[0], d), side="left")]
    out[nat] = np.datetime64("NaT")
    return out


def add_to_dates(d: np.ndarray, dur: Duration, calendar: str | None = None) -> np.ndarray:
    """date + duration: dates for calendar units, instants (midnight + N hours) for hours."""
    d = d.astype(DAY)
    n = dur.amount
    if dur.unit == "days":
        return d + np.timedelta64(n, "D")
    if dur.unit == "months":
        return add_months(d, n)
    if dur.unit == "years":
        return add_months(d, 12 * n)
    if dur.unit == "business_days":
        return add_business_days(d, n, calendar)
    return d.astype(US) + np.timedelta64(n, "h")


def add_to_instants(ts: np.ndarray, dur: Duration) -> np.ndarray:
    """instant + duration (calendar months/years keep the time of day, with end-of-month clamping)."""
    ts = ts.astype(US)
    n = dur.amount
    if dur.unit == "hours":
        return ts + np.timedelta64(n, "h")
    if dur.unit == "days":
        return ts + np.timedelta64(n, "D")
    if dur.unit in ("months", "years"):
        day = day_of(ts)
        return add_months(day, n * (12 if dur.unit == "years" else 1)).astype(US) + (ts - day.astype(US))
    raise ValueError(f"{dur} cannot be added to an instant (business days need a date and a calendar)")


# ---------------------------------------------------------------- detectors
_IPV4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_IPV4_OCTET}(?:\.{_IPV4_OCTET}){{3}}")
_IPV6_CHARS = re.compile(r"[0-9A-Fa-f:]+")
IP_NONE, IP4_FULL, IP4_TRUNC, IP6_FULL, IP6_TRUNC = 0, 1, 2, 3, 4


def ip_class(text: str | None) -> int:
    """IP_NONE (null or not an address), IP4_FULL/IP4_TRUNC or IP6_FULL/IP6_TRUNC."""
    if text is None:
        return IP_NONE
    if _IPV4.fullmatch(text):
        return IP4_TRUNC if text.rsplit(".", 1)[1] == "0" else IP4_FULL
    if ":" in text and _IPV6_CHARS.fullmatch(text):
        try:
            addr = int(ipaddress.IPv6Address(text))
        except ValueError:
            return IP_NONE
        return IP6_TRUNC if addr & ((1 << 80) - 1) == 0 else IP6_FULL
    return IP_NONE


_RUN = re.compile(r"[0-9](?:[ -]?[0-9])*")
CARD_PREFILTER = r"[0-9](?:[ -]?[0-9]){11}"  # a run of >= 12 digits: the only texts worth scanning


def luhn_ok(digits: str) -> bool:
    # The oracle's own Luhn, written apart from pledgecheck.detectors and the SQL macro on
    # purpose (the duplicates tool pairs them): ground truth that shared the product's code
    # could not catch the product's mistakes.
    total = 0
    for i, ch in enumerate(reversed(digits)):
        v = ord(ch) - 48
        if i % 2:
            v = v * 2 - 9 if v >= 5 else v * 2
        total += v
    return total % 10 == 0


def card_brand(d: str) -> str | None:
    """Brand of a digit string by prefix and length (CHECKS.md#card_numbers), None if none."""
    n = len(d)
    p2, p3, p4 = int(d[:2]), int(d[:3]), int(d[:4])
    if d[0] == "4" and n in (13, 16, 19):
        return "visa"
    if n == 16 and (51 <= p2 <= 55 or 2221 <= p4 <= 2720):
        return "mastercard"
    if n == 15 and p2 in (34, 37):
        return "amex"
    if 16 <= n <= 19 and (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65):
        return "discover"
    if 14 <= n <= 19 and (p2 in (36, 38, 39) or 300 <= p3 <= 305):
        return "diners"
    if 16 <= n <= 19 and 3528 <= p4 <= 3589:
        return "jcb"
    if n == 15 and p4 in (1800, 2131):  # legacy JCB
        return "jcb"
    if 16 <= n <= 19 and p2 == 62:
        return "unionpay"
    if 12 <= n <= 19 and (p2 in (50, 56, 57, 58) or d[0] == "6"):
        return "maestro"
    return None


def card_numbers_in(text: str | None) -> list[str]:
    """Full card numbers in a text: maximal digit runs (single space/dash separators), 12-19
    digits, a known brand and a valid Luhn checksum; a run touching an ASCII letter on either
    side continues a word (an IBAN, a licence number) and is none."""
    if not text:
        return []
    out = []
    for m in _RUN.finditer(text):
        before, after = text[m.start() - 1:m.start()], text[m.end():m.end() + 1]
        if (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha()):
            continue
        d = m.group().replace(" ", "").replace("-", "")
        if 12 <= len(d) <= 19 and card_brand(d) and luhn_ok(d):
            out.append(d)
    return out


_BCRYPT = r"^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$"
_ADAPTIVE_PREFIX = r"^(?:\$argon2(?:id|i|d)\$|\$scrypt\$|\$7\$|pbkdf2_sha(?:256|512)\$|\$pbkdf2-sha(?:256|512)\$)"


def is_adaptive_hash(s: pl.Series) -> pl.Series:
    return s.str.contains(_BCRYPT) | s.str.contains(_ADAPTIVE_PREFIX)


# ---------------------------------------------------------------- counts
@dataclass
class Counts:
    violations: int = 0
    exempt: int = 0
    population: int = 0

    def add(self, other: Counts) -> None:
        self.violations += other.violations
        self.exempt += other.exempt
        self.population += other.population

    @classmethod
    def of(cls, outcome: np.ndarray) -> Counts:
        return cls(int((outcome == VIOLATION).sum()), int((outcome == EXEMPT).sum()),
                   int(((outcome == OK) | (outcome == VIOLATION) | (outcome == EXEMPT)).sum()))

    def as_dict(self) -> dict[str, int]:
        return {"violations": self.violations, "exempt": self.exempt, "population": self.population}


def _outcome(rows: np.ndarray, unknown: np.ndarray, violation: np.ndarray,
             exempt: np.ndarray | None = None) -> np.ndarray:
    """Combine masks in precedence order: not a row, unknown, exempt, violation, ok."""
    out = np.full(len(rows), OK, dtype=np.int8)
    out[violation] = VIOLATION
    if exempt is not None:
        out[exempt] = EXEMPT
    out[unknown] = UNKNOWN
    out[~rows] = NOT_ROW
    return out


def _np(s: pl.Series) -> np.ndarray:
    return s.to_numpy()


def _bool(s: pl.Series) -> np.ndarray:
    return s.fill_null(False).to_numpy().astype(bool)


def nonblank(s: pl.Series) -> np.ndarray:
    """Not null and not blank (whitespace only)."""
    return _bool(s.cast(pl.Utf8).str.strip_chars().str.len_chars() > 0)


def _text(v: object) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


# ---------------------------------------------------------------- the world a check sees
class Context:
    """As-of date, policy and the auxiliary tables checks join (holds, consents, erasures)."""

    def __init__(self, policy: Policy, as_of: date, aux: dict[str, pl.DataFrame] | None = None,
                 contract: Contract | None = None):
        self.policy = policy
        self.contract = contract or load_contract()
        self.as_of = as_of
        self.A = np.datetime64(as_of, "D")
        self.A_us = self.A.astype(US)
        aux = aux or {}
        self.holds = self._active_holds(aux.get("legal_holds"))
        self.erased = self._erased(aux.get("erasure_log"))
        self.consents = aux.get("consent_events")
        self.unsubscribes = aux.get("unsubscribes")
        self._consent_state: dict[str, pl.DataFrame] = {}

    # --- auxiliary tables
    def _active_holds(self, df: pl.DataFrame | None) -> pl.DataFrame:
        if df is None or df.height == 0:
            return pl.DataFrame(schema={"account_id": pl.Utf8, "scope_table": pl.Utf8})
        starts, ends = day_of(_np(df["starts_at"])), day_of(_np(df["ends_at"]))
        active = (starts <= self.A) & (np.isnat(ends) | (ends >= self.A))
        held = df.filter(pl.Series(active)).select("account_id", "scope_table")
        return held.unique().sort(["account_id", "scope_table"])

    def _erased(self, df: pl.DataFrame | None) -> pl.DataFrame:
        if df is None or df.height == 0:
            return pl.DataFrame(schema={"_subject": pl.Utf8, "_erased_at": pl.Datetime("us")})
        return (df.filter(pl.col("status") == "completed").group_by("account_id")
                .agg(pl.col("erased_at").max().alias("_erased_at")).rename({"account_id": "_subject"}).sort("_subject"))

    def held(self, subjects: pl.Series, table: str) -> np.ndarray:
        """A legal hold applies to the subject's rows of `table` on the as-of date."""
        ids = self.holds.filter(pl.col("scope_table").is_in([table, "all"]))["account_id"]
        return _bool(subjects.is_in(ids.to_list()))

    def erased_at(self, subjects: pl.Series) -> np.ndarray:
        """E (the latest completed erasure) per subject, NaT for subjects never erased."""
        frame = pl.DataFrame({"_subject": subjects.cast(pl.Utf8)})
        joined = frame.join(self.erased, on="_subject", how="left", maintain_order="left")
        return _np(joined["_erased_at"]).astype(US)

    def consent_state(self, purpose: str) -> pl.DataFrame:
        """One state per (subject, instant) for a purpose; a withdrawal wins a tie."""
        if purpose not in self._consent_state:
            df = self.consents
            if df is None or df.height == 0:
                state = pl.DataFrame(schema={"_subject": pl.Utf8, "_consent_at": pl.Datetime("us"),
                                             "_granted": pl.Boolean})
            else:
                state = (df.filter(pl.col("purpose") == purpose)
                         .group_by(["subject_id", "ts"])
                         .agg((pl.col("action") == "withdrawn").any().not_().alias("_granted"))
                         .rename({"subject_id": "_subject", "ts": "_consent_at"})
                         .sort(["_consent_at", "_subject"]))
            self._consent_state[purpose] = state
        return self._consent_state[purpose]

    # --- contract expressions
    def table(self, name: str) -> Table:
        return self.contract.table(name)

    def anchor(self, table: str, name: str, df: pl.DataFrame) -> np.ndarray:
        return self._instant(self.table(table).anchors[name], df)

    def first_anchor(self, table: str, df: pl.DataFrame) -> np.ndarray:
        return self._instant(next(iter(self.table(table).anchors.values())), df)

    @staticmethod
    def _instant(expr: str, df: pl.DataFrame) -> np.ndarray:
        expr = expr.strip()
        if re.fullmatch(r"[a-z_][a-z0-9_]*", expr):
            return _np(df[expr]).astype(US)
        m = re.fullmatch(r"greatest\((.*)\)", expr)
        if m:  # SQL greatest() ignores nulls
            cols = [c.strip() for c in m.group(1).split(",")]
            return _np(df.select(pl.max_horizontal(cols))[:, 0]).astype(US)
        raise NotImplementedError(f"anchor expression {expr!r}")

    def exemption(self, table: str, name: str, df: pl.DataFrame) -> np.ndarray:
        expr = self.table(table).exemptions[name].strip()
        m = re.fullmatch(r"coalesce\(([a-z_][a-z0-9_]*),\s*false\)", expr)
        if m:
            return _bool(df[m.group(1)])
        m = re.fullmatch(r"([a-z_][a-z0-9_]*)\s*=\s*'([^']*)'", expr)
        if m:
            return _bool(df[m.group(1)] == m.group(2))
        raise NotImplementedError(f"exemption expression {expr!r}")

    def subject(self, table: str, df: pl.DataFrame) -> pl.Series:
        col = self.table(table).subject_column
        return df[col].cast(pl.Utf8) if col else pl.Series([None] * df.height, dtype=pl.Utf8)

    def scope(self, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
        """`where` filters (compared as text) and the pledge's jurisdictions."""
        mask = np.ones(df.height, dtype=bool)
        for col, val in (getattr(pledge.params, "where", None) or {}).items():
            vals = [_text(v) for v in (val if isinstance(val, list) else [val])]
            mask &= _bool(df[col].cast(pl.Utf8).is_in(vals))
        if pledge.jurisdictions != "all" and "jurisdiction" in self.table(table).columns:
            mask &= _bool(df["jurisdiction"].is_in(list(pledge.jurisdictions)))
        return mask

    def calendar(self, params) -> str | None:
        return getattr(params, "calendar", None) or self.policy.policy.calendar

    def known(self, ts: np.ndarray) -> np.ndarray:
        """Not null and not after the as-of date."""
        return ~np.isnat(ts) & (day_of(ts) <= self.A)


# ---------------------------------------------------------------- row-wise checks
def retention(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    p = pledge.params
    at = ctx.anchor(table, p.from_, df)
    expired = add_to_dates(day_of(at), p.period, ctx.calendar(p)) < ctx.A
    excepted = np.zeros(df.height, dtype=bool)
    for name in p.exceptions:
        excepted |= ctx.held(ctx.subject(table, df), table) if name == "legal_hold" else ctx.exemption(table, name, df)
    return _outcome(ctx.scope(pledge, table, df), ~ctx.known(at), expired & ~excepted, expired & excepted)


def deadline_due(ctx: Context, p, start: np.ndarray, notice: np.ndarray) -> np.ndarray:
    """Due date per record (dates; instants for hour limits), extension applied."""
    cal = ctx.calendar(p)
    hours = p.limit.unit == "hours"
    base = start if hours else day_of(start)
    add = (lambda x, d: add_to_instants(x, d)) if hours else (lambda x, d: add_to_dates(x, d, cal))
    moves = p.next_working_day and p.limit.unit not in ("hours", "business_days")
    due = add(base, p.limit)
    if moves:
        due = next_working_day(due, cal)
    if not p.extension:
        return due
    ext = p.extension
    if ext.by.unit == p.limit.unit:
        extended = add(base, Duration(**{p.limit.unit: p.limit.amount + ext.by.amount}))
    else:
        extended = add(due, ext.by)
    if moves:
        extended = next_working_day(extended, cal)
    window_end = add_to_dates(day_of(start), ext.notice_within, cal) if ext.notice_within else due.astype(DAY)
    applies = ~np.isnat(notice) & (day_of(notice) <= window_end)
    return np.where(applies, extended, due)


def deadline(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    p = pledge.params
    start, end = ctx.anchor(table, p.start, df), ctx.anchor(table, p.end, df)
    notice = ctx.anchor(table, p.extension.notice, df) if p.extension else np.full(df.height, NAT_US)
    due = deadline_due(ctx, p, start, notice)
    if p.limit.unit == "hours":
        on_time, overdue = end <= due, due < ctx.A_us
    else:
        on_time, overdue = day_of(end) <= due, due < ctx.A
    done = ~np.isnat(end)
    return _outcome(ctx.scope(pledge, table, df), ~ctx.known(start), np.where(done, ~on_time, overdue))


def minimum_retention(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    """A deletion recorded before the anchor's date + period (deleted too early)."""
    p = pledge.params
    at, deleted = ctx.anchor(table, p.from_, df), ctx.anchor(table, p.deleted, df)
    earliest = add_to_dates(day_of(at), p.period, ctx.calendar(p))
    early = ~np.isnat(deleted) & (day_of(deleted) < earliest)
    return _outcome(ctx.scope(pledge, table, df), ~ctx.known(at), early)


def request_completion(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    """Not completed and no recorded reason to be open (open ones count as kept, as for deadlines)."""
    p = pledge.params
    start, end = ctx.anchor(table, p.start, df), ctx.anchor(table, p.end, df)
    reason = np.zeros(df.height, dtype=bool)
    for a in p.open_while_missing:
        reason |= np.isnat(ctx.anchor(table, a, df))
    for a in p.open_while_set:
        reason |= ~np.isnat(ctx.anchor(table, a, df))
    return _outcome(ctx.scope(pledge, table, df), ~ctx.known(start), np.isnat(end) & ~reason)


def _only(rows: np.ndarray | None, per_row, *columns) -> np.ndarray:
    """per_row(*columns) evaluated on the `rows` (a mask) only; False elsewhere."""
    n = len(columns[-1])
    if rows is None or rows.all():
        return per_row(*columns)
    out = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(rows)
    if idx.size:
        out[idx] = per_row(*(c.gather(idx) if isinstance(c, pl.Series) else c[idx] for c in columns))
    return out


def consent_covered(ctx: Context, subjects: pl.Series, t: np.ndarray, purpose: str,
                    validity: Duration | None, rows: np.ndarray | None = None) -> np.ndarray:
    """Per event: the subject's latest consent row for `purpose` at or before `t` is a grant
    (a withdrawal wins a tie) that has not expired. With `rows`, only those are looked up."""
    if rows is not None:
        return _only(rows, lambda s, x: consent_covered(ctx, s, x, purpose, validity), subjects, t)
    events = pl.DataFrame({"_i": np.arange(len(t)), "_subject": subjects.cast(pl.Utf8), "_t": t.astype(US)})
    events = events.filter(pl.col("_t").is_not_null()).sort("_t")
    joined = events.join_asof(ctx.consent_state(purpose), left_on="_t", right_on="_consent_at", by="_subject",
                              strategy="backward", check_sortedness=False)
    ok = _bool(joined["_granted"])
    if validity is not None:
        granted_at = _np(joined["_consent_at"]).astype(US)
        ok &= _np(joined["_t"]).astype(US) < add_to_instants(granted_at, validity)
    covered = np.zeros(len(t), dtype=bool)
    covered[_np(joined["_i"])] = ok
    return covered


def consent_coverage(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    p = pledge.params
    t = ctx.first_anchor(table, df)
    scope, known = ctx.scope(pledge, table, df), ctx.known(t)
    covered = consent_covered(ctx, ctx.subject(table, df), t, p.purpose, p.validity, rows=scope & known)
    return _outcome(scope, ~known, ~covered)


def opted_out(ctx: Context, subjects: pl.Series, channels: pl.Series, t: np.ndarray, grace: Duration,
              rows: np.ndarray | None = None) -> np.ndarray:
    """Per send: an unsubscribe of its channel (or `all`) at `u` with `u + grace < t`, and no
    marketing_email grant in (u, t]. With `rows`, only those are looked up."""
    if rows is not None:
        return _only(rows, lambda s, c, x: opted_out(ctx, s, c, x, grace), subjects, channels, t)
    late = np.zeros(len(t), dtype=bool)
    uns = ctx.unsubscribes
    if uns is None or uns.height == 0:
        return late
    sends = pl.DataFrame({"_i": np.arange(len(t)), "_subject": subjects.cast(pl.Utf8),
                          "_channel": channels.cast(pl.Utf8), "_t": t.astype(US)})
    sends = sends.filter(pl.col("_t").is_not_null()).sort("_t")
    # the latest marketing_email grant at or before each send: a grant after the opt-out lifts it
    grants = ctx.consent_state("marketing_email").filter(pl.col("_granted")).select("_subject", "_consent_at")
    sends = sends.join_asof(grants, left_on="_t", right_on="_consent_at", by="_subject",
                            strategy="backward", check_sortedness=False)
    u = uns.select(pl.col("account_id").cast(pl.Utf8).alias("_subject"), pl.col("channel").alias("_uchannel"),
                   pl.col("ts").alias("_u"))
    u = u.with_columns(pl.Series("_u_grace", add_to_instants(_np(u["_u"]), grace)))
    pairs = sends.join(u, on="_subject", how="inner").filter(
        ((pl.col("_uchannel") == pl.col("_channel")) | (pl.col("_uchannel") == "all")).fill_null(False)
        & (pl.col("_u_grace") < pl.col("_t"))
        & (pl.col("_consent_at").is_null() | (pl.col("_consent_at") <= pl.col("_u"))))
    late[_np(pairs["_i"].unique())] = True
    return late


def optout_latency(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    p = pledge.params
    t = ctx.first_anchor(table, df)
    scope, known = ctx.scope(pledge, table, df), ctx.known(t)
    late = opted_out(ctx, ctx.subject(table, df), df["channel"], t, p.grace, rows=scope & known)
    return _outcome(scope, ~known, late)


class IpClassifier:
    """ip_class over a column, parsing each distinct string once (cached across chunks)."""

    def __init__(self):
        self.cache: dict[str, int] = {}

    def __call__(self, s: pl.Series) -> np.ndarray:
        s = s.cast(pl.Utf8)
        keys = s.drop_nulls().unique()
        if len(self.cache) > 1_000_000:  # bounded memory on endless streams of distinct addresses
            self.cache = {}
        codes = []
        for v in keys.to_list():
            code = self.cache.get(v)
            if code is None:
                code = self.cache[v] = ip_class(v)
            codes.append(code)
        return _np(s.replace_strict(keys, codes, default=IP_NONE, return_dtype=pl.Int8)).astype(np.int8)


IP_CLASSES = IpClassifier()  # shared: the same addresses recur across tables, chunks and shards


class FrameIps:
    """ip_class per column of one frame, computed once for every pledge reading the column."""

    def __init__(self):
        self.memo: dict[str, np.ndarray] = {}

    def __call__(self, s: pl.Series) -> np.ndarray:
        if s.name not in self.memo:
            self.memo[s.name] = IP_CLASSES(s)
        return self.memo[s.name]


def ip_truncation(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame,
                  classify: IpClassifier | None = None) -> np.ndarray:
    p = pledge.params
    cls = (classify or IP_CLASSES)(df[p.column])
    at = ctx.anchor(table, p.from_, df) if p.from_ else ctx.first_anchor(table, df)
    full = (cls == IP4_FULL) | (cls == IP6_FULL)
    if p.after.amount > 0:
        full &= add_to_dates(day_of(at), p.after, ctx.calendar(p)) <= ctx.A
    return _outcome(ctx.scope(pledge, table, df), (cls == IP_NONE) | ~ctx.known(at), full)


def column_empty(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    p = pledge.params
    rows = ctx.scope(pledge, table, df)
    return _outcome(rows, np.zeros(df.height, dtype=bool), nonblank(df[p.column]))


def password_hash(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    p = pledge.params
    h = df[p.column].cast(pl.Utf8)
    return _outcome(ctx.scope(pledge, table, df), _np(h.is_null()).astype(bool), ~_bool(is_adaptive_hash(h)))


def third_party_identifiers(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    p = pledge.params
    cols = p.columns or [c.name for c in ctx.table(table).pii_columns]
    found = np.zeros(df.height, dtype=bool)
    for c in cols:
        found |= nonblank(df[c])
    return _outcome(ctx.scope(pledge, table, df), np.zeros(df.height, dtype=bool), found)


def k_anonymity(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    p = pledge.params
    count = df[p.count_column].cast(pl.Int64)
    rows = ctx.scope(pledge, table, df) & _bool(count > 0)
    return _outcome(rows, np.zeros(df.height, dtype=bool), _bool(count < p.k))


def minimum_age(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    p = pledge.params
    dob = _np(df["date_of_birth"]).astype(DAY)
    at = ctx.anchor(table, p.at, df)
    unknown = np.isnat(dob) | ~ctx.known(at)
    return _outcome(ctx.scope(pledge, table, df), unknown, day_of(at) < add_months(dob, 12 * p.min_age))


def erasure_completeness(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    p = pledge.params
    subjects = ctx.subject(table, df)
    erased = ctx.erased_at(subjects)
    created = ctx.first_anchor(table, df)
    rows = ctx.scope(pledge, table, df) & ~np.isnat(erased) & (created <= erased)
    rows &= add_to_dates(day_of(erased), p.grace, ctx.policy.policy.calendar) < ctx.A
    held = ctx.held(subjects, table)
    return _outcome(rows, np.zeros(df.height, dtype=bool), ~held, held)


def backup_rotation(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    p = pledge.params
    erased = ctx.erased_at(ctx.subject(table, df))
    taken, purged = _np(df["taken_at"]).astype(US), _np(df["purged_at"]).astype(US)
    rows = ~np.isnat(erased) & (taken <= erased)
    rotate_by = add_to_dates(day_of(erased), p.rotation, ctx.policy.policy.calendar)
    late = (rotate_by < ctx.A) & (np.isnat(purged) | (day_of(purged) > rotate_by))
    return _outcome(rows, np.zeros(df.height, dtype=bool), late)


def tcf_strings(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    """docs/CHECKS.md#tcf_strings: each non-blank string in scope; violation when it does not
    decode or breaks one of the rules (the decoder is pledgecheck.tcf, tested on its own and
    cross-checked with iab-tcf; the rules are re-implemented here)."""
    from .. import tcf

    p = pledge.params
    text = df[p.column].cast(pl.Utf8)
    rows = ctx.scope(pledge, table, df) & nonblank(text)
    recorded = day_of(_np(df["ts"]))
    purposes, actions, texts = df["purpose"].to_list(), df["action"].to_list(), text.to_list()
    bad = np.zeros(df.height, dtype=bool)
    v22 = np.datetime64(p.v22_from, "D")
    for i in np.flatnonzero(rows):
        t = tcf.decode(texts[i])
        if t.error:
            bad[i] = True
            continue
        created, updated = np.datetime64(t.created, "us"), np.datetime64(t.last_updated, "us")
        ids = set(p.purposes[purposes[i]]) if purposes[i] in p.purposes else None
        consent = set(t.purposes_consent)
        bad[i] = bool(
            created > updated
            or np.datetime64(t.last_updated.date(), "D") > recorded[i]
            or (np.datetime64(t.created.date(), "D") >= v22 and t.policy_version < 4)
            or (t.policy_version >= 4 and set(t.purposes_li) & set(tcf.CONSENT_ONLY_PURPOSES))
            or (ids is not None and actions[i] == "granted" and not ids <= consent)
            or (ids is not None and actions[i] == "withdrawn" and bool(ids & consent)))
    return _outcome(rows, np.zeros(df.height, dtype=bool), bad)


def pseudonymized(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    """docs/CHECKS.md#pseudonymized: blank is unknown; an e-mail address anywhere is a violation."""
    p = pledge.params
    s = df[p.column].cast(pl.Utf8)
    blank = ~nonblank(s)
    found = np.array([bool(v) and EMAIL.search(v) is not None for v in s.to_list()], dtype=bool)
    return _outcome(ctx.scope(pledge, table, df), blank, found)


# The oracle's own function per check kind (written apart from the SQL, on purpose)
ROW_CHECKS = {
    "retention": retention, "deadline": deadline, "consent_coverage": consent_coverage,
    "optout_latency": optout_latency, "ip_truncation": ip_truncation, "column_empty": column_empty,
    "password_hash": password_hash, "third_party_identifiers": third_party_identifiers, "k_anonymity": k_anonymity,
    "minimum_age": minimum_age, "erasure_completeness": erasure_completeness, "backup_rotation": backup_rotation,
    "tcf_strings": tcf_strings, "pseudonymized": pseudonymized,
    "request_completion": request_completion, "minimum_retention": minimum_retention,
}


def outcomes(ctx: Context, pledge: Pledge, table: str, df: pl.DataFrame) -> np.ndarray:
    """Outcome code per row of `df` for a row-wise check (every check but cards and usage)."""
    return ROW_CHECKS[pledge.check](ctx, pledge, table, df)


def pledge_tables(pledge: Pledge, contract: Contract) -> list[str]:
    p = pledge.params
    if p.check == "card_numbers":
        return list(contract.tables) if p.tables == "all" else list(p.tables)
    if p.check == "erasure_completeness":
        return list(p.tables)
    if p.check == "backup_rotation":
        return ["backups"]
    return [p.table]


def card_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns.values() if c.type in ("string", "json") and not c.values]


def card_cells(df: pl.DataFrame, columns: list[str], found: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Per row, the number of cells holding at least one full card number. `found` keeps, per
    column of this very frame, the rows whose cell holds one (shared by the card pledges)."""
    hits = np.zeros(df.height, dtype=np.int64)
    for c in columns:
        rows = None if found is None else found.get(c)
        if rows is None:
            s = df[c].cast(pl.Utf8)
            idx = np.flatnonzero(_bool(s.str.contains(CARD_PREFILTER)))
            rows = np.array([i for i, text in zip(idx, s.gather(idx).to_list()) if card_numbers_in(text)],
                            dtype=np.int64)
            if found is not None:
                found[c] = rows
        hits[rows] += 1
    return hits


# ---------------------------------------------------------------- per pledge accumulation
class PledgeTruth:
    """Counts for one pledge, accumulated over every table (chunk) it reads."""

    def __init__(self, ctx: Context, pledge: Pledge):
        self.ctx, self.pledge = ctx, pledge
        self.tables = pledge_tables(pledge, ctx.contract)
        self.counts = Counts()
        self.groups: pl.DataFrame | None = None  # usage_limit: rows per (subject, period)
        self.settled = Counts()  # usage_limit: groups of absorbed parts, final (see absorb)

    def observe(self, table: str, df: pl.DataFrame, found: dict[str, np.ndarray] | None = None,
                ips: FrameIps | None = None) -> None:
        """Count the rows of `df` (a table or a chunk of it); `found`: see card_cells; `ips`:
        the address classes of this frame's columns."""
        if table not in self.tables:
            return
        p = self.pledge.params
        if p.check == "card_numbers":
            rows = self.ctx.scope(self.pledge, table, df)
            cells = card_cells(df, card_columns(self.ctx.table(table)), found)
            self.counts.add(Counts(int(((cells > 0) & rows).sum()), 0, int(rows.sum())))
        elif p.check == "usage_limit":
            self._usage(table, df)
        elif p.check == "ip_truncation":
            self.counts.add(Counts.of(ip_truncation(self.ctx, self.pledge, table, df, ips)))
        else:
            self.counts.add(Counts.of(outcomes(self.ctx, self.pledge, table, df)))

    def _usage(self, table: str, df: pl.DataFrame) -> None:
        p = self.pledge.params
        at = self.ctx.first_anchor(table, df)
        rows = self.ctx.scope(self.pledge, table, df) & self.ctx.known(at)
        unit = "datetime64[M]" if p.per == "calendar_month" else "datetime64[Y]"
        period = day_of(at).astype(unit).astype(DAY)
        part = (pl.DataFrame({"_subject": self.ctx.subject(table, df), "_period": period})
                .filter(pl.Series(rows)).group_by(["_subject", "_period"]).len())
        both = part if self.groups is None else pl.concat([self.groups, part])
        self.groups = both.group_by(["_subject", "_period"]).agg(pl.col("len").sum())

    def tally(self) -> tuple[Counts, Counts, pl.DataFrame | None]:
        """What `absorb` needs of this part (small, picklable: it crosses processes)."""
        return self.counts, self.settled, self.groups

    def absorb(self, tally: tuple[Counts, Counts, pl.DataFrame | None]) -> None:
        """Add the counts of a part observed separately (another shard of the world; see
        `tally`). Parts must hold disjoint subjects, which holds, consents and erasures follow:
        then every count adds up, and a usage group with a subject lies in one part only and is
        final; the null-subject groups, one per period across parts, are merged."""
        counts, settled, g = tally
        self.counts.add(counts)
        self.settled.add(settled)
        if g is None:
            return
        named = g.filter(pl.col("_subject").is_not_null())
        self.settled.add(Counts(int((named["len"] > self.pledge.params.max).sum()), 0, named.height))
        rest = g.filter(pl.col("_subject").is_null())
        both = rest if self.groups is None else pl.concat([self.groups, rest])
        self.groups = both.group_by(["_subject", "_period"]).agg(pl.col("len").sum())

    def result(self) -> Counts:
        if self.pledge.check == "usage_limit":
            out = Counts()
            out.add(self.settled)
            g = self.groups
            if g is not None:
                out.add(Counts(int((g["len"] > self.pledge.params.max).sum()), 0, g.height))
            return out
        return self.counts


class Truth:
    """Expected counts for every pledge of a policy over the tables observed."""

    def __init__(self, policy: Policy, as_of: date, aux: dict[str, pl.DataFrame],
                 contract: Contract | None = None):
        self.ctx = Context(policy, as_of, aux, contract)
        self.pledges = [PledgeTruth(self.ctx, p) for p in policy.pledges]

    def observe(self, table: str, df: pl.DataFrame) -> None:
        found: dict[str, np.ndarray] = {}  # card cells of this frame, found once for every card pledge
        ips = FrameIps()
        for pt in self.pledges:
            pt.observe(table, df, found, ips)

    def tally(self) -> list:
        """Per pledge, what another part's `absorb` needs (see PledgeTruth.tally)."""
        return [pt.tally() for pt in self.pledges]

    def absorb(self, tally: list) -> None:
        """Add the counts of another part of the world, over disjoint subjects (PledgeTruth.absorb)."""
        for mine, theirs in zip(self.pledges, tally, strict=True):
            mine.absorb(theirs)

    def expected(self) -> dict[str, dict[str, int]]:
        return {pt.pledge.id: pt.result().as_dict() for pt in self.pledges}
