"""Loading refuses decision trees whose node arrays would send scikit-learn out of bounds.

The crafted files are real models saved with skops after their trees' state was rewritten in
process (``Tree.__setstate__`` with a modified node array, or a TreePredictor's ``nodes``), or,
for what cannot be written that way, after editing ``schema.json`` inside the ``.skops`` zip.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    StackingClassifier,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from loopline.errors import InvalidStateError
from loopline.modeling.flavors import load_model, save_model
from loopline.modeling.flavors.tree_checks import MAX_NESTING, check_trees

X, Y = load_breast_cancer(return_X_y=True)
X_IRIS, Y_IRIS = load_iris(return_X_y=True)
N_FEATURES = X.shape[1]
log = logging.getLogger(__name__)
# Plain helpers outside skops' default list: HistGradientBoosting's categorical encoder, and
# the Bunch that stacking keeps its named estimators in.
EXTRA_TRUSTED = [
    "functools.partial",
    "sklearn.utils._bunch.Bunch",
    "sklearn.utils.validation.check_array",
]


def _categorical_frame(n: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue", "grey"], n)
    size = rng.normal(size=n)
    target = ((colour == "red") | (colour == "blue")) ^ (size > 0.3)
    frame = pd.DataFrame(
        {"colour": pd.Categorical(colour), "size": size, "noise": rng.normal(size=n)}
    )
    return frame, target.astype(int)


def _categorical_array() -> tuple[np.ndarray, np.ndarray]:
    """The same data with the colour as integer codes in column 0."""
    frame, target = _categorical_frame()
    codes = frame["colour"].cat.codes.to_numpy()
    return np.c_[codes, frame["size"], frame["noise"]], target


def _categorical_model() -> Any:
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features=[0], random_state=0)
    return model.fit(*_categorical_array())


# Missing exactly where the class is 1: the split "missing or not" has threshold +inf.
X_MISSING = np.array([[0.0], [1.0], [np.nan], [np.nan], [0.5], [np.nan]])
Y_MISSING = np.array([0, 0, 1, 1, 0, 1])


REAL: dict[str, Callable[[], tuple[Any, Any]]] = {
    "decision_tree": lambda: (DecisionTreeClassifier(random_state=0).fit(X, Y), X),
    "decision_tree_missing": lambda: (
        DecisionTreeClassifier(random_state=0).fit(X_MISSING, Y_MISSING),
        X_MISSING,
    ),
    "random_forest": lambda: (RandomForestClassifier(20, random_state=0).fit(X, Y), X),
    "gradient_boosting_binary": lambda: (
        GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X, Y),
        X,
    ),
    "gradient_boosting_multiclass": lambda: (
        GradientBoostingClassifier(n_estimators=10, random_state=0).fit(X_IRIS, Y_IRIS),
        X_IRIS,
    ),
    "hist_gradient_boosting": lambda: (
        HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X_IRIS, Y_IRIS),
        X_IRIS,
    ),
    "hist_gradient_boosting_categorical_dtype": lambda: (
        HistGradientBoostingClassifier(max_iter=10, categorical_features="from_dtype").fit(
            *_categorical_frame()
        ),
        _categorical_frame()[0],
    ),
    "hist_gradient_boosting_categorical_index": lambda: (
        HistGradientBoostingRegressor(max_iter=10, categorical_features=[0]).fit(
            np.c_[Y_IRIS, X_IRIS[:, 1:]], X_IRIS[:, 0]
        ),
        np.c_[Y_IRIS, X_IRIS[:, 1:]],
    ),
    "pipeline": lambda: (
        make_pipeline(StandardScaler(), ExtraTreesClassifier(10, random_state=0)).fit(X, Y),
        X,
    ),
    "isolation_forest": lambda: (
        IsolationForest(n_estimators=10, max_features=0.5, random_state=0).fit(X),
        X,
    ),
    "stacking": lambda: (
        StackingClassifier(
            [("tree", DecisionTreeClassifier(max_depth=3)), ("forest", RandomForestClassifier(5))]
        ).fit(X, Y),
        X,
    ),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_tree_models_load_and_predict_the_same(name: str, tmp_path: Path) -> None:
    model, x = REAL[name]()

    loaded = load_model(tmp_path, save_model(model, tmp_path), trusted=EXTRA_TRUSTED)

    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert check_trees(loaded.model, source="model.skops") >= 1


def test_thresholds_of_missing_value_splits_are_accepted() -> None:
    model, _ = REAL["decision_tree_missing"]()
    internal = model.tree_.children_left != -1

    assert np.isinf(model.tree_.threshold[internal]).any()  # what the check must let through
    assert check_trees(model, source="model.skops") == 1


# -- crafted scikit-learn trees ------------------------------------------------------------------


def _rewrite(
    tree: Any, node: int | None = None, max_depth: int | None = None, **fields: Any
) -> None:
    """Give ``tree`` a modified copy of its own state, as a crafted file would."""
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    for name, value in fields.items():
        nodes[name][node] = value
    if max_depth is not None:
        state["max_depth"] = max_depth
    tree.__setstate__({**state, "nodes": nodes, "values": state["values"].copy()})


def _refusal(model: Any, folder: Path, *, trusted: Any = EXTRA_TRUSTED) -> InvalidStateError:
    meta = save_model(model, folder)
    with pytest.raises(InvalidStateError) as info:
        load_model(folder, meta, trusted=trusted)
    assert "Refusing to load model.skops: at " in info.value.message
    assert "without bounds checks" in info.value.message
    return info.value


def _internal_nodes(tree: Any) -> np.ndarray:
    return np.flatnonzero(tree.children_left != -1)


@pytest.mark.parametrize(
    ("corrupt", "node", "reason"),
    [
        (lambda t: _rewrite(t, 0, left_child=10**9), 0, r"children \(1000000000, \d+\)"),
        (lambda t: _rewrite(t, 0, right_child=-5), 0, r"children \(1, -5\)"),
        (lambda t: _rewrite(t, 4, left_child=0), 4, r"children \(0, \d+\) are neither"),
        (lambda t: _rewrite(t, 4, right_child=4), 4, r"children \(\d+, 4\)"),
        (lambda t: _rewrite(t, 0, right_child=1), 1, "it has 2 parents"),
        (lambda t: _rewrite(t, 0, feature=N_FEATURES), 0, r"feature 30 is outside \[0, 30\)"),
        (lambda t: _rewrite(t, 0, feature=-2), 0, r"feature -2 is outside \[0, 30\)"),
        (lambda t: _rewrite(t, 0, threshold=np.nan), 0, "threshold nan is not a number"),
    ],
    ids=[
        "child-out-of-range",
        "negative-child",
        "cycle-to-root",
        "self-loop",
        "two-parents",
        "feature-out-of-range",
        "leaf-feature-on-split",
        "nan-threshold",
    ],
)
def test_crafted_decision_tree_is_refused_naming_the_node(
    corrupt: Callable[[Any], None], node: int, reason: str, tmp_path: Path
) -> None:
    model = DecisionTreeClassifier(random_state=0).fit(X, Y)
    assert 4 in _internal_nodes(model.tree_)
    corrupt(model.tree_)

    error = _refusal(model, tmp_path)

    assert f"at tree_, node {node}, " in error.message
    assert error.details == {"flavor": "sklearn", "estimator": "tree_", "node": node}
    assert re.search(reason, error.message), error.message


def test_trusting_every_type_does_not_skip_the_checks(tmp_path: Path) -> None:
    model = DecisionTreeClassifier(random_state=0).fit(X, Y)
    _rewrite(model.tree_, 0, left_child=10**9)

    error = _refusal(model, tmp_path, trusted=True)

    assert error.details["estimator"] == "tree_"


def test_tree_deeper_than_its_max_depth_is_refused(tmp_path: Path) -> None:
    model = DecisionTreeClassifier(random_state=0).fit(X, Y)
    _rewrite(model.tree_, max_depth=2)

    error = _refusal(model, tmp_path)

    assert "it is 3 deep or more but says max_depth 2" in error.message
    assert error.details["node"] is None


@pytest.mark.parametrize("max_depth", [2**62, -1])
def test_max_depth_beyond_what_its_nodes_allow_is_refused(tmp_path: Path, max_depth: int) -> None:
    # decision_path sizes its buffer n_samples * (1 + max_depth) in unchecked C arithmetic: a
    # huge value wraps to a tiny buffer, a negative one leaves none
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, Y)
    _rewrite(model.tree_, max_depth=max_depth)

    error = _refusal(model, tmp_path)

    count = model.tree_.node_count
    assert f"max_depth {max_depth} is outside 0..{count - 1} for its {count} nodes" in error.message


def _set_node_count(path: Path, node_count: int) -> None:
    """Edit the tree's ``node_count`` in ``schema.json``, leaving its arrays alone."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if "node_count" in node and isinstance(node["node_count"], dict):
                node["node_count"]["content"] = str(node_count)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in source.namelist()}
    schema = json.loads(members["schema.json"])
    visit(schema)
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)


