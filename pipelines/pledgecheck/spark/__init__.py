"""The Spark engine: the same checks, translated at run time (see translate.py).

Optional: needs the `spark` extra (pyspark, sqlglot) and Java 17+. Nothing here is imported
by a DuckDB run.
"""
from .session import DEFAULT_MASTER, SparkConnection, spark_available, spark_session

__all__ = ["DEFAULT_MASTER", "SparkConnection", "spark_available", "spark_session"]
