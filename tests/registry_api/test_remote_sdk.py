"""The SDK against a server behaves as it does locally: same results, same errors.

``loopline.log_model`` logs through the artifact API and registers over REST; ``load_model``
downloads through the artifact API and checks the digest as locally, so a tampered file on the
server is refused by the client.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import loopline
from loopline.client.remote_registry import RemoteRegistry
from loopline.entities import DatasetVersion, ModelVersion, RegisteredModel
from loopline.errors import InvalidStateError, LooplineError
from loopline.registry import RegistryService
from loopline.tracking.service import TrackingService

FRAME = pd.DataFrame({"age": [31.0, 45.0, 27.0, 52.0, 38.0, 23.0], "debt": [1.0, 0, 1, 0, 1, 0]})
TARGET = np.array([1, 0, 1, 0, 1, 0])


def _plain(value: Any) -> Any:
    """A result without what differs between two stores (times, run ids, digests)."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, RegisteredModel | ModelVersion):
        data = value.to_dict()
        for key in ("created_at", "updated_at", "run_id", "digest"):
            data.pop(key, None)
        data["training_datasets"] = [
            {k: d[k] for k in ("name", "version", "context")}
            for d in data.get("training_datasets", [])
        ]
        return data
    if isinstance(value, DatasetVersion):
        return (value.name, value.version, value.digest, value.schema, value.profile)
    return value


def _scenario() -> list[Any]:
    """Every SDK registry call, good and bad; the transcript of results and errors."""
    transcript: list[Any] = []
    run_ids: list[str] = []

    def call(function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = function(*args, **kwargs)
        except LooplineError as exc:
            message = exc.message.replace(run_ids[0], "<run>")
            transcript.append((function.__name__, type(exc).__name__, message))
            return None
        transcript.append((function.__name__, _plain(result)))
        return result

    m = loopline.models
    train = loopline.datasets.create("customers", FRAME.assign(paid=TARGET))
    with loopline.start_run() as run:
        loopline.log_input(train)
        model = LogisticRegression().fit(FRAME, TARGET)
        info = loopline.log_model(model, "model", input_example=FRAME, registered_model_name="t/c")
    run_ids.append(run.id)
    assert info.model_version is not None
    assert info.model_version.digest == info.digest
    transcript.append(("log_model", _plain(info.model_version)))
    second = call(m.register, run.id, "model", "t/c", description="second", tags={"o": "ana"})
    assert second.digest == info.digest
    call(m.update, "t/c", description="who leaves", tags={"team": "risk"})
    call(m.update, "t/c", 1, description="first")
    call(m.set_tags, "t/c", {"stage": "dev"}, version=2)
    call(m.set_alias, "t/c", "candidate", 2)
    for function, args in (
        (m.get, ("t/c",)), (m.get_version, ("t/c", 1)), (m.versions, ("t/c",)),
        (m.search, ("tags.team = 'risk'",)), (m.search_versions, ("tags.stage = 'dev'",)),
        (m.search_versions, ("name = 't/c' AND version > 1",)),
        (m.resolve, ("models:/t/c@candidate",)), (m.resolve, ("models:/t/c/latest",)),
        # refusals
        (m.set_alias, ("t/c", "champion", 1)), (m.delete_alias, ("t/c", "shadow")),
        (m.set_alias, ("t/c", "candidate", 9)), (m.set_alias, ("t/c", "Bad Alias", 1)),
        (m.get, ("nope",)), (m.get_version, ("t/c", 0)), (m.get_version, ("t/c", 3)),
        (m.get, ("a/versions",)), (m.search, ("name >",)), (m.search_versions, ("status = 'x'",)),
        (m.register, (run.id, "nothing", "t/c")), (m.register, ("0" * 32, "model", "t/c")),
        (m.resolve, ("models:/t/c",)), (m.resolve, ("models:/nope@x",)),
        (m.delete_alias, ("t/c", "nope")), (m.delete_model, ("t/c",)),
        (m.delete_version, ("t/c", 7)), (m.training_profile, ("t/c", 5)),
    ):  # fmt: skip
        call(function, *args)
    profile = call(m.training_profile, "t/c", 1)
    assert profile is not None
    assert profile.profile == train.profile
    call(m.delete_version, "t/c", 2)
    call(m.versions, "t/c")
    loaded = loopline.load_model("models:/t/c/1")
    np.testing.assert_allclose(loaded.predict_proba(FRAME), model.predict_proba(FRAME))
    call(loopline.load_model, "models:/t/c@candidate")  # deleted with version 2
    return transcript


def test_local_and_remote_give_the_same_results_and_errors(
    server: Any, served: TrackingService, tmp_path: Path, clean_env: None
) -> None:
    transcripts = []
    for uri in (str(tmp_path / "local"), server.url):
        loopline.set_uri(uri)
        try:
            transcripts.append(_scenario())
        finally:
            loopline.set_uri(None)
    local, remote = transcripts
    assert len(local) > 30
    for mine, theirs in zip(local, remote, strict=True):
        assert mine == theirs
    assert any(step[1] == "InvalidStateError" for step in local)  # the refusals did happen


def test_the_remote_registry_has_the_services_methods() -> None:
    public = {n for n in dir(RegistryService) if not n.startswith("_")}
    assert public <= {n for n in dir(RemoteRegistry) if not n.startswith("_")} | {"clock"}
    for name in public - {"clock"}:
        local = inspect.signature(getattr(RegistryService, name))
        remote = inspect.signature(getattr(RemoteRegistry, name))
        assert list(local.parameters) == list(remote.parameters), name
        assert local.return_annotation == remote.return_annotation, name


def test_a_tampered_artifact_is_refused_remotely(mode: str, served: TrackingService) -> None:
    with loopline.start_run():
        info = loopline.log_model(LogisticRegression().fit(FRAME, TARGET),
                                  registered_model_name="risk")  # fmt: skip
    assert loopline.load_model("models:/risk/1").predict(FRAME).shape == (6,)
    client = loopline.get_client()
    files = client.backend.artifact_files(info.run_id, "model")
    blob = next(f for f in files if not f.path.endswith(".json"))
    hexdigest = (blob.digest or "").removeprefix("sha256:")
    store = served if mode == "remote" else client.backend
    assert isinstance(store, TrackingService)
    local = store.artifacts.local_path(f"sha256:{hexdigest}")
    assert local is not None
    path = Path(local)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(InvalidStateError, match=r"tampered with|digest mismatch"):
        loopline.load_model("models:/risk/1")
