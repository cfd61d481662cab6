"""A loaded model version and its fast predictor.

Requests are decoded by :class:`loopline.serving.decoding.InputDecoder`: for a signature whose
columns are all numeric (integer, float, boolean), straight into a 2-D float64 NumPy array in the
model's column order, handed to the raw estimator: no pandas per request. Other signatures (text
or categorical columns) go through :func:`loopline.modeling.signature.enforce`, which builds a
DataFrame per request.

Logistic regressions and gradient boosting classifiers are scored by a direct computation
checked against the estimator when loaded (:mod:`loopline.serving.fastpath`).

A scikit-learn estimator fitted on a DataFrame warns "X does not have valid feature names" on
every call with an array. The runtime removes ``feature_names_in_`` from its own loaded copy of
such an estimator (after taking the column order from it), so the check is skipped instead of
warned about; estimators where the attribute cannot be removed are called inside
``warnings.catch_warnings`` (see ``docs/serving.md``).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loopline.modeling.compiled import strip_feature_names as _strip_feature_names
from loopline.serving.decoding import InputDecoder

if TYPE_CHECKING:
    from loopline.modeling.logged import LoggedModel

__all__ = ["ModelRuntime", "Scores", "concat_batches"]

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
        self.decoder = InputDecoder(self.signature, self.estimator)
        self.columns = self.decoder.columns
        self.types = self.decoder.types
        self.nullable = self.decoder.nullable
        self.index = self.decoder.index
        self.numeric = self.decoder.numeric
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

    # -- decoding (see loopline.serving.decoding) -----------------------------------------------

    def from_rows(self, rows: Any, field: str = "rows") -> Any:
        """A batch from a list of ``{column: value}`` objects (extra keys are ignored)."""
        return self.decoder.from_rows(rows, field)

    def from_columns(self, columns: Any, field: str = "inputs") -> Any:
        """A batch from ``{column: [values...]}`` (extra columns are ignored)."""
        return self.decoder.from_columns(columns, field)

    def from_split(self, columns: Any, data: Any, field: str = "dataframe_split") -> Any:
        """A batch from pandas ``split`` orientation: ``columns`` and rows of ``data``."""
        return self.decoder.from_split(columns, data, field)

    def from_tensor(self, data: Any, shape: Any = None, field: str = "data") -> Any:
        """A batch from a 2-D tensor ``[N, F]`` (nested, or flat with ``shape``) in column order."""
        return self.decoder.from_tensor(data, shape, field)

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
