"""MLflow's scoring protocol on /invocations: the four JSON forms, CSV, params, 415s, health."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from serving_support import COLUMNS, Models, expected_proba, row

from loopline import __version__


def _labels(models: Models, n: int) -> list[int]:
    return [int(v) for v in models.gbc.predict(models.frame.head(n))]


def test_the_four_json_forms_give_the_models_labels(http: httpx.Client, models: Models) -> None:
    x = models.X[:4]
    records = [row(models.X, i) for i in range(4)]
    bodies = [
        {"dataframe_split": {"columns": COLUMNS, "data": x.tolist(), "index": [0, 1, 2, 3]}},
        {"dataframe_records": records},
        {"instances": records},
        {"inputs": {c: x[:, i].tolist() for i, c in enumerate(COLUMNS)}},
        {"inputs": x.tolist()},  # a 2-D tensor in the signature's column order
    ]

    for body in bodies:
        response = http.post("/invocations", json=body)
        assert response.status_code == 200, (body, response.text)
        assert response.json() == {"predictions": _labels(models, 4)}


def test_split_with_columns_in_another_order(http: httpx.Client, models: Models) -> None:
    order = list(reversed(range(20)))
    body = {"dataframe_split": {"columns": [COLUMNS[i] for i in order],
                                "data": models.X[:3, order].tolist()}}  # fmt: skip

    assert http.post("/invocations", json=body).json() == {"predictions": _labels(models, 3)}


def test_probabilities_by_query_or_params(http: httpx.Client, models: Models) -> None:
    body = {"dataframe_records": [row(models.X, 0), row(models.X, 1)]}

    by_query = http.post("/invocations?output=proba", json=body).json()["predictions"]
    by_params = http.post("/invocations", json={**body, "params": {"output": "proba"}}).json()

    np.testing.assert_allclose(by_query, expected_proba(models.gbc, models.X[:2]))
    assert by_params["predictions"] == by_query


def test_csv(http: httpx.Client, models: Models) -> None:
    lines = [",".join(COLUMNS)] + [",".join(repr(float(v)) for v in r) for r in models.X[:3]]

    response = http.post("/invocations", content="\n".join(lines) + "\n",
                         headers={"content-type": "text/csv; charset=utf-8"})  # fmt: skip

    assert response.json() == {"predictions": _labels(models, 3)}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/json; charset=latin-1", "application/json; format=pandas-split",
     "application/xml"],
)  # fmt: skip
def test_other_content_types_are_415(http: httpx.Client, models: Models, content_type: str) -> None:
    response = http.post("/invocations", content=b'{"dataframe_records": []}',
                         headers={"content-type": content_type})  # fmt: skip

    assert response.status_code == 415
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "exactly one of the keys"),
        ({"dataframe_records": [], "instances": []}, "exactly one of the keys"),
        ({"columns": COLUMNS, "data": [[0.0] * 20]}, "MLflow 2.0"),
        ({"dataframe_records": [{"f0": 1.0}]}, "lacks the column 'f1'"),
        ({"dataframe_records": [dict.fromkeys(COLUMNS, "x")]}, "Column 'f0' must hold float"),
        ({"inputs": [[0.0] * 19]}, "must be a row of 20 values"),
        ({"dataframe_records": [dict.fromkeys(COLUMNS, 0.0)], "params": {"output": "x"}},
         "params.output"),
    ],
)  # fmt: skip
def test_bad_bodies_are_400_in_mlflows_error_format(
    http: httpx.Client, body: object, message: str
) -> None:
    response = http.post("/invocations", json=body)

    assert response.status_code == 400
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert message in response.json()["message"]


def test_ping_health_version(http: httpx.Client) -> None:
    assert http.get("/ping").status_code == 200
    assert http.get("/health").text == "\n"
    assert http.get("/version").text == __version__
