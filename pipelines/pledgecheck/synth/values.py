"""The synthetic world's vocabulary: constants, column helpers and the makers of values
(card numbers, look-alikes, password hashes, addresses, TC strings) that World draws from."""
from __future__ import annotations

import hashlib
import ipaddress
import zlib
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import polars as pl

from .. import __version__, tcf
from .truth import IP4_FULL, IP4_TRUNC, IP6_FULL, IP6_TRUNC, US, ip_class

GENERATOR = f"pledgecheck {__version__}"
FORMATS = ("parquet", "csv", "jsonl")
EXTENSIONS = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl", "combined": "log"}
CHUNK_ROWS = 1_000_000
# Accounts per shard: every table but the access log is built in memory one shard at a time.
SHARD_ACCOUNTS = 50_000
# Ids of a prefix (and affiliate export rows) each shard k > 0 numbers from k * ID_BLOCK + 1.
ID_BLOCK = 100_000_000
MIN_SHARD_ACCOUNTS = 20
# Tables whose timestamps are written with explicit offsets (+02:00, -05:00, Z...), same instant.
OFFSET_TABLES = ("consent_events", "support_tickets", "downloads", "breach_incidents")
# Tables kept on erasure (proof of compliance) unless an erasure pledge lists them.
KEPT_ON_ERASURE = ("erasure_log", "backups", "legal_holds", "data_subject_requests", "consent_events", "unsubscribes")

JURISDICTIONS = ("EU", "UK", "US-CA", "OTHER")
JURISDICTION_P = (0.45, 0.15, 0.15, 0.25)
COUNTRIES = {"EU": ("DE", "FR", "ES", "IT", "NL", "LU", "BE", "PL", "AT", "SE", "IE", "PT"), "UK": ("GB",),
             "US-CA": ("US",), "OTHER": ("BR", "CA", "JP", "AU", "IN", "CH", "NO", "MX", "ZA")}
CURRENCY = {"EU": "EUR", "UK": "GBP", "US-CA": "USD", "OTHER": "USD"}
FIRST_NAMES = ("Alex", "Sam", "Robin", "Kim", "Jules", "Charlie", "Morgan", "Taylor", "Jamie", "Casey",
               "Riley", "Avery", "Quinn", "Sasha", "Noa", "Eli")
LAST_NAMES = ("Example", "Sample", "Testperson", "Placeholder", "Dummy", "Mockley", "Fictive", "Synthetic")
# Share of activity per UTC hour: quiet nights, busy evenings.
HOUR_WEIGHTS = np.array([3, 2, 1.5, 1, 1, 1, 1.5, 2.5, 3.5, 4, 4.5, 5, 5.5, 5.5, 5, 5, 5.5, 6, 7, 8, 8.5, 8, 6.5, 4.5])
HOUR_P = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
SECOND = np.timedelta64(1, "s")
DAY_US = np.timedelta64(1, "D").astype("timedelta64[us]")

TRACKERS = {"google_analytics": "analytics", "matomo": "analytics", "hotjar": "analytics",
            "meta_pixel": "advertising", "doubleclick": "advertising", "tiktok_pixel": "advertising",
            "optimizely": "personalization", "recommender": "personalization", "intercom": "functional",
            "session_cookie": "necessary", "newsletter_pixel": "marketing_email"}
CONSENT_PURPOSES = {"necessary": 0.95, "functional": 0.85, "analytics": 0.7, "advertising": 0.5,
                    "marketing_email": 0.55, "personalization": 0.55, "sensitive_data": 0.2}
NEEDS_CONSENT = ("analytics", "advertising", "personalization", "marketing_email", "sensitive_data")
REQUEST_TYPES = {"access": 0.33, "erasure": 0.25, "rectification": 0.08, "portability": 0.05,
                 "restriction": 0.03, "objection": 0.06, "opt_out": 0.14, "limit": 0.06}
