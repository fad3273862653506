"""Start and stop a Spark standalone cluster on this machine: a master and a worker, each its
own JVM process, as on a real cluster (only on one host).

    python scripts/spark_cluster.py start [--cores 2] [--memory 6g]   # prints the master URL
    pledgecheck run --policy lustmonster --export data/sample --engine spark \\
        --spark-master spark://127.0.0.1:7077
    python scripts/spark_cluster.py status
    python scripts/spark_cluster.py stop

The master listens on 127.0.0.1:7077 (web UI on 8080: its /json/ page is how `start` waits
for the worker to register); the worker offers --cores and --memory to executors. Both run
the Spark bundled with pyspark (`spark-class`), so nothing else is installed; Java 17+ is
needed, as for the Spark engine. Executors run this interpreter (PYSPARK_PYTHON), which has
pledgecheck installed: the business-day and TCF functions are Python UDFs. Process ids and
logs are kept in --state (default: $TMPDIR/pledgecheck-spark-cluster); `stop` ends both
processes and waits for them.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
MASTER_PORT = 7077
UI_PORT = 8080
DEFAULT_STATE = Path(tempfile.gettempdir()) / "pledgecheck-spark-cluster"


def spark_class() -> Path:
    import pyspark

    path = Path(pyspark.__file__).parent / "bin" / "spark-class"
    if not path.exists():
        sys.exit(f"spark_cluster: {path} not found (is pyspark installed? pip install -e '.[spark]')")
    return path


def master_url() -> str:
    return f"spark://{HOST}:{MASTER_PORT}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _pids(state: Path) -> dict[str, int]:
    out = {}
    for role in ("master", "worker"):
        f = state / f"{role}.pid"
        if f.exists():
            pid = int(f.read_text().strip() or 0)
            if pid and _alive(pid):
                out[role] = pid
    return out


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def _master_state() -> dict | None:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{UI_PORT}/json/", timeout=2) as r:
            return json.load(r)
    except OSError:
        return None


def _launch(state: Path, role: str, args: list[str], env: dict) -> int:
    log = (state / f"{role}.log").open("w")
    proc = subprocess.Popen([str(spark_class()), *args], stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)   # its own process group: stop ends the JVM too
    (state / f"{role}.pid").write_text(str(proc.pid))
    return proc.pid


def _wait(what: str, ok, seconds: float, state: Path, role: str) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if ok():
            return
        if role not in _pids(state):
            sys.exit(f"spark_cluster: the {role} stopped while starting; see {state / (role + '.log')}")
        time.sleep(0.5)
    sys.exit(f"spark_cluster: {what} not ready after {seconds:.0f} s; see {state / (role + '.log')}")


def start(state: Path, cores: int, memory: str, timeout: float) -> int:
    state.mkdir(parents=True, exist_ok=True)
    running = _pids(state)
    if running:
        print(f"already running ({', '.join(f'{r} pid {p}' for r, p in running.items())}): {master_url()}")
        return 0
    if _port_open(MASTER_PORT) or _port_open(UI_PORT):
        sys.exit(f"spark_cluster: port {MASTER_PORT} or {UI_PORT} on {HOST} is taken by another process")
    env = {**os.environ, "SPARK_LOCAL_IP": HOST, "SPARK_LOG_DIR": str(state),
           "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable),
           "SPARK_WORKER_DIR": str(state / "work")}
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    _launch(state, "master", ["org.apache.spark.deploy.master.Master", "--host", HOST, "--port",
                              str(MASTER_PORT), "--webui-port", str(UI_PORT)], env)
    _wait("the master", lambda: _master_state() is not None, timeout, state, "master")
    _launch(state, "worker", ["org.apache.spark.deploy.worker.Worker", master_url(), "--host", HOST,
                              "--cores", str(cores), "--memory", memory, "--webui-port", "0"], env)

    def registered() -> bool:
        s = _master_state() or {}
        return any(w.get("state") == "ALIVE" for w in s.get("workers", []))
    _wait("the worker", registered, timeout, state, "worker")
    print(master_url())
    return 0


def stop(state: Path, timeout: float) -> int:
    running = _pids(state)
    for role in ("worker", "master"):
        pid = running.get(role)
        if pid is None:
            continue
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
        end = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < end:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.2)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        (state / f"{role}.pid").unlink(missing_ok=True)
    print("stopped" if running else "not running")
    return 0


def status(state: Path) -> int:
    running = _pids(state)
    s = _master_state()
    workers = [w for w in (s or {}).get("workers", []) if w.get("state") == "ALIVE"]
    print(json.dumps({"master": master_url() if "master" in running else None, "pids": running,
                      "alive_workers": len(workers), "cores": sum(w.get("cores", 0) for w in workers),
                      "memory_mb": sum(w.get("memory", 0) for w in workers)}))
    return 0 if running else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["start", "stop", "status"])
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="cores the worker offers")
    ap.add_argument("--memory", default="6g", help="memory the worker offers to executors")
    ap.add_argument("--state", type=Path, default=DEFAULT_STATE, help="pid files and logs")
    ap.add_argument("--timeout", type=float, default=90, help="seconds to wait for each process")
    a = ap.parse_args()
    if a.action == "start":
        return start(a.state, a.cores, a.memory, a.timeout)
    if a.action == "stop":
        return stop(a.state, a.timeout)
    return status(a.state)


if __name__ == "__main__":
    sys.exit(main())
