"""``loopline models evaluation``: a stored evaluation shown with the baseline side by side."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from typer.testing import Result

import loopline
from loopline.demo import DEMO_MODEL, run_demo

Invoke = Callable[..., Result]


@pytest.fixture
def evaluated(client: loopline.Client) -> Any:
    """The demo's released model, evaluated again with a site column as sensitive feature."""
    run_demo(client, folds=2)
    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.data.assign(target=bunch.target)
    train, test = train_test_split(frame, test_size=0.5, random_state=0)
    sites = ["north" if i % 3 else "south" for i in range(len(test))]
    test = test.assign(site=sites)
    test.loc[test.index[:4], "site"] = "tiny"
    return client.release.evaluate(
        f"models:/{DEMO_MODEL}/1", test, target="target", train_data=train,
        sensitive_features="site", importance=False, actor="analyst",
    )  # fmt: skip


def test_shows_model_and_baseline_side_by_side_with_fairness(
    invoke: Invoke, evaluated: Any
) -> None:
    result = invoke("models", "evaluation", DEMO_MODEL, "1")
    assert result.exit_code == 0, result.output
    out = result.stdout
    model = evaluated.result["model"]["metrics"]
    baseline = evaluated.result["baseline"]["metrics"]
    auc_row = next(line for line in out.splitlines() if line.startswith("│ auc "))
    cells = [cell.strip() for cell in auc_row.strip("│").split("│")]
    assert cells[0] == "auc"
    assert float(cells[1]) == pytest.approx(model["auc"], rel=1e-5)
    assert float(cells[2]) == pytest.approx(baseline["auc"], rel=1e-5)
    assert cells[4] == "model"
    assert f"Evaluation {evaluated.id} of {DEMO_MODEL} v1 by analyst" in out
    assert "beats the baseline" in out
    assert "Fairness by site" in out
    assert "not scored (< 30)" in out  # the 4-row group is reported, not scored
    counts = {g["group"]: g["count"] for g in evaluated.result["fairness"]["site"]["groups"]}
    assert counts["tiny"] == 4


def test_json_and_earlier_evaluations(invoke: Invoke, evaluated: Any) -> None:
    latest = json.loads(invoke("models", "evaluation", DEMO_MODEL, "1", "--json").stdout)
    assert latest == json.loads(json.dumps(asdict(evaluated)))
    earlier = invoke("models", "evaluation", DEMO_MODEL, "1", "--id", "1", "--json")
    first = json.loads(earlier.stdout)
    assert first["id"] == 1
    assert first["created_by"] != "analyst"
    assert first["result"]["fairness"] is None


def test_unknown_evaluation_or_version_is_a_clean_error(invoke: Invoke, evaluated: Any) -> None:
    missing = invoke("models", "evaluation", DEMO_MODEL, "1", "--id", "99")
    assert missing.exit_code == 1
    assert "has no evaluation 99" in missing.stderr
    none = invoke("models", "evaluation", DEMO_MODEL, "7")
    assert none.exit_code == 1
    assert "Traceback" not in none.output
