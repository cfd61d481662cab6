"""``loopline models ...``: the model registry from the command line.

Each command is one call on ``Client.registry`` (local store or server alike) and a rendering of
its result; ``--json`` prints the REST API's JSON. Changes are recorded with the OS user as the
actor (a server with auth on records the token's user instead).

Release and approval commands live in their own module and join this group with one line in
``cli/main.py``: ``release.register_commands(models.app)``, where ``register_commands(app)``
adds commands with ``app.command(...)`` or a sub-group with ``app.add_typer(...)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from loopline.cli import JsonOption, PageTokenOption, UriOption, open_client, render
from loopline.cli.experiments import parse_tags
from loopline.entities import ModelVersion, RegisteredModel

if TYPE_CHECKING:
    from loopline.registry.service import RegistryService

__all__ = ["alias_app", "app"]

app = typer.Typer(help="Register, describe, search and alias models.", no_args_is_help=True)
alias_app = typer.Typer(help="Point aliases at versions (not champion/challenger/shadow).",
                        no_args_is_help=True)  # fmt: skip
app.add_typer(alias_app, name="alias")

Name = Annotated[str, typer.Argument(metavar="NAME", help="Model name.", show_default=False)]
Version = Annotated[int, typer.Argument(metavar="VERSION", help="Version number.")]
OptionalVersion = Annotated[
    int | None, typer.Argument(metavar="[VERSION]", help="A version (default: the model).")
]
Alias = Annotated[str, typer.Argument(metavar="ALIAS", help="Alias name.", show_default=False)]
Filter = Annotated[
    str | None, typer.Option("--filter", metavar="FILTER", help="e.g. \"tags.team = 'risk'\".")
]
MaxResults = Annotated[int | None, typer.Option(metavar="N", help="Page size (default 100).")]
Description = Annotated[str | None, typer.Option(metavar="TEXT", help="Description.")]
Tags = Annotated[list[str] | None, typer.Option("--tag", metavar="KEY=VALUE", help="Repeatable.")]


def _actor() -> str:
    from loopline.client.environment import os_user

    return os_user()


def _registry(uri: str | None) -> RegistryService:
    return open_client(uri).registry


def _models_table(models: Sequence[RegisteredModel]) -> Table:
    table = Table("name", "latest", "aliases", "tags", "description")
    for m in models:
        aliases = ", ".join(f"{a}={v}" for a, v in m.aliases.items())
        tags = ", ".join(f"{k}={v}" for k, v in m.tags.items())
        latest = "-" if m.latest_version is None else str(m.latest_version)
        table.add_row(m.name, latest, aliases or "-", tags or "-", m.description or "-")
    return table


def _versions_table(versions: Sequence[ModelVersion]) -> Table:
    table = Table("model", "version", "status", "flavor", "aliases", "created by", "created",
                  "run")  # fmt: skip
    for v in versions:
        table.add_row(v.name, str(v.version), v.status.value, v.flavor,
                      ", ".join(v.aliases) or "-", v.created_by, render.fmt_time(v.created_at),
                      v.run_id)  # fmt: skip
    return table


def _show(found: RegisteredModel | ModelVersion, json_output: bool) -> None:
    if json_output:
        render.print_json(found.to_dict())
        return
    if isinstance(found, RegisteredModel):
        render.console().print(_models_table([found]))
        return
    rows = [("uri", found.uri), ("status", found.status.value), ("flavor", found.flavor),
            ("digest", found.digest), ("run", found.run_id), ("path", found.artifact_path),
            ("created by", found.created_by), ("created", render.fmt_time(found.created_at)),
            ("aliases", ", ".join(found.aliases) or "-"),
            ("description", found.description or "-")]  # fmt: skip
    rows += [(f"tag {k}", value) for k, value in sorted(found.tags.items())]
    rows += [(f"{d.context} data", f"{d.name} v{d.version}") for d in found.training_datasets]
    table = Table(title=f"Model {found.name} version {found.version}", title_justify="left",
                  show_header=False)  # fmt: skip
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    render.console().print(table)


@app.command("list")
def list_models(
    filter: Filter = None,
    max_results: MaxResults = None,
    page_token: PageTokenOption = None,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """Registered models (matching --filter: name, description, tags.KEY...), by name."""
    page = _registry(uri).search_registered_models(
        filter, max_results=max_results, page_token=page_token
    )
    if json_output:
        render.print_json({"models": [m.to_dict() for m in page], "next_token": page.next_token})
        return
    render.console().print(_models_table(page))
    render.print_next_page(page.next_token)


@app.command("search")
def search_versions(
    filter: Annotated[str, typer.Argument(metavar="FILTER", help="e.g. \"status = 'approved'\".")],
    max_results: MaxResults = None,
    page_token: PageTokenOption = None,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """Model versions matching FILTER (name, version, status, flavor, tags.KEY...)."""
    page = _registry(uri).search_model_versions(
        filter, max_results=max_results, page_token=page_token
    )
    if json_output:
        data = {"versions": [v.to_dict() for v in page], "next_token": page.next_token}
        render.print_json(data)
        return
    render.console().print(_versions_table(page))
    render.print_next_page(page.next_token)


@app.command("get")
def get_model(
    name: Name,
    version: OptionalVersion = None,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """A registered model, or one of its versions."""
    registry = _registry(uri)
    found = (registry.get_registered_model(name) if version is None
             else registry.get_model_version(name, version))  # fmt: skip
    _show(found, json_output)


@app.command("versions")
def list_versions(name: Name, uri: UriOption = None, json_output: JsonOption = False) -> None:
    """Every version of a model, oldest first."""
    versions = _registry(uri).list_model_versions(name)
    if json_output:
        render.print_json({"versions": [v.to_dict() for v in versions]})
        return
    render.console().print(_versions_table(versions))


@app.command("register")
def register(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="The run that logged it.")],
    path: Annotated[str, typer.Argument(metavar="PATH", help="Its artifact path (e.g. model).")],
    name: Name,
    description: Description = None,
    tag: Tags = None,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """Register the model logged at PATH of RUN_ID as NAME's next version."""
    from loopline.registry.artifacts import register_logged_model

    client = open_client(uri)
    version = register_logged_model(
        client.backend, client.registry, run_id, path, name, actor=_actor(),
        description=description, tags=parse_tags(tag) or None,
    )  # fmt: skip
    _show(version, json_output)