# Default time spans (days before the as-of date) when no retention pledge narrows a table.
DEFAULT_SPAN = {"orders": 5 * 365, "payments": 5 * 365, "security_events": 2 * 365, "tracker_events": 400,
                "marketing_sends": 2 * 365, "email_events": 2 * 365, "unsubscribes": 3 * 365,
                "data_subject_requests": 3 * 365, "support_tickets": 4 * 365, "chat_messages": 365,
                "audio_recordings": 180, "downloads": 540, "affiliate_exports": 365, "shared_aggregates": 365,
                "breach_incidents": 3 * 365, "minor_reports": 2 * 365, "vulnerability_reports": 2 * 365,
                "web_access_logs": 120, "accounts": 7 * 365, "marketing_statistics": 365}
# Usual processing time (days) of deadline-like columns when no pledge sets one.
DEFAULT_DEADLINES = {("data_subject_requests", "acknowledged_at"): 2, ("data_subject_requests", "completed_at"): 20,
                     ("breach_incidents", "authority_notified_at"): 2, ("breach_incidents", "subjects_notified_at"): 6,
                     ("minor_reports", "responded_at"): 2, ("minor_reports", "data_removed_at"): 5,
                     ("vulnerability_reports", "acknowledged_at"): 3, ("vulnerability_reports", "resolved_at"): 30}

OK_SHARE = 0.03       # target share of violating records in a table
# How deadline-bound records end (ranges of a uniform draw; the rest are done well in time):
# on the due date itself, one second to an hour after it, well after it, with an extension
# notified inside the window and completed after the original due date, likewise but notified
# the day after the window closed.
ENDINGS = {"on_due_date": (0.0, 0.03), "just_late": (0.03, 0.04), "late": (0.045, 0.055),
           "extended": (0.065, 0.095), "extended_late_notice": (0.095, 0.1)}
FUTURE_SHARE = 0.002  # records dated after the as-of date (outcome unknown)


# ================================================================ entry point

@lru_cache(maxsize=1)
def address_pool(seed: int, accounts: int) -> tuple[np.ndarray, np.ndarray]:
    """Full addresses (documentation, private and other ranges) and their truncated forms, for a
    world of `accounts` accounts: the same in every shard (shard 0's stream), drawn once per
    process (generate_world forgets it at the end)."""
    rng = np.random.default_rng([seed, zlib.crc32(b"ips")])
    size = int(min(max(2_000, 3 * accounts), 300_000))
    pool, trunc = [], []
    doc4 = ("192.0.2", "198.51.100", "203.0.113")
    for _ in range(size):
        r = rng.random()
        if r < 0.75:
            if r < 0.25:
                net = doc4[int(rng.integers(3))]
            elif r < 0.4:
                x, y = (int(v) for v in rng.integers(0, 256, 2))
                net = (f"10.{x}.{y}", f"172.{16 + x % 16}.{y}", f"192.168.{x}")[int(rng.integers(3))]
            else:
                net = f"{int(rng.choice([23, 31, 45, 62, 77, 81, 89, 91, 102, 151, 176, 185, 212]))}." \
                      f"{int(rng.integers(0, 256))}.{int(rng.integers(0, 256))}"
            pool.append(f"{net}.{int(rng.integers(1, 255))}")
            trunc.append(f"{net}.0")
        else:
            other = ("2a01:cb00", "2600:1700", "2a02:8108")[int(rng.integers(3))]
            head = "2001:db8" if rng.random() < 0.7 else other
            g3 = f"{int(rng.integers(0, 0x10000)):x}"
            tail = [f"{int(x):x}" for x in rng.integers(1, 0x10000, 5)]
            style = rng.random()
            if style < 0.7:
                full = f"{head}:{g3}:{tail[0]}::{tail[4]}"
            elif style < 0.9:
                full = ":".join(f"{int(g, 16):04x}" for g in head.split(":") + [g3] + tail)
            else:
                full = f"{head}:{g3}:{':'.join(tail)}".upper()
            pool.append(full)
            trunc.append(f"{head}:{g3}::" if rng.random() < 0.8 else f"{head}:{g3}:0:0:0:0:0")
    return np.array(pool, dtype=object), np.array(trunc, dtype=object)



def _choice(rng: np.random.Generator, options, n: int, p=None) -> np.ndarray:
    opts = np.array(list(options), dtype=object)
    if p is not None:
        p = np.asarray(list(p), dtype=float)
        p = p / p.sum()
    return opts[rng.choice(len(opts), size=n, p=p)]


