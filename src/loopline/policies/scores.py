"""Model outputs as numpy arrays, and the policy's ``score`` picked from them.

``score`` in a declaration is ``auto``, an output name, or ``<output>[<index or class>]``. With
one unnamed output, ``auto``/``score``/``proba`` all name it. ``auto`` takes a 1-D output as is,
the only column of an (n, 1) one and column 1 (the positive class) of an (n, 2) one; a model with
more classes needs its class spelled out. An index in brackets is a column position, anything
else a class name looked up in ``classes``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from loopline.policies.conditions import invalid
from loopline.policies.validation import SCORE_SPEC

__all__ = ["Outputs"]

_UNNAMED = ("auto", "score", "proba")


def _array(values: Any, path: str) -> Any:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise invalid(path, f"expected numbers, got {str(values)[:80]}") from None
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim > 2:
        raise invalid(path, f"expected an (n,) or (n, k) array, got shape {array.shape}")
    return array


@functools.lru_cache(maxsize=256)
def _parse(spec: str) -> tuple[str, str | None]:
    match = SCORE_SPEC.match(spec)
    assert match is not None  # validated with the declaration
    key = match["key"]
    return match["output"], key.strip("'\"") if key is not None else None


class Outputs:
    """The model's outputs for n rows: one array, or named arrays of the same length."""

    __slots__ = ("classes", "main", "n", "named")

    def __init__(self, scores: Any, classes: Sequence[Any] | None) -> None:
        self.classes = list(classes) if classes is not None else None
        self.named: dict[str, Any] | None = None
        if isinstance(scores, Mapping):
            if not scores:
                raise invalid("scores", "expected at least one output")
            self.named = {str(k): _array(v, f"scores.{k}") for k, v in scores.items()}
            self.main = self.named.get("proba", next(iter(self.named.values())))
            lengths = {len(a) for a in self.named.values()}
            if len(lengths) > 1:
                raise invalid("scores", f"outputs of different lengths: {sorted(lengths)}")
        else:
            self.main = _array(scores, "scores")
        self.n = len(self.main)

    def _output(self, name: str) -> Any:
        if self.named is None:
            if name not in _UNNAMED:
                raise invalid("score", f"output {name!r}: the model returns one unnamed output")
            return self.main
        if name == "auto" or (name in _UNNAMED and name not in self.named):
            return self.main
        if name not in self.named:
            raise invalid("score", f"no output {name!r} (outputs: {', '.join(self.named)})")
        return self.named[name]

    def column(self, array: Any, key: int | str, path: str) -> Any:
        """Column ``key`` (a position, or a class name) of a 2-D output."""
        if array.ndim == 1:
            raise invalid(path, f"class {key!r}: the output is one score per row, not per class")
        width = array.shape[1]
        if isinstance(key, str) and key.lstrip("-").isdigit():
            key = int(key)
        if isinstance(key, int):
            if not -width <= key < width:
                raise invalid(path, f"class index {key} is out of range for {width} columns")
            return array[:, key]
        if self.classes is None or key not in self.classes:
            known = f"classes: {self.classes}" if self.classes is not None else "no classes given"
            raise invalid(path, f"unknown class {key!r} ({known})")
        return array[:, self.classes.index(key)]

    def score(self, spec: str, *, required: bool) -> Any:
        """The policy's score (n,), or None when it cannot be told and nothing requires it."""
        output, key = _parse(spec)
        array = self._output(output)
        if key is not None:
            return self.column(array, key, "score")
        if array.ndim == 1:
            return array
        if array.shape[1] in (1, 2):
            return array[:, array.shape[1] - 1]
        if required:
            raise invalid(
                "score",
                f"the model gives {array.shape[1]} scores per row; name one: 'proba[<class>]'",
            )
        return None

    def class_score(self, model_class: Any, name: str, score: Any, path: str) -> Any:
        """The score of one candidate action: its class's probability, else the policy score."""
        array = self.main
        if model_class is not None:
            return self.column(array, model_class, f"{path}.class")
        if array.ndim == 2 and array.shape[1] > 2:
            return self.column(array, name, f"{path}.name")
        if score is None:
            raise invalid(path, "no score to rank by")
        return score

    def argmax_labels(self) -> Any:
        """The most probable class per row for an (n, k>=2) output, else None."""
        array = self.main
        if array.ndim != 2 or array.shape[1] < 2:
            return None
        names = self.classes if self.classes is not None else list(range(array.shape[1]))
        table = np.empty(len(names), dtype=object)
        table[:] = [str(c) for c in names]
        return table[np.argmax(array, axis=1)]
