"""What the analyst notebooks call, so that the notebooks stay thin.

A notebook opens a `Session` with its parameters, then asks it for polars DataFrames of
compact results (one row per pledge, per month, per histogram bin, per pseudonymized offender)
and for plain-language explanations that cite each pledge's id and quote. Trend queries over the
staged export (e.g. the request backlog week by week) run in DuckDB and arrive as polars via
Arrow; they return counts only. Nothing here returns a raw personal row: offenders are the
salted pseudonyms of `PledgeResult.offenders`.

Two ways to open a session:
- interactively: `open_session(policy, export_dir, as_of, salt)` ingests and checks the export
  in a scratch DuckDB file removed with the session (generating the bundled sample first when
  it is missing);
- from `pledgecheck report`: `results=` (the run's results.json) and `staged=` (the run's DuckDB
  file, opened read-only) make every notebook show the very numbers and pseudonyms of that run.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from . import paths, verdict
from .duration import Duration
from .checks import get as get_check
from .checks import record_id, used_params
from .policy import Pledge, Policy, load_policy, resolve_policy
from .scheduled import read_history, to_polars

SAMPLE_DIR = paths.sample_dir()

# notebook family -> (title, pledge kinds it covers)
FAMILIES: dict[str, tuple[str, frozenset[str]]] = {
    "retention": ("Retention, erasure and backups", frozenset({"retention", "erasure"})),
    "consent": ("Consent and opt-outs", frozenset({"consent"})),
    "request_slas": ("Deadlines: data-subject requests and incidents",
                     frozenset({"request_deadline", "incident_deadline"})),
    "anonymization": ("Anonymization, minimization, security and sharing",
                      frozenset({"anonymization", "minimization", "security", "sharing"})),
}
STATUS_WORDS = {s: verdict.label(s).capitalize() for s in verdict.STATUSES}
# one row per pledge: the result columns (verdict.COLUMNS)
SCALARS = tuple(verdict.COLUMNS)
SCALAR_SCHEMA = {c: {"str": pl.String, "int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean}[t]
                 for c, t in verdict.COLUMNS.items()}


def verdict_total(s: dict) -> int:
    return s.get("total", sum(s.get(k, 0) for k in verdict.COUNTED))


def verdict_counts(s: dict) -> str:
    """'12 kept, 3 broken, ...': every count of a summary, adding up to its total."""
    return ", ".join(f"{s.get(k, 0)} {verdict.label(k)}" for k in verdict.COUNTED)


def family_of(kind: str) -> str | None:
    for name, (_, kinds) in FAMILIES.items():
        if kind in kinds:
            return name
    return None




def ensure_export(export_dir: str | Path, policy: Policy, as_of: date, accounts: int = 1000, seed: int = 1) -> Path:
    """The export folder; generated with pledgecheck.synth.generate when it is missing or empty."""
    export = Path(export_dir)
    if export.is_dir() and any(export.iterdir()):
        return export
    try:
        from .synth.generate import generate_world
        from .synth.realism import plausible
    except ImportError:
        raise FileNotFoundError(
            f"{export}: no export here, and pledgecheck.synth.generate is not available to create one; point "
            f"export_dir at an export folder") from None
    # the sample is a plausible month, as `make demo` writes it (pledgecheck.realism)
    generate_world(export, policy, seed=seed, accounts=accounts, as_of=as_of, **plausible(policy, seed))
    return export


@dataclass
class Session:
    policy: Policy
    as_of: date
    doc: dict
    con: duckdb.DuckDBPyConnection | None
    source: str
    history_path: Path | None = None

    # ---------------------------------------------------------- pledges
    def pledge(self, pid: str) -> dict:
        for p in self.doc["pledges"]:
            if p["pledge_id"] == pid:
                return p
        raise KeyError(pid)

    def family(self, name: str | None) -> list[dict]:
        """Pledge result dicts of a notebook family (None: all), in policy order."""
        if name is None:
            return list(self.doc["pledges"])
        kinds = FAMILIES[name][1]
        return [p for p in self.doc["pledges"] if p["kind"] in kinds]

    def pledges(self, family: str | None = None) -> pl.DataFrame:
        """One row per pledge: status, counts, rates, section and quote."""
        rows = [{k: p.get(k) for k in SCALARS} for p in self.family(family)]
        return pl.DataFrame(rows, schema=SCALAR_SCHEMA)

    def definition(self, pid: str) -> Pledge | None:
        try:
            return self.policy.pledge(pid)
        except KeyError:
            return None

    def rendered(self, d: Pledge):
        """The check of pledge `d` over the staged export, rendered as the run rendered it."""
        from .checks import render
        from .contract import load_contract

        present = {r["table"] for r in self.doc["ingest"] if r["present"]}
        return render(d, load_contract(), self.as_of, present)

    def ingestion(self) -> pl.DataFrame:
        rows = [{k: r[k] for k in ("table", "files", "rows_read", "rows_loaded", "rows_quarantined")}
                for r in self.doc["ingest"] if r["files"] or r["error"]]
        df = pl.DataFrame(rows, schema={"table": pl.String, "files": pl.Int64, "rows_read": pl.Int64,
                                        "rows_loaded": pl.Int64, "rows_quarantined": pl.Int64})
        return df.with_columns(
            (pl.col("rows_read") == pl.col("rows_loaded") + pl.col("rows_quarantined")).alias("reconciles"),
            pl.when(pl.col("rows_read") > 0).then(pl.col("rows_quarantined") / pl.col("rows_read"))
            .otherwise(0.0).alias("quarantine_share"))

    # ---------------------------------------------------------- aggregates for charts
    def ranked(self, family: str | None = None, checks: set[str] | None = None, top: int | None = None) -> list[dict]:
        """Checked pledges, the worst first: broken before kept, critical before warning, then by
        records in breach and by population; the first `top` of them (all when None)."""
        found = [p for p in self.family(family) if p["status"] in verdict.MEASURED
                 and (not checks or p["check"] in checks)]
        found.sort(key=lambda p: (p["status"] != "broken", p["severity"] != "critical", -(p["violations"] or 0),
                                  -(p["population"] or 0), p["pledge_id"]))
        return found[:top] if top else found

    def histograms(self, family: str | None = None, checks: set[str] | None = None,
                   top: int | None = None) -> pl.DataFrame:
        """The measure histograms (e.g. days past due) of checked pledges, long format; with
        `top`, only the worst `top` pledges that have one (see `ranked`)."""
        rows = []
        with_histogram = [p for p in self.ranked(family, checks) if p.get("histogram")]
        chosen = {p["pledge_id"] for p in (with_histogram[:top] if top else with_histogram)}
        for p in self.family(family):
            if p["pledge_id"] not in chosen:
                continue
            for h in p.get("histogram") or []:
                rows.append({"pledge_id": p["pledge_id"], "check": p["check"], "from": h["bin_start"],
                             "to": h["bin_start"] + h["bin_width"], "violations": h["violations"],
                             "others": h["others"]})
        return pl.DataFrame(rows, schema={"pledge_id": pl.String, "check": pl.String, "from": pl.Float64,
                                          "to": pl.Float64, "violations": pl.Int64, "others": pl.Int64})

    def by_period(self, family: str | None = None, checks: set[str] | None = None) -> pl.DataFrame:
        """Monthly population and violations per pledge, with the share keeping the pledge and,
        for consent pledges, the consent purpose."""
        rows = []
        for p in self.family(family):
            if checks and p["check"] not in checks:
                continue
            d = self.definition(p["pledge_id"])
            purpose = getattr(d.params, "purpose", None) if d is not None else None
            table = getattr(d.params, "table", None) if d is not None else None
            for r in p.get("by_period") or []:
                rows.append({"pledge_id": p["pledge_id"], "purpose": purpose, "table": table,
                             "period": date.fromisoformat(r["period"]), "population": r["population"],
                             "violations": r["violations"]})
        df = pl.DataFrame(rows, schema={"pledge_id": pl.String, "purpose": pl.String, "table": pl.String,
                                        "period": pl.Date, "population": pl.Int64, "violations": pl.Int64})
        return df.with_columns(
            pl.when(pl.col("population") > 0).then(1 - pl.col("violations") / pl.col("population"))
            .otherwise(None).alias("kept_share"))

    def consent_by_purpose(self, family: str = "consent") -> pl.DataFrame:
        """Consent coverage per purpose and month, summed over the consent pledges of that
        purpose (an event checked by two pledges counts twice)."""
        return (self.by_period(family, {"consent_coverage"})
                .group_by("purpose", "period")
                .agg(pl.col("population").sum(), pl.col("violations").sum(), pl.len().alias("pledges"))
                .with_columns(pl.when(pl.col("population") > 0)
                              .then(1 - pl.col("violations") / pl.col("population")).otherwise(None)
                              .alias("kept_share"))
                .sort("purpose", "period"))

    def by_segment(self, family: str | None = None, checks: set[str] | None = None) -> pl.DataFrame:
        rows = []
        for p in self.family(family):
            if checks and p["check"] not in checks:
                continue
            for r in p.get("by_segment") or []:
                rows.append({"pledge_id": p["pledge_id"], "segment": r["segment"], "population": r["population"],
                             "violations": r["violations"]})
        df = pl.DataFrame(rows, schema={"pledge_id": pl.String, "segment": pl.String, "population": pl.Int64,
                                        "violations": pl.Int64})
        return df.with_columns(
            pl.when(pl.col("population") > 0).then(pl.col("violations") / pl.col("population"))
            .otherwise(0.0).alias("rate"))

    def deadline_lines(self, family: str = "request_slas") -> pl.DataFrame:
        """Each deadline pledge's limit (and extended limit) in days, for rules over the SLA
        distribution. Calendar months/years and business days have no fixed length in days:
        those lines are approximate and labelled so."""
        rows = []
        for p in self.family(family):
            d = self.definition(p["pledge_id"])
            if d is None or d.check != "deadline":
                continue
            prm = d.params
            rows.append(_line(p["pledge_id"], "deadline", prm.limit))
            if prm.extension:
                rows.append(_line(p["pledge_id"], "with extension", _extended(prm.limit, prm.extension.by)))
        return pl.DataFrame(rows, schema={"pledge_id": pl.String, "line": pl.String, "days": pl.Float64,
                                          "exact": pl.Boolean})

    def offenders(self, family: str | None = None, limit: int = 25, top: int | None = None) -> pl.DataFrame:
        """Salted pseudonyms of the most severe offenders per broken pledge (from the results);
        with `top`, of the worst `top` broken pledges only."""
        rows = []
        for p in self.ranked(family, top=None):
            if top is not None and len({r["pledge_id"] for r in rows}) >= top:
                break
            for rank, o in enumerate((p.get("offenders") or [])[:limit], start=1):
                rows.append({"pledge_id": p["pledge_id"], "rank": rank, "pseudonym": o["pseudonym"],
                             "violations": o["violations"], "worst": o["worst"]})
        return pl.DataFrame(rows, schema={"pledge_id": pl.String, "rank": pl.Int64, "pseudonym": pl.String,
                                          "violations": pl.Int64, "worst": pl.Float64})

    def kanon(self, family: str = "anonymization") -> pl.DataFrame:
        """k-anonymity pledges: k, shared cells, cells below k, per recipient (segment)."""
        rows = []
        for p in self.family(family):
            d = self.definition(p["pledge_id"])
            if p["check"] != "k_anonymity" or d is None:
                continue
            for s in p.get("by_segment") or [{"segment": "all", "population": p["population"],
                                               "violations": p["violations"]}]:
                rows.append({"pledge_id": p["pledge_id"], "k": d.params.k, "recipient": s["segment"],
                             "cells": s["population"], "cells_below_k": s["violations"]})
        return pl.DataFrame(rows, schema={"pledge_id": pl.String, "k": pl.Int64, "recipient": pl.String,
                                          "cells": pl.Int64, "cells_below_k": pl.Int64})

    def kanon_sizes(self, family: str = "anonymization", top: int | None = None) -> pl.DataFrame:
        """Per k-anonymity pledge: shared cells by the number of people they describe (1, 2, ...,
        sizes from 3k up in one bucket), computed from the check's own evaluation rows."""
        schema = {"pledge_id": pl.String, "k": pl.Int64, "size": pl.Int64, "label": pl.String, "cells": pl.Int64,
                  "below_k": pl.Boolean}
        if self.con is None:
            return pl.DataFrame(schema=schema)
        frames = []
        for p in self.ranked(family, {"k_anonymity"}, top):
            d = self.definition(p["pledge_id"])
            if d is None or d.check != "k_anonymity":
                continue
            k, cap = d.params.k, 3 * d.params.k
            rendered = self.rendered(d)
            sql = (f"WITH ev AS ({rendered.sql}) "
                   "SELECT least(CAST(measure AS BIGINT), $ka_cap) AS size, count(*) AS cells FROM ev "
                   "WHERE outcome <> 'unknown' AND measure IS NOT NULL GROUP BY 1 ORDER BY 1")
            df = to_polars(self.con.sql(sql, params=used_params({**rendered.params, "ka_cap": cap}, sql)))
            frames.append(df.with_columns(
                pl.lit(p["pledge_id"]).alias("pledge_id"), pl.lit(k).alias("k"),
                pl.when(pl.col("size") >= cap).then(pl.lit(f"{cap}+")).otherwise(pl.col("size").cast(pl.String))
                .alias("label"), (pl.col("size") < k).alias("below_k")))
        if not frames:
            return pl.DataFrame(schema=schema)
        return pl.concat(frames).select(list(schema)).cast(schema)

    def request_backlog(self, weeks: int = 26, family: str = "request_slas", top: int | None = None) -> pl.DataFrame:
        """Week by week up to the as-of date, per deadline pledge: requests open within their
        deadline and open past it (overdue), using each record's due date as the check computes
        it. On the as-of date the numbers equal the check's open + due_soon and overdue counts.
        Needs the staged export (an interactive session, or `staged=` from the report)."""
        schema = {"pledge_id": pl.String, "week": pl.Date, "open_within": pl.Int64, "overdue": pl.Int64}
        if self.con is None:
            return pl.DataFrame(schema=schema)
        from .contract import load_contract

        contract = load_contract()
        frames = []
        start = self.as_of - timedelta(weeks=weeks)
        for p in self.ranked(family, {"deadline"}, top):
            d = self.definition(p["pledge_id"])
            if d is None or d.check != "deadline":
                continue
            t = contract.table(d.params.table)
            rendered = self.rendered(d)
            sql = (f"WITH ev AS ({rendered.sql}), "
                   f"src AS (SELECT {record_id(t)} AS record_id, {t.anchors[d.params.start]} AS start_at, "
                   f"{t.anchors[d.params.end]} AS end_at FROM {_q(t.name)}), "
                   "r AS (SELECT ev.due, src.start_at, src.end_at FROM ev JOIN src USING (record_id) "
                   "      WHERE ev.outcome <> 'unknown'), "
                   "w AS (SELECT CAST(unnest(generate_series(CAST($bl_start AS DATE), CAST($as_of AS DATE), "
                   "      INTERVAL 7 DAY)) AS DATE) AS week) "
                   "SELECT w.week, "
                   "  count(r.start_at) FILTER (WHERE r.due >= w.week) AS open_within, "
                   "  count(r.start_at) FILTER (WHERE r.due < w.week) AS overdue "
                   "FROM w LEFT JOIN r ON CAST(r.start_at AS DATE) <= w.week "
                   "  AND (r.end_at IS NULL OR r.end_at >= CAST(w.week AS TIMESTAMP)) "
                   "GROUP BY w.week ORDER BY w.week")
            # weeks counted back from the as-of date, so the last point is the as-of date itself
            params = {**rendered.params, "as_of": self.as_of, "bl_start": start + timedelta(days=(self.as_of - start).days % 7)}
            df = to_polars(self.con.sql(sql, params=used_params(params, sql)))
            frames.append(df.with_columns(pl.lit(p["pledge_id"]).alias("pledge_id")))
        if not frames:
            return pl.DataFrame(schema=schema)
        return pl.concat(frames).select(list(schema)).cast(schema)

    # ---------------------------------------------------------- history across scheduled runs
    def history(self) -> pl.DataFrame:
        """One row per (as-of date, pledge) of the scheduled runs so far (empty when none)."""
        return read_history(self.history_path) if self.history_path else read_history(Path(".missing"))

    # ---------------------------------------------------------- words
    def header(self) -> str:
        m, s = self.doc["meta"], self.doc["summary"]
        return (f"**{m['policy_name']}** ({m.get('company') or 'company not named'}), policy version "
                f"{m.get('policy_version') or 'unknown'}, checked as of **{m['as_of']}** ({self.source}).\n\n"
                f"Of {verdict_total(s)} pledges, {verdict_counts(s)}; {len(s['critical_broken'])} critical "
                "pledges are broken" + (f" ({_some(s['critical_broken'])})." if s["critical_broken"] else "."))

    def explain(self, p: dict | str) -> str:
        """Markdown: the pledge in the policy's words, then what was measured, in plain language."""
        if isinstance(p, str):
            p = self.pledge(p)
        d = self.definition(p["pledge_id"])
        head = (f"#### `{p['pledge_id']}` \u2014 {STATUS_WORDS.get(p['status'], p['status'])} "
                f"({p['severity']})\n\n> \u201c{p['quote']}\u201d \u2014 *{p['section']}*\n\n")
        if not p.get("effective", True):
            head += f"Not in force: the stricter pledge `{p.get('superseded_by')}` applies instead.\n\n"
        if p["status"] in verdict.UNCHECKED:
            return head + f"Could not be measured: {p.get('message') or 'no result'}."
        return head + describe(p, d)


