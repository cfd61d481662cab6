"""Rescoring the open records after a model change: one call.

The open records are the predictions of a window that no outcome names yet
(:meth:`EventLog.open_predictions`), less those already rescored (a later prediction names them
in ``outputs.rescored_from``): each chain is rescored from its latest link. Their logged inputs
are parsed back into columns (Arrow's JSON reader, typed by the model's signature), scored by the
model the deployment (or alias) names now, decided by its policy, and logged as new predictions
of the same deployment (variant ``batch``) whose ``outputs.rescored_from`` is the old id and whose
``request_key`` is the old one (so a control group stays the same).
"""

from __future__ import annotations

from typing import Any

from loopline.errors import InvalidArgumentError
from loopline.scoring.chunks import LINK_COLUMN, Job
from loopline.scoring.run import run_chunks
from loopline.scoring.service import Services, load_predictor, resolve_policy
from loopline.scoring.sinks import Sink

__all__ = ["rescore"]

_KEY = "__request_key"
_TYPES = {"integer": "int64", "float": "float64", "boolean": "bool_"}


def _json_table(texts: Any, schema: Any, *, others: str = "ignore") -> Any:
    """Arrow columns of ``schema`` from a column of JSON objects (other keys: ``others``)."""
    import pyarrow as pa
    import pyarrow.json as pj

    if len(texts) == 0:
        return schema.empty_table()
    data = "\n".join(t if t is not None else "{}" for t in texts.to_pylist()) + "\n"
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior=others)
    raw = data.encode()
    read = pj.ReadOptions(block_size=max(1 << 20, min(len(raw) + 1, 1 << 30)))
    return pj.read_json(pa.BufferReader(raw), read_options=read, parse_options=options)


def _superseded(log: Any, deployment: str | None, since: Any) -> set[str]:
    """Ids that a later prediction rescored already."""
    import pyarrow as pa
    import pyarrow.compute as pc

    outputs = log.read_predictions(deployment, since, with_outcomes=False, columns=["outputs"])
    column = outputs.column("outputs").combine_chunks()
    hit = pc.extract_regex(column, r'"rescored_from":"(?P<id>[^"]+)"')
    ids = pc.struct_field(hit, "id") if len(hit) else pa.array([], pa.string())
    return set(ids.drop_null().to_pylist())


def rescore(
    services: Services,
    target: str,
    *,
    since: Any = None,
    until: Any = None,
    policy: Any = None,
    chunk_size: int = 100_000,
    log: bool = True,
    dask_address: str | None = None,
    progress: bool = True,
    workers: int | None = None,
    trusted: Any = False,
) -> Any:
    """Rescore the open predictions of a deployment (or of a ``models:/`` URI's model).

    Returns an Arrow table, one row per rescored prediction: ``prediction_id`` (the old id),
    ``new_prediction_id``, ``deployment``, the old and new ``model_version``, ``score``,
    ``action`` and ``rule``, and ``changed`` (the action differs).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from loopline.eventlog import EventLog

    if services.eventlog_root is None:
        raise InvalidArgumentError("Rescoring reads the event log: set LOOPLINE_EVENTLOG_ROOT.")
    if not isinstance(target, str) or not target:
        raise InvalidArgumentError(
            f"rescore takes a deployment name or a models:/ URI. Got {target!r} instead.",
            field="target",
        )
    chosen = resolve_policy(policy)
    deployment: str | None = None
    if target.startswith("models:/"):
        model_uri = target
    else:
        if services.deployments is None:
            raise InvalidArgumentError("Rescoring a deployment needs the deployments service.")
        found = services.deployments.get_deployment(target)
        deployment, model_uri = found.name, found.model_uri
        if chosen is None and found.policy:
            chosen = resolve_policy(found.policy)
    predictor, name, version = load_predictor(services, model_uri, trusted=trusted)
    eventlog = EventLog(services.eventlog_root)
    open_ = eventlog.open_predictions(deployment, since, until)
    if deployment is None:
        open_ = open_.filter(pc.equal(open_.column("model_name"), name))
    done = _superseded(eventlog, deployment, since)
    if done:
        open_ = open_.filter(pc.invert(pc.is_in(open_.column("prediction_id"),
                                                 pa.array(sorted(done), pa.string()))))  # fmt: skip
    parts = []
    for group in sorted(set(open_.column("deployment").to_pylist())):
        rows = open_.filter(pc.equal(open_.column("deployment"), group))
        parts.append(_rescore_group(rows, group, predictor, name, version, chosen,
                                    services, log, chunk_size, dask_address, progress,
                                    workers))  # fmt: skip
    if not parts:
        return _changes(open_.slice(0, 0), pa.table({}), version)
    return pa.concat_tables(parts)


def _rescore_group(
    rows: Any, deployment: str, predictor: Any, name: str, version: int, policy: Any,
    services: Services, log: bool, chunk_size: int, dask_address: str | None, progress: bool,
    workers: int | None,
) -> Any:  # fmt: skip
    import pyarrow as pa

    from loopline.scoring.predictor import ChunkPredictor

    assert isinstance(predictor, ChunkPredictor)
    types = [
        pa.field(c, getattr(pa, _TYPES.get(t, "string"))())
        for c, t in zip(predictor.columns, predictor.types, strict=True)
    ]
    inputs = _json_table(rows.column("inputs").combine_chunks(), pa.schema(types), others="infer")
    inputs = inputs.append_column(LINK_COLUMN, rows.column("prediction_id"))
    keys = rows.column("request_key")
    key_column = None
    if keys.null_count < len(keys):  # a row without a key draws at random, as it did
        inputs, key_column = inputs.append_column(_KEY, keys), _KEY
    root = str(services.eventlog_root) if log else None
    job = Job(name, version, deployment, policy, key_column, (), root)
    chunks = (inputs.slice(i, chunk_size) for i in range(0, inputs.num_rows, chunk_size))
    sink = Sink()
    run_chunks(job, predictor, chunks, sink, total=inputs.num_rows, workers=workers,
               dask_address=dask_address, progress=progress,
               label=f"rescoring {deployment}")  # fmt: skip
    return _changes(rows, sink.close() or pa.table({}), version)


def _changes(old: Any, new: Any, version: int) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    n = old.num_rows
    text = pa.string()
    scores = _json_table(old.column("outputs").combine_chunks(),
                         pa.schema([("score", pa.float64())]))  # fmt: skip

    def pick(table: Any, column: str, kind: Any) -> Any:
        if column in table.column_names:
            return table.column(column).cast(kind)
        return pa.nulls(n, kind)

    old_action, new_action = pick(old, "action", text), pick(new, "action", text)
    same = pc.equal(old_action, new_action)
    changed = pc.if_else(
        pc.is_null(same), pc.xor(pc.is_null(old_action), pc.is_null(new_action)), pc.invert(same)
    )
    score = "score" if "score" in new.column_names else "prediction"
    return pa.table({
        "prediction_id": old.column("prediction_id"),
        "new_prediction_id": pick(new, "prediction_id", text),
        "deployment": old.column("deployment"),
        "old_model_version": old.column("model_version"),
        "new_model_version": pa.repeat(pa.scalar(version, pa.int64()), n),
        "old_score": scores.column("score"),
        "new_score": pick(new, score, pa.float64()),
        "old_action": old_action,
        "new_action": new_action,
        "old_rule": pick(old, "rule", text),
        "new_rule": pick(new, "rule", text),
        "changed": changed,
    })  # fmt: skip
