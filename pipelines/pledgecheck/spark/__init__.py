"""The Spark engine: the same checks, translated at run time (see translate.py).

Optional: needs the `spark` extra (pyspark, sqlglot) and Java 17+. Nothing here is imported
by a DuckDB run. `spark_available()` says whether it can run here without importing either;
`SparkConnection` and `spark_session` are imported on first use and raise an EngineError that
says what to install when the extra or Java is missing.
"""
from __future__ import annotations

import os
import shutil

from ..errors import EngineError

DEFAULT_MASTER = "local[2]"

__all__ = ["DEFAULT_MASTER", "SparkConnection", "spark_available", "spark_session"]


def spark_available() -> str | None:
    """None if the Spark engine can run here, else why not (for messages and test skips)."""
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError as e:
        return (f"the Spark engine needs the `spark` extra ({e.name or 'a module'} is not installed): "
                "pip install 'pledgecheck[spark]'")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "the Spark engine needs Java 17 or later (no `java` on PATH and no JAVA_HOME)"
    return None


def __getattr__(name: str):
    if name in ("SparkConnection", "spark_session"):
        why = spark_available()
        if why:
            raise EngineError(why)
        from . import session

        return getattr(session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
