"""What every scoring route does with a request: pick the variant, score, decide, log.

A route decodes its own protocol into a :class:`Decoded` (the model batch, the request's JSON
inputs as they came - dict rows or column lists, for the policy - and the request keys) through a
decoder that takes the runtime to decode for (the champion's, or the challenger's: their
signatures may differ). :func:`run` then

1. picks the side: a canary challenger answers its ``share`` of the requests, sticky by the
   ``sticky_key`` input field (first row) or header, else at random;
2. scores the batch (micro-batched with concurrent requests, :class:`MicroBatcher`);
3. calls the deployment's policy once for the request's rows, with the JSON inputs (fields the
   model does not read, like a segment or a channel, are visible to routing rules);
4. gives every row a prediction id and appends the rows to the event log in the deployment's
   logging mode: queued (``async``), or fsynced on a worker thread *before* the route answers
   (``durable``);
5. schedules the shadow challenger (scored, decided and logged as variant ``shadow`` after the
   answer, never returned).

No pandas anywhere on this path; a policy gets numpy columns or plain rows.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from loopline.eventlog.ids import new_prediction_id
from loopline.serving.endpoint import Endpoint
from loopline.serving.runtime import ModelRuntime, Scores

__all__ = ["Decoded", "Decoder", "Scored", "prediction_rows", "run", "sticky_value"]

log = logging.getLogger("loopline.serving")


@dataclass(slots=True)
class Decoded:
    """A decoded request: the model's batch, the JSON inputs for the policy, the request keys.

    ``inputs`` is a list of dict rows, a mapping column -> list of values, or None (then the
    policy reads the model's own columns from ``batch``).
    """

    batch: Any
    inputs: Any = None
    keys: list[Any] | None = None


Decoder = Callable[[ModelRuntime], Decoded]


@dataclass(slots=True)
class Scored:
    """The result of :func:`run` for one request."""

    runtime: ModelRuntime
    decoded: Decoded
    scores: Scores
    variant: str
    ids: list[str] | None
    decisions: list[dict[str, Any]] | None
    policy_version: str | None
    rows: list[dict[str, Any]] | None


class SplitColumns(Mapping[str, list[Any]]):
    """``columns`` + ``data`` (a list of rows) seen as a mapping of columns, built on access.

    Examples:
        >>> cols = SplitColumns(["a", "b"], [[1, "x"], [2, "y"]])
        >>> cols["b"], len(cols), "c" in cols
        (['x', 'y'], 2, False)
    """

    __slots__ = ("_data", "_index")

    def __init__(self, columns: list[Any], data: list[Any]) -> None:
        self._index = {str(c): i for i, c in enumerate(columns)}
        self._data = data

    def __getitem__(self, name: str) -> list[Any]:
        i = self._index[name]
        return [row[i] if isinstance(row, list) and i < len(row) else None for row in self._data]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


def split_inputs(columns: Any, data: Any) -> Any:
    """The policy's view of a ``columns``/``data`` request (None when it is malformed)."""
    if isinstance(columns, list) and isinstance(data, list) and data:
        return SplitColumns(columns, data)
    return None


def sticky_value(document: Any, key: str) -> Any:
    """The ``key`` field of the first row of a request, in any protocol's JSON shape.

    Examples:
        >>> sticky_value({"rows": [{"customer": "c1"}]}, "customer")
        'c1'
        >>> sticky_value({"dataframe_split": {"columns": ["customer"], "data": [["c2"]]}},
        ...              "customer")
        'c2'
        >>> sticky_value({"inputs": [{"name": "customer", "data": ["c3"]}]}, "customer")
        'c3'
    """
    if not isinstance(document, dict):
        return None
    for name in ("rows", "dataframe_records", "instances", "inputs"):
        value = document.get(name)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            first = value[0]
            if "name" in first and "data" in first and name == "inputs":  # V2 tensors
                for tensor in value:
                    if isinstance(tensor, dict) and tensor.get("name") == key:
                        return _first(tensor.get("data"))
                return None
            return first.get(key)
        if isinstance(value, dict):
            return _first(value.get(key))
    split = document.get("dataframe_split")
    source = split if isinstance(split, dict) else document
    columns, data = source.get("columns"), source.get("data")
    if isinstance(columns, list) and key in columns and isinstance(data, list) and data:
        row = data[0]
        index = columns.index(key)
        return row[index] if isinstance(row, list) and index < len(row) else None
    return None


def _first(value: Any) -> Any:
    while isinstance(value, list):
        if not value:
            return None
        value = value[0]
    return value


def canary_side(endpoint: Endpoint, document: Any, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether this request goes to the canary: by the sticky key's value, else at random."""
    config = endpoint.challenger
    share = float(getattr(config, "share", None) or 0.0)
    key = getattr(config, "sticky_key", None)
    value: Any = None
    if key:
        value = sticky_value(document, key)
        if value is None:
            wanted = key.lower().encode("latin-1")
            header = next((bytes(v) for k, v in headers if k == wanted), None)
            value = header.decode("latin-1") if header is not None else None
    if value is None:
        return random.random() < share
    digest = hashlib.blake2b(f"{endpoint.name}\x00{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64 < share


def _mode(endpoint: Endpoint) -> str | None:
    if endpoint.challenger_runtime is None:
        return None
    return getattr(endpoint.challenger, "mode", None)


async def run(
    endpoint: Endpoint,
    decode: Decoder,
    document: Any,
    headers: Iterable[tuple[bytes, bytes]],
    *,
    want_rows: bool = False,
    shadows: set[asyncio.Task[None]] | None = None,
) -> Scored:
    """Score a request on ``endpoint`` (see the module); rows are built when logged or wanted."""
    runtime = endpoint.runtime
    assert runtime is not None
    variant = endpoint.variant
    mode = _mode(endpoint)
    challenger = endpoint.challenger_runtime
    if mode == "canary" and challenger is not None and canary_side(endpoint, document, headers):
        runtime, variant = challenger, "canary"
    decoded = decode(runtime)
    scored = await _score(endpoint, runtime, decoded, variant, want_rows=want_rows)
    if mode == "shadow" and challenger is not None and shadows is not None:
        task = asyncio.get_running_loop().create_task(_shadow(endpoint, challenger, decode))
        shadows.add(task)
        task.add_done_callback(shadows.discard)
    return scored


async def _score(
    endpoint: Endpoint, runtime: ModelRuntime, decoded: Decoded, variant: str, *, want_rows: bool
) -> Scored:
    scores = await endpoint.score(runtime, decoded.batch)
    decisions, version = decide(endpoint, runtime, scores, decoded)
    logger = endpoint.logger
    ids = rows = None
    if want_rows or logger is not None:
        ids = [new_prediction_id() for _ in range(len(scores))]
        rows = prediction_rows(runtime, scores, ids, decisions, decoded.keys, variant)
        if logger is not None:
            await _log(logger, endpoint.name, runtime, decoded.batch, rows)
    return Scored(runtime, decoded, scores, variant, ids, decisions, version, rows)


async def _shadow(endpoint: Endpoint, runtime: ModelRuntime, decode: Decoder) -> None:
    """Score the shadow challenger after the answer went out; log, never return, its rows."""
    try:
        decoded = decode(runtime)
        scored = await _score(endpoint, runtime, decoded, "shadow", want_rows=False)
        endpoint.shadowed += len(scored.scores)
    except Exception as exc:  # a shadow never affects the caller
        endpoint.last_error = f"shadow: {exc}"
        log.warning("deployment %s: the shadow challenger failed: %s", endpoint.name, exc)


async def _log(
    logger: Any, name: str, runtime: ModelRuntime, batch: Any, rows: list[dict[str, Any]]
) -> None:
    """Log predictions: queued at once (async), or on a thread before the answer (durable)."""
    if getattr(logger, "blocking", False):
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, logger.log, name, runtime, batch, rows)
    else:
        logger.log(name, runtime, batch, rows)


def decide(
    endpoint: Endpoint, runtime: ModelRuntime, scores: Scores, decoded: Decoded
) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The policy's decision per row (None without a policy) and the policy's version.

    One call per request: the JSON inputs as they came (a lone row takes the policy's
    plain-Python path), else the model's columns of the batch.
    """
    policy = endpoint.policy
    if policy is None:
        return None, None
    inputs = decoded.inputs
    batch = decoded.batch
    if inputs is None:
        if hasattr(batch, "tolist"):
            if batch.shape[0] == 1:
                inputs = dict(zip(runtime.columns, batch[0].tolist(), strict=True))
            else:
                inputs = {c: batch[:, i] for i, c in enumerate(runtime.columns)}
        else:  # a DataFrame of a model with text columns: its columns as numpy arrays
            inputs = {c: batch[c].to_numpy() for c in runtime.columns}
    labels = scores.labels.tolist()
    decided = policy.decide(
        scores.proba if scores.proba is not None else scores.labels,
        inputs,
        request_keys=decoded.keys,
        classes=runtime.classes,
        labels=labels,
    )
    version = getattr(decided, "policy_version", None)
    rows = list(decided.to_rows())
    for row in rows:
        row["policy_version"] = version
    return rows, version


def prediction_rows(
    runtime: ModelRuntime,
    scores: Scores,
    ids: list[str],
    decisions: list[dict[str, Any]] | None,
    keys: list[Any] | None,
    variant: str,
) -> list[dict[str, Any]]:
    """One JSON-ready prediction per row (what ``/predict`` answers and the log records)."""
    labels = scores.labels.tolist()
    classes = runtime.classes
    probas = scores.proba.tolist() if scores.proba is not None else None
    binary = bool(probas) and len(probas[0]) == 2  # type: ignore[index]
    names: Any = None
    if probas:
        width = len(probas[0])
        names = (
            [str(c) for c in classes]
            if classes is not None and len(classes) == width
            else [str(i) for i in range(width)]
        )
    version = runtime.version
    rows = []
    for i, label in enumerate(labels):
        item: dict[str, Any] = {"prediction_id": ids[i], "label": label}
        if probas is not None:
            p = probas[i]
            item["proba"] = dict(zip(names, p, strict=True))
            item["score"] = p[1] if binary else None
        else:
            item["score"] = label
        item["decision"] = decisions[i] if decisions is not None else None
        item["model_version"] = version
        item["variant"] = variant
        if keys is not None:
            item["request_key"] = keys[i]
        rows.append(item)
    return rows
