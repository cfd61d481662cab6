"""/api/outcomes and /api/predictions: the prediction and outcome log over REST.

``POST /api/outcomes`` takes a JSON list of at most 10,000 outcomes (editor role with auth on);
the whole list is checked before anything is stored, and a bad item answers 4xx naming its
index and field. An outcome without ``source`` is recorded with the caller as its source.
``GET /api/predictions`` reads a window joined to the latest outcomes, as JSON
(``{"predictions": [...]}``, timestamps in epoch ms) or, with ``format=arrow`` or
``Accept: application/vnd.apache.arrow.stream``, as an Arrow IPC stream.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from loopline.config import Settings
from loopline.entities.auth import Role
from loopline.eventlog import EventLog
from loopline.eventlog.schema import require_pyarrow
from loopline.server.auth import Actor, require_role
from loopline.wire import MAX_OUTCOMES

__all__ = ["ARROW_STREAM", "MAX_OUTCOMES", "OutcomeIn", "event_log", "router"]

ARROW_STREAM = "application/vnd.apache.arrow.stream"
router = APIRouter(prefix="/api", tags=["eventlog"])


def event_log(request: Request) -> EventLog:
    """The server's event log: ``app.state.eventlog``, else the settings' eventlog root.

    An app built without settings keeps it beside a local artifact store (the store's folder),
    so a test server never writes into the working directory.
    """
    state = request.app.state
    log: EventLog | None = getattr(state, "eventlog", None)
    if log is None:
        settings: Settings | None = getattr(state, "settings", None)
        artifacts = state.tracking.artifacts
        if settings is None and artifacts.is_local:
            root = Path(artifacts.root).parent / "eventlog"
        else:
            root = (settings or Settings()).resolved_eventlog_root()
        log = state.eventlog = EventLog(root)
    return log


Log = Annotated[EventLog, Depends(event_log)]


class OutcomeIn(BaseModel):
    """One outcome: a prediction id and what happened (see ``loopline.entities.OutcomeRecord``)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    prediction_id: str = Field(min_length=1, max_length=200)
    timestamp: int | None = Field(default=None, ge=0, description="Epoch ms; default: now.")
    label: bool | int | float | str | None = None
    value: float | None = None
    accepted: bool | None = None
    source: str | None = Field(default=None, max_length=200)


@router.post(
    "/outcomes",
    summary="Log outcomes of predictions (at most 10,000 per call)",
    dependencies=[Depends(require_role(Role.EDITOR))],
)
def log_outcomes(
    log: Log,
    actor: Actor,
    outcomes: Annotated[list[OutcomeIn], Body(max_length=MAX_OUTCOMES)],
) -> dict[str, int]:
    rows = [item.model_dump() for item in outcomes]
    for row in rows:
        row["source"] = row["source"] or actor
    return {"logged": log.log_outcomes(rows)}


def _ms(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


@router.get("/predictions", summary="A window of predictions joined to their latest outcomes")
def read_predictions(
    log: Log,
    request: Request,
    deployment: str | None = None,
    start: Annotated[str | None, Query(description="Epoch ms or ISO 8601, inclusive")] = None,
    end: Annotated[str | None, Query(description="Epoch ms or ISO 8601, exclusive")] = None,
    with_outcomes: bool = True,
    format: Literal["json", "arrow"] | None = None,
) -> Any:
    table = log.read_predictions(
        deployment, _ms(start), _ms(end), with_outcomes=with_outcomes, as_="arrow"
    )
    pa = require_pyarrow()
    if format == "arrow" or (format is None and ARROW_STREAM in request.headers.get("accept", "")):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as stream:
            stream.write_table(table)
        return Response(sink.getvalue().to_pybytes(), media_type=ARROW_STREAM)
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.int64()))
    return {"predictions": table.to_pylist()}
