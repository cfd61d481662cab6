"""Open Inference Protocol (KServe V2) over REST: metadata, readiness and JSON inference.

Tabular input comes in one of two conventions:

- one 2-D tensor ``[N, F]`` (flat or nested ``data``) with the columns in the order of the
  model's inputs, as tritonclient and KServe's ``set_data_from_numpy`` send it;
- MLServer's ``pd`` convention: one 1-D input per column, named like the signature's columns
  (``parameters.content_type = "pd"`` at request level, or inputs that all name columns).

Outputs: ``label`` ([N]) and ``proba`` ([N, K], FP64) for classifiers, ``prediction`` ([N])
otherwise. A request may also ask (in ``outputs``) for ``action`` (the deployment policy's
action per row) and ``prediction_id`` (the id each row was logged under, for outcomes); they are
never sent unasked, so a plain V2 client sees plain V2 answers. Triton's binary tensor extension
is framed in :mod:`loopline.serving.v2_binary`; this module sees its inputs as JSON ``data``.
"""

from __future__ import annotations

from typing import Any

from loopline.serving.endpoint import Endpoint
from loopline.serving.http import HttpError
from loopline.serving.pipeline import Decoded, Scored
from loopline.serving.runtime import ModelRuntime

__all__ = ["EXTRA_OUTPUTS", "decode_infer", "encode_infer", "model_metadata"]

EXTRA_OUTPUTS = ("action", "prediction_id")
"""Outputs a client may ask for by name beyond the model's: the policy's action per row (null
without a policy) and the prediction id each row was logged under (BYTES, shape [N])."""

DATATYPES = frozenset(
    {
        "BOOL",
        "UINT8",
        "UINT16",
        "UINT32",
        "UINT64",
        "INT8",
        "INT16",
        "INT32",
        "INT64",
        "FP16",
        "FP32",
        "FP64",
        "BYTES",
        "BF16",
    }
)
_BY_TYPE = {"integer": "INT64", "float": "FP64", "boolean": "BOOL"}


def model_metadata(endpoint: Endpoint, runtime: ModelRuntime) -> dict[str, Any]:
    if runtime.numeric:
        inputs = [{"name": "input-0", "datatype": "FP64", "shape": [-1, len(runtime.columns)]}]
        parameters: dict[str, Any] = {"columns": list(runtime.columns)}
    else:
        inputs = [
            {"name": c, "datatype": _BY_TYPE.get(t, "BYTES"), "shape": [-1]}
            for c, t in zip(runtime.columns, runtime.types, strict=True)
        ]
        parameters = {"content_type": "pd", "columns": list(runtime.columns)}
    if runtime.has_proba:
        width = len(runtime.classes) if runtime.classes is not None else -1
        outputs = [
            {"name": "label", "datatype": _label_type(runtime), "shape": [-1]},
            {"name": "proba", "datatype": "FP64", "shape": [-1, width]},
        ]
    else:
        outputs = [{"name": "prediction", "datatype": "FP64", "shape": [-1]}]
    return {
        "name": endpoint.name,
        "versions": [str(runtime.version)],
        "platform": runtime.flavor,
        "inputs": inputs,
        "outputs": outputs,
        "parameters": parameters,
    }


def _label_type(runtime: ModelRuntime) -> str:
    classes = runtime.classes or []
    if classes and all(isinstance(c, bool) for c in classes):
        return "BOOL"
    if classes and all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return "INT64"
    if classes and all(isinstance(c, int | float) for c in classes):
        return "FP64"
    return "BYTES"


