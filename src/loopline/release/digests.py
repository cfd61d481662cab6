"""The artifact digest of a model version as stored now, recomputed from the stored bytes.

An approval is bound to the artifact it saw. The registered digest is a column that never
changes, and the artifact index names each file's digest; neither shows a blob overwritten in
the artifact store. So this reads every file of the version back, hashes it, and builds the
same tree digest as registration (sha256 over the sorted ``relative-path digest`` lines).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from loopline.artifacts.store import hash_file
from loopline.errors import NotFoundError
from loopline.tracking.service import TrackingService

__all__ = ["MISSING", "stored_digest"]

MISSING = "missing"
"""The digest of a version whose files are gone from the artifact store."""


def stored_digest(tracking: TrackingService, run_id: str, path: str) -> str:
    """The tree digest of the bytes stored now under a run's artifact ``path``.

    Equal to the registered digest while nothing changed; :data:`MISSING` when a file is gone.
    """
    try:
        files = tracking.artifact_files(run_id, path)
    except NotFoundError:
        return MISSING
    lines = []
    for file in files:
        local = tracking.artifacts.local_path(file.digest or "")
        try:
            if local is not None:
                digest = hash_file(local)[0] if Path(local).is_file() else MISSING
            else:
                data = tracking.artifacts.read_bytes(file.digest or "")
                digest = "sha256:" + hashlib.sha256(data).hexdigest()
        except (NotFoundError, FileNotFoundError):
            digest = MISSING
        if digest == MISSING:
            return MISSING
        lines.append(f"{file.path[len(path) + 1 :]} {digest}")
    return "sha256:" + hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
