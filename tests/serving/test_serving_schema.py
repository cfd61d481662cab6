"""Requests generated from the serving app's own /openapi.json (schemathesis): never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from serving_support import Running


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
