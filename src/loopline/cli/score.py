"""``loopline score`` and ``loopline rescore``: bulk scoring from the command line.

Each command is one call of :mod:`loopline.scoring` over the ``--uri`` store; the progress bar
goes to stderr, a summary (or ``--json``) to stdout; a refused run exits 1 with its message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from loopline.cli import JsonOption, UriOption, open_client, render

__all__ = ["rescore", "score"]

PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", metavar="FILE", help="A decision policy: .yaml, .yml or .json."),
]
DeploymentOption = Annotated[
    str | None,
    typer.Option(
        "--deployment",
        metavar="NAME",
        help="Log under this deployment (default batch:<model>), with its policy unless --policy.",
    ),
]
ChunkOption = Annotated[int, typer.Option("--chunk-size", metavar="N", help="Rows per chunk.")]
DaskOption = Annotated[
    str | None,
    typer.Option(
        "--dask",
        metavar="ADDRESS",
        help="Run the chunks on this Dask scheduler (default: LOOPLINE_DASK_ADDRESS).",
    ),
]
NoLogOption = Annotated[
    bool, typer.Option("--no-log", help="Do not log the predictions to the event log.")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def _run(uri: str | None, log: bool, dask: str | None) -> tuple[Any, str | None]:
    from loopline.client.scoring import services_for

    client = open_client(uri)
    return services_for(client, log=log), dask or client.settings.dask_address


def score(
    model_uri: Annotated[str, typer.Argument(metavar="MODEL_URI", help="models:/name@alias.")],
    input: Annotated[
        str, typer.Argument(metavar="INPUT", help="Parquet file/folder, .csv, sql://URL?table=T")
    ],
    output: Annotated[
        str, typer.Argument(metavar="OUTPUT", help="Parquet file (.parquet), folder, or sql://")
    ],
    policy: PolicyOption = None,
    deployment: DeploymentOption = None,
    chunk_size: ChunkOption = 100_000,
    dask: DaskOption = None,
    no_log: NoLogOption = False,
    key_column: Annotated[
        str | None,
        typer.Option("--key-column", metavar="COL", help="Copied to the output; request key."),
    ] = None,
    keep: Annotated[
        list[str] | None,
        typer.Option("--keep", metavar="COL", help="Input column copied to the output; 'all'."),
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the output.")] = False,
    quiet: QuietOption = False,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """Score INPUT with a registered model in chunks, decide, log, and write OUTPUT."""
    from loopline.scoring import score as run

    services, address = _run(uri, not no_log, dask)
    keep_columns: Any = "all" if keep == ["all"] else keep
    summary = run(
        services, model_uri, input, output, policy=policy, deployment=deployment,
        chunk_size=chunk_size, log=not no_log, dask_address=address, progress=not quiet,
        key_column=key_column, keep_columns=keep_columns, overwrite=overwrite,
    )  # fmt: skip
    data = {
        "output": summary.output, "model": summary.model_name,
        "model_version": summary.model_version, "deployment": summary.deployment,
        "rows": summary.rows, "logged": summary.logged, "chunks": summary.chunks,
        "seconds": round(summary.seconds, 3),
        "rows_per_second": round(summary.rows_per_second, 1),
    }  # fmt: skip
    if json_output:
        render.print_json(data)
        return
    typer.echo(
        f"Scored {summary.rows} rows with {summary.model_name} v{summary.model_version} into "
        f"{summary.output} ({summary.rows_per_second:,.0f} rows/s); logged {summary.logged} "
        f"under {summary.deployment}."
    )


def rescore(
    target: Annotated[
        str, typer.Argument(metavar="DEPLOYMENT", help="A deployment name or models:/ URI.")
    ],
    since: Annotated[
        str | None, typer.Option("--since", metavar="TIME", help="ISO date or time (UTC).")
    ] = None,
    policy: PolicyOption = None,
    chunk_size: ChunkOption = 100_000,
    dask: DaskOption = None,
    no_log: NoLogOption = False,
    quiet: QuietOption = False,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """Rescore the predictions of DEPLOYMENT that have no outcome yet, with its current model."""
    from loopline.scoring import rescore as run

    services, address = _run(uri, not no_log, dask)
    table = run(
        services, target, since=since, policy=policy, chunk_size=chunk_size, log=not no_log,
        dask_address=address, progress=not quiet,
    )  # fmt: skip
    changed = sum(1 for c in table.column("changed").to_pylist() if c)
    if json_output:
        render.print_json({"rescored": table.num_rows, "changed": changed})
        return
    typer.echo(f"Rescored {table.num_rows} open predictions of {target}; {changed} changed action.")
