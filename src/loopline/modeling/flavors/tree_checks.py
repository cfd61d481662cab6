"""Bounds checks on the decision trees inside a loaded scikit-learn model.

skops rebuilds scikit-learn's ``Tree`` and HistGradientBoosting's ``TreePredictor`` from the
node arrays in the file, as they are, and scikit-learn's compiled prediction code follows those
arrays without bounds checks (skops says so in ``UNTRUSTED_TYPE_REASONS``): a child index past
the end, a cycle or a feature past the input's width loads fine, then ``predict`` crashes the
process or reads memory it should not. :func:`check_trees` takes every tree reachable from a
loaded model (:mod:`~loopline.modeling.flavors.tree_walk` finds them, with the estimators
holding them) and checks, with NumPy over all of them at once, what that code relies on:

- every node is a leaf or has two children, both in range and after it (scikit-learn numbers
  children after their parent, which rules out cycles), and every node but the root has exactly
  one parent;
- an internal node's feature is in ``[0, n_features_in_)`` of every estimator holding the tree
  (the width its input check enforces; a holder without ``n_features_in_`` checks no width and
  is refused), its threshold a number or ``+inf`` (the split that sends only missing values one
  way);
- a ``Tree``'s ``node_count`` is its arrays' length and its ``max_depth`` at least its depth
  and at most ``node_count - 1`` (``decision_path`` sizes a buffer by it, in arithmetic that
  wraps);
- a ``TreePredictor``'s categorical splits name a bitset row that exists, on a feature the
  estimator's binner knows as categorical;
- forests, gradient boosting and isolation forests, which call their trees without the input
  check, hold trees exactly as wide as what they check; gradient boosting's ``estimators_`` has
  one column per column of its initial raw prediction (``predict_stages`` writes there unchecked).
  Those ensemble checks are in :mod:`~loopline.modeling.flavors.tree_ensembles`.

Examples:
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    >>> check_trees(forest, source="iris.skops")
    5
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from loopline.modeling.flavors.tree_ensembles import check_ensemble, input_width
from loopline.modeling.flavors.tree_walk import MAX_NESTING, Found, find_trees, refusal

__all__ = ["MAX_NESTING", "check_trees"]

_LEVELS = 64  # levels walked with NumPy before a deeper tree is left to compute_node_depths
_BITSET_WORDS = 8  # 256 categories per bitset row: 8 uint32 words (scikit-learn's layout)


@dataclass(frozen=True)
class _Batch:
    """Several trees' nodes, concatenated: node ``g`` of the table belongs to the tree whose
    nodes span ``[start[g], end[g])``; ``offsets[i]`` is tree i's root."""

    table: NDArray[Any]
    offsets: NDArray[np.int64]
    start: NDArray[np.int64]
    end: NDArray[np.int64]

    def per_node(self, values: list[int]) -> NDArray[np.int64]:
        """A per-tree value repeated for each of the tree's nodes."""
        return np.repeat(np.asarray(values, dtype=np.int64), self.end[self.offsets] - self.offsets)

    def locate(self, index: int) -> tuple[int, int]:
        """(tree, node within it) of the table's node ``index``."""
        tree = int(np.searchsorted(self.offsets, index, side="right")) - 1
        return tree, index - int(self.offsets[tree])


def check_trees(model: Any, *, source: str) -> int:
    """Check every tree reachable from ``model``; return how many were checked.

    ``source`` names the file in the error. Raises :class:`~loopline.errors.InvalidStateError`
    naming the estimator path (such as ``estimators_[3].tree_``) and the first bad node, or
    for a model that nests objects more than :data:`MAX_NESTING` levels deep.
    """
    from sklearn.tree._tree import Tree

    trees, predictors, ensembles = find_trees(model, source=source)
    _check_sklearn_trees(trees, source)
    _check_predictors(predictors, source)
    for found in ensembles:
        check_ensemble(found, Tree, source)
    return len({id(found.obj) for found in trees + predictors})