@app.command("update")
def update(
    name: Name,
    version: OptionalVersion = None,
    description: Description = None,
    tag: Tags = None,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """Set the description of a model (or version), and add or change tags (--tag K=V)."""
    registry = _registry(uri)
    tags = parse_tags(tag)
    if version is None:
        merged = {**registry.get_registered_model(name).tags, **tags} if tags else None
        found: RegisteredModel | ModelVersion = registry.update_registered_model(
            name, description=description, tags=merged, actor=_actor()
        )
    else:
        merged = {**registry.get_model_version(name, version).tags, **tags} if tags else None
        found = registry.update_model_version(
            name, version, description=description, tags=merged, actor=_actor()
        )
    _show(found, json_output)


@app.command("delete")
def delete(name: Name, version: OptionalVersion = None, uri: UriOption = None) -> None:
    """Delete a version with no release records, or a model with no versions left."""
    registry = _registry(uri)
    if version is None:
        registry.delete_registered_model(name, actor=_actor())
        typer.echo(f"Deleted registered model {name}.")
    else:
        registry.delete_model_version(name, version, actor=_actor())
        typer.echo(f"Deleted version {version} of {name}.")


@app.command("resolve")
def resolve(
    model_uri: Annotated[str, typer.Argument(metavar="URI", help="models:/NAME/3, @alias...")],
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """The version a models:/ URI names."""
    _show(_registry(uri).resolve(model_uri), json_output)


@app.command("training-data")
def training_data(
    name: Name,
    version: Version,
    dataset: Annotated[str | None, typer.Option(help="Which one, if several.")] = None,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """The dataset version a model version trained on (its profile is the reference)."""
    from loopline.wire import encode_dataset_version

    found = _registry(uri).training_profile(name, version, dataset=dataset)
    if json_output:
        render.print_json(encode_dataset_version(found))
        return
    typer.echo(f"{found.uri} ({found.num_rows:,} rows, {found.num_columns} columns) "
               f"{found.digest}")  # fmt: skip


@alias_app.command("set")
def set_alias(
    name: Name, alias: Alias, version: Version, uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:  # fmt: skip
    """Point ALIAS at VERSION of NAME (moving it if it named another)."""
    _show(_registry(uri).set_alias(name, alias, version, actor=_actor()), json_output)


@alias_app.command("delete")
def delete_alias(name: Name, alias: Alias, uri: UriOption = None) -> None:
    """Remove an alias."""
    _registry(uri).delete_alias(name, alias, actor=_actor())
    typer.echo(f"Deleted alias {alias} of {name}.")