def describe(p: dict, d: Pledge | None) -> str:
    """One paragraph: what the numbers mean (counts and rates only), in the check kind's words."""
    if p["population"] == 0:
        return "No record is in scope on the as-of date, so there is nothing that could break the pledge."
    return get_check(p["check"]).describe(p, d.params if d is not None else None)


def _some(ids: list[str], n: int = 5) -> str:
    return ", ".join(f"`{i}`" for i in ids[:n]) + (f" and {len(ids) - n} more" if len(ids) > n else "")


def _q(ident: str) -> str:
    from .engine import q

    return q(ident)


def _line(pid: str, what: str, d: Duration) -> dict:
    exact = d.unit in ("days", "hours")
    days = nominal_days(d)
    return {"pledge_id": pid, "line": f"{what}: {d}" + ("" if exact or d.unit == "days" else f" (\u2248{days:.0f} days)"),
            "days": days, "exact": exact}


def nominal_days(d: Duration) -> float:
    """A duration in days for drawing (calendar months/years and business days approximated)."""
    return {"days": 1.0, "hours": 1 / 24, "months": 30.44, "years": 365.25, "business_days": 7 / 5}[d.unit] * d.amount


def _extended(limit: Duration, by: Duration) -> Duration:
    if limit.unit == by.unit:
        return Duration(**{limit.unit: limit.amount + by.amount})
    return Duration(days=round(nominal_days(limit) + nominal_days(by)))


