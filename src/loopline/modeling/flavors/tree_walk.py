"""Find the decision trees inside a loaded scikit-learn model, with who holds them and where.

:func:`find_trees` walks a model's attributes, containers and object arrays, depth first in
attribute order, and returns every scikit-learn ``Tree`` and HistGradientBoosting
``TreePredictor`` it reaches, and every forest, gradient boosting or isolation forest (the
ensembles that call their trees without checking their input), each as a :class:`Found`: the
object, the estimator holding it and its path from the model. A tree that skops restored as a
shared reference is found once per estimator holding it, since each holder has its own input
width. :mod:`~loopline.modeling.flavors.tree_checks` checks what it finds; :func:`refusal` is
the error both raise.

Examples:
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(X, y)
    >>> trees, predictors, ensembles = find_trees(forest, source="iris.skops")
    >>> for found in trees:
    ...     print(found.path, "held by", type(found.holder).__name__)
    estimators_[0].tree_ held by DecisionTreeClassifier
    estimators_[1].tree_ held by DecisionTreeClassifier
    >>> predictors, [found.path for found in ensembles]
    ([], ['the model'])
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from loopline.errors import InvalidStateError

__all__ = ["MAX_NESTING", "Found", "find_trees", "refusal"]

MAX_NESTING = 200
"""How deep :func:`find_trees` follows attributes and containers before refusing the model."""

_ATOMS = (str, bytes, bytearray, int, float, complex, type(None), np.generic, np.dtype, type)
# What the walk does with an object, decided once per type (isinstance on ABCs is slow).
_SKIP, _TREE, _PREDICTOR, _ARRAY, _MAPPING, _SEQUENCE, _SET, _OBJECT, _ENSEMBLE = range(1, 10)
_Path = tuple[Any, Any] | None


@dataclass(frozen=True)
class Found:
    """A tree, or an ensemble that calls trees without checking its input, and where it is.

    ``link`` is the path as (parent link, step) pairs, a step being an attribute name or an
    index tuple; :attr:`path` spells it out.
    """

    obj: Any
    link: _Path
    holder: Any

    @property
    def path(self) -> str:
        """Such as ``estimators_[3].tree_``; ``the model`` for the model itself."""
        return _spell(self.link) or "the model"

    def path_to(self, name: str) -> str:
        """The path of ``name`` (an attribute, or such as ``estimators_[3, 0]``) inside it."""
        return _spell((self.link, name))


def find_trees(model: Any, *, source: str) -> tuple[list[Found], list[Found], list[Found]]:
    """Every Tree, TreePredictor and unchecked-input ensemble in ``model``, in attribute order.

    ``source`` names the file in the error. Raises :class:`~loopline.errors.InvalidStateError`
    for a model that nests objects more than :data:`MAX_NESTING` levels deep.
    """
    from sklearn.ensemble import IsolationForest
    from sklearn.ensemble._forest import BaseForest
    from sklearn.ensemble._gb import BaseGradientBoosting
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.tree._tree import Tree

    ensemble_types = (BaseForest, BaseGradientBoosting, IsolationForest)
    return _walk(model, Tree, TreePredictor, ensemble_types, source)


def _walk(
    model: Any, tree_type: type, predictor_type: type, ensemble_types: tuple[type, ...], source: str
) -> tuple[list[Found], list[Found], list[Found]]:
    """Paths are kept as (parent, step) links and spelled out only when reported: a forest has
    thousands of attributes, and formatting each one's path cost more than the checks."""
    found: dict[int, list[Found]] = {_TREE: [], _PREDICTOR: [], _ENSEMBLE: []}
    kinds: dict[type, int] = {}

    def kind_of(cls: type) -> int:
        kinds[cls] = _kind(cls, tree_type, predictor_type, ensemble_types)
        return kinds[cls]

    seen: set[int] = set()
    held: set[tuple[int, int]] = set()
    stack: list[tuple[Any, _Path, Any, int]] = [(model, None, None, 0)]
    while stack:
        obj, path, holder, depth = stack.pop()
        kind = kinds.get(type(obj)) or kind_of(type(obj))
        if kind in (_TREE, _PREDICTOR):
            # Once per holder, not once: skops keeps shared references, and a tree shared with
            # a narrower estimator must be checked against that one's width too.
            if (id(obj), id(holder)) not in held:
                held.add((id(obj), id(holder)))
                found[kind].append(Found(obj, path, holder))
            continue
        if kind == _SKIP or id(obj) in seen:
            continue
        seen.add(id(obj))
        if depth > MAX_NESTING:
            reason = f"it nests objects more than {MAX_NESTING} levels deep"
            raise refusal(source, _spell(path) or "the model", reason)
        steps: Any = ()
        if kind == _ARRAY:
            steps = np.ndenumerate(obj) if obj.dtype == object else ()
        elif kind == _MAPPING:
            steps = (((key,), value) for key, value in obj.items())
        elif kind == _SEQUENCE:
            steps = (((i,), item) for i, item in enumerate(obj))
        elif kind == _SET:
            steps = ((("...",), item) for item in obj)
        else:
            attributes = getattr(obj, "__dict__", None)
            steps = attributes.items() if isinstance(attributes, dict) else ()
            if kind == _ENSEMBLE:
                found[_ENSEMBLE].append(Found(obj, path, holder))
            holder = obj
        children = []
        for step, child in steps:
            child_kind = kinds.get(type(child)) or kind_of(type(child))
            if child_kind == _SKIP or (child_kind == _ARRAY and child.dtype != object):
                continue
            children.append((child, (path, step), holder, depth + 1))
        stack.extend(reversed(children))
    return found[_TREE], found[_PREDICTOR], found[_ENSEMBLE]


def _kind(cls: type, tree_type: type, predictor_type: type, ensembles: tuple[type, ...]) -> int:
    if issubclass(cls, _ATOMS) or issubclass(cls, ModuleType):
        return _SKIP
    checks = (
        (tree_type, _TREE),
        (predictor_type, _PREDICTOR),
        (np.ndarray, _ARRAY),
        (dict, _MAPPING),
        (list | tuple, _SEQUENCE),
        (set | frozenset, _SET),
        (ensembles, _ENSEMBLE),
    )
    return next((kind for types, kind in checks if issubclass(cls, types)), _OBJECT)


def _spell(path: _Path) -> str:
    """``estimators_[3, 0].tree_`` from the (parent, step) links: a name or an index tuple."""
    steps: list[str] = []
    while path is not None:
        path, step = path
        if isinstance(step, str):
            steps.append(f".{step}")
        else:
            steps.append(f"[{', '.join(str(s) if isinstance(s, int) else repr(s) for s in step)}]")
    return "".join(reversed(steps)).lstrip(".")


def refusal(source: str, path: str, reason: str, *, node: int | None = None) -> InvalidStateError:
    """The error refusing ``source`` for what is at ``path`` (and ``node`` of a tree there)."""
    where = path if node is None else f"{path}, node {node}"
    return InvalidStateError(
        f"Refusing to load {source}: at {where}, {reason}. scikit-learn's compiled tree code "
        "would follow this without bounds checks (a crash or an out-of-bounds read).",
        flavor="sklearn",
        estimator=path,
        node=node,
    )
