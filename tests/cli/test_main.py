"""The root command: version, help, the global --uri, and the exit-code contract (0 / 1 / 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import typer.main
from typer.testing import Result

import loopline
from loopline.cli.main import LooplineGroup, app

Invoke = Callable[..., Result]


def test_version_prints_the_package_version(invoke: Invoke) -> None:
    result = invoke("version", uri=False)
    assert result.exit_code == 0
    assert result.stdout.strip() == f"loopline {loopline.__version__}"


def test_help_lists_every_command(invoke: Invoke) -> None:
    result = invoke("--help", uri=False)
    assert result.exit_code == 0
    for command in ("experiments", "runs", "server", "demo", "version"):
        assert command in result.stdout


def test_no_arguments_shows_help_as_a_usage_error(invoke: Invoke) -> None:
    result = invoke(uri=False)
    assert result.exit_code == 2
    assert "Usage" in result.output


def test_unknown_command_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("bogus", uri=False)
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_unknown_option_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("runs", "list", "--no-such-option")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_a_loopline_error_is_one_line_on_stderr_and_exit_1(invoke: Invoke) -> None:
    result = invoke("runs", "get", "does-not-exist")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "error: No run with id 'does-not-exist'.\n"


def test_the_error_handler_sits_on_the_root_group() -> None:
    """Commands never catch LooplineError themselves: the root group maps it to exit 1."""
    assert isinstance(typer.main.get_command(app), LooplineGroup)


def test_without_uri_the_environment_decides(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("LOOPLINE_HOME", str(home))
    result = invoke("experiments", "create", "from-env", uri=False)
    assert result.exit_code == 0, result.output
    assert (home / "loopline.db").is_file()
    assert loopline.Client(settings=loopline.Settings(home=home)).get_experiment_by_name("from-env")
