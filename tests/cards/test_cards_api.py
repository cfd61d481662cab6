"""Model cards over REST with a real uvicorn server, and the remote SDK twin against it."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import loopline
from api_server_support import ApiServer
from loopline.cards import CardService
from loopline.client.remote_cards import RemoteCards
from loopline.config import Settings
from loopline.entities.cards import SECTION_TITLES
from loopline.errors import ConflictError, InvalidArgumentError, NotFoundError
from loopline.server.app import create_app
from loopline.tracking.factory import tracking_service
from loopline.tracking.service import TrackingService

URL = "/api/models/cancer/versions/1/card"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    boot = tracking_service(Settings(uri=str(tmp_path_factory.mktemp("boot"))))
    with ApiServer(create_app(boot)) as running:
        yield running


@pytest.fixture
def http(server: ApiServer, tracking: TrackingService) -> Iterator[httpx.Client]:
    """A client of the server, which answers from this test's store (SQLite, then PostgreSQL)."""
    server.app.state.tracking = tracking
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def remote(server: ApiServer, http: httpx.Client) -> Iterator[CardService]:
    client = loopline.Client(server.url, settings=Settings(uri=server.url))
    yield client.cards
    client.backend.close()  # type: ignore[union-attr]


def test_rest_round_trip(http: httpx.Client, registered: Any, evaluated: dict[str, Any]) -> None:
    put = http.put(URL, json={"sections": {"intended_use": "Triage <script>x</script>"},
                              "expected_revision": 0},
                   headers={"X-Loopline-Actor": "ana"})  # fmt: skip
    assert put.status_code == 200, put.text
    assert (put.json()["revision"], put.json()["updated_by"]) == (1, "ana")

    markdown = http.get(URL)
    page = http.get(URL, params={"format": "html"})
    data = http.get(URL, params={"format": "json"}).json()
    revisions = http.get(f"{URL}/revisions").json()["revisions"]

    assert markdown.headers["content-type"].startswith("text/markdown")
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    for title in SECTION_TITLES.values():
        assert f"## {title}" in markdown.text
        assert f"<h2>{title}</h2>" in page.text
    assert "Triage &lt;script&gt;x&lt;/script&gt;" in page.text
    assert "<script" not in page.text
    assert data["sections"] == {"intended_use": "Triage <script>x</script>"}
    assert data["evaluations"][0]["metrics"] == evaluated["model"]["metrics"]
    assert [(r["revision"], r["updated_by"]) for r in revisions] == [(1, "ana")]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("PUT", URL, {"sections": {"purpose": "x"}}, 400, "INVALID_ARGUMENT"),
        ("PUT", URL, {"sections": {"factors": "x"}, "expected_revision": 5}, 409, "CONFLICT"),
        ("PUT", URL, {"sections": {"factors": 3}}, 422, "INVALID_ARGUMENT"),
        ("PUT", URL, {"sections": {}, "other": 1}, 422, "INVALID_ARGUMENT"),
        ("GET", URL + "?format=pdf", None, 422, "INVALID_ARGUMENT"),
        ("GET", URL + "?revision=9", None, 404, "NOT_FOUND"),
        ("GET", "/api/models/cancer/versions/9/card", None, 404, "NOT_FOUND"),
        ("GET", "/api/models/nope/versions/1/card/revisions", None, 404, "NOT_FOUND"),
        ("GET", "/api/models/cancer/versions/0/card", None, 400, "INVALID_ARGUMENT"),
    ],
)
def test_errors_are_the_json_envelope_and_store_nothing(
    http: httpx.Client, registered: Any, method: str, path: str, body: Any, status: int,
    code: str,
) -> None:  # fmt: skip
    answer = http.request(method, path, json=body)

    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert http.get(f"{URL}/revisions").json() == {"revisions": []}


