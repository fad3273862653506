"""The self-contained HTML report a DPO can forward (first screen: kept vs broken)."""
from __future__ import annotations

from importlib import resources

import jinja2

MAX_DETAIL_CHARTS = 30
_STATUS_ORDER = {"broken": 0, "error": 1, "not_checked": 2, "kept": 3}
_SEV_ORDER = {"critical": 0, "warning": 1}


def render_html(doc: dict, charts: bool = True) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    tpl = env.from_string(resources.files("pledgecheck").joinpath("templates/report.html.j2").read_text("utf-8"))
    pledges = sorted(doc["pledges"], key=lambda p: (not p["effective"], _STATUS_ORDER.get(p["status"], 9),
                                                    _SEV_ORDER.get(p["severity"], 9), p["pledge_id"]))
    chart_svgs: dict[str, str] = {}
    overview = None
    if charts:
        from .charts import overview_svg, pledge_svg

        overview = overview_svg(doc)
        # detail charts for the most severe broken pledges (sorted above); every number is
        # also in the text and in results.json, and the notebooks chart any pledge
        from concurrent.futures import ThreadPoolExecutor

        todo = [p for p in pledges if p["status"] == "broken" and p["effective"]][:MAX_DETAIL_CHARTS]
        with ThreadPoolExecutor(max_workers=2) as pool:
            for p, svg in zip(todo, pool.map(pledge_svg, todo)):
                if svg:
                    chart_svgs[p["pledge_id"]] = svg
    return tpl.render(meta=doc["meta"], summary=doc["summary"], pledges_sorted=pledges,
                      unverifiable=doc["unverifiable"], ingest=doc["ingest"],
                      contradictions=[f for f in doc["lint"] if f["kind"] == "contradiction"],
                      charts=chart_svgs, overview_chart=overview, metrics=doc.get("metrics") or {})
