"""A loaded model version and its fast predictor.

For a signature whose columns are all numeric (integer, float, boolean) a request is decoded
straight into a 2-D float64 NumPy array in the model's column order and handed to the raw
estimator: no pandas per request. Other signatures (text or categorical columns) go through
:func:`loopline.modeling.signature.enforce`, which builds a DataFrame per request.

Logistic regressions and gradient boosting classifiers are scored by a direct computation
checked against the estimator when loaded (:mod:`loopline.serving.fastpath`).

A scikit-learn estimator fitted on a DataFrame warns "X does not have valid feature names" on
every call with an array. The runtime removes ``feature_names_in_`` from its own loaded copy of
such an estimator (after taking the column order from it), so the check is skipped instead of
warned about; estimators where the attribute cannot be removed are called inside
``warnings.catch_warnings`` (see ``docs/serving.md``).

Checks name the field: a missing column, a value of the wrong type, a missing value where the
signature allows none, a category the model never saw, a tensor of the wrong shape.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loopline.errors import InvalidArgumentError
from loopline.modeling.compiled import strip_feature_names as _strip_feature_names

if TYPE_CHECKING:
    from loopline.modeling.logged import LoggedModel

__all__ = ["ModelRuntime", "Scores", "concat_batches"]

_NUMERIC = frozenset({"integer", "float", "boolean"})
_FEATURE_NAMES_WARNING = "X does not have valid feature names"


@dataclass(slots=True)
class Scores:
    """Outputs for a batch: ``labels`` (N), ``proba`` (N, K) or None for a regressor."""

    labels: Any
    proba: Any | None

    def rows(self, start: int, stop: int) -> Scores:
        proba = self.proba[start:stop] if self.proba is not None else None
        return Scores(self.labels[start:stop], proba)

    def __len__(self) -> int:
        return len(self.labels)


def concat_batches(batches: Sequence[Any]) -> Any:
    """One batch from several inputs of the same runtime (arrays or DataFrames)."""
    if len(batches) == 1:
        return batches[0]
    first = batches[0]
    if type(first).__module__.startswith("numpy"):
        import numpy as np

        return np.concatenate(batches, axis=0)
    import pandas as pd

    return pd.concat(batches, ignore_index=True)


def batch_rows(batch: Any) -> int:
    return int(batch.shape[0])


def _fail(message: str, field: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, field=field)


class ModelRuntime:
    """One loaded model version, ready to score arrays.

    Args:
        logged: the loaded model (:func:`loopline.modeling.logged.load_logged_model`).
        name: the registered model's name.
        version: its version number.
        means: training means per column (the training profile), for linear explanations.
    """

    def __init__(
        self,
        logged: LoggedModel,
        *,
        name: str,
        version: int,
        means: Mapping[str, float] | None = None,
    ) -> None:
        self.logged = logged
        self.name = name
        self.version = version
        self.flavor = str(logged.loaded.flavor)
        self.estimator = logged.model
        self.signature = logged.signature
        self.means = dict(means or {})
        specs = list(self.signature.inputs) if self.signature is not None else []
        names = getattr(self.estimator, "feature_names_in_", None)
        if specs:
            by_name = {s.name: s for s in specs}
            order = [str(n) for n in names] if names is not None else [s.name for s in specs]
            if names is not None and any(n not in by_name for n in order):
                order = [s.name for s in specs]
            self.columns: tuple[str, ...] = tuple(order)
            self.types = tuple(by_name[c].type for c in self.columns)
            self.nullable = tuple(by_name[c].nullable for c in self.columns)
        else:
            count = int(getattr(self.estimator, "n_features_in_", 0) or 0)
            self.columns = (
                tuple(str(n) for n in names)
                if names is not None
                else tuple(f"f{i}" for i in range(count))
            )
            self.types = ("float",) * len(self.columns)
            self.nullable = (True,) * len(self.columns)
        self.index = {c: i for i, c in enumerate(self.columns)}
        self.numeric = all(t in _NUMERIC for t in self.types) and bool(self.columns)
        self._strict_ints = [i for i, t in enumerate(self.types) if t == "integer"]
        self._not_null = [i for i, ok in enumerate(self.nullable) if not ok]
        self.has_proba = bool(logged.loaded.has_predict_proba)
        classes = getattr(self.estimator, "classes_", None)
        self.classes: list[Any] | None = (
            [c.item() if hasattr(c, "item") else c for c in classes]
            if classes is not None
            else None
        )
        self._quiet = True
        if self.numeric:
            self._quiet = _strip_feature_names(self.estimator)
        self._predict = logged.loaded.predict
        self._predict_proba = logged.loaded.predict_proba if self.has_proba else None
        self.fast = False
        if self.numeric and self._quiet and self._predict_proba is not None:
            from loopline.serving.fastpath import fast_predict_proba

            fast = fast_predict_proba(self.estimator, len(self.columns), self._predict_proba)
            if fast is not None:
                self._predict_proba, self.fast = fast, True
        from loopline.serving.compiled import accelerate  # tree ensembles: compiled, checked

        accelerate(self)
        self.cost = self._measure()

    def __repr__(self) -> str:
        return f"ModelRuntime({self.name!r}, version={self.version}, flavor={self.flavor!r})"

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("label", "proba") if self.has_proba else ("prediction",)

    # -- decoding -------------------------------------------------------------------------------

    def from_rows(self, rows: Any, field: str = "rows") -> Any:
        """A batch from a list of ``{column: value}`` objects (extra keys are ignored)."""
        if not isinstance(rows, list) or not rows:
            raise _fail(f"{field!r} must be a non-empty list of objects.", field)
        for position, row in enumerate(rows):
            if not isinstance(row, dict):
                raise _fail(
                    f"{field}[{position}] must be an object of column values; got "
                    f"{type(row).__name__}.",
                    field,
                )
        if not self.numeric:
            return self._frame({c: [row.get(c) for row in rows] for c in self._present(rows)})
        try:
            values = [[row[c] for c in self.columns] for row in rows]
        except KeyError as exc:
            column = str(exc.args[0])
            raise InvalidArgumentError(
                f"The input lacks the column {column!r} that the model's signature requires.",
                field=column,
                columns=[column],
            ) from None
        return self._array(values)

    def _present(self, rows: list[dict[str, Any]]) -> list[str]:
        missing = [c for c in self.columns if any(c not in row for row in rows)]
        if missing:
            raise InvalidArgumentError(
                f"The input lacks the column(s) {missing} that the model's signature requires.",
                field=missing[0],
                columns=missing,
            )
        return list(self.columns)

    def from_columns(self, columns: Any, field: str = "inputs") -> Any:
        """A batch from ``{column: [values...]}`` (extra columns are ignored)."""
        if not isinstance(columns, dict) or not columns:
            raise _fail(f"{field!r} must be a non-empty object of column lists.", field)
        missing = [c for c in self.columns if c not in columns]
        if missing:
            raise InvalidArgumentError(
                f"The input lacks the column(s) {missing} that the model's signature requires.",
                field=missing[0],
                columns=missing,
            )
        lengths = set()
        for c in self.columns:
            value = columns[c]
            if not isinstance(value, list):
                raise _fail(
                    f"Column {c!r} must be a list of values; got {type(value).__name__}.", c
                )
            lengths.add(len(value))
        if len(lengths) != 1 or 0 in lengths:
            raise _fail(
                f"All columns must hold the same, non-zero number of values; got lengths "
                f"{sorted(lengths)}.",
                field,
            )
        if not self.numeric:
            return self._frame({c: columns[c] for c in self.columns})
        return self._array([list(v) for v in zip(*(columns[c] for c in self.columns), strict=True)])

    def from_split(self, columns: Any, data: Any, field: str = "dataframe_split") -> Any:
        """A batch from pandas ``split`` orientation: ``columns`` and rows of ``data``."""
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise _fail(f"{field}.columns must be a list of column names.", field)
        if not isinstance(data, list) or not data:
            raise _fail(f"{field}.data must be a non-empty list of rows.", field)
        width = len(columns)
        for position, row in enumerate(data):
            if not isinstance(row, list) or len(row) != width:
                raise _fail(
                    f"{field}.data[{position}] must be a list of {width} values (one per column).",
                    field,
                )
        if not self.numeric:
            return self.from_rows([dict(zip(columns, row, strict=True)) for row in data], field)
        positions = {c: i for i, c in enumerate(columns)}
        missing = [c for c in self.columns if c not in positions]
        if missing:
            raise InvalidArgumentError(
                f"The input lacks the column(s) {missing} that the model's signature requires.",
                field=missing[0],
                columns=missing,
            )
        order = [positions[c] for c in self.columns]
        if order == list(range(width)):
            return self._array(data)
        return self._array([[row[i] for i in order] for row in data])

    def from_tensor(self, data: Any, shape: Any = None, field: str = "data") -> Any:
        """A batch from a 2-D tensor ``[N, F]`` (nested, or flat with ``shape``) in column order."""
        import numpy as np

        width = len(self.columns)
        if not isinstance(data, list) or not data:
            raise _fail(f"{field!r} must be a non-empty list.", field)
        if shape is not None:
            if (
                not isinstance(shape, list)
                or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape)
                or len(shape) not in (1, 2)
            ):
                raise _fail(f"shape must be a list of 1 or 2 integers; got {shape!r}.", "shape")
            if len(shape) == 1:
                shape = [1, shape[0]] if width != 1 else [shape[0], 1]
            if shape[1] != width:
                raise _fail(
                    f"The tensor must have shape [N, {width}] (one column per signature input "
                    f"{list(self.columns)[:5]}...); got {shape}.",
                    "shape",
                )
        if not self.numeric:
            rows = self._nested(data, shape, width, field)
            return self.from_rows([dict(zip(self.columns, r, strict=True)) for r in rows], field)
        if isinstance(data[0], list):
            rows = self._nested(data, shape, width, field)
            return self._array(rows)
        array = self._array_flat(data, field)
        count = array.size // width if width else 0
        if array.size != count * width or count == 0:
            raise _fail(
                f"The tensor holds {array.size} values; a batch of rows of {width} needs a "
                "multiple of that.",
                "shape",
            )
        if shape is not None and shape[0] * shape[1] != array.size:
            raise _fail(f"shape {shape} does not match the {array.size} values sent.", "shape")
        return self._checked(np.ascontiguousarray(array.reshape(count, width)))

    def _nested(self, data: list[Any], shape: Any, width: int, field: str) -> list[Any]:
        for position, row in enumerate(data):
            if not isinstance(row, list) or len(row) != width:
                raise _fail(
                    f"{field}[{position}] must be a row of {width} values (the tensor must be "
                    f"[N, {width}]).",
                    "shape",
                )
        if shape is not None and shape[0] != len(data):
            raise _fail(f"shape {shape} does not match the {len(data)} rows sent.", "shape")
        return data

    def _array_flat(self, values: list[Any], field: str) -> Any:
        import numpy as np

        try:
            array = np.asarray(values)
        except ValueError:
            raise _fail(f"{field!r} must be a flat or nested list of numbers.", field) from None
        if array.dtype.kind not in "fiub" or array.ndim != 1:
            for value in values:
                if isinstance(value, list):
                    raise _fail(f"{field!r} must be a flat or nested list of numbers.", field)
            width = len(self.columns)
            self._check_cells([values[i : i + width] for i in range(0, len(values), width)])
            array = np.asarray(values, dtype=np.float64)
        return array.astype(np.float64, copy=False)

    def _array(self, values: list[list[Any]]) -> Any:
        import numpy as np

        try:
            array = np.asarray(values)
        except ValueError:
            array = None
        if array is None or array.dtype.kind not in "fiub" or array.ndim != 2:
            self._check_cells(values)
            array = np.asarray(values, dtype=np.float64)
        return self._checked(array.astype(np.float64, copy=False))

    def _check_cells(self, values: list[list[Any]]) -> None:
        """Find the first bad cell of rows that NumPy could not read as numbers."""
        for row in values:
            for i, value in enumerate(row):
                if value is None:
                    if not self.nullable[i]:
                        column = self.columns[i]
                        raise _fail(
                            f"Column {column!r} has a missing value; the model's signature does "
                            "not allow any.",
                            column,
                        )
                elif isinstance(value, bool) or not isinstance(value, int | float):
                    if isinstance(value, bool) and self.types[i] in ("boolean", "integer", "float"):
                        continue
                    column = self.columns[i]
                    raise _fail(
                        f"Column {column!r} must hold {self.types[i]} values; got "
                        f"{type(value).__name__} {_short(value)}.",
                        column,
                    )

    def _checked(self, array: Any) -> Any:
        import numpy as np

        if self._not_null:
            bad = np.isnan(array[:, self._not_null]).any(axis=0)
            if bad.any():
                column = self.columns[self._not_null[int(np.argmax(bad))]]
                raise _fail(
                    f"Column {column!r} has a missing value (null or NaN); the model's signature "
                    "does not allow any.",
                    column,
                )
        if self._strict_ints:
            part = array[:, self._strict_ints]
            bad = (np.isfinite(part) & (part != np.floor(part))).any(axis=0)
            if bad.any():
                column = self.columns[self._strict_ints[int(np.argmax(bad))]]
                raise _fail(f"Column {column!r} must hold integer values; got a fraction.", column)
        return array

    def _frame(self, columns: dict[str, list[Any]]) -> Any:
        from loopline.modeling.signature import enforce

        assert self.signature is not None
        for name, values in columns.items():
            for value in values:
                if isinstance(value, dict | list):
                    raise _fail(
                        f"Column {name!r} must hold scalar values; got a nested value.", name
                    )
        try:
            return enforce(self.signature, columns)
        except InvalidArgumentError:
            raise
        except (ValueError, TypeError) as exc:
            raise InvalidArgumentError(
                f"The input could not be read as a table: {exc}", field="data"
            ) from None

    # -- scoring --------------------------------------------------------------------------------

    def _measure(self) -> float:
        """Seconds of one one-row call (the best of a few), or infinity when unknown."""
        if not self.numeric:
            return math.inf
        import numpy as np

        row = np.zeros((1, len(self.columns)))
        best = math.inf
        try:
            for _ in range(5):
                started = time.perf_counter()
                self.score(row)
                best = min(best, time.perf_counter() - started)
        except Exception:
            return math.inf
        return best

    def _model_input(self, batch: Any) -> Any:
        if self.numeric or hasattr(self.estimator, "feature_names_in_"):
            return batch
        return batch.to_numpy()

    def score(self, batch: Any) -> Scores:
        """Labels and probabilities of a batch (an array, or a DataFrame for text columns)."""
        data = self._model_input(batch)
        if self._quiet:
            return self._score(data)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_FEATURE_NAMES_WARNING, category=UserWarning)
            return self._score(data)

    def _score(self, data: Any) -> Scores:
        import numpy as np

        if self._predict_proba is None:
            return Scores(np.asarray(self._predict(data)), None)
        proba = np.asarray(self._predict_proba(data), dtype=np.float64)
        if proba.ndim == 1:
            proba = np.column_stack([1.0 - proba, proba])
        if self.classes is not None and len(self.classes) == proba.shape[1]:
            labels = np.asarray(self.classes, dtype=object if _texts(self.classes) else None)[
                proba.argmax(axis=1)
            ]
        else:
            labels = proba.argmax(axis=1)
        return Scores(labels, proba)


def _texts(values: list[Any]) -> bool:
    return any(isinstance(v, str) for v in values)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
