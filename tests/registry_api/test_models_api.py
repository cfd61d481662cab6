"""/api/models over a real server: every route, and hostile input answered with the one envelope.

Bad input gets 400 (a loopline argument error) or 422 (a request body or query the schema
refuses: malformed JSON included, as on every route of this server), a missing object 404, and a
refused state change 409; none of them changes what is stored.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sklearn.linear_model import LinearRegression

from loopline.audit import AuditLog
from loopline.client.remote import _q
from loopline.modeling.logged import log_model
from loopline.registry import RegistryService
from loopline.tracking.service import TrackingService


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"].strip()
    return dict(body["error"])


@pytest.fixture
def run_id(served: TrackingService) -> str:
    """A run with a scikit-learn model logged (not registered) at ``model``."""
    registry = RegistryService(served.store, AuditLog(served.store))
    run = served.create_run(served.create_experiment("api"))
    log_model(served, registry, run.info.run_id, LinearRegression().fit([[0], [1]], [0, 1]),
              "model", actor="ana")  # fmt: skip
    return run.info.run_id


@pytest.fixture
def churn(http: httpx.Client, run_id: str) -> str:
    """``team/churn`` with versions 1 and 2 of the logged model; returns its URL."""
    for _ in range(2):
        body = {"run_id": run_id, "artifact_path": "model"}
        http.post("/api/models/team%2Fchurn/versions", json=body).raise_for_status()
    return "/api/models/team%2Fchurn"


def _stored(http: httpx.Client) -> Any:
    """Everything a refused request must leave alone (the audit log's length included)."""
    models = http.get("/api/models").json()
    versions = http.get("/api/model-versions/search").json()
    return models, versions


def test_create_get_update_search_and_delete_a_model(http: httpx.Client, served: Any) -> None:
    created = http.post(
        "/api/models", json={"name": "team/churn", "description": "d", "tags": {"team": "risk"}},
        headers={"X-Loopline-Actor": "ana"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "team/churn"
    assert http.get("/api/models/team/churn").json()["tags"] == {"team": "risk"}
    patched = http.patch("/api/models/team/churn", json={"description": "who leaves"})
    assert patched.json()["description"] == "who leaves"
    http.post("/api/models", json={"name": "fraud"}).raise_for_status()
    found = http.get("/api/models", params={"filter": "tags.team = 'risk'"}).json()
    assert [m["name"] for m in found["models"]] == ["team/churn"]
    page = http.get("/api/models", params={"max_results": 1}).json()
    assert [m["name"] for m in page["models"]] == ["fraud"]
    assert page["next_token"]
    rest = http.get("/api/models", params={"max_results": 1, "page_token": page["next_token"]})
    assert [m["name"] for m in rest.json()["models"]] == ["team/churn"]
    assert [m["name"] for m in http.get("/api/models?name_contains=rau").json()["models"]] == [
        "fraud"
    ]
    assert http.delete("/api/models/fraud").json() == {"name": "fraud", "deleted": True}
    _error(http.get("/api/models/fraud"), 404, "NOT_FOUND")
    events = AuditLog(served.store).list(object_type="registered_model")
    assert next((e.action, e.actor) for e in events) == ("registered_model.create", "ana")
    assert events[-1].action == "registered_model.delete"


def test_versions_aliases_and_resolve(http: httpx.Client, churn: str, run_id: str) -> None:
    versions = http.get(f"{churn}/versions").json()["versions"]
    assert [(v["version"], v["flavor"], v["run_id"]) for v in versions] == [
        (1, "sklearn", run_id), (2, "sklearn", run_id),
    ]  # fmt: skip
    assert versions[0]["digest"] == versions[1]["digest"]
    assert versions[0]["signature"] is None
    assert versions[0]["training_datasets"] == []
    one = http.patch(f"{churn}/versions/1", json={"tags": {"stage": "dev"}}).json()
    assert one["tags"] == {"stage": "dev"}
    assert http.put(f"{churn}/aliases/candidate", json={"version": 2}).json()["aliases"] == [
        "candidate"
    ]
    assert http.get(f"{churn}/aliases/candidate").json()["version"] == 2
    for uri, number in (("models:/team/churn@candidate", 2), ("models:/team/churn/1", 1),
                        ("models:/team/churn/latest", 2)):  # fmt: skip
        assert http.get("/api/models/resolve", params={"uri": uri}).json()["version"] == number
    found = http.get("/api/model-versions/search", params={"filter": "tags.stage = 'dev'"})
    assert [v["version"] for v in found.json()["versions"]] == [1]
    assert http.delete(f"{churn}/aliases/candidate").json()["deleted"] is True
    assert http.delete(f"{churn}/versions/2").json() == {
        "name": "team/churn", "version": 2, "deleted": True,
    }  # fmt: skip
    assert [v["version"] for v in http.get(f"{churn}/versions").json()["versions"]] == [1]


@pytest.mark.parametrize("version", ["0", "-1", "2147483648", "99999999999999999999999", "abc",
                                     "1.5", "%20", "latest"])  # fmt: skip
def test_bad_version_numbers_are_400(http: httpx.Client, churn: str, version: str) -> None:
    before = _stored(http)
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"description": "x"}),
        ("DELETE", "", None),
        ("GET", "/training-profile", None),
    ):
        response = http.request(method, f"{churn}/versions/{version}{suffix}", json=body)
        error = _error(response, 400, "INVALID_ARGUMENT")
        assert "version" in error["message"]
    assert _stored(http) == before