def open_session(policy: str = "lustmonster", export_dir: str | Path = SAMPLE_DIR, as_of: str | date = "2026-11-01",
                 salt: str | None = None, results: str | Path | None = None, staged: str | Path | None = None,
                 history: str | Path | None = None, engine: str | None = None,
                 spark_master: str | None = None) -> Session:
    """Check the export (or load a scheduled run's results), ready for the notebook's views.

    `engine="spark"` checks the export on Spark (`spark_master`, default local[2])."""
    day = as_of if isinstance(as_of, date) else date.fromisoformat(str(as_of))
    pol = load_policy(resolve_policy(policy))
    hist = Path(history) if history else paths.reports_dir() / pol.id / "history.parquet"
    if results:
        doc = json.loads(Path(results).read_text(encoding="utf-8"))
        if doc["meta"]["policy"] != pol.id or doc["meta"]["as_of"] != day.isoformat():
            raise ValueError(f"{results} is the run of {doc['meta']['policy']} as of {doc['meta']['as_of']}, "
                             f"not {pol.id} as of {day}")
        con = _open_staged(Path(staged), pol, day) if staged else None
        return Session(pol, day, doc, con, f"results of the scheduled run, {Path(results).name}", hist)
    from .pipeline import check_export, salt_from

    export = ensure_export(export_dir, pol, day)
    s, _ = salt_from(salt)
    run = check_export(pol, export, day, s, engine=engine or "duckdb", spark_master=spark_master)
    return Session(pol, day, run.document(), run.con, f"export {Path(export).name}, checked now", hist)


