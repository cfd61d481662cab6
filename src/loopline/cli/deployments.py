"""``loopline deployments create|list|get|update|kill|enable|delete|revisions``.

Each command is one call on ``Client.deployments`` (local store or server alike). A decision
policy comes from a ``.yaml``/``.yml`` or ``.json`` file (``--policy FILE``); a challenger from
``--challenger URI --mode shadow|canary [--share 0.1] [--sticky-key FIELD]``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from loopline.cli import JsonOption, PageTokenOption, UriOption, open_client, render
from loopline.cli.experiments import parse_tags
from loopline.entities.deployments import Deployment

__all__ = ["app"]

app = typer.Typer(
    help="Deployments: which model an inference server serves under a name, and how.",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="Deployment name.")]
PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", metavar="FILE", help="A decision policy: .yaml, .yml or .json."),
]
LoggingOption = Annotated[
    str | None, typer.Option("--logging", metavar="MODE", help="off, async or durable.")
]
ChallengerOption = Annotated[
    str | None,
    typer.Option("--challenger", metavar="URI", help="A challenger model URI (needs --mode)."),
]
ModeOption = Annotated[
    str | None, typer.Option("--mode", metavar="MODE", help="Challenger mode: shadow or canary.")
]
ShareOption = Annotated[
    float | None,
    typer.Option("--share", metavar="SHARE", help="Canary share of the traffic, 0 to 1."),
]
StickyOption = Annotated[
    str | None,
    typer.Option("--sticky-key", metavar="FIELD", help="Input field or header keeping callers."),
]
DescriptionOption = Annotated[str | None, typer.Option("--description", metavar="TEXT")]
Tags = Annotated[list[str] | None, typer.Option("--tag", metavar="KEY=VALUE", help="Repeatable.")]


def _actor() -> str:
    from loopline.client.environment import os_user

    return os_user()


def _policy_file(path: Path | None) -> dict[str, Any] | None:
    from loopline.policies.loading import read_policy_file

    return None if path is None else read_policy_file(path)


def _challenger(
    uri: str | None, mode: str | None, share: float | None, sticky: str | None
) -> dict[str, Any] | None:
    if uri is None:
        if mode is not None or share is not None or sticky is not None:
            raise typer.BadParameter("--mode, --share and --sticky-key need --challenger")
        return None
    if mode is None:
        raise typer.BadParameter("--challenger needs --mode shadow or canary", param_hint="--mode")
    return {"model_uri": uri, "mode": mode, "share": share, "sticky_key": sticky}


def _show(deployment: Deployment, as_json: bool) -> None:
    if as_json:
        render.print_json(deployment.to_dict())
        return
    d = deployment
    state = "enabled" if d.enabled else f"KILLED: {d.kill_reason}"
    rows = [("name", d.name), ("revision", str(d.revision)), ("state", state),
            ("model", d.model_uri), ("logging", d.logging),
            ("policy", json.dumps(d.policy) if d.policy is not None else "-")]  # fmt: skip
    if d.challenger is not None:
        c = d.challenger
        share = f", share {c.share}" if c.share is not None else ""
        sticky = f", sticky by {c.sticky_key}" if c.sticky_key else ""
        rows.append(("challenger", f"{c.model_uri} ({c.mode}{share}{sticky})"))
    rows += [("description", d.description or "-"),
             ("created", f"{render.fmt_time(d.created_at)} by {d.created_by}"),
             ("updated", f"{render.fmt_time(d.updated_at)} by {d.updated_by}")]  # fmt: skip
    rows += [(f"tag {k}", v) for k, v in sorted(d.tags.items())]
    table = Table(title=f"Deployment {d.name}", title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    render.console().print(table)


@app.command("create")
def create(
    name: NameArgument,
    model_uri: Annotated[
        str, typer.Argument(metavar="MODEL_URI", help="models:/NAME@ALIAS or models:/NAME/N.")
    ],
    policy: PolicyOption = None,
    logging: Annotated[
        str, typer.Option("--logging", metavar="MODE", help="off, async or durable.")
    ] = "async",
    challenger: ChallengerOption = None,
    mode: ModeOption = None,
    share: ShareOption = None,
    sticky_key: StickyOption = None,
    description: DescriptionOption = None,
    tag: Tags = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a deployment of MODEL_URI (its URIs must name existing versions)."""
    made = open_client(uri).deployments.create_deployment(
        name, model_uri, policy=_policy_file(policy),
        logging=logging, challenger=_challenger(challenger, mode, share, sticky_key),
        description=description, tags=parse_tags(tag), actor=_actor(),
    )  # fmt: skip
    _show(made, as_json)


