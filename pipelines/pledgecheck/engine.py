"""DuckDB connections, configured the same way everywhere (UTC, bounded memory)."""
from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


def connect(database: str | Path = ":memory:", *, memory_limit: str | None = None,
            threads: int | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC with a deliberate memory limit and a spill directory: beside
    a database file, or for an in-memory database a private temporary folder removed with the
    connection (DuckDB's default, `.tmp` in the current folder, would put spilled personal rows
    in the user's working folder)."""
    options = {"memory_limit": memory_limit, "threads": threads, "read_only": read_only}
    if str(database) == ":memory:":
        return _in_private_folder(lambda folder: _open(":memory:", folder / "spill", **options))
    return _open(database, Path(database).with_suffix(".tmp"), **options)


def connect_scratch(**kwargs) -> duckdb.DuckDBPyConnection:
    """A connection to a new DuckDB file in a private temporary folder (honours $TMPDIR),
    removed with everything in it when the connection is garbage-collected or the process
    exits.

    Staged exports live here rather than in memory: an in-memory database holds its tables
    uncompressed and, past the memory limit, spills and re-reads them on every query (at 100M
    events: 34 GB of spill files and 194 GB written before the run stalled), while a database
    file stores them compressed and reads them in place."""
    return _in_private_folder(lambda folder: _open(folder / "staged.duckdb", folder / "spill", **kwargs))


def _open(database: str | Path, spill: Path, *, memory_limit: str | None = None, threads: int | None = None,
          read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(database), read_only=read_only)
    _LIVE.add(con)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{_size(memory_limit or os.environ.get('PLEDGECHECK_MEMORY', '3GB'))}'")
    if threads or os.environ.get("PLEDGECHECK_THREADS"):
        con.execute(f"SET threads = {int(threads or os.environ['PLEDGECHECK_THREADS'])}")
    con.execute(f"SET temp_directory = '{_path(spill)}'")
    con.execute("SET preserve_insertion_order = true")
    # the project draws its own progress (CLI bar, scheduler log lines); DuckDB's bar for long
    # queries would print over it, and into captured stdout
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.InvalidInputException:
        pass  # in Jupyter without ipywidgets DuckDB refuses the setting, and draws no bar anyway
    return con


def _in_private_folder(open_: Callable[[Path], duckdb.DuckDBPyConnection]) -> duckdb.DuckDBPyConnection:
    """`open_(folder)` for a new private folder, removed with the connection it returns (or at
    once, if opening fails)."""
    folder = _private_folder()
    try:
        con = open_(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _remove_with(con, folder)
    return con


_LIVE: weakref.WeakSet = weakref.WeakSet()   # open connections, for stop_on_signals
_STOPPED: dict[str, int | bool] = {}           # the signal stop_on_signals acted on; said?


def stop_on_signals() -> None:
    """Let SIGTERM (a scheduler's timeout, `kill`) end the process promptly and cleanly, as
    Ctrl-C does. SIGTERM's default is to die at once, leaving the private scratch folders of
    staged personal data behind; and a Python handler alone would only run once the current
    DuckDB query returns (minutes at 100M events: DuckDB polls for SIGINT only). Here a thread
    woken by the signal interrupts the running queries, and the process exits with status 143
    through the normal exit path, whose finalizers remove the folders. Ctrl-C ends the same way
    with status 130, whether the interrupted query raised KeyboardInterrupt or DuckDB's error.

    For command-line processes: call once from the main thread (through `stoppable`, which also
    ends the process through `exit_if_stopped` when an exception reaches the top).
    Processes started later (notebook kernels) keep the default signal handling."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("stop_on_signals must be called from the main thread")
    read, write = os.pipe()
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)   # written by the C-level handler, at once
    signal.signal(signal.SIGTERM, lambda signum, frame: _stop(signum))
    signal.signal(signal.SIGINT, _interrupted)

    def watch() -> None:
        while True:
            got = os.read(read, 64)
            if not got:
                return
            for signum in (signal.SIGTERM, signal.SIGINT):   # (Ctrl-C: DuckDB's own interrupt, same ending)
                if int(signum) in got:
                    _STOPPED.setdefault("signal", int(signum))
                    _interrupt_all()

    threading.Thread(target=watch, name="pledgecheck-signals", daemon=True).start()


def _interrupted(signum: int, frame) -> None:
    """Ctrl-C, as Python's own handler, but recorded first: DuckDB runs this handler when it
    polls for signals mid-query and then fails the query with its own error, which may reach
    `exit_if_stopped` before the watching thread has read the signal."""
    _STOPPED.setdefault("signal", int(signum))
    raise KeyboardInterrupt


@contextmanager
def stoppable() -> Iterator[None]:
    """A command-line process's body, with `stop_on_signals`: an exception that reaches the end
    of the block after a signal (an interrupted query fails with DuckDB's own error) ends the
    process with the signal's status and without a traceback."""
    stop_on_signals()
    try:
        yield
    except (Exception, KeyboardInterrupt):
        exit_if_stopped()
        raise


def exit_if_stopped() -> None:
    """Exit with 128 + the signal if stop_on_signals acted on one; else return."""
    if "signal" in _STOPPED:
        _stop(int(_STOPPED["signal"]))


def _stop(signum: int) -> None:
    signum = int(_STOPPED.setdefault("signal", signum))
    if not _STOPPED.get("said"):
        _STOPPED["said"] = True
        print(f"stopped by {signal.Signals(signum).name}", file=sys.stderr, flush=True)
    sys.exit(128 + signum)


def _interrupt_all() -> None:
    # (a function of its own: the watching thread must hold no connection once it is done)
    for con in list(_LIVE):
        try:
            con.interrupt()
        except duckdb.Error:
            pass   # closed meanwhile


def _private_folder() -> Path:
    """A new folder under $TMPDIR that only this user can read (staged rows are personal data)."""
    folder = Path(tempfile.mkdtemp(prefix="pledgecheck-"))
    os.chmod(folder, 0o700)
    return folder


def _remove_with(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Remove `folder` when `con` is garbage-collected, or at exit (closing `con` first)."""
    weakref.finalize(con, _remove_scratch, folder, weakref.ref(con))


def _remove_scratch(folder: Path, ref: weakref.ref) -> None:
    con = ref()
    if con is not None:  # at interpreter exit the connection is still open: close it first
        con.close()
    shutil.rmtree(folder, ignore_errors=True)


def _size(text: str) -> str:
    import re

    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", text.strip()):
        raise ValueError(f"memory limit {text!r}: write e.g. 3GB or 512MB")
    return text.strip()


def _path(p: Path) -> str:
    return str(p).replace("'", "''")


def q(ident: str) -> str:
    """Quote an SQL identifier."""
    return '"' + ident.replace('"', '""') + '"'


def lit(text: str) -> str:
    """Quote an SQL string literal (for file paths DuckDB table functions need as literals)."""
    return "'" + str(text).replace("'", "''") + "'"
