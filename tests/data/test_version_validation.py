"""Validating versions: reports stored with the version, failed versions not consumed, alerts."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from loopline.alerts import AlertService, LogSink
from loopline.data.checks import Check
from loopline.data.service import DatasetService
from loopline.data.suites import CheckSuite
from loopline.entities import VersionStatus
from loopline.errors import ValidationFailedError
from loopline.tracking.service import TrackingService


@pytest.fixture
def alerting(datasets: DatasetService) -> DatasetService:
    datasets.alerts = AlertService(datasets.store, [LogSink()])
    return datasets


def test_inferred_checks_pass_on_their_own_version(
    datasets: DatasetService, weather: pd.DataFrame
) -> None:
    version = datasets.create("weather", weather)
    suite = datasets.infer_checks(version)

    report = datasets.validate(version, suite)

    assert report.passed
    stored = datasets.get("weather", 1)
    assert stored.status is VersionStatus.PASSED
    assert stored.validation is not None
    assert stored.validation["suite"] == suite.name


def test_blocking_failure_records_failed_version_blocks_consumers_and_alerts(
    alerting: DatasetService,
    tracking: TrackingService,
    weather: pd.DataFrame,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = alerting.create("weather", weather)
    suite = alerting.infer_checks(good)
    bad = weather.copy()
    bad.loc[bad.index[:5], "origin"] = "BOS"  # not an origin seen in the reference

    with caplog.at_level(logging.WARNING, logger="loopline.alerts"):
        version = alerting.create("weather", bad, checks=suite)

    assert version.status is VersionStatus.FAILED
    findings = version.validation["findings"] if version.validation else []
    origin = next(f for f in findings if f["columns"] == ["origin"])
    assert origin["failure_count"] == 5
    assert {c["value"] for c in origin["failure_cases"]} == {"BOS"}
    with pytest.raises(ValidationFailedError, match="failed validation"):
        alerting.load("weather", version.version)
    run = tracking.create_run(tracking.create_experiment("e"))
    with pytest.raises(ValidationFailedError):
        alerting.log_input(run.id, version)
    assert len(alerting.load("weather", version.version, allow_failed=True)) == len(bad)
    alerts = alerting.alerts.list_alerts() if alerting.alerts else []
    assert [a.source for a in alerts] == [version.uri]
    assert version.uri in caplog.text


def test_warning_severity_gives_a_warned_version_that_can_be_used(
    datasets: DatasetService, weather: pd.DataFrame
) -> None:
    suite = CheckSuite("soft", [Check.range("temp", min=200, severity="warning")])

    version = datasets.create("weather", weather, checks=suite)

    assert version.status is VersionStatus.WARNED
    assert len(datasets.load("weather")) == len(weather)
