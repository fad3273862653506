"""Ingestion: every row is loaded or quarantined with file, line and reason; nothing is lost."""
import gzip
import shutil
from pathlib import Path

import pytest

from pledgecheck.engine import connect
from pledgecheck.errors import IngestError
from pledgecheck.ingest import ingest

REAL_LOG = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "apache_combined_access.log"
TICKET_HEADER = "ticket_id,account_id,email,created_at,last_message_at,closed_at,channel,category\n"


def load(folder):
    con = connect()
    rep = ingest(con, folder)
    return con, rep


def quarantine(con):
    return con.execute("SELECT file, line, reason FROM quarantine ORDER BY file, line").fetchall()


def test_real_apache_combined_log(tmp_path):
    shutil.copy(REAL_LOG, tmp_path / "web_access_logs.log")
    con, rep = load(tmp_path)
    t = rep.tables["web_access_logs"]
    assert (t.rows_read, t.rows_loaded, t.rows_quarantined) == (10000, 9999, 1)
    # line 8899 of the real file is cut off inside the user-agent quote
    (_, line, reason), = quarantine(con)
    assert line == 8899 and reason == "not a combined-format log line"
    first = con.execute("SELECT ts, ip, method, status, bytes FROM _typed_web_access_logs WHERE _line = 1").fetchone()
    assert str(first[0]) == "2015-05-17 10:05:03" and first[1:] == ("83.149.9.216", "GET", 200, 203023)


def test_gzipped_log_and_offsets_normalised_to_utc(tmp_path):
    line = '10.0.0.1 - - [01/Mar/2026:23:30:00 -0200] "GET / HTTP/1.1" 200 5 "-" "curl"\n'
    with gzip.open(tmp_path / "web_access_logs.log.gz", "wt") as f:
        f.write(line * 3)
    con, rep = load(tmp_path)
    assert rep.tables["web_access_logs"].rows_loaded == 3
    assert str(con.execute("SELECT min(ts) FROM web_access_logs").fetchone()[0]) == "2026-03-02 01:30:00"


def test_csv_bad_rows_are_quarantined_with_line_and_reason(tmp_path):
    (tmp_path / "support_tickets.csv").write_text(
        TICKET_HEADER +
        "T1,a1,x@example.test,2024-01-31T10:00:00+02:00,,,email,c\n"    # line 2 ok
        "T2,a2,,not-a-date,,,chat,c\n"                                  # line 3 bad timestamp
        "T3,a3,,2024-02-29,,,fax,c\n"                                   # line 4 bad enum
        'T4,"a4,2020-01-01\n'                                           # line 5 broken quoting
        "T1,a5,,2024-01-01,,,email,c\n"                                 # line 6 duplicate key
        "T6,a6,,2024-01-01,,,email,c,extra\n"                           # line 7 too many columns
        ",a7,,2024-01-01,,,email,c\n"                                   # line 8 required key missing
        "T8,a8,,2024-01-01 12:00:00,,,email,c\n",                       # line 9 ok (naive = UTC)
        encoding="utf-8")
    con, rep = load(tmp_path)
    t = rep.tables["support_tickets"]
    assert (t.rows_read, t.rows_loaded, t.rows_quarantined) == (8, 2, 6)
    q = {line: reason for _, line, reason in quarantine(con)}
    assert set(q) == {3, 4, 5, 6, 7, 8}
    assert q[3] == "created_at: cannot read as timestamp"
    assert q[4] == "channel: not one of the allowed values"
    assert q[5].startswith("malformed CSV line")
    assert q[6].startswith("duplicate key ticket_id (first seen at") and q[6].endswith("line 2)")
    assert "TOO MANY COLUMNS" in q[7]
    assert q[8] == "ticket_id: required value missing"
    assert [str(r[0]) for r in con.execute("SELECT created_at FROM support_tickets ORDER BY 1").fetchall()] == [
        "2024-01-31 08:00:00", "2024-01-01 12:00:00"][::-1]


