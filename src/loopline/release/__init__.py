"""The governed release of model versions: evaluation, gates, approvals, aliases, rollback.

:class:`ReleaseService` is the entry point; ``docs/release.md`` describes the state machine,
the gates, the policy and how approvals are voided.
"""

from loopline.release.gates import GATE_NAMES, release_gates
from loopline.release.service import RELEASE_ALIASES, LineageHook, ReleaseService

__all__ = ["GATE_NAMES", "RELEASE_ALIASES", "LineageHook", "ReleaseService", "release_gates"]