@pytest.mark.parametrize("node_count", [3, 0])  # a larger one scikit-learn itself lowers
def test_node_count_that_disagrees_with_the_arrays_is_refused(
    node_count: int, tmp_path: Path
) -> None:
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, Y)
    meta = save_model(model, tmp_path)
    _set_node_count(tmp_path / "model.skops", node_count)

    with pytest.raises(InvalidStateError, match=f"node_count {node_count} does not match its"):
        load_model(tmp_path, meta)


def test_crafted_tree_in_a_forest_is_named_by_its_path(tmp_path: Path) -> None:
    model = RandomForestClassifier(10, random_state=0).fit(X, Y)
    tree = model.estimators_[3].tree_
    node = int(_internal_nodes(tree)[2])
    _rewrite(tree, node, right_child=tree.node_count)

    error = _refusal(model, tmp_path)

    assert error.details == {"flavor": "sklearn", "estimator": "estimators_[3].tree_", "node": node}


def test_crafted_tree_in_gradient_boosting_is_named_by_its_cell(tmp_path: Path) -> None:
    model = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X_IRIS, Y_IRIS)
    _rewrite(model.estimators_[2, 1].tree_, 0, feature=4)

    error = _refusal(model, tmp_path)

    assert error.details["estimator"] == "estimators_[2, 1].tree_"
    assert "feature 4 is outside [0, 4)" in error.message