def _check_sklearn_trees(found: list[Found], source: str) -> None:
    """``sklearn.tree._tree.Tree``: the arrays behind ``apply``, ``predict`` and friends."""
    if not found:
        return
    for item in found:
        width = _holder_width(item, source)
        if int(item.obj.n_features) != width:
            reason = f"it splits {item.obj.n_features} features but its estimator takes {width}"
            raise refusal(source, item.path, reason)
    found = [group[0] for group in _by_tree(found)]
    nodes: list[NDArray[Any]] = []
    widths: list[int] = []
    for item in found:
        tree = item.obj
        count, capacity = int(tree.node_count), int(tree.capacity)
        # Checked before any array is read: sklearn wraps its buffer with node_count rows.
        if count < 1 or count != capacity:
            reason = f"node_count {count} does not match its {capacity} nodes"
            raise refusal(source, item.path, reason)
        state = tree.__getstate__()
        if state["values"].shape[0] != count:
            raise refusal(source, item.path, "its value array does not have node_count rows")
        nodes.append(state["nodes"])
        widths.append(int(tree.n_features))
    batch = _batch(nodes)
    table = batch.table
    left = np.asarray(table["left_child"], dtype=np.int64)
    right = np.asarray(table["right_child"], dtype=np.int64)
    leaf = (left == -1) & (right == -1)
    to_left, to_right = left + batch.start, right + batch.start
    problem = _structure_problem(batch, to_left, to_right, leaf)
    if problem is None:
        problem = _split_problem(
            batch, leaf, np.asarray(table["feature"], dtype=np.int64), table["threshold"], widths
        )
    if problem is not None:
        index, reason = problem
        _raise_at(found, batch, index, reason, source)
    declared = np.asarray([int(item.obj.max_depth) for item in found], dtype=np.int64)
    counts = np.asarray([int(item.obj.node_count) for item in found], dtype=np.int64)
    # decision_path sizes a buffer n_samples * (1 + max_depth) in unchecked C arithmetic: a
    # huge max_depth wraps to a tiny buffer, a negative one leaves none
    beyond = (declared < 0) | (declared > counts - 1)
    if beyond.any():
        tree = int(np.argmax(beyond))
        reason = (
            f"max_depth {declared[tree]} is outside 0..{counts[tree] - 1} for its "
            f"{counts[tree]} nodes"
        )
        raise refusal(source, found[tree].path, reason)
    deep = _too_deep(found, batch, to_left, to_right, leaf, declared)
    if deep is not None:
        tree, depth = deep
        reason = f"it is {depth} deep or more but says max_depth {declared[tree]}"
        raise refusal(source, found[tree].path, reason)


def _check_predictors(found: list[Found], source: str) -> None:
    """HistGradientBoosting's ``TreePredictor``: the arrays behind its raw predictions."""
    if not found:
        return
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    nodes: list[NDArray[Any]] = []
    widths: list[int] = []
    bitset_rows: list[int] = []
    categorical: list[NDArray[np.bool_] | None] = []
    groups = _by_tree(found)
    found = [group[0] for group in groups]
    for item, group in zip(found, groups, strict=True):
        predictor = item.obj
        width = min(_holder_width(holder, source) for holder in group)
        table = getattr(predictor, "nodes", None)
        if not isinstance(table, np.ndarray) or table.ndim != 1 or len(table) < 1:
            raise refusal(source, item.path, "its nodes are not a non-empty 1-D array")
        if table.dtype != PREDICTOR_RECORD_DTYPE:
            raise refusal(source, item.path, f"its nodes have dtype {table.dtype}")
        rows = []
        for name in ("raw_left_cat_bitsets", "binned_left_cat_bitsets"):
            bitsets = getattr(predictor, name, None)
            if not isinstance(bitsets, np.ndarray) or bitsets.ndim != 2:
                raise refusal(source, item.path, f"its {name} is not a 2-D array")
            if bitsets.shape[1] != _BITSET_WORDS or bitsets.dtype != np.uint32:
                raise refusal(
                    source, item.path, f"its {name} is not {_BITSET_WORDS} uint32 words a row"
                )
            rows.append(bitsets.shape[0])
        nodes.append(table)
        widths.append(width)
        bitset_rows.append(min(rows))
        categorical.append(_categorical_mask([holder.holder for holder in group]))
    batch = _batch(nodes)
    table = batch.table
    leaf = table["is_leaf"] != 0
    left = np.asarray(table["left"], dtype=np.int64)
    right = np.asarray(table["right"], dtype=np.int64)
    to_left, to_right = left + batch.start, right + batch.start
    problem = _structure_problem(batch, to_left, to_right, leaf)
    if problem is None:
        feature = np.asarray(table["feature_idx"], dtype=np.int64)
        is_categorical = ~leaf & (table["is_categorical"] != 0)
        threshold = np.where(is_categorical, 0.0, table["num_threshold"])
        problem = _split_problem(batch, leaf, feature, threshold, widths)
        if problem is None:
            problem = _categorical_problem(
                batch, feature, is_categorical, table["bitset_idx"], bitset_rows, categorical
            )
    if problem is not None:
        index, reason = problem
        _raise_at(found, batch, index, reason, source)