def test_invalid_utf8_and_jsonl_errors(tmp_path):
    (tmp_path / "support_tickets.csv").write_bytes(
        TICKET_HEADER.encode() + b"T1,a1,,2024-01-01,,,email,c\nT2,a\xff\xfe,,2024-01-01,,,email,c\n")
    (tmp_path / "unsubscribes.jsonl").write_text(
        '{"unsubscribe_id":"u1","account_id":"a1","ts":"2024-01-01T00:00:00Z","channel":"email","source":"link"}\n'
        "not json\n"
        "\n"
        '[1, 2]\n'
        '{"unsubscribe_id":"u2","account_id":"a1","ts":"2024-01-01T00:00:00Z","channel":"pigeon","source":null}\n',
        encoding="utf-8")
    con, rep = load(tmp_path)
    assert rep.reconciles()
    st, un = rep.tables["support_tickets"], rep.tables["unsubscribes"]
    assert (st.rows_read, st.rows_loaded, st.rows_quarantined) == (2, 1, 1)
    assert (un.rows_read, un.rows_loaded, un.rows_quarantined) == (4, 1, 3)
    reasons = {(Path(f).name, line): r for f, line, r in quarantine(con)}
    assert reasons[("unsubscribes.jsonl", 2)] == "invalid JSON"
    assert reasons[("unsubscribes.jsonl", 4)] == "JSON line is not an object"
    assert reasons[("unsubscribes.jsonl", 5)] == "channel: not one of the allowed values"


def test_missing_required_column_is_a_clear_error(tmp_path):
    (tmp_path / "support_tickets.csv").write_text("ticket_id,account_id\nT1,a1\n", encoding="utf-8")
    con, rep = load(tmp_path)
    err = rep.errors["support_tickets"]
    assert "support_tickets.csv" in err and "missing columns created_at" in err


