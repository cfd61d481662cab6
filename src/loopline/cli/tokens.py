"""``loopline tokens ...``: create API tokens (shown once), list them, revoke them.

Like ``loopline users``, these work on a local store as the OS user, or on a server through its
admin REST routes with ``LOOPLINE_TOKEN``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from loopline.cli import JsonOption, PageTokenOption, UriOption, render
from loopline.cli.users import cli_actor, open_auth
from loopline.entities.auth import ApiToken

__all__ = ["app"]

app = typer.Typer(help="API tokens: what the SDK and CLI send as LOOPLINE_TOKEN.",
                  no_args_is_help=True)  # fmt: skip


def _token_json(token: ApiToken) -> dict[str, object]:
    return {"token_id": token.token_id, "user": token.user, "description": token.description,
            "created_by": token.created_by, "created_at": token.created_at,
            "expires_at": token.expires_at, "revoked_at": token.revoked_at,
            "last_used_at": token.last_used_at}  # fmt: skip


@app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", metavar="NAME", help="The token's user.")],
    description: Annotated[
        str | None, typer.Option(metavar="TEXT", help="What the token is for.")
    ] = None,
    expires_in_days: Annotated[
        int | None, typer.Option(metavar="DAYS", help="Days until it expires (default: never).")
    ] = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a token for a user and print it, this once: it cannot be shown again."""
    token, secret = open_auth(uri).create_token(
        user, description=description, expires_in_days=expires_in_days, actor=cli_actor()
    )
    if as_json:
        render.print_json({**_token_json(token), "token": secret})
        return
    typer.echo(secret)
    note = render.console(stderr=True)
    note.print(
        f"Token {token.token_id} for {token.user!r}. Store it now: it cannot be shown again "
        "(only its hash is kept). Use it as LOOPLINE_TOKEN.",
        soft_wrap=True,
    )


@app.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option("--user", metavar="NAME", help="One user's.")] = None,
    max_results: Annotated[
        int | None, typer.Option(metavar="N", help="Page size (default 100).")
    ] = None,
    page_token: PageTokenOption = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """List tokens oldest first (never their secrets), one page."""
    page = open_auth(uri).list_tokens(user, max_results=max_results, page_token=page_token)
    if as_json:
        render.print_json({"tokens": [_token_json(t) for t in page],
                           "next_token": page.next_token})  # fmt: skip
        return
    table = Table("token id", "user", "description", "created", "expires", "last used", "revoked")
    for t in page:
        table.add_row(t.token_id, t.user, t.description or "", render.fmt_time(t.created_at),
                      render.fmt_time(t.expires_at), render.fmt_time(t.last_used_at),
                      render.fmt_time(t.revoked_at))  # fmt: skip
    render.console().print(table)
    render.print_next_page(page.next_token)


@app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(metavar="TOKEN_ID", help="The token's id.")],
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a token for good."""
    token = open_auth(uri).revoke_token(token_id, actor=cli_actor())
    if as_json:
        render.print_json(_token_json(token))
    else:
        render.console().print(f"Revoked token {token.token_id} of {token.user!r}.")