def _batch(nodes: list[NDArray[Any]]) -> _Batch:
    counts = np.asarray([len(n) for n in nodes], dtype=np.int64)
    ends = np.cumsum(counts)
    offsets = ends - counts
    # Bytes, not records: NumPy concatenates structured arrays field by field (~4x slower).
    raw = np.concatenate([np.ascontiguousarray(n).view(np.uint8) for n in nodes])
    table = raw.view(nodes[0].dtype)
    start = np.repeat(offsets, counts)
    return _Batch(table=table, offsets=offsets, start=start, end=np.repeat(ends, counts))


def _structure_problem(
    batch: _Batch, to_left: NDArray[np.int64], to_right: NDArray[np.int64], leaf: NDArray[np.bool_]
) -> tuple[int, str] | None:
    """Children in range and after their parent; one parent for every node but the root.

    ``to_left`` and ``to_right`` are the children's positions in the batch (index + start).
    """
    here = np.arange(len(leaf), dtype=np.int64)
    in_range = to_left > here  # in place from here on: this runs over every node of a forest
    in_range &= to_left < batch.end
    in_range &= to_right > here
    in_range &= to_right < batch.end
    bad = np.logical_or(leaf, in_range, out=in_range)
    np.logical_not(bad, out=bad)
    if bad.any():
        index = int(np.argmax(bad))
        start, end = batch.start[index], batch.end[index]
        reason = (
            f"children ({to_left[index] - start}, {to_right[index] - start}) are neither "
            f"both -1 nor both in ({index - start}, {end - start})"
        )
        return index, reason
    internal = ~leaf
    parents = np.bincount(
        np.concatenate((to_left[internal], to_right[internal])), minlength=len(leaf)
    )
    parents[batch.offsets] += 1  # a root has no parent: count it as one to test all at once
    if (parents != 1).any():
        index = int(np.argmax(parents != 1))
        return index, f"it has {parents[index]} parents (a tree gives every node one)"
    return None


def _too_deep(
    found: list[Found],
    batch: _Batch,
    to_left: NDArray[np.int64],
    to_right: NDArray[np.int64],
    leaf: NDArray[np.bool_],
    declared: NDArray[np.int64],
) -> tuple[int, int] | None:
    """(tree, depth) of the first tree deeper than its ``max_depth``, which ``decision_path``
    sizes its buffer by. Level by level over all trees at once; past ``_LEVELS`` levels (a
    crafted chain), scikit-learn's own linear ``compute_node_depths`` for the trees left."""
    limit = batch.per_node(list(declared))
    frontier = batch.offsets
    level, lowest = 0, int(declared.min())
    while frontier.size and level < _LEVELS:
        if level > lowest:
            deep = limit[frontier] < level
            if deep.any():
                return batch.locate(int(frontier[np.argmax(deep)]))[0], level
        inner = frontier[~leaf[frontier]]
        frontier = np.concatenate((to_left[inner], to_right[inner]))
        level += 1
    for tree in np.unique(np.searchsorted(batch.offsets, frontier, side="right") - 1):
        depth = int(found[tree].obj.compute_node_depths().max()) - 1
        if depth > declared[tree]:
            return int(tree), depth
    return None


