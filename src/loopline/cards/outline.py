"""The outline of a :class:`~loopline.entities.cards.ModelCard`: its sections as format-free blocks.

Per section, a list of :class:`Block` (headings, generated text, tables, and Markdown written by
people), filled from the registry: model details, signature and release history, metrics,
evaluation and training data (with profiles), and the quantitative analyses (baseline comparison,
feature importance, coefficients, confusion matrix, fairness by group). Nothing here is escaped;
:mod:`loopline.cards.render` turns an outline into Markdown or HTML.

Examples:
    >>> from loopline.entities import ModelVersion, cards
    >>> model = ModelVersion("fraud", 2, "f" * 32, "model", "xgboost", "sha256:" + "1" * 64, "bo",
    ...                      0)
    >>> card = cards.ModelCard(model, revision=0, sections={})
    >>> [title for title, _ in outline(card)][:4]
    ['Model details', 'Intended use', 'Factors', 'Metrics']
    >>> [block.text for block in dict(outline(card))["Intended use"]]
    ['Not written yet.']
    >>> provenance(card)
    'Model fraud version 2, filled from the loopline registry. No human-written text yet.'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from loopline.entities.cards import (
    HUMAN_SECTIONS,
    SECTION_TITLES,
    SECTIONS,
    CardDataset,
    CardEvaluation,
    ModelCard,
)

__all__ = ["Block", "fmt_number", "fmt_time", "outline", "provenance"]

_TOP_FEATURES = 10
_PROFILE_COLUMNS = 25
_NOT_WRITTEN = "Not written yet."
_RATES = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy")
_DISPARITIES = (
    ("demographic_parity_difference", "Demographic parity difference"),
    ("demographic_parity_ratio", "Demographic parity ratio"),
    ("equalized_odds_difference", "Equalized odds difference"),
)


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a section: ``kind`` is ``heading``, ``text``, ``human`` or ``table``.

    ``text`` is generated prose; ``human`` is Markdown a person wrote; a ``table`` has ``header``
    and ``rows`` of plain strings.
    """

    kind: str
    text: str = ""
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def _heading(text: str) -> Block:
    return Block("heading", text)


def _text(text: str) -> Block:
    return Block("text", text)


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> Block:
    return Block("table", header=header, rows=tuple(rows))


def fmt_time(ms: int | None) -> str:
    if ms is None:
        return "n/a"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_number(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".4g")
    return str(value)


# -- the outline -------------------------------------------------------------------------------


def _model_details(card: ModelCard) -> list[Block]:
    m = card.model
    rows = [
        ("Name", m.name), ("Version", str(m.version)), ("Flavor", m.flavor),
        ("Artifact digest", m.digest), ("Registered by", m.created_by),
        ("Created", fmt_time(m.created_at)), ("Run", m.run_id),
        ("Artifact path", m.artifact_path), ("Release status", m.status.value),
        ("Aliases", ", ".join(m.aliases) or "none"),
        ("Tags", ", ".join(f"{k}={v}" for k, v in sorted(m.tags.items())) or "none"),
    ]  # fmt: skip
    blocks = [_table(("Field", "Value"), rows)]
    for label, text in (("Model", card.model_description), ("Version", m.description)):
        if text:
            blocks += [_heading(f"{label} description"), Block("human", text)]
    blocks += _signature(m.signature)
    blocks += _release_history(card)
    return blocks


def _signature(signature: dict[str, Any] | None) -> list[Block]:
    if not signature:
        return [_heading("Signature"), _text("No signature was recorded for this version.")]
    blocks = [_heading("Signature")]
    for part in ("inputs", "outputs"):
        columns = signature.get(part) or []
        if not columns:
            continue
        rows = [
            (str(c.get("name")), str(c.get("type")), fmt_number(c.get("nullable")),
             ", ".join(map(str, c.get("categories") or [])) or "")
            for c in columns
        ]  # fmt: skip
        blocks += [_text(part.capitalize()), _table(("Column", "Type", "Nullable", "Categories"),
                                                     rows)]  # fmt: skip
    return blocks


