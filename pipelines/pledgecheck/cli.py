"""The `pledgecheck` command line.

Exit codes: 0 every effective critical pledge kept; 1 a critical pledge is broken;
2 bad input (policy file, export folder, arguments); 3 a critical pledge could not be checked.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from typer.core import TyperGroup
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import paths
from .errors import PledgecheckError
from .verdict import BROKEN, MAX_QUARANTINE, SUPERSEDED, UNCHECKED

DEVELOPER_COMMANDS = ("contract-doc", "sync-headers", "expectations")   # for maintainers of pledgecheck itself


class _Help(TyperGroup):
    """Top-level help: each command's whole first paragraph (never cut at '...'), the
    developer commands in a section of their own."""

    def format_commands(self, ctx, formatter) -> None:
        groups: dict[bool, list[tuple[str, str]]] = {False: [], True: []}
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                groups[name in DEVELOPER_COMMANDS].append((name, cmd.get_short_help_str(limit=10_000)))
        for dev, title in ((False, "Commands"), (True, "Developer commands (maintaining pledgecheck)")):
            if groups[dev]:
                with formatter.section(title):
                    formatter.write_dl(groups[dev])


app = typer.Typer(cls=_Help, add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_enable=False,
                  help="Check a company's exported data against the pledges of its privacy policy.")
console = Console(stderr=True, soft_wrap=True)   # one line per message, also in a scheduler's log
out = Console()

ROOT = paths.project_dir()
SAMPLE_DIR = paths.sample_dir()
REPORTS_DIR = paths.reports_dir()
DEFAULT_AS_OF = date(2026, 11, 1)

# Options shared by run, validate and report (one definition each)
PolicyOpt = Annotated[str, typer.Option(help="policy id (policies/<id>.yaml) or a YAML path")]
ExportOpt = Annotated[Path, typer.Option(help="export folder (required)")]
AsOfOpt = Annotated[str, typer.Option(help="as-of date YYYY-MM-DD")]
RunAsOfOpt = Annotated[Optional[str], typer.Option(help="as-of date YYYY-MM-DD (default: today, UTC)")]
MaxQuarantineOpt = Annotated[float, typer.Option(
    min=0.0, max=1.0, help="largest share of a table's rows that may be unreadable (quarantined); above it the "
                           "run exits 2, its verdicts resting on a damaged export")]
OutOpt = Annotated[Path, typer.Option("--out", help="report root; the run goes to <out>/<policy>/<as-of>/")]
SaltOpt = Annotated[Optional[str], typer.Option(help="pseudonym salt (default: $PLEDGECHECK_SALT, else random)")]
DbOpt = Annotated[Optional[str], typer.Option(
    help="DuckDB file for the staged data, kept after the run (default: a scratch file in $TMPDIR, removed at "
         "the end; ':memory:' stages in memory, for small exports only)")]
EngineOpt = Annotated[str, typer.Option(help="query engine: duckdb, or spark (needs the `spark` extra and Java; "
                                             "docs/SPARK.md)")]
MasterOpt = Annotated[str, typer.Option(help="Spark master with --engine spark: local[N], spark://host:7077, "
                                             "yarn, k8s://...")]


def _date(text: str | None) -> date:
    if text is None:
        from datetime import datetime, timezone

        return datetime.now(timezone.utc).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; write YYYY-MM-DD") from None


def _progress() -> Progress | _LogProgress:
    """A live progress bar on a terminal; under a scheduler (no terminal) plain timestamped
    lines on stderr, at most one per 30 s per stage plus each stage's end."""
    if not console.is_terminal:
        return _LogProgress()
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


class _LogProgress:
    EVERY = 30.0

    def __init__(self) -> None:
        import time

        self._clock = time.monotonic
        self._t0 = self._clock()
        self.tasks: dict[int, dict] = {}
        self._last: int | None = None

    def __enter__(self) -> _LogProgress:
        return self

    def __exit__(self, *exc) -> None:
        for t in self.tasks.values():
            if t["done"] and t["last_printed"] != t["done"]:
                self._line(t)

    def add_task(self, description: str, total: int | None = None) -> int:
        tid = len(self.tasks)
        self.tasks[tid] = {"description": description, "total": total, "done": 0, "at": self._clock(),
                           "last_printed": 0}
        return tid

    def update(self, task: int, advance: int = 0, description: str | None = None, **_) -> None:
        t = self.tasks[task]
        last = self.tasks.get(self._last) if self._last is not None else None
        if last is not None and self._last != task and last["done"] != last["last_printed"]:
            self._line(last)  # a stage ended: say how far it got
        self._last = task
        t["done"] += advance
        if description:
            t["description"] = description
        if self._clock() - t["at"] >= self.EVERY or (t["total"] and t["done"] == t["total"]):
            self._line(t)

    def _line(self, t: dict) -> None:
        from datetime import datetime, timezone

        of = f"/{t['total']}" if t["total"] else ""
        print(f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ} +{self._clock() - self._t0:.0f}s "
              f"{t['done']}{of} {t['description']}", file=sys.stderr, flush=True)
        t["at"], t["last_printed"] = self._clock(), t["done"]


