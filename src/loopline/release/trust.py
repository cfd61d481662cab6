"""Which model files may be unpickled: those whose artifact digest belongs to an approved version.

A pickled model runs code when loaded, so loading refuses pickles unless the caller says
``trusted=True`` or the bytes are those of a version that passed release approval. The digest
checked is the registered one for ``models:/`` URIs and the one recomputed from the stored bytes
(:func:`~loopline.release.digests.stored_digest`) for ``runs:/`` URIs; loading itself refuses
bytes that do not match it. :class:`~loopline.release.service.ReleaseService` delegates its
``load_model`` and ``is_approved_digest`` here.
"""

from __future__ import annotations

from typing import Any

from loopline.modeling.logged import LoggedModel, load_logged_model
from loopline.registry.service import RegistryService
from loopline.release.digests import stored_digest
from loopline.tracking.service import TrackingService

__all__ = ["Trust"]


class Trust:
    """Loads models, trusting the pickles of approved versions.

    Args:
        tracking: runs and artifacts (to load models and recompute artifact digests).
        registry: resolves ``models:/`` URIs; its store knows the approved digests.

    Examples:
        >>> import tempfile
        >>> from loopline.artifacts import ArtifactStore
        >>> from loopline.audit import AuditLog
        >>> from loopline.store import SqlTrackingStore
        >>> root = tempfile.mkdtemp()
        >>> store = SqlTrackingStore(f"sqlite:///{root}/t.db")
        >>> tracking = TrackingService(store, ArtifactStore(f"{root}/artifacts"))
        >>> trust = Trust(tracking, RegistryService(store, AuditLog(store)))
        >>> trust.is_approved_digest("sha256:" + "0" * 64)
        False
        >>> trust.approved_artifact("runs:/nothing-here")
        False
    """

    def __init__(self, tracking: TrackingService, registry: RegistryService) -> None:
        self.tracking = tracking
        self.registry = registry
        self.store = registry.store

    def is_approved_digest(self, digest: str) -> bool:
        """Whether an approved version has this artifact digest (its pickles may be loaded)."""
        return isinstance(digest, str) and self.store.approved_digest_exists(digest)

    def load_model(self, uri: str, *, trusted: Any = False) -> LoggedModel:
        """Load a model; pickles are trusted when its digest belongs to an approved version."""
        if trusted is False and self.approved_artifact(uri):
            trusted = True
        return load_logged_model(self.tracking, self.registry, uri, trusted=trusted)

    def approved_artifact(self, uri: str) -> bool:
        """Whether ``uri`` (``models:/`` or ``runs:/<run>/<path>``) names approved bytes."""
        if not isinstance(uri, str):
            return False
        if uri.startswith("models:/"):
            return self.is_approved_digest(self.registry.resolve(uri).digest)
        run_id, _, path = uri.removeprefix("runs:/").partition("/")
        if uri.startswith("runs:/") and run_id and path:
            return self.is_approved_digest(stored_digest(self.tracking, run_id, path.strip("/")))
        return False
