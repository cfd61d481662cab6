"""Rendering: every section of Mitchell et al. in both formats; hostile text comes out inert."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from loopline.cards.render import render, render_html, render_markdown
from loopline.entities import ModelVersion, TrainingDataset
from loopline.entities.cards import (
    SECTION_TITLES,
    SECTIONS,
    CardDataset,
    CardEvaluation,
    CardRevision,
    ModelCard,
)
from loopline.errors import InvalidArgumentError

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "section", "table",
    "thead", "tbody", "tr", "th", "td", "div", "em", "strong", "code", "pre", "ul", "ol", "li",
    "a", "blockquote", "br", "hr",
}  # fmt: skip


def hostile_card() -> ModelCard:
    """A card where every string a user or the data controls is an attack."""
    version = ModelVersion(
        name=f"churn{EVIL}", version=3, run_id="r" * 32, artifact_path=f"model{EVIL}",
        flavor="sklearn", digest="sha256:" + "0" * 64, created_by=f"mallory{EVIL}", created_at=0,
        signature={"inputs": [{"name": f"col{EVIL}", "type": "string", "nullable": True,
                               "categories": [EVIL]}], "outputs": []},
        description=f"Version notes {EVIL}", tags={f"k{EVIL}": f"v{EVIL}"}, aliases=["champion"],
        training_datasets=[TrainingDataset(f"d{EVIL}", 1, "sha256:1", "training")],
    )  # fmt: skip
    evaluation = CardEvaluation(
        created_at=0, created_by=f"eve{EVIL}", task="classification", n_samples=10,
        data=f"holdout{EVIL}", metrics={"auc": 0.9, f"m{EVIL}": 1.0}, baseline=f"rule{EVIL}",
        baseline_metrics={"auc": 0.5}, comparison={"metric": "auc", "model_value": 0.9,
        "baseline_value": 0.5, "margin": 0.4, "min_margin": 0.01, "beats": True},
        importance=[{"feature": f"f{EVIL}", "importance_mean": 0.2, "importance_std": 0.01,
                     "rank": 1}],
        coefficients={f"c{EVIL}": 1.5}, labels=[0, EVIL], confusion_matrix=[[1, 2], [3, 4]],
        fairness={f"sex{EVIL}": {"min_group_size": 30, "demographic_parity_ratio": 0.9,
                                 "groups": [{"group": f"g{EVIL}", "count": 40, "scored": True,
                                             "selection_rate": 0.5},
                                            {"group": "few", "count": 3, "scored": False}]}},
        notes={"importance": f"note {EVIL}"},
    )  # fmt: skip
    sections = {name: f"Text of {name} {EVIL} [link](javascript:alert(1))" for name in SECTIONS}
    return ModelCard(
        model=version, revision=2, sections=sections, model_description=f"Model {EVIL}",
        updated_by=f"ana{EVIL}", updated_at=0,
        datasets=[CardDataset(f"d{EVIL}", 1, "sha256:1", "training", 5, 1,
                              [{"name": f"x{EVIL}", "type": "string", "missing_rate": 0.0}])],
        evaluations=[evaluation],
        transitions=[{"from_status": "registered", "to_status": "validated",
                      "actor": f"bot{EVIL}", "reason": f"why {EVIL}", "at": 0}],
        approvals=[{"approver": f"carol{EVIL}", "decision": "approved",
                    "reason": f"ok {EVIL}", "at": 0}],
    )  # fmt: skip


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def test_html_escapes_every_hostile_string() -> None:
    page = render_html(hostile_card())

    parser = TagCollector()
    parser.feed(page)
    tags = {tag for tag, _ in parser.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert "script" not in tags
    assert "img" not in tags
    for tag, attrs in parser.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert "javascript:" not in (value or "").lower(), (tag, name, value)
    assert "<script" not in page.lower()
    assert page.count("&lt;script&gt;") >= 30  # each hostile string is there, as text
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page


def test_markdown_leaves_no_raw_html_tag() -> None:
    text = render_markdown(hostile_card())

    assert re.search(r"<[a-zA-Z/!]", text) is None
    assert "Text of intended_use &lt;script>" in text  # human Markdown kept, tags defused
    assert "| g&lt;script\\>alert" in text  # generated text escaped for Markdown


@pytest.mark.parametrize("format", ["markdown", "html"])
def test_every_section_of_the_paper_is_present_in_order(format: str) -> None:
    empty = ModelCard(model=hostile_card().model, revision=0, sections={})

    for card in (hostile_card(), empty):
        text = render(card, format)
        positions = [text.find(SECTION_TITLES[name]) for name in SECTIONS]
        assert -1 not in positions, dict(zip(SECTIONS, positions, strict=True))
        assert positions == sorted(positions)
    assert render(empty, format).count("Not written yet.") == 4  # the four human sections


def test_unknown_format_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match=r"must be one of \['markdown', 'html'\]"):
        render(hostile_card(), "pdf")


def test_entities_round_trip_through_json() -> None:
    card = hostile_card()
    revision = CardRevision("m", 1, 2, {"factors": "x"}, "ana", 5)

    assert ModelCard.from_dict(card.to_dict()) == card
    assert CardRevision.from_dict(revision.to_dict()) == revision


def test_not_scored_groups_and_the_baseline_are_side_by_side() -> None:
    text = render_markdown(hostile_card())

    assert "| auc | 0.9 | 0.5 |" in text
    assert "| few | 3 | not scored | not scored | not scored | not scored |" in text
    assert "On auc the model beats the baseline: 0.9 against 0.5, a margin of 0.4" in text