def _policy_and_salt(policy: str, salt: str | None):
    """The policy and the pseudonym salt of a run (with a note when the salt is random)."""
    from .pipeline import salt_from
    from .policy import load_policy, resolve_policy

    s, given = salt_from(salt)
    if not given:
        console.print("[yellow]note[/yellow] no --salt or $PLEDGECHECK_SALT: pseudonyms use a random salt and "
                      "will not match other runs")
    return load_policy(resolve_policy(policy)), s


@contextmanager
def _run_progress(pledges: int, steps: int | None = None, labels: dict[str, str] | None = None):
    """Progress of a run: ingestion, checks and (optionally) `steps` later steps. Yields the
    `progress(stage, what)` callback the pipeline calls."""
    with _progress() as prog:
        tasks = {"ingest": prog.add_task("ingesting", total=None),
                 "check": prog.add_task("checking pledges", total=pledges)}
        if steps is not None:
            tasks["steps"] = prog.add_task("validation, notebooks, run folder", total=steps)

        def tick(stage: str, what: str) -> None:
            if stage == "prepare":   # an engine evaluating checks ahead (Spark): what it is on
                prog.update(tasks["check"], description=what)
            elif stage in ("ingest", "check"):
                prog.update(tasks[stage], advance=1,
                            description=f"{'ingested' if stage == 'ingest' else 'checked'} {what}")
            else:  # a later step starts
                prog.update(tasks["steps"], advance=1, description=f"{(labels or {}).get(stage, stage)} {what}")

        yield tick


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="folder to write the export into")] = SAMPLE_DIR,
    policy: Annotated[str, typer.Option(help="policy id or YAML path the violations are planted against")] = "lustmonster",
    seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 1,
    accounts: Annotated[int, typer.Option(help="number of customer accounts")] = 1000,
    events: Annotated[Optional[int], typer.Option(help="web access-log events (default 20 x accounts)")] = None,
    as_of: AsOfOpt = DEFAULT_AS_OF.isoformat(),
    fmt: Annotated[str, typer.Option("--format", help="parquet | csv | jsonl | mixed")] = "parquet",
    access_log: Annotated[str, typer.Option(help="table | combined (Apache/Nginx log lines)")] = "table",
    workers: Annotated[int, typer.Option(min=1, help="shards built at once in worker processes (same files)")] = 1,
    truth: Annotated[bool, typer.Option(help="compute the ground truth into manifest.json (--no-truth: about "
                                             "40% faster, for benchmark worlds)")] = True,
    plausible: Annotated[bool, typer.Option(help="a plausible month (the demo sample): violations planted in about "
                                                 "a fifth of the pledges, a few empty registers, a few unreadable "
                                                 "rows; default: violations for every pledge")] = False,
) -> None:
    """Write a synthetic export folder with planted violations and its ground-truth manifest."""
    from .synth.generate import generate_world
    from .policy import load_policy, resolve_policy

    pol = load_policy(resolve_policy(policy))
    if plausible:
        from .synth.realism import plausible as plausible_options

        extra = plausible_options(pol, seed)
    else:
        extra = {}
    with _progress() as prog:
        task = prog.add_task("generating", total=None)
        manifest = generate_world(out_dir, pol, seed=seed, accounts=accounts, events=events, as_of=_date(as_of),
                                  fmt=fmt, access_log_format=access_log, workers=workers, truth=truth,
                                  progress=lambda t, n: prog.update(task, description=f"generating {t}", advance=1),
                                  **extra)
    total = sum(manifest["tables"].values())
    known = (f"{len(manifest['expected'])} pledges with known truth" if manifest["expected"] is not None
             else "no ground truth (--no-truth)")
    console.print(f"wrote {total:,} rows in {len(manifest['tables'])} tables to {escape(str(out_dir))} (manifest.json: {known})")


