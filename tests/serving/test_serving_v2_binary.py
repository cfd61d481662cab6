"""Triton's binary tensor data extension on the v2 infer route: tritonclient and raw framing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import tritonclient.http as triton
from serving_support import COLUMNS, Models, Running, Serve, expected_proba

from loopline.modeling.logged import log_model


@pytest.fixture
def tc(gbc_server: Running) -> Any:
    client = triton.InferenceServerClient(url=f"127.0.0.1:{gbc_server.port}")
    yield client
    client.close()


def _infer(tc: Any, x: Any, datatype: str, *, binary: bool, **kwargs: Any) -> Any:
    tensor = triton.InferInput("input-0", list(x.shape), datatype)
    tensor.set_data_from_numpy(x, binary_data=binary)
    outputs = [triton.InferRequestedOutput(n, binary_data=binary) for n in ("label", "proba")]
    return tc.infer("gbc", [tensor], outputs=outputs, **kwargs)


@pytest.mark.parametrize("datatype", ["FP32", "FP64", "INT64"])
def test_binary_inputs_and_outputs_equal_the_json_path(
    tc: Any, models: Models, datatype: str
) -> None:
    x = (models.X[:6] * 10).astype(triton.triton_to_np_dtype(datatype))

    binary = _infer(tc, x, datatype, binary=True, request_id="b-1")
    plain = _infer(tc, x, datatype, binary=False)

    assert binary.get_output("proba")["parameters"]["binary_data_size"] == 6 * 2 * 8
    assert "data" not in binary.get_output("label")
    assert "data" in plain.get_output("label")
    np.testing.assert_array_equal(binary.as_numpy("proba"), plain.as_numpy("proba"))
    np.testing.assert_array_equal(binary.as_numpy("label"), plain.as_numpy("label"))
    expected = expected_proba(models.gbc, x.astype(np.float64))
    np.testing.assert_allclose(binary.as_numpy("proba"), expected)
    assert binary.get_response()["id"] == "b-1"


def test_default_client_calls_are_binary_both_ways(tc: Any, models: Models) -> None:
    x = models.X[:3]
    tensor = triton.InferInput("input-0", [3, 20], "FP64")
    tensor.set_data_from_numpy(x)  # binary by default; outputs=None asks binary_data_output

    result = tc.infer("gbc", [tensor])

    assert all("binary_data_size" in o["parameters"] for o in result.get_response()["outputs"])
    np.testing.assert_allclose(result.as_numpy("proba"), expected_proba(models.gbc, x))


def test_per_output_flag_mixes_binary_and_json_outputs(http: httpx.Client, models: Models) -> None:
    x = models.X[:2]
    document = {
        "inputs": [{"name": "x", "shape": [2, 20], "datatype": "FP64", "data": x.ravel().tolist()}],
        "parameters": {"binary_data_output": True},
        "outputs": [{"name": "label", "parameters": {"binary_data": False}}, {"name": "proba"}],
    }

    response = http.post("/v2/models/gbc/infer", json=document)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    length = int(response.headers["inference-header-content-length"])
    header = json.loads(response.content[:length])
    label, proba = header["outputs"]
    assert label["data"] == models.gbc.predict(models.frame.head(2)).tolist()
    assert proba["parameters"] == {"binary_data_size": 32}
    values = np.frombuffer(response.content[length:], "<f8").reshape(2, 2)
    np.testing.assert_allclose(values, expected_proba(models.gbc, x))


def test_json_request_without_binary_asks_stays_json(http: httpx.Client, models: Models) -> None:
    data = models.X[:1].ravel().tolist()
    document = {"inputs": [{"name": "x", "shape": [1, 20], "datatype": "FP64", "data": data}]}

    response = http.post("/v2/models/gbc/infer", json=document)

    assert response.headers["content-type"] == "application/json"
    assert "inference-header-content-length" not in response.headers
    assert "data" in response.json()["outputs"][0]


def test_binary_and_json_inputs_mixed_per_column(tc: Any, models: Models) -> None:
    x = models.X[:5]
    tensors = []
    for i, column in enumerate(COLUMNS):
        datatype = "FP32" if i % 3 == 0 else "FP64"
        tensor = triton.InferInput(column, [5], datatype)
        tensor.set_data_from_numpy(
            x[:, i].astype(datatype.replace("FP", "float")), binary_data=i % 2 == 0
        )
        tensors.append(tensor)

    result = tc.infer("gbc", tensors, outputs=[triton.InferRequestedOutput("proba")])

    sent = np.column_stack(
        [x[:, i].astype(np.float32) if i % 3 == 0 else x[:, i] for i in range(20)]
    )
    np.testing.assert_allclose(
        result.as_numpy("proba"), expected_proba(models.gbc, sent.astype(np.float64))
    )


@pytest.fixture(scope="module")
def plans(models: Models) -> tuple[Any, pd.DataFrame]:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, 100),
        "plan": rng.choice(["basic", "plus", "pro"], 100),
        "tenure": rng.random(100) * 10,
    })  # fmt: skip
    y = (frame["tenure"] > 5).astype(int) ^ (frame["plan"] == "pro").astype(int)
    encode = ColumnTransformer([("plan", OneHotEncoder(), ["plan"])], remainder="passthrough")
    model = Pipeline([("encode", encode), ("fit", LogisticRegression(max_iter=500))]).fit(frame, y)
    client = models.client
    run_id = client.create_run(client.get_experiment_by_name("serving-tests").experiment_id)
    tracking: Any = client.backend
    name = "plans-binary"
    log_model(tracking, client.registry, run_id.info.run_id, model, "model",
              input_example=frame, registered_model_name=name, actor="tester")  # fmt: skip
    return model, frame


def test_binary_bytes_and_int64_columns(serve: Serve, plans: tuple[Any, pd.DataFrame]) -> None:
    model, frame = plans
    server = serve("models:/plans-binary/1")
    head = frame.head(4)
    plan = triton.InferInput("plan", [4], "BYTES")
    plan.set_data_from_numpy(head["plan"].to_numpy(dtype=object), binary_data=True)
    age = triton.InferInput("age", [4], "INT64")
    age.set_data_from_numpy(head["age"].to_numpy(np.int64), binary_data=True)
    tenure = triton.InferInput("tenure", [4], "FP64")
    tenure.set_data_from_numpy(head["tenure"].to_numpy(), binary_data=False)
    client = triton.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    try:
        result = client.infer("plans-binary", [plan, age, tenure])
    finally:
        client.close()

    np.testing.assert_allclose(result.as_numpy("proba"), model.predict_proba(head))
    assert result.as_numpy("label").tolist() == model.predict(head).tolist()


# -- malformed framing: 4xx naming the problem, never a 500 --------------------------------------


def _post(http: httpx.Client, document: Any, binary: bytes, length: Any = None) -> httpx.Response:
    header = document if isinstance(document, bytes) else json.dumps(document).encode()
    size = len(header) if length is None else length
    return http.post(
        "/v2/models/gbc/infer",
        content=header + binary,
        headers={"Inference-Header-Content-Length": str(size)},
    )


def _input(size: Any = 160, **fields: Any) -> dict[str, Any]:
    tensor = {"name": "x", "shape": [1, 20], "datatype": "FP64", "parameters": {}}
    tensor["parameters"] = {"binary_data_size": size}
    return {"inputs": [{**tensor, **fields}]}


def _json_input() -> dict[str, Any]:
    return {"inputs": [{"name": "x", "shape": [1, 20], "datatype": "FP64", "data": [0.0] * 20}]}


def _row(models: Models) -> bytes:
    return bytes(models.X[:1].astype("<f8").tobytes())


@pytest.mark.parametrize("extra", [{}, {"data": None}], ids=["no-data", "null-data"])
def test_raw_framing_is_accepted(http: httpx.Client, models: Models, extra: Any) -> None:
    response = _post(http, _input(**extra), _row(models))

    assert response.status_code == 200, response.text
    proba = next(o for o in response.json()["outputs"] if o["name"] == "proba")
    np.testing.assert_allclose([proba["data"]], expected_proba(models.gbc, models.X[:1]))


@pytest.mark.parametrize(
    ("document", "binary", "length", "message"),
    [
        (
            _input(),
            b"\0" * 160,
            99999,
            "Header-Content-Length is 99999 but the request body has only",
        ),
        (_input(), b"\0" * 160, "-5", "got '-5', a negative integer"),
        (_input(), b"\0" * 160, "1.5", "got '1.5', not an integer"),
        (_input(), b"\0" * 160, "abc", "got 'abc', not an integer"),
        (_input(), b"\0" * 160, "", "got '', not an integer"),
        (_input(200), b"\0" * 160, None, "('x'): binary_data_size is 200 but only 160 bytes"),
        (
            _input(80),
            b"\0" * 80,
            None,
            "('x'): binary_data_size is 80 bytes but shape [1, 20] of FP64 needs 160",
        ),
        (_input(160, datatype="FP32"), b"\0" * 160, None, "shape [1, 20] of FP32 needs 80 bytes"),
        (_input(160), b"\0" * 168, None, "The request body has 8 bytes after the JSON header"),
        (_json_input(), b"\0", None, "has 1 bytes after the JSON header"),
        (_input(-8), b"", None, "('x'): binary_data_size must be a non-negative integer; got -8"),
        (_input(1.5), b"\0", None, "must be a non-negative integer; got 1.5"),
        (_input("160"), b"\0" * 160, None, "must be a non-negative integer; got '160'"),
        (_input(True), b"\0", None, "must be a non-negative integer; got True"),
        (
            _input(160, datatype="FP128"),
            b"\0" * 160,
            None,
            "('x'): unknown datatype 'FP128' for binary",
        ),
        (_input(160, datatype=None), b"\0" * 160, None, "inputs[0] ('x'): unknown datatype None"),
        (
            _input(160, shape=None),
            b"\0" * 160,
            None,
            "inputs[0] ('x'): a binary input needs a shape",
        ),
        (
            _input(160, shape=[1, -20]),
            b"\0" * 160,
            None,
            "shape of non-negative integers; got [1, -20]",
        ),
        (
            _input(160, data=[0.0] * 20),
            b"\0" * 160,
            None,
            "('x') has both 'data' and binary_data_size",
        ),
        (
            _input(6, datatype="BYTES", shape=[1]),
            b"\x05\0\0\0ab",
            None,
            "BYTES element 0 declares 5 bytes but only 2 remain",
        ),
        (
            _input(6, datatype="BYTES", shape=[2]),
            b"\x01\0\0\0ab",
            None,
            "BYTES element 1 has a truncated 4-byte length prefix",
        ),
        (
            _input(5, datatype="BYTES", shape=[2]),
            b"\x01\0\0\0a",
            None,
            "holds 1 BYTES elements but the shape needs 2",
        ),
        (
            _input(5, datatype="BYTES", shape=[1]),
            b"\x01\0\0\0\xff",
            None,
            "BYTES element 0 is not UTF-8",
        ),
        (b"{not json", b"", None, "The request body is not valid JSON"),
    ],
)
def test_malformed_framing_is_a_precise_400(
    http: httpx.Client, document: Any, binary: bytes, length: Any, message: str
) -> None:
    response = _post(http, document, binary, length)

    assert response.status_code == 400, response.text
    assert message in response.json()["error"]


def test_binary_data_size_without_the_header_is_a_400(http: httpx.Client) -> None:
    response = http.post("/v2/models/gbc/infer", json=_input())

    assert response.status_code == 400
    assert response.json()["error"] == (
        "inputs[0] ('x') sets parameters.binary_data_size but the request has no "
        "Inference-Header-Content-Length header (the JSON header's byte length)."
    )
