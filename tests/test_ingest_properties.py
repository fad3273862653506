"""Property-based: whatever bytes a CSV or JSONL export holds, ingestion neither crashes nor
loses a row (rows read = loaded + quarantined, and every physical record is accounted for)."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pledgecheck.engine import connect
from pledgecheck.ingest import ingest

HEADER = "download_id,account_id,downloaded_at,title_id\n"
cell = st.one_of(
    st.sampled_from(["d1", "a1", "2025-01-01", "2025-01-01T10:00:00+02:00", "", "1969-12-31", "9999-12-31",
                     "not a date", "t", '"quoted, comma"', "x" * 5000, "1e400", "-0", "\u00e9\u4e2d"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
)
line = st.lists(cell, min_size=0, max_size=6).map(lambda cells: ",".join(cells))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line, min_size=0, max_size=12), tail=st.sampled_from(["\n", "", "\r\n"]))
def test_csv_ingestion_never_loses_a_row(tmp_path_factory, lines, tail):
    folder = tmp_path_factory.mktemp("csv")
    body = "\n".join(lines) + (tail if lines else "")
    (folder / "downloads.csv").write_text(HEADER + body, encoding="utf-8")
    rep = ingest(connect(), folder)
    t = rep.tables["downloads"]
    assert t.error is None or "downloads.csv" in t.error
    assert rep.reconciles()


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.one_of(
    st.fixed_dictionaries({"download_id": st.text(max_size=5), "account_id": st.sampled_from(["a1", None, ""]),
                           "downloaded_at": st.sampled_from(["2025-01-01", "bad", None, 12345]),
                           "title_id": st.sampled_from(["t", None])}).map(json.dumps),
    st.text(max_size=30).filter(lambda s: "\n" not in s and "\r" not in s)), max_size=15))
def test_jsonl_ingestion_accounts_for_every_non_blank_line(tmp_path_factory, records):
    folder = tmp_path_factory.mktemp("jsonl")
    (folder / "downloads.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    con = connect()
    rep = ingest(con, folder)
    t = rep.tables["downloads"]
    if t.error:
        assert "downloads.jsonl" in t.error
        return
    non_blank = sum(1 for r in records if r.strip(" \t\r"))  # blank = spaces and tabs only
    assert t.rows_read == non_blank
    assert t.rows_read == t.rows_loaded + t.rows_quarantined