def test_the_remote_twin_matches_the_local_service(
    remote: CardService, cards: CardService, registered: Any, evaluated: dict[str, Any]
) -> None:
    assert isinstance(remote, RemoteCards)
    edited = remote.update_card("cancer", 1, {"factors": "Size"}, actor="bob")
    remote.update_card("cancer", 1, {"metrics": "AUC"}, actor="bob", expected_revision=1)

    assert edited.revision == 1
    assert remote.get_card("cancer", 1) == cards.get_card("cancer", 1)
    assert remote.get_card("cancer", 1, revision=1).sections == {"factors": "Size"}
    assert remote.render_card("cancer", 1) == cards.render_card("cancer", 1)
    html = remote.render_card("cancer", 1, format="html")
    assert html == cards.render_card("cancer", 1, format="html")
    assert [r.updated_by for r in remote.list_card_revisions("cancer", 1)] == ["bob", "bob"]
    with pytest.raises(ConflictError, match="is at revision 2"):
        remote.update_card("cancer", 1, {"factors": "x"}, actor="bob", expected_revision=1)
    with pytest.raises(InvalidArgumentError, match=r"Unknown model card section\(s\) \['why'\]"):
        remote.update_card("cancer", 1, {"why": "x"}, actor="bob")
    with pytest.raises(NotFoundError, match="has no version 4"):
        remote.get_card("cancer", 4)


def test_remote_and_local_signatures_match() -> None:
    for name in ("get_card", "render_card", "update_card", "list_card_revisions"):
        local = inspect.signature(getattr(CardService, name))
        there = inspect.signature(getattr(RemoteCards, name))
        assert local == there, name


def test_the_sdk_functions(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    loopline.set_uri(str(tmp_path / "store"))
    try:
        with loopline.start_run():
            loopline.log_model(LogisticRegression().fit([[0], [1]], [0, 1]), "model",
                               registered_model_name="tiny")  # fmt: skip
        card = loopline.models.update_card("tiny", 1, {"intended_use": "Demo"})
        loopline.models.update_card("tiny", 1, {"factors": "None"}, expected_revision=1)

        assert card.revision == 1
        assert "Demo" in loopline.models.card("tiny", 1)
        assert "<h2>Intended use</h2>" in loopline.models.card("tiny", 1, format="html")
        assert loopline.models.get_card("tiny", 1, revision=1).sections == {"intended_use": "Demo"}
        assert [r.revision for r in loopline.models.card_history("tiny", 1)] == [1, 2]
    finally:
        loopline.set_uri(None)


def test_with_auth_on_edits_need_an_editor_token_and_record_its_user(
    server: ApiServer, http: httpx.Client, tracking: TrackingService, registered: Any
) -> None:
    from loopline.audit import AuditLog
    from loopline.auth import AuthService

    auth = AuthService(tracking.store, AuditLog(tracking.store))
    auth.create_user("vic", "viewer", actor="root")
    auth.create_user("eda", "editor", actor="root")
    _, viewer = auth.create_token("vic", actor="root")
    _, editor = auth.create_token("eda", actor="root")
    edit = {"sections": {"factors": "Size"}}
    before = server.app.state.settings
    server.app.state.settings = Settings(auth=True)
    try:
        anonymous = http.put(URL, json=edit)
        read_only = http.put(URL, json=edit, headers={"Authorization": f"Bearer {viewer}"})
        stored = http.put(URL, json=edit, headers={"Authorization": f"Bearer {editor}",
                                                   "X-Loopline-Actor": "mallory"})  # fmt: skip
        read = http.get(URL, headers={"Authorization": f"Bearer {viewer}"})
    finally:
        server.app.state.settings = before

    assert (anonymous.status_code, read_only.status_code) == (401, 403)
    assert stored.status_code == 200, stored.text
    assert stored.json()["updated_by"] == "eda"
    assert read.status_code == 200
    assert "revision 1 by eda" in read.text


@pytest.mark.parametrize("name", ["team/churn", "a.b@c d", "..", "card/x"])
def test_model_names_with_slashes_and_dots_reach_their_card(
    remote: CardService, cards: CardService, tracking: TrackingService, name: str
) -> None:
    from loopline.audit import AuditLog
    from loopline.registry import RegistryService

    run = tracking.create_run(tracking.create_experiment("names"))
    registry = RegistryService(tracking.store, AuditLog(tracking.store))
    registry.create_model_version(
        name, run_id=run.info.run_id, artifact_path="model", flavor="sklearn",
        digest="sha256:" + "0" * 64, actor="ana", description=f"About {name}",
    )  # fmt: skip

    edited = remote.update_card(name, 1, {"factors": f"for {name}"}, actor="ana")

    assert edited.name == name
    assert cards.get_card(name, 1).sections == {"factors": f"for {name}"}
    assert f"About {name}" in remote.render_card(name, 1)
