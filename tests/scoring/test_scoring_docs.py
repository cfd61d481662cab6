"""docs/scoring.md: its Python example runs, and it names every parameter and CLI option."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import typer

import loopline
from loopline.cli.main import app

DOC = Path(__file__).parents[2] / "docs" / "scoring.md"


def test_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    runnable = [b for b in blocks if "LocalCluster" not in b]  # the Dask one needs a cluster
    assert runnable
    scope: dict[str, object] = {}
    try:
        for block in runnable:
            exec(compile(block, str(DOC), "exec"), scope)
    finally:
        loopline.set_uri(None)
    assert scope["summary"].rows == 4  # type: ignore[attr-defined]


def test_every_parameter_and_option_is_documented() -> None:
    text = DOC.read_text()
    for function in (loopline.score, loopline.rescore):
        for name in inspect.signature(function).parameters:
            assert name in text, f"{function.__name__}({name})"
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name in ("score", "rescore"):
        assert f"loopline {name}" in text
        for param in commands[name].params:
            for option in param.opts:
                if option.startswith("--") and option not in ("--uri", "--json", "--quiet"):
                    assert option in text, f"loopline {name} {option}"
    assert "LOOPLINE_DASK_ADDRESS" in text
