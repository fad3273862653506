"""Altair charts for the analyst notebooks, from the polars frames of `pledgecheck.notebook`.

Every input is an aggregate (counts per pledge, month, week, histogram bin, recipient) or a
list of salted pseudonyms; Altair embeds its data in the notebook, so nothing else may go in.
Each function returns None when there is nothing to draw, so a notebook cell can say so.
"""
from __future__ import annotations

import altair as alt
import polars as pl

from . import verdict
from .charts import STATUS_COLORS, measure_label

OUTCOME_COLORS = alt.Scale(domain=["in breach", "within the pledge"], range=["#cf222e", "#8c959f"])
BACKLOG_COLORS = alt.Scale(domain=["overdue", "open within the deadline"], range=["#cf222e", "#54aeff"])
WIDTH = 560


def _long_histogram(h: pl.DataFrame) -> pl.DataFrame:
    return (h.unpivot(index=["pledge_id", "from", "to"], on=["violations", "others"], variable_name="outcome",
                      value_name="records")
            .filter(pl.col("records") > 0)
            .with_columns(pl.col("outcome").replace({"violations": "in breach", "others": "within the pledge"})))


def histogram_panels(h: pl.DataFrame, x_title: str | dict[str, str], lines: pl.DataFrame | None = None,
                     title: str = "", y_title: str = "records") -> alt.TopLevelMixin | None:
    """One histogram per pledge (violations highlighted), with optional vertical rules
    (lines: pledge_id, line, days)."""
    if h.is_empty():
        return None
    panels = []
    for (pid,), part in h.group_by("pledge_id", maintain_order=True):
        data = _long_histogram(part)
        if data.is_empty():
            continue
        xt = x_title if isinstance(x_title, str) else x_title.get(pid, "measure")
        bars = (alt.Chart(data).mark_bar()
                .encode(x=alt.X("from:Q", bin="binned", title=xt), x2="to:Q",
                        y=alt.Y("records:Q", stack=True, title=y_title),
                        color=alt.Color("outcome:N", scale=OUTCOME_COLORS, title=None),
                        tooltip=["from", "to", "outcome", "records"]))
        layer = bars
        if lines is not None and not lines.is_empty():
            mine = lines.filter(pl.col("pledge_id") == pid)
            if not mine.is_empty():
                rules = alt.Chart(mine).mark_rule(strokeDash=[4, 3], color="#0969da", size=2).encode(
                    x="days:Q", tooltip=["line", alt.Tooltip("days:Q", format=".1f")])
                labels = alt.Chart(mine).mark_text(align="right", dx=-4, dy=-4, color="#0969da").encode(
                    x="days:Q", y=alt.value(8), text="line:N")
                layer = alt.layer(bars, rules, labels)
        panels.append(layer.properties(width=WIDTH, height=150, title=pid))
    if not panels:
        return None
    if len(panels) == 1:
        only = h["pledge_id"][0]
        return panels[0].properties(title=f"{title}: {only}" if title else only)
    return alt.vconcat(*panels, title=title)


def retention_past_due(h: pl.DataFrame) -> alt.TopLevelMixin | None:
    """Days past the end of the retention period, per pledge (records in breach vs exempt)."""
    labels = {pid: measure_label(chk)
              for pid, chk in h.select("pledge_id", "check").unique().iter_rows()} if not h.is_empty() else {}
    return histogram_panels(h, labels, title="How far past the promised period records are kept")


def coverage_over_time(by_period: pl.DataFrame) -> alt.Chart | None:
    """Monthly share of events covered by a valid consent, one line per purpose (from
    Session.consent_by_purpose), or one per pledge coloured by purpose (from Session.by_period)."""
    df = by_period.filter(pl.col("population") > 0)
    if df.is_empty():
        return None
    detail = ["pledge_id:N"] if "pledge_id" in df.columns else []
    tips = (["pledge_id"] if detail else []) + ["purpose"]
    return (alt.Chart(df).mark_line(point=True)
            .encode(x=alt.X("yearmonth(period):T", title="month of the event", axis=alt.Axis(format="%Y-%m")),
                    y=alt.Y("kept_share:Q", axis=alt.Axis(format="%"), title="covered by a valid consent",
                            scale=alt.Scale(zero=False)),
                    color=alt.Color("purpose:N", title="purpose"), detail=detail,
                    tooltip=[*tips, alt.Tooltip("period:T", format="%Y-%m"), "population",
                             "violations", alt.Tooltip("kept_share:Q", format=".2%")])
            .properties(width=WIDTH, height=220, title="Consent coverage by month and purpose"))


def sla_distribution(h: pl.DataFrame, lines: pl.DataFrame) -> alt.TopLevelMixin | None:
    """Days to respond per deadline pledge, with the deadline (and extension) as vertical lines."""
    return histogram_panels(h, "days to respond (open requests: days so far)", lines,
                            title="Time to respond against the promised deadline")


