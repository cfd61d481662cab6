"""Bulk scoring: a registered model over Parquet, CSV, SQL or a DataFrame, in chunks.

The same decision policy as the inference server decides every row, and every row is logged to
the event log (variant ``batch``) as one Parquet segment per chunk; chunks run on local threads
or on a Dask cluster. The SDK functions are ``loopline.score`` and ``loopline.rescore``
(``loopline.client.scoring``); the CLI commands ``loopline score`` and ``loopline rescore``.
See ``docs/scoring.md``.

pyarrow (``loopline[data]``) is imported on first use; polars (``loopline[polars]``) makes the
logged JSON columnar; Dask (``loopline[dask]``) runs chunks on a cluster.
"""

from loopline.scoring.chunks import Job
from loopline.scoring.predictor import ChunkPredictor
from loopline.scoring.rescore import rescore
from loopline.scoring.run import RunStats, run_chunks
from loopline.scoring.service import ScoreSummary, Services, resolve_policy, score
from loopline.scoring.sources import SqlTarget, parse_sql

__all__ = [
    "ChunkPredictor",
    "Job",
    "RunStats",
    "ScoreSummary",
    "Services",
    "SqlTarget",
    "parse_sql",
    "rescore",
    "resolve_policy",
    "run_chunks",
    "score",
]
