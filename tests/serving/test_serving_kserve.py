"""The real KServe REST client (protocol v2) against the server.

kserve 0.21.0 pins pandas < 3, so this runs in the pandas-2 environment of scripts/check
(``.venv-pandas2``); where kserve is not importable the module is skipped.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from serving_support import Models, Running, expected_proba

kserve = pytest.importorskip("kserve", reason="kserve runs in .venv-pandas2 (pandas < 3)")


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def _client_calls(url: str, x: Any) -> dict[str, Any]:
    client = kserve.InferenceRESTClient(kserve.RESTConfig(protocol="v2"))
    try:
        tensor = kserve.InferInput("input-0", list(x.shape), "FP64")
        tensor.set_data_from_numpy(x, binary_data=False)
        request = kserve.InferRequest("gbc", [tensor], request_id="kserve-1")
        response = await client.infer(url, request, model_name="gbc")
        binary = kserve.InferInput("input-0", list(x.shape), "FP64")
        binary.set_data_from_numpy(x, binary_data=True)
        framed = await client.infer(url, kserve.InferRequest("gbc", [binary]), model_name="gbc")
        return {
            "live": await client.is_server_live(url),
            "ready": await client.is_server_ready(url),
            "model": await client.is_model_ready(url, "gbc"),
            "unknown": await client.is_model_ready(url, "nope"),
            "response": response,
            "binary": framed,
        }
    finally:
        await client.close()


def test_kserve_rest_client_v2(gbc_server: Running, models: Models) -> None:
    x = models.X[:4]

    found = _run(_client_calls(gbc_server.url, x))

    assert (found["live"], found["ready"], found["model"], found["unknown"]) == (
        True, True, True, False,
    )  # fmt: skip
    response = found["response"]
    assert response.id == "kserve-1"
    proba = next(o for o in response.outputs if o.name == "proba")
    np.testing.assert_allclose(proba.as_numpy(), expected_proba(models.gbc, x))
    framed = next(o for o in found["binary"].outputs if o.name == "proba")
    np.testing.assert_allclose(framed.as_numpy(), proba.as_numpy())
