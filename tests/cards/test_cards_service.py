"""CardService on SQLite and PostgreSQL: generated facts, revisions, conflicts, bad edits, audit."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from loopline.audit import AuditLog
from loopline.cards import CardService
from loopline.entities.cards import HUMAN_SECTIONS, SECTIONS
from loopline.errors import ConflictError, InvalidArgumentError, NotFoundError
from loopline.registry import RegistryService

FEATURES = ["mean radius", "mean texture", "mean smoothness", "worst area"]
Registered = Any  # the conftest's record of the registered model


def card_events(audit: AuditLog) -> list[Any]:
    return list(audit.list(object_type="model_card"))


def test_card_is_filled_from_the_registry_and_the_stored_evaluation(
    cards: CardService, registered: Registered, evaluated: dict[str, Any]
) -> None:
    card = cards.get_card("cancer", 1)

    assert (card.name, card.version, card.revision, card.sections) == ("cancer", 1, 0, {})
    assert card.model.flavor == "sklearn"
    assert card.model.digest.startswith("sha256:")
    assert card.model.created_by == "ana"
    assert [c["name"] for c in card.model.signature["inputs"]] == FEATURES  # type: ignore[index]
    [training] = card.datasets
    assert (training.name, training.version, training.context) == ("cancer-train", 1, "training")
    assert (training.num_rows, training.num_columns) == (569, 5)
    assert [c["name"] for c in training.columns] == [*FEATURES, "target"]
    assert training.columns[0]["type"] == "float"
    [evaluation] = card.evaluations
    assert evaluation.created_by == "eve"
    assert evaluation.task == "classification"
    assert evaluation.n_samples == 569
    assert evaluation.metrics == evaluated["model"]["metrics"]
    assert evaluation.baseline == "auto"
    assert evaluation.baseline_metrics == evaluated["baseline"]["metrics"]
    assert evaluation.comparison == evaluated["comparison"]
    assert evaluation.comparison is not None
    assert evaluation.comparison["beats"] is True
    assert next(i["feature"] for i in evaluation.importance) == "worst area"
    groups = {g["group"]: g for g in evaluation.fairness["size"]["groups"]}
    assert groups["tiny <b>"] == {**groups["tiny <b>"], "count": 12, "scored": False}
    assert groups["large"]["scored"]
    assert groups["large"]["count"] == 273

    markdown = cards.render_card("cancer", 1)
    auc = evaluated["model"]["metrics"]["auc"]
    assert f"| auc | {auc:.4g} | 0.5 |" in markdown
    assert "| tiny &lt;b\\> | 12 | not scored | not scored | not scored | not scored |" in markdown
    assert "| cancer-train v1 | training | 569 | 5 |" in markdown
    assert "On auc the model beats the baseline" in markdown


def test_a_card_without_evaluation_says_so(cards: CardService, registered: Registered) -> None:
    markdown = cards.render_card("cancer", 1)

    assert "No evaluation is stored for this version yet" in markdown
    assert "No fairness" not in markdown  # quantitative analyses stop at the missing evaluation


def test_each_edit_is_a_new_revision_merged_over_the_last(
    cards: CardService, audit: AuditLog, registered: Registered
) -> None:
    first = cards.update_card("cancer", 1, {"intended_use": "Triage support."}, actor="ana")
    second = cards.update_card(
        "cancer", 1, {"factors": "Tumour size.", "metrics": "AUC drives release."}, actor="bob"
    )
    third = cards.update_card("cancer", 1, {"intended_use": None}, actor="ana")

    assert (first.revision, second.revision, third.revision) == (1, 2, 3)
    assert second.sections == {
        "intended_use": "Triage support.", "factors": "Tumour size.",
        "metrics": "AUC drives release.",
    }  # fmt: skip
    assert list(third.sections) == ["factors", "metrics"]
    assert (third.updated_by, second.updated_by) == ("ana", "bob")
    history = cards.list_card_revisions("cancer", 1)
    assert [(r.revision, r.updated_by) for r in history] == [(1, "ana"), (2, "bob"), (3, "ana")]
    assert history[0].sections == {"intended_use": "Triage support."}
    assert cards.get_card("cancer", 1, revision=1).sections == history[0].sections
    events = card_events(audit)
    assert [(e.action, e.object_id, e.actor) for e in events] == [
        ("model_card.update", "cancer/1", "ana"), ("model_card.update", "cancer/1", "bob"),
        ("model_card.update", "cancer/1", "ana"),
    ]  # fmt: skip
    assert events[2].details == {"revision": 3, "sections": ["intended_use"],
                                 "removed": ["intended_use"]}  # fmt: skip
    assert audit.verify().ok


def test_an_edit_that_changes_nothing_stores_nothing(
    cards: CardService, audit: AuditLog, registered: Registered
) -> None:
    cards.update_card("cancer", 1, {"factors": "Size."}, actor="ana")

    again = cards.update_card("cancer", 1, {"factors": "Size.", "intended_use": "  "}, actor="bob")

    assert again.revision == 1
    assert len(cards.list_card_revisions("cancer", 1)) == 1
    assert len(card_events(audit)) == 1


def test_a_stale_expected_revision_is_a_conflict_and_stores_nothing(
    cards: CardService, audit: AuditLog, registered: Registered
) -> None:
    cards.update_card("cancer", 1, {"factors": "Size."}, actor="ana", expected_revision=0)
    cards.update_card("cancer", 1, {"factors": "Size, age."}, actor="bob", expected_revision=1)

    with pytest.raises(ConflictError, match="is at revision 2, not the expected revision 1"):
        cards.update_card("cancer", 1, {"factors": "Mine."}, actor="ana", expected_revision=1)

    card = cards.get_card("cancer", 1)
    assert (card.revision, card.sections) == (2, {"factors": "Size, age."})
    assert len(card_events(audit)) == 2


def test_unknown_sections_are_refused_naming_the_allowed_ones(
    cards: CardService, audit: AuditLog, registered: Registered
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        cards.update_card(
            "cancer", 1, {"intended_use": "ok", "purpose": "x", "owner": "y"}, actor="ana"
        )

    message = caught.value.message
    assert "['purpose', 'owner']" in message
    assert all(section in message for section in SECTIONS)
    assert caught.value.details["allowed"] == list(SECTIONS)
    assert cards.list_card_revisions("cancer", 1) == []
    assert card_events(audit) == []


@pytest.mark.parametrize(
    ("sections", "expected_revision", "fragment"),
    [
        ({}, None, "non-empty mapping"),
        (["intended_use"], None, "non-empty mapping"),
        ({"factors": 3}, None, "must be a string or None. Got int"),
        ({"factors": "x" * 50_001}, None, "at most 50000 characters"),
        ({"factors": "a\x00b"}, None, "without NUL"),
        ({"factors": "x"}, -1, "'expected_revision'"),
        ({"factors": "x"}, True, "'expected_revision'"),
    ],
)
def test_bad_edits_change_nothing(
    cards: CardService, registered: Registered, sections: Any, expected_revision: Any,
    fragment: str,
) -> None:  # fmt: skip
    with pytest.raises(InvalidArgumentError, match=fragment.replace("(", r"\(")):
        cards.update_card("cancer", 1, sections, actor="ana", expected_revision=expected_revision)

    assert cards.list_card_revisions("cancer", 1) == []


def test_missing_models_versions_and_revisions_are_not_found(
    cards: CardService, registered: Registered
) -> None:
    with pytest.raises(NotFoundError, match="No registered model named 'nope'"):
        cards.get_card("nope", 1)
    with pytest.raises(NotFoundError, match="has no version 7"):
        cards.update_card("cancer", 7, {"factors": "x"}, actor="ana")
    with pytest.raises(NotFoundError, match="has no revision 4"):
        cards.get_card("cancer", 1, revision=4)


def test_concurrent_edits_lose_no_revision(
    cards: CardService, registry: RegistryService, registered: Registered
) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(HUMAN_SECTIONS))

    def edit(section: str) -> None:
        try:
            barrier.wait()
            cards.update_card("cancer", 1, {section: f"by {section}"}, actor=section)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(s,)) for s in HUMAN_SECTIONS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    history = cards.list_card_revisions("cancer", 1)
    assert [r.revision for r in history] == [1, 2, 3, 4]
    assert history[-1].sections == {s: f"by {s}" for s in HUMAN_SECTIONS}


def test_concurrent_compare_and_set_lets_exactly_one_win(
    cards: CardService, registered: Registered
) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def edit(who: str) -> None:
        barrier.wait()
        try:
            cards.update_card("cancer", 1, {"factors": who}, actor=who, expected_revision=0)
            outcomes.append("stored")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(f"user{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * 3 + ["stored"]
    assert [r.revision for r in cards.list_card_revisions("cancer", 1)] == [1]


def test_with_the_release_service_cards_show_gates_history_and_void_approvals(
    tracking: Any, registry: RegistryService, audit: AuditLog, registered: Registered
) -> None:
    from loopline.data.factory import dataset_service
    from loopline.release.service import ReleaseService

    datasets = dataset_service(tracking.store, tracking.artifacts)
    release = ReleaseService(tracking, registry, datasets, audit)
    cards = CardService(tracking.store, registry, audit, datasets, release=release)
    data = registered.frame[[*FEATURES, "target"]]
    release.evaluate("models:/cancer/1", data, target="target", actor="eve")
    release.validate("cancer", 1, actor="eve")
    release.request_approval("cancer", 1, actor="ana", reason="ready")
    release.approve("cancer", 1, actor="carol", reason="looks right")

    card = cards.get_card("cancer", 1)
    assert [(t["from_status"], t["to_status"]) for t in card.transitions] == [
        ("registered", "validated"), ("validated", "pending_approval"),
        ("pending_approval", "approved"),
    ]  # fmt: skip
    assert [(a["approver"], a["valid"]) for a in card.approvals] == [("carol", True)]
    assert card.gates
    assert all(g["passed"] for g in card.gates)
    assert card.evaluations[-1].data == "an in-memory DataFrame (569 rows)"

    release.evaluate("models:/cancer/1", data.head(300), target="target", actor="eve")
    voided = cards.get_card("cancer", 1)
    markdown = cards.render_card("cancer", 1)

    assert [(a["valid"], a["void_reason"]) for a in voided.approvals] == [
        (False, "gate results changed")
    ]
    assert "| carol | approve | looks right | no: gate results changed |" in markdown
    assert "### Release gates" in markdown
