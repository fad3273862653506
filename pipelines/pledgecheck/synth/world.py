"""One shard of a synthetic export: every table about its accounts, built in memory, with
violations planted and compliant records placed around each pledge's boundaries (see
generate.py for how shards make a world)."""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from ..contract import Contract
from ..duration import Duration
from ..checks import get as get_check
from ..policy import Pledge, Policy
from .truth import (
    DAY, EXEMPT, OK, US, VIOLATION, Context, add_to_dates, add_to_instants, card_brand, consent_covered,
    day_of, deadline_due, opted_out, outcomes,
)
from .hints import Hints
from .values import (
    BENIGN_COMMENTS, CARD_KINDS, CHUNK_ROWS, CONSENT_PURPOSES, COUNTRIES, CURRENCY, DAY_US, DEFAULT_DEADLINES,
    DEFAULT_SPAN, ENDINGS, FIRST_NAMES, FUTURE_SHARE, HOUR_P, ID_BLOCK, JURISDICTION_P, JURISDICTIONS,
    KEPT_ON_ERASURE, LAST_NAMES, NEEDS_CONSENT, OK_SHARE, REQUEST_TYPES, SECOND, TICKET_BODIES, TRACKERS,
    _choice, _frame, _ids, _masked_where, _nat, _series, _tc, address_pool, card_text, decoy_text, make_card,
    password_hash, pseudonym, truncate_ip,
)

# ================================================================ the world
@dataclass
class ErasurePlan:
    erased_at: np.ndarray                    # per account: E (NaT: never erased)
    leftovers: dict[str, set[int]] = field(default_factory=dict)  # table -> accounts whose rows stay
    failed: np.ndarray | None = None         # accounts with only failed/partial erasure attempts


