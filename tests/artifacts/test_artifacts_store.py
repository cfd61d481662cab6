"""Content-addressed blobs on a local folder and on S3: stored once, under their sha256, whole."""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loopline.artifacts import ArtifactStore
from loopline.errors import NotFoundError, StorageError

StoredFiles = Callable[[ArtifactStore], list[str]]


def _digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _blob_path(data: bytes) -> str:
    hexdigest = hashlib.sha256(data).hexdigest()
    return f"blobs/sha256/{hexdigest[:2]}/{hexdigest[2:]}"


def test_put_bytes_is_content_addressed(
    artifact_store: ArtifactStore, stored_files: StoredFiles
) -> None:
    digest, size = artifact_store.put_bytes(b"hello")
    assert digest == _digest(b"hello")
    assert digest == "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert size == 5
    assert artifact_store.exists(digest)
    assert artifact_store.read_bytes(digest) == b"hello"
    assert stored_files(artifact_store) == [_blob_path(b"hello")]


def test_the_same_bytes_are_stored_once(
    artifact_store: ArtifactStore, stored_files: StoredFiles, tmp_path: Path
) -> None:
    file = tmp_path / "same.bin"
    file.write_bytes(b"payload")
    results = {
        artifact_store.put_bytes(b"payload"),
        artifact_store.put_file(file),
        artifact_store.put_bytes(b"payload"),
    }
    assert results == {(_digest(b"payload"), 7)}
    artifact_store.put_bytes(b"other")
    assert stored_files(artifact_store) == sorted([_blob_path(b"payload"), _blob_path(b"other")])


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, (1 << 20) + 17])
def test_put_file_digest_and_size(artifact_store: ArtifactStore, tmp_path: Path, size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    file = tmp_path / "data.bin"
    file.write_bytes(data)
    digest, stored_size = artifact_store.put_file(file)
    assert (digest, stored_size) == (_digest(data), size)
    assert artifact_store.read_bytes(digest) == data
    with artifact_store.open(digest) as handle:
        assert handle.read(3) == data[:3]


def test_download(artifact_store: ArtifactStore, tmp_path: Path) -> None:
    digest, _ = artifact_store.put_bytes(b"content")
    target = tmp_path / "out" / "deep" / "file.txt"
    artifact_store.download(digest, target)
    assert target.read_bytes() == b"content"
    artifact_store.download(digest, target)  # overwrites in place
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.txt"]  # no .part left


def test_missing_blobs_are_not_found(artifact_store: ArtifactStore, tmp_path: Path) -> None:
    missing = _digest(b"never stored")
    assert not artifact_store.exists(missing)
    with pytest.raises(NotFoundError):
        artifact_store.read_bytes(missing)
    target = tmp_path / "dl" / "x.bin"
    with pytest.raises(NotFoundError):
        artifact_store.download(missing, target)
    assert list(target.parent.iterdir()) == []  # neither the file nor a .part


@pytest.mark.parametrize(
    "digest",
    [
        "",
        "sha256:",
        "md5:" + "0" * 32,
        "sha256:" + "0" * 63,
        "sha256:" + "A" * 64,
        "sha256:" + "0" * 62 + "/x",
        "sha256:../../../../etc/passwd" + "0" * 40,
        "0" * 64,
    ],
)
def test_malformed_digests_never_reach_the_filesystem(
    artifact_store: ArtifactStore, digest: str
) -> None:
    with pytest.raises(NotFoundError):
        artifact_store.read_bytes(digest)
    with pytest.raises(NotFoundError):
        artifact_store.open(digest)


def test_concurrent_writers_of_the_same_blob(
    artifact_store: ArtifactStore, stored_files: StoredFiles
) -> None:
    data = b"x" * 100_000
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def put() -> None:
        start.wait()
        try:
            assert artifact_store.put_bytes(data) == (_digest(data), len(data))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stored_files(artifact_store) == [_blob_path(data)]
    assert artifact_store.read_bytes(_digest(data)) == data


def test_file_url_root_is_local(tmp_path: Path) -> None:
    store = ArtifactStore(f"file://{tmp_path}/root/")
    assert store.is_local
    digest, _ = store.put_bytes(b"f")
    assert (tmp_path / "root" / _blob_path(b"f")).read_bytes() == b"f"
    assert store.exists(digest)


# -- atomic local writes --------------------------------------------------------------------------


def _copy_half_then_fail(source: str, target: str, *args: Any, **kwargs: Any) -> None:
    Path(target).write_bytes(Path(source).read_bytes()[:3])
    raise OSError(28, "No space left on device")


def test_a_failed_file_copy_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ArtifactStore(str(tmp_path / "root"))
    source = tmp_path / "big.bin"
    source.write_bytes(b"0123456789")
    monkeypatch.setattr(shutil, "copyfile", _copy_half_then_fail)
    with pytest.raises(StorageError, match="No space left"):
        store.put_file(source)
    monkeypatch.undo()
    leftovers = [p for p in (tmp_path / "root").rglob("*") if p.is_file()]
    assert leftovers == []
    assert not store.exists(_digest(b"0123456789"))
    assert store.put_file(source) == (_digest(b"0123456789"), 10)  # a retry works


def test_a_failed_byte_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ArtifactStore(str(tmp_path / "root"))

    def no_rename(*args: Any, **kwargs: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("loopline.artifacts.store.os.replace", no_rename)
    with pytest.raises(StorageError, match="Input/output"):
        store.put_bytes(b"data")
    monkeypatch.undo()
    assert [p for p in (tmp_path / "root").rglob("*") if p.is_file()] == []
    assert not store.exists(_digest(b"data"))


def test_no_part_files_after_writes(tmp_path: Path) -> None:
    store = ArtifactStore(str(tmp_path / "root"))
    for index in range(20):
        store.put_bytes(str(index).encode())
    files = [p for p in (tmp_path / "root").rglob("*") if p.is_file()]
    assert len(files) == 20
    assert not [p for p in files if ".part" in p.name]
