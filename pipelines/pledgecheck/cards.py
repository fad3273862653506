"""Payment card numbers: the one brand table, the one Luhn, and the one run rule.

Everything that recognises a full card number is derived from this module:
- the Python detector (`pledgecheck.detectors.cards`, `pledgecheck scan`, the leak scan),
- the DuckDB macros `luhn_ok`, `card_brand`, `card_candidate`, `card_count` that the
  card_numbers check uses (`duckdb_macros()`, appended to sql/macros.sql by `checks.macros_sql`),
- their Spark translations (`spark_macros()`, read by `spark/translate.py`).
tests/test_detectors.py holds the three to every brand range. The ground truth of the synthetic
world (`truth.py`) is written independently on purpose and must agree with them.

A card number is a maximal run of digits (single spaces or dashes between digits allowed) of 12
to 19 digits, with a brand's prefix and length and a valid Luhn checksum, where
- digits of a decimal number (`47.69230769230769`, `6011111111111117.50`) are not candidates,
- a run glued to a letter on either side is not a candidate: it continues a word, as in a British
  IBAN (`GB29NWBK60161331926819`), a driving-licence number (`MORGA753116SM9IJ`), a hash or an
  order code (`ORD4111111111111111`). ccsrch and similar scanners skip such runs too.
"""
from __future__ import annotations

import re

# ------------------------------------------------------------------ the brand table
# (brand, prefix ranges, lengths): a number has the brand of the FIRST row whose length list holds
# its length and one of whose ranges holds its first digits (range bounds have as many digits as
# the prefix they compare). Order matters: Discover's 6011/644-649/65 and UnionPay's 62 come before
# Maestro's 6.
#
# Maestro is 50, 56-58 and 6, not 50 and 56-69: the Maestro IINs the networks publish (5018, 5020,
# 5038, 5612, 5893, 6304, 6390, 6759, 6761-6763; Maestro UK 6759, 676770, 676774) all lie in
# 50, 56-58 and 6, and no network assigns 59 to Maestro (ISO/IEC 7812 leaves 59 to banks'
# national use). So 5900000000000000 has no brand: the SQL macro and the truth were right, the
# Python detector (which said Maestro) was wrong.
# JCB: 3528-3589 (16-19 digits) and the legacy 15-digit numbers starting 1800 and 2131.
# Mastercard 2-series is 2221-2720 (16 digits); Diners 300-305, 36, 38-39 (14-19 digits).
BRANDS: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[int, ...]], ...] = (
    ("visa", (("4", "4"),), (13, 16, 19)),
    ("mastercard", (("51", "55"), ("2221", "2720")), (16,)),
    ("amex", (("34", "34"), ("37", "37")), (15,)),
    ("discover", (("6011", "6011"), ("644", "649"), ("65", "65")), (16, 17, 18, 19)),
    ("diners", (("300", "305"), ("36", "36"), ("38", "39")), (14, 15, 16, 17, 18, 19)),
    ("jcb", (("3528", "3589"),), (16, 17, 18, 19)),
    ("jcb", (("1800", "1800"), ("2131", "2131")), (15,)),
    ("unionpay", (("62", "62"),), (16, 17, 18, 19)),
    ("maestro", (("50", "50"), ("56", "58"), ("6", "6")), (12, 13, 14, 15, 16, 17, 18, 19)),
)
MIN_DIGITS, MAX_DIGITS = 12, 19  # the shortest and longest length of any brand
assert MIN_DIGITS == min(n for _, _, ns in BRANDS for n in ns) and MAX_DIGITS == max(n for _, _, ns in BRANDS for n in ns)

# ------------------------------------------------------------------ the Luhn checksum
# From the right, every second digit is doubled and its digits summed: DOUBLED[d]. The number is
# valid when the sum of all digits so treated is a multiple of 10.
DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)

# ------------------------------------------------------------------ the run rule (regexes shared by all engines)
RUN = r"[0-9](?:[ -]?[0-9])*"                    # a maximal run of digits, single separators allowed
DECIMAL = r"[0-9]*\.[0-9]+"                       # decimal numbers are blanked before runs are read
PREFILTER = r"[0-9](?:[ -]?[0-9]){%d}" % (MIN_DIGITS - 1)  # texts without such a run hold no card
LETTER = "[A-Za-z]"                               # a run touching one of these continues a word

_RUN = re.compile(RUN)
_DECIMAL = re.compile(DECIMAL)
_LETTER = re.compile(LETTER)


def card_brand(d: str) -> str | None:
    """Brand of a digit string by prefix and length (None: no known brand)."""
    n = len(d)
    for brand, ranges, lengths in BRANDS:
        if n in lengths and any(lo <= d[:len(lo)] <= hi for lo, hi in ranges):
            return brand
    return None


def luhn_ok(d: str) -> bool:
    return sum(DOUBLED[ord(c) - 48] if i % 2 else ord(c) - 48 for i, c in enumerate(reversed(d))) % 10 == 0


def is_card_number(d: str) -> bool:
    return MIN_DIGITS <= len(d) <= MAX_DIGITS and card_brand(d) is not None and luhn_ok(d)


