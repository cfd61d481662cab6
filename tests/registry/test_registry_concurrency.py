"""Versions registered at once, from threads and processes, get distinct consecutive numbers."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from loopline.audit import AuditLog
from loopline.registry import RegistryService
from loopline.store import SqlTrackingStore

DIGEST = "sha256:" + "ab" * 32
PARTIES = 4
EACH = 5
WORKER = """
import sys
from loopline.audit import AuditLog
from loopline.registry import RegistryService
from loopline.store import SqlTrackingStore

url, run_id, index, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
store = SqlTrackingStore(url)
registry = RegistryService(store, AuditLog(store))
for _ in range(count):
    registry.create_model_version("churn", run_id=run_id, artifact_path="m", flavor="sklearn",
                                  digest="sha256:" + "ab" * 32, actor=f"worker-{index}")
"""


def _check(registry: RegistryService, audit: AuditLog) -> None:
    numbers = [v.version for v in registry.list_model_versions("churn")]
    assert numbers == list(range(1, PARTIES * EACH + 1))
    assert len(audit.list(object_type="registered_model")) == 1  # created once, not per party
    assert audit.verify().ok


def test_threads_registering_at_once(
    registry: RegistryService, audit: AuditLog, run_id: str
) -> None:
    def register(index: int) -> list[int]:
        return [
            registry.create_model_version(
                "churn", run_id=run_id, artifact_path="m", flavor="sklearn", digest=DIGEST,
                actor=f"thread-{index}",
            ).version
            for _ in range(EACH)
        ]  # fmt: skip

    with ThreadPoolExecutor(PARTIES) as pool:
        got = [n for numbers in pool.map(register, range(PARTIES)) for n in numbers]
    assert sorted(got) == list(range(1, PARTIES * EACH + 1))
    _check(registry, audit)


@pytest.mark.slow
def test_processes_registering_at_once(
    db_url: str, store: SqlTrackingStore, registry: RegistryService, audit: AuditLog, run_id: str
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOOPLINE_")}
    environment["PYTHONWARNINGS"] = "error,ignore::ResourceWarning"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, db_url, run_id, str(i), str(EACH)],
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=Path(__file__).parent,
        )
        for i in range(PARTIES)
    ]
    errors = [w.communicate(timeout=120)[1] for w in workers]
    assert [w.returncode for w in workers] == [0] * PARTIES, errors
    _check(registry, audit)
