"""``loopline approvals list|approve|reject``: review model versions pending approval.

Each command is one call on ``Client.release`` (a local store or a server alike). Against a
server with auth on, deciding needs a token (``LOOPLINE_TOKEN``) of a user with the approver
role, and the release service refuses the version's registrant and the author of its run; on a
local store the actor is the OS user, whom nobody verified.
"""

from __future__ import annotations

from dataclasses import asdict

import typer
from rich.table import Table

from loopline.cli import JsonOption, UriOption, render
from loopline.cli.release import Name, Reason, Version, release_service

__all__ = ["app"]

app = typer.Typer(help="Approve or reject model versions pending approval.", no_args_is_help=True)


def _decide(
    decision: str, name: str, version: int, reason: str, uri: str | None, json_output: bool
) -> None:
    from loopline.client.environment import os_user

    service = release_service(uri)
    act = service.approve if decision == "approve" else service.reject
    approval = act(name, version, actor=os_user(), reason=reason)
    if json_output:
        render.print_json(asdict(approval))
        return
    status = service.registry.get_model_version(name, version).status.value
    done = {"approve": "approved", "reject": "rejected"}[decision]
    render.console().print(
        f"{approval.approver} {done} {name} v{version} (approval {approval.id}); the version "
        f"is {status}.",
        soft_wrap=True,
        markup=False,
    )


@app.command("list")
def list_approvals(
    name: Name, version: Version, uri: UriOption = None, json_output: JsonOption = False
) -> None:
    """A version's decisions, oldest first, each marked valid or void (and why)."""
    found = release_service(uri).list_approvals(name, version)
    if json_output:
        render.print_json([asdict(a) for a in found])
        return
    table = Table("id", "approver", "decision", "valid", "at", "reason")
    for a in found:
        valid = "yes" if a.valid else f"void: {a.void_reason}"
        table.add_row(str(a.id), a.approver, a.decision, valid, render.fmt_time(a.at), a.reason)
    render.console().print(table)


@app.command("approve")
def approve(
    name: Name, version: Version, reason: Reason, uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:  # fmt: skip
    """Approve a pending version; it is approved once the policy's count is reached."""
    _decide("approve", name, version, reason, uri, json_output)


@app.command("reject")
def reject(
    name: Name, version: Version, reason: Reason, uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:  # fmt: skip
    """Reject a pending version: it becomes rejected at once."""
    _decide("reject", name, version, reason, uri, json_output)
