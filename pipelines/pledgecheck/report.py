"""The self-contained HTML report a DPO can forward. Its first screen: the verdict, counts per
status that add up to the policy's pledges, rows lost to quarantine, and the most severe broken
pledges in the policy's own words."""
from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources

import jinja2

from . import verdict

TOP_BROKEN = 5   # broken pledges named on the first screen
_SEV_ORDER = {"critical": 0, "warning": 1}


def order(p: dict) -> tuple:
    """Report order: by status (verdict.ORDER: broken first), critical first, then the worst rate."""
    return (verdict.ORDER.get(p["status"], 99), _SEV_ORDER.get(p["severity"], 9), -(p.get("rate") or 0),
            p["pledge_id"])


def reader_note(text: str | None) -> str:
    """An internal note of a policy file ("NEEDS CONTRACT: ...") said for a privacy officer."""
    t = (text or "").strip()
    t = re.sub(r"^NEEDS CONTRACT:\s*", "The export holds no data for this: ", t)
    t = re.sub(r"\(see unverifiable, NEEDS\s+CONTRACT\)", "(listed below as not verifiable)", t)
    return t


def render_html(doc: dict, charts: bool = True, progress: Callable[[str, str], None] | None = None) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["reader_note"] = reader_note
    env.filters["label"] = verdict.label
    tpl = env.from_string(resources.files("pledgecheck").joinpath("templates/report.html.j2").read_text("utf-8"))
    pledges = sorted(doc["pledges"], key=order)
    broken = [p for p in pledges if p["status"] == verdict.BROKEN]
    chart_svgs: dict[str, str] = {}
    overview = None
    if charts:
        from concurrent.futures import ThreadPoolExecutor

        from .charts import overview_svg, pledge_svg

        overview = overview_svg(doc)
        # every broken pledge gets its detail charts (the notebooks chart any pledge)
        with ThreadPoolExecutor(max_workers=2) as pool:
            for p, svg in zip(broken, pool.map(pledge_svg, broken)):
                if svg:
                    chart_svgs[p["pledge_id"]] = svg
    s = doc["summary"]
    counts = [(k, verdict.label(k), s.get(k, 0), verdict.STATUSES[k][1]) for k in verdict.COUNTED]
    missing = [t["table"] for t in doc["ingest"] if not t["files"] and not t["error"]]
    return tpl.render(meta=doc["meta"], summary=s, counts=counts, total=s.get("total", len(pledges)),
                      pledges_sorted=pledges, top_broken=broken[:TOP_BROKEN], broken_count=len(broken),
                      unverifiable=doc["unverifiable"], ingest=doc["ingest"], missing_tables=missing,
                      quarantine=doc.get("quarantine") or {"lines": [], "tables": {}, "exceeded": [], "max_rate": 0},
                      contradictions=[f for f in doc["lint"] if f["kind"] == "contradiction"],
                      charts=chart_svgs, overview_chart=overview, metrics=doc.get("metrics") or {})
