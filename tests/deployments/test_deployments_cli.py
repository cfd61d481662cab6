"""``loopline deployments ...`` against a local store: every command, --json, policy files,
and errors as exit code 1 with the message."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import loopline
from loopline.cli.main import app
from loopline.registry import RegistryService


@pytest.fixture
def run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    registrar: Callable[[Any, RegistryService, Path], None],
) -> Callable[..., Result]:
    for name in list(os.environ):
        if name.startswith("LOOPLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    store = str(tmp_path / "store")
    registry = loopline.Client(store).registry
    registrar(registry.store, registry, tmp_path)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["deployments", *args, "--uri", store], catch_exceptions=False)

    return invoke


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_command(run: Callable[..., Result], tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: churn\n", encoding="utf-8")
    canary = ["--challenger", "models:/churn@challenger", "--mode", "canary", "--share", "0.25",
              "--sticky-key", "customer_id"]  # fmt: skip
    made = _json(run("create", "churn-api", "models:/churn@champion", "--policy", str(policy),
                     *canary, "--tag", "team=risk", "--json"))  # fmt: skip
    assert made["revision"] == 1
    assert made["policy"]["name"] == "churn"
    assert made["challenger"] == {"model_uri": "models:/churn@challenger", "mode": "canary",
                                  "share": 0.25, "sticky_key": "customer_id"}  # fmt: skip
    assert made["tags"] == {"team": "risk"}
    shown = run("get", "churn-api")
    assert shown.exit_code == 0
    assert "models:/churn@champion" in shown.stdout
    assert "canary" in shown.stdout
    updated = _json(run("update", "churn-api", "--logging", "durable", "--no-challenger",
                        "--reason", "canary done", "--expected-revision", "1",
                        "--json"))  # fmt: skip
    assert (updated["revision"], updated["logging"], updated["challenger"]) == (2, "durable", None)
    assert updated["policy"]["name"] == "churn"  # kept
    assert _json(run("kill", "churn-api", "--reason", "drift", "--json"))["enabled"] is False
    listed = run("list")
    assert "killed" in listed.stdout
    assert _json(run("enable", "churn-api", "--json"))["kill_reason"] is None
    revisions = _json(run("revisions", "churn-api", "--json"))
    assert [(r["revision"], r["reason"]) for r in revisions] == [
        (1, None), (2, "canary done"), (3, "drift"), (4, None),
    ]  # fmt: skip
    assert _json(run("get", "churn-api", "--revision", "1", "--json"))["logging"] == "async"
    assert [d["name"] for d in _json(run("list", "--json"))["deployments"]] == ["churn-api"]
    assert run("delete", "churn-api").exit_code == 0
    assert _json(run("list", "--json"))["deployments"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "d", "models:/churn/9"), "has no version 9"),
        (("create", "d", "models:/churn@champion", "--logging", "loud"), "one of off, async"),
        (("create", "d", "models:/churn@champion", "--challenger", "models:/churn/2", "--mode",
          "canary"), "challenger.share"),
        (("create", "d/x", "models:/churn@champion"), "'name' parameter"),
        (("get", "ghost"), "No deployment named 'ghost'"),
        (("kill", "ghost", "--reason", "x"), "No deployment named 'ghost'"),
        (("create", "d", "models:/churn@champion", "--policy", "missing.yaml"), "Cannot read"),
    ],
)  # fmt: skip
def test_errors_exit_1_with_the_message(
    run: Callable[..., Result], args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output
    assert _json(run("list", "--json"))["deployments"] == []


def test_stale_expected_revision_and_bad_policy_files(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    assert run("create", "d", "models:/churn@champion").exit_code == 0
    run("update", "d", "--logging", "off")
    stale = run("update", "d", "--logging", "durable", "--expected-revision", "1")
    assert stale.exit_code == 1
    assert "not the expected revision 1" in stale.stderr
    broken = tmp_path / "p.json"
    broken.write_text("{nope", encoding="utf-8")
    assert "not valid JSON" in run("update", "d", "--policy", str(broken)).stderr
    listed = tmp_path / "l.yaml"
    listed.write_text("- a\n", encoding="utf-8")
    assert "must hold a decision policy" in run("update", "d", "--policy", str(listed)).stderr
    assert run("update", "d", "--mode", "shadow").exit_code == 2  # usage error
    assert _json(run("get", "d", "--json"))["revision"] == 2


def test_docs_name_every_route_command_and_sdk_function() -> None:
    from loopline.cli.deployments import app as cli
    from loopline.client import deployments
    from loopline.server.routes.deployments import router

    doc = (Path(__file__).parents[2] / "docs" / "deployments.md").read_text(encoding="utf-8")
    routes = [(m, r.path) for r in router.routes for m in r.methods]  # type: ignore[attr-defined]
    assert len(routes) == 9
    for method, path in routes:
        assert f"`{method} {path}`" in doc, (method, path)
    for command in cli.registered_commands:
        assert f"loopline deployments {command.name}" in doc, command.name
    for function in deployments.__all__:
        assert f"`{function}(`" in doc, function
