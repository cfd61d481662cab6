"""Predictions of the inference server appended to the event log (``loopline.eventlog``).

One :class:`~loopline.entities.eventlog.PredictionRecord` per scored row: its id (the
``prediction_id`` the client got), the deployment, model name and version, the inputs in
signature order, the outputs (label, score, proba), the decision and the request key. With an
``async`` writer, appending only queues the lines (a background thread writes them); with
``durable`` it waits for the group commit (see ``docs/eventlog.md``).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopline.entities.eventlog import PredictionRecord

if TYPE_CHECKING:
    from loopline.eventlog import EventLog, Writer
    from loopline.serving.runtime import ModelRuntime

__all__ = ["EventLogSink", "EventLogs"]


class EventLogSink:
    """Appends every prediction of an endpoint to an event log writer."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        #: A durable append waits for fsync: the server calls it on a thread, before answering.
        self.blocking = writer.mode == "durable"

    def log(
        self, endpoint: str, runtime: ModelRuntime, batch: Any, predictions: list[dict[str, Any]]
    ) -> None:
        now = time.time_ns() // 1_000_000
        if hasattr(batch, "tolist"):
            columns = runtime.columns
            inputs = [dict(zip(columns, row, strict=True)) for row in batch.tolist()]
        else:
            inputs = batch.to_dict(orient="records")
        records = []
        for row, p in zip(inputs, predictions, strict=True):
            decision = p.get("decision")
            key = p.get("request_key")
            outputs = {"label": p.get("label"), "score": p.get("score"), "proba": p.get("proba")}
            policy = decision if isinstance(decision, dict) else {}
            record = PredictionRecord(
                p["prediction_id"], endpoint, runtime.name, runtime.version, now, row, outputs,
                variant=p.get("variant", "champion"), action=policy.get("action"),
                rule=policy.get("rule"), queue=policy.get("queue"), decision=decision,
                policy_version=policy.get("policy_version"),
                control=bool(policy.get("control", False)),
                request_key=None if key is None else str(key),
            )  # fmt: skip
            records.append(record)
        self.writer.append(records)

    def close(self) -> None:
        self.writer.close()


class EventLogs:
    """The event log of a serving process: one writer per mode, shared by every endpoint.

    An endpoint switching logging mode (its deployment changed) just takes another sink; the
    writers live until :meth:`close` (the server's shutdown), so no in-flight append ever meets
    a closed writer. ``POST /outcomes`` appends through the durable writer.

    Examples:
        >>> import tempfile
        >>> logs = EventLogs(tempfile.mkdtemp())
        >>> logs.sink("off") is None, logs.sink("async") is logs.sink("async")
        (True, True)
        >>> logs.log_outcomes([{"prediction_id": "p1", "label": 1}])
        1
        >>> logs.close()
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._log: EventLog | None = None
        self._sinks: dict[str, EventLogSink] = {}
        self._lock = threading.Lock()

    def _writer(self, mode: str) -> EventLogSink:
        with self._lock:
            sink = self._sinks.get(mode)
            if sink is None:
                if self._log is None:
                    from loopline.eventlog import EventLog

                    self._log = EventLog(self.root)
                sink = self._sinks[mode] = EventLogSink(self._log.writer(mode))  # type: ignore[arg-type]
            return sink

    def sink(self, mode: str) -> EventLogSink | None:
        """The sink of a logging mode (``off``: None)."""
        return None if mode == "off" else self._writer(mode)

    def log_outcomes(self, rows: list[dict[str, Any]]) -> int:
        """Append outcomes durably (fsynced when this returns); returns how many."""
        self._writer("durable").writer.append_outcomes(rows)
        return len(rows)

    def close(self) -> None:
        with self._lock:
            sinks, self._sinks = list(self._sinks.values()), {}
        for sink in sinks:
            sink.close()
