"""Evaluation details: regression, user rules as baselines, sensitive features as an array."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import root_mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from loopline.entities import ModelVersion, ReleasePolicy
from loopline.release import ReleaseService

Frames = tuple[pd.DataFrame, pd.DataFrame]
LogVersion = Callable[..., ModelVersion]


@pytest.fixture(scope="module")
def diabetes() -> Frames:
    frame = load_diabetes(as_frame=True).frame
    return frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(drop=True)


def test_regression_against_the_mean_and_the_median(
    release: ReleaseService, log_version: LogVersion, diabetes: Frames
) -> None:
    train, test = diabetes
    features = train.drop(columns=["target"])
    model = LinearRegression().fit(features, train["target"])
    log_version(model, features.head(20), name="diabetes")

    stored = release.evaluate("models:/diabetes/1", test, target="target", train_data=train,
                              actor="carol")  # fmt: skip
    result = stored.result
    predictions = model.predict(test.drop(columns=["target"]))
    assert result["task"] == "regression"
    assert result["threshold"] is None
    assert result["model"]["metrics"]["rmse"] == pytest.approx(
        root_mean_squared_error(test["target"], predictions)
    )
    mean_rmse = root_mean_squared_error(test["target"], np.full(len(test), train["target"].mean()))
    assert result["baseline"]["metrics"]["rmse"] == pytest.approx(mean_rmse)
    assert result["comparison"]["metric"] == "rmse"
    assert result["comparison"]["margin"] == pytest.approx(
        mean_rmse - result["model"]["metrics"]["rmse"]
    )
    assert set(result["coefficients"]) == {*features.columns, "(intercept)"}
    assert {item["feature"] for item in result["importance"]} == set(features.columns)
    assert release.gates("diabetes", 1).passed

    median = release.evaluate("models:/diabetes/1", test, target="target", train_data=train,
                              baseline="median", importance=False, actor="carol")  # fmt: skip
    assert median.result["baseline"]["strategy"] == "median"
    policy = ReleasePolicy(fairness_thresholds={"equalized_odds_difference": 0.1})
    release.set_policy("diabetes", policy, actor="risk")
    with_groups = release.evaluate(
        "models:/diabetes/1", test, target="target", train_data=train, sensitive_features="sex",
        importance=False, actor="carol",
    )  # fmt: skip
    assert with_groups.result["fairness"] is None
    assert "binary classifier" in with_groups.result["notes"]["fairness"]
    assert [g.name for g in release.gates("diabetes", 1).failed] == ["fairness_thresholds"]


def test_a_tree_model_has_importance_but_no_coefficients(
    release: ReleaseService, log_version: LogVersion, diabetes: Frames
) -> None:
    train, test = diabetes
    features = train.drop(columns=["target"])
    model = RandomForestRegressor(n_estimators=10, random_state=0).fit(features, train["target"])
    log_version(model, features.head(20), name="diabetes")
    result = release.evaluate("models:/diabetes/1", test, target="target", train_data=train,
                              actor="carol").result  # fmt: skip
    assert result["coefficients"] is None
    assert "not a linear model" in result["notes"]["coefficients"]
    assert len(result["importance"]) == features.shape[1]


def test_a_rule_baseline_without_scores_fails_an_auc_gate_closed(
    release: ReleaseService, log_version: LogVersion, cancer: Frames
) -> None:
    train, test = cancer
    features = train.drop(columns=["y"])
    log_version(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
            features, train["y"]
        ),
        features.head(20),
    )

    def rule(X: pd.DataFrame) -> np.ndarray:
        return (X["worst radius"] < 16.8).astype(int).to_numpy()

    stored = release.evaluate("models:/cancer/1", test, target="y", train_data=train,
                              baseline=rule, importance=False, actor="carol")  # fmt: skip
    assert stored.result["baseline"]["strategy"] == "RuleBaseline"
    assert stored.result["baseline"]["metrics"]["auc"] is None
    assert stored.result["comparison"] is None
    assert "undefined" in stored.result["notes"]["comparison"]
    (failed,) = release.gates("cancer", 1).failed
    assert failed.detail == "the baseline's auc is missing or undefined"

    release.set_policy("cancer", ReleasePolicy(primary_metric="accuracy"), actor="risk")
    rule_accuracy = np.mean(rule(test) == test["y"])
    assert stored.result["baseline"]["metrics"]["accuracy"] == pytest.approx(rule_accuracy)
    gate = release.gates("cancer", 1).gates[1]
    assert stored.result["model"]["metrics"]["accuracy"] > rule_accuracy
    assert gate.passed


def test_sensitive_features_as_one_array_of_labels(
    release: ReleaseService, log_version: LogVersion, cancer: Frames
) -> None:
    train, test = cancer
    features = train.drop(columns=["y"])
    log_version(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
            features, train["y"]
        ),
        features.head(20),
    )
    site = pd.Series(np.where(np.arange(len(test)) % 3 == 0, "north", "south"), name="site")
    fairness = release.evaluate("models:/cancer/1", test, target="y", train_data=train,
                                sensitive_features=site, importance=False,
                                actor="carol").result["fairness"]  # fmt: skip
    assert list(fairness) == ["site"]
    assert [g["group"] for g in fairness["site"]["groups"]] == ["north", "south"]
    assert sum(g["count"] for g in fairness["site"]["groups"]) == len(test)
