"""Open Inference Protocol v2 with the real tritonclient (HTTP, JSON tensors) and raw requests."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from serving_support import COLUMNS, Models, Running, expected_proba


@pytest.fixture
def tc(gbc_server: Running) -> Any:
    client = triton.InferenceServerClient(url=f"127.0.0.1:{gbc_server.port}")
    yield client
    client.close()


def _infer(tc: Any, x: Any, outputs: list[str] | None = None, **kwargs: Any) -> Any:
    tensor = triton.InferInput("input-0", list(x.shape), "FP64")
    tensor.set_data_from_numpy(x, binary_data=False)
    requested = [triton.InferRequestedOutput(n, binary_data=False) for n in outputs or []]
    return tc.infer("gbc", [tensor], outputs=requested or None, **kwargs)


def test_health_and_readiness_with_tritonclient(tc: Any) -> None:
    assert tc.is_server_live()
    assert tc.is_server_ready()
    assert tc.is_model_ready("gbc")
    assert tc.is_model_ready("gbc", "1")
    assert not tc.is_model_ready("gbc", "2")
    assert not tc.is_model_ready("nope")


def test_metadata_with_tritonclient(tc: Any) -> None:
    server = tc.get_server_metadata()
    model = tc.get_model_metadata("gbc")

    assert server["name"] == "loopline"
    assert model["versions"] == ["1"]
    assert model["platform"] == "sklearn"
    assert model["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 20]}]
    assert [o["name"] for o in model["outputs"]] == ["label", "proba"]


def test_infer_with_tritonclient_matches_the_model(tc: Any, models: Models) -> None:
    x = models.X[:7]

    result = _infer(tc, x, ["label", "proba"], request_id="req-1")

    np.testing.assert_allclose(result.as_numpy("proba"), expected_proba(models.gbc, x))
    assert result.as_numpy("label").tolist() == models.gbc.predict(models.frame.head(7)).tolist()
    assert result.get_response()["id"] == "req-1"
    assert result.get_response()["model_version"] == "1"


def test_outputs_filter_and_default_outputs(tc: Any, models: Models) -> None:
    only = _infer(tc, models.X[:2], ["proba"])
    everything = _infer(tc, models.X[:2])  # the client asks for binary output

    assert [o["name"] for o in only.get_response()["outputs"]] == ["proba"]
    assert everything.as_numpy("label").shape == (2,)


def test_nested_data_and_pd_convention(http: httpx.Client, models: Models) -> None:
    x = models.X[:3]
    nested = {"inputs": [{"name": "x", "shape": [3, 20], "datatype": "FP64", "data": x.tolist()}]}
    pd_style = {
        "parameters": {"content_type": "pd"},
        "inputs": [
            {"name": c, "shape": [3], "datatype": "FP64", "data": x[:, i].tolist()}
            for i, c in reversed(list(enumerate(COLUMNS)))
        ],
        "unknown_field": 1,
    }

    for body in (nested, pd_style):
        response = http.post("/v2/models/gbc/versions/1/infer", json=body)
        assert response.status_code == 200, response.text
        proba = response.json()["outputs"][1]
        np.testing.assert_allclose(np.reshape(proba["data"], proba["shape"]),
                                   expected_proba(models.gbc, x))  # fmt: skip


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"inputs": []}, "'inputs' must be a non-empty list"),
        ({"inputs": [{"name": "x", "shape": [1, 19], "datatype": "FP64", "data": [0.0] * 19}]},
         "shape [N, 20]"),
        ({"inputs": [{"name": "x", "shape": [1, 20], "datatype": "FP64",
                      "data": ["a"] + [0.0] * 19}]}, "Column 'f0' must hold float values"),
        ({"inputs": [{"name": "f0", "shape": [1], "datatype": "FP64", "data": [1.0]}]},
         "lacks the column(s) ['f1'"),
        ({"inputs": [{"name": "x", "shape": [1, 20], "datatype": "FP99", "data": [0] * 20}]},
         "unknown datatype 'FP99'"),
        ({"inputs": [{"name": "x", "shape": [1, 20], "datatype": "FP64", "data": [0] * 20}],
          "outputs": [{"name": "nope"}]}, "Unknown output 'nope'"),
        ([1, 2], "JSON object"),
    ],
)  # fmt: skip
def test_bad_inference_requests_are_400_naming_the_problem(
    http: httpx.Client, body: Any, message: str
) -> None:
    response = http.post("/v2/models/gbc/infer", json=body)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert message in response.json()["error"]


def test_malformed_json_unknown_model_and_version(http: httpx.Client) -> None:
    malformed = http.post("/v2/models/gbc/infer", content=b"{not json")
    unknown = http.post("/v2/models/nope/infer", json={"inputs": []})
    version = http.get("/v2/models/gbc/versions/9")

    assert malformed.status_code == 400
    assert "not valid JSON" in malformed.json()["error"]
    assert unknown.status_code == 404
    assert "'nope' is not served" in unknown.json()["error"]
    assert version.status_code == 404
    assert "serves version 1" in version.json()["error"]


def test_health_bodies(http: httpx.Client) -> None:
    assert http.get("/v2/health/live").json() == {"live": True}
    assert http.get("/v2/health/ready").json() == {"ready": True}
    assert http.get("/v2/models/gbc/ready").json() == {"name": "gbc", "ready": True}
    assert http.get("/v2").json()["extensions"] == ["binary_tensor_data"]
