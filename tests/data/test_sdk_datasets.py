"""``loopline.datasets`` and ``loopline.log_input`` through the fluent SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import loopline


@pytest.fixture
def local(tmp_path: Path) -> Iterator[None]:
    loopline.set_uri(str(tmp_path))
    yield
    loopline.set_uri(None)


def test_create_get_list_load_and_log_input(local: None, tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3], "label": ["a", "b", "a"]})
    version = loopline.datasets.create("toy", frame, tags={"owner": "qa"})

    with loopline.start_run() as run:
        loopline.log_input(version, context="training")

    assert loopline.datasets.get("toy").tags == {"owner": "qa"}
    assert [d.name for d in loopline.datasets.list()] == ["toy"]
    assert loopline.datasets.load("toy").equals(frame)
    assert [c.run_id for c in loopline.datasets.consumers("toy", 1)] == [run.id]
    assert version.uri == "datasets:/toy/1"


def test_infer_and_validate_through_the_sdk(local: None) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3], "label": ["a", "b", "a"]})
    version = loopline.datasets.create("toy", frame)
    suite = loopline.datasets.infer_checks(version)

    assert loopline.datasets.validate(version, suite).passed
    assert loopline.datasets.get("toy").status.value == "passed"
    bad = pd.DataFrame({"x": [1, 2, 99], "label": ["a", "b", "z"]})
    report = loopline.datasets.validate(bad, suite)
    assert not report.passed
    assert "x" in {f.columns[0] for f in report.findings}
    assert isinstance(suite, loopline.datasets.CheckSuite)
