"""The index of run artifacts: (run, path) -> blob digest and size."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select

from loopline.entities import (
    FileInfo,
)
from loopline.store.base import (
    SqlStoreBase,
)
from loopline.store.schema import (
    ArtifactRow,
)

__all__ = ["ArtifactTables"]


class ArtifactTables(SqlStoreBase):
    """Artifact records; the blobs themselves live in ``loopline.artifacts``."""

    def record_artifacts(self, run_id: str, files: Iterable[tuple[str, str, int]]) -> None:
        """Record ``(path, digest, size)`` triples; a path logged again points at its new blob."""
        rows = [{"run_id": run_id, "path": p, "digest": d, "size": s} for p, d, s in files]
        if not rows:
            return
        stmt = self._insert()(ArtifactRow)
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id", "path"],
            set_={"digest": stmt.excluded.digest, "size": stmt.excluded.size},
        )
        with self._write() as conn:
            conn.execute(stmt, rows)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[FileInfo]:
        """Files and folders directly under ``prefix`` (``""`` is the run's artifact root)."""
        base = f"{prefix}/" if prefix else ""
        with self._read() as conn:
            query = select(ArtifactRow.path, ArtifactRow.digest, ArtifactRow.size).where(
                ArtifactRow.run_id == run_id
            )
            if base:
                query = query.where(ArtifactRow.path.startswith(base, autoescape=True))
            rows = conn.execute(query.order_by(ArtifactRow.path)).all()
        entries: dict[str, FileInfo] = {}
        for path, digest, size in rows:
            head, sep, _ = path[len(base) :].partition("/")
            if sep:
                entries.setdefault(base + head, FileInfo(base + head, is_dir=True))
            else:
                entries[path] = FileInfo(path, is_dir=False, size=size, digest=digest)
        return sorted(entries.values(), key=lambda f: f.path)

    def artifact_files(self, run_id: str, prefix: str = "") -> list[FileInfo]:
        """Every file at or under ``prefix``, recursively."""
        with self._read() as conn:
            query = select(ArtifactRow.path, ArtifactRow.digest, ArtifactRow.size).where(
                ArtifactRow.run_id == run_id
            )
            if prefix:
                query = query.where(
                    or_(
                        ArtifactRow.path == prefix,
                        ArtifactRow.path.startswith(f"{prefix}/", autoescape=True),
                    )
                )
            rows = conn.execute(query.order_by(ArtifactRow.path)).all()
        return [FileInfo(p, is_dir=False, size=s, digest=d) for p, d, s in rows]
