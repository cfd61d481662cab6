"""loopline's own route: ``POST /deployments/{name}/predict``.

Request: ``{"rows": [{column: value}, ...]}`` or ``{"columns": [...], "data": [[...], ...]}``,
optionally ``"request_keys": [...]`` (one per row, echoed) and ``"explain": true``.

Answer: ``{"deployment", "model_version", "predictions": [...]}``, each prediction with
``prediction_id``, ``label``, ``proba`` ({class: p}), ``score`` (probability of the positive
class of a binary classifier, else null), ``decision`` (null until a policy is attached),
``model_version``, ``variant``, ``request_key`` and, when asked, ``explanation``. The decision
is the deployment policy's, computed once per request with the request's JSON rows (so routing
rules may read fields the model does not); ``policy_version`` names the policy that made it.
"""

from __future__ import annotations

from typing import Any

from loopline.serving.endpoint import Endpoint
from loopline.serving.http import HttpError
from loopline.serving.pipeline import Decoded, Scored, split_inputs
from loopline.serving.runtime import ModelRuntime

__all__ = ["decode_predict", "encode_predict"]


def decode_predict(runtime: ModelRuntime, body: Any) -> tuple[Decoded, bool]:
    """The decoded request (batch, JSON inputs, request keys) and whether to explain."""
    if not isinstance(body, dict):
        raise HttpError(
            400, "The request must be a JSON object with 'rows' (or 'columns' and 'data')."
        )
    explain = body.get("explain", False)
    if not isinstance(explain, bool):
        raise HttpError(400, f"'explain' must be true or false; got {explain!r}.")
    if "rows" in body:
        rows = body["rows"]
        batch = runtime.from_rows(rows, "rows")
        inputs: Any = rows
    elif "columns" in body or "data" in body:
        columns, data = body.get("columns"), body.get("data")
        batch = runtime.from_split(columns, data, "data")
        inputs = split_inputs(columns, data)
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
    return Decoded(batch, inputs, keys), explain


def encode_predict(
    endpoint: Endpoint,
    scored: Scored,
    explanations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The answer of ``/deployments/{name}/predict`` for a request :func:`pipeline.run` scored."""
    rows = scored.rows
    assert rows is not None
    if explanations is not None:
        for item, explanation in zip(rows, explanations, strict=True):
            item["explanation"] = explanation
    version = scored.runtime.version
    return {"deployment": endpoint.name, "model_version": version, "predictions": rows}
