"""Altair charts over check results (aggregates only: never personal rows).

Every function takes result dictionaries (see runner.PledgeResult.to_dict) and returns an
Altair chart; `svg()` renders one offline with vl-convert for the HTML report.
"""
from __future__ import annotations

from functools import lru_cache

import altair as alt
import polars as pl

from . import verdict

COLORS = {"broken": "#cf222e", "error": "#6e7781", "not_checked": "#9a6700", "no_data": "#54aeff",
          "superseded": "#afb8c1", "kept": "#1a7f37"}
STATUS_COLORS = alt.Scale(domain=[verdict.label(s) for s in verdict.STATUSES],
                          range=[COLORS[s] for s in verdict.STATUSES])
WIDTH = 360        # plot width of report charts (px): with labels and legend they fit a 1100 px column, and
LABEL_LIMIT = 200  # scroll inside their own box on a phone rather than shrink to unreadable text


def measure_label(check: str) -> str:
    """The unit of a check's `measure` (its `measure_label`), for axis titles."""
    from .checks import registry

    kind = registry().get(check)
    return (kind.measure_label if kind is not None else None) or "measure"


def svg(chart: alt.TopLevelMixin) -> str:
    """Render offline to SVG (identical specs, e.g. of overlapping pledges, render once)."""
    return _svg_of(chart.to_json(validate=False))


@lru_cache(maxsize=512)
def _svg_of(spec: str) -> str:
    import vl_convert as vlc

    if _accepts_http_flag():
        return vlc.vegalite_to_svg(spec, allow_http_access=False)
    return vlc.vegalite_to_svg(spec)


def _accepts_http_flag() -> bool:
    import inspect

    import vl_convert as vlc

    try:
        return "allow_http_access" in inspect.signature(vlc.vegalite_to_svg).parameters
    except (TypeError, ValueError):
        return False


def status_overview(pledges: list[dict]) -> alt.Chart:
    """Pledges per kind, coloured by status."""
    df = pl.DataFrame([{"kind": p["kind"], "status": verdict.label(p["status"])} for p in pledges])
    agg = df.group_by("kind", "status").len("pledges").sort("kind", "status")   # same bytes every run
    return (alt.Chart(agg.to_pandas()).mark_bar()
            .encode(y=alt.Y("kind:N", title=None, sort="-x"), x=alt.X("pledges:Q", title="pledges"),
                    color=alt.Color("status:N", scale=STATUS_COLORS, title="status",
                                    legend=alt.Legend(orient="right")),
                    tooltip=["kind", "status", "pledges"])
            .properties(width=WIDTH, height=max(80, 26 * agg["kind"].n_unique()), title="Pledges by kind and status"))


