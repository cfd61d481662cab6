"""``EventLog``: one root folder of predictions and outcomes, its writers and its reads."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from loopline.entities.eventlog import OutcomeRecord
from loopline.errors import InvalidArgumentError
from loopline.eventlog.compact import (
    DEFAULT_OLDER_THAN,
    DEFAULT_TARGET_ROWS,
    CompactionSummary,
    compact,
)
from loopline.eventlog.encode import date_of
from loopline.eventlog.ids import prediction_id_time
from loopline.eventlog.reader import (
    OUTCOME_JOINED,
    by_time,
    join_outcomes,
    latest_outcomes,
    outcome_bounds,
    prediction_bounds,
    read_table,
    select,
    to_ms,
    window_filter,
)
from loopline.eventlog.schema import Table, require_pyarrow
from loopline.eventlog.seal import recover
from loopline.eventlog.writer import Mode, Writer

__all__ = ["EventLog", "as_rows", "output_as"]

As = Literal["arrow", "pandas"]


def as_rows(records: Any) -> list[Any]:
    """Records, mappings, a pandas DataFrame or an Arrow table, as a list of records or dicts."""
    if hasattr(records, "to_pylist"):  # an Arrow table or record batch
        rows: list[Any] = records.to_pylist()
        return rows
    if hasattr(records, "to_dict") and hasattr(records, "columns"):  # a pandas DataFrame
        frame_rows: list[Any] = records.to_dict(orient="records")
        return frame_rows
    if isinstance(records, dict | str | bytes):
        raise InvalidArgumentError(
            "Records must be a list of records or mappings, a DataFrame or an Arrow table. "
            f"Got a single {type(records).__name__} instead.",
            field="records",
        )
    return list(records)


def output_as(table: Any, as_: str) -> Any:
    if as_ == "arrow":
        return table
    if as_ == "pandas":
        return table.to_pandas()
    raise InvalidArgumentError(
        f"The 'as_' parameter must be 'arrow' or 'pandas'. Got {as_!r} instead.", field="as_"
    )


class EventLog:
    """The prediction and outcome log under ``root`` (see ``docs/eventlog.md``).

    Examples:
        >>> import tempfile
        >>> from loopline.entities.eventlog import OutcomeRecord, PredictionRecord
        >>> log = EventLog(tempfile.mkdtemp())
        >>> with log.writer("durable") as writer:
        ...     writer.append([PredictionRecord("p1", "churn", "churn", 1, 1_790_000_000_000,
        ...                                     {"age": 41}, {"score": 0.8}, action="review")])
        >>> log.log_outcomes([OutcomeRecord("p1", label=1, value=12.5)])
        1
        >>> table = log.read_predictions("churn")
        >>> table.column("action").to_pylist(), table.column("label").to_pylist()
        (['review'], ['1'])
        >>> log.close()
    """

    def __init__(
        self,
        root: str | Path,
        *,
        rotate_bytes: int = 64 << 20,
        rotate_seconds: float = 300.0,
        flush_interval: float = 0.1,
        batch_records: int = 1000,
        max_queue: int = 100_000,
    ) -> None:
        require_pyarrow()
        self.root = Path(root).absolute()
        self._options: dict[str, Any] = {
            "rotate_bytes": rotate_bytes,
            "rotate_seconds": rotate_seconds,
            "flush_interval": flush_interval,
            "batch_records": batch_records,
            "max_queue": max_queue,
        }
        self._shared: Writer | None = None
        self._lock = threading.Lock()

    # -- writing -------------------------------------------------------------------------------

    def writer(self, mode: Mode = "async") -> Writer:
        """A new writer (``async``, ``durable`` or ``off``); journals of dead writers are sealed."""
        writer = Writer(self.root, mode, **self._options)
        if mode != "off":
            self.recover()
        return writer

    def recover(self) -> int:
        """Seal every journal no live writer holds (closed, crashed, killed); returns the rows."""
        return recover(self.root) if self.root.exists() else 0

    def _durable(self) -> Writer:
        with self._lock:
            if self._shared is None:
                self._shared = self.writer("durable")
            return self._shared

    def log_predictions(self, records: Iterable[Any]) -> int:
        """Log prediction records durably (on disk when this returns); returns how many."""
        rows = as_rows(records)
        self._durable().append(rows)
        return len(rows)

    def log_outcomes(self, records: Any) -> int:
        """Log outcomes (records, mappings, a DataFrame, an Arrow table) durably; returns how many.

        The whole batch is checked first: a bad record raises InvalidArgumentError naming its
        index and field, and nothing is written. Logging an outcome again for the same
        prediction keeps both; reads take the one with the latest ``timestamp``.
        """
        rows = as_rows(records)
        self._durable().append_outcomes(rows)
        return len(rows)

    def compact(
        self,
        table: Table | None = None,
        *,
        older_than: str | int | timedelta = DEFAULT_OLDER_THAN,
        target_rows: int = DEFAULT_TARGET_ROWS,
    ) -> CompactionSummary:
        """Merge each partition's segments older than ``older_than`` into few Parquet files.

        ``table``: ``"predictions"``, ``"outcomes"`` or None (both). ``older_than``: a segment
        is merged once its file is that old (ms, a timedelta, or ``"30m"``, ``"1h"``, ``"2d"``;
        default one hour). Files hold up to ``target_rows`` rows ordered by timestamp. Reads
        give the same rows before, during and after, even after a crash (docs/eventlog.md).

        Examples:
            >>> import tempfile
            >>> from loopline.entities.eventlog import PredictionRecord
            >>> log = EventLog(tempfile.mkdtemp())
            >>> for pid in ("p1", "p2"):  # two writers, two sealed segments
            ...     with log.writer("durable") as writer:
            ...         writer.append([PredictionRecord(pid, "churn", "churn", 1,
            ...                                         1_790_000_000_000, {}, {})])
            >>> summary = log.compact(older_than=0)
            >>> summary.merged, summary.written, log.read_predictions().num_rows
            (2, 1, 2)
        """
        return compact(self.root, table, older_than=older_than, target_rows=target_rows)

    def close(self) -> None:
        """Close the writer ``log_predictions``/``log_outcomes`` use, sealing its journals."""
        with self._lock:
            shared, self._shared = self._shared, None
        if shared is not None:
            shared.close()

    # -- reading -------------------------------------------------------------------------------

    def read_predictions(
        self,
        deployment: str | None = None,
        start: Any = None,
        end: Any = None,
        *,
        with_outcomes: bool = True,
        columns: Sequence[str] | None = None,
        as_: As = "arrow",
    ) -> Any:
        """Predictions with ``start <= timestamp < end``, each with its latest outcome.

        ``start``/``end`` are epoch ms, datetimes (naive = UTC), dates or ISO strings. Outcome
        columns: ``outcome_timestamp``, ``label`` (JSON text), ``label_number``, ``value``,
        ``accepted``, ``outcome_source`` (null while no outcome came). Sorted by time.
        """
        s, e = to_ms(start, "start"), to_ms(end, "end")
        table = by_time(self._predictions(deployment, s, e))
        if with_outcomes:
            latest = latest_outcomes(read_table(self.root, "outcomes", bounds=outcome_bounds(s)))
            latest = latest.select(["prediction_id", *OUTCOME_JOINED])
            table = join_outcomes(table, latest)
        return output_as(select(table, columns), as_)

    def open_predictions(
        self,
        deployment: str | None = None,
        start: Any = None,
        end: Any = None,
        *,
        columns: Sequence[str] | None = None,
        as_: As = "arrow",
    ) -> Any:
        """Predictions of the window that no outcome names yet (what a rescoring run takes)."""
        s, e = to_ms(start, "start"), to_ms(end, "end")
        table = self._predictions(deployment, s, e)
        outcomes = read_table(self.root, "outcomes", bounds=outcome_bounds(s))
        ids = outcomes.select(["prediction_id"]).group_by("prediction_id").aggregate([])
        table = by_time(table.join(ids, keys="prediction_id", join_type="left anti"))
        return output_as(select(table, columns), as_)

    def _predictions(self, deployment: str | None, start: int | None, end: int | None) -> Any:
        return read_table(
            self.root,
            "predictions",
            expr=window_filter(start, end, deployment),
            bounds=prediction_bounds(start, end, deployment),
            span=(start, end),
        )

    def read_outcomes(self, *, as_: As = "arrow") -> Any:
        """Every outcome ever logged (the full history, oldest first)."""
        table = read_table(self.root, "outcomes")
        table = table.sort_by([("timestamp", "ascending"), ("received_at", "ascending")])
        return output_as(table, as_)

    def outcome_history(self, prediction_id: str) -> list[OutcomeRecord]:
        """Every outcome logged for one prediction, oldest first; the last one is what reads use."""
        pa = require_pyarrow()
        made = prediction_id_time(prediction_id)
        day = None if made is None else date_of(made)
        bounds: dict[str, tuple[str | None, str | None]] = (
            {} if day is None else {"date": (day, day)}
        )
        expr = pa.dataset.field("prediction_id") == prediction_id
        table = read_table(self.root, "outcomes", expr=expr, bounds=bounds)
        if made is not None and table.num_rows == 0:  # an id filed under its outcome's date
            table = read_table(self.root, "outcomes", expr=expr)
        table = table.sort_by([("timestamp", "ascending"), ("received_at", "ascending")])
        table = table.set_column(1, "timestamp", table.column("timestamp").cast(pa.int64()))
        return [
            OutcomeRecord(
                prediction_id=row["prediction_id"],
                timestamp=row["timestamp"],
                label=None if row["label"] is None else json.loads(row["label"]),
                value=row["value"],
                accepted=row["accepted"],
                source=row["source"],
            )
            for row in table.to_pylist()
        ]

    def __repr__(self) -> str:
        return f"<EventLog root={str(self.root)!r}>"