def test_empty_and_header_only_files(tmp_path):
    (tmp_path / "support_tickets.csv").write_text("", encoding="utf-8")
    (tmp_path / "unsubscribes.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "orders.csv").write_text("order_id,account_id,ordered_at,amount,currency,status\n", encoding="utf-8")
    con, rep = load(tmp_path)
    assert not rep.errors
    assert all(rep.tables[t].rows_read == 0 for t in ("support_tickets", "unsubscribes", "orders"))
    assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 0


def test_unreadable_parquet_names_the_file(tmp_path):
    (tmp_path / "orders.parquet").write_bytes(b"PAR1 this is not really parquet")
    con, rep = load(tmp_path)
    assert rep.errors["orders"].startswith(str(tmp_path / "orders.parquet"))


def test_parquet_types_and_row_numbers(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({
        "download_id": ["d1", "d2", "d3"], "account_id": ["a1", None, "a3"],
        "downloaded_at": pa.array([1_700_000_000_000_000, 1_700_000_000_000_000, None], pa.timestamp("us", "UTC")),
        "title_id": ["t", "t", "t"]}), tmp_path / "downloads.parquet")
    con, rep = load(tmp_path)
    t = rep.tables["downloads"]
    assert (t.rows_read, t.rows_loaded, t.rows_quarantined) == (3, 1, 2)
    assert [r[1] for r in quarantine(con)] == [2, 3]


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(IngestError, match="does not exist"):
        ingest(connect(), tmp_path / "nope")


def test_partitioned_folder_and_mixed_formats(tmp_path):
    part = tmp_path / "downloads"
    part.mkdir()
    (part / "2025-01.csv").write_text("download_id,account_id,downloaded_at,title_id\nd1,a1,2025-01-01,t\n")
    (part / "2025-02.jsonl").write_text('{"download_id":"d2","account_id":"a1","downloaded_at":"2025-02-01","title_id":"t"}\n')
    con, rep = load(tmp_path)
    assert rep.tables["downloads"].rows_loaded == 2 and len(rep.tables["downloads"].files) == 2


def test_parquet_is_checked_like_csv(tmp_path):
    """The Parquet path (typed views, nothing copied) quarantines exactly what the CSV path does:
    same rows, lines and reasons, duplicates across two part files included."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pledgecheck.engine import connect
    from pledgecheck.ingest import ingest

    rows = [
        {"ticket_id": "t1", "account_id": "a1", "created_at": "2024-01-01T10:00:00Z", "channel": "email"},
        {"ticket_id": "t2", "account_id": "a2", "created_at": "not a time", "channel": "email"},
        {"ticket_id": "t1", "account_id": "a3", "created_at": "2024-01-02T10:00:00Z", "channel": "email"},
        {"ticket_id": "t4", "account_id": None, "created_at": "2024-01-02T10:00:00Z", "channel": "fax"},
        {"ticket_id": "t5", "account_id": "a5", "created_at": "2024-01-03T10:00:00+02:00", "channel": "chat"},
    ]
    more = [{"ticket_id": "t5", "account_id": "a6", "created_at": "2024-02-01T00:00:00Z", "channel": "chat"}]
    from pledgecheck.contract import load_contract

    cols = list(load_contract().table("support_tickets").columns)
    out = {}
    for fmt in ("csv", "parquet"):
        d = tmp_path / fmt / "support_tickets"
        d.mkdir(parents=True)
        for name, part in (("part-1", rows), ("part-2", more)):
            if fmt == "csv":
                import csv
                with open(d / f"{name}.csv", "w", newline="") as f:
                    w = csv.DictWriter(f, fieldnames=cols)
                    w.writeheader()
                    w.writerows({c: r.get(c) or "" for c in cols} for r in part)
            else:
                pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in part]), d / f"{name}.parquet")
        con = connect()
        rep = ingest(con, tmp_path / fmt, tables=["support_tickets"])
        assert rep.reconciles() and not rep.errors
        q = con.execute("SELECT regexp_replace(file, '.*/', ''), line, reason FROM quarantine ORDER BY ALL").fetchall()
        loaded = con.execute("SELECT ticket_id, account_id, created_at FROM support_tickets ORDER BY ALL").fetchall()
        out[fmt] = (q, loaded, [(f.rows_read, f.rows_loaded, f.rows_quarantined) for f in rep.tables["support_tickets"].files])
    # a CSV line counts the header; a Parquet line is the row number
    norm = lambda q, shift: [(f.rsplit(".", 1)[0], line - shift, why.split(" (first seen")[0])  # noqa: E731
                             for f, line, why in q]
    assert norm(out["csv"][0], 1) == norm(out["parquet"][0], 0)
    assert out["csv"][1] == out["parquet"][1]
    assert out["csv"][2] == out["parquet"][2] == [(5, 2, 3), (1, 0, 1)]
    reasons = [why for _, _, why in out["parquet"][0]]
    assert any(r.startswith("created_at: cannot read") for r in reasons)
    assert any(r.startswith("channel: not one of the allowed values") for r in reasons)
    assert any("duplicate key ticket_id (first seen at" in r for r in reasons)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_blank_and_space_padded_texts(tmp_path, fmt):
    """A blank text is a missing value and spaces around a value are not part of it, in every
    text column that is parsed (timestamps, booleans)."""
    rows = [("T1", " 2024-01-31T10:00:00+02:00 ", "", " yes"),   # padded instant; blank optional: null
            ("T2", "2024-01-01T00:00:00Z   ", "   ", "no "),      # trailing spaces
            ("T3", "   ", None, ""),                              # blank required instant: missing
            ("T4", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z", "maybe")]  # not a boolean
    cols = ["ticket_id", "created_at", "closed_at", "abuse_flag"]
    if fmt == "csv":
        (tmp_path / "support_tickets.csv").write_text(
            "ticket_id,created_at,closed_at,channel,category,last_message_at,abuse_flag\n" + "".join(
                f'{t},"{c}","{x or ""}",email,c,,"{a}"\n' for t, c, x, a in rows), encoding="utf-8")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(cols)}
                         | {"channel": pa.array(["email"] * 4), "category": pa.array(["c"] * 4),
                            "last_message_at": pa.array([None] * 4, pa.string())})
        pq.write_table(table, tmp_path / "support_tickets.parquet")
    con, rep = load(tmp_path)
    t = rep.tables["support_tickets"]
    assert (t.rows_read, t.rows_loaded, t.rows_quarantined) == (4, 2, 2)
    first = 2 if fmt == "csv" else 1   # a CSV's first record is on line 2 (after its header)
    assert {line: reason for _, line, reason in quarantine(con)} == {
        first + 2: "created_at: required value missing", first + 3: "abuse_flag: cannot read as boolean"}
    got = con.execute("SELECT ticket_id, CAST(created_at AS VARCHAR), closed_at, abuse_flag FROM support_tickets "
                      "ORDER BY 1").fetchall()
    assert got == [("T1", "2024-01-31 08:00:00", None, True), ("T2", "2024-01-01 00:00:00", None, False)]