def test_crafted_tree_in_a_pipeline_is_named_by_its_step(tmp_path: Path) -> None:
    model = make_pipeline(StandardScaler(), RandomForestClassifier(5, random_state=0)).fit(X, Y)
    _rewrite(model.steps[1][1].estimators_[0].tree_, 0, left_child=-7, right_child=-7)

    error = _refusal(model, tmp_path)

    assert error.details["estimator"] == "steps[1][1].estimators_[0].tree_"


def test_forest_holding_a_narrower_tree_is_refused(tmp_path: Path) -> None:
    model = RandomForestClassifier(5, random_state=0).fit(X, Y)
    model.estimators_[1] = DecisionTreeClassifier(random_state=0).fit(X[:, :5], Y)

    error = _refusal(model, tmp_path)

    assert error.details["estimator"] == "estimators_[1].tree_"
    assert "it splits 5 features, not 30" in error.message


def test_a_tree_shared_with_a_narrower_estimator_is_refused() -> None:
    wide = DecisionTreeClassifier(random_state=0).fit(X, Y)
    narrow = DecisionTreeClassifier(random_state=0).fit(X[:, :5], Y)
    narrow.tree_ = wide.tree_  # skops keeps shared references: one Tree, two holders

    with pytest.raises(
        InvalidStateError, match="splits 30 features but its estimator takes 5"
    ) as info:
        check_trees([wide, narrow], source="shared.skops")

    assert info.value.details["estimator"] == "[1].tree_"


def test_tree_without_n_features_in_is_refused(tmp_path: Path) -> None:
    model = DecisionTreeClassifier(random_state=0).fit(X, Y)
    del model.n_features_in_  # scikit-learn then checks no input width at all

    error = _refusal(model, tmp_path)

    assert "no integer n_features_in_" in error.message


def test_gradient_boosting_with_a_missing_tree_is_refused(tmp_path: Path) -> None:
    model = GradientBoostingClassifier(n_estimators=3, random_state=0).fit(X, Y)
    model.estimators_[1, 0] = DecisionTreeRegressor()

    error = _refusal(model, tmp_path)

    assert error.details["estimator"] == "estimators_[1, 0]"
    assert "no decision tree in tree_" in error.message


def test_gradient_boosting_columns_must_match_its_raw_prediction(tmp_path: Path) -> None:
    narrowed = GradientBoostingClassifier(n_estimators=3, random_state=0).fit(X_IRIS, Y_IRIS)
    narrowed.estimators_ = narrowed.estimators_[:, :2].copy()
    binary_init = GradientBoostingClassifier(n_estimators=3, random_state=0).fit(X_IRIS, Y_IRIS)
    binary_init.init_ = DummyClassifier().fit(X_IRIS, Y_IRIS == 0)

    narrowed_error = _refusal(narrowed, tmp_path / "narrowed")
    init_error = _refusal(binary_init, tmp_path / "init")

    assert "its columns are not n_trees_per_iteration_" in narrowed_error.message
    assert init_error.details["estimator"] == "init_"
    assert "raw prediction has shape (2,), not (3,)" in init_error.message


# -- crafted HistGradientBoosting predictors ---------------------------------------------


def _rewrite_predictor(predictor: Any, node: int, **fields: Any) -> None:
    nodes = predictor.nodes.copy()
    for name, value in fields.items():
        nodes[name][node] = value
    predictor.nodes = nodes