def _open_staged(path: Path, pol: Policy, as_of: date) -> duckdb.DuckDBPyConnection:
    """The scheduled run's staged DuckDB file, read-only (its check macros are in the file;
    the business-day calendars are temporary, so they are loaded again)."""
    from .calendars import load_business_days
    from .engine import connect

    con = connect(path, read_only=True)
    cals = sorted({pl_.params.calendar for pl_ in pol.pledges if getattr(pl_.params, "calendar", None)}
                  | ({pol.policy.calendar} - {None}))
    if cals:
        load_business_days(con, cals, as_of.year + 3)
    return con


def draw(chart, empty: str = "Nothing to draw: no record in scope.") -> None:
    """Display an Altair chart, or say why there is none.

    The output carries the interactive chart (HTML, shown in a trusted notebook) and a static
    PNG rendered offline with vl-convert, which JupyterLab shows for untrusted notebooks (an
    executed report notebook opened later) and which needs no network. JupyterLab 4.6 has no
    renderer for Vega-Lite 6 specs, so the Vega-Lite mimetype alone would show nothing."""
    if chart is None:
        show(f"*{empty}*")
        return
    try:
        from IPython.display import display
    except ImportError:  # pragma: no cover - outside Jupyter
        print(chart.to_json())
        return
    display(mimebundle(chart), raw=True)


