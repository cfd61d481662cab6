"""docs/eventlog.md: its Python examples run in order, and it names every public call."""

from __future__ import annotations

import inspect
import re
from importlib.util import find_spec
from pathlib import Path

import pytest

import loopline
from loopline.eventlog import EventLog, Writer
from loopline.server.routes import eventlog as routes

DOC = Path(__file__).parents[2] / "docs" / "eventlog.md"


def test_python_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 4
    scope: dict[str, object] = {}
    try:
        for block in blocks:
            if "import dask" in block and find_spec("dask") is None:
                continue
            exec(compile(block, str(DOC), "exec"), scope)
    finally:
        loopline.set_uri(None)
        log = scope["log"]
        assert isinstance(log, EventLog)
        log.close()
    assert [h.label for h in scope["history"]] == [1, 0]  # type: ignore[attr-defined]
    assert scope["frame"] is not None


def test_every_public_call_is_documented() -> None:
    text = DOC.read_text()
    for cls in (EventLog, Writer):
        for name, _ in inspect.getmembers(cls, inspect.isfunction):
            if not name.startswith("_"):
                assert f"{name}(" in text, f"{cls.__name__}.{name}"
    for name in ("loopline.log_outcomes", "loopline.read_predictions", "open_predictions",
                 "outcome_history", "LOOPLINE_EVENTLOG_ROOT"):  # fmt: skip
        assert name in text, name
    for route in routes.router.routes:
        for method in route.methods:  # type: ignore[attr-defined]
            assert f"{method} {route.path}" in text, route.path  # type: ignore[attr-defined]