def _release_history(card: ModelCard) -> list[Block]:
    blocks = []
    if card.transitions:
        rows = [
            (fmt_time(t.get("at")), str(t.get("from_status") or "-"), str(t.get("to_status")),
             str(t.get("actor")), str(t.get("reason") or ""))
            for t in card.transitions
        ]  # fmt: skip
        blocks += [_heading("Release history"),
                   _table(("When", "From", "To", "By", "Reason"), rows)]  # fmt: skip
    if card.approvals:
        decisions = [
            (fmt_time(a.get("at")), str(a.get("approver")), str(a.get("decision")),
             str(a.get("reason") or ""),
             "yes" if a.get("valid", True) else f"no: {a.get('void_reason')}")
            for a in card.approvals
        ]  # fmt: skip
        header = ("When", "Approver", "Decision", "Reason", "Counts")
        blocks += [_heading("Approvals"), _table(header, decisions)]
    if card.gates:
        checks = [(str(g.get("name")), "pass" if g.get("passed") else "FAIL",
                   str(g.get("detail") or "")) for g in card.gates]  # fmt: skip
        blocks += [_heading("Release gates"), _table(("Gate", "Result", "Detail"), checks)]
    return blocks


def _latest(card: ModelCard) -> CardEvaluation | None:
    return card.evaluations[-1] if card.evaluations else None


def _metrics(card: ModelCard) -> list[Block]:
    latest = _latest(card)
    if latest is None:
        return [_text("No evaluation is stored for this version yet, so no metric is reported.")]
    names = ", ".join(latest.metrics) or "none"
    blocks = [_text(f"Metrics of the {latest.task or 'model'} evaluation: {names}.")]
    if latest.comparison:
        c = latest.comparison
        blocks.append(_text(
            f"The release decision uses {c.get('metric')}: the model must beat the non-ML "
            f"baseline ({latest.baseline or 'auto'}) by at least "
            f"{fmt_number(c.get('min_margin'))}."
        ))  # fmt: skip
    if latest.fairness:
        blocks.append(_text(
            "Fairness: selection rate, true and false positive rates and accuracy per group; "
            "demographic parity difference and ratio and equalized odds difference between "
            "groups (fairlearn)."
        ))  # fmt: skip
    return blocks


def _evaluation_data(card: ModelCard) -> list[Block]:
    if not card.evaluations:
        return [_text("No evaluation is stored for this version yet.")]
    rows = [
        (fmt_time(e.created_at), e.created_by, e.data or "not recorded", fmt_number(e.n_samples),
         e.task or "n/a")
        for e in card.evaluations
    ]  # fmt: skip
    blocks = [_table(("Evaluated", "By", "Data", "Rows", "Task"), rows)]
    other = [d for d in card.datasets if d.context != "training"]
    if other:
        blocks += [_text("Other dataset versions the run read:"), _dataset_table(other)]
    return blocks


def _dataset_table(datasets: list[CardDataset]) -> Block:
    rows = [
        (f"{d.name} v{d.version}", d.context, fmt_number(d.num_rows), fmt_number(d.num_columns),
         d.digest or "n/a")
        for d in datasets
    ]  # fmt: skip
    return _table(("Dataset", "Context", "Rows", "Columns", "Digest"), rows)


def _training_data(card: ModelCard) -> list[Block]:
    training = [d for d in card.datasets if d.context == "training"]
    if not training:
        return [_text("No training dataset version was recorded for this version's run.")]
    blocks = [_dataset_table(training)]
    for d in training:
        if not d.columns:
            continue
        blocks.append(_heading(f"Profile of {d.name} v{d.version}"))
        rows = [
            (str(c.get("name")), str(c.get("type")), fmt_number(c.get("missing_rate")),
             fmt_number(c.get("distinct")), fmt_number(c.get("min")),
             fmt_number(c.get("mean")), fmt_number(c.get("max")))
            for c in d.columns[:_PROFILE_COLUMNS]
        ]  # fmt: skip
        header = ("Column", "Type", "Missing rate", "Distinct", "Min", "Mean", "Max")
        blocks.append(_table(header, rows))
        if len(d.columns) > _PROFILE_COLUMNS:
            blocks.append(_text(f"{len(d.columns) - _PROFILE_COLUMNS} more columns not shown."))
    return blocks


