"""``loopline datasets ...``: create, list, get, diff and validate dataset versions.

Each command is one call on ``Client.datasets`` (local store or server alike) and a rendering of
its result; ``--json`` prints the REST API's JSON. ``create`` shows a progress bar over the
service's steps (reading, hashing, profiling, writing...) and ``validate`` a spinner, on stderr
and only on a terminal, so stdout stays clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from loopline.cli import JsonOption, PageTokenOption, UriOption, open_client, render
from loopline.cli.experiments import parse_tags
from loopline.entities import DatasetVersion
from loopline.wire import encode_dataset, encode_dataset_version, encode_json

__all__ = ["app"]

app = typer.Typer(help="Version, describe, compare and validate datasets.", no_args_is_help=True)

NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="Dataset name.", show_default=False)
]
VersionOption = Annotated[
    int | None, typer.Option("--version", metavar="N", help="Version (default: the latest).")
]


@contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner, the message and the elapsed time on stderr while the block runs."""
    columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=render.console(stderr=True), transient=True) as progress:
        progress.add_task(message, total=None)
        yield


@contextmanager
def steps_bar(subject: str) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar over the service's steps (reading, hashing, profiling, ...) on stderr."""
    columns = (TextColumn("{task.description}", markup=False), BarColumn(),
               TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=render.console(stderr=True), transient=True) as bar:
        task = bar.add_task(subject, total=None)

        def advance(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"{step} {subject}", completed=done, total=total)

        yield advance


def _size(path: Path) -> str:
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    total = sum(p.stat().st_size for p in files if p.exists())
    return f"{total / 1e6:.1f} MB"


def _source(source: Path | None, sql_url: str | None, query: str | None) -> tuple[Any, str]:
    """The SDK source and how to name it while working; both kinds at once is a usage error."""
    from loopline.data.sources import SqlQuery, describe_source

    if (source is None) == (sql_url is None):
        raise typer.BadParameter("give SOURCE or --sql-url with --query (one of them)")
    if sql_url is not None:
        if not query:
            raise typer.BadParameter("--sql-url needs --query", param_hint="--query")
        sql = SqlQuery(sql_url, query)
        return sql, describe_source(sql)
    assert source is not None
    shown = f"{source} ({_size(source)})" if source.exists() else str(source)
    return str(source), shown


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return render.fmt_value(value)
    return str(value)


def _rate(rate: float) -> str:
    return "<0.01%" if 0 < rate < 0.0001 else f"{rate:.2%}"


def _version_table(version: DatasetVersion) -> Table:
    table = Table(title=f"Dataset {version.name} version {version.version}",
                  title_justify="left", show_header=False)  # fmt: skip
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    rows = [
        ("uri", version.uri), ("digest", version.digest),
        ("rows", f"{version.num_rows:,}"), ("columns", str(version.num_columns)),
        ("bytes", f"{version.num_bytes:,}"), ("status", version.status.value),
        ("source", version.source), ("created", render.fmt_time(version.created_at)),
        ("description", version.description or "-"),
    ]  # fmt: skip
    if version.validation is not None:
        report = version.validation
        rows.append(("validation", f"{report['status']} (suite {report['suite']}, "
                                   f"{len(report['findings'])} finding(s))"))  # fmt: skip
    rows += [(f"tag {k}", value) for k, value in sorted(version.tags.items())]
    for key, value in rows:
        table.add_row(key, value)
    return table


def _columns_table(version: DatasetVersion) -> Table:
    """The schema with a profile summary: missing rate, distinct, min / max / mean."""
    table = Table("column", "type", "nullable", "missing", "distinct", "min", "max", "mean",
                  title="Schema and profile", title_justify="left")  # fmt: skip
    for column in version.schema:
        stats = version.profile.get(column["name"], {})
        low, high = stats.get("min", column.get("min")), stats.get("max", column.get("max"))
        table.add_row(
            column["name"], column["type"], "yes" if column.get("nullable") else "no",
            _rate(stats.get("missing_rate", 0.0)), _fmt(stats.get("distinct")),
            _fmt(low), _fmt(high), _fmt(stats.get("mean")),
        )  # fmt: skip
    return table


