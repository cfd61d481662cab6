"""``loopline audit ...``: verify the audit log's hash chain, list its events, show its head.

``verify`` exits 0 when the chain is intact and 1 when it is broken, naming the first broken
entry. The commands work on a local store (a folder or a database URL); a server has no audit
API yet.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from loopline.cli import JsonOption, PageTokenOption, UriOption, open_client, render
from loopline.errors import InvalidArgumentError

if TYPE_CHECKING:
    from loopline.audit import AuditLog

__all__ = ["app", "open_audit_log", "parse_time"]

app = typer.Typer(help="Verify and read the hash-chained audit log.", no_args_is_help=True)

TimeOption = Annotated[
    str | None,
    typer.Option(metavar="TIME", help="Epoch milliseconds or ISO 8601 (naive is local time)."),
]


def open_audit_log(uri: str | None) -> AuditLog:
    """The audit log of the local store at ``uri`` (or where the settings point)."""
    from loopline.audit import AuditLog
    from loopline.tracking.service import TrackingService

    backend = open_client(uri).backend
    if not isinstance(backend, TrackingService):
        raise InvalidArgumentError(
            "loopline audit needs a local store (a folder or a database URL); the server has no "
            "audit API yet.",
            field="uri",
        )
    return AuditLog(backend.store)


def parse_time(value: str | None, option: str) -> int | None:
    """``--since``/``--until`` as epoch milliseconds; a bad value is a usage error (exit 2)."""
    if value is None:
        return None
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        return int(datetime.fromisoformat(value).timestamp() * 1000)
    except ValueError:
        raise typer.BadParameter(
            f"expected epoch milliseconds or an ISO 8601 time, got {value!r}", param_hint=option
        ) from None


def parse_anchor(value: str | None) -> tuple[int, str] | None:
    """``--anchor SEQ:HASH`` as ``(seq, hash)``."""
    if value is None:
        return None
    seq, sep, digest = value.partition(":")
    if not sep or not seq.isdigit() or not digest:
        raise typer.BadParameter(f"expected SEQ:HASH, got {value!r}", param_hint="--anchor")
    return int(seq), digest


@app.command("verify")
def verify(
    anchor: Annotated[
        str | None,
        typer.Option(metavar="SEQ:HASH", help="A head kept elsewhere (`loopline audit head`)."),
    ] = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the hash chain; exit 1 and name the first broken entry if it is broken."""
    result = open_audit_log(uri).verify(anchor=parse_anchor(anchor))
    if as_json:
        render.print_json(asdict(result))
    elif result.ok:
        render.console().print(f"Audit log intact: {result.checked} entries verified.")
    else:
        render.print_error(f"audit log broken at entry {result.first_broken}: {result.reason}")
    if not result.ok:
        raise typer.Exit(1)


@app.command("head")
def head(uri: UriOption = None, as_json: JsonOption = False) -> None:
    """Print the last entry's SEQ:HASH, to keep elsewhere and pass to `verify --anchor`."""
    found = open_audit_log(uri).head()
    if as_json:
        render.print_json(None if found is None else {"seq": found[0], "hash": found[1]})
    elif found is None:
        render.console().print("The audit log is empty.")
    else:
        typer.echo(f"{found[0]}:{found[1]}")


@app.command("list")
def list_events(
    object_type: Annotated[str | None, typer.Option(metavar="TYPE", help="Object type.")] = None,
    object_id: Annotated[str | None, typer.Option(metavar="ID", help="Object id.")] = None,
    actor: Annotated[str | None, typer.Option(metavar="ACTOR", help="Who acted.")] = None,
    since: TimeOption = None,
    until: TimeOption = None,
    max_results: Annotated[
        int | None, typer.Option(metavar="N", help="Page size (default 100).")
    ] = None,
    page_token: PageTokenOption = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """List audit events oldest first, one page; --until is exclusive."""
    page = open_audit_log(uri).list(
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        since=parse_time(since, "--since"),
        until=parse_time(until, "--until"),
        max_results=max_results,
        page_token=page_token,
    )
    if as_json:
        render.print_json({"events": [asdict(e) for e in page], "next_token": page.next_token})
        return
    table = Table("seq", "at", "actor", "action", "object", "details")
    for e in page:
        details = json.dumps(e.details, sort_keys=True, ensure_ascii=False)
        table.add_row(str(e.seq), render.fmt_time(e.at), e.actor, e.action,
                      f"{e.object_type}/{e.object_id}", details)  # fmt: skip
    render.console().print(table)
    render.print_next_page(page.next_token)