@app.command("ingest")
def ingest_cmd(
    export: Annotated[Path, typer.Argument(help="export folder")],
    db: Annotated[Path, typer.Option(help="DuckDB file to load into (kept; holds the quarantine)")] = Path("pledgecheck.duckdb"),
) -> None:
    """Load an export folder into DuckDB and print the reconciliation (read = loaded + quarantined)."""
    from .engine import connect
    from .ingest import ingest, require_tables

    con = connect(db)
    with _progress() as prog:
        task = prog.add_task("ingesting", total=None)
        rep = ingest(con, export, progress=lambda t, n: prog.update(task, description=f"ingested {t}"))
    require_tables(rep)
    _print_ingest(rep)
    reasons = con.execute("SELECT table_name, regexp_replace(reason, ' \\(first seen.*', '') AS r, count(*) "
                          "FROM quarantine GROUP BY ALL ORDER BY 1, 3 DESC").fetchall()
    if reasons:
        t = Table(title="Quarantined rows by reason (rows stay in the database, table quarantine)")
        for c in ("table", "reason", "rows"):
            t.add_column(c)
        for tb, r, n in reasons[:40]:
            t.add_row(tb, r, f"{n:,}")
        out.print(t)
    if rep.errors:
        for tb, err in rep.errors.items():
            console.print(f"[red]error[/red] {escape(str(err))}")
        raise typer.Exit(2)


def _print_ingest(rep) -> None:
    t = Table(title=f"Ingestion of {rep.export_dir}")
    for c in ("table", "files", "read", "loaded", "quarantined"):
        t.add_column(c, justify="right" if c != "table" else "left")
    for r in rep.as_rows():
        if r["files"] or r["error"]:
            t.add_row(r["table"], str(r["files"]), f"{r['rows_read']:,}", f"{r['rows_loaded']:,}",
                      f"{r['rows_quarantined']:,}" if not r["error"] else "[red]error[/red]")
    out.print(t)


@app.command()
def run(
    policy: PolicyOpt,
    export: Annotated[str, typer.Option(help="export folder (required); with --engine spark also a URI the "
                                            "cluster reads (s3a://bucket/export, abfss://..., hdfs://...)")],
    as_of: RunAsOfOpt = None,
    out_dir: OutOpt = REPORTS_DIR,
    salt: SaltOpt = None,
    db: DbOpt = None,
    charts: Annotated[bool, typer.Option(help="render charts into the HTML report")] = True,
    engine: EngineOpt = "duckdb",
    spark_master: MasterOpt = "local[2]",
    max_quarantine: MaxQuarantineOpt = MAX_QUARANTINE,
) -> None:
    """Run every check of a policy over an export folder and write the dated report folder."""
    code = _run(policy, export, _date(as_of), out_dir, salt, db, charts, engine, spark_master, max_quarantine)
    raise typer.Exit(code)


def _run(policy: str, export: Path | str, as_of: date, out_dir: Path, salt: str | None, db: str | None, charts: bool,
         engine: str = "duckdb", spark_master: str = "local[2]", max_quarantine: float = MAX_QUARANTINE) -> int:
    from .pipeline import check_export, write_report

    pol, s = _policy_and_salt(policy, salt)
    _print_draft_todos(pol)
    with _run_progress(len(pol.pledges), steps=1, labels={"write": "rendering charts and writing the"}) as tick:
        result = check_export(pol, export, as_of, s, db, progress=tick, engine=engine, spark_master=spark_master,
                              max_quarantine=max_quarantine)
        folder = write_report(result, out_dir, charts=charts, progress=tick)
    print_summary(result.document(), folder)
    return result.summary.exit_code


def verdict_line(s: dict) -> str:
    """'N kept, N broken, N superseded, N not checked, N no data (of T pledges)': counts that add up."""
    from .verdict import COUNTED, label

    colours = {"kept": "green", "broken": "red", "not_checked": "yellow", "no_data": "yellow"}
    parts = []
    for k in COUNTED:
        text = f"{s.get(k, 0)} {label(k)}"
        parts.append(f"[{colours[k]}]{text}[/{colours[k]}]" if k in colours and s.get(k) else text)
    total = s.get("total", sum(s.get(k, 0) for k in COUNTED))
    return ", ".join(parts) + f" (of {total} pledges)"


def short_id(pid: str, policy: str) -> str:
    """A pledge id without its policy's prefix (the rest tells pledges apart)."""
    return pid[len(policy) + 1:] if pid.startswith(policy + ".") else pid


