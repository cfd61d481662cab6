"""``loopline models evaluation`` and the tables every evaluation is shown with.

A stored evaluation reads side by side: each metric of the model next to the baseline's and the
difference, then the comparison the gate uses, the confusion matrix, fairness by group (unscored
groups marked) and the most important features.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.console import RenderableType
from rich.table import Table

from loopline.cli import JsonOption, UriOption, open_client, render
from loopline.entities import StoredEvaluation
from loopline.errors import NotFoundError
from loopline.modeling.evaluation import LOWER_IS_BETTER

__all__ = ["evaluation", "evaluation_views", "metrics_table", "print_evaluation"]

TOP_FEATURES = 10
_FAIRNESS = (
    ("selection_rate", "selection rate"),
    ("true_positive_rate", "TPR"),
    ("false_positive_rate", "FPR"),
    ("accuracy", "accuracy"),
)
_DISPARITIES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
)


def _number(value: Any) -> str:
    return render.fmt_value(value) if isinstance(value, int | float) else "-"


def metrics_table(result: Mapping[str, Any]) -> Table:
    """Model and baseline metrics in one table; the better side of each difference is named."""
    model = (result.get("model") or {}).get("metrics") or {}
    baseline_part = result.get("baseline") or {}
    baseline = baseline_part.get("metrics") or {}
    strategy = baseline_part.get("strategy", "baseline")
    table = Table(title=f"Model vs baseline ({strategy})", title_justify="left")
    for header in ("metric", "model", "baseline", "difference", "better"):
        table.add_column(header, justify="left" if header in ("metric", "better") else "right")
    for metric in sorted(set(model) | set(baseline)):
        ours, theirs = model.get(metric), baseline.get(metric)
        numeric = isinstance(ours, int | float) and isinstance(theirs, int | float)
        difference = ours - theirs if numeric else None  # type: ignore[operator]
        better = "-"
        if difference is not None and difference != 0:
            model_wins = (difference < 0) if metric in LOWER_IS_BETTER else (difference > 0)
            better = "model" if model_wins else "baseline"
        table.add_row(metric, _number(ours), _number(theirs), _number(difference), better)
    return table


def _comparison(result: Mapping[str, Any]) -> str:
    found = result.get("comparison")
    if not found:
        return f"No baseline comparison: {(result.get('notes') or {}).get('comparison', '-')}"
    verdict = "beats" if found.get("beats") else "does NOT beat"
    return (
        f"On {found['metric']} the model ({_number(found.get('model_value'))}) {verdict} the "
        f"baseline ({_number(found.get('baseline_value'))}) by {_number(found.get('margin'))}; "
        f"the policy asks for at least {_number(found.get('min_margin'))}."
    )


def _confusion(result: Mapping[str, Any]) -> Table | None:
    model = result.get("model") or {}
    matrix, labels = model.get("confusion_matrix"), model.get("labels") or []
    if not matrix:
        return None
    threshold = model.get("threshold")
    title = "Confusion matrix" + (f" (threshold {threshold})" if threshold is not None else "")
    table = Table(title=title, title_justify="left", caption="rows: actual; columns: predicted")
    table.add_column("")
    for label in labels:
        table.add_column(str(label), justify="right")
    for label, row in zip(labels, matrix, strict=False):
        table.add_row(str(label), *(str(count) for count in row))
    return table


def _fairness(result: Mapping[str, Any]) -> Iterator[Table]:
    for feature, report in sorted((result.get("fairness") or {}).items()):
        disparities = ", ".join(f"{key} {_number(report.get(key))}" for key in _DISPARITIES)
        table = Table(title=f"Fairness by {feature}: {disparities}", title_justify="left")
        for header in ("group", "count", *(label for _, label in _FAIRNESS)):
            table.add_column(header, justify="left" if header == "group" else "right")
        for group in report.get("groups", []):
            if group.get("scored"):
                cells = [_number(group.get(key)) for key, _ in _FAIRNESS]
            else:
                minimum = report.get("min_group_size")
                cells = [f"not scored (< {minimum})", *("" for _ in _FAIRNESS[1:])]
            table.add_row(str(group.get("group")), str(group.get("count")), *cells)
        yield table


def _importance(result: Mapping[str, Any]) -> Table | None:
    rows = result.get("importance") or []
    if not rows:
        return None
    table = Table(title=f"Permutation importance (top {TOP_FEATURES})", title_justify="left")
    for header in ("rank", "feature", "mean", "std"):
        table.add_column(header, justify="left" if header == "feature" else "right")
    for row in rows[:TOP_FEATURES]:
        mean, std = _number(row.get("importance_mean")), _number(row.get("importance_std"))
        table.add_row(str(row.get("rank")), str(row.get("feature")), mean, std)
    return table


def evaluation_views(stored: StoredEvaluation) -> list[RenderableType]:
    """What ``loopline models evaluation`` prints for one stored evaluation, in order."""
    result = stored.result
    views: list[RenderableType] = [
        f"Evaluation {stored.id} of {stored.name} v{stored.version} by {stored.created_by} at "
        f"{render.fmt_time(stored.created_at)}: {result.get('task')} on {result.get('n_rows')} "
        f"rows (baseline fitted on {result.get('n_train_rows')}).",
        metrics_table(result),
        _comparison(result),
    ]
    views += [view for view in (_confusion(result), _importance(result)) if view is not None]
    views += list(_fairness(result))
    views += [f"Note ({key}): {text}" for key, text in sorted((result.get("notes") or {}).items())]
    return views


def evaluation(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.", show_default=False)],
    version: Annotated[int, typer.Argument(metavar="VERSION", help="Version number.")],
    evaluation_id: Annotated[
        int | None, typer.Option("--id", help="A stored evaluation's id (default: the latest).")
    ] = None,
    uri: UriOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show a stored evaluation: model and baseline side by side, fairness, importance."""
    release = open_client(uri).release
    if evaluation_id is None:
        stored = release.get_evaluation(name, version)
    else:
        found = [e for e in release.list_evaluations(name, version) if e.id == evaluation_id]
        if not found:
            raise NotFoundError(
                f"Version {version} of {name!r} has no evaluation {evaluation_id}.",
                model=name, version=version, evaluation=evaluation_id,
            )  # fmt: skip
        stored = found[0]
    if json_output:
        render.print_json(asdict(stored))
        return
    print_evaluation(stored)


def print_evaluation(stored: StoredEvaluation) -> None:
    out = render.console()
    for view in evaluation_views(stored):
        if isinstance(view, str):
            out.print(view, soft_wrap=True, markup=False)
        else:
            out.print(view)
