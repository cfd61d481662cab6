"""The ``loopline`` Typer application and its console-script entry point.

Exit codes: 0 on success, 1 when loopline refuses or fails (any
:class:`~loopline.errors.LooplineError`, shown as one ``error: <message>`` line on stderr, never a
traceback), 2 on usage errors (Click's own). The mapping lives here, in :class:`LooplineGroup`, so
the commands themselves never catch anything.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from loopline import __version__
from loopline.cli import approvals as approvals_command
from loopline.cli import audit, datasets, demo, experiments, render, runs, server, tokens, users
from loopline.cli import cards as cards_command
from loopline.cli import deployments as deployments_command
from loopline.cli import eventlog as eventlog_command
from loopline.cli import lineage as lineage_command
from loopline.cli import models as models_command
from loopline.cli import release as release_command
from loopline.cli import score as score_command
from loopline.cli import serve as serve_command
from loopline.errors import LooplineError

__all__ = ["LooplineGroup", "app", "main"]


class LooplineGroup(TyperGroup):
    """The root command group: turns every LooplineError of a subcommand into exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LooplineError as exc:
            render.print_error(exc.message)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="loopline",
    cls=LooplineGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.add_typer(experiments.app, name="experiments")
app.add_typer(runs.app, name="runs")
app.add_typer(datasets.app, name="datasets")
app.add_typer(models_command.app, name="models")
cards_command.register(models_command.app)  # card, card-edit, card-history
release_command.register(models_command.app)  # policy, evaluate, gates, validate, promote...
app.add_typer(approvals_command.app, name="approvals")
app.add_typer(deployments_command.app, name="deployments")
app.add_typer(eventlog_command.app, name="eventlog")
app.add_typer(audit.app, name="audit")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.command("server")(server.server)
app.command("serve")(serve_command.serve)
app.command("demo")(demo.demo)
app.command("lineage")(lineage_command.lineage)
app.command("score")(score_command.score)
app.command("rescore")(score_command.rescore)


@app.callback()
def root() -> None:
    """loopline: the whole loop around a model, from the command line.

    Store commands take --uri (default: LOOPLINE_URI, else the embedded store ./.loopline).
    """


@app.command("version")
def version() -> None:
    """Print loopline's version."""
    typer.echo(f"loopline {__version__}")


def main() -> None:
    """Console-script entry point (``loopline = "loopline.cli.main:main"``)."""
    app(prog_name="loopline")
