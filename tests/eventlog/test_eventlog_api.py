"""The event log through the SDK (local and over a server) and REST: outcomes in, windows out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

import loopline
from api_server_support import ApiServer
from loopline.audit import AuditLog
from loopline.auth import AuthService
from loopline.config import Settings
from loopline.entities.auth import Role
from loopline.entities.eventlog import OutcomeRecord, PredictionRecord
from loopline.errors import InvalidArgumentError
from loopline.eventlog import EventLog
from loopline.server.app import create_app
from loopline.tracking.factory import tracking_service

Make = Callable[..., PredictionRecord]


class _Server(ApiServer):
    """The API with auth on over a store in ``folder``, and two users' tokens."""

    def __init__(self, folder: Path) -> None:
        settings = Settings(uri=str(folder), auth=True)
        self.tracking = tracking_service(settings)
        auth = AuthService(self.tracking.store, AuditLog(self.tracking.store))
        self.tokens = {}
        for user, role in (("ed", Role.EDITOR), ("vi", Role.VIEWER)):
            auth.create_user(user, role, actor="setup")
            self.tokens[user] = auth.create_token(user, actor="setup")[1]
        self.log = EventLog(settings.resolved_eventlog_root())
        super().__init__(create_app(self.tracking, settings))

    def http(self, user: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        super().stop()
        self.log.close()
        self.tracking.store.engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Server]:
    with _Server(tmp_path_factory.mktemp("eventlog-api")) as running:
        yield running


def test_rest_outcomes_and_window(server: _Server, make_prediction: Make) -> None:
    records = [make_prediction(deployment="rest", inputs={"i": i}) for i in range(3)]
    server.log.log_predictions(records)
    body = [
        {"prediction_id": records[0].prediction_id, "label": 1, "value": 9.5, "accepted": True},
        {"prediction_id": records[1].prediction_id, "label": "no", "source": "crm"},
    ]
    with server.http("ed") as http:
        response = http.post("/api/outcomes", json=body)
        assert response.status_code == 200, response.text
        assert response.json() == {"logged": 2}
    with server.http("vi") as http:
        rows = http.get("/api/predictions", params={"deployment": "rest"}).json()["predictions"]
        stream = http.get(
            "/api/predictions",
            params={"deployment": "rest", "start": str(records[0].timestamp)},
            headers={"Accept": "application/vnd.apache.arrow.stream"},
        )
    assert [r["label"] for r in rows] == ["1", '"no"', None]
    assert [r["outcome_source"] for r in rows] == ["ed", "crm", None]  # the caller by default
    assert rows[0]["timestamp"] == records[0].timestamp
    assert stream.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(stream.content).read_all()
    assert table.column("value").to_pylist() == [9.5, None, None]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ([{"prediction_id": "a"}, {"label": 1}], "1.prediction_id"),
        ([{"prediction_id": "a", "value": "high"}], "0.value"),
        ([{"prediction_id": "a", "accepted": "yes"}], "0.accepted"),
        ([{"prediction_id": "a", "label": [1]}], "0.label"),
        ([{"prediction_id": "a", "colour": "red"}], "0.colour"),
        ({"prediction_id": "a"}, "body"),
        ([{"prediction_id": "x"}] * 10_001, "body"),
    ],
)
def test_rest_bad_outcomes_are_4xx_and_store_nothing(
    server: _Server, body: object, where: str
) -> None:
    before = server.log.read_outcomes().num_rows
    with server.http("ed") as http:
        response = http.post("/api/outcomes", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert any(field.startswith(where) for field in error["details"]["fields"]), error
    assert server.log.read_outcomes().num_rows == before


def test_rest_roles_and_bad_window(server: _Server) -> None:
    with server.http("vi") as http:
        assert http.post("/api/outcomes", json=[{"prediction_id": "a"}]).status_code == 403
        response = http.get("/api/predictions", params={"start": "last tuesday"})
    assert response.status_code == 400
    assert "'start'" in response.json()["error"]["message"]
    assert httpx.get(f"{server.url}/api/predictions").status_code == 401


def test_sdk_over_the_server(
    server: _Server, make_prediction: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = make_prediction(deployment="sdk-remote")
    server.log.log_predictions([record])
    monkeypatch.setenv("LOOPLINE_TOKEN", server.tokens["ed"])
    loopline.set_uri(server.url)
    try:
        assert loopline.log_outcomes([OutcomeRecord(record.prediction_id, label=0)]) == 1
        with pytest.raises(InvalidArgumentError, match="Outcome 0: 'prediction_id'"):
            loopline.log_outcomes([{"label": 1}])
        frame = loopline.read_predictions("sdk-remote", as_="pandas")
    finally:
        loopline.set_uri(None)
    assert frame["label"].tolist() == ["0"]
    assert frame["outcome_source"].tolist() == ["ed"]


def test_sdk_local_store(tmp_path: Path, make_prediction: Make) -> None:
    loopline.set_uri(str(tmp_path))
    try:
        record = make_prediction()
        EventLog(tmp_path / "eventlog").log_predictions([record])  # where the SDK looks
        assert loopline.log_outcomes([{"prediction_id": record.prediction_id, "label": 1}]) == 1
        table = loopline.read_predictions("churn", columns=["prediction_id", "label"])
        assert table.to_pylist() == [{"prediction_id": record.prediction_id, "label": "1"}]
        from loopline.client.eventlog import open_predictions, outcome_history

        assert open_predictions("churn").num_rows == 0
        assert [h.label for h in outcome_history(record.prediction_id)] == [1]
    finally:
        loopline.set_uri(None)
