"""``loopline models policy|evaluate|gates|validate|request-approval|promote|rollback|...``.

The governed release from the command line: each command is one call on ``Client.release``
(a local store or a server alike) and a rendering of its result; ``--json`` prints the REST
API's JSON. Changes are recorded with the OS user as the actor; a server with auth on records
the token's user (``LOOPLINE_TOKEN``) instead. :func:`register` adds the commands to the
``loopline models`` application; deciding on a version is ``loopline approvals ...``.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from loopline.cli import JsonOption, UriOption, open_client, render
from loopline.cli.evaluations import evaluation, print_evaluation
from loopline.entities import ModelVersion, ReleasePolicy
from loopline.entities.release import FAIRNESS_DIRECTIONS
from loopline.errors import InvalidArgumentError

if TYPE_CHECKING:
    from loopline.release.service import ReleaseService

__all__ = ["parse_fairness", "policy_app", "register", "release_service"]

policy_app = typer.Typer(help="Show or set a model's release policy.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(metavar="NAME", help="Model name.", show_default=False)]
Version = Annotated[int, typer.Argument(metavar="VERSION", help="Version number.")]
Reason = Annotated[
    str, typer.Option("--reason", metavar="TEXT", help="Why (recorded and audited).")
]
AliasOption = Annotated[
    str, typer.Option("--alias", metavar="ALIAS", help="champion, challenger or shadow.")
]
_FAIRNESS = re.compile(r"\s*([a-z_]+)\s*(>=|<=|=)\s*([0-9.eE+-]+)\s*")


def _actor() -> str:
    from loopline.client.environment import os_user

    return os_user()


def release_service(uri: str | None) -> ReleaseService:
    """The release service of the store (or server) at ``uri``."""
    return open_client(uri).release


def parse_fairness(items: list[str]) -> dict[str, float]:
    """``demographic_parity_ratio>=0.8`` items as thresholds; the operator must fit the metric.

    Examples:
        >>> parse_fairness(["demographic_parity_ratio>=0.8", "equalized_odds_difference<=0.1"])
        {'demographic_parity_ratio': 0.8, 'equalized_odds_difference': 0.1}
    """
    thresholds = {}
    for item in items:
        found = _FAIRNESS.fullmatch(item)
        metric = found.group(1) if found else ""
        if found is None or metric not in FAIRNESS_DIRECTIONS:
            raise InvalidArgumentError(
                "--fairness must be METRIC>=LIMIT or METRIC<=LIMIT with METRIC one of "
                f"{sorted(FAIRNESS_DIRECTIONS)}. Got {item!r} instead.",
                field="fairness",
            )
        operator, direction = found.group(2), FAIRNESS_DIRECTIONS[metric]
        if operator not in ("=", direction):
            raise InvalidArgumentError(
                f"--fairness {metric} is a limit read as {metric} {direction} LIMIT. "
                f"Got {item!r} instead.",
                field="fairness",
            )
        try:
            thresholds[metric] = float(found.group(3))
        except ValueError:
            raise InvalidArgumentError(
                f"--fairness needs a number after the operator. Got {item!r} instead.",
                field="fairness",
            ) from None
    return thresholds


def _show_version(found: ModelVersion, json_output: bool, what: str) -> None:
    if json_output:
        render.print_json(found.to_dict())
        return
    aliases = f" ({', '.join(found.aliases)})" if found.aliases else ""
    render.console().print(
        f"{what}: {found.uri} is {found.status.value}{aliases}", soft_wrap=True, markup=False
    )


def _show_policy(policy: ReleasePolicy, name: str, json_output: bool) -> None:
    if json_output:
        render.print_json(policy.to_dict())
        return
    table = Table(title=f"Release policy of {name}", title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in policy.to_dict().items():
        if key == "fairness_thresholds":
            value = ", ".join(f"{m} {FAIRNESS_DIRECTIONS[m]} {v:g}" for m, v in value.items())
        table.add_row(key, "-" if value in (None, "") else str(value))
    render.console().print(table)


@policy_app.command("get")
def policy_get(name: Name, uri: UriOption = None, json_output: JsonOption = False) -> None:
    """Show a model's release policy (the defaults until one is set)."""
    _show_policy(release_service(uri).get_policy(name), name, json_output)


