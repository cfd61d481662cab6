"""Model cards (Mitchell et al. 2019): rendered from the registry, with human sections versioned."""

from loopline.cards.render import FORMATS, render, render_html, render_markdown
from loopline.cards.service import CardService

__all__ = ["FORMATS", "CardService", "render", "render_html", "render_markdown"]
