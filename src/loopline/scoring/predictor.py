"""Scoring one chunk: an Arrow table in, labels and probabilities out.

A signature whose columns are all numeric (integer, float, boolean) is checked on the Arrow
columns (type, missing values) and stacked into one float64 NumPy array in the model's column
order: no pandas per chunk. Other signatures go through
:func:`loopline.modeling.signature.enforce` (a DataFrame per chunk, fine at 100,000 rows).
Checks name the column, as the inference server's do.

A scikit-learn random forest, extra-trees or decision tree on the numeric path is scored by its
compiled trees (:mod:`loopline.modeling.compiled`: checked against the estimator at load, the
estimator itself for chunks holding NaN or infinity); anything else by the model.

The estimator is the predictor's own loaded copy: for the numeric path its
``feature_names_in_`` is removed (after taking the column order from it), so scikit-learn does
not warn "X does not have valid feature names" on every chunk and no global warning filter is
touched from worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loopline.errors import InvalidArgumentError
from loopline.modeling.compiled import compile_model, guarded, strip_feature_names
from loopline.modeling.signature import missing_columns

if TYPE_CHECKING:
    from loopline.modeling.logged import LoggedModel

__all__ = ["ChunkPredictor", "Scores"]

_BULK_KINDS = frozenset({"forest", "tree", "gradient_boosting"})
"""Compiled kinds used on 100,000-row chunks. Gradient boosting's compiled path walks a tree at a
time without the GIL (~15% more CPU than scikit-learn's one ``predict_stages`` call, which holds
the GIL throughout), so chunks are scored in parallel and overlap reading and writing
(docs/decisions.md). HistGradientBoosting's compiled path was slower than the estimator's own
call (which already runs on OpenMP threads), so those chunks go to the estimator."""

_ACCEPTS = {
    "integer": {"integer", "boolean"},
    "float": {"float", "integer", "boolean"},
    "boolean": {"boolean"},
}


@dataclass(slots=True)
class Scores:
    """A chunk's outputs: ``labels`` (n,), ``proba`` (n, k) or None for a regressor."""

    labels: Any
    proba: Any | None


def _float32_trees(model: Any) -> bool:
    """Whether ``model`` is a scikit-learn tree or tree ensemble (they score float32 C arrays).

    scikit-learn casts their input to a C-ordered float32 array before walking the trees; the
    predictor builds that array from the Arrow columns itself, so the cast is done once, not
    twice, and the numbers the trees see are the same.
    """
    if not type(model).__module__.startswith("sklearn."):
        return False
    from sklearn.ensemble import BaseEnsemble
    from sklearn.ensemble._gb import BaseGradientBoosting
    from sklearn.tree import BaseDecisionTree

    if isinstance(model, BaseDecisionTree | BaseGradientBoosting):
        return True
    estimators = getattr(model, "estimators_", None)
    return (
        isinstance(model, BaseEnsemble)
        and type(model).__name__.startswith(("RandomForest", "ExtraTrees"))
        and bool(estimators)
    )


