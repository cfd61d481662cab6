"""loopline's own route: ``POST /deployments/{name}/predict``.

Request: ``{"rows": [{column: value}, ...]}`` or ``{"columns": [...], "data": [[...], ...]}``,
optionally ``"request_keys": [...]`` (one per row, echoed) and ``"explain": true``.

Answer: ``{"deployment", "model_version", "predictions": [...]}``, each prediction with
``prediction_id``, ``label``, ``proba`` ({class: p}), ``score`` (probability of the positive
class of a binary classifier, else null), ``decision`` (null until a policy is attached),
``model_version``, ``variant``, ``request_key`` and, when asked, ``explanation``.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from loopline.eventlog.ids import new_prediction_id
from loopline.serving.endpoint import Endpoint
from loopline.serving.http import HttpError
from loopline.serving.runtime import ModelRuntime, Scores

__all__ = ["decode_predict", "encode_predict"]


def decode_predict(runtime: ModelRuntime, body: Any) -> tuple[Any, list[Any] | None, bool]:
    """The batch, the request keys and whether explanations were asked for."""
    if not isinstance(body, dict):
        raise HttpError(
            400, "The request must be a JSON object with 'rows' (or 'columns' and 'data')."
        )
    explain = body.get("explain", False)
    if not isinstance(explain, bool):
        raise HttpError(400, f"'explain' must be true or false; got {explain!r}.")
    if "rows" in body:
        batch = runtime.from_rows(body["rows"], "rows")
    elif "columns" in body or "data" in body:
        batch = runtime.from_split(body.get("columns"), body.get("data"), "data")
    else:
        raise HttpError(
            400,
            "The request needs 'rows' (a list of {column: value} objects) or 'columns' and 'data'.",
        )
    keys = body.get("request_keys")
    count = int(batch.shape[0])
    if keys is not None:
        if not isinstance(keys, list) or len(keys) != count:
            raise HttpError(400, f"'request_keys' must be a list of {count} keys (one per row).")
        for key in keys:
            if key is not None and not isinstance(key, str | int):
                raise HttpError(
                    400,
                    f"Each request key must be a string or an integer; got {type(key).__name__}.",
                )
    return batch, keys, explain


def encode_predict(
    endpoint: Endpoint,
    runtime: ModelRuntime,
    scores: Scores,
    keys: list[Any] | None,
    explanations: list[dict[str, Any]] | None,
    batch: Any = None,
    variant: str | None = None,
) -> dict[str, Any]:
    predictions = []
    labels = scores.labels.tolist()
    classes = runtime.classes
    probas = scores.proba.tolist() if scores.proba is not None else None
    binary = probas is not None and len(probas[0]) == 2 if probas else False
    version = runtime.version
    decisions = _decide(endpoint, runtime, batch, scores, keys) if endpoint.policy else None
    for i, label in enumerate(labels):
        item: dict[str, Any] = {"prediction_id": new_prediction_id(), "label": label}
        if probas is not None:
            row = probas[i]
            names = classes if classes is not None and len(classes) == len(row) else range(len(row))
            item["proba"] = {str(c): p for c, p in zip(names, row, strict=True)}
            item["score"] = row[1] if binary else None
        else:
            item["score"] = label
        item["decision"] = decisions[i] if decisions is not None else None
        item["model_version"] = version
        item["variant"] = variant or endpoint.variant
        if keys is not None:
            item["request_key"] = keys[i]
        if explanations is not None:
            item["explanation"] = explanations[i]
        predictions.append(item)
    return {"deployment": endpoint.name, "model_version": version, "predictions": predictions}


def _decide(
    endpoint: Endpoint, runtime: ModelRuntime, batch: Any, scores: Scores, keys: list[Any] | None
) -> list[dict[str, Any]]:
    """The policy's decision per row (inputs by column; one row as a dict, its fast path)."""
    assert endpoint.policy is not None
    if hasattr(batch, "tolist"):
        if batch.shape[0] == 1:
            inputs: Any = dict(zip(runtime.columns, batch[0].tolist(), strict=True))
        else:
            inputs = {c: batch[:, i] for i, c in enumerate(runtime.columns)}
    else:
        inputs = {c: batch[c].to_numpy() for c in runtime.columns}
    decided = endpoint.policy.decide(
        scores.proba if scores.proba is not None else scores.labels,
        inputs,
        request_keys=keys,
        classes=runtime.classes,
        labels=scores.labels.tolist(),
    )
    version = getattr(decided, "policy_version", None)
    rows = list(decided.to_rows())
    for row in rows:
        row["policy_version"] = version
    return rows


def canary_side(endpoint: Endpoint, document: Any, headers: dict[bytes, bytes]) -> bool:
    """Whether this request goes to the canary: by the sticky key's value, else at random."""
    config = endpoint.challenger
    share = float(getattr(config, "share", None) or 0.0)
    key = getattr(config, "sticky_key", None)
    value: Any = None
    if key:
        value = _sticky_value(document, key)
        if value is None:
            header = headers.get(key.lower().encode("latin-1"))
            value = header.decode("latin-1") if header is not None else None
    if value is None:
        return random.random() < share
    digest = hashlib.blake2b(f"{endpoint.name}\x00{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64 < share


def _sticky_value(document: Any, key: str) -> Any:
    if not isinstance(document, dict):
        return None
    rows = document.get("rows")
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        return rows[0].get(key)
    columns, data = document.get("columns"), document.get("data")
    if isinstance(columns, list) and key in columns and isinstance(data, list) and data:
        first = data[0]
        index = columns.index(key)
        return first[index] if isinstance(first, list) and index < len(first) else None
    return None