def _split_problem(
    batch: _Batch,
    leaf: NDArray[np.bool_],
    feature: NDArray[np.int64],
    threshold: NDArray[np.float64],
    widths: list[int],
) -> tuple[int, str] | None:
    """Internal nodes split a feature of the input, on a threshold that is a number or +inf."""
    width = batch.per_node(widths)
    bad_feature = ~leaf & ((feature < 0) | (feature >= width))
    bad_threshold = ~leaf & (np.isnan(threshold) | (threshold == -np.inf))
    return _first_problem(
        (bad_feature, lambda i: f"feature {feature[i]} is outside [0, {width[i]})"),
        (bad_threshold, lambda i: f"threshold {threshold[i]} is not a number or +inf"),
    )


def _categorical_problem(
    batch: _Batch,
    feature: NDArray[np.int64],
    is_categorical: NDArray[np.bool_],
    bitset_idx: NDArray[Any],
    bitset_rows: list[int],
    categorical: list[NDArray[np.bool_] | None],
) -> tuple[int, str] | None:
    """A categorical split names a bitset row that exists, on a feature binned as categorical."""
    if not is_categorical.any():
        return None
    rows = batch.per_node(bitset_rows)
    bad_row = is_categorical & (bitset_idx.astype(np.int64) >= rows)
    known = np.zeros(len(feature), dtype=bool)
    for i, mask in enumerate(categorical):
        if mask is None:
            continue
        start, stop = batch.offsets[i], batch.end[batch.offsets[i]]
        own = feature[start:stop]
        inside = (own >= 0) & (own < len(mask))
        known[start:stop][inside] = mask[own[inside]]
    unknown = is_categorical & ~known
    return _first_problem(
        (bad_row, lambda i: f"bitset row {bitset_idx[i]} is outside [0, {rows[i]})"),
        (unknown, lambda i: f"it splits feature {feature[i]} as categorical; the binner does not"),
    )


def _first_problem(
    *checks: tuple[NDArray[np.bool_], Callable[[int], str]],
) -> tuple[int, str] | None:
    """The first node any check flags, with the reason of the first check flagging it there."""
    bad = np.logical_or.reduce([flags for flags, _ in checks])
    if not bad.any():
        return None
    index = int(np.argmax(bad))
    reason = next(say for flags, say in checks if flags[index])
    return index, reason(index)


def _categorical_mask(holders: list[Any]) -> NDArray[np.bool_] | None:
    """The features every HistGradientBoosting holding a predictor bins as categorical."""
    masks: list[NDArray[Any]] = []
    for holder in holders:
        mask = getattr(getattr(holder, "_bin_mapper", None), "is_categorical_", None)
        if not isinstance(mask, np.ndarray) or mask.ndim != 1:
            return None
        masks.append(mask)
    size = min(len(mask) for mask in masks)
    combined: NDArray[np.bool_] = np.logical_and.reduce([mask[:size] != 0 for mask in masks])
    return combined


def _by_tree(found: list[Found]) -> list[list[Found]]:
    """Occurrences grouped by tree, in order of first sight; each tree's nodes are checked once."""
    groups: dict[int, list[Found]] = {}
    for item in found:
        groups.setdefault(id(item.obj), []).append(item)
    return list(groups.values())


def _holder_width(item: Found, source: str) -> int:
    """The input width the estimator holding a tree checks: its ``n_features_in_``."""
    width = input_width(item.holder)
    if width is None:
        raise refusal(
            source,
            item.path,
            "the estimator holding it has no integer n_features_in_ to bound its features",
        )
    return width


def _raise_at(found: list[Found], batch: _Batch, index: int, reason: str, source: str) -> None:
    tree, node = batch.locate(index)
    raise refusal(source, found[tree].path, reason, node=node)