_DRAWN = [0]  # charts drawn in this kernel, so two identical charts get distinct element names


def mimebundle(chart) -> dict:
    import base64

    import hashlib
    import re

    bundle = chart._repr_mimebundle_()
    bundle = dict(bundle[0] if isinstance(bundle, tuple) else bundle)
    if isinstance(bundle.get("text/html"), str):
        # Altair names the chart's element after a random UUID; a digit run in it can look like
        # a card number to the leak scanner and makes outputs differ run to run: name it after
        # the chart's own spec instead (letters only, deterministic)
        _DRAWN[0] += 1
        key = hashlib.sha256(f"{_DRAWN[0]}:{chart.to_json()}".encode()).hexdigest()
        name = "altair-viz-" + "".join(chr(ord("a") + int(c, 16) % 26) for c in key[:24])
        bundle["text/html"] = re.sub(r"altair-viz-[0-9a-f]{32}", name, bundle["text/html"])
    title = getattr(chart, "title", None)
    bundle["text/plain"] = f"<{type(chart).__name__}{': ' + str(title) if isinstance(title, str) else ''}>"
    try:
        import vl_convert as vlc

        png = vlc.vegalite_to_png(chart.to_json(), scale=1, allowed_base_urls=[])
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
    except Exception:  # noqa: BLE001 - the interactive chart still shows
        pass
    return bundle


def show(markdown: str) -> None:
    """Display Markdown in a notebook (prints it elsewhere)."""
    try:
        from IPython.display import Markdown, display

        display(Markdown(markdown))
    except ImportError:  # pragma: no cover - outside Jupyter
        print(markdown)