@policy_app.command("set")
def policy_set(
    name: Name,
    required_approvals: Annotated[
        int | None, typer.Option(metavar="N", help="Approvals needed (1 to 20).")
    ] = None,
    baseline_margin: Annotated[
        float | None, typer.Option(metavar="X", help="How much the model must beat its baseline.")
    ] = None,
    primary_metric: Annotated[
        str | None, typer.Option(metavar="METRIC", help="auc, rmse, f1, ... ('' for the default).")
    ] = None,
    fairness: Annotated[
        list[str] | None,
        typer.Option(metavar="METRIC>=LIMIT", help="e.g. demographic_parity_ratio>=0.8."),
    ] = None,
    clear_fairness: Annotated[
        bool, typer.Option("--clear-fairness", help="Remove every fairness threshold first.")
    ] = False,
    min_group_size: Annotated[
        int | None, typer.Option(metavar="N", help="Smaller groups are not scored.")
    ] = None,
    require_signature: Annotated[
        bool | None, typer.Option("--require-signature/--no-require-signature")
    ] = None,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """Change some fields of a model's release policy, keeping the others (audited)."""
    service = release_service(uri)
    fields: dict[str, Any] = service.get_policy(name).to_dict()
    if clear_fairness:
        fields["fairness_thresholds"] = {}
    fields["fairness_thresholds"].update(parse_fairness(fairness or []))
    changes = {
        "required_approvals": required_approvals, "baseline_margin": baseline_margin,
        "min_group_size": min_group_size, "require_signature": require_signature,
    }  # fmt: skip
    fields.update({key: value for key, value in changes.items() if value is not None})
    if primary_metric is not None:
        fields["primary_metric"] = primary_metric or None
    _show_policy(service.set_policy(name, fields, actor=_actor()), name, json_output)


def evaluate(
    name: Name,
    version: Version,
    data: Annotated[
        str, typer.Option("--data", metavar="DATASET", help="datasets:/NAME/VERSION to score.")
    ],
    target: Annotated[str, typer.Option("--target", metavar="COLUMN", help="Target column.")],
    train_data: Annotated[
        str | None,
        typer.Option(metavar="DATASET", help="Training rows, if the version records none."),
    ] = None,
    sensitive: Annotated[
        list[str] | None,
        typer.Option("--sensitive", metavar="COLUMN", help="Fairness by group (repeatable)."),
    ] = None,
    baseline: Annotated[str, typer.Option(metavar="STRATEGY", help="auto or a name.")] = "auto",
    importance: Annotated[bool, typer.Option("--importance/--no-importance")] = True,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """Evaluate a version on a dataset version against its baseline; store the result."""
    stored = release_service(uri).evaluate(
        f"models:/{name}/{version}", data, target=target, train_data=train_data,
        sensitive_features=sensitive or None, baseline=baseline, importance=importance,
        actor=_actor(),
    )  # fmt: skip
    if json_output:
        render.print_json(asdict(stored))
        return
    print_evaluation(stored)


def gates(
    name: Name, version: Version, uri: UriOption = None, json_output: JsonOption = False
) -> None:
    """The automatic release gates of a version now; exit 1 when one fails."""
    report = release_service(uri).gates(name, version)
    if json_output:
        render.print_json(report.to_dict())
    else:
        table = Table("gate", "passed", "detail", title=f"Gates of {name} v{version}",
                      title_justify="left")  # fmt: skip
        for gate in report.gates:
            table.add_row(gate.name, "yes" if gate.passed else "NO", gate.detail)
        render.console().print(table)
    if not report.passed:
        raise typer.Exit(1)


def validate(
    name: Name,
    version: Version,
    reason: Annotated[str | None, typer.Option(metavar="TEXT", help="Why.")] = None,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """registered -> validated, when every gate passes."""
    found = release_service(uri).validate(name, version, actor=_actor(), reason=reason)
    _show_version(found, json_output, "Validated")


def request_approval(
    name: Name, version: Version, reason: Reason, uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:  # fmt: skip
    """validated -> pending_approval: ask approvers to review the version."""
    found = release_service(uri).request_approval(name, version, actor=_actor(), reason=reason)
    _show_version(found, json_output, "Sent for approval")


def promote(
    name: Name, version: Version, reason: Reason, alias: AliasOption = "champion",
    uri: UriOption = None, json_output: JsonOption = False,
) -> None:  # fmt: skip
    """Point a release alias at an approved version whose approvals are still valid."""
    found = release_service(uri).promote(name, version, alias=alias, actor=_actor(), reason=reason)
    _show_version(found, json_output, f"Promoted to {alias}")


def rollback(
    name: Name, reason: Reason, alias: AliasOption = "champion", uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:  # fmt: skip
    """Move a release alias back to the previous approved version that held it."""
    found = release_service(uri).rollback(name, alias=alias, actor=_actor(), reason=reason)
    _show_version(found, json_output, f"Rolled {alias} back")


def retire(
    name: Name, version: Version, reason: Reason, uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:  # fmt: skip
    """Retire a version; its release aliases are removed with it."""
    found = release_service(uri).retire(name, version, actor=_actor(), reason=reason)
    _show_version(found, json_output, "Retired")


def history(
    name: Name, version: Version, uri: UriOption = None, json_output: JsonOption = False
) -> None:
    """Every release transition of a version, oldest first."""
    found = release_service(uri).history(name, version)
    if json_output:
        render.print_json([asdict(t) for t in found])
        return
    table = Table("at", "from", "to", "actor", "reason", "action")
    for t in found:
        action = " ".join(str(t.details[k]) for k in ("action", "alias") if k in t.details)
        table.add_row(render.fmt_time(t.at), t.from_status or "-", t.to_status, t.actor,
                      t.reason or "-", action or "-")  # fmt: skip
    render.console().print(table)


def register(app: typer.Typer) -> None:
    """Add the release commands (and the ``policy`` group) to the ``loopline models`` app."""
    app.add_typer(policy_app, name="policy")
    for command in (evaluate, evaluation, gates, validate, request_approval, promote, rollback,
                    retire, history):  # fmt: skip
        app.command(command.__name__.replace("_", "-"))(command)
