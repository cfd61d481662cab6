"""Artifact storage: content-addressed blobs through fsspec, and checks on user-given paths."""

from loopline.artifacts.paths import check_relative_path, walk_folder
from loopline.artifacts.store import ArtifactStore

__all__ = ["ArtifactStore", "check_relative_path", "walk_folder"]
