"""The audit log through AuditLog: record, list, and verify, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from loopline.audit import AuditEvent, AuditLog
from loopline.entities.audit import GENESIS_HASH
from loopline.errors import InvalidArgumentError


def test_record_chains_each_event_to_the_previous(log: AuditLog) -> None:
    first = log.record("ana", "model.create", "model", "churn")
    second = log.record("bob", "alias.set", "model", "churn", {"alias": "champion", "v": [1, 2]})
    assert (first.seq, first.prev_hash, first.details) == (1, GENESIS_HASH, {})
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert second.hash == second.expected_hash() != first.hash
    assert second.at > first.at
    assert log.list() == [first, second]  # what is read back equals what was returned
    assert log.head() == (2, second.hash)


def test_the_hash_is_sha256_of_canonical_json(log: AuditLog) -> None:
    event = log.record("ana", "a", "model", "m", {"b": 1, "a": "é"})
    canonical = (
        '{"action":"a","actor":"ana","at":1000,"details":{"a":"é","b":1},"object_id":"m",'
        f'"object_type":"model","prev_hash":"{GENESIS_HASH}","seq":1}}'
    )
    assert event.hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_time_never_decreases_along_the_chain(log: AuditLog) -> None:
    times = iter([5000, 4000])
    log.clock = lambda: next(times)
    assert [log.record("a", "x", "t", "o").at for _ in range(2)] == [5000, 5000]


def test_list_filters(log: AuditLog, seeded: list[AuditEvent]) -> None:
    assert [e.seq for e in log.list(object_type="model")] == [1, 2, 5]
    assert [e.seq for e in log.list(object_type="model", object_id="churn")] == [1, 2]
    assert [e.seq for e in log.list(actor="bob")] == [2, 5]
    assert [e.seq for e in log.list(since=1010, until=1030)] == [2, 3]
    assert [e.seq for e in log.list(actor="bob", since=1020)] == [5]
    assert log.list(actor="nobody") == []


def test_list_pages(log: AuditLog, seeded: list[AuditEvent]) -> None:
    first = log.list(max_results=2)
    second = log.list(max_results=2, page_token=first.next_token)
    last = log.list(max_results=2, page_token=second.next_token)
    assert [[e.seq for e in p] for p in (first, second, last)] == [[1, 2], [3, 4], [5]]
    assert last.next_token is None
    assert log.list(max_results=5).next_token is None


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", "a", "t", "o"), "actor"),
        (("u", "a" * 129, "t", "o"), "action"),
        (("u", "a", None, "o"), "object_type"),
        (("u", "a", "t", " "), "object_id"),
        (("u", "a", "t", "o", {"x": float("nan")}), "details"),
        (("u", "a", "t", "o", {"x": object()}), "details"),
        (("u", "a", "t", "o", ["x"]), "details"),
    ],
)
def test_record_rejects_bad_input_and_writes_nothing(
    log: AuditLog, args: tuple[Any, ...], field: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=field) as caught:
        log.record(*args)
    assert caught.value.details["field"] == field
    assert log.list() == []


def test_list_rejects_bad_arguments(log: AuditLog) -> None:
    with pytest.raises(InvalidArgumentError, match="since"):
        log.list(since="yesterday")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="max_results"):
        log.list(max_results=0)
    with pytest.raises(InvalidArgumentError, match="page_token"):
        log.list(page_token="bogus")


def test_verify_passes_on_an_untouched_log(log: AuditLog, seeded: list[AuditEvent]) -> None:
    result = log.verify()
    assert (result.ok, result.checked, result.first_broken, result.reason) == (True, 5, None, None)
    assert log.verify(anchor=log.head()).ok


def test_verify_passes_on_an_empty_log(log: AuditLog) -> None:
    result = log.verify()
    assert (result.ok, result.checked) == (True, 0)
    assert log.head() is None


def test_verify_reads_a_long_log_in_chunks(log: AuditLog) -> None:
    for i in range(2100):
        log.record("bot", "tick", "job", str(i))
    assert log.verify().checked == 2100
