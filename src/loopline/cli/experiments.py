"""``loopline experiments ...``: create, list, get, rename, delete and restore experiments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from loopline.cli import JsonOption, PageTokenOption, UriOption, open_client, render
from loopline.entities import Experiment, ViewType
from loopline.errors import NotFoundError
from loopline.wire import encode_experiment

if TYPE_CHECKING:
    from loopline.client.client import Client

__all__ = ["app", "find_experiment"]

app = typer.Typer(help="Create, list and manage experiments.", no_args_is_help=True)

RefArgument = Annotated[
    str, typer.Argument(metavar="NAME_OR_ID", help="Experiment name or id.", show_default=False)
]


def find_experiment(client: Client, ref: str) -> Experiment:
    """The experiment named ``ref``, else the one with id ``ref`` (deleted ones included)."""
    try:
        return client.get_experiment_by_name(ref)
    except NotFoundError:
        pass
    try:
        return client.get_experiment(ref)
    except NotFoundError:
        raise NotFoundError(f"No experiment named or with id {ref!r}.", experiment=ref) from None


def parse_tags(items: list[str] | None) -> dict[str, str]:
    """``KEY=VALUE`` options as a dict; anything else is a usage error (exit 2)."""
    tags: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--tag")
        tags[key] = value
    return tags


@app.command("list")
def list_experiments(
    view: Annotated[ViewType, typer.Option(help="Which lifecycle stages to list.")] = (
        ViewType.ACTIVE_ONLY
    ),
    max_results: Annotated[
        int | None, typer.Option(metavar="N", help="Page size (default 1000).")
    ] = None,
    page_token: PageTokenOption = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """List experiments, one page."""
    page = open_client(uri).list_experiments(
        view=view, max_results=max_results, page_token=page_token
    )
    if as_json:
        experiments = [encode_experiment(e) for e in page]
        render.print_json({"experiments": experiments, "next_token": page.next_token})
        return
    render.console().print(render.experiments_table(page))
    render.print_next_page(page.next_token)


@app.command("create")
def create_experiment(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A new, unique experiment name.")],
    tag: Annotated[
        list[str] | None, typer.Option(metavar="KEY=VALUE", help="A tag; repeat for more.")
    ] = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an experiment and print its id."""
    client = open_client(uri)
    experiment_id = client.create_experiment(name, tags=parse_tags(tag))
    if as_json:
        render.print_json(encode_experiment(client.get_experiment(experiment_id)))
        return
    render.console().print(f"Created experiment {name!r} with id {experiment_id}.", soft_wrap=True)


@app.command("get")
def get_experiment(ref: RefArgument, uri: UriOption = None, as_json: JsonOption = False) -> None:
    """Show an experiment, by name or id."""
    experiment = find_experiment(open_client(uri), ref)
    if as_json:
        render.print_json(encode_experiment(experiment))
        return
    render.console().print(render.experiment_table(experiment))


@app.command("rename")
def rename_experiment(
    ref: RefArgument,
    new_name: Annotated[str, typer.Argument(metavar="NEW_NAME", help="The new, unique name.")],
    uri: UriOption = None,
) -> None:
    """Rename an experiment."""
    client = open_client(uri)
    experiment = find_experiment(client, ref)
    client.rename_experiment(experiment.experiment_id, new_name)
    render.console().print(f"Renamed experiment {experiment.name!r} to {new_name!r}.")


@app.command("delete")
def delete_experiment(ref: RefArgument, uri: UriOption = None) -> None:
    """Soft-delete an experiment and hide its runs; `restore` brings them back."""
    client = open_client(uri)
    experiment = find_experiment(client, ref)
    client.delete_experiment(experiment.experiment_id)
    render.console().print(f"Deleted experiment {experiment.name!r} (id {experiment.id}).")


@app.command("restore")
def restore_experiment(ref: RefArgument, uri: UriOption = None) -> None:
    """Restore a deleted experiment."""
    client = open_client(uri)
    experiment = find_experiment(client, ref)
    client.restore_experiment(experiment.experiment_id)
    render.console().print(f"Restored experiment {experiment.name!r} (id {experiment.id}).")
