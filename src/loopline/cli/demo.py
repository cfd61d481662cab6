"""``loopline demo``: run :func:`loopline.demo.run_demo` and show its comparison table."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from loopline.cli import JsonOption, UriOption, open_client, render
from loopline.demo import DEMO_EXPERIMENT, DemoRelease, DemoResult, run_demo
from loopline.wire import encode_float

__all__ = ["demo", "demo_json", "demo_table"]

_COLUMNS = (
    ("AUC", "test_auc"),
    ("accuracy", "test_accuracy"),
    ("F1", "test_f1"),
    ("log loss", "test_log_loss"),
    ("Brier", "test_brier"),
)


def demo_table(result: DemoResult) -> Table:
    """Models as rows, best test AUC first, with the AUC margin over the baseline."""
    table = Table(title=f"Experiment {result.experiment_name}: test metrics", title_justify="left")
    table.add_column("model")
    for header, _ in _COLUMNS:
        table.add_column(header, justify="right")
    table.add_column("AUC vs baseline", justify="right")
    table.add_column("run id", no_wrap=True)
    for model in result.models:
        cells = [f"{model.metrics[key]:.4f}" for _, key in _COLUMNS]
        margin = "baseline" if model.is_baseline else f"{model.auc_margin:+.4f}"
        style = "dim" if model.is_baseline else ("green" if model.auc_margin > 0 else "red")
        table.add_row(model.name, *cells, Text(margin, style=style), model.run_id)
    return table


def demo_json(result: DemoResult) -> dict[str, Any]:
    """The demo's result with stable keys (non-finite numbers encoded as in the REST API)."""
    return {
        "experiment_id": result.experiment_id,
        "experiment_name": result.experiment_name,
        "database_url": result.database_url,
        "artifact_root": result.artifact_root,
        "seconds": result.seconds,
        "models": [
            {
                "name": m.name,
                "run_id": m.run_id,
                "is_baseline": m.is_baseline,
                "metrics": {k: encode_float(v) for k, v in sorted(m.metrics.items())},
                "fold_run_ids": list(m.fold_run_ids),
            }
            for m in result.models
        ],
        "release": None if result.release is None else asdict(result.release),
    }


def _print_summary(result: DemoResult) -> None:
    out = render.console()
    out.print(demo_table(result))
    best = result.models[0]
    out.print(
        f"Best: {best.name}, test AUC {best.auc:.4f} ({best.auc_margin:+.4f} over the baseline); "
        f"{len(result.models)} runs with their fold runs tracked in {result.seconds:.1f}s.",
        soft_wrap=True,
    )
    out.print(f"Data lives in: {result.database_url}", soft_wrap=True)
    out.print(f"Artifacts in:  {result.artifact_root}", soft_wrap=True)
    out.print("Next:", style="bold")
    out.print(f"  loopline runs list --experiment {result.experiment_name}", soft_wrap=True)
    second = result.models[1].run_id if len(result.models) > 1 else result.baseline.run_id
    out.print(f"  loopline runs compare {best.run_id} {second}", soft_wrap=True)
    out.print(f"  loopline runs get {best.run_id}", soft_wrap=True)
    if result.release is not None:
        _print_release(result.release)


def _print_release(release: DemoRelease) -> None:
    out = render.console()
    name, version = release.model_uri.removeprefix("models:/").rsplit("/", 1)
    out.print(
        f"Released: {release.model_uri} (AUC {release.auc:.4f} vs baseline "
        f"{release.baseline_auc:.4f}, gates {'passed' if release.gates_passed else 'failed'}) "
        f"is now {release.champion_uri}.",
        soft_wrap=True,
    )
    if release.self_approval_refused:
        out.print(f"  Self-approval refused: {release.self_approval_refused}", soft_wrap=True)
    out.print(f"  Approved by {release.approver!r}, registered by {release.registrant!r}.")
    out.print(f"  loopline models card {name} {version}", soft_wrap=True)
    out.print(f"  loopline approvals list {name} {version}", soft_wrap=True)
    out.print(f"  loopline lineage {release.model_uri}", soft_wrap=True)
    out.print("  loopline audit verify", soft_wrap=True)


def demo(
    experiment: Annotated[
        str, typer.Option(help="Experiment to track the runs in.")
    ] = DEMO_EXPERIMENT,
    folds: Annotated[int, typer.Option(min=2, max=10, help="Cross-validation folds.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed of the split, the folds and the models.")] = 42,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train a few models and a baseline, track and compare them, release the best one."""
    client = open_client(uri)
    if as_json:
        render.print_json(
            demo_json(run_demo(client, experiment=experiment, folds=folds, seed=seed))
        )
        return
    with render.console(stderr=True).status("Running the demo...") as status:
        result = run_demo(
            client,
            experiment=experiment,
            folds=folds,
            seed=seed,
            progress=lambda message: status.update(f"Running the demo: {message}..."),
        )
    _print_summary(result)
