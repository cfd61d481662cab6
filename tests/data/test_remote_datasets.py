"""``loopline.datasets`` and ``loopline.log_input``: the same behaviour locally and remotely.

Every test runs twice: against a local store, and against a real loopline server (uvicorn on
127.0.0.1 in a thread, one per module) whose store is swapped for a fresh one in every test.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import loopline
from api_server_support import ApiServer
from loopline.client.remote_datasets import RemoteDatasets
from loopline.config import Settings
from loopline.data.checks import Check
from loopline.data.service import DatasetService
from loopline.data.suites import CheckSuite
from loopline.entities import VersionStatus
from loopline.errors import InvalidArgumentError, NotFoundError, ValidationFailedError
from loopline.server.app import create_app
from loopline.tracking.factory import tracking_service
from loopline.tracking.service import TrackingService

MODES = ["local", "remote"]


def _service(folder: Path) -> TrackingService:
    return tracking_service(Settings(uri=str(folder)))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    boot = _service(tmp_path_factory.mktemp("boot"))
    with ApiServer(create_app(boot), log_level="warning") as server:
        yield server


@pytest.fixture(params=MODES)
def mode(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    live: ApiServer,
) -> Iterator[str]:
    """The SDK pointed at a fresh store: in-process (``local``) or through the server."""
    for name in list(os.environ):
        if name.startswith("LOOPLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOOPLINE_HOME", str(tmp_path / "home"))
    served = None
    if request.param == "remote":
        served = live.app.state.tracking = _service(tmp_path / "srv")
        loopline.set_uri(live.url)
    else:
        loopline.set_uri(str(tmp_path / "store"))
    yield request.param
    while loopline.active_run() is not None:
        loopline.end_run()
    backend = loopline.get_client().backend
    loopline.set_uri(None)
    for service in (served, backend):
        if isinstance(service, TrackingService):
            service.store.engine.dispose()


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "amount": [10.5, None, 3.25, float("inf")],
            "city": ["Oslo", "Rome", "Oslo", "Lima"],
            "when": pd.to_datetime(["2024-01-01", "2024-02-01", None, "2024-03-01"], utc=True),
        }
    )


def test_client_datasets_is_remote_against_a_server(mode: str) -> None:
    expected = RemoteDatasets if mode == "remote" else DatasetService
    assert type(loopline.get_client().datasets) is expected


def test_remote_methods_have_the_local_signatures() -> None:
    public = [
        n
        for n, f in inspect.getmembers(DatasetService, inspect.isfunction)
        if not n.startswith("_")
    ]
    for name in public:
        local = inspect.signature(getattr(DatasetService, name))
        remote = inspect.signature(getattr(RemoteDatasets, name))
        assert list(local.parameters) == list(remote.parameters), name
        assert local.return_annotation == remote.return_annotation, name
        for param in local.parameters.values():
            other = remote.parameters[param.name]
            assert (param.kind, param.default) == (other.kind, other.default), (name, param)


def test_identical_content_gives_the_same_version(mode: str, frame: pd.DataFrame) -> None:
    first = loopline.datasets.create("orders", frame, description="Orders", tags={"team": "ops"})
    shuffled = frame.sample(frac=1.0, random_state=1)[list(reversed(frame.columns))]
    again = loopline.datasets.create("orders", shuffled)

    assert (first.version, again.version) == (1, 1)
    assert again.digest == first.digest
    assert first.description == "Orders"
    assert first.tags == {"team": "ops"}
    assert [v.version for v in loopline.datasets.versions("orders")] == [1]


def test_the_same_rows_from_a_file_are_the_same_version(
    mode: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    table = pa.table({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    path = tmp_path / "t.csv"
    path.write_text("x,y\n3,c\n1,a\n2,b\n", encoding="utf-8")

    assert loopline.datasets.create("t", table).version == 1
    assert loopline.datasets.create("t", path).version == 1


def test_a_changed_row_gives_a_new_version(mode: str, frame: pd.DataFrame) -> None:
    first = loopline.datasets.create("orders", frame)
    changed = frame.copy()
    changed.loc[2, "city"] = "Kyiv"
    second = loopline.datasets.create("orders", changed)

    assert second.version == 2
    assert second.digest != first.digest
    assert loopline.datasets.get("orders").version == 2
    assert loopline.datasets.get("orders", 1) == first
    assert [d.latest_version for d in loopline.datasets.list()] == [2]


def test_load_round_trips(mode: str, frame: pd.DataFrame) -> None:
    loopline.datasets.create("orders", frame)

    loaded = loopline.datasets.load("orders")
    # Timestamps come back in Arrow's microseconds; pandas 2 compares raw ticks across units.
    expected = frame.assign(when=frame["when"].astype(loaded["when"].dtype))
    pd.testing.assert_frame_equal(loaded, expected, check_dtype=False)
    assert loopline.datasets.load("orders", 1, format="arrow").num_rows == 4
    assert loopline.datasets.load("orders", format="polars").shape == (4, 4)
    assert len(loopline.datasets.load("orders", sample=True)) == 4
    with pytest.raises(InvalidArgumentError, match="'format' parameter"):
        loopline.datasets.load("orders", format="excel")


def test_profile_with_infinite_bounds_survives_the_wire(mode: str, frame: pd.DataFrame) -> None:
    version = loopline.datasets.create("orders", frame)

    assert version.profile["amount"]["max"] == float("inf")
    assert version.schema[1]["max"] == float("inf")
    assert version.profile["city"]["top"][0] == {"value": "Oslo", "count": 2, "frequency": 0.5}
    assert loopline.datasets.get("orders") == version


def test_diff(mode: str, weather: pd.DataFrame) -> None:
    first = loopline.datasets.create("weather", weather)
    hotter = weather.assign(temp=weather["temp"] + 30).drop(columns=["visib"])
    second = loopline.datasets.create("weather", hotter.head(20_000))

    diff = loopline.datasets.diff(first, second)

    assert (diff.a, diff.b) == ("datasets:/weather/1", "datasets:/weather/2")
    assert diff.removed == ["visib"]
    assert diff.row_change == 20_000 - len(weather)
    assert diff.changes[0].column == "temp"
    assert diff.changes[0].effect_size > 1
    client = loopline.get_client()
    assert client.datasets.diff(("weather", 1), ("weather", None)) == diff


def test_log_input_consumers_and_run_inputs(mode: str, frame: pd.DataFrame) -> None:
    version = loopline.datasets.create("orders", frame)
    with loopline.start_run() as run:
        loopline.log_input(version, context="training")
        loopline.log_input(version, context="evaluation")

    consumers = loopline.datasets.consumers("orders", 1)
    assert {(c.run_id, c.context) for c in consumers} == {
        (run.id, "training"),
        (run.id, "evaluation"),
    }
    inputs = loopline.get_client().datasets.run_inputs(run.id)
    assert {(i.dataset, i.version, i.digest) for i in inputs} == {("orders", 1, version.digest)}


@pytest.mark.parametrize(
    "call",
    [
        lambda: loopline.datasets.get("nope"),
        lambda: loopline.datasets.get("orders", 7),
        lambda: loopline.datasets.versions("nope"),
        lambda: loopline.datasets.load("nope"),
        lambda: loopline.datasets.consumers("orders", 9),
        lambda: loopline.datasets.diff(("orders", 1), ("nope", 1)),  # type: ignore[arg-type]
        lambda: loopline.get_client().datasets.run_inputs("0" * 32),
    ],
    ids=["get", "get-version", "versions", "load", "consumers", "diff", "run-inputs"],
)
def test_unknown_names_are_not_found(mode: str, frame: pd.DataFrame, call: Any) -> None:
    loopline.datasets.create("orders", frame)
    with pytest.raises(NotFoundError):
        call()


def test_log_input_for_an_unknown_run_is_not_found(mode: str, frame: pd.DataFrame) -> None:
    version = loopline.datasets.create("orders", frame)
    with pytest.raises(NotFoundError, match="run"):
        loopline.log_input(version, run_id="0" * 32)


@pytest.mark.parametrize(
    ("source", "error", "match"),
    [
        (pd.DataFrame({"x": []}), InvalidArgumentError, "empty"),
        (pd.DataFrame({"x": [[1], [2]]}), InvalidArgumentError, "nested"),
        ("/no/such/file.csv", NotFoundError, "does not exist"),
        (42, InvalidArgumentError, "must be a pandas or polars"),
    ],
    ids=["empty", "nested", "missing-file", "not-a-source"],
)
def test_bad_sources_fail_the_same_way(
    mode: str, source: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        loopline.datasets.create("bad", source)
    with pytest.raises(NotFoundError):
        loopline.datasets.get("bad")


def test_bad_names_and_tags_fail_the_same_way(mode: str, frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidArgumentError, match="must not be empty"):
        loopline.datasets.create(" ", frame)
    with pytest.raises(InvalidArgumentError, match="tag"):
        loopline.datasets.create("orders", frame, tags={"k": "v" * 9000})
    with pytest.raises(InvalidArgumentError, match="page_token"):
        loopline.datasets.list(page_token="garbage")


def test_odd_names_description_and_tags_round_trip(mode: str, frame: pd.DataFrame) -> None:
    for name in ("a/b", "../up", "with space", "naïve:1", "100%", "versions"):
        version = loopline.datasets.create(
            name, frame, description="Ünïcode ✓", tags={"ключ": "значение"}
        )
        assert version.name == name
        assert loopline.datasets.get(name, 1) == version
        assert version.description == "Ünïcode ✓"
        assert version.tags == {"ключ": "значение"}


def test_list_pages(mode: str, frame: pd.DataFrame) -> None:
    for name in ("c", "a", "b"):
        loopline.datasets.create(name, frame)

    first = loopline.datasets.list(max_results=2)
    assert [d.name for d in first] == ["a", "b"]
    rest = loopline.datasets.list(max_results=2, page_token=first.next_token)
    assert [d.name for d in rest] == ["c"]
    assert rest.next_token is None


@pytest.mark.parametrize("mode", ["remote"], indirect=True)
def test_a_remote_version_equals_the_servers_own(live: ApiServer, mode: str) -> None:
    frame = pd.DataFrame({"x": [1.0, float("-inf"), None], "s": ["NaN", "Infinity", None]})
    remote = loopline.datasets.create("edge", frame)
    served = live.app.state.tracking
    local = DatasetService(served.store, served.artifacts).get("edge", 1)

    assert remote == local
    assert remote.schema[1]["min"] == "Infinity"  # a text bound stays text


def test_validate_a_version_stores_the_report(mode: str, weather: pd.DataFrame) -> None:
    version = loopline.datasets.create("weather", weather)
    suite = loopline.datasets.infer_checks(version)

    report = loopline.datasets.validate(version, suite)

    assert report.passed
    stored = loopline.datasets.get("weather")
    assert stored.status is VersionStatus.PASSED
    assert stored.validation == report.to_dict()


def test_a_failed_version_is_refused_to_consumers(mode: str, frame: pd.DataFrame) -> None:
    suite = CheckSuite("orders", (Check.allowed_values("city", ["Oslo", "Rome"]),))

    version = loopline.datasets.create("orders", frame, checks=suite)

    assert version.status is VersionStatus.FAILED
    findings = version.validation["findings"] if version.validation else []
    assert [c["value"] for c in findings[0]["failure_cases"]] == ["Lima"]
    with pytest.raises(ValidationFailedError, match="failed validation"):
        loopline.datasets.load("orders")
    assert len(loopline.get_client().datasets.load("orders", allow_failed=True)) == 4
    with loopline.start_run(), pytest.raises(ValidationFailedError):
        loopline.log_input(version)


def test_validate_data_runs_custom_checks_in_process(mode: str, frame: pd.DataFrame) -> None:
    positive = Check.custom("positive", lambda df: df["id"] > 1, column="id")
    report = loopline.datasets.validate(frame, CheckSuite("custom", (positive,)))

    assert not report.passed
    assert report.findings[0].failure_count == 1
    with pytest.raises(InvalidArgumentError, match="'checks' parameter"):
        loopline.datasets.validate(frame, {"name": "x"})  # type: ignore[arg-type]