def card_runs(text: str):
    """(start, digits) of each card number in a text, in order (the run rule above)."""
    blanked = _DECIMAL.sub(lambda m: " " * len(m.group()), text)  # same length: offsets stay
    end = len(blanked)
    for m in _RUN.finditer(blanked):
        s, e = m.span()
        if e - s < MIN_DIGITS:
            continue
        if (s and _LETTER.match(blanked, s - 1)) or (e < end and _LETTER.match(blanked, e)):
            continue  # glued to a letter: part of a word
        d = m.group().replace(" ", "").replace("-", "")
        if is_card_number(d):
            yield s, d


# ------------------------------------------------------------------ SQL (DuckDB and Spark)
def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def brand_case(arg: str) -> str:
    """CASE expression giving the brand of the digit string `arg` (the same text in DuckDB and
    Spark SQL: substr is 1-based in both; equal-length digit strings compare as numbers)."""
    whens = []
    for brand, ranges, lengths in BRANDS:
        prefix = " or ".join(f"substr({arg}, 1, {len(lo)}) between {_sql_str(lo)} and {_sql_str(hi)}"
                             for lo, hi in ranges)
        whens.append(f"        when length({arg}) in ({', '.join(map(str, lengths))}) and ({prefix}) "
                     f"then {_sql_str(brand)}")
    return "case\n" + "\n".join(whens) + "\n    end"


def duckdb_macros() -> str:
    """The card macros of sql/macros.sql, derived from the table above."""
    doubled = "[" + ", ".join(map(str, DOUBLED)) + "]"
    digit = "(ascii(substr(d, length(d) - i, 1)) - 48)"
    return f"""
-- Payment cards: generated by pledgecheck/cards.py from its brand table (do not edit here).
-- Luhn checksum over a digit string.
create or replace macro luhn_ok(d) as (
    list_sum(list_transform(range(length(d)), lambda i:
        case when i % 2 = 0 then {digit} else {doubled}[{digit} + 1] end)) % 10 = 0
);

-- Brand of a digit string by issuer prefix and length (NULL: not a card number of a known brand).
create or replace macro card_brand(d) as (
    {brand_case('d')}
);

-- Whether a text is long enough to hold a card number (the shortest has {MIN_DIGITS} digits).
-- Lets a scan skip short texts before any regex.
create or replace macro card_candidate(txt) as (length(txt) >= {MIN_DIGITS});

-- Number of full card numbers in a text: maximal digit runs (single space or dash separators),
-- {MIN_DIGITS}-{MAX_DIGITS} digits, a known brand and a valid Luhn checksum. Decimal numbers are blanked
-- first; then runs glued to a letter are removed (first those after a letter, keeping the letter,
-- then those before one).
create or replace macro card_count(txt) as (
    case when txt is null or not regexp_matches(txt, {_sql_str(PREFILTER)}) then 0 else
    len(list_filter(
        list_transform(regexp_extract_all(
            regexp_replace(regexp_replace(regexp_replace(txt, {_sql_str(DECIMAL)}, ' ', 'g'),
                                          {_sql_str('(' + LETTER + ')' + RUN)}, '\\1', 'g'),
                           {_sql_str(RUN + LETTER)}, 'x', 'g'),
            {_sql_str(RUN)}),
            lambda r: regexp_replace(r, '[ -]', '', 'g')),
        lambda d: length(d) between {MIN_DIGITS} and {MAX_DIGITS} and card_brand(d) is not null and luhn_ok(d)))
    end
);
"""


def spark_macros() -> dict[str, str]:
    """Spark SQL bodies of the same macros (`__arg` is the argument; see spark/translate.py for the
    dialect rules: RLIKE searches, replacement groups are $1, regexp_extract_all needs group 0,
    range over '' counts down in Spark and is guarded, digits read with ascii() so ANSI mode
    cannot raise)."""
    doubled = "array(" + ", ".join(map(str, DOUBLED)) + ")"
    digit = "(ascii(substr(__arg, length(__arg) - __i, 1)) - 48)"
    return {
        "luhn_ok": f"""
        IF(length(__arg) = 0, NULL,
           aggregate(sequence(0, length(__arg) - 1), 0, (__acc, __i) -> __acc +
               CASE WHEN __i % 2 = 0 THEN {digit} ELSE element_at({doubled}, {digit} + 1) END) % 10 = 0)""",
        "card_brand": brand_case("__arg"),
        "card_candidate": f"(length(__arg) >= {MIN_DIGITS})",
        "card_count": f"""
        CASE WHEN __arg IS NULL OR NOT (__arg RLIKE {_sql_str(PREFILTER)}) THEN 0 ELSE
        size(filter(
            transform(regexp_extract_all(
                regexp_replace(regexp_replace(regexp_replace(__arg, {_sql_str(DECIMAL)}, ' '),
                                              {_sql_str('(' + LETTER + ')' + RUN)}, '$1'),
                               {_sql_str(RUN + LETTER)}, 'x'),
                {_sql_str(RUN)}, 0),
                      __r -> regexp_replace(__r, '[ -]', '')),
            __d -> length(__d) BETWEEN {MIN_DIGITS} AND {MAX_DIGITS} AND card_brand(__d) IS NOT NULL AND luhn_ok(__d)))
        END""",
    }
