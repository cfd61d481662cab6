"""How the CLI shows things: rich tables for people, JSON for scripts, one error line.

JSON output reuses :mod:`loopline.wire`'s encoders, so its keys are the REST API's keys and
non-finite metric values travel as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loopline.entities import Experiment, FileInfo, Run, RunInput

__all__ = [
    "console",
    "experiment_table",
    "experiments_table",
    "fmt_duration",
    "fmt_time",
    "fmt_value",
    "print_error",
    "print_json",
    "print_next_page",
    "run_tables",
    "runs_table",
]

_PIPE_WIDTH = 200  # wide enough that ids are never cut when the output is not a terminal
MAX_METRIC_COLUMNS = 4


def console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr): no markup, so names print as given; wide when piped."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else _PIPE_WIDTH
    return Console(stderr=stderr, highlight=False, markup=False, width=width)


def print_json(data: Any) -> None:
    """Print strict JSON (``allow_nan=False``: encode non-finite numbers before)."""
    typer.echo(json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False))


def print_error(message: str) -> None:
    """``error: <message>`` on stderr, the one shape every failed command ends with."""
    console(stderr=True).print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)


def print_next_page(token: str | None) -> None:
    """Tell how to get the next page, if there is one."""
    if token:
        console().print(
            Text(f"More results: add --page-token {token}", style="dim"), soft_wrap=True
        )


def fmt_value(value: float | None) -> str:
    """A metric value for people: 6 significant digits, NaN/Infinity as in the JSON output."""
    if value is None:
        return "-"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return f"{value:.6g}"


def fmt_time(ms: int | None) -> str:
    """Milliseconds since the epoch as local time, to the second."""
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(start: int, end: int | None) -> str:
    """How long a run took (``-`` while it runs)."""
    if end is None:
        return "-"
    seconds = max(end - start, 0) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _key_value_table(title: str, rows: Iterable[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    if not table.rows:
        table.add_row(Text("(none)", style="dim"), "")
    return table


def experiments_table(experiments: Sequence[Experiment]) -> Table:
    """One row per experiment."""
    table = Table("id", "name", "stage", "created", "tags")
    for exp in experiments:
        tags = ", ".join(f"{k}={v}" for k, v in sorted(exp.tags.items()))
        table.add_row(
            exp.experiment_id,
            exp.name,
            exp.lifecycle_stage.value,
            fmt_time(exp.creation_time),
            tags,
        )
    return table


def experiment_table(exp: Experiment) -> Table:
    """Every attribute and tag of one experiment."""
    rows = [
        ("id", exp.experiment_id),
        ("name", exp.name),
        ("stage", exp.lifecycle_stage.value),
        ("artifact location", exp.artifact_location),
        ("created", fmt_time(exp.creation_time)),
        ("updated", fmt_time(exp.last_update_time)),
    ]
    rows += [(f"tag {k}", v) for k, v in sorted(exp.tags.items())]
    return _key_value_table(f"Experiment {exp.name}", rows)


def _metric_columns(runs: Sequence[Run], preferred: Sequence[str]) -> list[str]:
    """The metrics worth a column: those ordered by first, then the others by name."""
    present = sorted({key for run in runs for key in run.data.metrics})
    first = [key for key in preferred if key in present]
    return (first + [key for key in present if key not in first])[:MAX_METRIC_COLUMNS]


def runs_table(runs: Sequence[Run], *, preferred_metrics: Sequence[str] = ()) -> Table:
    """One row per run with its attributes and a few metrics (``runs get`` shows them all)."""
    metrics = _metric_columns(runs, preferred_metrics)
    table = Table("run id", "name", "status", "started", "duration")
    table.columns[0].no_wrap = True
    for key in metrics:
        table.add_column(key, justify="right")
    for run in runs:
        info = run.info
        name = f"  {info.run_name}" if info.parent_run_id else info.run_name
        cells = [info.run_id, name, info.status.value, fmt_time(info.start_time)]
        cells.append(fmt_duration(info.start_time, info.end_time))
        cells += [fmt_value(run.data.metrics.get(key)) for key in metrics]
        table.add_row(*cells)
    hidden = len({key for run in runs for key in run.data.metrics}) - len(metrics)
    if hidden > 0:
        table.caption = f"{hidden} more metric(s): see `loopline runs get RUN_ID` or --json"
    return table


def run_tables(
    run: Run, artifacts: Sequence[FileInfo], inputs: Sequence[RunInput] = ()
) -> list[Table]:
    """The info, params, latest metrics, tags, top-level artifacts and inputs of one run."""
    info = run.info
    rows = [
        ("run id", info.run_id),
        ("name", info.run_name),
        ("experiment id", info.experiment_id),
        ("status", info.status.value),
        ("stage", info.lifecycle_stage.value),
        ("started", fmt_time(info.start_time)),
        ("ended", fmt_time(info.end_time)),
        ("duration", fmt_duration(info.start_time, info.end_time)),
        ("parent run", info.parent_run_id or "-"),
        ("user", info.user_id or "-"),
        ("artifact uri", info.artifact_uri),
    ]
    data = run.data
    files = [
        (f.path + ("/" if f.is_dir else ""), "" if f.size is None else f"{f.size} bytes")
        for f in artifacts
    ]
    return [
        _key_value_table(f"Run {info.run_name}", rows),
        _key_value_table("Params", sorted(data.params.items())),
        _key_value_table("Metrics", [(k, fmt_value(v)) for k, v in sorted(data.metrics.items())]),
        _key_value_table("Tags", sorted(data.tags.items())),
        _key_value_table("Artifacts", files),
        _key_value_table(
            "Inputs", [(f"datasets:/{i.dataset}/{i.version}", i.context) for i in inputs]
        ),
    ]
