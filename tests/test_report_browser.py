"""report.html as a reader sees it: rendered by headless Chromium (Debian's `chromium`) on a
desktop (1400 px) and a phone (390 px). No sideways scrolling, no console error, and the first
screen states the verdict counts and names the most severe broken pledges in the policy's own
words. Screenshots are kept in the test's temporary folder for people to look at.

Skipped when Chromium is missing, except in CI (PLEDGECHECK_REQUIRE_CHROMIUM=1, set by .ci/run,
which installs it)."""
from __future__ import annotations

import html as htmllib
import json
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from pledgecheck import verdict
from pledgecheck.synth import realism
from pledgecheck.synth.generate import generate_world
from pledgecheck.pipeline import check_export, write_report
from pledgecheck.policy import load_policy, policies_dir

AS_OF = date(2026, 11, 1)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENS = {"desktop": (1400, 900), "phone": (390, 844)}

# Recorded before anything else runs: console errors and uncaught errors; at load, the page's
# width against the window's and the text of every element on the first screen.
PROBE = """<script>
window.__errors = [];
const _err = console.error.bind(console);
console.error = (...a) => { window.__errors.push(a.map(String).join(' ')); _err(...a); };
window.addEventListener('error', e => window.__errors.push('error: ' + (e.message || e.target.src || e.target.href)), true);
window.addEventListener('load', () => {
  const h = window.innerHeight, seen = [];
  for (const el of document.body.querySelectorAll('h1,h2,p,li,div.tile,div.verdict,blockquote,span')) {
    const r = el.getBoundingClientRect();
    if (r.top >= 0 && r.bottom <= h && r.height > 0) seen.push(el.innerText);   // wholly on the first screen
  }
  const d = document.documentElement;
  (window.parent || window).document.title = 'PROBE' + JSON.stringify({scrollWidth: Math.max(d.scrollWidth, document.body.scrollWidth),
      innerWidth: window.innerWidth, errors: window.__errors, firstScreen: seen.join('\\n')});
});
</script>"""


def _framed(page_html: str, width: int, height: int) -> str:
    """The page inside an iframe of exactly `width` x `height` CSS px: headless Chromium will
    not open a window narrower than 500 px, and the frame is the viewport its media queries
    and layout see (srcdoc: same origin, so the probe can report to the outer page)."""
    return ("<!doctype html><html><head><title>harness</title></head><body style='margin:0'>"
            f"<iframe style='border:0;width:{width}px;height:{height}px;display:block' "
            f"srcdoc=\"{htmllib.escape(page_html, quote=True)}\"></iframe></body></html>")


def _chromium(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--no-first-run", "--disable-extensions", "--enable-logging=stderr", "--v=0",
                           *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if not CHROMIUM:
        if os.environ.get("PLEDGECHECK_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium is not installed (apt-get install chromium); CI requires it")
        pytest.skip("chromium is not installed")
    base = tmp_path_factory.mktemp("browser")
    policy = load_policy(policies_dir() / "lustmonster.yaml")
    generate_world(base / "export", policy, seed=1, accounts=400, as_of=AS_OF, **realism.plausible(policy))
    run = check_export(policy, base / "export", AS_OF, "browser-salt")
    folder = write_report(run, base / "out")
    return folder / "report.html", json.loads((folder / "results.json").read_text())


@pytest.mark.parametrize("screen", list(SCREENS))
def test_report_reads_on_any_screen(report, screen):
    page, doc = report
    width, height = SCREENS[screen]
    window = (max(width, 500), height)
    text = page.read_text(encoding="utf-8")
    probed = page.with_name(f"probe-{screen}.html")
    probed.write_text(_framed(text.replace("<head>", "<head>" + PROBE, 1), width, height), encoding="utf-8")
    r = _chromium(f"--window-size={window[0]},{window[1]}", "--virtual-time-budget=5000", "--dump-dom",
                  probed.as_uri())
    m = re.search(r"<title>PROBE(.*?)</title>", r.stdout, re.S)
    assert m, r.stderr[-2000:]
    probe = json.loads(htmllib.unescape(m.group(1)))
    shot = page.parent / f"screenshot-{screen}.png"
    for name, h in ((shot, height), (shot.with_name(shot.stem + "-long.png"), height * 4)):
        framed = page.with_name(f"frame-{screen}-{h}.html")
        framed.write_text(_framed(text, width, h), encoding="utf-8")
        _chromium(f"--window-size={window[0]},{h}", f"--screenshot={name}", framed.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000
    print(f"screenshots: {shot.parent}")

    assert probe["innerWidth"] == width
    assert probe["scrollWidth"] <= width, f"the page scrolls sideways: {probe['scrollWidth']} px wide at {width} px"
    console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln and ":ERROR:" in ln]
    assert not probe["errors"] and not console, (probe["errors"], console)

    first = " ".join(probe["firstScreen"].split())
    s = doc["summary"]
    for key in verdict.COUNTED:     # every count, and that they add up
        assert re.search(rf"\b{s[key]}\s+{verdict.label(key)}\b", first), (key, first[:800])
    assert f"= {s['total']} pledges" in first
    broken = sorted([p for p in doc["pledges"] if p["status"] == "broken"], key=lambda p: __import__(
        "pledgecheck.report", fromlist=["order"]).order(p))
    assert broken, "the sample must break something"
    shown = broken[:3] if screen == "desktop" else broken[:1]
    for p in shown:                 # in the policy's own words, with section, count and rate
        assert " ".join(p["quote"].split()) in first, (p["pledge_id"], first[:1500])
        assert p["section"] in first and f"{p['violations']:,} of {p['population']:,}" in first
        assert f"{100 * p['rate']:.2f}%" in first


def test_every_broken_pledge_gets_its_chart(tmp_path):
    """Before: detail charts stopped at 30 pledges (alphabetically: no retention pledge had one)."""
    from pledgecheck.charts import pledge_chart

    policy = load_policy(policies_dir() / "lustmonster.yaml")
    generate_world(tmp_path / "export", policy, seed=1, accounts=300, as_of=AS_OF)   # every pledge planted
    run = check_export(policy, tmp_path / "export", AS_OF, "salt")
    html = (write_report(run, tmp_path / "out") / "report.html").read_text(encoding="utf-8")
    doc = run.document()
    broken = [p for p in doc["pledges"] if p["status"] == "broken"]
    assert len(broken) > 30
    charted = [p for p in broken if pledge_chart(p) is not None]
    assert len(charted) > 30 and any(p["kind"] == "retention" for p in charted)
    cards = re.split(r'<div class="pledge" id="', html)[1:]
    by_id = {c.split('"', 1)[0]: c for c in cards}
    missing = [p["pledge_id"] for p in charted if "<svg" not in by_id[p["pledge_id"]]]
    assert not missing, missing
    order = [c.split('"', 1)[0] for c in cards]
    statuses = [next(p["status"] for p in doc["pledges"] if p["pledge_id"] == i) for i in order]
    assert statuses == sorted(statuses, key=lambda s: verdict.ORDER[s])   # broken first