class World:
    """One shard of the export: `accounts` customers numbered from `offset` + 1, every table
    about them built in memory (web access logs excepted: streamed). A single-shard world
    (shard 0, offset 0) is the whole export; shard k > 0 draws from its own random streams."""

    def __init__(self, policy: Policy, seed: int, accounts: int, as_of: date, contract: Contract,
                 shard: int = 0, offset: int = 0, world_accounts: int | None = None):
        self.policy, self.seed, self.n, self.as_of, self.contract = policy, seed, accounts, as_of, contract
        self.shard, self.offset = shard, offset
        self.world_accounts = accounts if world_accounts is None else world_accounts  # sizes the address pool
        self.next_id: dict[str, int] = {}      # ids used per prefix in this shard's block (new_ids)
        self.export_rows: dict[str, int] = {}  # rows numbered per affiliate export in this shard's block
        self.ctx = Context(policy, as_of, {}, contract)
        self.hints = Hints(policy, self.ctx)
        self.A = self.ctx.A
        self.A_us = self.ctx.A_us

    def stream(self, name: str) -> str:
        """Name of a random stream in this shard (shard 0 keeps the plain name)."""
        return name if self.shard == 0 else f"{name}@shard{self.shard}"

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(self.stream(name).encode())])

    def new_ids(self, prefix: str, n: int) -> np.ndarray:
        """The next n ids of a prefix, unique in the world: accounts are numbered from
        `offset` + 1; every other id in this shard's block of ID_BLOCK numbers (shard 0 from 1),
        so that a shard can be built without the ones before it."""
        used = self.next_id.get(prefix, 0)
        if prefix == "acc":
            base = self.offset
        else:
            base = self.shard * ID_BLOCK
            if used + n > ID_BLOCK:
                raise ValueError(f"shard {self.shard} needs over {ID_BLOCK:,} {prefix!r} ids: use smaller shards")
        self.next_id[prefix] = used + n
        return _ids(prefix, n, base + used + 1)

    # ------------------------------------------------------------ time
    def tod(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Seconds after midnight following the time-of-day curve."""
        hours = rng.choice(24, size=n, p=HOUR_P)
        return (hours * 3600 + rng.integers(0, 3600, n)).astype("timedelta64[s]")

    def recent(self, rng: np.random.Generator, n: int, span_days: float, floor: np.ndarray | None = None,
               bias: float = 1.0, future: float = 0.0) -> np.ndarray:
        """Instants before the as-of date, denser towards it (bias > 1), never before `floor`
        (e.g. the owner's sign-up); a `future` share lands 1-20 days after the as-of date."""
        back = np.floor(span_days * rng.random(n) ** bias).astype(np.int64) + 1
        t = (self.A - back.astype("timedelta64[D]")).astype(US) + self.tod(rng, n)
        if floor is not None:
            floor = floor.astype(US)
            late = t < floor
            room = np.maximum((self.A_us - floor).astype(np.int64), 3 * 86_400_000_000)
            t = np.where(late, floor + (rng.random(n) * room).astype("timedelta64[us]"), t)
        if future:
            fut = rng.random(n) < future
            if n and not fut.any():
                fut[rng.integers(n)] = True
            ahead = (self.A + rng.integers(1, 21, n).astype("timedelta64[D]")).astype(US) + self.tod(rng, n)
            t = np.where(fut, ahead, t)
        return t.astype("datetime64[s]").astype(US)

    def after(self, rng: np.random.Generator, t: np.ndarray, lo_s: float, hi_s: float, log: bool = True) -> np.ndarray:
        """t plus a random delay between lo_s and hi_s seconds (log-uniform by default)."""
        u = rng.random(len(t))
        secs = np.exp(np.log(lo_s) + u * (np.log(hi_s) - np.log(lo_s))) if log else lo_s + u * (hi_s - lo_s)
        return t + secs.astype(np.int64).astype("timedelta64[s]")

    def owners(self, rng: np.random.Generator, n: int, power: float = 1.0) -> np.ndarray:
        """Account indexes for n records, heavy users more often."""
        w = self.weight ** power
        return rng.choice(self.n, size=n, p=w / w.sum())

    # ------------------------------------------------------------ build
    def build(self) -> dict[str, pl.DataFrame]:
        t: dict[str, pl.DataFrame] = {}
        t["accounts"] = self.accounts()
        self.plan = self.erasure_plan()
        t["consent_events"] = self.consent_events()
        t["unsubscribes"] = self.unsubscribes()
        t["consent_events"] = pl.concat([t["consent_events"], self.resubscriptions(t["unsubscribes"])])
        self.consent_ctx = Context(self.policy, self.as_of, {k: t[k] for k in ("consent_events", "unsubscribes")},
                                   self.contract)
        t["tracker_events"] = self.tracker_events()
        t["marketing_sends"] = self.marketing_sends(t["unsubscribes"])
        t["email_events"] = self.email_events(t["marketing_sends"])
        t["marketing_statistics"] = self.marketing_statistics(t["marketing_sends"])
        t["orders"] = self.orders()
        t["payments"] = self.payments(t["orders"])
        t["security_events"] = self.security_events()
        t["data_subject_requests"] = self.data_subject_requests()
        t["support_tickets"] = self.support_tickets()
        t["chat_messages"] = self.chat_messages()
        t["audio_recordings"] = self.audio_recordings()
        t["downloads"] = self.downloads()
        t["affiliate_exports"] = self.affiliate_exports()
        t["shared_aggregates"] = self.shared_aggregates()  # one register for the world: in shard 0
        if self.shard:
            t["shared_aggregates"] = t["shared_aggregates"].clear()
        t["breach_incidents"] = self.breach_incidents()
        t["minor_reports"] = self.minor_reports()
        t["vulnerability_reports"] = self.vulnerability_reports()
        # retention is executed first; then each pledge keeps a minority of violations against
        # the records that survived (e.g. consents); erasures come last
        t["legal_holds"] = self.legal_holds(t)
        holds_ctx = Context(self.policy, self.as_of, {"legal_holds": t["legal_holds"]}, self.contract)
        for name in list(t):
            t[name] = self.purge_expired(name, t[name], holds_ctx, t["legal_holds"])
        consent_ctx = Context(self.policy, self.as_of, {k: t[k] for k in ("consent_events", "unsubscribes")},
                              self.contract)
        for name in list(t):
            t[name] = self.erase(name, self.conform(name, t[name], consent_ctx))
        t["erasure_log"] = self.erasure_log(t["data_subject_requests"])
        t["backups"] = self.backups()
        return {name: self._finish(name, t[name]) for name in self.contract.tables if name in t}

    def _finish(self, name: str, df: pl.DataFrame) -> pl.DataFrame:
        """Contract columns in order, rows in time order (then by key)."""
        table = self.contract.table(name)
        first = next(iter(table.anchors.values()))
        order = [first] if first in df.columns else []
        return df.sort(order + table.key, nulls_last=True).select(list(table.columns))

    # ------------------------------------------------------------ accounts
    def accounts(self) -> pl.DataFrame:
        rng, n = self.rng("accounts"), self.n
        self.weight = rng.lognormal(0.0, 1.1, n)
        self.jur = _choice(rng, JURISDICTIONS, n, JURISDICTION_P)
        history = max([DEFAULT_SPAN["accounts"]] + [self.hints.span(t) for t in self.contract.tables])
        history = min(history, 25 * 365)
        created = self.recent(rng, n, self.hints.span("accounts", "created", default=history), bias=1.3)
        skewed = n - 1  # a sign-up dated after the as-of date (clock skew)
        created[skewed] = (self.A + np.timedelta64(3, "D")).astype(US) + np.timedelta64(10, "h")
        self.created = created
        dob = self.dates_of_birth(rng, created)  # moves a few sign-ups onto 29 Feb birthdays
        dob[skewed] = day_of(created[skewed:])[0] - np.timedelta64(9000, "D")
        self.protected = np.zeros(n, dtype=bool)  # edge-case accounts: never erased
        self.protected[[0, 1, 2, 3, skewed][: n]] = True
        active_span = self.hints.span("accounts", "last_activity")
        login = self.recent(rng, n, active_span, floor=created, bias=1.6)
        login = np.where(rng.random(n) < 0.08, np.datetime64("NaT"), login)
        activity = np.where(rng.random(n) < 0.15, np.datetime64("NaT"),
                            self.after(rng, np.where(np.isnat(login), created, login), 60, 2 * 86400))
        activity = np.where(activity > self.A_us, np.maximum(login, created), activity).astype(US)
        deleted = np.where(rng.random(n) < 0.04, self.after(rng, np.fmax(activity, created), 3600, 30 * 86400),
                           np.datetime64("NaT")).astype(US)
        deleted = np.where(deleted >= self.A_us, np.datetime64("NaT"), deleted).astype(US)
        self.deleted = deleted
        self.ids = self.new_ids("acc", n)
        self.names = np.array([f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i * 7) % len(LAST_NAMES)]}"
                               for i in rng.integers(0, 10_000, n)], dtype=object)
        country = np.array([COUNTRIES[j][int(k) % len(COUNTRIES[j])]
                            for j, k in zip(self.jur, rng.integers(0, 100, n))], dtype=object)
        kinds = _choice(rng, ("bcrypt", "argon2", "scrypt", "pbkdf2", "none", "md5", "sha1", "plain", "md5crypt",
                              "truncated"), n, (48, 22, 4, 12, 10, 1.2, 0.6, 0.5, 0.4, 0.3))
        hashes = [password_hash(rng, k) for k in kinds]
        self.home_ip = rng.integers(0, len(self.ip_pool), n)
        fraud = _masked_where(rng.random(n) < 0.5, rng.random(n) < 0.015, None)
        return _frame({
            "account_id": self.ids, "email": np.array([f"user{self.offset + i + 1}@example.test" for i in range(n)], dtype=object),
            "name": self.names, "date_of_birth": dob, "country": country, "jurisdiction": self.jur,
            "created_at": created, "last_login_at": login, "last_activity_at": activity, "deleted_at": deleted,
            "password_hash": hashes, "fraud_flag": fraud, "_i": np.arange(n),
        }, self.contract.table("accounts"))

    def dates_of_birth(self, rng: np.random.Generator, created: np.ndarray) -> np.ndarray:
        """Adults mostly; a few under the strictest minimum age at sign-up; 29 Feb edges."""
        n, min_age = len(created), self.hints.min_age()
        age_days = (rng.uniform(min_age + 0.05, 70, n) * 365.25).astype(np.int64)
        minors = rng.random(n) < 0.02
        minors[rng.integers(n)] = True
        age_days = np.where(minors, (rng.uniform(min_age - 4, min_age - 0.01, n) * 365.25).astype(np.int64), age_days)
        dob = day_of(created) - age_days.astype("timedelta64[D]")
        dob = np.where(rng.random(n) < 0.12, np.datetime64("NaT"), dob).astype(DAY)
        # born 29 Feb: the birthday is 28 Feb in common years (of age that day, not the day before)
        year = next(y for y in range(self.as_of.year - 1, 1900, -1)
                    if y % 4 == 0 and (y % 100 or y % 400 == 0) and date(y + min_age, 2, 28) < self.as_of)
        for i, sign_day in enumerate((28, 27, 28), start=1):  # of age, one day short, of age
            if i < n:
                dob[i] = np.datetime64(date(year, 2, 29))
                created[i] = np.datetime64(date(year + min_age, 2, sign_day)).astype(US) + np.timedelta64(13, "h")
        return dob

    @property
    def ip_pool(self) -> np.ndarray:
        if not hasattr(self, "_ip_pool"):
            self._ip_pool, self._ip_trunc = address_pool(self.seed, self.world_accounts)
        return self._ip_pool

    def ip_index(self, rng: np.random.Generator, owners: np.ndarray | None, truncate: np.ndarray) -> np.ndarray:
        """Addresses for records, as indexes into ip_pool + its truncated forms: the owner's
        home address most of the time, else any."""
        n = len(truncate)
        idx = rng.integers(0, len(self.ip_pool), n)
        if owners is not None:
            home = (owners >= 0) & (rng.random(n) < 0.7)
            idx = np.where(home, self.home_ip[np.maximum(owners, 0)], idx)
        return idx + truncate * len(self.ip_pool)

    def ips(self, rng: np.random.Generator, owners: np.ndarray | None, truncate: np.ndarray) -> np.ndarray:
        return np.concatenate([self.ip_pool, self._ip_trunc])[self.ip_index(rng, owners, truncate)]

    def truncation(self, rng: np.random.Generator, table: str, df: pl.DataFrame, column: str = "ip") -> np.ndarray:
        """Which rows get a truncated address: nearly all the pledges cover (once past their
        `after` window), a few elsewhere."""
        covered = np.zeros(df.height, dtype=bool)
        for p in self.hints.ip_pledges(table, column):
            covered |= self.ctx.scope(p, table, df) & self.past_window(p, table, df)
        return rng.random(df.height) < np.where(covered, 0.97, 0.05)

    # ------------------------------------------------------------ erasures
    def erasure_plan(self) -> ErasurePlan:
        """Who was erased when, and where leftovers stay; E edges around each grace and rotation."""
        rng, n = self.rng("erasure"), self.n
        erased = _nat(n)
        pick = rng.random(n) < 0.06
        pick[np.argsort(self.created)[: max(3, n // 200)]] = True  # old customers always include some
        pick &= (self.created < self.A_us - np.timedelta64(30, "D")) & ~self.protected
        lo = np.maximum(self.created + np.timedelta64(30, "D"), self.A_us - np.timedelta64(730, "D"))
        span = (self.A_us - np.timedelta64(1, "D") - lo).astype(np.int64)
        erased[pick] = (lo + (rng.random(n) * np.maximum(span, 0)).astype("timedelta64[us]"))[pick]
        # edges: date(E) + grace = A - 1 (counted) and = A (not yet); likewise for the rotation
        edges = [d for g in self.hints.erasure_graces() for d in (self.hints.ok_days(g) + 1, self.hints.ok_days(g))]
        rot = self.hints.ok_days(self.hints.rotation())
        edges += [rot + 1, rot]
        candidates = np.flatnonzero(pick)
        for k, back in enumerate(edges[: len(candidates)]):
            i = candidates[k]
            e = (self.A - np.timedelta64(back, "D")).astype(US) + np.timedelta64(int(rng.integers(0, 86_400)), "s")
            if e > self.created[i]:
                erased[i] = e
        erased = erased.astype("datetime64[s]").astype(US)
        plan = ErasurePlan(erased)
        left_tables = self.hints.erasure_tables() or ["accounts", "orders", "support_tickets", "marketing_sends"]
        left_tables = [t for t in left_tables if self.contract.table(t).subject_column] + ["chat_messages"]
        for i in np.flatnonzero(~np.isnat(erased)):
            if rng.random() < 0.3:
                for t in _choice(rng, left_tables, int(rng.integers(1, 3))):
                    plan.leftovers.setdefault(str(t), set()).add(int(i))
        # log leftovers need an erasure inside the log's reach and past the longest grace
        _, reach = self.access_log_span()
        grace = max(self.hints.ok_days(g) for g in self.hints.erasure_graces())
        lo, hi = self.A_us - np.timedelta64(reach - 5, "D"), self.A_us - np.timedelta64(grace + 2, "D")
        for i in sorted(plan.leftovers.get("web_access_logs", set())):
            start = max(lo, self.created[i] + np.timedelta64(2, "D"))
            if start < hi:
                erased[i] = start + np.timedelta64(int(rng.integers(0, int((hi - start) / SECOND))), "s")
        failed = (rng.random(n) < 0.01) & np.isnat(erased) & (self.created < self.A_us)
        plan.failed = np.flatnonzero(failed)
        return plan

    def erase(self, name: str, df: pl.DataFrame) -> pl.DataFrame:
        """Remove erased subjects' rows (leftovers stay; kept tables untouched)."""
        table = self.contract.table(name)
        subject = table.subject_column
        if subject is None or (name in KEPT_ON_ERASURE and name not in self.hints.erasure_tables()):
            return df
        idx = self.account_index(df[subject])
        erased = np.where(idx >= 0, self.plan.erased_at[np.maximum(idx, 0)], np.datetime64("NaT"))
        left = np.isin(idx, sorted(self.plan.leftovers.get(name, set())))
        created = self.ctx.first_anchor(name, df)
        gone = ~np.isnat(erased) & (~left | (created > erased))
        if name == "accounts":
            df = df.with_columns(pl.when(pl.Series(~np.isnat(erased) & left)).then(_series("e", erased))
                                 .otherwise(pl.col("deleted_at")).alias("deleted_at"))
        return df.filter(pl.Series(~gone))

    def account_index(self, ids: pl.Series) -> np.ndarray:
        """Index of each account id in this world (-1 for visitors and nulls)."""
        nums = ids.cast(pl.Utf8).str.strip_prefix("acc").cast(pl.Int64, strict=False)
        ok = ids.cast(pl.Utf8).str.starts_with("acc").fill_null(False)
        idx = nums.fill_null(0).to_numpy() - 1 - self.offset
        return np.where(ok.to_numpy() & (idx >= 0) & (idx < self.n), idx, -1)

    def erasure_log(self, requests: pl.DataFrame) -> pl.DataFrame:
        """One row per table processed for each erasure; a few partial/failed attempts."""
        rng = self.rng("erasure_log")
        req = {r["account_id"]: r["request_id"] for r in requests.filter(pl.col("request_type") == "erasure")
               .select("account_id", "request_id").iter_rows(named=True) if r["account_id"]}
        processed = ["accounts", "orders", "payments", "marketing_sends", "support_tickets", "tracker_events",
                     "web_access_logs", "chat_messages", "downloads"]
        rows = []
        for i in np.flatnonzero(~np.isnat(self.plan.erased_at)):
            e = self.plan.erased_at[i]
            tables = processed[: int(rng.integers(3, len(processed) + 1))]
            for k, t in enumerate(tables):
                at = e - np.timedelta64(int(rng.integers(1, 3600)) if k < len(tables) - 1 else 0, "s")
                status = "partial" if (k == 0 and rng.random() < 0.1) else "completed"
                rows.append((self.ids[i], at, status, t))
        for i in self.plan.failed:
            at = self.recent(rng, 1, 365, floor=self.created[i:i + 1])[0]
            rows.append((self.ids[i], at, "failed" if rng.random() < 0.6 else "partial", "accounts"))
        n = len(rows)
        acc = np.array([r[0] for r in rows], dtype=object)
        return _frame({
            "erasure_id": self.new_ids("era", n), "request_id": np.array([req.get(a) for a in acc], dtype=object),
            "account_id": acc, "erased_at": np.array([r[1] for r in rows], dtype=US) if n else _nat(0),
            "status": np.array([r[2] for r in rows], dtype=object),
        }, self.contract.table("erasure_log"))

    def backups(self) -> pl.DataFrame:
        """Monthly backups; purged on schedule within the rotation, except one never purged and
        one purged late."""
        rot = self.hints.rotation()
        keep = max(1, int(rot.approx_days() * 0.8))
        months = int(min(36, max(12, rot.approx_days() / 30 * 3)))
        first = (self.A.astype("datetime64[M]") - months).astype(DAY)
        taken = np.array([(first.astype("datetime64[M]") + k).astype(DAY) for k in range(months + 1)]).astype(US) \
            + np.timedelta64(2, "h")
        purged = taken + np.timedelta64(keep, "D")
        purged = np.where(purged < self.A_us, purged, np.datetime64("NaT")).astype(US)
        stuck, late = months // 3, months // 2
        purged[stuck] = np.datetime64("NaT")
        if not np.isnat(purged[late]):
            purged[late] = purged[late] + np.timedelta64(int(rot.approx_days()) + 45, "D")
            purged[late] = purged[late] if purged[late] < self.A_us else np.datetime64("NaT")
        at = taken[:, None]
        held = (self.created[None, :] <= at) & ~(self.deleted[None, :] < at) & ~(self.plan.erased_at[None, :] < at)
        b, a = np.nonzero(held)  # (backup, account) pairs: who each backup holds
        labels = np.array([f"bkp-{m}" for m in taken.astype("datetime64[M]")], dtype=object)
        return _frame({"backup_id": labels[b], "account_id": self.ids[a], "taken_at": taken[b], "purged_at": purged[b]},
                      self.contract.table("backups"))

    # ------------------------------------------------------------ consent, marketing, trackers
    def visitors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Anonymous cookie ids with their first visit and jurisdiction."""
        if not hasattr(self, "_visitors"):
            rng = self.rng("visitors")
            n = max(10, self.n // 2)
            first = self.recent(rng, n, self.hints.span("tracker_events", "fired"))
            self._visitors = (self.new_ids("vis", n), first, _choice(rng, JURISDICTIONS, n, JURISDICTION_P))
        return self._visitors

    def consent_events(self) -> pl.DataFrame:
        """Grants at sign-up or first visit, some withdrawals and re-grants, renewals before a
        validity runs out (mostly), a tie and subjects with no record at all."""
        rng = self.rng("consent_events")
        vis_ids, vis_first, vis_jur = self.visitors()
        subj = np.concatenate([self.ids, vis_ids])
        t0 = np.concatenate([self.created, vis_first]) + np.timedelta64(5, "s")
        jur = np.concatenate([self.jur, vis_jur])
        recorded = np.concatenate([rng.random(self.n) > 0.06, np.ones(len(vis_ids), dtype=bool)])
        rows: list[tuple] = []
        for purpose, share in CONSENT_PURPOSES.items():
            if purpose == "marketing_email":
                granted = recorded & np.concatenate([rng.random(self.n) < share, np.zeros(len(vis_ids), bool)])
            else:
                granted = recorded & (rng.random(len(subj)) < share)
            source = "checkout" if purpose == "marketing_email" else "banner"
            rows += [(s, purpose, "granted", t, source, j) for s, t, j in zip(subj[granted], t0[granted], jur[granted])]
            validity = self.hints.consent_validity(purpose)
            withdraw = granted & (rng.random(len(subj)) < 0.1)
            wt = self.after(rng, t0, 86_400, 3 * 365 * 86_400)
            withdraw &= wt < self.A_us
            rows += [(s, purpose, "withdrawn", t, "account_settings", j)
                     for s, t, j in zip(subj[withdraw], wt[withdraw], jur[withdraw])]
            regrant = withdraw & (rng.random(len(subj)) < 0.3)
            rt = self.after(rng, wt, 86_400, 200 * 86_400)
            regrant &= rt < self.A_us
            rows += [(s, purpose, "granted", t, "account_settings", j)
                     for s, t, j in zip(subj[regrant], rt[regrant], jur[regrant])]
            if validity is not None:
                rows += self.renewals(rng, subj, t0, jur, granted & ~withdraw, purpose, validity)
        # a grant and a withdrawal at the same instant: the withdrawal wins
        for i in np.flatnonzero(self.protected)[:2]:
            t = self.recent(rng, 1, 200, floor=self.created[i:i + 1])[0]
            rows += [(self.ids[i], "marketing_email", "granted", t, "email_link", self.jur[i]),
                     (self.ids[i], "marketing_email", "withdrawn", t, "email_link", self.jur[i])]
        return self.consent_frame(rng, rows)

    def renewals(self, rng, subj, t0, jur, active, purpose: str, validity: Duration) -> list[tuple]:
        """Re-confirmations every 60-95% of the validity for 85% of the subjects."""
        rows: list[tuple] = []
        step_s = validity.approx_days() * 86_400
        renew = active & (rng.random(len(subj)) < 0.85)
        t = t0.copy()
        for _ in range(200):
            t = t + (step_s * rng.uniform(0.6, 0.95, len(t))).astype(np.int64).astype("timedelta64[s]")
            renew &= t < self.A_us
            if not renew.any():
                break
            rows += [(s, purpose, "granted", x, "email_link", j) for s, x, j in zip(subj[renew], t[renew], jur[renew])]
        return rows

    def consent_frame(self, rng: np.random.Generator, rows: list[tuple]) -> pl.DataFrame:
        n = len(rows)
        has = np.array([r[4] == "banner" for r in rows], dtype=bool) & (rng.random(n) < 0.5)
        col = lambda k: np.array([r[k] for r in rows], dtype=object)  # noqa: E731
        ts = np.array([r[3] for r in rows], dtype=US).astype("datetime64[s]").astype(US) if n else _nat(0)
        return _frame({
            "consent_id": self.new_ids("con", n), "subject_id": col(0), "purpose": col(1), "action": col(2),
            "ts": ts, "source": col(4), "jurisdiction": col(5), "tcf_string": self.tc_strings(rng, rows, ts, has),
        }, self.contract.table("consent_events"))

    def tc_strings(self, rng: np.random.Generator, rows: list[tuple], ts: np.ndarray, has: np.ndarray) -> np.ndarray:
        """TCF v2 strings for banner records: the day of the record (TCF times are kept to the
        day), consent bits for the record's purposes as the policy's tcf_strings pledges map
        them, policy version 4 since the v2.2 switch; about 3% (at least two) carry one defect
        the tcf_strings check must find (truncated, bad characters, a v1 string, LI for a
        consent-only purpose, an outdated policy version, the wrong purpose bits, dates after
        the record or out of order)."""
        out = np.full(len(rows), None, dtype=object)
        idx = np.flatnonzero(has)
        if not len(idx):
            return out
        params = [p.params for p in self.policy.pledges if p.check == "tcf_strings"] or [get_check("tcf_strings").Params()]
        mapping: dict[str, set[int]] = {}
        for prm in params:
            for k, v in prm.purposes.items():
                mapping.setdefault(k, set()).update(v)
        v22 = min(prm.v22_from for prm in params)
        defect = rng.random(len(idx)) < 0.03
        defect[: min(2, len(idx))] = True
        kinds = rng.integers(0, 9, len(idx))
        days = ts[idx].astype("datetime64[D]").astype(object)
        for j, i in enumerate(idx):
            purpose, action, day = rows[i][1], rows[i][2], days[j]
            ids = mapping.get(purpose, set())
            consent, li = ({1} | ids) if action == "granted" else {1}, (2, 7, 10)
            pv, created, updated = (4 if day >= v22 else 2), day, day
            k = int(kinds[j]) if defect[j] else -1
            if k == 5 and day < v22:
                k = 4  # an outdated version is only a defect after the switch
            if k == 6 and not ids:
                k = 4  # no purpose bit to get wrong for an unmapped purpose
            if k == 4:
                li, pv = (2, 3), 4
            elif k == 5:
                pv = 2
            elif k == 6:
                consent = {1} if action == "granted" else {1} | ids
            elif k == 7:
                created, updated = day, day + timedelta(days=2)
            elif k == 8:
                created, updated = day + timedelta(days=1), day
            s = _tc(created, updated, tuple(sorted(consent)), li, pv)
            if k == 0:
                s = s[: len(s) // 2]
            elif k == 1:
                s = s[:10] + "*" + s[11:]
            elif k == 2:
                s = "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA"  # a TCF v1 string
            elif k == 3:
                s = s[: len(s) - 12]
            out[i] = s
        return out

    def unsubscribes(self) -> pl.DataFrame:
        rng = self.rng("unsubscribes")
        who = np.flatnonzero((rng.random(self.n) < 0.12) & (self.created < self.A_us - np.timedelta64(20, "D")))
        who = np.concatenate([who, who[rng.random(len(who)) < 0.15]])  # a few unsubscribe twice
        floor = self.created[who] + np.timedelta64(10, "D")
        ts = self.recent(rng, len(who), self.hints.span("unsubscribes"), floor=floor)
        ts = np.minimum(ts, self.A_us - np.timedelta64(1, "s"))
        return _frame({
            "unsubscribe_id": self.new_ids("uns", len(who)), "account_id": self.ids[who], "ts": ts,
            "channel": _choice(rng, ("email", "sms", "all"), len(who), (60, 15, 25)),
            "source": _choice(rng, ("link", "account_settings", "support", "reply"), len(who), (60, 25, 10, 5)),
            "_i": who,
        }, self.contract.table("unsubscribes"))

    def resubscriptions(self, uns: pl.DataFrame) -> pl.DataFrame:
        """Some subjects opt back in after an opt-out (one exactly at the opt-out instant)."""
        rng = self.rng("resubscriptions")
        back = rng.random(uns.height) < 0.2
        back[: min(1, uns.height)] = True
        u = uns["ts"].to_numpy().astype(US)
        t = np.where(np.arange(uns.height) == 0, u, self.after(rng, u, 3_600, 120 * 86_400))
        back &= t < self.A_us
        acc = uns["account_id"].to_numpy()
        jur = self.jur[uns["_i"].to_numpy()]
        rows = [(a, "marketing_email", "granted", x, "account_settings", j)
                for a, x, j in zip(acc[back], t[back], jur[back])]
        return self.consent_frame(rng, rows)

    def keep_mostly_compliant(self, rng: np.random.Generator, bad: np.ndarray) -> np.ndarray:
        """Keep every compliant candidate and about OK_SHARE violating ones."""
        good = int((~bad).sum())
        target = max(2, int(round(OK_SHARE * good)))
        q = min(1.0, target / max(1, int(bad.sum())))
        return ~bad | (rng.random(len(bad)) < q)

    def consent_violations(self, table: str, df: pl.DataFrame, own_purpose: np.ndarray | None) -> np.ndarray:
        """Candidates a consent pledge (or, by default, consent for their own purpose) rejects."""
        ctx, t = self.consent_ctx, self.ctx.first_anchor(table, df)
        bad = np.zeros(df.height, dtype=bool)
        for p in self.hints.of("consent_coverage", table):
            bad |= outcomes(ctx, p, table, df) == VIOLATION
        if own_purpose is not None:
            subjects = ctx.subject(table, df)
            for purpose in NEEDS_CONSENT:
                m = own_purpose == purpose
                if m.any():
                    rows = m & (t < self.A_us)
                    ok = consent_covered(ctx, subjects, t, purpose, self.hints.consent_validity(purpose), rows=rows)
                    bad |= rows & ~ok
        return bad

    def tracker_events(self) -> pl.DataFrame:
        rng = self.rng("tracker_events")
        n = int(26 * self.n)
        vis_ids, vis_first, vis_jur = self.visitors()
        visitor = rng.random(n) < 0.3
        own = self.owners(rng, n)
        vi = rng.integers(0, len(vis_ids), n)
        subj = np.where(visitor, vis_ids[vi], self.ids[own])
        floor = np.where(visitor, vis_first[vi], self.created[own])
        jur = np.where(visitor, vis_jur[vi], self.jur[own]).astype(object)
        jur[rng.random(n) < 0.01] = None
        names = sorted(set(TRACKERS) | set(self.hints.where_values("tracker_events", "tracker")))
        tracker = _choice(rng, names, n)
        purposes = np.array([TRACKERS.get(x, "analytics") for x in tracker], dtype=object)
        df = _frame({"event_id": self.new_ids("trk", n), "ts": self.recent(rng, n, self.hints.span("tracker_events", "fired"),
                                                                 floor=floor, bias=0.9, future=FUTURE_SHARE),
                     "subject_id": subj, "tracker": tracker, "purpose": purposes, "jurisdiction": jur,
                     "_owner": np.where(visitor, -1, own)}, self.contract.table("tracker_events"))
        keep = self.keep_mostly_compliant(rng, self.consent_violations("tracker_events", df, purposes))
        df = df.filter(pl.Series(keep))
        ip = self.ips(rng, df["_owner"].to_numpy(), self.truncation(rng, "tracker_events", df)).astype(object)
        odd = rng.random(df.height)
        ip[odd < 0.06] = None
        ip[(odd >= 0.06) & (odd < 0.07)] = "unknown"
        return df.with_columns(_series("ip", ip, pl.Utf8))

    def marketing_sends(self, uns: pl.DataFrame) -> pl.DataFrame:
        """Campaign sends; suppressed (mostly) without consent or after an opt-out; edges at
        exactly the end of the opt-out grace and one second later."""
        rng = self.rng("marketing_sends")
        n = int(22 * self.n)
        own = self.owners(rng, n, power=0.3)
        channel = _choice(rng, ("email", "sms"), n, (85, 15))
        campaigns = sorted({"weekly-newsletter", "new-releases", "winback", "birthday-offer", "flash-sale"}
                           | set(self.hints.where_values("marketing_sends", "campaign")))
        sensitive = _masked_where(rng.random(n) < 0.7, rng.random(n) < 0.04, None)
        span = max(self.hints.span("marketing_sends", "sent"), self.hints.span("email_events"))  # events follow sends
        df = _frame({"send_id": self.new_ids("snd", n), "account_id": self.ids[own],
                     "sent_at": self.recent(rng, n, span, floor=self.created[own],
                                            future=FUTURE_SHARE),
                     "channel": channel, "campaign": _choice(rng, campaigns, n), "uses_sensitive_data": sensitive,
                     "jurisdiction": self.jur[own], "_owner": own}, self.contract.table("marketing_sends"))
        bad = self.consent_violations("marketing_sends", df, np.full(n, "marketing_email", dtype=object))
        for p in self.hints.of("optout_latency", "marketing_sends"):
            bad |= outcomes(self.consent_ctx, p, "marketing_sends", df) == VIOLATION
        t = df["sent_at"].to_numpy().astype(US)
        bad |= opted_out(self.consent_ctx, df["account_id"], df["channel"], t, self.hints.graces()[0]) & (t < self.A_us)
        df = df.filter(pl.Series(self.keep_mostly_compliant(rng, bad)))
        return pl.concat([df, self.optout_edges(rng, uns)], how="diagonal")

    def optout_edges(self, rng: np.random.Generator, uns: pl.DataFrame) -> pl.DataFrame:
        """For each grace of the policy: a send exactly at u + grace and one a second later."""
        rows = []
        for k, grace in enumerate(self.hints.graces()):
            for j in range(min(2, uns.height)):
                alive = uns.filter(pl.Series(np.isnat(self.plan.erased_at[uns["_i"].to_numpy()])))
                if alive.height == 0:
                    continue
                r = alive.row(int(rng.integers(alive.height)), named=True)
                edge = add_to_instants(np.array([r["ts"]], dtype=US), grace)[0]
                channel = "email" if r["channel"] == "all" else r["channel"]
                for extra in (0, 1):
                    t = edge + np.timedelta64(extra, "s")
                    if t < self.A_us:
                        rows.append((r["account_id"], t, channel, r["_i"]))
        n = len(rows)
        own = np.array([r[3] for r in rows], dtype=np.int64)
        return _frame({"send_id": self.new_ids("snd", n), "account_id": np.array([r[0] for r in rows], dtype=object),
                       "sent_at": np.array([r[1] for r in rows], dtype=US) if n else _nat(0),
                       "channel": np.array([r[2] for r in rows], dtype=object),
                       "campaign": np.full(n, "weekly-newsletter", dtype=object),
                       "uses_sensitive_data": np.full(n, None, dtype=object),
                       "jurisdiction": self.jur[own] if n else np.array([], dtype=object), "_owner": own},
                      self.contract.table("marketing_sends"))

    def email_events(self, sends: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng("email_events")
        email = sends.filter(pl.col("channel") == "email")
        parts = []
        for kind, share, lo, hi in (("open", 0.35, 60, 3 * 86_400), ("click", 0.1, 120, 4 * 86_400),
                                    ("bounce", 0.02, 5, 600), ("complaint", 0.003, 3_600, 5 * 86_400)):
            pick = email.filter(pl.Series(rng.random(email.height) < share))
            ts = self.after(rng, pick["sent_at"].to_numpy().astype(US), lo, hi)
            parts.append(pick.select("send_id", "account_id")
                         .with_columns(_series("ts", ts), pl.lit(kind).alias("event_type")))
        df = pl.concat(parts)
        return _frame({"event_id": self.new_ids("eev", df.height), **{c: df[c].to_numpy() if c == "ts" else df[c].to_list()
                                                               for c in df.columns}},
                      self.contract.table("email_events"))

    # ------------------------------------------------------------ commerce
    def orders(self) -> pl.DataFrame:
        rng = self.rng("orders")
        n = int(3 * self.n)
        own = self.owners(rng, n)
        span = max(self.hints.span("orders"), self.hints.span("payments"))  # payments follow their orders
        ordered = self.recent(rng, n, span, floor=self.created[own], bias=1.1, future=FUTURE_SHARE)
        status = _choice(rng, ("placed", "paid", "shipped", "refunded", "cancelled", "chargeback"), n,
                         (5, 55, 30, 5, 4, 1))
        physical = rng.random(n) < 0.4
        comment = _masked_where(rng.random(n) < 0.12, _choice(rng, BENIGN_COMMENTS, n), None)
        streets = np.array([f"{int(k)} Example Street, Testville" for k in rng.integers(1, 200, n)], dtype=object)
        address = _masked_where(physical, streets, None)
        self.plant_texts(rng, comment, cards=max(4, n // 250), decoys=max(10, n // 120))
        # one customer typed the card into the address field too: two cells of one row
        still_there = np.isnat(self.plan.erased_at[own]) & (ordered < self.A_us)
        both = int(np.argmax(np.where(still_there, ordered.astype(np.int64), np.iinfo(np.int64).min)))  # latest order
        comment[both], address[both] = card_text(rng), card_text(rng)
        zips = np.array([f"{int(z):05d}" for z in rng.integers(1000, 99999, n)], dtype=object)
        dispute = _masked_where(rng.random(n) < 0.7, (rng.random(n) < 0.02) | (status == "chargeback"), None)
        fraud = _masked_where(rng.random(n) < 0.6, rng.random(n) < 0.01, None)
        deleted = self.deletions(rng, "orders", ordered)
        return _frame({
            "order_id": self.new_ids("ord", n), "account_id": self.ids[own], "ordered_at": ordered,
            "amount": np.round(rng.lognormal(3.3, 0.7, n), 2),
            "currency": np.array([CURRENCY[j] for j in self.jur[own]], dtype=object), "status": status,
            "shipping_name": _masked_where(physical, self.names[own], None), "shipping_address": address,
            "billing_zip": _masked_where(physical, zips, None),
            "comment": comment, "dispute_flag": dispute, "fraud_flag": fraud, "deleted_at": deleted, "_owner": own,
        }, self.contract.table("orders"))

    def deletions(self, rng: np.random.Generator, table: str, start: np.ndarray) -> np.ndarray:
        """`deleted_at` of a table that minimum-retention pledges read: about 2% of the rows
        deleted before the shortest minimum (deleted too early), 3% after the longest, the rest
        not deleted; never after the as-of date. Without such a pledge nothing is drawn (the
        world is the same as before)."""
        out = _nat(len(start))
        periods = [p.params.period.approx_days() for p in self.hints.of("minimum_retention", table)]
        if not periods:
            return out
        day = np.timedelta64(86_400_000_000, "us")
        r = rng.random(len(start))
        early = start + (rng.uniform(0.1, 0.8, len(start)) * min(periods)).astype(np.int64) * day
        late = start + (max(periods) * 1.05 + rng.uniform(0, 30, len(start))).astype(np.int64) * day
        pick = np.where(r < 0.02, early, np.where(r < 0.05, late, out))
        return np.where(~np.isnat(start) & (pick < self.A_us), pick, out)

    @staticmethod
    def plant_texts(rng: np.random.Generator, texts: np.ndarray, cards: int, decoys: int) -> None:
        """Put full card numbers and look-alikes into some free-text cells (in place)."""
        slots = rng.choice(len(texts), size=min(len(texts), cards + decoys), replace=False)
        for k, i in enumerate(slots):
            texts[i] = card_text(rng) if k < cards else decoy_text(rng)

    def payments(self, orders: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng("payments")
        paid = orders.filter(pl.col("status").is_in(["paid", "shipped", "refunded", "chargeback"]))
        n = paid.height
        method = _choice(rng, ("card", "paypal", "bank_transfer", "crypto", "gift_card"), n, (70, 15, 7, 3, 5))
        card = method == "card"
        kinds = [CARD_KINDS[int(i)] for i in rng.choice([0, 3, 5, 8, 10, 13], size=n)]
        numbers = [make_card(rng, p, length) for p, length in kinds]
        brand = np.array([card_brand(x) for x in numbers], dtype=object)
        masked = np.array([x[:6] + "*" * (len(x) - 10) + x[-4:] for x in numbers], dtype=object)
        unmasked = np.flatnonzero(card)[: max(1, n // 400)]  # the masking step failed: full PANs stored
        masked[unmasked] = np.array(numbers, dtype=object)[unmasked]
        cvv = np.full(n, None, dtype=object)
        stored = card & (rng.random(n) < (0.02 if self.hints.must_be_empty("payments", "cvv") else 0.05))
        cvv[stored] = [f"{int(x):03d}" for x in rng.integers(0, 1000, int(stored.sum()))]
        blank = card & ~stored & (rng.random(n) < 0.01)
        cvv[blank] = " "
        expiry = np.array([f"{int(m):02d}/{int(y)}" for m, y in zip(rng.integers(1, 13, n), rng.integers(26, 32, n))],
                          dtype=object)
        paid_at = self.after(rng, paid["ordered_at"].to_numpy().astype(US), 5, 900)
        return _frame({
            "payment_id": self.new_ids("pay", n), "order_id": paid["order_id"].to_numpy(),
            "account_id": paid["account_id"].to_numpy(),
            "paid_at": paid_at, "deleted_at": self.deletions(rng, "payments", paid_at),
            "method": method, "card_brand": _masked_where(card, brand, None),
            "card_last4": _masked_where(card, np.array([x[-4:] for x in numbers], dtype=object), None),
            "masked_pan": _masked_where(card & ((rng.random(n) < 0.5) | np.isin(np.arange(n), unmasked)), masked, None),
            "card_expiry": _masked_where(card, expiry, None), "cvv": cvv,
            "issuer_bank": _masked_where(card, _choice(rng, ("Example Bank", "Test Savings", "Mock CU"), n), None),
        }, self.contract.table("payments"))

    def downloads(self) -> pl.DataFrame:
        """Per account and month a count under the limit, a few over it (and exactly at it)."""
        rng = self.rng("downloads")
        limit = self.hints.usage_max("downloads")
        months = max(2, int(self.hints.span("downloads") / 30.44))
        first = (self.A - np.timedelta64(1, "D")).astype("datetime64[M]") - months + 1  # whole months before A
        users = np.flatnonzero(rng.random(self.n) < 0.6)
        acc = np.repeat(users, months)
        month = np.tile(first + np.arange(months), len(users))
        start = month.astype(DAY).astype(US)
        alive = start + np.timedelta64(31, "D") > self.created[acc]
        lam = np.minimum(self.weight[acc] * 2.0, limit * 0.8)
        count = np.minimum(rng.poisson(lam), limit)
        over = rng.random(len(acc)) < 0.012
        over[: min(2, len(acc))] = True
        count = np.where(over, limit + rng.integers(1, 5, len(acc)), count)
        count[2: min(4, len(acc))] = limit  # exactly at the limit: fine
        count = np.where(alive, count, 0)
        acc, month, count = np.repeat(acc, count), np.repeat(month, count), count.sum()
        begin = np.maximum(month.astype(DAY).astype(US), self.created[acc])
        end = np.minimum((month + 1).astype(DAY).astype(US), self.A_us)
        span = np.maximum((end - begin).astype(np.int64), 1)
        ts = begin + (rng.random(count) * span).astype(np.int64).astype("timedelta64[us]")
        # month boundaries: first and last second of a month (UTC)
        edge = rng.random(count) < 0.01
        ts = np.where(edge & (rng.random(count) < 0.5), month.astype(DAY).astype(US),
                      np.where(edge, (month + 1).astype(DAY).astype(US) - SECOND, ts))
        future = rng.random(count) < FUTURE_SHARE
        ts = np.where(future, self.A_us + np.timedelta64(2, "D") + self.tod(rng, count), ts)
        ts = ts.astype("datetime64[s]").astype(US)
        titles = np.array([f"title_{int(x):05d}" for x in rng.zipf(1.6, count) % 20_000], dtype=object)
        return _frame({"download_id": self.new_ids("dl", count), "account_id": self.ids[acc], "downloaded_at": ts,
                       "title_id": titles}, self.contract.table("downloads"))

    # ------------------------------------------------------------ activity
    def security_events(self) -> pl.DataFrame:
        rng = self.rng("security_events")
        n = int(5 * self.n)
        own = self.owners(rng, n)
        anon = rng.random(n) < 0.08
        types = sorted({"login_success", "login_failed", "password_reset", "velocity_trigger", "device_fingerprint",
                        "chargeback_alert"} | set(self.hints.where_values("security_events", "event_type")))
        df = _frame({"event_id": self.new_ids("sec", n), "ts": self.recent(rng, n, self.hints.span("security_events"),
                                                                  floor=self.created[own], future=FUTURE_SHARE),
                     "account_id": _masked_where(~anon, self.ids[own], None), "event_type": _choice(rng, types, n),
                     "risk_class": _choice(rng, ("low", "medium", "high", "confirmed_abuse"), n, (70, 20, 8, 2)),
                     "_owner": np.where(anon, -1, own)}, self.contract.table("security_events"))
        return df.with_columns(_series("ip", self.ips(rng, df["_owner"].to_numpy(),
                                                        self.truncation(rng, "security_events", df)), pl.Utf8))

    def support_tickets(self) -> pl.DataFrame:
        rng = self.rng("support_tickets")
        n = int(1.1 * self.n) + 5
        own = self.owners(rng, n, power=0.5)
        guest = rng.random(n) < 0.15
        floor = np.where(guest, np.datetime64("NaT"), self.created[own]).astype(US)  # guests: no sign-up
        created = self.recent(rng, n, self.hints.span("support_tickets"), floor=floor, future=FUTURE_SHARE)
        last = np.where(rng.random(n) < 0.7, self.after(rng, created, 600, 12 * 86_400), np.datetime64("NaT"))
        last = last.astype(US)
        closed = np.where(rng.random(n) < 0.85, self.after(rng, np.fmax(created, last), 300, 6 * 86_400),
                          np.datetime64("NaT")).astype(US)
        # nothing is closed after the export was taken
        last = np.where((last >= self.A_us) & (created < self.A_us), np.datetime64("NaT"), last).astype(US)
        closed = np.where((closed >= self.A_us) & (created < self.A_us), np.datetime64("NaT"), closed).astype(US)
        body = _choice(rng, TICKET_BODIES, n)
        body[rng.random(n) < 0.05] = None
        self.plant_texts(rng, body, cards=max(3, n // 200), decoys=max(6, n // 100))
        tickets = self.new_ids("tkt", n)
        first = int(tickets[0][3:]) - 1 if n else 0  # guests numbered like their tickets (0 in a single world)
        categories = sorted({"login", "billing", "privacy", "streaming", "downloads", "other"}
                            | set(self.hints.where_values("support_tickets", "category")))
        return _frame({
            "ticket_id": tickets, "account_id": _masked_where(~guest, self.ids[own], None),
            "email": np.where(guest, np.array([f"guest{first + i}@example.test" for i in range(n)], dtype=object),
                              np.array([f"user{self.offset + i + 1}@example.test" for i in own], dtype=object)),
            "created_at": created, "last_message_at": last, "closed_at": closed,
            "channel": _choice(rng, ("email", "chat", "form", "phone"), n, (45, 30, 20, 5)),
            "category": _choice(rng, categories, n),
            "abuse_flag": _masked_where(rng.random(n) < 0.6, rng.random(n) < 0.02, None),
            "body": body,
        }, self.contract.table("support_tickets"))

    def chat_messages(self) -> pl.DataFrame:
        rng = self.rng("chat_messages")
        n = int(10 * self.n)
        own = self.owners(rng, n, power=1.3)
        return _frame({
            "message_id": self.new_ids("msg", n), "account_id": self.ids[own],
            "counterpart_id": np.array([f"model_{int(k):04d}" for k in rng.zipf(1.5, n) % 500], dtype=object),
            "sent_at": self.recent(rng, n, self.hints.span("chat_messages"), floor=self.created[own], bias=1.2),
            "channel": _choice(rng, ("private_chat", "public_chat", "message"), n, (40, 45, 15)),
            "length": rng.integers(1, 400, n),
        }, self.contract.table("chat_messages"))

    def audio_recordings(self) -> pl.DataFrame:
        rng = self.rng("audio_recordings")
        n = max(5, self.n // 2)
        own = self.owners(rng, n, power=1.3)
        ids = self.new_ids("rec", n)
        return _frame({
            "recording_id": ids, "account_id": self.ids[own],
            "recorded_at": self.recent(rng, n, self.hints.span("audio_recordings"), floor=self.created[own]),
            "duration_s": rng.integers(5, 3600, n),
            "storage_uri": _masked_where(rng.random(n) < 0.9, np.array([f"s3://audio.example.test/{r}.ogg"
                                                                        for r in ids]), None),
        }, self.contract.table("audio_recordings"))

    # ------------------------------------------------------------ requests and incidents
    def deadline_pledges(self, table: str, end_column: str) -> list[Pledge]:
        t = self.contract.table(table)
        return [p for p in self.hints.of("deadline", table) if t.anchors.get(p.params.end) == end_column]

    def place_ends(self, rng: np.random.Generator, table: str, df: pl.DataFrame, end: str,
                   notice: str | None = None) -> pl.DataFrame:
        """Fill the `end` column against the strictest pledge that applies to each row: most on
        time, some on the due date itself, some one day (or one second) late, some late, some
        still open (mostly recent ones); extension notices on the last day of the notice window
        (inside) and on the day after (outside)."""
        n = df.height
        pledges = self.deadline_pledges(table, end)
        best = np.full(n, np.inf)
        chosen = np.full(n, -1)
        start = self.ctx.first_anchor(table, df)
        starts, scopes = [], []
        for k, p in enumerate(pledges):
            s = self.ctx.anchor(table, p.params.start, df)
            scope = self.ctx.scope(p, table, df) & ~np.isnat(s)
            applies = scope & (p.params.limit.approx_days() < best)
            best = np.where(applies, p.params.limit.approx_days(), best)
            chosen = np.where(applies, k, chosen)
            start = np.where(applies, s, start)
            starts.append(s)
            scopes.append(scope)
        u = rng.random(n)
        forced = np.zeros(n, dtype=bool)
        for k, p in enumerate(pledges):  # boundary cases for every pledge, measured against it
            rows, cats = self._boundary_rows(rng, p, scopes[k] & ~forced, starts[k], notice is not None)
            chosen[rows], start[rows], u[rows], forced[rows] = k, starts[k][rows], cats, True
        default = DEFAULT_DEADLINES.get((table, end), 10) * 86_400
        due = start + np.timedelta64(default, "s")      # last instant still on time
        extended = due.copy()                           # the same with a valid extension notice
        window = due.astype(DAY).astype(US)             # last day a notice may be sent
        for k, p in enumerate(pledges):
            m = chosen == k
            if m.any():
                due[m], extended[m], window[m] = self._dues(p.params, start[m])
        span = np.maximum((due - start).astype(np.int64), 1_000_000)
        r = lambda lo, hi: (rng.uniform(lo, hi, n) * span).astype(np.int64).astype("timedelta64[us]")  # noqa: E731
        result = start + r(0.05, 0.9)
        ending = {name: (u >= lo) & (u < hi) for name, (lo, hi) in ENDINGS.items()}
        on_day, day_late, late = ending["on_due_date"], ending["just_late"], ending["late"]
        result = np.where(on_day, due - (rng.random(n) * np.minimum(span, 86_399_000_000)).astype(np.int64)
                          .astype("timedelta64[us]"), result)
        result = np.where(day_late, due + SECOND + (rng.random(n) * 3_600e6).astype(np.int64).astype("timedelta64[us]"),
                          result)
        result = np.where(late, due + r(0.1, 0.8), result)
        notices = _nat(n)
        if notice:
            has_ext = extended > due
            ext_ok, ext_late = has_ext & ending["extended"], has_ext & ending["extended_late_notice"]
            inside = np.where(rng.random(n) < 0.4, window + np.timedelta64(20, "h"),
                              start + ((window - start).astype(np.int64) * rng.uniform(0.3, 0.95, n))
                              .astype(np.int64).astype("timedelta64[us]"))
            notices = np.where(ext_ok, inside, np.where(ext_late, window + DAY_US + np.timedelta64(9, "h"), notices))
            between = due + ((extended - due).astype(np.int64) * rng.uniform(0.1, 0.95, n)).astype(np.int64) \
                .astype("timedelta64[us]")
            result = np.where(ext_ok | ext_late, between, result)
        recent = due + (due - start) > self.A_us
        still_open = np.where(recent, u > 0.5, u > 0.995)
        result = np.where(still_open | np.isnat(start) | (result >= self.A_us), np.datetime64("NaT"), result)
        notices = np.where(notices >= self.A_us, np.datetime64("NaT"), notices)
        out = df.with_columns(_series(end, result.astype("datetime64[s]").astype(US)))
        if notice:
            out = out.with_columns(_series(notice, notices.astype("datetime64[s]").astype(US)))
        return out

    def _boundary_rows(self, rng: np.random.Generator, p: Pledge, eligible: np.ndarray, start: np.ndarray,
                       notices: bool) -> tuple[np.ndarray, np.ndarray]:
        """Rows (long settled) to place on the due date, a day late and, in larger registers,
        late; with an extension, notified inside and just outside the window. Returns the rows
        and the category draw for place_ends."""
        ext = p.params.extension if notices else None
        days = p.params.limit.approx_days() + (ext.by.approx_days() if ext else 0)
        settled = eligible & (start < self.A_us - np.timedelta64(int(days * 1.6) + 5, "D"))
        big = int(eligible.sum()) >= 20
        names = ["on_due_date", "just_late"] + (["late"] if big else []) + (["extended"] if ext else []) \
            + (["extended_late_notice"] if ext and big else [])
        draws = [sum(ENDINGS[name]) / 2 for name in names]
        rows = rng.permutation(np.flatnonzero(settled))[: len(draws)]
        return rows, np.array(draws[: len(rows)])

    def _dues(self, p, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Last on-time instant, the same with an extension, last day of the notice window."""
        hours = p.limit.unit == "hours"
        as_instant = (lambda d: d) if hours else (lambda d: d.astype(DAY).astype(US) + DAY_US - SECOND)
        due = deadline_due(self.ctx, p, start, _nat(len(start)))
        extended = deadline_due(self.ctx, p, start, start) if p.extension else due
        if p.extension and p.extension.notice_within:
            window = add_to_dates(day_of(start), p.extension.notice_within, self.ctx.calendar(p))
        else:
            window = due
        return as_instant(due), as_instant(extended), window.astype(DAY).astype(US)

    def edge_dates(self) -> np.ndarray:
        """Receipt dates that stress calendar rules: 31 Jan, month ends, 29 Feb 2024, weekends,
        public holidays of the policy's calendars, the as-of date and the days around it."""
        y = self.as_of.year
        fixed = [date(2024, 1, 31), date(2023, 1, 31), date(2024, 2, 29), date(y - 1, 5, 31), date(y - 1, 8, 30),
                 date(y - 1, 8, 31), date(y - 1, 9, 30), date(y - 1, 10, 31), date(y - 1, 12, 31), date(y, 1, 31),
                 date(y, 3, 31)]
        days = [np.datetime64(d) for d in fixed if d < self.as_of]
        days += [self.A - np.timedelta64(k, "D") for k in range(1, 60) if (self.A - np.timedelta64(k, "D")).astype(
            "datetime64[D]").item().weekday() >= 5][:6]
        from ..calendars import holiday_set
        named = [self.policy.policy.calendar] + [p.params.calendar for p in self.hints.of("deadline")]
        codes = sorted({c for c in named if c})
        for code in codes or ["GB-ENG"]:
            hol = sorted(d for d in holiday_set(code, y) if date(y - 2, 1, 1) <= d < self.as_of)
            days += [np.datetime64(d) for d in hol[-6:]]
        days += [self.A - np.timedelta64(1, "D"), self.A, self.A + np.timedelta64(1, "D")]
        return np.array(sorted(set(days)), dtype=DAY)

    def data_subject_requests(self) -> pl.DataFrame:
        rng = self.rng("data_subject_requests")
        base = max(30, int(0.25 * self.n))
        edges = self.edge_dates()
        per_edge = 4
        n_edge = len(edges) * per_edge
        erased = np.flatnonzero(~np.isnat(self.plan.erased_at))
        n = base + n_edge + len(erased)
        own = self.owners(rng, n, power=0.2)
        anon = rng.random(n) < 0.15
        received = self.recent(rng, n, self.hints.span("data_subject_requests"), floor=self.created[own])
        tod = np.array([9 * 3600 + 1234, 23 * 3600 + 59 * 60 + 59, 0, 14 * 3600], dtype="timedelta64[s]")
        received[base:base + n_edge] = np.repeat(edges, per_edge).astype(US) + np.tile(tod, len(edges))
        anon[base:base + n_edge] = rng.random(n_edge) < 0.5
        jur = np.where(anon, _choice(rng, JURISDICTIONS, n, JURISDICTION_P), self.jur[own]).astype(object)
        rtype = _choice(rng, REQUEST_TYPES, n, REQUEST_TYPES.values())
        ccpa_only = np.isin(rtype, ["opt_out", "limit"])
        rtype = np.where(ccpa_only & (jur != "US-CA") & (rng.random(n) < 0.8), "access", rtype).astype(object)
        # the erasure request behind each erasure, completed at E
        e_rows = np.arange(base + n_edge, n)
        own[e_rows], anon[e_rows], rtype[e_rows] = erased, False, "erasure"
        jur[e_rows] = self.jur[erased]
        ahead = rng.integers(2, 25 * 86_400, len(erased)).astype("timedelta64[s]")
        received[e_rows] = self.plan.erased_at[erased] - ahead
        received = received.astype("datetime64[s]").astype(US)
        verified = np.where(rng.random(n) < 0.9, self.after(rng, received, 600, 5 * 86_400), np.datetime64("NaT"))
        verified = np.where(verified >= self.A_us, np.datetime64("NaT"), verified).astype(US)
        df = _frame({"request_id": self.new_ids("dsr", n), "account_id": _masked_where(~anon, self.ids[own], None),
                     "request_type": rtype, "jurisdiction": jur, "received_at": received,
                     "identity_verified_at": verified},
                    self.contract.table("data_subject_requests"))
        df = self.place_ends(rng, "data_subject_requests", df, "acknowledged_at")
        df = self.place_ends(rng, "data_subject_requests", df, "completed_at", notice="extension_notified_at")
        completed = df["completed_at"].to_numpy().astype(US)
        completed[e_rows] = self.plan.erased_at[erased]
        notified = df["extension_notified_at"].to_numpy().astype(US)
        notified[e_rows] = np.datetime64("NaT")
        done = ~np.isnat(completed)
        outcome = _masked_where(done, _choice(rng, ("complied", "partial", "denied"), n, (80, 10, 10)), None)
        outcome[e_rows] = "complied"
        reasons = _choice(rng, ("exempt_legal", "exempt_fraud", "manifestly_unfounded", "excessive", "no_data",
                                "other"), n)
        reason = np.where(np.isnat(verified), "unverified", reasons).astype(object)
        return df.with_columns(_series("completed_at", completed), _series("extension_notified_at", notified),
                               _series("outcome", outcome, pl.Utf8),
                               _series("denial_reason", _masked_where(outcome == "denied", reason, None), pl.Utf8))

    def incidents(self, table: str, id_prefix: str, n: int, start: str, columns: dict) -> pl.DataFrame:
        """A small register: start instants with edges, end columns placed against deadlines."""
        rng = self.rng(table)
        t = self.recent(rng, n, self.hints.span(table), future=FUTURE_SHARE)
        edges = self.edge_dates()
        k = min(len(edges), n // 3)
        t[:k] = rng.choice(edges, k, replace=False).astype(US) + self.tod(rng, k)
        df = _frame({self.contract.table(table).key[0]: self.new_ids(id_prefix, n), start: t,
                     **{c: v(rng, n) for c, v in columns.items()}}, self.contract.table(table))
        for end in [c for c in self.contract.table(table).columns if c.endswith("_at") and c != start]:
            df = self.place_ends(rng, table, df, end)
        return df

    def breach_incidents(self) -> pl.DataFrame:
        df = self.incidents("breach_incidents", "inc", max(8, self.n // 60), "aware_at", {
            "notification_required": lambda rng, n: rng.random(n) < 0.6,
            "severity": lambda rng, n: _choice(rng, ("low", "medium", "high", "critical"), n, (40, 35, 18, 7)),
            "affected_subjects": lambda rng, n: rng.zipf(1.4, n) % 100_000,
        })
        # no notice is sent when none is required (mostly)
        required = df["notification_required"].to_numpy()
        quiet = ~required & (self.rng("breach_quiet").random(df.height) < 0.8)
        return df.with_columns([pl.when(pl.Series(quiet)).then(None).otherwise(pl.col(c)).alias(c)
                                for c in ("authority_notified_at", "subjects_notified_at")])

    def minor_reports(self) -> pl.DataFrame:
        df = self.incidents("minor_reports", "mnr", max(8, self.n // 80), "reported_at", {
            "jurisdiction": lambda rng, n: _choice(rng, JURISDICTIONS, n, JURISDICTION_P),
        })
        rng = self.rng("minor_accounts")
        acc = rng.integers(0, self.n, df.height)
        return df.with_columns(_series("account_id", _masked_where(rng.random(df.height) < 0.8, self.ids[acc], None),
                                         dtype=pl.Utf8))

    def vulnerability_reports(self) -> pl.DataFrame:
        return self.incidents("vulnerability_reports", "vul", max(10, self.n // 50), "received_at", {
            "severity": lambda rng, n: _choice(rng, ("low", "medium", "high", "critical"), n, (35, 35, 22, 8)),
        })

    # ------------------------------------------------------------ sharing
    def marketing_statistics(self, sends: pl.DataFrame) -> pl.DataFrame:
        """One row per recipient and campaign, keyed by a hashed e-mail; about 3% (at least
        two) keep the raw address, and a few keys are blank."""
        rng = self.rng("marketing_statistics")
        g = sends.group_by(["account_id", "campaign"], maintain_order=True).agg(pl.col("sent_at").max().alias("last"),
                                                                                 pl.col("jurisdiction").first())
        n = g.height
        emails = [f"user{int(a[3:])}@example.test" for a in g["account_id"].to_list()]
        keys = np.array([pseudonym(e) for e in emails], dtype=object)
        raw = rng.random(n) < 0.03
        raw[: min(2, n)] = True
        keys[raw] = np.array(emails, dtype=object)[raw]
        keys[~raw & (rng.random(n) < 0.01)] = " "
        last = g["last"].to_numpy().astype(US)
        computed = np.minimum(last + np.timedelta64(2, "D"), self.A_us - np.timedelta64(1, "h"))
        return _frame({"stat_id": self.new_ids("mst", n),
                       "campaign": g["campaign"].fill_null("untitled").to_numpy().astype(object),
                       "email_key": keys, "opens": rng.poisson(2, n), "clicks": rng.poisson(0.4, n),
                       "computed_at": computed, "jurisdiction": g["jurisdiction"].to_numpy().astype(object)},
                      self.contract.table("marketing_statistics"))

    def affiliate_exports(self) -> pl.DataFrame:
        """Weekly exports per webmaster; a few rows carry an identifier; blanks do not count."""
        rng = self.rng("affiliate_exports")
        weeks = max(4, self.hints.span("affiliate_exports") // 7)
        webmasters = [f"wm{k:03d}" for k in range(1, 6)]
        weekly = (self.A - 7 * np.arange(weeks).astype("timedelta64[D]") - np.timedelta64(1, "D")).astype(US) \
            + np.timedelta64(3, "h")
        exports = [(f"exp-{w}-{k:03d}", w, weekly[k]) for k in range(weeks) for w in webmasters if rng.random() < 0.8]
        per = max(1, int(self.n / max(1, len(exports))))
        sizes = rng.poisson(per, len(exports)) + 1
        n = int(sizes.sum())
        export = np.repeat(np.arange(len(exports)), sizes)
        done = self.export_rows  # rows of the export numbered so far, in this shard's block
        base = self.shard * ID_BLOCK
        row_no = np.concatenate([np.arange(1, s + 1) + base + done.get(e[0], 0) for e, s in zip(exports, sizes)])
        for e, s in zip(exports, sizes):
            done[e[0]] = done.get(e[0], 0) + int(s)
        acc = rng.integers(0, self.n, n)
        ident = {c: np.full(n, None, dtype=object) for c in ("email", "name", "address", "ip", "payment_details")}
        leak = rng.random(n) < 0.03
        leak[: min(2, n)] = True
        which = rng.integers(0, 5, n)
        ident["email"][leak & (which == 0)] = [f"user{self.offset + i + 1}@example.test" for i in acc[leak & (which == 0)]]
        ident["name"][leak & (which == 1)] = self.names[acc[leak & (which == 1)]]
        ident["address"][leak & (which == 2)] = "12 Example Street, Testville"
        ident["ip"][leak & (which == 3)] = self.ip_pool[self.home_ip[acc[leak & (which == 3)]]]
        ident["payment_details"][leak & (which == 4)] = "card ending 4242"
        blank = ~leak & (rng.random(n) < 0.02)
        ident["email"][blank] = "  "
        return _frame({
            "export_id": np.array([exports[e][0] for e in export], dtype=object), "row_no": row_no,
            "webmaster_id": np.array([exports[e][1] for e in export], dtype=object),
            "exported_at": np.array([exports[e][2] for e in export], dtype=US),
            "referral_ref": np.array([f"ref-{int(x):06d}" for x in rng.integers(0, 999_999, n)], dtype=object),
            "country": np.array([COUNTRIES[self.jur[i]][0] for i in acc], dtype=object),
            "signup_date": day_of(self.created[acc]), "revenue": np.round(rng.lognormal(2.5, 0.8, n), 2), **ident,
        }, self.contract.table("affiliate_exports"))

    def shared_aggregates(self) -> pl.DataFrame:
        """Monthly statistics per recipient; a few cells under k, some empty (0)."""
        rng = self.rng("shared_aggregates")
        k = self.hints.k("shared_aggregates")
        recipients = sorted({"ad-network-1", "research-lab", "partner-studio"}
                            | set(self.hints.where_values("shared_aggregates", "recipient")))
        months = max(2, min(12, self.hints.span("shared_aggregates") // 30))
        cells = [(c, a, g) for c in ("DE", "FR", "GB", "US", "BR", "ES")
                 for a in ("18-24", "25-34", "35-44", "45-54", "55+") for g in ("f", "m", "x")]
        rows = []
        for r in recipients:
            for m in range(months):
                at = (self.A.astype("datetime64[M]") - m - 1).astype(DAY).astype(US) + np.timedelta64(5, "D") \
                    + np.timedelta64(4, "h")
                for ci, (c, a, g) in enumerate(cells):
                    rows.append((f"shr-{r}-{m:02d}", f"c{ci:03d}", r, at, c, a, g))
        n = len(rows)
        count = (rng.lognormal(np.log(15 * k), 1.0, n)).astype(np.int64) + k
        small = rng.random(n) < 0.03
        count = np.where(small, rng.integers(1, k, n), count)
        count = np.where(rng.random(n) < 0.02, 0, count)
        count[:2] = (k - 1, k)  # just under and exactly at k
        col = lambda k: np.array([r[k] for r in rows], dtype=object)  # noqa: E731
        return _frame({
            "share_id": col(0), "cell_id": col(1), "recipient": col(2),
            "shared_at": np.array([r[3] for r in rows], dtype=US),
            "country": col(4), "age_band": col(5), "gender": col(6),
            "interest": _masked_where(rng.random(n) < 0.3, _choice(rng, ("cams", "movies", "audio"), n), None),
            "member_count": count,
        }, self.contract.table("shared_aggregates"))

    # ------------------------------------------------------------ keeping violations a minority
    def conform(self, name: str, df: pl.DataFrame, ctx: Context, chunk: int | None = None) -> pl.DataFrame:
        """For every pledge on this table, leave about OK_SHARE of its population in violation:
        the rest is fixed (address truncated, column emptied, identifiers removed, cell raised
        to k) or, where nothing can be fixed, dropped (sends without consent or after an
        opt-out, usage over the limit). Pledges with the narrowest scope go first and the
        violations they keep are kept by the others too. Streamed chunks (`chunk`) are only
        fixed, never thinned."""
        rng = self.rng(f"conform/{name}/{chunk}")
        pledges = [p for p in self.policy.pledges if getattr(p.params, "table", None) == name
                   and p.check not in ("retention", "deadline")]
        if not pledges or df.height == 0:
            return df
        pledges.sort(key=lambda p: int(self.ctx.scope(p, name, df).sum()))
        df = df.with_columns(pl.lit(False).alias("_kept"))
        for p in pledges:
            if p.check == "usage_limit":
                if chunk is None:
                    df = self.thin_usage(rng, p, name, df)
                continue
            fix = FIXES.get(p.check)
            if fix is None and (chunk is not None or p.check not in ("consent_coverage", "optout_latency")):
                continue
            out = outcomes(ctx, p, name, df)
            if fix and (out == VIOLATION).sum() < 2:  # too clean: spoil a couple of compliant rows
                spoilable = (out == OK) & self.past_window(p, name, df)
                rows = rng.permutation(np.flatnonzero(spoilable))[: 2 - int((out == VIOLATION).sum())]
                df = SPOILERS[p.check](self, rng, p, df, rows)
                out = outcomes(ctx, p, name, df)
            excess, kept = self.excess(rng, out, df["_kept"].to_numpy())
            df = df.with_columns(pl.Series("_kept", kept))
            if excess.any():
                df = fix(self, rng, p, df, pl.Series(excess)) if fix else df.filter(pl.Series(~excess))
        return df.drop("_kept")

    @staticmethod
    def excess(rng: np.random.Generator, outcome: np.ndarray, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Violating rows beyond max(2, OK_SHARE of the compliant population), chosen at random
        but sparing rows already `kept` as violations; returns (excess, kept updated)."""
        bad = outcome == VIOLATION
        allowed = max(2, int(round(OK_SHARE * int(((outcome == OK) | (outcome == EXEMPT)).sum()))))
        keep = bad & kept
        others = np.flatnonzero(bad & ~kept)
        room = max(0, allowed - int(keep.sum()))
        keep[rng.choice(others, size=min(room, len(others)), replace=False)] = True
        return bad & ~keep, kept | keep

    def fix_ip(self, rng, p: Pledge, df: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
        col = df[p.params.column].cast(pl.Utf8).clone()
        idx = np.flatnonzero(rows.to_numpy())
        return df.with_columns(col.scatter(idx, [truncate_ip(v) for v in col.gather(idx).to_list()]))

    def fix_empty(self, rng, p: Pledge, df: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
        col = p.params.column
        return df.with_columns(pl.when(rows).then(None).otherwise(pl.col(col)).alias(col))

    def fix_identifiers(self, rng, p: Pledge, df: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
        table = self.contract.table(p.params.table)
        cols = p.params.columns or [c.name for c in table.pii_columns]
        cols = [c for c in cols if not table.columns[c].required]  # a required column cannot be emptied
        return df.with_columns([pl.when(rows).then(None).otherwise(pl.col(c)).alias(c) for c in cols])

    def fix_k(self, rng, p: Pledge, df: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
        col, k = p.params.count_column, p.params.k
        raised = pl.Series(k + rng.integers(0, 3 * k, df.height))
        return df.with_columns(pl.when(rows).then(raised).otherwise(pl.col(col)).alias(col))

    def past_window(self, p: Pledge, name: str, df: pl.DataFrame) -> np.ndarray:
        """Rows old enough for an ip_truncation pledge's `after` (every row for other checks)."""
        if p.check != "ip_truncation" or not p.params.after.amount:
            return np.ones(df.height, dtype=bool)
        at = self.ctx.anchor(name, p.params.from_, df) if p.params.from_ else self.ctx.first_anchor(name, df)
        return add_to_dates(day_of(at), p.params.after, self.ctx.calendar(p.params)) <= self.A

    # the inverse of the fixes (rows: compliant rows to make violating)
    def spoil_ip(self, rng, p: Pledge, df: pl.DataFrame, rows: np.ndarray) -> pl.DataFrame:
        full = self.ip_pool[rng.integers(0, len(self.ip_pool), len(rows))].tolist()
        return df.with_columns(df[p.params.column].cast(pl.Utf8).clone().scatter(rows, full))

    def spoil_empty(self, rng, p: Pledge, df: pl.DataFrame, rows: np.ndarray) -> pl.DataFrame:
        col = df[p.params.column]
        present = col.drop_nulls()
        value = present[0] if present.len() else {"string": "n/a", "integer": 0, "decimal": 0.0, "boolean": True}.get(
            self.contract.table(p.params.table).columns[p.params.column].type, None)
        return df.with_columns(col.clone().scatter(rows, [value] * len(rows))) if value is not None else df

    def spoil_identifiers(self, rng, p: Pledge, df: pl.DataFrame, rows: np.ndarray) -> pl.DataFrame:
        table = self.contract.table(p.params.table)
        col = (p.params.columns or [c.name for c in table.pii_columns])[0]
        value = {"email": "user1@example.test", "ip": self.ip_pool[0], "name": self.names[0]}.get(col, "leaked value")
        return df.with_columns(df[col].cast(pl.Utf8).clone().scatter(rows, [value] * len(rows)))

    def spoil_k(self, rng, p: Pledge, df: pl.DataFrame, rows: np.ndarray) -> pl.DataFrame:
        return df.with_columns(df[p.params.count_column].clone().scatter(rows, [1] * len(rows)))

    def fix_tc(self, rng, p: Pledge, df: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
        """Excess defective strings are dropped from their records (the record stays)."""
        col = p.params.column
        return df.with_columns(pl.when(rows).then(None).otherwise(pl.col(col)).alias(col))

    def spoil_tc(self, rng, p: Pledge, df: pl.DataFrame, rows: np.ndarray) -> pl.DataFrame:
        col = df[p.params.column].cast(pl.Utf8)
        return df.with_columns(col.clone().scatter(rows, [v[: len(v) // 2] for v in col.gather(rows).to_list()]))

    def fix_pseudonym(self, rng, p: Pledge, df: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
        col = p.params.column
        return df.with_columns(pl.when(rows).then(pl.col(col).map_elements(pseudonym, return_dtype=pl.Utf8))
                               .otherwise(pl.col(col)).alias(col))

    def spoil_pseudonym(self, rng, p: Pledge, df: pl.DataFrame, rows: np.ndarray) -> pl.DataFrame:
        col = df[p.params.column].cast(pl.Utf8)
        return df.with_columns(col.clone().scatter(rows, [f"user{self.offset + int(r) + 1}@example.test" for r in rows]))

    def thin_usage(self, rng: np.random.Generator, p: Pledge, name: str, df: pl.DataFrame) -> pl.DataFrame:
        """Drop the rows beyond the limit in all but a few subject-periods over it."""
        at = self.ctx.first_anchor(name, df)
        unit = "datetime64[M]" if p.params.per == "calendar_month" else "datetime64[Y]"
        rows = self.ctx.scope(p, name, df) & self.ctx.known(at)
        g = pl.DataFrame({"s": self.ctx.subject(name, df), "p": day_of(at).astype(unit).astype(DAY),
                          "r": rng.random(df.height), "in": rows})
        g = g.with_columns(pl.when(pl.col("in")).then(pl.col("r").rank("ordinal").over(["s", "p", "in"])).alias("rank"),
                           pl.len().over(["s", "p", "in"]).alias("n"))
        over = g.filter(pl.col("in") & (pl.col("n") > p.params.max)).select("s", "p").unique().sort(["s", "p"])
        allowed = max(1, int(round(OK_SHARE * g.filter(pl.col("in")).select("s", "p").n_unique())))
        spared = over.sample(n=min(allowed, over.height), seed=int(rng.integers(2**31))) if over.height else over
        spared = spared.with_columns(pl.lit(True).alias("spared"))
        g = g.join(spared, on=["s", "p"], how="left", maintain_order="left", nulls_equal=True)
        drop = (g["in"] & (g["rank"] > p.params.max) & g["spared"].is_null()).fill_null(False)
        return df.filter(~drop)

    # ------------------------------------------------------------ holds and retention
    def legal_holds(self, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
        """Holds on subjects with expired records (edges: starting or ending exactly on the
        as-of date and the day before/after), and on erased subjects' leftovers."""
        rng = self.rng("legal_holds")
        A = self.A_us
        day = np.timedelta64(1, "D")
        windows = [  # (starts_at, ends_at, all tables): active on A or not
            (A - 400 * day, None, False),                                        # active
            (A - 300 * day, A + np.timedelta64(15, "h"), False),                 # ends on A: active
            (A - 300 * day, A - np.timedelta64(1, "h"), False),                  # ended the day before
            (A + np.timedelta64(8, "h"), None, False),                           # starts on A: active
            (A + day + np.timedelta64(8, "h"), None, False),                     # starts the day after
            (A - 200 * day, A - 100 * day, True),                                # ended long ago
            (A - day + np.timedelta64(23, "h"), A + 30 * day, False),            # started the day before
            (A - 50 * day, None, True),                                          # every table: active
        ]
        rows = []
        retained = [p.params for p in self.hints.of("retention") if "legal_hold" in p.params.exceptions]
        held_tables = sorted({r.table for r in retained if self.contract.table(r.table).subject_column})
        for name in held_tables:
            subject = self.contract.table(name).subject_column
            if name in tables:
                df = tables[name]
                expired = np.zeros(df.height, dtype=bool)
                for p in self.hints.of("retention", name):
                    expired |= outcomes(self.ctx, p, name, df) == VIOLATION
                who = sorted(set(df[subject].filter(pl.Series(expired)).drop_nulls().to_list()))
            else:  # streamed later: frequent visitors are likely to have old entries
                who = sorted(self.ids[np.argsort(-self.weight)[:20]].tolist())
            for k, s in enumerate(rng.permutation(who)[: len(windows)] if who else []):
                start, end, every = windows[k]
                rows.append((s, "all" if every else name, start, end))
        for name, accs in sorted(self.plan.leftovers.items()):
            for i in sorted(accs):
                if rng.random() < 0.35:
                    start, end, _ = windows[int(rng.integers(0, 3))]
                    rows.append((self.ids[i], name if rng.random() < 0.7 else "all", start, end))
        for i in rng.choice(self.n, size=min(3, self.n), replace=False):
            rows.append((self.ids[i], "orders", A - 500 * day, A - 200 * day))
        n = len(rows)
        return _frame({
            "hold_id": self.new_ids("hold", n), "account_id": np.array([r[0] for r in rows], dtype=object),
            "scope_table": np.array([r[1] for r in rows], dtype=object),
            "reason": _choice(rng, ("litigation", "fraud", "tax", "dispute", "regulator"), n),
            "starts_at": np.array([r[2] for r in rows], dtype=US) if n else _nat(0),
            "ends_at": np.array([np.datetime64("NaT") if r[3] is None else r[3] for r in rows], dtype=US)
            if n else _nat(0),
        }, self.contract.table("legal_holds"))

    def purge_expired(self, name: str, df: pl.DataFrame, ctx: Context, holds: pl.DataFrame) -> pl.DataFrame:
        """Retention is executed: expired records are deleted, except a few misses per pledge
        and the records under a (past, present or future) hold or a row exemption."""
        pledges = self.hints.of("retention", name)
        if not pledges or df.height == 0:
            return df
        subject = self.contract.table(name).subject_column
        held = np.zeros(df.height, dtype=bool)
        if subject:  # holds in force, and past or future holds placed on this very table
            placed = holds.filter(pl.col("scope_table") == name)["account_id"]
            placed_here = df[subject].is_in(placed.to_list()).fill_null(False).to_numpy()
            held = ctx.held(df[subject].cast(pl.Utf8), name) | placed_here
        rng = self.rng(f"purge/{name}")
        expired, missed = np.zeros(df.height, dtype=bool), np.zeros(df.height, dtype=bool)
        for p in pledges:
            out = outcomes(ctx, p, name, df)
            cand = (out == VIOLATION) & ~held
            target = max(min(2, int(cand.sum())),
                         int(round(OK_SHARE / len(pledges) * int(((out == OK) | (out == EXEMPT)).sum()))))
            fresh = np.flatnonzero(cand & ~missed)
            more = max(0, target - int((cand & missed).sum()))
            missed[rng.choice(fresh, size=min(more, len(fresh)), replace=False)] = True
            expired |= cand
        return df.filter(pl.Series(~expired | missed))

    # ------------------------------------------------------------ web access logs (streamed)
    def access_log_chunks(self, events: int, combined: bool, chunk_rows: int = CHUNK_ROWS) -> Iterator[pl.DataFrame]:
        """`events` rows in chronological chunks of at most `chunk_rows` rows."""
        n_chunks = max(1, -(-events // chunk_rows)) if events else 0
        times = self.access_log_clock()
        for c in range(n_chunks):
            lo, hi = c * events // n_chunks, (c + 1) * events // n_chunks
            yield self.access_log_chunk(c, lo, hi, events, times, combined)

    def access_log_span(self) -> tuple[int, int]:
        """(days of the strictest retention, days the log reaches back)."""
        ok = max(1, self.hints.retention_ok_days("web_access_logs") or DEFAULT_SPAN["web_access_logs"])
        span = self.hints.span("web_access_logs")
        for p in self.hints.ip_pledges("web_access_logs"):
            span = max(span, self.hints.ok_days(p.params.after) * 2 + 2)
        for p in self.hints.of("erasure_completeness"):  # reach back to erasures older than the grace
            if "web_access_logs" in p.params.tables:
                span = max(span, self.hints.ok_days(p.params.grace) + 120)
        return ok, max(span, ok)

    def access_log_clock(self) -> tuple[np.ndarray, np.ndarray]:
        """Hourly grid and cumulative weights: traffic follows the time-of-day curve; 97.5% of
        it within the strictest retention (or the default span), 2.5% older."""
        ok, span = self.access_log_span()
        hours = (self.A - np.timedelta64(span, "D")).astype("datetime64[h]") + np.arange(span * 24)
        weight = HOUR_P[hours.astype(np.int64) % 24]
        recent = hours >= (self.A - np.timedelta64(ok, "D")).astype("datetime64[h]")
        old = ~recent
        weight = np.where(recent, weight * 0.975 / max(weight[recent].sum(), 1e-12),
                          weight * 0.025 / max(weight[old].sum(), 1e-12) if old.any() else 0)
        cum = np.cumsum(weight)
        return hours, cum / cum[-1]

    def access_log_chunk(self, c: int, lo: int, hi: int, total: int, clock, combined: bool) -> pl.DataFrame:
        rng = np.random.default_rng([self.seed, zlib.crc32(self.stream("web_access_logs").encode()), c])
        n = hi - lo
        hours, cum = clock
        pos = (lo + np.sort(rng.random(n)) * n) / total if n else np.zeros(0)
        pos = np.minimum(pos, 1 - 1e-12)
        ts = hours[np.searchsorted(cum, pos, side="right")].astype(US) + \
            rng.integers(0, 3600, n).astype("timedelta64[s]")
        ts = np.sort(ts)
        if hi == total and n:  # the export day itself and a few entries after it
            tail = min(n, 6)
            offsets = np.array([0, 10, 30, 86_400 + 5, 2 * 86_400, 3 * 86_400 + 7], dtype="timedelta64[s]")
            ts[-tail:] = self.A_us + offsets[-tail:]
        logged_in = rng.random(n) < 0.35
        owner = np.where(logged_in, self.owners(rng, n), -1)
        owner = np.where((owner >= 0) & (self.created[np.maximum(owner, 0)] <= ts), owner, -1)
        leftovers = sorted(self.plan.leftovers.get("web_access_logs", set()))
        for i in leftovers:  # their visits before the erasure are still in the log
            before = np.flatnonzero((ts < self.plan.erased_at[i]) & (ts >= self.created[i]))
            owner[rng.permutation(before)[:3]] = i
        erased = np.where(owner >= 0, self.plan.erased_at[np.maximum(owner, 0)], np.datetime64("NaT"))
        left = np.isin(owner, leftovers)
        owner = np.where(~np.isnat(erased) & (~left | (ts > erased)), -1, owner)
        pick = lambda pool: pool.gather(rng.integers(0, pool.len(), n))  # noqa: E731 (pooled strings, no copies)
        path = pick(self.pools["paths"])
        leak = np.flatnonzero(rng.random(n) < 5e-6)  # card numbers in a query string
        if leak.size:
            path = path.scatter(leak, [f"/checkout/confirm?pan={make_card(rng, '4', 16)}&exp=1227" for _ in leak])
        status = _choice(rng, (200, 304, 301, 404, 403, 500), n, (80, 8, 4, 5, 2, 1)).astype(np.int64)
        ids = self.pools["accounts"]
        df = pl.DataFrame([
            _series("ts", ts), pick(self.pools["methods"]).alias("method"), path.alias("path"),
            pl.Series("status", status),
            pl.Series("bytes", np.where(status == 304, 0, rng.lognormal(8, 1.5, n).astype(np.int64))),
            pick(self.pools["referrers"]).alias("referrer"), pick(self.pools["user_agents"]).alias("user_agent"),
            ids.gather(np.where(owner >= 0, owner, ids.len() - 1)).alias("account_id"),
        ])
        ip = self.pools["ips"].gather(self.ip_index(rng, owner, self.truncation(rng, "web_access_logs", df)))
        host = np.flatnonzero(rng.random(n) < 0.001)  # reverse-DNS names instead of addresses
        if host.size:
            names = [f"crawl-66-249-{int(a)}-{int(b)}.googlebot.example"
                     for a, b in rng.integers(0, 256, (host.size, 2))]
            ip = ip.scatter(host, names)
        df = self.conform("web_access_logs", df.with_columns(ip.alias("ip")), self.ctx, chunk=c)
        if combined:  # the log format has no account column
            df = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias("account_id"))
        return df

    @property
    def pools(self) -> dict[str, pl.Series]:
        """Value pools the access log draws from (methods weighted by repetition)."""
        if not hasattr(self, "_pools"):
            self._pools = {
                "paths": pl.Series(self.paths.tolist(), dtype=pl.Utf8),
                "methods": pl.Series(["GET"] * 85 + ["POST"] * 12 + ["HEAD"] * 2 + ["PUT"], dtype=pl.Utf8),
                "referrers": pl.Series(self.referrers.tolist(), dtype=pl.Utf8),
                "user_agents": pl.Series(self.user_agents.tolist(), dtype=pl.Utf8),
                "accounts": pl.Series(self.ids.tolist() + [None], dtype=pl.Utf8),
                "ips": pl.Series(self.ip_pool.tolist() + self._ip_trunc.tolist(), dtype=pl.Utf8),
            }
        return self._pools

    @property
    def paths(self) -> np.ndarray:
        if not hasattr(self, "_paths"):
            rng = self.rng("paths")
            templates = ("/", "/movies/{}", "/movies/{}/trailer", "/cams/model_{}", "/api/v1/stream/{}/segment/{}.ts",
                         "/account/settings", "/checkout", "/search?q=tag{}", "/static/app.{}.js", "/login", "/logout",
                         "/downloads/{}", "/privacy", "/help/article-{}")
            picks = rng.integers(0, len(templates), 4_000)
            numbers = rng.integers(1, 99_999, 4_000)
            self._paths = np.array([templates[t].replace("{}", str(k)) for t, k in zip(picks, numbers)], dtype=object)
        return self._paths

    user_agents = np.array([
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0 Mobile",
        "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
        "Mozilla/5.0 (compatible; ExampleBot/2.1; +https://bot.example.test)", "curl/8.9.1",
    ], dtype=object)
    referrers = np.array([None, None, None, "https://www.example.test/", "https://search.example.test/?q=movies",
                          "https://partner.example.test/wm003", "https://www.example.test/movies"], dtype=object)


# per check kind: how the world makes a row keep the pledge, and how it spoils one
FIXES = {"ip_truncation": World.fix_ip, "column_empty": World.fix_empty,
         "third_party_identifiers": World.fix_identifiers, "k_anonymity": World.fix_k, "tcf_strings": World.fix_tc,
         "pseudonymized": World.fix_pseudonym}
SPOILERS = {"ip_truncation": World.spoil_ip, "column_empty": World.spoil_empty,
            "third_party_identifiers": World.spoil_identifiers, "k_anonymity": World.spoil_k,
            "tcf_strings": World.spoil_tc, "pseudonymized": World.spoil_pseudonym}
