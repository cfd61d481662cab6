"""The example of docs/release.md runs and prints what it claims."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).parents[2] / "docs" / "release.md"


def test_the_release_doc_example_runs(tmp_path: Path) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "'beats': True" in lines[0]
    assert lines[1].count("True") == 4
    assert lines[2] == ("['champion'] ['validated', 'pending_approval', 'approved', 'approved']")


def test_the_release_aliases_are_refused_by_the_registry(tmp_path: Path) -> None:
    from loopline.audit import AuditLog
    from loopline.errors import LooplineError
    from loopline.registry import RegistryService
    from loopline.store import SqlTrackingStore

    store = SqlTrackingStore(f"sqlite:///{tmp_path}/r.db")
    registry = RegistryService(store, AuditLog(store))
    registry.create_registered_model("m", actor="ana")
    with pytest.raises(LooplineError, match="champion"):
        registry.set_alias("m", "champion", 1, actor="ana")
