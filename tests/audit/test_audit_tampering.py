"""Tampering with the stored log by raw SQL: verify names the first broken entry and the reason.

Each test changes the database directly, as someone with write access to it would, on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from loopline.audit import AuditEvent, AuditLog
from loopline.entities.audit import chain_hash

RawSql = Callable[..., None]


def broken(log: AuditLog) -> tuple[int | None, str]:
    result = log.verify()
    assert not result.ok
    assert result.reason is not None
    return result.first_broken, result.reason


@pytest.mark.parametrize(
    "statement",
    [
        'UPDATE audit_events SET details_json = \'{"alias": "x"}\' WHERE seq = 2',
        "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2",
        "UPDATE audit_events SET at = at + 1 WHERE seq = 2",
        "UPDATE audit_events SET details_json = 'not json' WHERE seq = 2",
        "UPDATE audit_events SET hash = 'f' WHERE seq = 2",
    ],
)
def test_an_edited_entry_is_named(
    log: AuditLog, seeded: list[AuditEvent], sql: RawSql, statement: str
) -> None:
    sql(statement)
    seq, reason = broken(log)
    assert seq == 2
    assert "does not match its stored hash (the entry was edited)" in reason


def test_an_edited_entry_with_its_hash_recomputed_breaks_the_next_link(
    log: AuditLog, seeded: list[AuditEvent], sql: RawSql
) -> None:
    e = seeded[2]
    forged = chain_hash(seq=3, at=e.at, actor="mallory", action=e.action,
                        object_type=e.object_type, object_id=e.object_id, details=e.details,
                        prev_hash=e.prev_hash)  # fmt: skip
    sql("UPDATE audit_events SET actor = 'mallory', hash = :h WHERE seq = 3", h=forged)
    seq, reason = broken(log)
    assert seq == 4
    assert "prev_hash matches no entry, not entry 3" in reason


def test_a_deleted_middle_entry_is_named(
    log: AuditLog, seeded: list[AuditEvent], sql: RawSql
) -> None:
    sql("DELETE FROM audit_events WHERE seq = 3")
    seq, reason = broken(log)
    assert seq == 4
    assert reason.startswith("entry 3 is missing (deleted)")


def test_deleted_first_entries_are_named(
    log: AuditLog, seeded: list[AuditEvent], sql: RawSql
) -> None:
    sql("DELETE FROM audit_events WHERE seq <= 2")
    seq, reason = broken(log)
    assert seq == 3
    assert reason.startswith("entries 1-2 are missing (deleted)")


def test_a_deleted_entry_with_the_rest_renumbered_is_named(
    log: AuditLog, seeded: list[AuditEvent], sql: RawSql
) -> None:
    sql("DELETE FROM audit_events WHERE seq = 3")
    sql("UPDATE audit_events SET seq = -seq WHERE seq > 3")
    sql("UPDATE audit_events SET seq = -seq - 1 WHERE seq < 0")
    seq, reason = broken(log)
    assert seq == 3
    assert "prev_hash matches no entry, not entry 2" in reason


def test_a_forged_entry_appended_with_a_made_up_hash_is_named(
    log: AuditLog, seeded: list[AuditEvent], sql: RawSql
) -> None:
    sql(
        "INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, details_json,"
        " prev_hash, hash) VALUES (6, 2000, 'mallory', 'alias.set', 'model', 'churn', '{}',"
        " :prev, :h)",
        prev=seeded[-1].hash,
        h="a" * 64,
    )
    seq, reason = broken(log)
    assert seq == 6
    assert "does not match its stored hash" in reason


def test_a_forged_entry_inserted_in_the_middle_is_named(
    log: AuditLog, seeded: list[AuditEvent], sql: RawSql
) -> None:
    # The forger renumbers the later entries and chains a well-formed entry after entry 2.
    sql("UPDATE audit_events SET seq = -seq WHERE seq >= 3")
    sql("UPDATE audit_events SET seq = -seq + 1 WHERE seq < 0")
    content: dict[str, Any] = {
        "seq": 3,
        "at": 1025,
        "actor": "mallory",
        "action": "approval.approve",
        "object_type": "model_version",
        "object_id": "churn/2",
        "details": {},
        "prev_hash": seeded[1].hash,
    }
    sql(
        "INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, details_json,"
        " prev_hash, hash) VALUES (:seq, :at, :actor, :action, :object_type, :object_id, '{}',"
        " :prev_hash, :h)",
        h=chain_hash(**content),
        **{k: v for k, v in content.items() if k != "details"},
    )
    seq, reason = broken(log)
    assert seq == 4
    assert "chained after entry 2, not after entry 3 (entries were inserted before it)" in reason


def test_a_forged_first_entry_is_named(
    log: AuditLog, seeded: list[AuditEvent], sql: RawSql
) -> None:
    sql(
        "INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, details_json,"
        " prev_hash, hash) VALUES (0, 1, 'mallory', 'x', 'model', 'churn', '{}', :p, :h)",
        p="0" * 64,
        h="b" * 64,
    )
    seq, reason = broken(log)
    assert seq == 0
    assert "below the first seq 1 (an entry was inserted)" in reason


def test_a_forged_entry_claiming_to_be_first_is_named(
    log: AuditLog, seeded: list[AuditEvent], sql: RawSql
) -> None:
    sql("UPDATE audit_events SET prev_hash = :p WHERE seq = 4", p="0" * 64)
    seq, reason = broken(log)
    assert seq == 4
    assert "chained as the first entry, not after entry 3" in reason


def test_swapped_entries_are_named(log: AuditLog, seeded: list[AuditEvent], sql: RawSql) -> None:
    sql("UPDATE audit_events SET seq = -1 WHERE seq = 2")
    sql("UPDATE audit_events SET seq = 2 WHERE seq = 3")
    sql("UPDATE audit_events SET seq = 3 WHERE seq = -1")
    seq, reason = broken(log)
    assert seq == 2
    assert "chained after entry 3, which comes later (entries were reordered)" in reason


def test_a_truncated_tail_is_found_only_with_an_anchor(
    log: AuditLog, seeded: list[AuditEvent], sql: RawSql
) -> None:
    anchor = log.head()
    assert anchor == (5, seeded[-1].hash)
    sql("DELETE FROM audit_events WHERE seq >= 4")
    assert log.verify().ok  # a consistent prefix: nothing inside the database tells
    result = log.verify(anchor=anchor)
    assert (result.ok, result.first_broken) == (False, 5)
    assert result.reason == "the anchored entry 5 is missing (the log was truncated)"


def test_a_rewritten_tail_is_found_with_an_anchor(
    log: AuditLog, seeded: list[AuditEvent], sql: RawSql
) -> None:
    anchor = log.head()
    sql("DELETE FROM audit_events WHERE seq = 5")
    log.record("mallory", "alias.set", "model", "fraud", {"alias": "champion"})
    assert log.verify().ok
    result = log.verify(anchor=anchor)
    assert (result.ok, result.first_broken) == (False, 5)
    assert result.reason == "the anchored entry 5 has another hash (the log was rewritten)"