def _ids(prefix: str, n: int, start: int = 1) -> np.ndarray:
    """prefix + the numbers start.. on at least 7 digits (object array of str)."""
    number = pl.int_range(start, start + n, dtype=pl.Int64).cast(pl.Utf8).str.zfill(7)
    return pl.select((pl.lit(prefix) + number).alias("id"))["id"].to_numpy().astype(object)


def _series(name: str, values, dtype=None) -> pl.Series:
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return pl.Series(name, values.astype(US), dtype=pl.Datetime("us"))
    if isinstance(values, np.ndarray) and values.dtype.kind == "O":  # strings/booleans with None
        values = values.tolist()
    return pl.Series(name, values, dtype=dtype)


def _frame(columns: dict, schema_table=None) -> pl.DataFrame:
    """DataFrame from numpy/list columns; missing contract columns added as typed nulls."""
    df = pl.DataFrame([_series(k, v) for k, v in columns.items()])
    if schema_table is not None:
        kinds = {"string": pl.Utf8, "integer": pl.Int64, "decimal": pl.Float64, "boolean": pl.Boolean,
                 "date": pl.Date, "timestamp": pl.Datetime("us"), "json": pl.Utf8}
        df = df.with_columns([pl.lit(None, dtype=kinds[c.type]).alias(c.name)
                              for c in schema_table.columns.values() if c.name not in df.columns])
        df = df.with_columns([pl.col(c.name).cast(kinds[c.type]) for c in schema_table.columns.values()])
    return df


def _nat(n: int) -> np.ndarray:
    return np.full(n, np.datetime64("NaT", "us"))


def _masked_where(mask: np.ndarray, values: np.ndarray, other) -> np.ndarray:
    out = np.array(values, dtype=object)
    out[~mask] = other
    return out


def make_card(rng: np.random.Generator, prefix: str, length: int, valid: bool = True) -> str:
    body = prefix + "".join(str(d) for d in rng.integers(0, 10, length - len(prefix) - 1))
    check = str(_luhn_check_digit(body))
    if not valid:
        check = str((int(check) + 1 + int(rng.integers(0, 8))) % 10)
    return body + check


