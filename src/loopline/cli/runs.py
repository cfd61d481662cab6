"""``loopline runs ...``: search, show, compare, delete and restore runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from loopline.cli import JsonOption, PageTokenOption, UriOption, open_client, render
from loopline.entities import Run, ViewType
from loopline.filters import parse_order_by
from loopline.wire import encode_file_info, encode_float, encode_run, encode_run_input

__all__ = ["app", "compare_data"]

app = typer.Typer(help="Search, show, compare and delete runs.", no_args_is_help=True)

RunIdsArgument = Annotated[
    list[str], typer.Argument(metavar="RUN_ID...", help="One or more run ids.", show_default=False)
]
_DIFF_STYLE = "bold yellow"


@app.command("list")
def list_runs(
    experiment: Annotated[
        list[str] | None,
        typer.Option(
            "--experiment",
            "-e",
            metavar="NAME_OR_ID",
            help="Experiment name or id; repeat for more. Default: the Default experiment.",
        ),
    ] = None,
    filter: Annotated[
        str | None,
        typer.Option(metavar="EXPR", help="e.g. \"metrics.auc > 0.8 and params.model = 'rf'\"."),
    ] = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option(metavar="KEY", help="e.g. 'metrics.auc DESC'; repeat for tie-breakers."),
    ] = None,
    max_results: Annotated[
        int | None, typer.Option(metavar="N", help="Page size (default 1000).")
    ] = None,
    page_token: PageTokenOption = None,
    view: Annotated[ViewType, typer.Option(help="Which lifecycle stages to list.")] = (
        ViewType.ACTIVE_ONLY
    ),
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search the runs of experiments, one page."""
    page = open_client(uri).search_runs(
        experiment or None,
        filter=filter,
        order_by=order_by or (),
        view=view,
        max_results=max_results,
        page_token=page_token,
    )
    if as_json:
        render.print_json({"runs": [encode_run(r) for r in page], "next_token": page.next_token})
        return
    ordered = [k.key for k in parse_order_by(order_by or []) if k.entity == "metric"]
    render.console().print(render.runs_table(page, preferred_metrics=ordered))
    render.print_next_page(page.next_token)


@app.command("get")
def get_run(
    run_id: Annotated[
        str, typer.Argument(metavar="RUN_ID", help="The run id.", show_default=False)
    ],
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a run: info, params, latest metrics, tags, artifacts and the datasets it read."""
    client = open_client(uri)
    run = client.get_run(run_id)
    artifacts = client.list_artifacts(run_id)
    inputs = client.datasets.run_inputs(run_id)
    if as_json:
        render.print_json(
            encode_run(run)
            | {"artifacts": [encode_file_info(f) for f in artifacts]}
            | {"inputs": [encode_run_input(i) for i in inputs]}
        )
        return
    out = render.console()
    for table in render.run_tables(run, artifacts, inputs):
        out.print(table)


def _rows(values: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per key found in any run: its value in each run (None when missing)."""
    keys = sorted({key for mapping in values for key in mapping})
    rows = []
    for key in keys:
        cells = [mapping.get(key) for mapping in values]
        rows.append({"key": key, "values": cells, "differs": len(set(cells)) > 1})
    return rows


def compare_data(runs: Sequence[Run]) -> dict[str, Any]:
    """Runs side by side, JSON-ready: params and metrics as rows, one value per run, in order."""
    metrics = [{k: encode_float(v) for k, v in r.data.metrics.items()} for r in runs]
    return {
        "runs": [
            {"run_id": r.id, "run_name": r.name, "status": r.status.value,
             "experiment_id": r.info.experiment_id}
            for r in runs
        ],
        "params": _rows([dict(r.data.params) for r in runs]),
        "metrics": _rows(metrics),
    }  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else render.fmt_value(value)


def compare_table(data: dict[str, Any]) -> Table:
    """Rows are params and metrics, columns are runs; rows whose values differ stand out."""
    table = Table("", title="Run comparison (differing values highlighted)", title_justify="left")
    for run in data["runs"]:
        table.add_column(Text(f"{run['run_name']}\n{run['run_id']}"), overflow="fold")
    for section in ("params", "metrics"):
        table.add_section()
        table.add_row(Text(section, style="bold underline"), *[""] * len(data["runs"]))
        for row in data[section]:
            style = _DIFF_STYLE if row["differs"] else ""
            table.add_row(
                Text(row["key"], style=style), *[Text(_cell(v), style=style) for v in row["values"]]
            )
    return table


@app.command("compare")
def compare_runs(
    run_ids: RunIdsArgument, uri: UriOption = None, as_json: JsonOption = False
) -> None:
    """Compare 2 or more runs side by side: params and metrics as rows, runs as columns."""
    if len(run_ids) < 2:
        raise typer.BadParameter("give at least 2 run ids to compare", param_hint="RUN_ID...")
    client = open_client(uri)
    data = compare_data([client.get_run(run_id) for run_id in run_ids])
    if as_json:
        render.print_json(data)
        return
    render.console().print(compare_table(data))


@app.command("delete")
def delete_runs(run_ids: RunIdsArgument, uri: UriOption = None) -> None:
    """Soft-delete runs (hidden from default listings; `restore` brings them back)."""
    client = open_client(uri)
    for run_id in run_ids:
        client.delete_run(run_id)
        render.console().print(f"Deleted run {run_id}.")


@app.command("restore")
def restore_runs(run_ids: RunIdsArgument, uri: UriOption = None) -> None:
    """Restore deleted runs."""
    client = open_client(uri)
    for run_id in run_ids:
        client.restore_run(run_id)
        render.console().print(f"Restored run {run_id}.")
