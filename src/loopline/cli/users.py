"""``loopline users ...``: create users, list them, change their role, disable them.

On a local store (a folder or a database URL) the commands act as the OS user, as every CLI
command records it; on a server (an http(s) URI) they go through its admin REST routes with
``LOOPLINE_TOKEN`` and the server records the token's user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from loopline.cli import JsonOption, PageTokenOption, UriOption, open_client, render
from loopline.entities.auth import Role, User

if TYPE_CHECKING:
    from loopline.auth import AuthService
    from loopline.client.remote_auth import RemoteAuth

__all__ = ["app", "cli_actor", "open_auth"]

app = typer.Typer(help="Users and their roles (viewer < editor < approver < admin).",
                  no_args_is_help=True)  # fmt: skip

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The user's name.")]
RoleOption = Annotated[
    Role, typer.Option("--role", help="viewer, editor, approver or admin.", case_sensitive=False)
]


def open_auth(uri: str | None) -> AuthService | RemoteAuth:
    """The auth service of the local store at ``uri``, or the admin API of the server there."""
    from loopline.tracking.service import TrackingService

    backend = open_client(uri).backend
    if isinstance(backend, TrackingService):
        from loopline.audit import AuditLog
        from loopline.auth import AuthService

        return AuthService(backend.store, AuditLog(backend.store))
    from loopline.client.remote_auth import RemoteAuth

    return RemoteAuth(backend)


def cli_actor() -> str:
    """Who acts on a local store: the OS user (a server records the token's user instead)."""
    from loopline.client.environment import os_user

    return os_user()


def _user_json(user: User) -> dict[str, object]:
    return {"name": user.name, "role": user.role.value, "created_by": user.created_by,
            "created_at": user.created_at, "disabled": user.disabled}  # fmt: skip


def _show(user: User, as_json: bool, verb: str) -> None:
    if as_json:
        render.print_json(_user_json(user))
    else:
        state = " (disabled)" if user.disabled else ""
        render.console().print(f"{verb} user {user.name!r}: role {user.role.value}{state}.")


@app.command("create")
def create(
    name: NameArgument, role: RoleOption, uri: UriOption = None, as_json: JsonOption = False
) -> None:
    """Create a user with a role (then `loopline tokens create --user NAME`)."""
    _show(open_auth(uri).create_user(name, role, actor=cli_actor()), as_json, "Created")


@app.command("list")
def list_users(
    max_results: Annotated[
        int | None, typer.Option(metavar="N", help="Page size (default 100).")
    ] = None,
    page_token: PageTokenOption = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """List users by name, one page."""
    page = open_auth(uri).list_users(max_results=max_results, page_token=page_token)
    if as_json:
        render.print_json({"users": [_user_json(u) for u in page], "next_token": page.next_token})
        return
    table = Table("name", "role", "disabled", "created", "created by")
    for u in page:
        table.add_row(u.name, u.role.value, "yes" if u.disabled else "",
                      render.fmt_time(u.created_at), u.created_by)  # fmt: skip
    render.console().print(table)
    render.print_next_page(page.next_token)


@app.command("set-role")
def set_role(
    name: NameArgument, role: RoleOption, uri: UriOption = None, as_json: JsonOption = False
) -> None:
    """Give a user another role."""
    _show(open_auth(uri).set_role(name, role, actor=cli_actor()), as_json, "Updated")


@app.command("disable")
def disable(name: NameArgument, uri: UriOption = None, as_json: JsonOption = False) -> None:
    """Disable a user: every token of theirs stops working at once."""
    _show(open_auth(uri).disable_user(name, actor=cli_actor()), as_json, "Disabled")
