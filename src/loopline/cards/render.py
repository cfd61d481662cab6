"""Render a :class:`~loopline.entities.cards.ModelCard` as Markdown or as a standalone HTML page.

Both formats come from one outline (:func:`loopline.cards.outline.outline`): per section, a list of
blocks (headings, generated text, tables, and Markdown written by people). Only the last step, kept
here, differs:

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

from loopline.cards.outline import Block, outline, provenance
from loopline.entities.cards import SECTIONS, ModelCard
from loopline.errors import InvalidArgumentError

__all__ = [
    "FORMATS", "Block", "check_format", "outline", "render", "render_html", "render_markdown",
]  # fmt: skip

FORMATS = ("markdown", "html")


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
    parts = [f"# Model card: {_md(card.name)} v{card.version}", f"_{_md(provenance(card))}_"]
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
        f'<p class="provenance">{e(provenance(card))}</p>',
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
