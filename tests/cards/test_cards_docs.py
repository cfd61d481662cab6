"""The example of docs/model-cards.md runs and prints what the page says it prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from loopline.cli.cards import register
from loopline.client import models

DOC = Path(__file__).parents[2] / "docs" / "model-cards.md"


def test_the_model_cards_doc_example_runs(tmp_path: Path) -> None:
    text = DOC.read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    (printed,) = re.findall(r"prints\n\n```text\n(.*?)```", text, flags=re.DOTALL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPLINE_")}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=180, check=False, env=env)  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout == printed


def test_every_card_function_and_command_is_documented() -> None:
    import typer

    text = DOC.read_text()
    for name in ("card", "get_card", "update_card", "card_history"):
        assert name in models.__all__
        assert f"`{name}(" in text, name
    app = typer.Typer()
    register(app)
    for command in app.registered_commands:
        assert f"loopline models {command.name} " in text, command.name
