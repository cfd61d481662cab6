"""Models logged to runs: save with a flavor, store as run artifacts, register, load back safely.

A logged model is a folder of run artifacts: the flavor's files and ``loopline-model.json``
(flavor metadata and signature). Its digest is sha256 over the sorted ``path digest`` lines of
those files, so a registered version names exactly the bytes it was registered with. Loading
re-hashes every downloaded file and refuses a model whose bytes or file list changed.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopline.artifacts import check_relative_path
from loopline.artifacts.store import hash_file
from loopline.entities import ModelVersion
from loopline.errors import InvalidArgumentError, InvalidStateError
from loopline.modeling.flavors import load_model as load_flavor
from loopline.modeling.flavors import save_model as save_flavor
from loopline.modeling.signature import Signature, enforce, infer_signature
from loopline.registry.artifacts import MODEL_FILE
from loopline.registry.artifacts import tree_digest as _tree_digest

if TYPE_CHECKING:
    from loopline.registry.artifacts import ArtifactBackend as TrackingService
    from loopline.registry.artifacts import ModelRegistry as RegistryService

__all__ = ["MODEL_FILE", "LoggedModel", "ModelInfo", "load_logged_model", "log_model"]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Where a model was logged, its flavor, digest and signature, and its registered version."""

    run_id: str
    artifact_path: str
    flavor: str
    digest: str
    signature: dict[str, Any] | None
    model_version: ModelVersion | None = None

    @property
    def model_uri(self) -> str:
        return f"runs:/{self.run_id}/{self.artifact_path}"


def log_model(
    tracking: TrackingService,
    registry: RegistryService,
    run_id: str,
    model: Any,
    name: str = "model",
    *,
    input_example: Any = None,
    signature: Signature | None = None,
    registered_model_name: str | None = None,
    actor: str,
) -> ModelInfo:
    """Save ``model`` under the run's artifact path ``name``; register it when asked."""
    path = check_relative_path(name)
    if not path:
        raise InvalidArgumentError("The model's artifact path must not be empty.", field="name")
    if signature is None and input_example is not None:
        signature = infer_signature(input_example)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        folder.mkdir()
        meta = save_flavor(model, folder)
        document = {"flavor": meta, "signature": signature.to_dict() if signature else None}
        (folder / MODEL_FILE).write_text(json.dumps(document, sort_keys=True, indent=2))
        tracking.log_artifacts(run_id, folder, path)
    digest = _tree_digest(tracking.artifact_files(run_id, path), path)
    version = None
    if registered_model_name is not None:
        version = registry.create_model_version(
            registered_model_name, run_id=run_id, artifact_path=path, flavor=str(meta["flavor"]),
            digest=digest, signature=document["signature"], actor=actor,
        )  # fmt: skip
    return ModelInfo(run_id, path, str(meta["flavor"]), digest, document["signature"], version)


class LoggedModel:
    """A loaded model whose ``predict`` first enforces its signature (errors name the column)."""

    def __init__(self, loaded: Any, signature: Signature | None, source: str) -> None:
        self.loaded = loaded
        self.signature = signature
        self.source = source

    @property
    def model(self) -> Any:
        return self.loaded.model

    def _prepare(self, data: Any) -> Any:
        if self.signature is None:
            return data
        frame = enforce(self.signature, data)
        return frame if hasattr(self.loaded.model, "feature_names_in_") else frame.to_numpy()

    def predict(self, data: Any) -> Any:
        return self.loaded.predict(self._prepare(data))

    def predict_proba(self, data: Any) -> Any:
        return self.loaded.predict_proba(self._prepare(data))

    def __repr__(self) -> str:
        return f"LoggedModel({self.source!r}, flavor={self.loaded.flavor!r})"


def _locate(registry: RegistryService, uri: str) -> tuple[str, str, str | None]:
    if uri.startswith("models:/"):
        version = registry.resolve(uri)
        return version.run_id, version.artifact_path, version.digest
    if uri.startswith("runs:/"):
        run_id, _, path = uri.removeprefix("runs:/").partition("/")
        if run_id and path:
            return run_id, check_relative_path(path), None
    raise InvalidArgumentError(
        f"A model URI is models:/name/<version>, models:/name@alias or runs:/<run_id>/<path>; "
        f"got {uri!r}.",
        field="model_uri",
    )


def load_logged_model(
    tracking: TrackingService, registry: RegistryService, uri: str, *, trusted: Any = False
) -> LoggedModel:
    """Load a logged or registered model, refusing one whose stored bytes changed."""
    run_id, path, expected = _locate(registry, uri)
    files = tracking.artifact_files(run_id, path)
    if expected is not None and _tree_digest(files, path) != expected:
        raise InvalidStateError(
            f"The files of {uri} are not the ones registered (digest mismatch); refusing to load.",
            model_uri=uri,
        )
    with tempfile.TemporaryDirectory() as tmp:
        tracking.download_artifacts(run_id, path, tmp)
        for file in files:
            if hash_file(Path(tmp) / file.path)[0] != file.digest:
                raise InvalidStateError(
                    f"The stored bytes of {file.path} do not match their digest; {uri} was "
                    "tampered with. Refusing to load.",
                    model_uri=uri,
                )
        folder = Path(tmp) / path
        document = json.loads((folder / MODEL_FILE).read_text())
        loaded = load_flavor(folder, document["flavor"], trusted=trusted)
    raw = document.get("signature")
    return LoggedModel(loaded, Signature.from_dict(raw) if raw else None, uri)