def test_unknown_models_versions_and_aliases_are_404(http: httpx.Client, churn: str) -> None:
    before = _stored(http)
    for method, url, body in (
        ("GET", "/api/models/nope", None), ("PATCH", "/api/models/nope", {"description": "x"}),
        ("DELETE", "/api/models/nope", None), ("GET", "/api/models/nope/versions", None),
        ("GET", f"{churn}/versions/9", None), ("DELETE", f"{churn}/versions/9", None),
        ("GET", f"{churn}/aliases/nope", None), ("DELETE", f"{churn}/aliases/nope", None),
        ("PUT", f"{churn}/aliases/candidate", {"version": 9}),
        ("PUT", "/api/models/nope/aliases/candidate", {"version": 1}),
        ("GET", "/api/models/resolve?uri=models:/nope/1", None),
        ("POST", "/api/models/x/versions", {"run_id": "0" * 32, "artifact_path": "model"}),
    ):  # fmt: skip
        _error(http.request(method, url, json=body), 404, "NOT_FOUND")
    assert _stored(http) == before


def test_an_alias_on_a_missing_version_changes_nothing(http: httpx.Client, churn: str) -> None:
    http.put(f"{churn}/aliases/candidate", json={"version": 1}).raise_for_status()
    error = _error(http.put(f"{churn}/aliases/candidate", json={"version": 3}), 404, "NOT_FOUND")
    assert "has no version 3" in error["message"]
    assert http.get(f"{churn}/aliases/candidate").json()["version"] == 1


