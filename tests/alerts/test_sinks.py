"""Each sink against a real receiver on 127.0.0.1: what it sends, and how it fails."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import loopline.alerts
import loopline.alerts.service
import loopline.alerts.settings
import loopline.alerts.sinks
from loopline.alerts import (
    AlertDeliveryError,
    AlertSink,
    DeliveryOutcome,
    EmailSink,
    LogSink,
    WebhookSink,
    alert_payload,
)
from loopline.entities import Alert, Severity

ALERT = Alert(
    alert_id=7,
    created_at=1_700_000_000_123,
    source="monitor/churn",
    severity=Severity.CRITICAL,
    title="Drift on age",
    message="PSI 0.31 > 0.2 on column age.",
    details={"column": "age", "psi": 0.31},
    dedup_key="drift:churn:age",
)


def test_all_is_sorted_and_complete() -> None:
    names = loopline.alerts.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    submodules = (loopline.alerts.service, loopline.alerts.settings, loopline.alerts.sinks)
    assert set(names) == {name for module in submodules for name in module.__all__}
    for name in names:
        assert getattr(loopline.alerts, name) is not None


def test_webhook_posts_the_alert_as_json_with_extra_headers(receiver: Any) -> None:
    sink = WebhookSink(receiver.url, headers={"Authorization": "Bearer t0k"})
    try:
        outcome = sink.deliver(ALERT)
    finally:
        sink.close()

    assert (outcome.delivered, outcome.attempts, outcome.error) == (True, 1, None)
    [post] = receiver.posts
    assert post.path == "/hook"
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["Authorization"] == "Bearer t0k"
    assert post.body == alert_payload(ALERT)
    assert post.body["severity"] == "critical"
    assert post.body["details"] == {"column": "age", "psi": 0.31}
    assert post.body["created_at_iso"] == "2023-11-14T22:13:20.123+00:00"


def test_webhook_retries_a_500_with_backoff_then_reports_it(receiver: Any) -> None:
    receiver.status = 500
    sink = WebhookSink(receiver.url, retries=2, backoff_s=0.01)
    outcome = sink.deliver(ALERT)
    sink.close()

    assert (outcome.delivered, outcome.attempts) == (False, 3)
    assert outcome.error is not None
    assert outcome.error.startswith("HTTP 500 from http://127.0.0.1")
    assert len(receiver.posts) == 3


def test_webhook_does_not_retry_a_client_error(receiver: Any) -> None:
    receiver.status = 400
    sink = WebhookSink(receiver.url, retries=3, backoff_s=0.01)
    outcome = sink.deliver(ALERT)
    sink.close()

    assert (outcome.delivered, outcome.attempts) == (False, 1)
    assert len(receiver.posts) == 1


def test_webhook_errors_do_not_reveal_the_url_path(closed_port: int) -> None:
    sink = WebhookSink(
        f"http://127.0.0.1:{closed_port}/services/T0/B0/s3cr3t", retries=0, timeout_s=2
    )
    with pytest.raises(AlertDeliveryError) as caught:
        sink.send(ALERT)
    sink.close()

    assert caught.value.retryable
    assert "ConnectError posting to http://127.0.0.1" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


def test_log_sink_logs_at_the_alert_severity(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="loopline.alerts")
    for severity, level in [
        (Severity.INFO, logging.INFO),
        (Severity.WARNING, logging.WARNING),
        (Severity.CRITICAL, logging.CRITICAL),
    ]:
        caplog.clear()
        assert LogSink().deliver(Alert(**{**_fields(ALERT), "severity": severity})).delivered
        [record] = caplog.records
        assert (record.name, record.levelno) == ("loopline.alerts", level)
        assert record.getMessage() == (
            f"[{severity.value}] Drift on age: PSI 0.31 > 0.2 on column age. "
            "(alert 7 from monitor/churn)"
        )
        assert record.alert["dedup_key"] == "drift:churn:age"  # type: ignore[attr-defined]


def _fields(alert: Alert) -> dict[str, Any]:
    return {name: getattr(alert, name) for name in Alert.__dataclass_fields__}


def test_email_subject_and_plain_text_body(smtp: Any) -> None:
    sink = EmailSink(
        "127.0.0.1", smtp.port, sender="loopline@example.com", recipients=["a@x.org", "b@x.org"]
    )
    assert sink.deliver(ALERT).delivered

    [msg] = smtp.messages
    assert msg["Subject"] == "[loopline] critical: Drift on age"
    assert msg["From"] == "loopline@example.com"
    assert msg["To"] == "a@x.org, b@x.org"
    assert msg.get_content_type() == "text/plain"
    body = msg.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert body.startswith("PSI 0.31 > 0.2 on column age.\n")
    assert "Severity:  critical" in body
    assert "Source:    monitor/churn" in body
    assert "Alert id:  7" in body
    assert '"psi": 0.31' in body
    assert smtp.handler.envelopes[0].rcpt_tos == ["a@x.org", "b@x.org"]


def test_email_subject_stays_on_one_line(smtp: Any) -> None:
    sink = EmailSink("127.0.0.1", smtp.port, sender="l@x.org", recipients=["a@x.org"])
    assert sink.deliver(Alert(**{**_fields(ALERT), "title": "two\r\nlines"})).delivered
    assert smtp.messages[0]["Subject"] == "[loopline] critical: two lines"


def test_email_to_a_server_that_is_down_is_retried_then_reported(closed_port: int) -> None:
    sink = EmailSink(
        "127.0.0.1", closed_port, sender="l@x.org", recipients=["a@x.org"], backoff_s=0.01
    )
    outcome = sink.deliver(ALERT)

    assert (outcome.delivered, outcome.attempts) == (False, 2)
    assert outcome.error is not None
    assert f"ConnectionRefusedError talking to 127.0.0.1:{closed_port}" in outcome.error


def test_email_rejected_by_the_server_is_not_retried(smtp: Any) -> None:
    smtp.handler.reject_with = "554 5.7.1 Message rejected"
    sink = EmailSink("127.0.0.1", smtp.port, sender="l@x.org", recipients=["a@x.org"], retries=3)
    outcome = sink.deliver(ALERT)

    assert (outcome.delivered, outcome.attempts) == (False, 1)
    assert outcome.error == f"SMTP 554 from 127.0.0.1:{smtp.port}: 5.7.1 Message rejected"


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_email_over_starttls_with_login(tmp_path: Path, smtp_factory: Any) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"ops", b"pw")
        if ok:
            logins.append((data.login, data.password))
        return AuthResult(success=ok, handled=False)

    server = smtp_factory(
        tls_context=server_tls,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticate,
    )
    common: dict[str, Any] = {"sender": "l@x.org", "recipients": ["a@x.org"], "starttls": True}
    client_tls = ssl.create_default_context(cafile=str(cert_file))
    good = EmailSink(
        "127.0.0.1", server.port, ssl_context=client_tls, username="ops", password="pw", **common
    )
    assert good.deliver(ALERT) == DeliveryOutcome(True, 1, None)
    assert logins == [(b"ops", b"pw")]
    assert len(server.messages) == 1

    bad = EmailSink(
        "127.0.0.1", server.port, ssl_context=client_tls, username="ops", password="no", **common
    )
    outcome = bad.deliver(ALERT)
    assert (outcome.delivered, outcome.attempts) == (False, 1)  # a refused login is permanent
    assert outcome.error is not None
    assert "SMTP 535" in outcome.error

    untrusted = EmailSink("127.0.0.1", server.port, retries=0, **common)
    outcome = untrusted.deliver(ALERT)
    assert not outcome.delivered
    assert outcome.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.error


class _Exploding(AlertSink):
    name = "exploding"
    retries = 1

    def send(self, alert: Alert) -> None:
        raise RuntimeError("boom")


def test_any_exception_from_a_custom_sink_becomes_a_failed_outcome() -> None:
    outcome = _Exploding().deliver(ALERT)
    assert (outcome.delivered, outcome.attempts, outcome.error) == (False, 2, "RuntimeError: boom")