def print_summary(doc: dict, folder: Path | None = None) -> None:
    s, m = doc["summary"], doc["meta"]
    say = lambda text, **kw: out.print(text, soft_wrap=True, **kw)  # noqa: E731  (one line each, also in logs)
    say(f"[bold]{escape(m['policy_name'])}[/bold] as of {m['as_of']}: {verdict_line(s)}")
    qdoc = doc.get("quarantine") or {}
    for q in qdoc.get("lines", []):
        where = f" ({q['file']})" if q["file"] else ""
        say(f"[yellow]quarantined[/yellow] {q['rows']:,} row{'s' if q['rows'] != 1 else ''} of {q['table']}{escape(where)}: "
                  f"{escape(q['reason'])}", highlight=False)
    touched = [p for p in doc["pledges"] if p.get("quarantined")]
    if touched:
        say(f"  {len(touched)} pledges read these tables: their verdict may change once the rows are fixed "
            "(report.html marks them)")
    for t in qdoc.get("exceeded", []):
        share = qdoc["tables"][t]["share"]
        say(f"[red]export damaged[/red] {t}: {share:.1%} of its rows could not be read, above "
                  f"--max-quarantine {qdoc['max_rate']:.1%}: the verdicts below may be wrong (exit 2)")
    broken = [p for p in doc["pledges"] if p["status"] == BROKEN]
    if broken:
        t = Table(show_edge=False)
        t.add_column("pledge", overflow="fold", ratio=1)
        for c in ("severity", "violations", "in scope", "rate"):
            t.add_column(c, justify="left" if c == "severity" else "right", no_wrap=True)
        for p in sorted(broken, key=lambda p: (p["severity"] != "critical", -(p["rate"] or 0), p["pledge_id"]))[:15]:
            lost = " *" if p.get("quarantined") else ""
            t.add_row(escape(short_id(p["pledge_id"], m["policy"])) + lost, p["severity"], f"{p['violations']:,}",
                      f"{p['population']:,}", f"{100 * (p['rate'] or 0):.2f}%")
        out.print(t)
        if len(broken) > 15:
            out.print(f"... and {len(broken) - 15} more broken pledges (report.html lists them all)")
        if any(p.get("quarantined") for p in broken):
            out.print("* some rows of its tables could not be read: the verdict may change")
    for p in doc["pledges"]:
        if p["status"] in UNCHECKED:
            say(f"[yellow]{p['status'].replace('_', ' ')}[/yellow] {escape(short_id(p['pledge_id'], m['policy']))}: "
                      f"{escape(str(p['message']))}", highlight=False)
    sup = [p for p in doc["pledges"] if p["status"] == SUPERSEDED]
    if sup:
        say(f"{len(sup)} superseded by a stricter pledge of the same policy (report.html names the winners)"
                  + (": " + ", ".join(f"{short_id(p['pledge_id'], m['policy'])} by "
                                      f"{short_id(p['superseded_by'] or '', m['policy'])}" for p in sup)
                     if len(sup) <= 3 else ""), highlight=False)
    if folder:
        say(f"report: {escape(str(folder / 'report.html'))}", highlight=False)


@app.command()
def summary(folder: Annotated[Path, typer.Argument(help="a run folder (<out>/<policy>/<as-of>)")]) -> None:
    """Print the one-screen summary of a finished run."""
    from .results import load_results

    try:
        doc = load_results(folder)
    except OSError:
        console.print(f"[red]error[/red] {escape(str(folder))}: no results.json (is this a run folder?)")
        raise typer.Exit(2)
    print_summary(doc, folder)
    raise typer.Exit(doc["summary"]["exit_code"])


