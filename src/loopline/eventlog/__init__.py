"""Predictions and outcomes: an append-only, columnar event log (DESIGN.md section 4).

Every prediction the inference server or bulk scoring makes is appended to a per-process
*journal* (JSON lines, one per writer and table) by a :class:`Writer` in ``async``, ``durable``
or ``off`` mode; journals are sealed into Parquet *segments* partitioned by table, deployment and
date under one root folder, readable by pyarrow, DuckDB or Dask. Outcomes (labels, value
realised, action accepted) arrive later, keyed by prediction id; reads join a window of
predictions to the latest outcome of each. See ``docs/eventlog.md`` for the layout and the
guarantees of each mode.

pyarrow (the ``loopline[data]`` extra) is imported on first use, never by ``import loopline``.

Examples:
    >>> import tempfile
    >>> from loopline.entities.eventlog import PredictionRecord
    >>> log = EventLog(tempfile.mkdtemp())
    >>> writer = log.writer("async")
    >>> writer.append([PredictionRecord(new_prediction_id(), "churn", "churn", 3, now_ms(),
    ...                                 {"age": 41}, {"score": 0.83}, action="review")])
    >>> writer.close()  # written and sealed
    >>> log.read_predictions("churn").num_rows
    1
"""

from loopline.eventlog.compact import CompactionSummary
from loopline.eventlog.ids import new_prediction_id, now_ms, prediction_id_time
from loopline.eventlog.log import EventLog
from loopline.eventlog.writer import MODES, Mode, Writer

__all__ = [
    "MODES",
    "CompactionSummary",
    "EventLog",
    "Mode",
    "Writer",
    "new_prediction_id",
    "now_ms",
    "prediction_id_time",
]