@app.command("list")
def list_deployments(
    max_results: Annotated[int | None, typer.Option("--max-results", metavar="N")] = None,
    page_token: PageTokenOption = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deployments by name."""
    page = open_client(uri).deployments.list_deployments(max_results, page_token)
    if as_json:
        render.print_json(
            {"deployments": [d.to_dict() for d in page], "next_token": page.next_token}
        )
        return
    table = Table("name", "revision", "state", "model", "challenger", "logging")
    for d in page:
        challenger = f"{d.challenger.model_uri} ({d.challenger.mode})" if d.challenger else "-"
        state = "enabled" if d.enabled else "killed"
        table.add_row(d.name, str(d.revision), state, d.model_uri, challenger, d.logging)
    render.console().print(table)
    render.print_next_page(page.next_token)


@app.command("get")
def get(
    name: NameArgument,
    revision: Annotated[
        int | None, typer.Option("--revision", metavar="N", help="As it was at revision N.")
    ] = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a deployment (now, or at --revision N)."""
    _show(open_client(uri).deployments.get_deployment(name, revision), as_json)


@app.command("update")
def update(
    name: NameArgument,
    model_uri: Annotated[
        str | None, typer.Option("--model-uri", metavar="URI", help="A new model URI.")
    ] = None,
    policy: PolicyOption = None,
    no_policy: Annotated[bool, typer.Option("--no-policy", help="Remove the policy.")] = False,
    logging: LoggingOption = None,
    challenger: ChallengerOption = None,
    mode: ModeOption = None,
    share: ShareOption = None,
    sticky_key: StickyOption = None,
    no_challenger: Annotated[
        bool, typer.Option("--no-challenger", help="Remove the challenger.")
    ] = False,
    description: DescriptionOption = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", metavar="KEY=VALUE", help="Replace the tags (repeatable)."),
    ] = None,
    expected_revision: Annotated[
        int | None,
        typer.Option("--expected-revision", metavar="N", help="Refuse unless N is current."),
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", metavar="TEXT")] = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a deployment: options not given keep their value; a new revision is stored."""
    if policy is not None and no_policy:
        raise typer.BadParameter("give --policy or --no-policy, not both")
    if challenger is not None and no_challenger:
        raise typer.BadParameter("give --challenger or --no-challenger, not both")
    changes: dict[str, Any] = {}
    if model_uri is not None:
        changes["model_uri"] = model_uri
    if policy is not None or no_policy:
        changes["policy"] = _policy_file(policy)
    if logging is not None:
        changes["logging"] = logging
    if challenger is not None or no_challenger:
        changes["challenger"] = _challenger(challenger, mode, share, sticky_key)
    elif mode is not None or share is not None or sticky_key is not None:
        raise typer.BadParameter("--mode, --share and --sticky-key need --challenger")
    if description is not None:
        changes["description"] = description
    if tag is not None:
        changes["tags"] = parse_tags(tag)
    updated = open_client(uri).deployments.update_deployment(
        name, **changes, expected_revision=expected_revision, actor=_actor(), reason=reason
    )
    _show(updated, as_json)


@app.command("kill")
def kill(
    name: NameArgument,
    reason: Annotated[str, typer.Option("--reason", metavar="TEXT", help="Why (required).")],
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """The kill switch: servers answer 503 with the reason until `enable`."""
    _show(open_client(uri).deployments.kill(name, reason=reason, actor=_actor()), as_json)


@app.command("enable")
def enable(
    name: NameArgument,
    reason: Annotated[str | None, typer.Option("--reason", metavar="TEXT")] = None,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Serve a killed deployment again."""
    _show(open_client(uri).deployments.enable(name, actor=_actor(), reason=reason), as_json)


@app.command("delete")
def delete(name: NameArgument, uri: UriOption = None, as_json: JsonOption = False) -> None:
    """Delete a deployment and its revisions (the audit log keeps them)."""
    open_client(uri).deployments.delete_deployment(name, actor=_actor())
    if as_json:
        render.print_json({"deleted": name})
        return
    render.console().print(f"Deleted deployment {name}")


@app.command("revisions")
def revisions(name: NameArgument, uri: UriOption = None, as_json: JsonOption = False) -> None:
    """Every revision of a deployment, oldest first."""
    found = open_client(uri).deployments.list_revisions(name)
    if as_json:
        render.print_json([r.to_dict() for r in found])
        return
    table = Table("revision", "by", "at", "state", "model", "reason")
    for r in found:
        d = r.deployment
        state = "enabled" if d.enabled else "killed"
        table.add_row(str(r.revision), r.created_by, render.fmt_time(r.created_at), state,
                      d.model_uri, r.reason or "-")  # fmt: skip
    render.console().print(table)
