"""`pledgecheck tcf STRING|FILE [--json]`: TC strings built bit by bit here (ranges, optional
segments, corrupt sections), decoded by the command, one line or one JSON object per string."""
import json
import subprocess
import sys
from datetime import datetime, timezone

from typer.testing import CliRunner

from pledgecheck import tcf
from pledgecheck.cli import app

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
T1 = datetime(2025, 6, 2, 8, 30, tzinfo=timezone.utc)


def b64(fields: list[tuple[int, int]]) -> str:
    v = n = 0
    for value, width in fields:
        v, n = (v << width) | value, n + width
    pad = -n % 6
    v, n = v << pad, n + pad
    return "".join(tcf.ALPHABET[(v >> (n - 6 * (i + 1))) & 63] for i in range(n // 6))


def flags(ids, width):
    return (sum(1 << (width - i) for i in ids), width)


def ranges(max_id, spans):
    out = [(max_id, 16), (1, 1), (len(spans), 12)]
    for a, b in spans:
        out += [(1, 1), (a, 16), (b, 16)] if a != b else [(0, 1), (a, 16)]
    return out


def core(consent_vendors, li_vendors=None, cmp_id=300, policy=4, country="DE"):
    ds = lambda t: int(t.timestamp() * 10)  # noqa: E731
    letters = lambda s: [(ord(c) - 65, 6) for c in s]  # noqa: E731
    return ([(2, 6), (ds(T0), 36), (ds(T1), 36), (cmp_id, 12), (7, 12), (1, 6)] + letters("FR")
            + [(187, 12), (policy, 6), (0, 1), (0, 1), flags([1], 12), flags([1, 3, 4], 24), flags([2, 7], 24),
               (0, 1)] + letters(country) + consent_vendors + (li_vendors or [(0, 16), (0, 1)]) + [(0, 12)])


GOOD = (b64(core(ranges(40, [(3, 5), (40, 40)]), ranges(9, [(9, 9)])))
        + "." + b64([(1, 3)] + ranges(12, [(10, 12)]))                                    # disclosed vendors
        + "." + b64([(3, 3), flags([1, 2], 24), flags([], 24), (2, 6), (0b10, 2), (0b01, 2)]))  # publisher TC
BACKWARDS = b64(core(ranges(40, [(9, 5)])))                       # a range whose end comes before its start
CUT = b64(core(ranges(40, [(3, 5), (7, 9), (11, 13)])))[:-12]     # the vendor section runs past the end
BAD_SEGMENT = GOOD.split(".")[0] + "." + b64([(2, 3), (500, 16), (0, 1)])   # allowed vendors: 500 bits missing


def run(*args):
    return CliRunner().invoke(app, ["tcf", *args])


def test_decodes_core_and_optional_segments():
    r = run(GOOD, "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert (doc["decoded"], doc["rejected"]) == (1, 0)
    (s,) = doc["strings"]
    assert {k: s[k] for k in ("ok", "version", "created", "last_updated", "cmp_id", "cmp_version",
                              "vendor_list_version", "policy_version", "publisher_country", "consent_language",
                              "purposes_consent", "purposes_legitimate_interest", "special_features",
                              "vendors_consent", "vendors_legitimate_interest")} == {
        "ok": True, "version": 2, "created": "2025-03-01T12:00:00Z", "last_updated": "2025-06-02T08:30:00Z",
        "cmp_id": 300, "cmp_version": 7, "vendor_list_version": 187, "policy_version": 4,
        "publisher_country": "DE", "consent_language": "FR", "purposes_consent": [1, 3, 4],
        "purposes_legitimate_interest": [2, 7], "special_features": [1],
        "vendors_consent": [3, 4, 5, 40], "vendors_legitimate_interest": [9]}
    assert s["segments"] == {"disclosed_vendors": [10, 11, 12],
                             "publisher_tc": {"purposes_consent": [1, 2], "purposes_li": [],
                                              "custom_purposes_consent": [1], "custom_purposes_li": [2]}}


def test_a_file_one_string_per_line_corrupt_ones_rejected_with_one_line_reasons(tmp_path):
    f = tmp_path / "strings.txt"
    f.write_text("\n".join([GOOD, "", BACKWARDS, CUT, BAD_SEGMENT, GOOD[:10] + "*" + GOOD[11:]]) + "\n")
    r = run(str(f))
    assert r.exit_code == 1, r.output
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 6 and lines[-1] == "1 decoded, 4 rejected"
    assert lines[0].startswith("line 1: TCF v2, created 2025-03-01T12:00:00Z") and "publisher country DE" in lines[0]
    assert lines[1] == ("line 3: rejected (malformed): the vendor consent section: range 1 ends at vendor 5, "
                        "before its start 9")
    assert lines[2].startswith("line 4: rejected (truncated): the vendor consent section runs past the string's end")
    assert lines[3].startswith("line 5: rejected (truncated): the allowed-vendors segment runs past the string's end")
    assert lines[4] == ("line 6: rejected (not_base64url): segment 1: character '*' at position 11 is not "
                        "base64url (A-Z a-z 0-9 - _)")
    doc = json.loads(run(str(f), "--json").stdout)
    assert [(s["line"], s["ok"], s.get("error")) for s in doc["strings"]] == [
        (1, True, None), (3, False, "malformed"), (4, False, "truncated"), (5, False, "truncated"),
        (6, False, "not_base64url")]


def test_the_check_decoder_rejects_the_same_strings():
    """One decoder: the tcf_strings check (decode without `full`) sees the same errors."""
    assert tcf.decode(GOOD).error is None
    assert [tcf.decode(s).error for s in (BACKWARDS, CUT, BAD_SEGMENT)] == ["malformed", "truncated", "truncated"]


def test_a_missing_file_is_a_one_line_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pledgecheck.cli", "tcf", "nope.txt"], capture_output=True, text=True,
                       cwd=tmp_path)
    assert r.returncode == 2 and "nope.txt: no such file" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
