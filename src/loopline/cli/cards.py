"""``loopline models card|card-edit|card-history``: render and edit model cards.

Each command is one call on ``Client.cards`` (local store or server alike). :func:`register` adds
them to the ``loopline models`` application.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from loopline.cli import JsonOption, UriOption, open_client, render
from loopline.errors import InvalidArgumentError

__all__ = ["card", "card_edit", "card_history", "register"]

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="Registered model name.")]
VersionArgument = Annotated[int, typer.Argument(metavar="VERSION", help="Version number.")]
RevisionOption = Annotated[
    int | None,
    typer.Option("--revision", metavar="N", help="Human text of revision N (default: latest)."),
]


def _actor() -> str:
    from loopline.client.environment import environment_tags

    return environment_tags().get("loopline.user", "unknown")


def card(
    name: NameArgument,
    version: VersionArgument,
    format: Annotated[
        str,
        typer.Option("--format", metavar="FORMAT", help="markdown, html or json."),
    ] = "markdown",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout."),
    ] = None,
    revision: RevisionOption = None,
    uri: UriOption = None,
) -> None:
    """Print (or write) a version's model card: Markdown, a standalone HTML page, or JSON."""
    service = open_client(uri).cards
    if format == "json":
        text = json.dumps(service.get_card(name, version, revision=revision).to_dict(), indent=2)
    else:
        text = service.render_card(name, version, format=format, revision=revision)
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    render.console(stderr=True).print(f"Wrote the model card of {name} v{version} to {output}")


def _unreadable(path: Path, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"{path} {why}", field="from_file")


def _sections_file(path: Path) -> dict[str, Any]:
    """A mapping of section names to text, from a .json or .yaml/.yml file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgumentError(
            f"Cannot read {path}: {exc.strerror}.", field="from_file"
        ) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise InvalidArgumentError(
                f"{path} is not valid YAML: {exc}", field="from_file"
            ) from None
    else:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise InvalidArgumentError(
                f"{path} is not valid JSON: {exc}", field="from_file"
            ) from None
    if not isinstance(data, dict):
        raise InvalidArgumentError(
            f"{path} must hold a mapping of section names to text; it holds {type(data).__name__}.",
            field="from_file",
        )
    return data


def card_edit(
    name: NameArgument,
    version: VersionArgument,
    section: Annotated[
        str | None, typer.Option("--section", metavar="SECTION", help="Section to write.")
    ] = None,
    text: Annotated[
        str | None,
        typer.Option("--text", metavar="MARKDOWN", help="Its new text ('' removes it)."),
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file", metavar="FILE", help="A .json or .yaml mapping: section -> text."
        ),
    ] = None,
    expected_revision: Annotated[
        int | None,
        typer.Option(
            "--expected-revision",
            metavar="N",
            help="Refuse the edit unless N is still the latest revision (0: none yet).",
        ),
    ] = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Edit the human sections of a model card; each change is stored as a new revision."""
    if (section is None) == (from_file is None):
        raise typer.BadParameter("give --section with --text, or --from-file (one of them)")
    if section is not None and text is None:
        raise typer.BadParameter("--section needs --text", param_hint="--text")
    sections = _sections_file(from_file) if from_file is not None else {str(section): text}
    updated = open_client(uri).cards.update_card(
        name, version, sections, actor=_actor(), expected_revision=expected_revision
    )
    if as_json:
        render.print_json(updated.to_dict())
        return
    render.console().print(
        f"Model card of {name} v{version}: revision {updated.revision} "
        f"({', '.join(updated.sections) or 'no human text'})",
        soft_wrap=True,
    )


def card_history(
    name: NameArgument, version: VersionArgument, uri: UriOption = None, as_json: JsonOption = False
) -> None:
    """List every revision of a model card's human sections, oldest first."""
    revisions = open_client(uri).cards.list_card_revisions(name, version)
    if as_json:
        render.print_json([r.to_dict() for r in revisions])
        return
    table = Table("revision", "updated by", "updated at", "sections")
    for r in revisions:
        table.add_row(
            str(r.revision), r.updated_by, render.fmt_time(r.updated_at), ", ".join(r.sections)
        )
    render.console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``card``, ``card-edit`` and ``card-history`` to the ``loopline models`` app."""
    app.command("card")(card)
    app.command("card-edit")(card_edit)
    app.command("card-history")(card_history)
