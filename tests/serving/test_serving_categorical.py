"""A model with a text column: the signature's enforce path, categories checked, pd tensors."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from serving_support import Models, Serve

from loopline.modeling.logged import log_model


@pytest.fixture(scope="module")
def plans(models: Models) -> tuple[Any, pd.DataFrame]:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, 300),
        "plan": rng.choice(["basic", "plus", "pro"], 300),
        "tenure": rng.random(300) * 10,
    })  # fmt: skip
    y = (frame["tenure"] > 5).astype(int) ^ (frame["plan"] == "pro").astype(int)
    encode = ColumnTransformer([("plan", OneHotEncoder(), ["plan"])], remainder="passthrough")
    model = Pipeline([("encode", encode), ("fit", LogisticRegression(max_iter=500))]).fit(frame, y)
    client = models.client
    run_id = client.create_run(client.get_experiment_by_name("serving-tests").experiment_id)
    tracking: Any = client.backend
    log_model(tracking, client.registry, run_id.info.run_id, model, "model",
              input_example=frame, registered_model_name="plans", actor="tester")  # fmt: skip
    return model, frame


def test_rows_with_text_columns_are_scored_like_the_model(
    serve: Serve, plans: tuple[Any, pd.DataFrame]
) -> None:
    model, frame = plans
    server = serve("models:/plans/1")
    rows = frame.head(4).to_dict(orient="records")

    answer = httpx.post(f"{server.url}/deployments/plans/predict", json={"rows": rows}).json()

    scores = [p["score"] for p in answer["predictions"]]
    np.testing.assert_allclose(scores, model.predict_proba(frame.head(4))[:, 1])


def test_pd_tensors_and_metadata(serve: Serve, plans: tuple[Any, pd.DataFrame]) -> None:
    model, frame = plans
    server = serve("models:/plans/1")
    head = frame.head(3)
    body = {"inputs": [
        {"name": "plan", "datatype": "BYTES", "shape": [3], "data": head["plan"].tolist()},
        {"name": "age", "datatype": "INT64", "shape": [3], "data": head["age"].tolist()},
        {"name": "tenure", "datatype": "FP64", "shape": [3], "data": head["tenure"].tolist()},
    ]}  # fmt: skip

    metadata = httpx.get(f"{server.url}/v2/models/plans").json()
    answer = httpx.post(f"{server.url}/v2/models/plans/infer", json=body).json()

    assert metadata["parameters"]["content_type"] == "pd"
    assert {i["name"]: i["datatype"] for i in metadata["inputs"]} == {
        "age": "INT64", "plan": "BYTES", "tenure": "FP64"}  # fmt: skip
    proba = answer["outputs"][1]
    np.testing.assert_allclose(np.reshape(proba["data"], proba["shape"]),
                               model.predict_proba(head))  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"plan": "gold"}, "Column 'plan' holds value(s) ['gold'] the model never saw"),
        ({"age": "old"}, "Column 'age' must hold integer values; got string"),
        ({"tenure": None}, "Column 'tenure' has 1 missing value(s)"),
    ],
)
def test_bad_values_are_400_naming_the_column(
    serve: Serve, plans: tuple[Any, pd.DataFrame], change: dict[str, Any], message: str
) -> None:
    _, frame = plans
    server = serve("models:/plans/1")
    bad = {**frame.head(1).to_dict(orient="records")[0], **change}

    response = httpx.post(f"{server.url}/deployments/plans/predict", json={"rows": [bad]})

    assert response.status_code == 400
    assert message in response.json()["error"]
