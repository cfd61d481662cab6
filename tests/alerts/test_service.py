"""AlertService over SQLite and PostgreSQL, with real HTTP and SMTP receivers on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from loopline.alerts import (
    AlertService,
    AlertSink,
    EmailSink,
    LogSink,
    WebhookSink,
    alert_payload,
)
from loopline.entities import Alert, Severity
from loopline.errors import InvalidArgumentError, NotFoundError
from loopline.store.alerts import AlertTables


class Clock:
    def __init__(self, now: int = 1_700_000_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _email(port: int) -> EmailSink:
    return EmailSink(
        "127.0.0.1", port, sender="l@x.org", recipients=["ops@x.org"], retries=0, timeout_s=5
    )


def _webhook(url: str) -> WebhookSink:
    return WebhookSink(url, retries=1, backoff_s=0.01, timeout_s=5)


def _statuses(alert: Alert) -> dict[str, tuple[str, int]]:
    return {d.sink: (d.status, d.attempts) for d in alert.deliveries}


@pytest.fixture
def make_service(store: AlertTables) -> Any:
    services: list[AlertService] = []

    def make(sinks: list[AlertSink], **kwargs: Any) -> AlertService:
        services.append(AlertService(store, sinks, **kwargs))
        return services[-1]

    yield make
    for service in services:
        service.close()


def test_an_alert_reaches_every_sink_and_each_delivery_is_recorded(
    make_service: Any, receiver: Any, smtp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="loopline.alerts")
    service = make_service([LogSink(), _webhook(receiver.url), _email(smtp.port)])

    alert = service.raise_alert(
        "monitor/churn", "Drift on age", "PSI 0.31", details={"psi": 0.31}, dedup_key="d"
    )

    assert _statuses(alert) == {
        "email": ("delivered", 1),
        "log": ("delivered", 1),
        "webhook": ("delivered", 1),
    }
    assert service.get_alert(alert.alert_id) == alert
    assert receiver.bodies() == [alert_payload(alert)]
    assert receiver.bodies()[0]["alert_id"] == alert.alert_id
    assert smtp.messages[0]["Subject"] == "[loopline] warning: Drift on age"
    assert "PSI 0.31" in smtp.messages[0].get_payload()
    assert [r.getMessage() for r in caplog.records] == [
        f"[warning] Drift on age: PSI 0.31 (alert {alert.alert_id} from monitor/churn)"
    ]


@pytest.mark.parametrize("webhook_fault", ["http-500", "closed-port"])
def test_failing_sinks_never_raise_and_never_lose_the_record(
    make_service: Any, receiver: Any, closed_port: int, smtp: Any, webhook_fault: str
) -> None:
    receiver.status = 500
    url = receiver.url if webhook_fault == "http-500" else f"http://127.0.0.1:{closed_port}/h"
    email_port = smtp.port
    smtp.stop()  # the mail server is down
    collected: list[Alert] = []

    class Collect(AlertSink):
        name = "collect"

        def send(self, alert: Alert) -> None:
            collected.append(alert)

    service = make_service([_webhook(url), _email(email_port), Collect()])

    alert = service.raise_alert("validation/orders", "Blocking check failed", "3 nulls")

    assert service.get_alert(alert.alert_id).title == "Blocking check failed"
    deliveries = {d.sink: d for d in alert.deliveries}
    assert (deliveries["webhook"].status, deliveries["webhook"].attempts) == ("failed", 2)
    expected = "HTTP 500 from" if webhook_fault == "http-500" else "ConnectError posting to"
    assert expected in (deliveries["webhook"].last_error or "")
    assert deliveries["email"].status == "failed"
    assert "ConnectionRefusedError" in (deliveries["email"].last_error or "")
    assert (deliveries["collect"].status, deliveries["collect"].last_error) == ("delivered", None)
    assert [a.alert_id for a in collected] == [alert.alert_id]


def test_retry_failed_delivers_once_the_receivers_are_back(
    make_service: Any, make_receiver: Callable[..., Any], closed_port: int, smtp: Any
) -> None:
    email_port = smtp.port
    smtp.stop()
    service = make_service(
        [LogSink(), _webhook(f"http://127.0.0.1:{closed_port}/h"), _email(email_port)]
    )
    alert = service.raise_alert("monitor/churn", "Drift", "PSI 0.3", severity="critical")
    assert _statuses(alert)["webhook"] == ("failed", 2)
    assert service.retry_failed() != []  # still down: failed again, attempts add up
    assert _statuses(service.get_alert(alert.alert_id))["webhook"] == ("failed", 4)

    receiver = make_receiver(closed_port)
    smtp.start()
    [retried] = service.retry_failed()

    assert _statuses(retried) == {
        "email": ("delivered", 3),
        "log": ("delivered", 1),
        "webhook": ("delivered", 5),
    }
    assert [b["alert_id"] for b in receiver.bodies()] == [alert.alert_id]
    assert smtp.messages[0]["Subject"] == "[loopline] critical: Drift"
    assert service.retry_failed() == []


def test_retry_failed_picks_up_deliveries_left_pending_by_a_crash(
    make_service: Any, store: AlertTables, receiver: Any
) -> None:
    clock = Clock()
    service = make_service([_webhook(receiver.url)], clock=clock)
    crashed, _ = store.create_alert(
        source="s", severity=Severity.INFO, title="t", message="m", details={},
        dedup_key=None, sinks=["webhook", "gone"], now=clock.now,
    )  # fmt: skip

    clock.now += 60_000
    assert service.retry_failed(stale_pending_s=300) == []  # maybe still in flight
    clock.now += 300_000
    [retried] = service.retry_failed(stale_pending_s=300)

    assert _statuses(retried) == {"gone": ("pending", 0), "webhook": ("delivered", 1)}
    assert receiver.bodies()[0]["alert_id"] == crashed.alert_id


def test_a_duplicate_within_the_window_is_not_recorded_or_delivered_again(
    make_service: Any, receiver: Any
) -> None:
    clock = Clock()
    service = make_service([_webhook(receiver.url)], clock=clock, dedup_window_s=600)

    first = service.raise_alert("monitor", "Drift", "PSI 0.3", dedup_key="drift:age")
    clock.now += 599_000
    again = service.raise_alert("monitor", "Drift", "PSI 0.4", dedup_key="drift:age")
    other = service.raise_alert("monitor", "Drift", "PSI 0.4", dedup_key="drift:income")
    clock.now += 2_000
    later = service.raise_alert("monitor", "Drift", "PSI 0.5", dedup_key="drift:age")
    short = service.raise_alert("m", "D", "x", dedup_key="drift:age", dedup_window_s=0)

    assert again == first
    assert service.suppressed == 1
    assert len({first.alert_id, other.alert_id, later.alert_id, short.alert_id}) == 4
    assert [b["message"] for b in receiver.bodies()] == ["PSI 0.3", "PSI 0.4", "PSI 0.5", "x"]


def test_an_escalation_is_not_suppressed(make_service: Any, receiver: Any) -> None:
    service = make_service([_webhook(receiver.url)])

    warning = service.raise_alert("m", "Drift", "PSI 0.25", dedup_key="k")
    critical = service.raise_alert("m", "Drift", "PSI 0.6", dedup_key="k", severity="critical")
    again = service.raise_alert("m", "Drift", "PSI 0.3", dedup_key="k")

    assert warning.alert_id != critical.alert_id
    assert again == critical
    assert [b["severity"] for b in receiver.bodies()] == ["warning", "critical"]


def test_list_alerts_by_severity_source_and_time_with_page_tokens(make_service: Any) -> None:
    clock = Clock()
    service = make_service([], clock=clock)
    for i, severity in enumerate(["info", "critical", "warning", "critical", "critical"]):
        clock.now += 1
        service.raise_alert(f"src{i % 2}", f"a{i}", "m", severity=severity)

    titles = [a.title for a in service.list_alerts(severity=Severity.CRITICAL)]
    assert titles == ["a4", "a3", "a1"]
    assert [a.title for a in service.list_alerts(severity="info")] == ["a0"]
    assert [a.title for a in service.list_alerts(source="src1")] == ["a3", "a1"]
    assert [a.title for a in service.list_alerts(since=clock.now - 1)] == ["a4", "a3"]
    page = service.list_alerts(severity="critical", max_results=2)
    assert [a.title for a in page] == ["a4", "a3"]
    rest = service.list_alerts(severity="critical", max_results=2, page_token=page.next_token)
    assert ([a.title for a in rest], rest.next_token) == (["a1"], None)


def test_bad_arguments_are_refused_before_anything_is_recorded(make_service: Any) -> None:
    service = make_service([])
    with pytest.raises(InvalidArgumentError, match="'severity' parameter of raise_alert"):
        service.raise_alert("s", "t", "m", severity="fatal")
    with pytest.raises(InvalidArgumentError, match="'title' parameter"):
        service.raise_alert("s", " ", "m")
    with pytest.raises(InvalidArgumentError, match="'dedup_window_s' parameter"):
        service.raise_alert("s", "t", "m", dedup_key="k", dedup_window_s=-1)
    with pytest.raises(InvalidArgumentError, match="'severity' parameter of list_alerts"):
        service.list_alerts(severity="loud")
    with pytest.raises(NotFoundError):
        service.get_alert(1)
    assert service.list_alerts() == []
    with pytest.raises(InvalidArgumentError, match="unique names"):
        AlertService(service.store, [LogSink(), LogSink()])


def test_concurrent_raise_alert_from_threads(make_service: Any, receiver: Any) -> None:
    service = make_service([LogSink(), _webhook(receiver.url)])
    barrier = threading.Barrier(8)
    raised: list[Alert] = []

    def worker(n: int) -> None:
        barrier.wait()
        for i in range(5):
            raised.append(service.raise_alert(f"w{n}", f"alert {n}.{i}", "m"))
            raised.append(service.raise_alert("w", "same", "m", dedup_key="shared"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stored = service.list_alerts(max_results=1000)
    assert len(stored) == 41  # 40 distinct alerts and one "shared"
    assert len({a.alert_id for a in raised if a.dedup_key == "shared"}) == 1
    assert service.suppressed == 39
    assert all(
        _statuses(a) == {"log": ("delivered", 1), "webhook": ("delivered", 1)} for a in stored
    )
    assert sorted(b["alert_id"] for b in receiver.bodies()) == sorted(a.alert_id for a in stored)
