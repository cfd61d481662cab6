"""loopline's /deployments/{name}/predict: predictions, request keys, explanations, bad input."""

from __future__ import annotations

import math

import httpx
import numpy as np
import pytest
from serving_support import COLUMNS, Models, Running, expected_proba, row


def test_predictions_carry_ids_scores_and_the_version(http: httpx.Client, models: Models) -> None:
    body = {"rows": [row(models.X, 0), row(models.X, 1)], "request_keys": ["a", "b"]}

    answer = http.post("/deployments/gbc/predict", json=body).json()

    proba = expected_proba(models.gbc, models.X[:2])
    assert answer["deployment"] == "gbc"
    assert answer["model_version"] == 1
    first, second = answer["predictions"]
    assert first["score"] == pytest.approx(proba[0, 1])
    assert first["proba"] == {"0": pytest.approx(proba[0, 0]), "1": pytest.approx(proba[0, 1])}
    assert [first["request_key"], second["request_key"]] == ["a", "b"]
    assert first["decision"] is None
    assert first["variant"] == "champion"
    assert len({first["prediction_id"], second["prediction_id"]}) == 2


def test_columns_and_data_form(http: httpx.Client, models: Models) -> None:
    body = {"columns": COLUMNS, "data": models.X[:3].tolist()}

    answer = http.post("/deployments/gbc/predict", json=body).json()

    assert [p["label"] for p in answer["predictions"]] == models.gbc.predict(
        models.frame.head(3)
    ).tolist()


def test_tree_explanations_sum_to_the_log_odds(http: httpx.Client, models: Models) -> None:
    body = {"rows": [row(models.X, i) for i in range(5)], "explain": True}

    predictions = http.post("/deployments/gbc/predict", json=body).json()["predictions"]

    raw = models.gbc.decision_function(models.frame.head(5))
    bases = {p["explanation"]["base_value"] for p in predictions}
    assert len({round(b, 9) for b in bases}) == 1  # the prior log-odds, the same for every row
    for p, expected in zip(predictions, raw, strict=True):
        explanation = p["explanation"]
        assert explanation["output"] == "log_odds"
        total = explanation["base_value"] + sum(explanation["contributions"].values())
        assert total == pytest.approx(expected, abs=1e-9)
        assert p["score"] == pytest.approx(1 / (1 + math.exp(-expected)))


def test_linear_explanations_use_the_training_means(logit_server: Running, models: Models) -> None:
    body = {"rows": [row(models.X, i) for i in range(3)], "explain": True}

    predictions = httpx.post(f"{logit_server.url}/deployments/logit/predict", json=body).json()

    raw = models.logit.decision_function(models.frame.head(3))
    for p, expected in zip(predictions["predictions"], raw, strict=True):
        explanation = p["explanation"]
        assert explanation["reference"] == "training_mean"
        total = explanation["base_value"] + sum(explanation["contributions"].values())
        assert total == pytest.approx(expected, abs=1e-9)
    first = predictions["predictions"][0]["explanation"]["contributions"]
    mean = models.client.registry.training_profile("logit", 1).profile["f3"]["mean"]
    assert first["f3"] == pytest.approx(models.logit.coef_[0][3] * (models.X[0, 3] - mean))


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"rows": [{"f0": 1.0}]}, "f1", "lacks the column 'f1'"),
        ({"rows": [{**dict.fromkeys(COLUMNS, 0.0), "f4": "high"}]}, "f4",
         "Column 'f4' must hold float values; got str"),
        ({"rows": [{**dict.fromkeys(COLUMNS, 0.0), "f2": [1]}]}, "f2", "Column 'f2' must hold"),
        ({"rows": []}, None, "'rows' must be a non-empty list"),
        ({"rows": [1]}, None, "rows[0] must be an object"),
        ({"rows": [dict.fromkeys(COLUMNS, 0.0)], "request_keys": ["a", "b"]}, None,
         "'request_keys' must be a list of 1"),
        ({"rows": [dict.fromkeys(COLUMNS, 0.0)], "explain": "yes"}, None, "'explain' must be"),
        ({"columns": COLUMNS, "data": [[0.0] * 19]}, None, "data[0] must be a list of 20"),
        ({"nothing": 1}, None, "needs 'rows'"),
    ],
)  # fmt: skip
def test_bad_input_is_400_naming_the_field(
    http: httpx.Client, body: object, field: str | None, message: str
) -> None:
    response = http.post("/deployments/gbc/predict", json=body)

    assert response.status_code == 400
    assert message in response.json()["error"], response.text


def test_missing_value_in_a_column_that_allows_none_is_400(http: httpx.Client) -> None:
    body = {"rows": [{**dict.fromkeys(COLUMNS, 0.0), "f7": None}]}

    response = http.post("/deployments/gbc/predict", json=body)

    assert response.status_code == 400
    assert response.json()["error"] == (
        "Column 'f7' has a missing value; the model's signature does not allow any."
    )


def test_unknown_deployment_is_404(http: httpx.Client) -> None:
    response = http.post("/deployments/nope/predict", json={"rows": [{}]})

    assert response.status_code == 404
    assert "'nope' is not served" in response.json()["error"]


def test_batch_matches_single_rows(http: httpx.Client, models: Models) -> None:
    rows = [row(models.X, i) for i in range(50)]

    batch = http.post("/deployments/gbc/predict", json={"rows": rows}).json()["predictions"]

    np.testing.assert_allclose([p["score"] for p in batch],
                               expected_proba(models.gbc, models.X[:50])[:, 1])  # fmt: skip