def decode_infer(runtime: ModelRuntime, body: Any) -> tuple[Decoded, list[str] | None]:
    """The decoded request and the requested output names (None: the model's)."""
    if not isinstance(body, dict):
        raise HttpError(400, "The inference request must be a JSON object with 'inputs'.")
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise HttpError(400, "'inputs' must be a non-empty list of tensors.")
    for position, tensor in enumerate(inputs):
        if not isinstance(tensor, dict):
            raise HttpError(
                400, f"inputs[{position}] must be an object (name, shape, datatype, data)."
            )
        parameters = tensor.get("parameters")
        name = tensor.get("name")
        if not isinstance(name, str):
            raise HttpError(400, f"inputs[{position}].name must be a string.")
        if isinstance(parameters, dict) and "binary_data_size" in parameters:
            raise HttpError(
                400,
                f"inputs[{position}] ({name!r}) sets parameters.binary_data_size but the request "
                "has no Inference-Header-Content-Length header (the JSON header's byte length).",
            )
        datatype = tensor.get("datatype")
        if datatype is not None and (not isinstance(datatype, str) or datatype not in DATATYPES):
            raise HttpError(
                400,
                f"inputs[{position}] ({name!r}): unknown datatype {datatype!r}; "
                f"expected one of {sorted(DATATYPES)}.",
            )
        if "data" not in tensor:
            raise HttpError(400, f"inputs[{position}] ({name!r}) has no 'data'.")
    outputs = _requested(runtime, body.get("outputs"))
    parameters = body.get("parameters")
    content = parameters.get("content_type") if isinstance(parameters, dict) else None
    names = [t["name"] for t in inputs]
    columnar = content == "pd" or (
        all(n in runtime.index for n in names)
        and (len(inputs) > 1 or not _two_dimensional(inputs[0]))
    )
    if columnar:
        columns: dict[str, Any] = {}
        for tensor in inputs:
            data = tensor["data"]
            shape = tensor.get("shape")
            if isinstance(data, list) and data and isinstance(data[0], list):
                data = [row[0] if isinstance(row, list) and len(row) == 1 else row for row in data]
            if isinstance(shape, list) and len(shape) > 2:
                raise HttpError(
                    400,
                    f"Input {tensor['name']!r} must be 1-D (one value per row); got shape {shape}.",
                )
            columns[tensor["name"]] = data
        inputs = {k: v for k, v in columns.items() if isinstance(v, list)}
        return Decoded(runtime.from_columns(columns, "inputs"), inputs or None), outputs
    if len(inputs) != 1:
        raise HttpError(
            400,
            f"Send one 2-D tensor [N, {len(runtime.columns)}], or one input per column named like "
            f"the model's inputs {list(runtime.columns)[:5]}... (content_type 'pd'); got inputs "
            f"{names[:5]}.",
        )
    tensor = inputs[0]
    batch = runtime.from_tensor(tensor["data"], tensor.get("shape"), "inputs[0].data")
    return Decoded(batch), outputs


def _two_dimensional(tensor: dict[str, Any]) -> bool:
    shape = tensor.get("shape")
    if isinstance(shape, list):
        return len(shape) == 2 and shape[-1] != 1
    data = tensor.get("data")
    return isinstance(data, list) and bool(data) and isinstance(data[0], list)


def _requested(runtime: ModelRuntime, outputs: Any) -> list[str] | None:
    if outputs is None:
        return None
    if not isinstance(outputs, list):
        raise HttpError(400, "'outputs' must be a list of {\"name\": ...} objects.")
    names = []
    for position, item in enumerate(outputs):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise HttpError(400, f"outputs[{position}] must be an object with a 'name'.")
        if name not in runtime.output_names and name not in EXTRA_OUTPUTS:
            known = [*runtime.output_names, *EXTRA_OUTPUTS]
            raise HttpError(400, f"Unknown output {name!r}; this model has {known}.")
        names.append(name)
    return names


def encode_infer(
    endpoint: Endpoint, scored: Scored, outputs: list[str] | None, body: Any
) -> dict[str, Any]:
    """The inference response; ``action``/``prediction_id`` only when asked for in ``outputs``."""
    runtime, scores = scored.runtime, scored.scores
    count = len(scores)
    tensors = []
    for name in outputs if outputs is not None else runtime.output_names:
        if name in EXTRA_OUTPUTS:
            if name == "action":
                decisions = scored.decisions
                data: list[Any] = (
                    [d.get("action") for d in decisions] if decisions else [None] * count
                )
            else:
                data = list(scored.ids or [])
            tensors.append({"name": name, "datatype": "BYTES", "shape": [count], "data": data})
        elif name == "proba":
            assert scores.proba is not None
            shape = [count, int(scores.proba.shape[1])]
            tensors.append(
                {
                    "name": "proba",
                    "datatype": "FP64",
                    "shape": shape,
                    "data": scores.proba.ravel().tolist(),
                }
            )
        else:
            datatype = _label_type(runtime) if name == "label" else "FP64"
            data = scores.labels.tolist()
            if datatype == "BYTES":
                data = [str(v) for v in data]
            tensors.append({"name": name, "datatype": datatype, "shape": [count], "data": data})
    answer: dict[str, Any] = {
        "model_name": endpoint.name,
        "model_version": str(runtime.version),
        "outputs": tensors,
    }
    request_id = body.get("id") if isinstance(body, dict) else None
    if isinstance(request_id, str):
        answer["id"] = request_id
    return answer
