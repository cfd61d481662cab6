"""Requests generated from the serving app's own /openapi.json (schemathesis): never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from serving_support import Models, Running
from serving_support import settings as serving_settings

from loopline.deploy import DeploymentService
from loopline.serving.server import deployments_app


@pytest.fixture
def serving_schema(gbc_server: Running) -> Any:
    return schemathesis.openapi.from_url(f"{gbc_server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("serving_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_are_never_a_5xx(case: Any) -> None:
    response = case.call(timeout=30)

    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    if response.status_code >= 400 and response.status_code != 415:
        assert response.headers["content-type"][0].startswith("application/json")
        body = response.json()
        assert isinstance(body.get("error", body.get("message")), str)


POLICY = {
    "score": "proba[1]",
    "thresholds": {"bands": [{"min": 0.5, "action": "call"}], "default": "wait"},
    "routing": {"rules": [{"when": {"segment": "vip"}, "queue": "senior"}], "default": "general"},
    "control": {"share": 0.1, "action": "wait"},
}


@pytest.fixture(scope="module")
def deployed(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A deployment with a policy, durable logging and a shadow challenger (the only one)."""
    registry = models.client.registry
    service = DeploymentService(registry.store, registry, registry.audit)
    service.create_deployment("gbc-schema", "models:/gbc/1", logging="durable", policy=POLICY,
                              challenger={"model_uri": "models:/gbc/2", "mode": "shadow"},
                              actor="tester")  # fmt: skip
    events = tmp_path_factory.mktemp("schema-events")
    app = deployments_app(models.client, serving_settings(eventlog_root=events))
    try:
        with Running(app) as running:
            yield running
    finally:
        service.delete_deployment("gbc-schema", actor="tester")


@pytest.fixture
def deployed_schema(deployed: Running) -> Any:
    return schemathesis.openapi.from_url(f"{deployed.url}/openapi.json")


deployed_cases = schemathesis.pytest.from_fixture("deployed_schema")


@deployed_cases.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_a_deployment_with_policy_and_logging_never_answers_a_5xx(case: Any) -> None:
    if case.path_parameters and "name" in case.path_parameters:
        case.path_parameters["name"] = "gbc-schema"  # fuzz the bodies of the real deployment
        if "version" in case.path_parameters:
            case.path_parameters["version"] = "1"
    response = case.call(timeout=30)

    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
