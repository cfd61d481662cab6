"""An endpoint whose model is not loaded yet: not ready everywhere, and no 5xx."""

from __future__ import annotations

import httpx
from serving_support import Running

from loopline.serving.app import ServingApp
from loopline.serving.endpoint import Endpoint


def test_an_endpoint_without_a_model_is_not_ready() -> None:
    app = ServingApp([Endpoint("later")], poll_interval=0)

    with Running(app) as server, httpx.Client(base_url=server.url) as client:
        ready = client.get("/v2/health/ready")
        model_ready = client.get("/v2/models/later/ready")
        infer = client.post("/v2/models/later/infer", json={"inputs": []})
        predict = client.post("/deployments/later/predict", json={"rows": [{}]})
        ping = client.get("/ping")
        invocations = client.post("/invocations", json={"inputs": [[1.0]]})
        live = client.get("/v2/health/live")

    assert (ready.status_code, ready.json()) == (503, {"ready": False})
    assert model_ready.status_code == 400
    assert infer.status_code == predict.status_code == invocations.status_code == 503
    assert infer.json() == {"error": "Model 'later' is still loading."}
    assert ping.status_code == 404
    assert live.json() == {"live": True}
