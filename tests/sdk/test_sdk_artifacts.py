"""Artifacts through the fluent SDK and ``loopline.Client``, locally and against a server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import loopline
from loopline.errors import InvalidArgumentError, NotFoundError, UnsafePathError

ALL_BYTES = bytes(range(256)) * 64


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder with nested files: ``a.txt``, ``data/b.bin``, ``data/deep/c.json``."""
    root = tmp_path / "outputs"
    (root / "data" / "deep").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "data" / "b.bin").write_bytes(ALL_BYTES)
    (root / "data" / "deep" / "c.json").write_text('{"c": 3}')
    return root


def _files_under(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _paths(client: loopline.Client, run_id: str, under: str | None = None) -> set[str]:
    """Every artifact file of the run (walked with list_artifacts), environment capture excluded."""
    found: set[str] = set()
    for info in client.list_artifacts(run_id, under):
        if info.is_dir:
            found |= _paths(client, run_id, info.path)
        elif not info.path.startswith("environment/"):
            found.add(info.path)
    return found


def test_log_artifact_round_trips_bytes(
    experiment: Any, client: loopline.Client, tmp_path: Path
) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(ALL_BYTES)
    with loopline.start_run() as run:
        assert loopline.log_artifact(source) == "model.bin"
        assert loopline.log_artifact(source, "models/v1") == "models/v1/model.bin"

    assert client.read_artifact(run.id, "model.bin") == ALL_BYTES
    assert client.read_artifact(run.id, "models/v1/model.bin") == ALL_BYTES
    local = client.download_artifacts(run.id, "models/v1/model.bin", tmp_path / "down")
    assert Path(local).read_bytes() == ALL_BYTES
    assert _paths(client, run.id) == {"model.bin", "models/v1/model.bin"}


def test_log_artifacts_keeps_the_folder_layout(
    experiment: Any, client: loopline.Client, folder: Path, tmp_path: Path
) -> None:
    with loopline.start_run() as run:
        logged = loopline.log_artifacts(folder)
        under = loopline.log_artifacts(folder, "copy")

    expected = _files_under(folder)
    assert sorted(logged) == sorted(expected)
    assert sorted(under) == sorted(f"copy/{p}" for p in expected)

    root = {(f.path, f.is_dir) for f in client.list_artifacts(run.id)}
    assert {("a.txt", False), ("data", True), ("copy", True)} <= root
    data = client.list_artifacts(run.id, "data")
    assert [(f.path, f.is_dir) for f in data] == [("data/b.bin", False), ("data/deep", True)]
    assert next(f for f in data if f.path == "data/b.bin").size == len(ALL_BYTES)

    whole = Path(client.download_artifacts(run.id, None, tmp_path / "all"))
    assert {p: b for p, b in _files_under(whole).items() if not p.startswith("environment/")} == {
        **expected,
        **{f"copy/{p}": b for p, b in expected.items()},
    }
    part = Path(client.download_artifacts(run.id, "copy/data", tmp_path / "part"))
    assert part == tmp_path / "part" / "copy" / "data"
    assert _files_under(part) == {"b.bin": ALL_BYTES, "deep/c.json": b'{"c": 3}'}
    for path, content in expected.items():
        assert client.read_artifact(run.id, f"copy/{path}") == content


def test_log_text_and_unicode_paths(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as run:
        path = loopline.log_text("héllo wörld 🎉\n", "notes/rés umé #1?.md")

    assert path == "notes/rés umé #1?.md"
    assert client.read_artifact(run.id, path).decode("utf-8") == "héllo wörld 🎉\n"
    assert [f.path for f in client.list_artifacts(run.id, "notes")] == [path]


def test_logging_a_path_again_replaces_it(
    experiment: Any, client: loopline.Client, tmp_path: Path
) -> None:
    with loopline.start_run() as run:
        loopline.log_text("one", "f.txt")
        loopline.log_text("two", "f.txt")

    assert client.read_artifact(run.id, "f.txt") == b"two"


@pytest.mark.parametrize(
    "artifact_path",
    ["..", "../escape", "a/../../b", "/abs", "/etc", "C:/windows", "a\\b", "bad\x00nul"],
)
def test_unsafe_artifact_path_is_refused(
    experiment: Any, client: loopline.Client, tmp_path: Path, folder: Path, artifact_path: str
) -> None:
    source = tmp_path / "f.txt"
    source.write_text("x")
    with loopline.start_run() as run:
        with pytest.raises(UnsafePathError):
            loopline.log_artifact(source, artifact_path)
        with pytest.raises(UnsafePathError):
            loopline.log_artifacts(folder, artifact_path)
        with pytest.raises(UnsafePathError):
            loopline.log_text("x", f"{artifact_path}/f.txt")
        with pytest.raises(UnsafePathError):
            client.read_artifact(run.id, artifact_path)
        with pytest.raises(UnsafePathError):
            client.list_artifacts(run.id, artifact_path)
        with pytest.raises(UnsafePathError):
            client.download_artifacts(run.id, artifact_path, tmp_path / "d")

    assert _paths(client, run.id) == set()
    assert not (tmp_path / "d").exists()


def test_symlink_out_of_a_logged_folder_is_refused(
    experiment: Any, client: loopline.Client, folder: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not upload")
    os.symlink(secret, folder / "data" / "zz-link.txt")

    with loopline.start_run() as run, pytest.raises(UnsafePathError, match="symlink"):
        loopline.log_artifacts(folder)

    assert _paths(client, run.id) == set()


def test_symlinked_folder_out_of_a_logged_folder_is_refused(
    experiment: Any, client: loopline.Client, folder: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.txt").write_text("x")
    os.symlink(outside, folder / "linked", target_is_directory=True)

    with loopline.start_run() as run, pytest.raises(UnsafePathError):
        loopline.log_artifacts(folder)

    assert _paths(client, run.id) == set()


def test_symlink_inside_a_logged_folder_is_followed(
    experiment: Any, client: loopline.Client, folder: Path
) -> None:
    os.symlink(folder / "a.txt", folder / "data" / "alias.txt")

    with loopline.start_run() as run:
        loopline.log_artifacts(folder)

    assert client.read_artifact(run.id, "data/alias.txt") == b"alpha\n"


def test_missing_local_file_or_folder_is_not_found(experiment: Any, tmp_path: Path) -> None:
    with loopline.start_run():
        with pytest.raises(NotFoundError):
            loopline.log_artifact(tmp_path / "nope.txt")
        with pytest.raises(NotFoundError):
            loopline.log_artifacts(tmp_path / "nope")


def test_reading_missing_artifacts(experiment: Any, client: loopline.Client, folder: Path) -> None:
    with loopline.start_run() as run:
        loopline.log_artifacts(folder)

    with pytest.raises(NotFoundError):
        client.read_artifact(run.id, "missing.txt")
    with pytest.raises(InvalidArgumentError, match="folder"):
        client.read_artifact(run.id, "data")
    assert client.list_artifacts(run.id, "missing") == []
    with pytest.raises(NotFoundError):
        client.download_artifacts(run.id, "missing", folder / "dest")
