"""The demo: ``loopline.demo.run_demo`` on a given client, ``loopline demo`` in-process and as
the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

import loopline
from loopline.demo import DEMO_EXPERIMENT, DEMO_MODEL, run_demo
from loopline.errors import InvalidArgumentError, MissingDependencyError

Invoke = Callable[..., Result]
METRICS = ("test_auc", "test_accuracy", "test_f1", "test_log_loss", "test_brier")


def _parent_runs(client: loopline.Client, experiment: str = DEMO_EXPERIMENT) -> list[Any]:
    return list(client.search_runs(experiment, filter="attributes.parent_run_id IS NULL"))


def test_run_demo_tracks_every_model_against_the_baseline(client: loopline.Client) -> None:
    messages: list[str] = []
    result = run_demo(client, folds=2, progress=messages.append)
    assert [m.auc for m in result.models] == sorted((m.auc for m in result.models), reverse=True)
    assert len(result.models) == 4
    assert messages[-1] == f"releasing {result.models[0].name}"
    assert len(messages) == 5
    baseline = result.baseline
    assert baseline.name == "baseline (majority)"
    assert baseline.auc == pytest.approx(0.5)
    for model in result.models:
        run = client.get_run(model.run_id)
        assert run.status is loopline.RunStatus.FINISHED
        assert run.data.tags["baseline"] == str(model.is_baseline).lower()
        assert set(METRICS) <= set(run.data.metrics)
        assert run.data.metrics["auc_margin"] == pytest.approx(model.auc - baseline.auc)
        assert run.data.params["dataset"] == "sklearn.datasets.load_breast_cancer"
        assert len(model.fold_run_ids) == 2
        for fold_id in model.fold_run_ids:
            assert client.get_run(fold_id).info.parent_run_id == model.run_id
        report = json.loads(client.read_artifact(model.run_id, "evaluation/test_report.json"))
        assert len(report["confusion_matrix"]) == 2
    assert all(m.auc_margin > 0.3 for m in result.models if not m.is_baseline)
    assert result.database_url == client.settings.resolved_database_url()
    assert result.artifact_root == client.settings.resolved_artifact_root()


def test_run_demo_releases_the_best_model_through_gates_and_a_second_approver(
    client: loopline.Client,
) -> None:
    result = run_demo(client, folds=2)
    release = result.release
    assert release is not None
    best = result.models[0]
    champion = client.registry.resolve(release.champion_uri)
    assert (champion.name, champion.version, champion.run_id) == (DEMO_MODEL, 1, best.run_id)
    assert champion.status.value == "approved"
    assert release.gates_passed
    assert release.margin == pytest.approx(best.auc_margin)
    assert "separation of duties" in release.self_approval_refused
    approvals = client.release.list_approvals(DEMO_MODEL, 1)
    assert [(a.approver, a.valid) for a in approvals] == [(release.approver, True)]
    assert release.approver != release.registrant == champion.created_by
    assert client.registry.audit.verify().ok
    second = run_demo(client, folds=2).release
    assert second is not None
    assert second.version == 2
    assert client.registry.resolve(second.champion_uri).version == 2
    assert client.release.rollback(DEMO_MODEL, actor="ops", reason="demo").version == 1


def test_run_demo_without_release_registers_nothing(client: loopline.Client) -> None:
    assert run_demo(client, folds=2, release=False).release is None
    assert client.registry.list_registered_models() == []


def test_run_demo_twice_adds_runs(client: loopline.Client) -> None:
    first = run_demo(client, folds=2, experiment="twice")
    second = run_demo(client, folds=2, experiment="twice")
    assert first.experiment_id == second.experiment_id
    assert len(_parent_runs(client, "twice")) == 8
    assert len(client.search_runs("twice")) == 8 + 8 * 2


def test_run_demo_checks_its_arguments(client: loopline.Client) -> None:
    with pytest.raises(InvalidArgumentError, match="'folds' parameter of run_demo"):
        run_demo(client, folds=1)
    with pytest.raises(InvalidArgumentError, match="'test_size' parameter of run_demo"):
        run_demo(client, test_size=0.9)


def test_run_demo_without_scikit_learn_names_the_extra(
    client: loopline.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'loopline\[sklearn\]'"):
        run_demo(client)
    assert client.list_experiments() == []


def test_demo_command_without_scikit_learn_is_a_clean_error(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    result = invoke("demo")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: The demo needs scikit-learn")
    assert "Traceback" not in result.output


def test_demo_command_json(invoke: Invoke, client: loopline.Client) -> None:
    result = invoke("demo", "--folds", "2", "--experiment", "as-json", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert sorted(body) == [
        "artifact_root", "database_url", "experiment_id", "experiment_name", "models", "release",
        "seconds",
    ]  # fmt: skip
    assert body["release"]["champion_uri"] == f"models:/{DEMO_MODEL}@champion"
    assert body["experiment_name"] == "as-json"
    assert [m["is_baseline"] for m in body["models"]][-1] is True
    run_ids = {run.id for run in _parent_runs(client, "as-json")}
    assert {m["run_id"] for m in body["models"]} == run_ids


def test_demo_command_table(invoke: Invoke, client: loopline.Client) -> None:
    result = invoke("demo", "--folds", "2")
    assert result.exit_code == 0, result.output
    for text in ("logistic regression", "random forest", "gradient boosting", "baseline",
                 "AUC vs baseline", client.settings.resolved_database_url(),
                 f"loopline runs list --experiment {DEMO_EXPERIMENT}"):  # fmt: skip
        assert text in result.stdout


def test_demo_usage_error(invoke: Invoke) -> None:
    assert invoke("demo", "--folds", "1").exit_code == 2


@pytest.mark.slow
def test_console_script_demo_in_a_fresh_folder(tmp_path: Path) -> None:
    """The installed ``loopline`` script, as a user runs it: a new folder, LOOPLINE_HOME set."""
    executable = shutil.which("loopline")
    assert executable, "the loopline console script is not installed"
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPLINE_")}
    env |= {"LOOPLINE_HOME": str(home), "COLUMNS": "200"}
    done = subprocess.run(
        [executable, "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "logistic regression" in done.stdout
    assert "AUC vs baseline" in done.stdout
    database_url = f"sqlite:///{home / 'loopline.db'}"
    assert database_url in done.stdout
    assert str(home / "artifacts") in done.stdout
    assert "loopline runs list --experiment loopline-demo" in done.stdout
    assert f"is now models:/{DEMO_MODEL}@champion" in done.stdout
    client = loopline.Client(settings=loopline.Settings(home=home))
    assert client.uri == database_url
    runs = _parent_runs(client)
    assert sorted(run.name for run in runs) == [
        "baseline (majority)", "gradient boosting", "logistic regression", "random forest",
    ]  # fmt: skip
    assert all(run.id in done.stdout for run in runs)
    assert not (tmp_path / ".loopline").exists()
