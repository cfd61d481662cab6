"""``loopline users`` and ``loopline tokens`` on a local store and on a server, and
``loopline server --auth`` as a real process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from loopline.audit import AuditLog
from loopline.cli.main import app
from loopline.client.environment import os_user
from loopline.store import SqlTrackingStore

Invoke = Callable[..., Result]
AuthServer = Any  # the conftest's server: url, tokens, headers(user), auth


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("LOOPLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return str(tmp_path / "store")


@pytest.fixture
def invoke(store: str) -> Invoke:
    """``loopline <args> --uri <store>`` in-process (``uri=`` names another store or server)."""
    runner = CliRunner()

    def run(*args: str, uri: str | None = None) -> Result:
        return runner.invoke(app, [*args, "--uri", uri or store], catch_exceptions=False)

    return run


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_users_on_a_local_store_act_as_the_os_user(invoke: Invoke, store: str) -> None:
    created = _json(invoke("users", "create", "ana", "--role", "approver", "--json"))
    assert created == {**created, "name": "ana", "role": "approver", "created_by": os_user()}
    invoke("users", "create", "bob", "--role", "EDITOR")
    listed = _json(invoke("users", "list", "--json"))
    assert [(u["name"], u["role"]) for u in listed["users"]] == [("ana", "approver"),
                                                                ("bob", "editor")]  # fmt: skip
    assert "Updated user 'bob': role admin." in invoke("users", "set-role", "bob", "--role",
                                                         "admin").stdout  # fmt: skip
    assert _json(invoke("users", "disable", "ana", "--json"))["disabled"] is True
    table = invoke("users", "list").stdout
    assert "ana" in table
    assert "approver" in table
    assert "yes" in table
    events = AuditLog(SqlTrackingStore(f"sqlite:///{store}/loopline.db")).list()
    assert {e.actor for e in events} == {os_user()}
    assert [e.action for e in events] == ["user.create", "user.create", "user.set_role",
                                          "user.disable"]  # fmt: skip


def test_user_errors_exit_1_or_2_with_a_message(invoke: Invoke) -> None:
    invoke("users", "create", "ana", "--role", "viewer")
    again = invoke("users", "create", "ana", "--role", "admin")
    assert (again.exit_code, again.stderr.strip()) == (
        1,
        "error: A user named 'ana' already exists.",
    )
    bad_name = invoke("users", "create", "a b", "--role", "viewer")
    assert bad_name.exit_code == 1
    assert "'name' parameter" in bad_name.stderr
    bad_role = invoke("users", "create", "bob", "--role", "root")
    assert bad_role.exit_code == 2
    assert "--role" in bad_role.stderr
    missing = invoke("users", "set-role", "ghost", "--role", "viewer")
    assert (missing.exit_code, missing.stderr.strip()) == (1, "error: No user named 'ghost'.")


def test_tokens_are_printed_once_then_listed_and_revoked(invoke: Invoke, store: str) -> None:
    invoke("users", "create", "ana", "--role", "editor")
    created = invoke("tokens", "create", "--user", "ana", "--description", "ci",
                     "--expires-in-days", "30")  # fmt: skip
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("ll_")
    assert "cannot be shown again" in created.stderr
    listed = _json(invoke("tokens", "list", "--json"))["tokens"]
    assert len(listed) == 1
    assert listed[0]["description"] == "ci"
    assert secret not in json.dumps(listed)
    assert listed[0]["expires_at"] - listed[0]["created_at"] == 30 * 86_400_000
    token_id = listed[0]["token_id"]
    assert token_id in invoke("tokens", "list", "--user", "ana").stdout
    revoked = invoke("tokens", "revoke", token_id)
    assert f"Revoked token {token_id} of 'ana'." in revoked.stdout
    assert _json(invoke("tokens", "list", "--json"))["tokens"][0]["revoked_at"] is not None
    unknown = invoke("tokens", "create", "--user", "ghost")
    assert (unknown.exit_code, unknown.stderr.strip()) == (1, "error: No user named 'ghost'.")


def test_cli_over_rest_uses_loopline_token(
    secured: AuthServer, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = invoke("users", "list", uri=secured.url)
    assert refused.exit_code == 1
    assert "No API token was sent" in refused.stderr
    monkeypatch.setenv("LOOPLINE_TOKEN", secured.tokens["editor"])
    denied = invoke("users", "list", uri=secured.url)
    assert denied.exit_code == 1
    assert "needs the 'admin' role" in denied.stderr

    monkeypatch.setenv("LOOPLINE_TOKEN", secured.tokens["admin"])
    created = _json(invoke("users", "create", "cli-user", "--role", "viewer", "--json",
                           uri=secured.url))  # fmt: skip
    assert created["created_by"] == "admin"  # the token's user, not the OS user
    secret = invoke("tokens", "create", "--user", "cli-user", uri=secured.url).stdout.strip()
    whoami = httpx.get(f"{secured.url}/api/whoami", headers={"Authorization": f"Bearer {secret}"})
    assert whoami.json()["name"] == "cli-user"
    invoke("users", "set-role", "cli-user", "--role", "editor", uri=secured.url)
    tokens = _json(invoke("tokens", "list", "--user", "cli-user", "--json", uri=secured.url))
    invoke("tokens", "revoke", tokens["tokens"][0]["token_id"], uri=secured.url)
    again = httpx.get(f"{secured.url}/api/whoami", headers={"Authorization": f"Bearer {secret}"})
    assert again.status_code == 401
    assert _json(invoke("users", "disable", "cli-user", "--json", uri=secured.url))["disabled"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.slow
def test_server_with_auth_hints_at_the_first_admin(tmp_path: Path, invoke: Invoke) -> None:
    executable = shutil.which("loopline")
    assert executable, "the loopline console script is not installed"
    store, port = str(tmp_path / "served"), _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPLINE_")}
    process = subprocess.Popen(
        [executable, "server", "--auth", "--port", str(port), "--uri", store,
         "--log-level", "warning"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert httpx.get(f"{url}/api/experiments").status_code == 401
        invoke("users", "create", "root", "--role", "admin", uri=store)
        secret = invoke("tokens", "create", "--user", "root", uri=store).stdout.strip()
        answer = httpx.get(f"{url}/api/experiments", headers={"Authorization": f"Bearer {secret}"})
        assert answer.status_code == 200
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert "no admin yet" in out, out + err
    assert "loopline users create NAME --role admin" in out
    assert "tokens required" in out