@app.command("create")
def create_dataset(
    name: NameArgument,
    source: Annotated[
        Path | None,
        typer.Argument(
            metavar="SOURCE", help="A Parquet or CSV file, or a folder of them.", show_default=False
        ),
    ] = None,
    sql_url: Annotated[
        str | None, typer.Option(metavar="URL", help="Read --query from this SQLAlchemy URL.")
    ] = None,
    query: Annotated[str | None, typer.Option(metavar="SQL", help="The SQL query.")] = None,
    description: Annotated[str | None, typer.Option(help="What the data is.")] = None,
    tag: Annotated[
        list[str] | None, typer.Option(metavar="KEY=VALUE", help="A tag; repeat for more.")
    ] = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a version of NAME (identical content returns the existing version)."""
    data, shown = _source(source, sql_url, query)
    tags = parse_tags(tag)
    client = open_client(uri)
    with steps_bar(f"{shown}") as progress:
        version = client.datasets.create(
            name, data, description=description, tags=tags, progress=progress
        )
    if as_json:
        render.print_json(encode_dataset_version(version))
        return
    render.console().print(
        f"{version.uri}: {version.num_rows:,} rows, {version.num_columns} columns, "
        f"{version.digest}",
        soft_wrap=True,
    )


@app.command("list")
def list_datasets(
    max_results: Annotated[
        int | None, typer.Option(metavar="N", help="Page size (default 1000).")
    ] = None,
    page_token: PageTokenOption = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """List datasets, one page."""
    page = open_client(uri).datasets.list(max_results=max_results, page_token=page_token)
    if as_json:
        datasets = [encode_dataset(d) for d in page]
        render.print_json({"datasets": datasets, "next_token": page.next_token})
        return
    table = Table("name", "latest", "updated", "description", "tags")
    for item in page:
        tags = ", ".join(f"{k}={value}" for k, value in sorted(item.tags.items()))
        table.add_row(item.name, _fmt(item.latest_version), render.fmt_time(item.updated_at),
                      item.description or "", tags)  # fmt: skip
    render.console().print(table)
    render.print_next_page(page.next_token)


@app.command("get")
def get_dataset(
    name: NameArgument, version: VersionOption = None, uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """Show a version: its attributes, schema and profile summary."""
    found = open_client(uri).datasets.get(name, version)
    if as_json:
        render.print_json(encode_dataset_version(found))
        return
    out = render.console()
    out.print(_version_table(found))
    out.print(_columns_table(found))


def _version_number(text: str) -> int | None:
    if text == "latest":
        return None
    try:
        return int(text)
    except ValueError:
        raise typer.BadParameter(f"a version is a number or 'latest', got {text!r}") from None


def _refs(refs: list[str]) -> tuple[tuple[str, int | None], tuple[str, int | None]]:
    if len(refs) == 3:
        name = refs[0]
        return (name, _version_number(refs[1])), (name, _version_number(refs[2]))
    if len(refs) == 2 and all(":" in r for r in refs):
        first, second = (r.rpartition(":") for r in refs)
        return ((first[0], _version_number(first[2])), (second[0], _version_number(second[2])))
    raise typer.BadParameter("expected NAME A B, or NAME:A NAME:B")


@app.command("diff")
def diff_versions(
    refs: Annotated[
        list[str], typer.Argument(metavar="NAME A B | NAME:A NAME:B", show_default=False)
    ],
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """What changed between two versions: columns, row count, distributions by effect size."""
    first, second = _refs(refs)
    result = open_client(uri).datasets.diff(first, second)
    if as_json:
        render.print_json(encode_json(result.to_dict()))
        return
    out = render.console()
    out.print(f"{result.a} -> {result.b}: rows {result.rows_a:,} -> {result.rows_b:,} "
              f"({result.row_change:+,})", soft_wrap=True)  # fmt: skip
    for label, names in (("added", result.added), ("removed", result.removed)):
        if names:
            out.print(f"{label}: {', '.join(names)}", soft_wrap=True)
    for item in result.retyped:
        out.print(f"retyped: {item['column']} {item['from']} -> {item['to']}", soft_wrap=True)
    table = Table("column", "kind", "effect size", "measure", title="Distribution changes",
                  title_justify="left")  # fmt: skip
    for change in result.changes:
        table.add_row(change.column, change.kind, render.fmt_value(change.effect_size),
                      change.measure)  # fmt: skip
    out.print(table)


def _load_suite(path: Path) -> Any:
    from loopline.data.suites import CheckSuite

    return CheckSuite.from_yaml(path)


@app.command("validate")
def validate_dataset(
    name: NameArgument,
    version: VersionOption = None,
    checks: Annotated[
        Path | None,
        typer.Option(
            metavar="SUITE.yaml",
            help="Check suite (default: checks inferred from the version's profile).",
        ),
    ] = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate a version (the report is stored with it); exit 1 when a blocking check fails."""
    service = open_client(uri).datasets
    found = service.get(name, version)
    suite = _load_suite(checks) if checks is not None else service.infer_checks(found)
    with working(f"Validating {found.uri}"):
        report = service.validate(found, suite)
    data = report.to_dict()
    if as_json:
        render.print_json(encode_json(data))
    else:
        _print_report(data)
    if not report.passed:
        raise typer.Exit(1)


def _print_report(data: dict[str, Any]) -> None:
    out = render.console()
    status = data["status"]
    style = {"passed": "green", "warned": "yellow"}.get(status, "red")
    summary = f"suite {data['suite']}, {data['checked_rows']:,} rows, "
    summary += f"{len(data['findings'])} finding(s)"
    out.print(Text(f"{status}: ", style=f"bold {style}") + Text(summary), soft_wrap=True)
    findings = data["findings"]
    if findings:
        table = Table("check", "columns", "severity", "failures", "message")
        for item in findings:
            table.add_row(item["check"], ", ".join(item["columns"]), item["severity"],
                          f"{item['failure_count']:,}", item["message"])  # fmt: skip
        out.print(table)