def violation_rates(pledges: list[dict]) -> alt.Chart:
    """Violation rate per broken pledge (log-free bar chart)."""
    rows = [{"pledge": p["pledge_id"].split(".", 1)[-1], "rate": p["rate"] or 0.0, "violations": p["violations"],
             "severity": p["severity"]} for p in pledges if p["status"] == "broken" and p.get("effective", True)]
    df = pl.DataFrame(rows, schema={"pledge": pl.String, "rate": pl.Float64, "violations": pl.Int64,
                                    "severity": pl.String})
    return (alt.Chart(df.to_pandas()).mark_bar()
            .encode(y=alt.Y("pledge:N", sort="-x", title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
                    x=alt.X("rate:Q", axis=alt.Axis(format="%", labelOverlap="greedy", tickCount=5),
                            title="violation rate"),
                    color=alt.Color("severity:N", scale=alt.Scale(domain=["critical", "warning"],
                                                                  range=["#cf222e", "#d4a72c"])),
                    tooltip=["pledge", "violations", alt.Tooltip("rate:Q", format=".2%")])
            .properties(width=WIDTH, height=max(60, 20 * len(rows)), title="Broken pledges: share of records in breach"))


def distribution(p: dict) -> alt.Chart | None:
    """Histogram of the check's measure (e.g. days past due), violations highlighted."""
    if not p.get("histogram"):
        return None
    rows = []
    for h in p["histogram"]:
        for label, key in (("in breach", "violations"), ("compliant", "others")):
            if h[key]:
                rows.append({"from": h["bin_start"], "to": h["bin_start"] + h["bin_width"], "records": h[key],
                             "outcome": label})
    if not rows:
        return None
    df = pl.DataFrame(rows).to_pandas()
    return (alt.Chart(df).mark_bar()
            .encode(x=alt.X("from:Q", bin="binned", title=measure_label(p["check"]),
                            axis=alt.Axis(labelOverlap="greedy", labelAngle=0, tickCount=6, labelFlush=True)),
                    x2="to:Q", y=alt.Y("records:Q", stack=True, axis=alt.Axis(labelOverlap="greedy", tickMinStep=1)),
                    color=alt.Color("outcome:N", scale=alt.Scale(domain=["in breach", "compliant"],
                                                                 range=["#cf222e", "#8c959f"]),
                                    legend=alt.Legend(orient="right", title=None, labelLimit=LABEL_LIMIT)),
                    tooltip=["from", "to", "records", "outcome"])
            .properties(width=WIDTH, height=160, title="Distribution"))


def over_time(p: dict) -> alt.Chart | None:
    """Monthly share of records that keep the pledge (coverage for consent pledges)."""
    periods = p.get("by_period") or []
    if len(periods) < 2:
        return None
    df = pl.DataFrame(periods).with_columns(
        pl.col("period").str.to_date(),
        (1 - pl.col("violations") / pl.col("population")).alias("kept_share"))
    return (alt.Chart(df.to_pandas()).mark_line(point=True)
            .encode(x=alt.X("yearmonth(period):T", title="month",
                            axis=alt.Axis(format="%b %Y", labelAngle=-40, labelOverlap="greedy")),
                    y=alt.Y("kept_share:Q", axis=alt.Axis(format="%"), title="records keeping the pledge",
                            scale=alt.Scale(zero=False)),
                    color=alt.value("#1a7f37"),
                    tooltip=[alt.Tooltip("yearmonth(period):T", format="%B %Y", title="month"), "population",
                             "violations"])
            .properties(width=WIDTH, height=160, title="By month: share of records keeping the pledge"))


def by_segment(p: dict) -> alt.Chart | None:
    segs = p.get("by_segment") or []
    if len(segs) < 2:
        return None
    df = pl.DataFrame(segs).with_columns((pl.col("violations") / pl.col("population")).fill_nan(0).alias("rate"))
    return (alt.Chart(df.to_pandas()).mark_bar()
            .encode(y=alt.Y("segment:N", title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
                    x=alt.X("rate:Q", axis=alt.Axis(format="%", labelOverlap="greedy"), title="violation rate"),
                    tooltip=["segment", "population", "violations"])
            .properties(width=WIDTH, height=max(60, 18 * len(segs)), title="By segment"))


def pledge_chart(p: dict) -> alt.TopLevelMixin | None:
    if p["status"] not in verdict.MEASURED or not p["population"]:
        return None
    from .checks import registry

    kind = registry().get(p["check"])
    names = kind.report_charts if kind is not None else ("distribution",)
    draw = {"over_time": over_time, "distribution": distribution, "by_segment": by_segment}
    parts = [c for c in (draw[n](p) for n in names) if c is not None]
    if not parts:
        return None
    # each chart with its own legend, beside it (a shared legend sat by the first chart)
    return alt.vconcat(*parts).resolve_scale(color="independent") if len(parts) > 1 else parts[0]


# room around a rendered chart: vl-convert measures text with its own font, a browser's may be wider
PADDING = {"left": 48, "right": 24, "top": 4, "bottom": 4}


def pledge_svg(p: dict) -> str | None:
    if p["status"] != verdict.BROKEN:
        return None
    chart = pledge_chart(p)
    return svg(chart.properties(padding=PADDING)) if chart is not None else None


def overview_svg(doc: dict) -> str:
    return svg(alt.vconcat(status_overview(doc["pledges"]), violation_rates(doc["pledges"]))
               .resolve_scale(color="independent").properties(padding=PADDING))
