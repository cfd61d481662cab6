"""AlertTables on SQLite and PostgreSQL: records, filters, paging, dedup, delivery updates."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from loopline.entities import Alert, Severity
from loopline.errors import NotFoundError
from loopline.store.alerts import AlertTables


def _create(store: AlertTables, **overrides: Any) -> tuple[Alert, bool]:
    values: dict[str, Any] = {
        "source": "monitor/churn",
        "severity": Severity.WARNING,
        "title": "Drift on age",
        "message": "PSI 0.31 > 0.2",
        "details": {},
        "dedup_key": None,
        "sinks": ["log", "webhook"],
        "now": 1_000,
    }
    values.update(overrides)
    return store.create_alert(**values)


def test_an_alert_is_recorded_with_a_pending_delivery_per_sink(store: AlertTables) -> None:
    details = {"column": "age", "psi": 0.31, "nested": {"n": [1, 2]}}
    alert, created = _create(store, details=details, dedup_key="drift:age")

    assert created
    got = store.get_alert(alert.alert_id)
    assert got == alert
    assert (got.source, got.severity, got.title, got.message) == (
        "monitor/churn",
        Severity.WARNING,
        "Drift on age",
        "PSI 0.31 > 0.2",
    )
    assert got.details == details
    assert got.dedup_key == "drift:age"
    assert got.created_at == 1_000
    assert [(d.sink, d.status, d.attempts, d.last_error) for d in got.deliveries] == [
        ("log", "pending", 0, None),
        ("webhook", "pending", 0, None),
    ]


def test_get_alert_of_an_unknown_id_is_not_found(store: AlertTables) -> None:
    with pytest.raises(NotFoundError, match="No alert with id 42"):
        store.get_alert(42)


def test_list_alerts_filters_newest_first_and_pages(store: AlertTables) -> None:
    for i in range(6):
        _create(
            store,
            source="monitor" if i % 2 else "validation",
            severity=Severity.CRITICAL if i >= 4 else Severity.INFO,
            title=f"a{i}",
            now=1_000 + i,
        )

    everything, more = store.list_alerts()
    assert [a.title for a in everything] == ["a5", "a4", "a3", "a2", "a1", "a0"]
    assert not more
    assert [a.title for a in store.list_alerts(source="monitor")[0]] == ["a5", "a3", "a1"]
    assert [a.title for a in store.list_alerts(severity=Severity.CRITICAL)[0]] == ["a5", "a4"]
    assert [a.title for a in store.list_alerts(since=1_003)[0]] == ["a5", "a4", "a3"]
    page, more = store.list_alerts(offset=2, limit=2)
    assert ([a.title for a in page], more) == (["a3", "a2"], True)
    page, more = store.list_alerts(offset=4, limit=2)
    assert ([a.title for a in page], more) == (["a1", "a0"], False)


def test_find_latest_alert_by_dedup_key_since_a_time(store: AlertTables) -> None:
    _create(store, dedup_key="k", now=100)
    second, _ = _create(store, dedup_key="k", now=200)
    _create(store, dedup_key="other", now=300)

    assert store.find_latest_alert("k", since=0) == second
    assert store.find_latest_alert("k", since=200) == second
    assert store.find_latest_alert("k", since=201) is None
    assert store.find_latest_alert("missing", since=0) is None


def test_create_alert_returns_the_existing_alert_within_the_dedup_window(
    store: AlertTables,
) -> None:
    first, _ = _create(store, dedup_key="k", now=1_000)

    again, created = _create(store, dedup_key="k", now=1_500, dedup_since=500)
    assert (again, created) == (first, False)
    later, created = _create(store, dedup_key="k", now=2_500, dedup_since=1_001)
    assert created
    assert later.alert_id != first.alert_id
    assert len(store.list_alerts()[0]) == 2


def test_concurrent_writers_with_one_dedup_key_record_one_alert(store: AlertTables) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def raise_one() -> None:
        barrier.wait()
        results.append(_create(store, dedup_key="same", now=1_000, dedup_since=0)[1])

    threads = [threading.Thread(target=raise_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * 7 + [True]
    assert len(store.list_alerts()[0]) == 1


def test_update_alert_delivery_adds_attempts(store: AlertTables) -> None:
    alert, _ = _create(store)

    store.update_alert_delivery(
        alert.alert_id,
        "webhook",
        status="failed",
        last_error="HTTP 500",
        now=2_000,
        attempts_added=3,
    )
    store.update_alert_delivery(
        alert.alert_id, "webhook", status="delivered", last_error=None, now=3_000, attempts_added=1
    )

    webhook = store.get_alert(alert.alert_id).deliveries[1]
    assert (webhook.status, webhook.attempts, webhook.last_error, webhook.updated_at) == (
        "delivered",
        4,
        None,
        3_000,
    )
    with pytest.raises(NotFoundError, match="sink 'email'"):
        store.update_alert_delivery(alert.alert_id, "email", status="failed", last_error="x", now=1)


def test_a_delivery_is_claimed_once_and_listed_by_status(store: AlertTables) -> None:
    alert, _ = _create(store)
    store.update_alert_delivery(
        alert.alert_id, "webhook", status="failed", last_error="down", now=2_000, attempts_added=1
    )

    failed = store.list_alert_deliveries(status="failed")
    assert [(i, d.sink) for i, d in failed] == [(alert.alert_id, "webhook")]
    assert store.list_alert_deliveries(status="failed", sinks=["log"]) == []
    assert store.list_alert_deliveries(status="pending", updated_before=1_000) == []
    assert len(store.list_alert_deliveries(status="pending", updated_before=1_001)) == 1

    claim = {"status": "failed", "updated_at": 2_000, "now": 3_000}
    assert store.claim_alert_delivery(alert.alert_id, "webhook", **claim)
    assert not store.claim_alert_delivery(alert.alert_id, "webhook", **claim)
    assert store.get_alert(alert.alert_id).deliveries[1].status == "pending"