def backlog(bl: pl.DataFrame) -> alt.TopLevelMixin | None:
    """Open requests week by week: within the deadline and overdue (stacked), per pledge."""
    if bl.is_empty():
        return None
    data = (bl.rename({"open_within": "open within the deadline"})
            .unpivot(index=["pledge_id", "week"], on=["open within the deadline", "overdue"],
                     variable_name="state", value_name="requests"))
    return (alt.Chart(data).mark_area()
            .encode(x=alt.X("week:T", title="week"), y=alt.Y("requests:Q", stack=True, title="open requests"),
                    color=alt.Color("state:N", scale=BACKLOG_COLORS, title=None),
                    tooltip=["pledge_id", alt.Tooltip("week:T", format="%Y-%m-%d"), "state", "requests"])
            .properties(width=WIDTH, height=120)
            .facet(row=alt.Row("pledge_id:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
                   title="Request backlog: open and overdue, week by week"))


def kanon_sizes(sizes: pl.DataFrame) -> alt.TopLevelMixin | None:
    """Shared cells by the number of people they describe, cells below k in red, per pledge."""
    if sizes.is_empty():
        return None
    panels = []
    for (pid,), part in sizes.group_by("pledge_id", maintain_order=True):
        k = int(part["k"][0])
        data = part.with_columns(pl.when(pl.col("below_k")).then(pl.lit(f"fewer than k = {k}"))
                                 .otherwise(pl.lit("at least k")).alias("cell"))
        panels.append(alt.Chart(data).mark_bar().encode(
            x=alt.X("label:O", sort=alt.EncodingSortField("size"), title="people in the shared cell",
                    axis=alt.Axis(labelAngle=0)),
            y=alt.Y("cells:Q", title="shared cells (log scale)", scale=alt.Scale(type="symlog")),
            color=alt.Color("below_k:N", scale=alt.Scale(domain=[True, False], range=["#cf222e", "#8c959f"]),
                            legend=alt.Legend(title="below k", labelExpr="datum.value ? 'yes' : 'no'")),
            tooltip=["label", "cells", "cell"]).properties(width=WIDTH, height=150, title=f"{pid} (k = {k})"))
    return alt.vconcat(*panels, title="Shared cells by size (k-anonymity)") if len(panels) > 1 else \
        panels[0].properties(title=f"Shared cells by size: {sizes['pledge_id'][0]} (k = {int(sizes['k'][0])})")


def kanon_by_recipient(kanon: pl.DataFrame) -> alt.Chart | None:
    df = kanon.filter(pl.col("cells") > 0).with_columns((pl.col("cells_below_k") / pl.col("cells")).alias("share"))
    if df.is_empty():
        return None
    return (alt.Chart(df).mark_bar()
            .encode(y=alt.Y("recipient:N", title=None), x=alt.X("share:Q", axis=alt.Axis(format="%"),
                                                                 title="cells below k"),
                    color=alt.Color("pledge_id:N", title="pledge"),
                    tooltip=["pledge_id", "recipient", "cells", "cells_below_k", "k"])
            .properties(width=WIDTH, height=max(60, 22 * df["recipient"].n_unique()),
                        title="Share of shared cells below k, by recipient"))


def offenders(off: pl.DataFrame, pledge_id: str, measure_title: str = "worst measure") -> alt.Chart | None:
    """Pseudonymized offenders of one pledge: their worst measure and number of records in breach."""
    df = off.filter(pl.col("pledge_id") == pledge_id)
    if df.is_empty():
        return None
    return (alt.Chart(df).mark_bar(color="#cf222e")
            .encode(y=alt.Y("pseudonym:N", sort=alt.EncodingSortField("rank"), title="pseudonym"),
                    x=alt.X("worst:Q", title=measure_title),
                    tooltip=["pseudonym", "violations", "worst"])
            .properties(width=WIDTH, height=max(60, 16 * len(df)), title=f"{pledge_id}: offenders (pseudonymized)"))


def segments(seg: pl.DataFrame, title: str) -> alt.Chart | None:
    df = seg.filter(pl.col("population") > 0)
    if df.is_empty():
        return None
    return (alt.Chart(df).mark_bar()
            .encode(y=alt.Y("segment:N", title=None), x=alt.X("rate:Q", axis=alt.Axis(format="%"),
                                                               title="share in breach"),
                    color=alt.Color("pledge_id:N", title="pledge", legend=alt.Legend(labelLimit=400)),
                    yOffset="pledge_id:N",
                    tooltip=["pledge_id", "segment", "population", "violations", alt.Tooltip("rate:Q", format=".2%")])
            .properties(width=WIDTH, height=max(80, 18 * len(df)), title=title))


def history_status(hist: pl.DataFrame) -> alt.Chart | None:
    """Pledges kept / broken / not checked at each scheduled run."""
    if hist.is_empty():
        return None
    df = (hist.with_columns(pl.col("status").replace({s: verdict.label(s) for s in verdict.STATUSES}))
          .group_by("as_of", "status").len("pledges").sort("as_of")
          .with_columns(pl.col("as_of").dt.strftime("%Y-%m-%d").alias("run")))
    return (alt.Chart(df).mark_bar()
            .encode(x=alt.X("run:O", title="run (as-of date)", axis=alt.Axis(labelAngle=-45)),
                    y=alt.Y("pledges:Q", stack=True),
                    color=alt.Color("status:N", scale=STATUS_COLORS), tooltip=["run", "status", "pledges"])
            .properties(width=WIDTH, height=180, title="Pledges by status across runs"))


def history_violations(hist: pl.DataFrame) -> alt.Chart | None:
    """Violations over the runs for every pledge that was ever broken (log scale)."""
    if hist.is_empty():
        return None
    ever = hist.filter(pl.col("status") == "broken")["pledge_id"].unique()
    df = hist.filter(pl.col("pledge_id").is_in(ever.implode()) & pl.col("effective"))
    if df.is_empty():
        return None
    return (alt.Chart(df).mark_line(point=True)
            .encode(x=alt.X("as_of:T", title="run (as-of date)", axis=alt.Axis(format="%Y-%m-%d")),
                    y=alt.Y("violations:Q", scale=alt.Scale(type="symlog"), title="records in breach"),
                    color=alt.Color("pledge_id:N", title="pledge", legend=alt.Legend(columns=1, labelLimit=320)),
                    tooltip=["pledge_id", "as_of", "status", "violations", "population", "overdue"])
            .properties(width=WIDTH, height=260, title="Records in breach across runs"))
