"""Writing a table as Parquet in a background thread, then keeping or discarding the file.

pyarrow's Parquet writer and numpy release the GIL, so a version's file is written (and hashed)
on one core while the caller computes the digest and the profile on the other.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from typing import Any

from loopline.artifacts import ArtifactStore
from loopline.artifacts.store import hash_file
from loopline.errors import StorageError

__all__ = ["ParquetWriter"]


class ParquetWriter:
    """Starts writing at construction; ``keep`` stores the file as a blob, ``discard`` drops it."""

    def __init__(self, table: Any, artifacts: ArtifactStore) -> None:
        self.artifacts = artifacts
        folder = artifacts.root if artifacts.is_local else None
        if folder:
            os.makedirs(folder, exist_ok=True)
        handle, self.path = tempfile.mkstemp(suffix=".parquet.part", dir=folder)
        os.close(handle)
        self._table = table
        self._hashed: tuple[str, int] | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="loopline-parquet", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import pyarrow.parquet as pq

        try:
            pq.write_table(self._table, self.path)
            self._hashed = hash_file(self.path)
        except BaseException as exc:  # re-raised in the caller's thread by keep()
            self._failure = exc

    def keep(self) -> tuple[str, int]:
        """Wait for the file, store it as a blob (moved, not copied); ``(digest, size)``."""
        self._thread.join()
        if self._failure is not None or self._hashed is None:
            self.discard()
            raise StorageError(f"Could not write the dataset as Parquet: {self._failure}")
        return self.artifacts.put_file(self.path, move=True, known=self._hashed)

    def discard(self) -> None:
        """Wait for the writer and remove its file (nothing is stored)."""
        self._thread.join()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