@app.command()
def lint(
    policies: Annotated[Optional[list[str]], typer.Argument(help="policy ids or YAML paths (default: all bundled)")] = None,
    strict: Annotated[bool, typer.Option(help="exit 1 when a contradiction or orphan is found")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document on stdout")] = False,
) -> None:
    """Check policy files: schema, contradictions, refinements, overlaps, unreachable rules, orphan checks."""
    from .lint import lint_policy, orphans
    from .policy import load_all_bundled, load_policy, resolve_policy

    pols = [load_policy(resolve_policy(p)) for p in policies] if policies else load_all_bundled()
    n = 0
    doc: dict = {"policies": [], "orphans": []}
    for pol in pols:
        findings = lint_policy(pol)
        doc["policies"].append({"policy": pol.id, "pledges": len(pol.pledges),
                                "unverifiable": len(pol.unverifiable),
                                "todo": {p.id: p.todo for p in pol.pledges if p.todo},
                                "findings": [f.to_dict() for f in findings]})
        if not as_json:
            out.print(f"[bold]{pol.id}[/bold]: {len(pol.pledges)} pledges, {len(pol.unverifiable)} unverifiable "
                      f"promises, {len(findings)} findings")
            _print_draft_todos(pol)
            for f in findings:
                print(f.render())
        n += sum(f.kind in ("contradiction", "orphan") for f in findings)
    if not policies:
        orph = orphans(pols)
        doc["orphans"] = [f.to_dict() for f in orph]
        if not as_json:
            for f in orph:
                print(f.render())
        n += len(orph)
    _emit(doc, as_json)
    raise typer.Exit(1 if strict and n else 0)


@app.command()
def demo(
    policy: Annotated[str, typer.Option(help="policy to check")] = "lustmonster",
    as_of: AsOfOpt = DEFAULT_AS_OF.isoformat(),
    out_dir: Annotated[Path, typer.Option("--out")] = REPORTS_DIR,
) -> None:
    """Quick start: generate the bundled sample (if missing), check it, write and summarize the report."""
    from .synth.realism import ensure_sample

    if ensure_sample(SAMPLE_DIR, DEFAULT_AS_OF):
        console.print(f"generated the sample export in {SAMPLE_DIR}")
    code = _run(policy, SAMPLE_DIR, _date(as_of), out_dir, None, None, True)
    console.print("(the sample is a plausible month: violations are planted in about a fifth of the pledges; "
                  f"exit code {code} is what a scheduler would see)")
    raise typer.Exit(0)


@app.command()
def policies() -> None:
    """List the bundled policies: id, company, pledges, the promises no export can verify."""
    from .policy import load_all_bundled

    t = Table(title="Bundled policies (use the id with --policy, or give a YAML path of your own)")
    t.add_column("id", no_wrap=True)
    t.add_column("policy", overflow="fold", ratio=1)
    for c in ("version", "pledges", "unverifiable"):
        t.add_column(c, justify="right", no_wrap=True)
    for pol in load_all_bundled():
        t.add_row(pol.id, escape(pol.policy.name + (f" ({pol.policy.company})" if pol.policy.company else "")),
                  escape(str(pol.policy.version or "-")), str(len(pol.pledges)), str(len(pol.unverifiable)))
    out.print(t)


@app.command("contract-doc")
def contract_doc(
    target: Annotated[Path, typer.Argument(help="where to write the page")] = ROOT / "data" / "CONTRACT.md",
) -> None:
    """Regenerate data/CONTRACT.md from the export contract."""
    from .contract_doc import render_contract

    target.write_text(render_contract(), encoding="utf-8")
    console.print(f"wrote {target}")


@app.command("sync-headers")
def sync_headers_cmd() -> None:
    """Rewrite the `-- verifies:` header of every SQL check from the bundled policies."""
    from .lint import sync_headers
    from .policy import load_all_bundled

    changed = sync_headers(load_all_bundled())
    console.print(f"updated: {', '.join(changed) or 'nothing'}")


def _emit(doc: dict, as_json: bool) -> None:
    import json

    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")


@app.command()
def scan(
    path: Annotated[Path, typer.Argument(help="file or folder (CSV, Parquet, JSON Lines, text, logs, HTML, notebooks)")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document on stdout")] = False,
    names_from: Annotated[Optional[Path], typer.Option(help="also look for the names in this accounts export")] = None,
) -> None:
    """Scan for personal data: full card numbers, e-mail addresses (people's, and software's
    contact addresses in User-Agents), full IP addresses. Exit 1 if found."""
    from .adhoc import scan_path

    names = _names_from(names_from) if names_from else None
    doc = scan_path(path, names=names)
    total = sum(doc["counts"].values())
    if as_json:
        _emit(doc, True)
    else:
        out.print(f"scanned {doc['files_scanned']} files ({doc['bytes_scanned'] / 1e6:,.1f} MB): {total:,} findings "
                  + ", ".join(f"{k} {v:,} ({doc['distinct'][k]:,} distinct)" for k, v in doc["counts"].items()),
                  markup=False, highlight=False, soft_wrap=True)
        for x in doc["findings"][:200]:
            where = f"line {x['line']}" if x["line"] else f"row {x['row']}"
            col = f", column {x['column']}" if x["column"] else ""
            out.print(f"  {x['file']}: {where}{col}: {x['kind']} {x['masked']}", markup=False, highlight=False,
                      soft_wrap=True)
        if total > 200:
            listed = min(len(doc["findings"]), 200)
            out.print(f"  ... {total - listed:,} more" + (" (use --json for the first "
                      f"{len(doc['findings']):,})" if len(doc["findings"]) > 200 else ""), markup=False)
    raise typer.Exit(1 if total else 0)


def _names_from(path: Path) -> set[str]:
    import duckdb

    from .adhoc import _relation

    con = duckdb.connect()
    try:
        rows = con.execute(f"SELECT DISTINCT name FROM {_relation(path)} WHERE name IS NOT NULL").fetchall()
    except duckdb.Error as e:
        raise PledgecheckError(f"{path}: cannot read names ({str(e).splitlines()[0]})") from None
    return {r[0] for r in rows}


# ---------------------------------------------------------------- tcf (issue #24)
@app.command()
def tcf(
    source: Annotated[str, typer.Argument(help="a TC string, or a text file with one TC string per line")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document on stdout")] = False,
) -> None:
    """Decode IAB TCF v2 consent strings (core and optional segments). Exit 1 if one is rejected."""
    from .tcf import decode, describe

    path = Path(source)
    if path.is_file():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise PledgecheckError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
        items = [(n, text.strip()) for n, text in enumerate(lines, start=1) if text.strip()]
    elif "/" in source or source.endswith((".txt", ".csv", ".log")):
        raise PledgecheckError(f"{source}: no such file (and a TC string has no '/')")
    else:
        items = [(None, source.strip())]
    docs = [{"line": n, **describe(decode(text, full=True))} for n, text in items]
    rejected = sum(not d["ok"] for d in docs)
    if as_json:
        _emit({"strings": docs, "decoded": len(docs) - rejected, "rejected": rejected}, True)
    else:
        for d in docs:
            out.print(_tcf_line(d), markup=False, highlight=False, soft_wrap=True)   # one line each
        if len(docs) > 1:
            out.print(f"{len(docs) - rejected} decoded, {rejected} rejected", markup=False, highlight=False)
    raise typer.Exit(1 if rejected else 0)


def _tcf_line(d: dict) -> str:
    where = f"line {d['line']}: " if d["line"] else ""
    if not d["ok"]:
        return f"{where}rejected ({d['error']}): {d['reason']}"
    ids = lambda xs: f"{len(xs)} ({', '.join(map(str, xs[:20]))}{', ...' if len(xs) > 20 else ''})"  # noqa: E731
    seg = "; ".join(f"{k} {ids(v) if isinstance(v, list) else v}" for k, v in d["segments"].items())
    return (f"{where}TCF v{d['version']}, created {d['created']}, last updated {d['last_updated']}, "
            f"CMP {d['cmp_id']} v{d['cmp_version']}, vendor list {d['vendor_list_version']}, "
            f"policy {d['policy_version']}, publisher country {d['publisher_country']}; "
            f"purposes consented {d['purposes_consent']}, by legitimate interest "
            f"{d['purposes_legitimate_interest']}; vendors consented {ids(d['vendors_consent'])}, by legitimate "
            f"interest {ids(d['vendors_legitimate_interest'])}"
            + (f"; publisher restrictions {len(d['publisher_restrictions'])}" if d["publisher_restrictions"] else "")
            + (f"; segments: {seg}" if seg else ""))


@app.command()
def kanon(
    path: Annotated[Path, typer.Argument(help="table to be shared (CSV, Parquet or JSON Lines)")],
    qi: Annotated[str, typer.Option(help="quasi-identifier columns, comma-separated")],
    sensitive: Annotated[Optional[str], typer.Option(help="sensitive columns, comma-separated (for l-diversity)")] = None,
    k: Annotated[Optional[int], typer.Option(help="list the classes smaller than k")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document on stdout")] = False,
) -> None:
    """k-anonymity and l-diversity of a table before it is shared. Exit 1 if k is below --k."""
    from .adhoc import k_anonymity

    split = lambda s: [c.strip() for c in s.split(",") if c.strip()]  # noqa: E731
    doc = k_anonymity(path, split(qi), split(sensitive) if sensitive else None, k)
    if as_json:
        _emit(doc, True)
    else:
        out.print(f"{escape(str(doc['file']))}: {doc['rows']:,} rows, {doc['equivalence_classes']:,} equivalence classes on "
                  f"{escape(', '.join(doc['quasi_identifiers']))}")
        out.print(f"k = {doc['k']}" + (f", l = {doc['l']}" if doc["l"] is not None else "")
                  + f"; {doc['unique_rows']:,} rows are unique on the quasi-identifiers")
        if k:
            out.print(f"{len(doc['classes_below_threshold'])} classes below k = {k}"
                      + (" (first 100)" if len(doc["classes_below_threshold"]) == 100 else ""))
            for c in doc["classes_below_threshold"][:20]:
                out.print(f"  size {c['size']}: {c['values']}", markup=False, highlight=False)
    raise typer.Exit(1 if k and doc["k"] is not None and doc["k"] < k else 0)


@app.command()
def deadline(
    received: Annotated[str, typer.Option(help="date the request was received, YYYY-MM-DD")],
    verified: Annotated[Optional[str], typer.Option(help="identity verification date")] = None,
    extension_notice: Annotated[Optional[str], typer.Option(help="date the person was told of an extension")] = None,
    jurisdiction: Annotated[Optional[str], typer.Option(help="EU, UK, US-CA or OTHER (filters policy pledges)")] = None,
    calendar: Annotated[Optional[str], typer.Option(help="holiday calendar for business days, e.g. US-CA, LU")] = None,
    policy: Annotated[Optional[str], typer.Option(help="also the company's own promises from this policy")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document on stdout")] = False,
) -> None:
    """Due dates of a data-subject request under every regime (GDPR, UK, CCPA, the policy's own)."""
    from .adhoc import deadlines, parse_day
    from .policy import load_policy, resolve_policy

    pol = load_policy(resolve_policy(policy)) if policy else None
    doc = deadlines(parse_day(received, "received"), parse_day(verified, "verified"),
                    parse_day(extension_notice, "extension-notice"), jurisdiction, calendar, pol)
    if as_json:
        _emit(doc, True)
        return
    t = Table(title=f"Request received {doc['received']}")
    t.add_column("regime or pledge", overflow="fold", ratio=1)   # whole names, folded: never two alike
    for c in ("clock starts", "due", "extended due", "extended"):
        t.add_column(c, no_wrap=True)
    for name, r in doc["regimes"].items():
        t.add_row(escape(short_id(name, pol.id) if pol else name), r["start"] or "not started", r["due"] or "-",
                  r["extended_due"] or "-", "yes" if r["extension_applies"] else "no")
    out.print(t)


# run, validate and report take the same export options: typer declares a command's options in its
# signature, so the lists look alike (the option types themselves are defined once, above)
@app.command("validate")
def validate_cmd(
    policy: PolicyOpt,
    export: ExportOpt,
    as_of: RunAsOfOpt = None,
    out_dir: OutOpt = REPORTS_DIR,
    salt: SaltOpt = None,
    db: DbOpt = None,
    max_quarantine: MaxQuarantineOpt = MAX_QUARANTINE,
) -> None:
    """Run the checks, write the run folder, and validate it with the Great Expectations suites
    generated from the pledges (Data Docs in <run folder>/data_docs/index.html).
    Exit 1 when a critical expectation fails, 0 otherwise."""
    from .pipeline import check_export
    from .validation import write_validated_run

    pol, s = _policy_and_salt(policy, salt)
    labels = {"validate": "validating with", "write": "rendering charts and writing the"}
    with _run_progress(len(pol.pledges), steps=2, labels=labels) as tick:
        result = check_export(pol, export, _date(as_of), s, db, progress=tick, max_quarantine=max_quarantine)
        tick("validate", "Great Expectations")
        folder, outcome = write_validated_run(result, out_dir, progress=tick)
    print_summary(result.document(), folder)
    for sev in ("critical", "warning"):
        failed = [r for r in outcome.failures if r["severity"] == sev]
        out.print(f"expectations ({sev}): " + ("[green]all passed[/green]" if not failed else
                  f"[red]{len(failed)} failed[/red]: " + ", ".join(sorted({r['pledge_id'] or r['assertion']
                                                                           for r in failed}))))
    out.print(f"data docs: {outcome.data_docs / 'index.html'}")
    raise typer.Exit(2 if result.summary.exit_code == 2 else outcome.exit_code)


@app.command("expectations")
def expectations_cmd(
    check: Annotated[bool, typer.Option("--check", help="only report stale files; exit 1 if any")] = False,
) -> None:
    """Regenerate expectations/<policy>.json (GX suites) from the bundled policies."""
    from .policy import load_all_bundled
    from .validation import EXPECTATIONS_DIR, expectations_path, render_expectations, write_expectations

    pols = load_all_bundled()
    if check:
        stale = [p.id for p in pols if not expectations_path(p.id).exists()
                 or expectations_path(p.id).read_text(encoding="utf-8") != render_expectations(p)]
        out.print(f"stale: {', '.join(stale)} (run `pledgecheck expectations`)" if stale else "up to date")
        raise typer.Exit(1 if stale else 0)
    changed = write_expectations(pols)
    console.print(f"{EXPECTATIONS_DIR}: {len(pols)} policies; changed: "
                  + (", ".join(p.name for p in changed) or "nothing"))


@app.command("report")
def report_cmd(
    policy: PolicyOpt,
    export: ExportOpt,
    as_of: RunAsOfOpt = None,
    out_dir: OutOpt = REPORTS_DIR,
    salt: SaltOpt = None,
    notebooks: Annotated[Path, typer.Option(help="folder of the notebooks to execute")] = paths.notebooks_dir(),
    validate: Annotated[bool, typer.Option(help="also validate with Great Expectations (data_docs/)")] = True,
    max_quarantine: MaxQuarantineOpt = MAX_QUARANTINE,
) -> None:
    """The scheduled run: check once, execute every notebook with papermill, write the dated folder
    atomically (executed notebooks, report.html, results.json/.parquet, validation, Data Docs) and
    append the run to <out>/<policy>/history.parquet.
    Exit codes as for `run`; 4 when a notebook failed (its executed copy shows the error)."""
    from .scheduled import notebooks as list_notebooks
    from .scheduled import scheduled_report

    pol, s = _policy_and_salt(policy, salt)
    n_nb = len(list_notebooks(notebooks))
    labels = {"validate": "validating with", "notebook": "executing", "write": "rendering charts and writing the"}
    with _run_progress(len(pol.pledges), steps=int(validate) + n_nb + 1, labels=labels) as tick:
        outcome = scheduled_report(policy, export, _date(as_of), out_dir, s, notebooks_dir=notebooks,
                                   validate=validate, progress=tick, max_quarantine=max_quarantine)
    print_summary(outcome.doc, outcome.folder)
    out.print(f"notebooks: {len(outcome.notebooks)} executed into {outcome.folder / 'notebooks'}; "
              f"history: {outcome.history}")
    if outcome.validation is not None:
        v = outcome.validation
        out.print("expectations: " + ", ".join(f"{k} {'passed' if ok else 'FAILED'}" for k, ok in v.passed.items())
                  + f"; data docs: {outcome.folder / 'data_docs' / 'index.html'}")
    for err in outcome.notebook_errors:
        console.print(f"[red]notebook failed[/red] {escape(str(err))}", markup=True, highlight=False)
    raise typer.Exit(outcome.exit_code)


# ---------------------------------------------------------------- draft (issue #25)
def _print_draft_todos(pol) -> None:
    """A drafted policy whose todos are not all resolved says so (lint and run)."""
    from .draft import todo_count

    n = todo_count(pol)
    if n:
        console.print(f"[yellow]draft: {n} TODOs[/yellow] in {sum(bool(p.todo) for p in pol.pledges)} pledges of "
                      f"{escape(pol.id)}: the drafter's best candidates are used until you review them "
                      "(the `todo:` lines of the policy file)")


@app.command()
def draft(
    policy_text: Annotated[Path, typer.Argument(help="the privacy policy as plain text, Markdown or HTML")],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="write the draft policy YAML here "
                                                   "(default: print it)")] = None,
    policy_id: Annotated[Optional[str], typer.Option("--id", help="policy id (default: from the file name)")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="text | markdown | html (default: guessed)")] = None,
) -> None:
    """Draft the pledges of a policy from its text: periods, deadlines, ages, limits, negative pledges,
    each with its quote and section; what could not be decided is listed under `todo:`."""
    from .draft import draft_file

    if fmt not in (None, "text", "markdown", "html"):
        raise typer.BadParameter(f"--format {fmt!r}: use text, markdown or html")
    doc, rendered = draft_file(policy_text, output, policy_id, None if fmt in (None, "text") else fmt)
    todos = sum(len(p.get("todo", [])) for p in doc["pledges"])
    if output is None:
        print(rendered, end="")
    console.print(f"{len(doc['pledges'])} pledges ({todos} TODOs to review), {len(doc['unverifiable'])} "
                  f"unverifiable promises" + (f" -> {escape(str(output))}" if output else ""))
    if output is not None:
        console.print(f"next: review the TODOs, then `pledgecheck lint {escape(str(output))}`")


def main() -> None:
    from .engine import exit_if_stopped, stoppable

    with stoppable():   # SIGTERM / Ctrl-C: interrupt the query, remove the scratch folders, exit 143 / 130
        try:
            app()
        except PledgecheckError as e:
            exit_if_stopped()   # (an error the interruption caused is no error of the command)
            console.print(f"[red]error[/red] {escape(str(e))}", markup=True, highlight=False)
            sys.exit(2)


if __name__ == "__main__":
    main()
