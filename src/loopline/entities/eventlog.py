"""Event log entities: one prediction as it was served, one outcome as it was observed later.

A :class:`PredictionRecord` is what the inference server, bulk scoring and the SDK hand to an
event log writer; an :class:`OutcomeRecord` is the truth that arrives later (a label, the value
the business realised, whether the action was taken), keyed by the prediction's id. Several
outcomes may name the same prediction: reads take the last one (by ``timestamp``, then arrival).

Examples:
    >>> from loopline.eventlog import new_prediction_id
    >>> record = PredictionRecord(
    ...     prediction_id=new_prediction_id(), deployment="churn", model_name="churn",
    ...     model_version=3, timestamp=1_790_000_000_000, inputs={"age": 41},
    ...     outputs={"score": 0.83}, action="review",
    ... )
    >>> record.variant, record.control
    ('champion', False)
    >>> OutcomeRecord(record.prediction_id, label=1, value=120.0).accepted is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["VARIANTS", "OutcomeRecord", "PredictionRecord", "Variant"]

Variant = Literal["champion", "shadow", "canary", "batch"]
VARIANTS: tuple[str, ...] = ("champion", "shadow", "canary", "batch")
"""Which model answered: the champion, a challenger in shadow or canary, or bulk scoring."""


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """One scored row: who answered, on what inputs, with which outputs and decision.

    ``inputs`` and ``outputs`` are JSON-able mappings (numpy scalars and arrays are accepted and
    written as plain numbers and lists); ``decision`` is the policy's full decision as a JSON
    string (or a mapping, serialised on append). ``timestamp`` is epoch milliseconds (UTC).
    """

    prediction_id: str
    deployment: str
    model_name: str
    model_version: int
    timestamp: int
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    variant: Variant = "champion"
    action: str | None = None
    rule: str | None = None
    queue: str | None = None
    decision: str | dict[str, Any] | None = None
    policy_version: str | None = None
    control: bool = False
    latency_ms: float | None = None
    request_key: str | None = None


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """What happened after a prediction: its true label, the value realised, the action taken.

    ``label`` is any JSON scalar (a class, a number, a string); ``value`` the business value
    realised (for example revenue kept); ``accepted`` whether the recommended action was taken.
    ``timestamp`` (epoch ms, UTC) defaults to the moment it is logged.
    """

    prediction_id: str
    timestamp: int | None = None
    label: bool | int | float | str | None = None
    value: float | None = None
    accepted: bool | None = None
    source: str | None = None
