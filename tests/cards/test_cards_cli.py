"""``loopline models card|card-edit|card-history`` on a local store."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import loopline
from loopline.cli.main import app

Invoke = Callable[..., Result]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A local store holding ``tiny`` v1, a registered LogisticRegression."""
    from sklearn.linear_model import LogisticRegression

    for name in list(os.environ):
        if name.startswith("LOOPLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    folder = str(tmp_path / "store")
    loopline.set_uri(folder)
    with loopline.start_run():
        loopline.log_model(LogisticRegression().fit([[0], [1]], [0, 1]), "model",
                           registered_model_name="tiny")  # fmt: skip
    loopline.set_uri(None)
    return folder


@pytest.fixture
def invoke(store: str) -> Invoke:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, ["models", *args, "--uri", store], catch_exceptions=False)

    return run


def test_edit_then_render_in_every_format(invoke: Invoke, tmp_path: Path) -> None:
    edited = invoke("card-edit", "tiny", "1", "--section", "intended_use", "--text", "Demo <b>")
    sections = tmp_path / "sections.yaml"
    sections.write_text("factors: |\n  Age and region.\ncaveats_and_recommendations: Small data.\n")
    from_file = invoke("card-edit", "tiny", "1", "--from-file", str(sections),
                       "--expected-revision", "1", "--json")  # fmt: skip

    assert edited.exit_code == 0, edited.output
    assert "revision 1 (intended_use)" in edited.stdout
    assert from_file.exit_code == 0, from_file.output
    assert json.loads(from_file.stdout)["revision"] == 2
    markdown = invoke("card", "tiny", "1")
    assert markdown.exit_code == 0
    assert "## Intended use\n\nDemo &lt;b>" in markdown.stdout
    assert "Age and region." in markdown.stdout
    out = tmp_path / "card.html"
    written = invoke("card", "tiny", "1", "--format", "html", "--output", str(out))
    assert written.exit_code == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "Demo &lt;b&gt;" in page
    data = json.loads(invoke("card", "tiny", "1", "--format", "json").stdout)
    assert list(data["sections"]) == ["intended_use", "factors", "caveats_and_recommendations"]
    older = invoke("card", "tiny", "1", "--revision", "1")
    assert "Age and region." not in older.stdout
    history = invoke("card-history", "tiny", "1", "--json")
    assert [r["revision"] for r in json.loads(history.stdout)] == [1, 2]
    table = invoke("card-history", "tiny", "1")
    assert "intended_use, factors" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("card-edit", "tiny", "1", "--section", "purpose", "--text", "x"),
         "Unknown model card section(s) ['purpose']"),
        (("card-edit", "tiny", "1", "--section", "factors", "--text", "x",
          "--expected-revision", "3"), "not the expected revision 3"),
        (("card", "tiny", "2"), "has no version 2"),
        (("card", "tiny", "1", "--format", "pdf"), "must be one of ['markdown', 'html']"),
    ],
)  # fmt: skip
def test_errors_exit_1_with_the_message_and_store_nothing(
    invoke: Invoke, args: tuple[str, ...], message: str
) -> None:
    result = invoke(*args)

    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())
    assert json.loads(invoke("card-history", "tiny", "1", "--json").stdout) == []


def test_usage_errors_exit_2(invoke: Invoke, tmp_path: Path) -> None:
    both = invoke("card-edit", "tiny", "1", "--section", "factors", "--text", "x",
                  "--from-file", "f.json")  # fmt: skip
    no_text = invoke("card-edit", "tiny", "1", "--section", "factors")
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    not_mapping = invoke("card-edit", "tiny", "1", "--from-file", str(bad))

    assert (both.exit_code, no_text.exit_code) == (2, 2)
    assert not_mapping.exit_code == 1
    assert "must hold a mapping of section names to text" in not_mapping.stderr