def test_crafted_hist_gradient_boosting_predictor_is_refused(tmp_path: Path) -> None:
    model = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X_IRIS, Y_IRIS)
    predictor = model._predictors[1][2]
    _rewrite_predictor(predictor, 0, left=len(predictor.nodes) + 7)

    error = _refusal(model, tmp_path)

    assert error.details == {"flavor": "sklearn", "estimator": "_predictors[1][2]", "node": 0}


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"feature_idx": 3}, r"feature 3 is outside \[0, 3\)"),
        ({"left": 0}, r"children \(0, \d+\)"),
        ({"num_threshold": -np.inf}, "threshold -inf is not a number or"),
    ],
)
def test_crafted_predictor_splits_are_refused(
    fields: dict[str, Any], reason: str, tmp_path: Path
) -> None:
    model = _categorical_model()
    predictor = model._predictors[0][0]
    numeric = np.flatnonzero(
        (predictor.nodes["is_leaf"] == 0) & (predictor.nodes["is_categorical"] == 0)
    )
    _rewrite_predictor(predictor, int(numeric[-1]), **fields)

    error = _refusal(model, tmp_path)

    assert error.details["node"] == int(numeric[-1])
    assert re.search(reason, error.message), error.message


def _split_nodes(model: Any) -> tuple[int, int, int]:
    """(iteration, a categorical split, a numeric split) of a predictor that has both."""
    for i, (predictor,) in enumerate(model._predictors):
        split = predictor.nodes["is_leaf"] == 0
        categorical = np.flatnonzero(split & (predictor.nodes["is_categorical"] == 1))
        numeric = np.flatnonzero(split & (predictor.nodes["is_categorical"] == 0))
        if categorical.size and numeric.size:
            return i, int(categorical[0]), int(numeric[0])
    raise AssertionError("no predictor splits both ways")


def test_categorical_split_on_a_missing_bitset_row_is_refused(tmp_path: Path) -> None:
    model = _categorical_model()
    iteration, node, _ = _split_nodes(model)
    predictor = model._predictors[iteration][0]
    rows = predictor.raw_left_cat_bitsets.shape[0]
    _rewrite_predictor(predictor, node, bitset_idx=rows)

    error = _refusal(model, tmp_path)

    assert error.details["estimator"] == f"_predictors[{iteration}][0]"
    assert error.details["node"] == node
    assert f"bitset row {rows} is outside [0, {rows})" in error.message


def test_categorical_split_on_a_numeric_feature_is_refused(tmp_path: Path) -> None:
    model = _categorical_model()
    iteration, _, node = _split_nodes(model)
    predictor = model._predictors[iteration][0]
    feature = int(predictor.nodes["feature_idx"][node])
    _rewrite_predictor(predictor, node, is_categorical=1, bitset_idx=0)

    error = _refusal(model, tmp_path)

    assert error.details["node"] == node
    assert f"it splits feature {feature} as categorical; the binner does not" in error.message


# -- the walk, the speed, and what the checks prevent ---------------------------------------------


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    nested: Any = []
    for _ in range(MAX_NESTING + 5):
        nested = [nested]

    with pytest.raises(InvalidStateError, match="nests objects more than"):
        check_trees(nested, source="deep.skops")


def test_cycles_between_objects_are_walked_once() -> None:
    model = DecisionTreeClassifier(max_depth=2).fit(X, Y)
    holder: dict[str, Any] = {"model": model}
    holder["self"] = holder

    assert check_trees([holder, holder, model], source="cycle.skops") == 1


def test_a_500_tree_forest_checks_quickly() -> None:
    model = RandomForestClassifier(500, max_depth=8, random_state=0, n_jobs=2).fit(X, Y)
    nodes = sum(tree.tree_.node_count for tree in model.estimators_)

    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        assert check_trees(model, source="forest.skops") == 500
        best = min(best, time.perf_counter() - started)
    log.info("check_trees: 500 trees, %d nodes in %.2f ms", nodes, best * 1e3)  # a log, not a gate


_CRASH = """
import numpy as np, skops.io
model = skops.io.load({path!r}, trusted=["sklearn.tree._tree.Tree"])
model.predict(np.zeros((1, {width})))
"""


def test_the_refused_file_would_crash_predict(tmp_path: Path) -> None:
    model = DecisionTreeClassifier(random_state=0).fit(X, Y)
    _rewrite(model.tree_, 0, left_child=2**50, right_child=2**50)
    meta = save_model(model, tmp_path)
    path = tmp_path / "model.skops"

    crash = subprocess.run(
        [sys.executable, "-c", _CRASH.format(path=str(path), width=N_FEATURES)],
        capture_output=True,
        timeout=120,
        check=False,
    )

    assert crash.returncode != 0  # SIGSEGV (-11) here; what check_trees stops at load
    with pytest.raises(InvalidStateError, match="node 0"):
        load_model(tmp_path, meta)
