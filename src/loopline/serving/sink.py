"""Predictions of the inference server appended to the event log (``loopline.eventlog``).

One :class:`~loopline.entities.eventlog.PredictionRecord` per scored row: its id (the
``prediction_id`` the client got), the deployment, model name and version, the inputs in
signature order, the outputs (label, score, proba), the decision and the request key. With an
``async`` writer, appending only queues the lines (a background thread writes them); with
``durable`` it waits for the group commit (see ``docs/eventlog.md``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from loopline.entities.eventlog import PredictionRecord

if TYPE_CHECKING:
    from loopline.eventlog import Writer
    from loopline.serving.runtime import ModelRuntime

__all__ = ["EventLogSink"]


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
