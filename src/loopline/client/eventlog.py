"""``loopline.log_outcomes`` and ``loopline.read_predictions``: the event log from the SDK.

Against a local store (the default) they use the event log under ``LOOPLINE_EVENTLOG_ROOT``
(default: ``eventlog/`` beside the store); against a server (``LOOPLINE_URI=http://...``) they
call ``POST /api/outcomes`` (in chunks of 10,000, each checked here first) and
``GET /api/predictions`` (an Arrow stream).

Examples:
    >>> import tempfile, loopline
    >>> loopline.set_uri(tempfile.mkdtemp())
    >>> loopline.log_outcomes([{"prediction_id": "order-17", "label": 1, "value": 12.5}])
    1
    >>> loopline.read_predictions().num_rows  # no prediction logged in this store
    0
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from loopline.entities.eventlog import OutcomeRecord
from loopline.wire import MAX_OUTCOMES

if TYPE_CHECKING:
    from loopline.client.remote import RemoteTracking
    from loopline.eventlog import EventLog

__all__ = ["log_outcomes", "open_predictions", "outcome_history", "read_predictions"]

_logs: dict[Path, EventLog] = {}
_lock = threading.Lock()


def _local() -> EventLog | None:
    """The local event log of the fluent client's store, or None when it talks to a server."""
    from loopline.client.fluent import get_client

    client = get_client()
    if client.is_remote:
        return None
    from loopline.eventlog import EventLog

    root = client.settings.resolved_eventlog_root()
    with _lock:
        log = _logs.get(root)
        if log is None:
            log = _logs[root] = EventLog(root)
        return log


def _remote() -> RemoteTracking:
    from loopline.client.fluent import get_client
    from loopline.client.remote import RemoteTracking

    backend = get_client().backend
    assert isinstance(backend, RemoteTracking)
    return backend


def log_outcomes(records: Any) -> int:
    """Log outcomes: OutcomeRecords, mappings, a DataFrame or an Arrow table; returns how many.

    Each names a ``prediction_id`` and may carry ``label``, ``value`` (business value realised),
    ``accepted``, ``source`` and ``timestamp`` (epoch ms, default now). Outcomes may come days
    later and more than once: reads use the latest, ``outcome_history`` keeps them all. A bad
    record raises InvalidArgumentError naming its index and field; nothing of the batch (of a
    10,000-record chunk, over a server) is stored then.
    """
    from loopline.eventlog.encode import encode_outcomes
    from loopline.eventlog.log import as_rows

    log = _local()
    if log is not None:
        return log.log_outcomes(records)
    rows = [_as_dict(row) for row in as_rows(records)]
    encode_outcomes(rows)  # the local checks and messages, before anything is sent
    backend = _remote()
    for begin in range(0, len(rows), MAX_OUTCOMES):
        backend._call("POST", "/api/outcomes", json=rows[begin : begin + MAX_OUTCOMES])
    return len(rows)


def _as_dict(row: Any) -> Any:
    return asdict(row) if isinstance(row, OutcomeRecord) else row


def read_predictions(
    deployment: str | None = None,
    start: Any = None,
    end: Any = None,
    *,
    with_outcomes: bool = True,
    columns: Sequence[str] | None = None,
    as_: Literal["arrow", "pandas"] = "arrow",
) -> Any:
    """Predictions with ``start <= timestamp < end`` joined to their latest outcomes.

    ``start``/``end``: epoch ms, datetimes (naive = UTC), dates or ISO strings. Returns an Arrow
    table (or a pandas DataFrame with ``as_="pandas"``) ordered by time; see docs/eventlog.md.
    """
    log = _local()
    if log is not None:
        return log.read_predictions(
            deployment, start, end, with_outcomes=with_outcomes, columns=columns, as_=as_
        )
    from loopline.eventlog.log import output_as
    from loopline.eventlog.reader import select, to_ms
    from loopline.eventlog.schema import require_pyarrow

    pa = require_pyarrow()
    params: dict[str, Any] = {"format": "arrow", "with_outcomes": with_outcomes}
    for name, value in (("start", start), ("end", end)):
        ms = to_ms(value, name)
        if ms is not None:
            params[name] = ms
    if deployment is not None:
        params["deployment"] = deployment
    data = _remote()._call("GET", "/api/predictions", params=params, raw=True)
    table = pa.ipc.open_stream(data).read_all()
    return output_as(select(table, columns), as_)


def open_predictions(
    deployment: str | None = None,
    start: Any = None,
    end: Any = None,
    *,
    columns: Sequence[str] | None = None,
    as_: Literal["arrow", "pandas"] = "arrow",
) -> Any:
    """Predictions of the window no outcome names yet (local store only)."""
    return _require_local("open_predictions").open_predictions(
        deployment, start, end, columns=columns, as_=as_
    )


def outcome_history(prediction_id: str) -> list[OutcomeRecord]:
    """Every outcome logged for one prediction, oldest first (local store only)."""
    return _require_local("outcome_history").outcome_history(prediction_id)


def _require_local(name: str) -> EventLog:
    from loopline.errors import InvalidStateError

    log = _local()
    if log is None:
        raise InvalidStateError(
            f"loopline.{name} reads the local event log; it is not available over a server yet.",
            operation=name,
        )
    return log
