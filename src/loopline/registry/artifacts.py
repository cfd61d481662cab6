"""Register a model logged as run artifacts: read its ``loopline-model.json``, digest its files.

The digest of a logged model is sha256 over the sorted ``path digest`` lines of its files (paths
relative to the model's folder), so a registered version names exactly the bytes it was
registered with. Works over any artifact backend with ``artifact_files`` and ``read_artifact``:
the local tracking service, or the remote one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any, Protocol

from loopline.artifacts import check_relative_path
from loopline.entities import FileInfo, ModelVersion
from loopline.errors import InvalidArgumentError, NotFoundError

__all__ = [
    "MODEL_FILE", "ArtifactBackend", "ArtifactReader", "ModelRegistry", "read_model_document",
    "register_logged_model", "tree_digest",
]  # fmt: skip

MODEL_FILE = "loopline-model.json"


class ArtifactReader(Protocol):
    """What registration needs of a tracking backend (local or remote)."""

    def artifact_files(self, run_id: str, path: str | None = None) -> list[FileInfo]: ...

    def read_artifact(self, run_id: str, path: str) -> bytes: ...


class ArtifactBackend(ArtifactReader, Protocol):
    """What logging and loading a model need of a tracking backend (local or remote)."""

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[str]: ...

    def download_artifacts(
        self, run_id: str, path: str | None, destination: str | os.PathLike[str]
    ) -> str: ...


class ModelRegistry(Protocol):
    """What logging and loading a model need of a registry: RegistryService or RemoteRegistry."""

    def create_model_version(
        self,
        name: str,
        *,
        run_id: str,
        artifact_path: str,
        flavor: str,
        digest: str,
        signature: Mapping[str, Any] | None = None,
        actor: str,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion: ...

    def resolve(self, uri: str) -> ModelVersion: ...


def tree_digest(files: list[FileInfo], prefix: str) -> str:
    """``sha256:<hex>`` over the files under ``prefix``, as ``path digest`` lines, sorted.

    Examples:
        >>> f = FileInfo("model/a.bin", False, 3, "sha256:" + "0" * 64)
        >>> line = b"a.bin sha256:" + b"0" * 64
        >>> tree_digest([f], "model") == "sha256:" + hashlib.sha256(line).hexdigest()
        True
    """
    lines = sorted(f"{f.path[len(prefix) + 1 :]} {f.digest}" for f in files)
    return "sha256:" + hashlib.sha256("\n".join(lines).encode()).hexdigest()


def read_model_document(
    artifacts: ArtifactReader, run_id: str, artifact_path: str
) -> tuple[dict[str, Any], str]:
    """The logged model's ``loopline-model.json`` and the digest of its files."""
    path = check_relative_path(artifact_path, argument="artifact_path")
    if not path:
        raise InvalidArgumentError("The model's artifact path must not be empty.",
                                   field="artifact_path")  # fmt: skip
    files = artifacts.artifact_files(run_id, path)
    if not any(f.path == f"{path}/{MODEL_FILE}" for f in files):
        raise NotFoundError(
            f"Run {run_id} has no logged model at {path!r} (no {MODEL_FILE}); log one with "
            "loopline.log_model.",
            run_id=run_id, artifact_path=path,
        )  # fmt: skip
    try:
        document = json.loads(artifacts.read_artifact(run_id, f"{path}/{MODEL_FILE}"))
        str(document["flavor"]["flavor"])
    except (ValueError, KeyError, TypeError):
        raise InvalidArgumentError(
            f"{path}/{MODEL_FILE} of run {run_id} is not a loopline model description.",
            field="artifact_path",
        ) from None
    return document, tree_digest(files, path)


def register_logged_model(
    artifacts: ArtifactReader,
    registry: ModelRegistry,
    run_id: str,
    artifact_path: str,
    name: str,
    *,
    actor: str,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ModelVersion:
    """Register the model logged at ``artifact_path`` of run ``run_id`` as ``name``'s next version.

    Flavor and signature come from the model's own description; the digest from its files.
    """
    document, digest = read_model_document(artifacts, run_id, artifact_path)
    return registry.create_model_version(
        name, run_id=run_id, artifact_path=check_relative_path(artifact_path),
        flavor=str(document["flavor"]["flavor"]), digest=digest,
        signature=document.get("signature"), actor=actor, description=description, tags=tags,
    )  # fmt: skip