def _luhn_check_digit(body: str) -> int:
    """The digit that makes body + digit pass the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(body)):  # the check digit takes position 0: odd positions double
        v = ord(ch) - 48
        if i % 2 == 0:
            v = v * 2 - 9 if v >= 5 else v * 2
        total += v
    return (10 - total % 10) % 10


CARD_KINDS = (  # brand prefix, length: every brand the check knows, Mastercard 2-series twice
    ("4", 16), ("4", 13), ("4", 19), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("2410", 16),
    ("34", 15), ("37", 15), ("6011", 16), ("65", 16), ("644", 19), ("3528", 16), ("3589", 18),
    ("36", 14), ("301", 14), ("38", 16), ("62", 16), ("62", 19), ("50", 12), ("58", 19), ("6759", 16),
)


def format_card(number: str, style: int) -> str:
    if style == 1:
        groups = [number[:4], number[4:10], number[10:]] if len(number) == 15 else \
            [number[i:i + 4] for i in range(0, len(number), 4)]
        return " ".join(groups)
    if style == 2:
        return "-".join(number[i:i + 4] for i in range(0, len(number), 4))
    if style == 3:  # mixed single separators still make one run
        g = [number[i:i + 4] for i in range(0, len(number), 4)]
        return "".join(x + ("-" if i % 2 else " ") for i, x in enumerate(g[:-1])) + g[-1]
    return number


CARD_SENTENCES = ("Please charge my card {c} for the next order.", "Pay with {c}, exp 09/28.",
                  "My card number is {c} (expires 11/27).", "CARD:{c};", "new card {c} - thanks",
                  "use {c}/ billing same as before")


def card_text(rng: np.random.Generator) -> str:
    """A free-text value holding one full card number."""
    prefix, length = CARD_KINDS[int(rng.integers(len(CARD_KINDS)))]
    number = format_card(make_card(rng, prefix, length), int(rng.integers(0, 4)))
    return CARD_SENTENCES[int(rng.integers(len(CARD_SENTENCES)))].format(c=number)


def decoy_text(rng: np.random.Generator) -> str:
    """Free text with digits that are NOT a full card number."""
    visa = make_card(rng, "4", 16)
    kind = int(rng.integers(0, 10))
    if kind == 0:
        return f"Paid with the card ending in {visa[-4:]}."
    if kind == 1:
        return f"Card {visa[:4]} **** **** {visa[-4:]} was declined, please retry."
    if kind == 2:
        return f"Card {visa[:6]}XXXXXX{visa[-4:]} on file."
    if kind == 3:
        return f"Bank reference {format_card(make_card(rng, '4', 16, valid=False), 1)}."
    if kind == 4:
        return "Call me on +44 20 7946 0958 after 6pm."
    if kind == 5:
        return "IBAN DE89 3704 0044 0532 0130 00 for the refund."
    if kind == 6:
        return f"card {format_card(visa, 1)} 2024 renewal"  # the year extends the run to 20 digits
    if kind == 7:
        return f"Card {visa[:4]}  {visa[4:8]} {visa[8:12]} {visa[12:]} (typed with a double space)"
    if kind == 8:
        return f"Voucher {format_card(make_card(rng, '9', 16), 2)} applied."  # Luhn-valid, no brand
    return f"Order reference ORD-2026-{int(rng.integers(100000, 999999))}."


BENIGN_COMMENTS = ("Please deliver after 6pm.", "Gift wrap, please.", "Leave at the door.", "Second try, first failed.",
                   "Invoice to my company address.", "No receipt in the parcel please.")
TICKET_BODIES = ("Hi, I cannot log in since yesterday.", "Please delete my account and all my data.",
                 "I was charged twice for my last order.", "How do I change my e-mail address?",
                 "The stream keeps buffering on my phone.", "I want a copy of the data you hold about me.",
                 "Please stop sending me newsletters.", "My download limit seems wrong this month.")


def _bcrypt(rng: np.random.Generator, length: int = 53) -> str:
    alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "$2b$12$" + "".join(alphabet[i] for i in rng.integers(0, 64, length))


def _hex(rng: np.random.Generator, n: int) -> str:
    return "".join("0123456789abcdef"[i] for i in rng.integers(0, 16, n))


def password_hash(rng: np.random.Generator, kind: str) -> str | None:
    salt = _hex(rng, 16)
    return {
        "bcrypt": lambda: _bcrypt(rng),
        "argon2": lambda: f"$argon2id$v=19$m=65536,t=3,p=4${salt}${_hex(rng, 43)}",
        "scrypt": lambda: f"$scrypt$ln=16,r=8,p=1${salt}${_hex(rng, 43)}",
        "pbkdf2": lambda: f"pbkdf2_sha256$600000${salt}${_hex(rng, 44)}",
        "md5": lambda: _hex(rng, 32),
        "sha1": lambda: _hex(rng, 40),
        "plain": lambda: ("hunter2", "letmein", "Password1!", "qwerty123")[int(rng.integers(4))],
        "md5crypt": lambda: f"$1${salt[:8]}${_hex(rng, 22)}",
        "truncated": lambda: _bcrypt(rng, 50),
        "none": lambda: None,
    }[kind]()



@lru_cache(maxsize=4096)
def _tc(created: date, updated: date, consent: tuple[int, ...], li: tuple[int, ...], policy_version: int) -> str:
    """A TC string with day-precision times and a fixed vendor list (consent managers repeat them)."""
    return tcf.encode(datetime.combine(created, datetime.min.time()), datetime.combine(updated, datetime.min.time()),
                      purposes_consent=consent, purposes_li=li, vendors_consent=(1, 8, 28, 91),
                      vendors_li=(8, 91), policy_version=policy_version)


def pseudonym(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def truncate_ip(text: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) network address of an address; other text unchanged."""
    kind = ip_class(text)
    if kind in (IP4_FULL, IP4_TRUNC):
        return text.rsplit(".", 1)[0] + ".0"
    if kind in (IP6_FULL, IP6_TRUNC):
        return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address(text)) >> 80 << 80))
    return text
