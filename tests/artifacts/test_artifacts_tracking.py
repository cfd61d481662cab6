"""Run artifacts through the tracking service: log, list, read and download, locally and on S3."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from loopline.artifacts import ArtifactStore
from loopline.config import Settings
from loopline.entities import FileInfo
from loopline.errors import InvalidArgumentError, InvalidStateError, NotFoundError, UnsafePathError
from loopline.store import SqlTrackingStore
from loopline.tracking.factory import tracking_service
from loopline.tracking.service import TrackingService

StoredFiles = Callable[[ArtifactStore], list[str]]


@pytest.fixture
def service(artifact_store: ArtifactStore, tmp_path: Path) -> TrackingService:
    return TrackingService(SqlTrackingStore(f"sqlite:///{tmp_path}/t.db"), artifact_store)


@pytest.fixture
def run_id(service: TrackingService) -> str:
    return service.create_run(service.create_experiment("artifacts")).info.run_id


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "model.bin").write_bytes(b"\x00\x01weights")
    (root / "README.md").write_text("# model\n")
    (root / "sub" / "conf.json").write_text('{"a": 1}')
    (root / "sub" / "deeper" / "same.txt").write_text("# model\n")  # same bytes as README
    return root


def _sha(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def test_log_artifact_round_trip(service: TrackingService, run_id: str, tmp_path: Path) -> None:
    source = tmp_path / "roc.png"
    source.write_bytes(b"\x89PNG fake")
    assert service.log_artifact(run_id, source) == "roc.png"
    assert service.log_artifact(run_id, source, "plots/v1") == "plots/v1/roc.png"
    assert service.read_artifact(run_id, "roc.png") == b"\x89PNG fake"
    assert service.read_artifact(run_id, "plots/v1/roc.png") == b"\x89PNG fake"
    assert service.list_artifacts(run_id) == [
        FileInfo("plots", is_dir=True),
        FileInfo("roc.png", is_dir=False, size=9, digest=_sha(b"\x89PNG fake")),
    ]
    assert service.list_artifacts(run_id, "plots") == [FileInfo("plots/v1", is_dir=True)]
    local = service.download_artifacts(run_id, "plots", tmp_path / "dl")
    assert Path(local) == tmp_path / "dl" / "plots"
    assert (tmp_path / "dl" / "plots" / "v1" / "roc.png").read_bytes() == b"\x89PNG fake"


def test_log_artifacts_keeps_the_layout(
    service: TrackingService,
    run_id: str,
    folder: Path,
    tmp_path: Path,
    artifact_store: ArtifactStore,
    stored_files: StoredFiles,
) -> None:
    paths = service.log_artifacts(run_id, folder, "model")
    assert paths == [
        "model/README.md",
        "model/model.bin",
        "model/sub/conf.json",
        "model/sub/deeper/same.txt",
    ]
    assert len(stored_files(artifact_store)) == 3  # README.md and same.txt share one blob
    files = service.artifact_files(run_id, "model/sub")
    assert [f.path for f in files] == ["model/sub/conf.json", "model/sub/deeper/same.txt"]
    assert files[1].digest == _sha(b"# model\n")
    assert service.read_artifact(run_id, "model/sub/conf.json") == b'{"a": 1}'
    destination = tmp_path / "copy"
    assert service.download_artifacts(run_id, None, destination) == str(destination)
    for relative in ("README.md", "model.bin", "sub/conf.json", "sub/deeper/same.txt"):
        assert (destination / "model" / relative).read_bytes() == (folder / relative).read_bytes()
    leftovers = [p for p in destination.rglob("*") if ".part" in p.name]
    assert leftovers == []


def test_logging_a_path_again_points_at_the_new_content(
    service: TrackingService, run_id: str
) -> None:
    service.log_artifact_bytes(run_id, "notes/a.txt", b"v1")
    service.log_artifact_bytes(run_id, "notes/a.txt", b"v2")
    assert service.read_artifact(run_id, "notes/a.txt") == b"v2"
    assert [f.path for f in service.artifact_files(run_id)] == ["notes/a.txt"]


def test_errors(service: TrackingService, run_id: str, tmp_path: Path) -> None:
    service.log_artifact_bytes(run_id, "dir/file.txt", b"x")
    with pytest.raises(InvalidArgumentError, match="folder"):
        service.read_artifact(run_id, "dir")
    with pytest.raises(NotFoundError):
        service.read_artifact(run_id, "dir/missing.txt")
    with pytest.raises(NotFoundError):
        service.download_artifacts(run_id, "nothing", tmp_path / "dl")
    with pytest.raises(NotFoundError):
        service.log_artifact(run_id, tmp_path / "no-such-file")
    with pytest.raises(NotFoundError):
        service.list_artifacts("0" * 32)
    with pytest.raises(InvalidArgumentError):
        service.log_artifact_bytes(run_id, "", b"x")
    service.delete_run(run_id)
    with pytest.raises(InvalidStateError):
        service.log_artifact_bytes(run_id, "late.txt", b"x")


@pytest.mark.parametrize("artifact_path", ["..", "../x", "/abs", "a/../../b", "C:\\x", "a\x00"])
def test_unsafe_artifact_paths_store_nothing(
    service: TrackingService,
    run_id: str,
    tmp_path: Path,
    folder: Path,
    artifact_path: str,
    artifact_store: ArtifactStore,
    stored_files: StoredFiles,
) -> None:
    source = tmp_path / "f.txt"
    source.write_text("f")
    with pytest.raises(UnsafePathError):
        service.log_artifact(run_id, source, artifact_path)
    with pytest.raises(UnsafePathError):
        service.log_artifacts(run_id, folder, artifact_path)
    with pytest.raises(UnsafePathError):
        service.log_artifact_bytes(run_id, artifact_path, b"x")
    with pytest.raises(UnsafePathError):
        service.read_artifact(run_id, artifact_path)
    with pytest.raises(UnsafePathError):
        service.download_artifacts(run_id, artifact_path, tmp_path / "dl")
    assert service.list_artifacts(run_id) == []
    assert stored_files(artifact_store) == []


def test_a_symlink_escape_stores_nothing(
    service: TrackingService,
    run_id: str,
    folder: Path,
    tmp_path: Path,
    artifact_store: ArtifactStore,
    stored_files: StoredFiles,
) -> None:
    (tmp_path / "model2").mkdir()
    (tmp_path / "model2" / "secret").write_text("secret")
    os.symlink("../../model2/secret", folder / "sub" / "zz-link")  # walked last
    with pytest.raises(UnsafePathError):
        service.log_artifacts(run_id, folder)
    assert service.list_artifacts(run_id) == []
    assert stored_files(artifact_store) == []


# -- S3 through the settings the entry points read -------------------------------------------------


def test_tracking_service_from_settings_on_s3(
    s3_endpoint: str, s3_root: str, tmp_path: Path, folder: Path, stored_files: StoredFiles
) -> None:
    settings = Settings(
        artifact_root=s3_root,
        s3_endpoint_url=s3_endpoint,
        database_url=f"sqlite:///{tmp_path}/factory.db",
    )
    service = tracking_service(settings)
    assert not service.artifacts.is_local
    assert service.artifacts.root == s3_root
    run_id = service.create_run(service.create_experiment("s3")).info.run_id
    service.log_artifacts(run_id, folder)
    service.log_artifact(run_id, folder / "model.bin", "single")
    assert service.read_artifact(run_id, "single/model.bin") == b"\x00\x01weights"
    service.download_artifacts(run_id, "sub", tmp_path / "dl")
    assert (tmp_path / "dl" / "sub" / "deeper" / "same.txt").read_text() == "# model\n"
    blobs = stored_files(service.artifacts)
    assert len(blobs) == 3
    assert all(b.startswith("blobs/sha256/") for b in blobs)


def test_folder_names_with_wildcard_characters(service: TrackingService, run_id: str) -> None:
    for path in ("a_b/1.txt", "axb/2.txt", "a%b/3.txt", "a%bc/4.txt", "a_b.txt", "a/5.txt"):
        service.log_artifact_bytes(run_id, path, path.encode())
    assert [f.path for f in service.artifact_files(run_id, "a_b")] == ["a_b/1.txt"]
    assert [f.path for f in service.artifact_files(run_id, "a%b")] == ["a%b/3.txt"]
    assert [f.path for f in service.list_artifacts(run_id, "a_b")] == ["a_b/1.txt"]
    assert [f.path for f in service.list_artifacts(run_id, "a")] == ["a/5.txt"]
    assert [(f.path, f.is_dir) for f in service.list_artifacts(run_id)] == [
        ("a", True), ("a%b", True), ("a%bc", True), ("a_b", True), ("a_b.txt", False),
        ("axb", True),
    ]  # fmt: skip
