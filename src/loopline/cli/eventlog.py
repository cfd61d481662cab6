"""``loopline eventlog``: maintenance of the prediction and outcome log on this machine.

The commands work on the event log folder itself (``--root``, else LOOPLINE_EVENTLOG_ROOT, else
the one beside the local ``--uri`` store), so they run where the files are, not over a server.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from loopline.cli import JsonOption, UriOption, render
from loopline.errors import InvalidArgumentError

__all__ = ["app", "compact"]

app = typer.Typer(help="The prediction and outcome log (event log).", no_args_is_help=True)


def _root(root: Path | None, uri: str | None) -> Path:
    from loopline.config import Settings, is_remote_uri

    if root is None:
        settings = Settings() if uri is None else Settings(uri=uri)
        if settings.eventlog_root is None and is_remote_uri(settings.uri):
            raise InvalidArgumentError(
                "The event log of a server is compacted where its files are: pass --root or "
                "set LOOPLINE_EVENTLOG_ROOT.",
                field="root",
            )
        root = settings.resolved_eventlog_root()
    if not root.is_dir():
        raise InvalidArgumentError(
            f"The event log folder must exist. Got {str(root)!r} instead.", field="root"
        )
    return root


@app.command("compact")
def compact(
    table: Annotated[
        str | None,
        typer.Option("--table", metavar="TABLE", help="predictions or outcomes (default: both)."),
    ] = None,
    older_than: Annotated[
        str,
        typer.Option("--older-than", metavar="AGE", help="Merge segments this old: 30m, 1h, 2d."),
    ] = "1h",
    target_rows: Annotated[
        int, typer.Option("--target-rows", metavar="N", help="Rows per compacted file, at most.")
    ] = 1_000_000,
    root: Annotated[
        Path | None,
        typer.Option("--root", metavar="DIR", help="Event log folder (default: the store's)."),
    ] = None,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """Merge each partition's small segments into Parquet files of up to N rows."""
    from loopline.eventlog import EventLog

    log = EventLog(_root(root, uri))
    summary = log.compact(cast(Any, table), older_than=older_than, target_rows=target_rows)
    if json_output:
        render.print_json({**asdict(summary), "seconds": round(summary.seconds, 3)})
        return
    typer.echo(str(summary))
