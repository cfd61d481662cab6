"""Four processes appending at once keep one valid chain: seq 1..N, no gap, no error."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loopline.audit import AuditLog
from loopline.store import SqlTrackingStore

pytestmark = pytest.mark.slow

PARTIES = 4
EACH = 25
WORKER = """
import sys, time
from pathlib import Path
from loopline.audit import AuditLog
from loopline.store import SqlTrackingStore

url, folder, index, count = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
log = AuditLog(SqlTrackingStore(url))
(folder / f"ready-{index}").touch()
while not (folder / "go").exists():
    time.sleep(0.002)
for i in range(count):
    log.record(f"worker-{index}", "tick", "job", str(i), {"i": i})
"""


def test_concurrent_appends_keep_a_valid_chain(db_url: str, tmp_path: Path) -> None:
    SqlTrackingStore(db_url)  # migrated once, before the workers start
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOOPLINE_")}
    environment["PYTHONWARNINGS"] = "error,ignore::ResourceWarning"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, db_url, str(tmp_path), str(i), str(EACH)],
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        for i in range(PARTIES)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("ready-*"))) < PARTIES and time.monotonic() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()
    errors = [w.communicate(timeout=120)[1] for w in workers]
    assert [w.returncode for w in workers] == [0] * PARTIES, errors
    assert errors == [""] * PARTIES

    log = AuditLog(SqlTrackingStore(db_url))
    result = log.verify()
    assert (result.ok, result.checked) == (True, PARTIES * EACH)
    events = log.list(max_results=1000)
    assert [e.seq for e in events] == list(range(1, PARTIES * EACH + 1))
    for index in range(PARTIES):  # each worker's own events kept their order
        mine = [e.details["i"] for e in events if e.actor == f"worker-{index}"]
        assert mine == list(range(EACH))