def _quantitative(card: ModelCard) -> list[Block]:
    latest = _latest(card)
    if latest is None:
        return [_text("No evaluation is stored for this version yet.")]
    blocks = [_heading("Evaluation and baseline comparison")]
    names = list(latest.metrics) + [n for n in latest.baseline_metrics if n not in latest.metrics]
    rows = [
        (n, fmt_number(latest.metrics.get(n)), fmt_number(latest.baseline_metrics.get(n)))
        for n in names
    ]
    blocks.append(_table(("Metric", "Model", f"Baseline ({latest.baseline or 'auto'})"), rows))
    c = latest.comparison
    if c:
        verdict = "beats" if c.get("beats") else "does NOT beat"
        blocks.append(_text(
            f"On {c.get('metric')} the model {verdict} the baseline: "
            f"{fmt_number(c.get('model_value'))} against {fmt_number(c.get('baseline_value'))}, "
            f"a margin of {fmt_number(c.get('margin'))} (required: "
            f"{fmt_number(c.get('min_margin'))})."
        ))  # fmt: skip
    if latest.importance:
        blocks.append(_heading("Feature importance"))
        top = sorted(latest.importance, key=lambda i: i.get("rank") or 0)[:_TOP_FEATURES]
        ranks = [
            (fmt_number(i.get("rank")), str(i.get("feature")),
             fmt_number(i.get("importance_mean")), fmt_number(i.get("importance_std")))
            for i in top
        ]  # fmt: skip
        blocks.append(_table(("Rank", "Feature", "Importance (mean)", "Std"), ranks))
    if latest.coefficients:
        blocks.append(_heading("Coefficients (linear model)"))
        weights = sorted(latest.coefficients.items(), key=lambda kv: -abs(kv[1] or 0.0))
        pairs = [(feature, fmt_number(value)) for feature, value in weights[:_TOP_FEATURES]]
        blocks.append(_table(("Feature", "Coefficient"), pairs))
    blocks += _confusion(latest)
    blocks += _fairness(latest.fairness)
    if latest.notes:
        blocks.append(_heading("Notes on this evaluation"))
        notes = [(part, str(note)) for part, note in latest.notes.items()]
        blocks.append(_table(("Part", "Note"), notes))
    return blocks


def _confusion(evaluation: CardEvaluation) -> list[Block]:
    matrix, labels = evaluation.confusion_matrix, [str(label) for label in evaluation.labels]
    if not matrix or len(labels) != len(matrix):
        return []
    at = f" at threshold {fmt_number(evaluation.threshold)}" if evaluation.threshold else ""
    header = ("Actual / predicted", *labels)
    rows = [
        (label, *(fmt_number(n) for n in row)) for label, row in zip(labels, matrix, strict=False)
    ]
    return [_heading(f"Confusion matrix{at}"), _table(header, rows)]


def _fairness(reports: dict[str, dict[str, Any]]) -> list[Block]:
    if not reports:
        none = "No fairness analysis is stored (no sensitive feature was given)."
        return [_heading("Fairness by group"), _text(none)]
    blocks = []
    for feature, report in reports.items():
        blocks += [
            _heading(f"Fairness by group: {feature}"),
            _text(f"Groups with fewer than {fmt_number(report.get('min_group_size'))} rows are "
                  "listed but not scored, and left out of the differences."),
        ]  # fmt: skip
        rows = []
        for g in report.get("groups") or []:
            scored = g.get("scored", True)
            rates = tuple(fmt_number(g.get(k)) if scored else "not scored" for k in _RATES)
            rows.append((str(g.get("group")), fmt_number(g.get("count")), *rates))
        header = ("Group", "Count", "Selection rate", "TPR", "FPR", "Accuracy")
        blocks.append(_table(header, rows))
        disparities = [(label, fmt_number(report.get(key))) for key, label in _DISPARITIES]
        blocks.append(_table(("Disparity", "Value"), disparities))
    return blocks


_GENERATORS = {
    "model_details": _model_details,
    "metrics": _metrics,
    "evaluation_data": _evaluation_data,
    "training_data": _training_data,
    "quantitative_analyses": _quantitative,
}


def outline(card: ModelCard) -> list[tuple[str, list[Block]]]:
    """Every section of the paper, in order, as ``(title, blocks)``."""
    sections = []
    for name in SECTIONS:
        human = card.sections.get(name)
        if name in HUMAN_SECTIONS:
            blocks = [Block("human", human) if human else _text(_NOT_WRITTEN)]
        else:
            blocks = _GENERATORS[name](card)
            if human:
                blocks += [_heading("Notes"), Block("human", human)]
        sections.append((SECTION_TITLES[name], blocks))
    return sections


def provenance(card: ModelCard) -> str:
    """Where the card comes from: the model version, and who last wrote its human text."""
    text = f"Model {card.name} version {card.version}, filled from the loopline registry."
    if card.revision:
        text += (f" Human-written text: revision {card.revision} by {card.updated_by}, "
                 f"{fmt_time(card.updated_at)}.")  # fmt: skip
    else:
        text += " No human-written text yet."
    return text
