"""docs/release-api.md names every release route, SDK function and CLI command."""

from __future__ import annotations

from pathlib import Path

from loopline.cli import approvals, release
from loopline.server.routes.release import router

DOC = (Path(__file__).parents[2] / "docs" / "release-api.md").read_text()


def test_every_route_is_documented() -> None:
    routes = [(method, route.path) for route in router.routes for method in route.methods]
    assert len(routes) == 14
    for method, path in routes:
        assert f"`{method} {path.replace('{name:path}', '{name}')}`" in DOC, (method, path)


def test_every_command_and_sdk_function_is_documented() -> None:
    import typer

    models = typer.Typer()
    release.register(models)
    commands = [f"loopline models {c.name}" for c in models.registered_commands]
    commands += [f"loopline models policy {c.name}" for c in release.policy_app.registered_commands]
    commands += [f"loopline approvals {c.name}" for c in approvals.app.registered_commands]
    assert len(commands) == 14
    for command in commands:
        assert command in DOC, command
    for function in ("get_policy", "set_policy", "gates", "validate", "request_approval",
                     "approve", "reject", "approvals", "promote", "rollback", "retire",
                     "history"):  # fmt: skip
        assert f"`{function}(" in DOC, function
