"""Render a :class:`~loopline.entities.cards.ModelCard` as Markdown or as a standalone HTML page.

Both formats come from one outline (:func:`outline`): per section, a list of blocks (headings,
generated text, tables, and Markdown written by people). Only the last step differs:

- Markdown: generated text and table cells are escaped so that no name, group or value can start
  Markdown or HTML; human Markdown is kept, except that ``<`` becomes ``&lt;``, so no renderer
  downstream meets a raw HTML tag in it.
- HTML: every generated string goes through :func:`html.escape`; human Markdown is rendered by
  markdown-it-py with raw HTML off (a ``<script>`` comes out as text) and its link check on
  (``javascript:`` links stay text). The page carries a Content-Security-Policy that allows no
  script at all, in case anything ever slipped through.

Examples:
    >>> from loopline.entities import ModelVersion
    >>> from loopline.entities.cards import ModelCard
    >>> version = ModelVersion("churn", 1, "r" * 32, "model", "sklearn", "sha256:" + "0" * 64,
    ...                        "ana", 0)
    >>> card = ModelCard(version, revision=1, sections={"intended_use": "Retention <b>offers</b>"})
    >>> "## Intended use" in render_markdown(card)
    True
    >>> "Retention &lt;b&gt;offers&lt;/b&gt;" in render_html(card)
    True
"""

from __future__ import annotations

import html
import re
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
from loopline.errors import InvalidArgumentError

__all__ = [
    "FORMATS", "Block", "check_format", "outline", "render", "render_html", "render_markdown",
]  # fmt: skip

FORMATS = ("markdown", "html")
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


def _provenance(card: ModelCard) -> str:
    text = f"Model {card.name} version {card.version}, filled from the loopline registry."
    if card.revision:
        text += (f" Human-written text: revision {card.revision} by {card.updated_by}, "
                 f"{fmt_time(card.updated_at)}.")  # fmt: skip
    else:
        text += " No human-written text yet."
    return text


# -- Markdown ----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]>|#!~])")


def _md(text: str) -> str:
    """Generated text as literal Markdown on one line: specials escaped, ``<`` as an entity."""
    flat = " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;")
    return _MD_SPECIAL.sub(r"\\\1", flat)


def _md_human(text: str) -> str:
    return text.replace("<", "&lt;").strip()


def _md_block(block: Block) -> str:
    if block.kind == "heading":
        return f"### {_md(block.text)}"
    if block.kind == "human":
        return _md_human(block.text)
    if block.kind == "table":
        lines = ["| " + " | ".join(_md(h) for h in block.header) + " |",
                 "|" + "---|" * len(block.header)]  # fmt: skip
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in block.rows]
        return "\n".join(lines)
    return _md(block.text)


def render_markdown(card: ModelCard) -> str:
    """The card as Markdown (GitHub-flavoured tables)."""
    parts = [f"# Model card: {_md(card.name)} v{card.version}", f"_{_md(_provenance(card))}_"]
    for title, blocks in outline(card):
        parts.append(f"## {title}")
        parts += [_md_block(block) for block in blocks]
    return "\n\n".join(parts) + "\n"


# -- HTML --------------------------------------------------------------------------------------

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;"
    "padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}"
    "section{margin-bottom:1.5rem}.provenance{color:#666}.human{border-left:3px solid #9bd;"
    "padding-left:.75rem}"
)


def _human_html(text: str) -> str:
    from markdown_it import MarkdownIt

    # "js-default": raw HTML off (it is escaped as text), tables on, unsafe link schemes refused.
    rendered: str = MarkdownIt("js-default").render(text)
    return f'<div class="human">{rendered}</div>'


def _html_block(block: Block) -> str:
    e = html.escape
    if block.kind == "heading":
        return f"<h3>{e(block.text)}</h3>"
    if block.kind == "human":
        return _human_html(block.text)
    if block.kind == "table":
        head = "".join(f"<th>{e(h)}</th>" for h in block.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in block.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f"<p>{e(block.text)}</p>"


def render_html(card: ModelCard) -> str:
    """The card as one standalone HTML page (no script, no external resource)."""
    e = html.escape
    title = f"Model card: {card.name} v{card.version}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="provenance">{e(_provenance(card))}</p>',
    ]
    for name, (title_text, blocks) in zip(SECTIONS, outline(card), strict=True):
        parts.append(f'<section id="{name}"><h2>{e(title_text)}</h2>')
        parts += [_html_block(block) for block in blocks]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def check_format(format: object) -> str:
    """``format`` if it is one of :data:`FORMATS`, else InvalidArgumentError."""
    if format not in FORMATS:
        raise InvalidArgumentError(
            f"The 'format' parameter must be one of {list(FORMATS)}. "
            f"Got {str(format)[:40]!r} instead.",
            field="format",
        )
    return str(format)


def render(card: ModelCard, format: str = "markdown") -> str:
    """The card in ``format`` (one of :data:`FORMATS`)."""
    return render_html(card) if check_format(format) == "html" else render_markdown(card)