@pytest.mark.parametrize("alias", ["champion", "challenger", "shadow"])
def test_release_aliases_are_409(http: httpx.Client, churn: str, alias: str) -> None:
    before = _stored(http)
    error = _error(http.put(f"{churn}/aliases/{alias}", json={"version": 1}), 409, "INVALID_STATE")
    assert "release" in error["message"]
    _error(http.delete(f"{churn}/aliases/{alias}"), 409, "INVALID_STATE")
    assert _stored(http) == before


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "code"),
    [
        ("POST", "/api/models", {"name": "resolve"}, 400, "INVALID_ARGUMENT"),
        ("POST", "/api/models", {"name": "a/versions"}, 400, "INVALID_ARGUMENT"),
        ("POST", "/api/models", {"name": " "}, 400, "INVALID_ARGUMENT"),
        ("POST", "/api/models", {"name": "x" * 181}, 400, "INVALID_ARGUMENT"),
        ("POST", "/api/models", {"name": "a\u0000b"}, 400, "INVALID_ARGUMENT"),
        ("POST", "/api/models", {"name": "ok", "tags": {"": "x"}}, 400, "INVALID_ARGUMENT"),
        ("POST", "/api/models", {"name": "ok", "tags": {"a": 1}}, 422, "INVALID_ARGUMENT"),
        ("POST", "/api/models", {"name": "ok", "owner": "me"}, 422, "INVALID_ARGUMENT"),
        ("POST", "/api/models", {"name": 3}, 422, "INVALID_ARGUMENT"),
        ("POST", "/api/models", {"name": "team/churn"}, 409, "ALREADY_EXISTS"),
        (
            "PATCH",
            "/api/models/team/churn/versions/1",
            {"status": "approved"},
            422,
            "INVALID_ARGUMENT",
        ),
        ("PUT", "/api/models/team/churn/aliases/BAD", {"version": 1}, 400, "INVALID_ARGUMENT"),
        ("PUT", "/api/models/team/churn/aliases/latest", {"version": 1}, 400, "INVALID_ARGUMENT"),
        ("PUT", "/api/models/team/churn/aliases/ok", {"version": "one"}, 422, "INVALID_ARGUMENT"),
        ("PUT", "/api/models/team/churn/aliases/ok", {"version": 0}, 400, "INVALID_ARGUMENT"),
        ("GET", "/api/models?filter=name%20%3E%20'a'", None, 400, "INVALID_FILTER"),
        ("GET", "/api/models?filter=metrics.auc%20%3E%201", None, 400, "INVALID_FILTER"),
        ("GET", "/api/model-versions/search?filter=status%3D'gone'", None, 400, "INVALID_FILTER"),
        ("GET", "/api/models?max_results=0", None, 400, "INVALID_ARGUMENT"),
        ("GET", "/api/models?page_token=zzz", None, 400, "INVALID_ARGUMENT"),
        ("GET", "/api/models/resolve?uri=models:/team/churn", None, 400, "INVALID_ARGUMENT"),
        ("GET", "/api/models/resolve?uri=runs:/x/y", None, 400, "INVALID_ARGUMENT"),
        ("GET", "/api/models/resolve", None, 422, "INVALID_ARGUMENT"),
    ],
)
def test_hostile_input(
    http: httpx.Client, churn: str, method: str, url: str, body: Any, status: int, code: str
) -> None:
    before = _stored(http)
    _error(http.request(method, url, json=body), status, code)
    assert _stored(http) == before


@pytest.mark.parametrize("raw", [b"{", b"not json", b"[1, 2]", b"", b'{"version": 1'])
def test_malformed_json_is_refused(http: httpx.Client, churn: str, raw: bytes) -> None:
    before = _stored(http)
    headers = {"Content-Type": "application/json"}
    for method, url in (("POST", "/api/models"), ("PUT", f"{churn}/aliases/ok"),
                        ("PATCH", churn), ("POST", f"{churn}/versions")):  # fmt: skip
        response = http.request(method, url, content=raw, headers=headers)
        assert _error(response, 422, "INVALID_ARGUMENT")["details"]["fields"]
    assert _stored(http) == before


def test_registering_checks_what_the_client_claims(
    http: httpx.Client, churn: str, run_id: str
) -> None:
    before = _stored(http)
    url = f"{churn}/versions"
    digest = http.get(f"{churn}/versions/1").json()["digest"]
    wrong = {"run_id": run_id, "artifact_path": "model", "digest": "sha256:" + "0" * 64}
    assert "digest" in _error(http.post(url, json=wrong), 409, "INVALID_STATE")["message"]
    flavor = {"run_id": run_id, "artifact_path": "model", "digest": digest, "flavor": "onnx"}
    _error(http.post(url, json=flavor), 409, "INVALID_STATE")
    _error(http.post(url, json={"run_id": run_id, "artifact_path": "nothing"}), 404, "NOT_FOUND")
    _error(http.post(url, json={"run_id": run_id, "artifact_path": "../x"}), 400, "UNSAFE_PATH")
    assert _stored(http) == before


def test_a_model_name_with_slashes_and_odd_characters(http: httpx.Client, run_id: str) -> None:
    body = {"run_id": run_id, "artifact_path": "model"}
    for name in ("a b/ü%?#", "versions/x", "x/resolve", "dot.s/..", "x/aliases-y"):
        created = http.post(f"/api/models/{_q(name)}/versions", json=body)
        assert created.status_code == 201, (name, created.text)
        assert created.json()["name"] == name
        assert http.get(f"/api/models/{_q(name)}").json()["name"] == name
        assert http.get(f"/api/models/{_q(name)}/versions/1").json()["name"] == name
