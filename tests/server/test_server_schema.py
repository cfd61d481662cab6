"""Property-based requests generated from /openapi.json (schemathesis): never a 5xx.

Every answer must be a success or the one JSON error envelope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

Envelope = Callable[[httpx.Response], dict[str, Any]]


@pytest.fixture
def api_schema(server: Any, shared_ids: dict[str, Any]) -> Any:
    """The server's own OpenAPI document, served over its socket, with a populated store."""
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_are_never_a_5xx(case: Any, envelope: Envelope) -> None:
    response = case.call(timeout=30)

    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    if response.status_code >= 400:
        headers = [(k, v) for k, values in response.headers.items() for v in values]
        as_httpx = httpx.Response(response.status_code, headers=headers, content=response.content)
        envelope(as_httpx)
