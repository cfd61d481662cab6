"""Whether a dataset version may be consumed: the one rule, shared by every backend."""

from __future__ import annotations

from loopline.entities import DatasetVersion, VersionStatus
from loopline.errors import ValidationFailedError

__all__ = ["check_consumable"]


def check_consumable(version: DatasetVersion) -> DatasetVersion:
    """The version, unless it failed a blocking check (then ValidationFailedError)."""
    if version.status is VersionStatus.FAILED:
        findings = (version.validation or {}).get("findings", [])
        failed = [f["check"] for f in findings if f.get("severity") == "blocking"]
        raise ValidationFailedError(
            f"{version.uri} failed validation (blocking checks: {failed[:5]}); fix the data "
            "and create a new version, or pass allow_failed=True to inspect it.",
            dataset=version.name,
            version=version.version,
            checks=failed,
        )
    return version
