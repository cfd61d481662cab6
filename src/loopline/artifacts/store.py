"""Content-addressed blobs (sha256) on any fsspec filesystem: a local folder or ``s3://``.

A blob lives at ``<root>/blobs/sha256/<aa>/<rest of the hex digest>``. Writing the same content
twice stores it once. Blobs are written to a temporary name and moved into place, so a reader never
sees half a blob.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import IO, Any

from loopline.errors import MissingDependencyError, NotFoundError, StorageError

__all__ = ["ArtifactStore", "hash_file"]

_CHUNK = 1 << 20


def _digest_path(digest: str) -> str:
    algo, _, hexdigest = digest.partition(":")
    if (
        algo != "sha256"
        or len(hexdigest) != 64
        or not all(c in "0123456789abcdef" for c in hexdigest)
    ):
        raise NotFoundError(f"{digest!r} is not a sha256 blob digest.", digest=digest)
    return f"blobs/sha256/{hexdigest[:2]}/{hexdigest[2:]}"


def hash_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """``("sha256:<hex>", size)`` of a file's content."""
    hasher = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return f"sha256:{hasher.hexdigest()}", size


class ArtifactStore:
    """Blobs under ``root``: a local folder path or an fsspec URL such as ``s3://bucket/prefix``."""

    def __init__(self, root: str, *, storage_options: dict[str, Any] | None = None) -> None:
        self.root = root.rstrip("/")
        self.is_local = "://" not in root or root.startswith("file://")
        self._options = storage_options or {}
        self._fs: Any = None
        if self.is_local:
            self.root = str(Path(root.removeprefix("file://")).absolute())

    @property
    def fs(self) -> Any:
        if self._fs is None:
            import fsspec

            protocol = self.root.split("://", 1)[0] if not self.is_local else "file"
            try:
                self._fs = fsspec.filesystem(protocol, **self._options)
            except ImportError as exc:
                raise MissingDependencyError(
                    f"The artifact root {self.root!r} needs {exc.name or protocol!r}: "
                    "pip install 'loopline[s3]' for s3://."
                ) from None
        return self._fs

    def _path(self, digest: str) -> str:
        return f"{self.root}/{_digest_path(digest)}"

    def put_file(
        self,
        local_path: str | os.PathLike[str],
        *,
        move: bool = False,
        known: tuple[str, int] | None = None,
    ) -> tuple[str, int]:
        """Store a file's content; returns ``(digest, size)``.

        ``move=True`` hands the file over: on a local store it is renamed into place (no copy)
        when it lies on the same filesystem, and removed otherwise. ``known`` is the
        ``(digest, size)`` of :func:`hash_file` computed earlier, to skip reading it again.
        """
        digest, size = known if known is not None else hash_file(local_path)
        target = self._path(digest)
        if self._exists(target):
            if move:
                os.unlink(local_path)
            return digest, size
        if move and self.is_local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(local_path, target)
                return digest, size
            except OSError:
                pass  # another filesystem: copy below
        self._upload(str(local_path), target)
        if move:
            os.unlink(local_path)
        return digest, size

    def local_path(self, digest: str) -> str | None:
        """The blob's path when the store is a local folder (for zero-copy readers)."""
        return self._path(digest) if self.is_local else None

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store bytes; returns ``(digest, size)``."""
        digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
        target = self._path(digest)
        if not self._exists(target):
            self._write_bytes(target, data)
        return digest, len(data)

    def open(self, digest: str) -> IO[bytes]:
        """A binary reader over a blob."""
        target = self._path(digest)
        try:
            if self.is_local:
                return open(target, "rb")
            return self.fs.open(target, "rb")  # type: ignore[no-any-return]
        except FileNotFoundError:
            raise NotFoundError(
                f"The blob {digest} is missing from {self.root}.", digest=digest
            ) from None

    def read_bytes(self, digest: str) -> bytes:
        with self.open(digest) as handle:
            return handle.read()

    def download(self, digest: str, destination: str | os.PathLike[str]) -> None:
        """Copy a blob to a local file, creating its folder."""
        dest = Path(destination)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
        try:
            with self.open(digest) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, _CHUNK)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def exists(self, digest: str) -> bool:
        return self._exists(self._path(digest))

    def _exists(self, target: str) -> bool:
        if self.is_local:
            return os.path.exists(target)
        return bool(self.fs.exists(target))

    def _upload(self, local: str, target: str) -> None:
        if self.is_local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            tmp = f"{target}.{uuid.uuid4().hex}.part"
            try:
                shutil.copyfile(local, tmp)
                os.replace(tmp, target)
            except OSError as exc:
                Path(tmp).unlink(missing_ok=True)
                raise StorageError(f"Could not write a blob under {self.root}: {exc}") from None
            return
        try:
            self.fs.put_file(local, target)  # an object PUT is atomic on S3
        except OSError as exc:
            raise StorageError(f"Could not upload a blob to {self.root}: {exc}") from None

    def _write_bytes(self, target: str, data: bytes) -> None:
        if self.is_local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            tmp = f"{target}.{uuid.uuid4().hex}.part"
            try:
                with open(tmp, "wb") as out:
                    out.write(data)
                os.replace(tmp, target)
            except OSError as exc:
                Path(tmp).unlink(missing_ok=True)
                raise StorageError(f"Could not write a blob under {self.root}: {exc}") from None
            return
        try:
            self.fs.pipe_file(target, data)
        except OSError as exc:
            raise StorageError(f"Could not upload a blob to {self.root}: {exc}") from None
