"""The example of docs/registry.md runs and prints what it claims."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "registry.md"
REGISTRY_FUNCTIONS = (
    "delete_alias", "delete_model", "delete_version", "get", "get_version", "register", "resolve",
    "search", "search_versions", "set_alias", "set_tags", "training_profile", "update", "versions",
)  # fmt: skip


def test_the_registry_doc_example_runs(tmp_path: Path) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPLINE_")}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "models:/team/churn/1 sklearn True",
        "['team/churn']",
        "['models:/team/churn/1']",
        "1",
        "datasets:/customers/1 ['age', 'debt', 'paid']",
        "[1, 0, 1, 0]",
    ]


def test_every_sdk_function_and_cli_command_is_documented() -> None:
    from loopline.cli.models import alias_app, app
    from loopline.client import models

    text = DOC.read_text()
    for name in REGISTRY_FUNCTIONS:  # cards and release document theirs in their own pages
        assert name in models.__all__, name
        assert f"`{name}" in text, name
    own = [c for c in app.registered_commands if c.callback.__module__ == "loopline.cli.models"]
    commands = [c.name for c in own] + ["alias set", "alias delete"]
    assert len(commands) == 11
    for command in commands:
        assert f"loopline models {command}" in text, command
    assert {c.name for c in alias_app.registered_commands} == {"set", "delete"}