class ChunkPredictor:
    """One loaded model version, ready to score Arrow chunks.

    Examples:
        >>> import numpy as np, pandas as pd, pyarrow as pa
        >>> from sklearn.linear_model import LogisticRegression
        >>> from loopline.modeling.flavors import LoadedModel
        >>> from loopline.modeling.logged import LoggedModel
        >>> from loopline.modeling.signature import infer_signature
        >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1, 0, 1, 0]})
        >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
        >>> loaded = LoadedModel(model, flavor="sklearn", meta={}, predict=model.predict,
        ...                      predict_proba=model.predict_proba)
        >>> predictor = ChunkPredictor(LoggedModel(loaded, infer_signature(X), "doc"))
        >>> scores = predictor.score(pa.table({"b": [1], "a": [3.0]}))
        >>> scores.labels.tolist(), scores.proba.shape
        ([1], (1, 2))
    """

    def __init__(self, logged: LoggedModel) -> None:
        self.logged = logged
        self.estimator = logged.model
        self.signature = logged.signature
        names = getattr(self.estimator, "feature_names_in_", None)
        specs = list(self.signature.inputs) if self.signature is not None else []
        by_name = {s.name: s for s in specs}
        if specs:
            order = [str(n) for n in names] if names is not None else [s.name for s in specs]
            if any(n not in by_name for n in order):
                order = [s.name for s in specs]
        elif names is not None:
            order = [str(n) for n in names]
        else:
            count = int(getattr(self.estimator, "n_features_in_", 0) or 0)
            order = [f"f{i}" for i in range(count)]
        self.columns: tuple[str, ...] = tuple(order)
        self.types = tuple(by_name[c].type if c in by_name else "float" for c in self.columns)
        self.nullable = tuple(by_name[c].nullable if c in by_name else True for c in self.columns)
        self.numeric = bool(self.columns) and all(t in _ACCEPTS for t in self.types)
        if self.numeric and not strip_feature_names(self.estimator):
            self.numeric = False  # the model needs a DataFrame with its column names
        self.float32 = self.numeric and _float32_trees(self.estimator)
        self.has_proba = bool(logged.loaded.has_predict_proba)
        self._compile()
        classes = getattr(self.estimator, "classes_", None)
        self.classes: list[Any] | None = (
            None if classes is None else [c.item() if hasattr(c, "item") else c for c in classes]
        )

    unpickled = 0
    """How many times this process unpickled a predictor (a Dask worker: once per run)."""

    def _compile(self) -> None:
        """The compiled trees' predictor (checked against the estimator), or None."""
        self.compiled: Any = None
        if not self.numeric:
            return
        loaded = self.logged.loaded
        slow = loaded.predict_proba if self.has_proba else loaded.predict
        compiled = compile_model(self.estimator, len(self.columns), slow)
        if compiled is None or compiled.is_classifier != self.has_proba:
            return
        if compiled.kind == "gradient_boosting":
            compiled.threads = 1  # bulk runs chunks side by side: no second split (measured)
        if compiled.kind in _BULK_KINDS:
            self.compiled = guarded(compiled, slow)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("compiled", None)  # closures: compiled (and checked) again where unpickled
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._compile()
        type(self).unpickled += 1

    def check(self, table: Any) -> None:
        """Refuse a chunk that lacks a signature column, naming every missing one."""
        missing = [c for c in self.columns if c not in table.column_names]
        if missing:
            raise missing_columns(missing)

    def features(self, table: Any) -> Any:
        """What the model takes: a float64 array (numeric) or the enforced DataFrame."""
        self.check(table)
        if not self.numeric:
            from loopline.modeling.signature import enforce

            if self.signature is None:
                return table.select(list(self.columns)).to_pandas()
            frame = enforce(self.signature, table)
            return frame if hasattr(self.estimator, "feature_names_in_") else frame.to_numpy()
        import numpy as np

        dtype = np.float32 if self.float32 else np.float64
        out = np.empty((table.num_rows, len(self.columns)), dtype=dtype)
        for i, name in enumerate(self.columns):
            out[:, i] = self._numbers(table.column(name), name, i)
        return out

    def _numbers(self, column: Any, name: str, i: int) -> Any:
        import pyarrow as pa

        from loopline.data.canonical import logical_type

        kind = column.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        try:
            actual = logical_type(kind)
        except InvalidArgumentError:
            actual = str(kind)
        if pa.types.is_null(kind):
            actual = self.types[i]
        elif pa.types.is_string(kind) or pa.types.is_string_view(kind):
            actual = "string"
        if actual not in _ACCEPTS[self.types[i]]:
            raise InvalidArgumentError(
                f"Column {name!r} must hold {self.types[i]} values; got {actual}.", field=name
            )
        if column.null_count and not self.nullable[i]:
            raise InvalidArgumentError(
                f"Column {name!r} has {column.null_count} missing value(s); the model's "
                "signature does not allow any.",
                field=name,
            )
        if pa.types.is_null(kind):
            import numpy as np

            return np.full(len(column), np.nan)
        if pa.types.is_boolean(kind) or column.null_count:
            column = column.cast(pa.float64())
        return column.to_numpy()

    def score(self, table: Any) -> Scores:
        """Labels and probabilities (or a regressor's predictions) of one chunk."""
        import numpy as np

        data = self.features(table)
        loaded = self.logged.loaded
        if not self.has_proba:
            predict = self.compiled or loaded.predict
            return Scores(np.asarray(predict(data)), None)
        predict_proba = self.compiled or loaded.predict_proba
        proba = np.asarray(predict_proba(data), dtype=np.float64)
        if proba.ndim == 1:
            proba = np.column_stack([1.0 - proba, proba])
        if self.classes is not None and len(self.classes) == proba.shape[1]:
            text = any(isinstance(c, str) for c in self.classes)
            labels = np.asarray(self.classes, dtype=object if text else None)[proba.argmax(axis=1)]
        else:
            labels = proba.argmax(axis=1)
        return Scores(labels, proba)
