"""One chunk, start to end: score, decide, build the output rows, log them.

:class:`Job` holds everything a chunk needs besides its rows and the model, and pickles small:
the same :func:`score_chunk` runs on a local thread and on a Dask worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loopline.errors import InvalidArgumentError
from loopline.scoring.columns import Scored, decision_columns, new_ids, plain, score_columns

if TYPE_CHECKING:
    from loopline.policies import DecisionPolicy
    from loopline.scoring.predictor import ChunkPredictor

__all__ = ["LINK_COLUMN", "Job", "score_chunk"]

LINK_COLUMN = "__rescored_from"
"""A chunk column holding the id each row rescores (``rescore``); logged in ``outputs``."""

_DECISION_OUT = (
    "action", "rule", "queue", "route", "model_action", "control", "outlier",
    "outlier_features", "ranked",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Job:
    """What every chunk of one run shares."""

    model_name: str
    model_version: int
    deployment: str
    policy: DecisionPolicy | None = None
    key_column: str | None = None
    keep_columns: tuple[str, ...] = ()
    log_root: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _keys(table: Any, column: str | None) -> Any:
    if column is None:
        return None
    if column not in table.column_names:
        raise InvalidArgumentError(
            f"The key column {column!r} is not in the input (columns: "
            f"{', '.join(table.column_names[:20])}).",
            field="key_column",
        )
    import pyarrow as pa

    keys = table.column(column).combine_chunks()
    return keys if pa.types.is_string(keys.type) else keys.cast(pa.string())


def _logged_columns(job: Job, predictor: ChunkPredictor, table: Any) -> list[str]:
    """The model's inputs, and the input fields the policy reads (so a rescore can decide)."""
    names = list(predictor.columns)
    if job.policy is not None:
        names += [f for f in job.policy.fields() if f in table.column_names and f not in names]
    return names


def score_chunk(job: Job, predictor: ChunkPredictor, table: Any, now_ms: int) -> tuple[Any, int]:
    """The chunk's output table and how many rows were logged."""
    import pyarrow as pa

    n = table.num_rows
    scores = predictor.score(table)
    keys = _keys(table, job.key_column)
    decision = None
    if job.policy is not None:
        decision = job.policy.decide(
            scores.proba if scores.proba is not None else scores.labels,
            table,
            request_keys=None if keys is None else keys.to_pylist(),
            classes=predictor.classes,
            labels=scores.labels,
        )
    scored = Scored(new_ids(n, now_ms=now_ms), scores.labels, scores.proba,
                    predictor.classes, decision, now_ms)  # fmt: skip
    keep = job.keep_columns
    if keep == ("*",):
        keep = tuple(c for c in table.column_names if c != LINK_COLUMN)
    columns: dict[str, Any] = {c: table.column(c) for c in keep}
    if job.key_column is not None and job.key_column not in columns:
        columns[job.key_column] = table.column(job.key_column)
    columns["prediction_id"] = scored.ids
    columns.update(score_columns(scored))
    made = None
    if decision is not None:
        made = decision_columns(decision)
        columns.update({k: plain(made[k]) for k in _DECISION_OUT})
        columns["policy_score"] = made["score"]
        columns["policy_version"] = plain(made["policy_version"])
    link = table.column(LINK_COLUMN) if LINK_COLUMN in table.column_names else None
    if link is not None:
        columns["rescored_from"] = link
    out = pa.table(columns)
    logged = 0
    if job.log_root is not None and n:
        from loopline.scoring.eventlog import log_table, write_segment

        rows = log_table(
            scored,
            table.select(_logged_columns(job, predictor, table)),
            deployment=job.deployment,
            model_name=job.model_name,
            model_version=job.model_version,
            request_keys=keys,
            outputs_extra={} if link is None else {"rescored_from": link},
            decided=made,
        )
        write_segment(job.log_root, rows, deployment=job.deployment, timestamp=now_ms)
        logged = n
    return out, logged
