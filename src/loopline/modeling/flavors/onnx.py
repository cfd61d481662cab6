"""The ONNX flavor: an ONNX graph run with onnxruntime.

An ONNX file is a graph of standard operators, so loading one runs no code from the file (custom
operator libraries are never registered). ``predict`` feeds a mapping of input names, a DataFrame
(one column per input, or the whole frame to a single input) or an array (to a single input), cast
to the dtypes the graph declares; it returns the first output. ``predict_proba`` is offered when an
output's name mentions probabilities, as skl2onnx names them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopline.errors import InvalidArgumentError
from loopline.modeling.flavors.base import (
    Flavor,
    LoadedModel,
    Trust,
    comes_from,
    distribution_version,
)

__all__ = ["OnnxFlavor"]

_FILE = "model.onnx"
_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


class OnnxFlavor(Flavor):
    """An ``onnx.ModelProto`` or its serialized bytes."""

    name = "onnx"
    extra = "onnx"

    def can_save(self, model: Any) -> bool:
        if isinstance(model, bytes | bytearray):
            return True
        return comes_from(model, "onnx") and callable(getattr(model, "SerializeToString", None))

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        if not self.can_save(model):
            raise self._refuse(model, "it is neither an onnx ModelProto nor bytes.")
        ort = self._import("onnxruntime")
        content = (
            bytes(model) if isinstance(model, bytes | bytearray) else model.SerializeToString()
        )
        try:
            session = ort.InferenceSession(content, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise self._refuse(model, f"onnxruntime cannot run it ({exc}).") from None
        folder.mkdir(parents=True, exist_ok=True)
        (folder / _FILE).write_bytes(content)
        inputs = [
            {"name": i.name, "type": i.type, "shape": _shape(i.shape)} for i in session.get_inputs()
        ]
        outputs = [o.name for o in session.get_outputs()]
        versions = {"onnxruntime": ort.__version__, "onnx": distribution_version("onnx")}
        return self._meta(model, files=[_FILE], inputs=inputs, outputs=outputs, versions=versions)

    def load(self, folder: Path, meta: Mapping[str, Any], *, trusted: Trust = False) -> LoadedModel:
        ort = self._import("onnxruntime")
        np = self._import("numpy")
        session = ort.InferenceSession(
            str(self._file(folder, meta)), providers=["CPUExecutionProvider"]
        )
        inputs = [(i.name, _DTYPES.get(i.type)) for i in session.get_inputs()]
        outputs = [o.name for o in session.get_outputs()]
        proba_name = next((name for name in outputs if "prob" in name.lower()), None)

        def run(data: Any, output: str) -> Any:
            result = session.run([output], _feed(np, inputs, data))[0]
            if isinstance(result, list) and result and isinstance(result[0], dict):
                keys = sorted(result[0])
                return np.array([[row[key] for key in keys] for row in result])
            return result

        def predict(data: Any) -> Any:
            return run(data, outputs[0])

        def predict_proba(data: Any) -> Any:
            return run(data, str(proba_name))

        return LoadedModel(
            session,
            flavor=self.name,
            meta=meta,
            predict=predict,
            predict_proba=predict_proba if proba_name else None,
        )


def _shape(shape: Any) -> list[Any]:
    return [dim if isinstance(dim, int | str) or dim is None else str(dim) for dim in shape]


def _feed(np: Any, inputs: list[tuple[str, str | None]], data: Any) -> dict[str, Any]:
    """Map ``data`` to the graph's inputs by name, cast to the declared dtypes."""
    names = [name for name, _ in inputs]
    if isinstance(data, Mapping):
        missing = [name for name in names if name not in data]
        if missing:
            raise InvalidArgumentError(
                f"The ONNX model needs the inputs {', '.join(names)}; "
                f"missing {', '.join(missing)}.",
                missing=missing,
            )
        columns = {name: np.asarray(data[name]) for name in names}
    elif hasattr(data, "columns") and all(name in data.columns for name in names):
        columns = {name: data[name].to_numpy().reshape(-1, 1) for name in names}
    elif len(names) == 1:
        values = data.to_numpy() if hasattr(data, "to_numpy") else data
        columns = {names[0]: np.asarray(values)}
    else:
        raise InvalidArgumentError(
            f"The ONNX model has several inputs ({', '.join(names)}): pass a mapping or a "
            f"DataFrame with those names; got {type(data).__name__}.",
            inputs=names,
        )
    dtypes = dict(inputs)
    return {
        name: value if dtypes[name] is None else value.astype(dtypes[name], copy=False)
        for name, value in columns.items()
    }
