"""docs/policies.md: the YAML and the Python example run, and declare the same policy."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from loopline.policies import DecisionPolicy

DOC = Path(__file__).parents[2] / "docs" / "policies.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_python_example_runs_and_equals_the_yaml_example() -> None:
    (yaml_text,) = _blocks("yaml")
    (python_code,) = _blocks("python")
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(python_code, str(DOC), "exec"), namespace)
    assert out.getvalue() == "True thresholds[0]: score >= 0.8 -> call\n"
    assert namespace["policy"] == DecisionPolicy.from_yaml(yaml_text)


def test_every_operator_and_part_is_documented() -> None:
    from loopline.policies.conditions import OPERATORS
    from loopline.policies.validation import PARTS

    text = DOC.read_text()
    for word in (*OPERATORS, *PARTS):
        assert f"`{word}`" in text, word
