"""The demo: a few models and a non-ML baseline, trained, tracked and the best one released.

:func:`run_demo` shows the loop in a few seconds with nothing to download: scikit-learn's bundled
breast-cancer table, a fixed stratified train/test split, k-fold cross-validation on the training
part (one nested child run per fold) and test metrics on the held-out part. The baseline (a
majority-class predictor) is trained first, so every candidate records its AUC margin over it: a
model that does not beat the baseline is not worth releasing. Running it again adds new runs.

On a local store the best model then goes through the governed release: logged and registered
(with its signature), evaluated on the test part against a baseline fitted on the training part,
validated by the gates, sent for approval, refused when its own registrant tries to approve it,
approved by a second person and promoted to ``champion``. Its model card is then one command away.

scikit-learn and pandas are optional (``pip install 'loopline[sklearn]'``); they are imported
inside :func:`run_demo`, never when this module is imported.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from loopline.entities import RunStatus
from loopline.errors import InvalidArgumentError, MissingDependencyError

if TYPE_CHECKING:
    from loopline.client.client import Client

__all__ = ["DEMO_APPROVER", "DEMO_EXPERIMENT", "DEMO_MODEL", "DemoRelease", "DemoResult",
           "ModelResult", "run_demo"]  # fmt: skip

DEMO_EXPERIMENT = "loopline-demo"
DEMO_MODEL = "loopline-demo-classifier"
DEMO_APPROVER = "demo-approver"
DEMO_MARGIN = 0.05
DATASET = "sklearn.datasets.load_breast_cancer"
BASELINE_TAG = "baseline"
_SIMPLE = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class ModelResult:
    """One tracked model: its run, its test metrics and its margin over the baseline."""

    name: str
    run_id: str
    is_baseline: bool
    metrics: dict[str, float]
    fold_run_ids: tuple[str, ...]

    @property
    def auc(self) -> float:
        return self.metrics["test_auc"]

    @property
    def auc_margin(self) -> float:
        """Test AUC minus the baseline's test AUC (0 for the baseline itself)."""
        return self.metrics["auc_margin"]


@dataclass(frozen=True, slots=True)
class DemoRelease:
    """The best model's way to ``champion``: its version, the evidence and who did what."""

    model_uri: str
    version: int
    registrant: str
    approver: str
    auc: float
    baseline_auc: float
    margin: float
    gates_passed: bool
    self_approval_refused: str
    champion_uri: str


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo tracked and where it lives; ``models`` are sorted by test AUC, best first."""

    experiment_id: str
    experiment_name: str
    models: tuple[ModelResult, ...]
    database_url: str
    artifact_root: str
    seconds: float
    release: DemoRelease | None = None

    @property
    def baseline(self) -> ModelResult:
        return next(m for m in self.models if m.is_baseline)


@dataclass(frozen=True, slots=True)
class _Candidate:
    name: str
    estimator: Any
    is_baseline: bool = False


def _import_sklearn() -> SimpleNamespace:
    """The scikit-learn pieces the demo uses, or an install hint."""
    try:
        import pandas  # noqa: F401  (load_breast_cancer(as_frame=True) needs it)
        from sklearn import (
            base,
            datasets,
            dummy,
            ensemble,
            linear_model,
            metrics,
            model_selection,
            pipeline,
            preprocessing,
        )
    except ImportError as exc:
        raise MissingDependencyError(
            f"The demo needs scikit-learn and pandas ({exc.name or 'a module'} is missing): "
            "pip install 'loopline[sklearn]'"
        ) from None
    return SimpleNamespace(
        base=base, datasets=datasets, dummy=dummy, ensemble=ensemble, linear=linear_model,
        metrics=metrics, selection=model_selection, pipeline=pipeline, pre=preprocessing,
    )  # fmt: skip


def _candidates(sk: SimpleNamespace, seed: int) -> list[_Candidate]:
    """The baseline first (every candidate is measured against it), then the models."""
    scaled_lr = sk.pipeline.make_pipeline(
        sk.pre.StandardScaler(), sk.linear.LogisticRegression(C=1.0, max_iter=1000)
    )
    return [
        _Candidate("baseline (majority)", sk.dummy.DummyClassifier(strategy="prior"), True),
        _Candidate("logistic regression", scaled_lr),
        _Candidate(
            "random forest",
            sk.ensemble.RandomForestClassifier(n_estimators=50, random_state=seed, n_jobs=1),
        ),
        _Candidate(
            "gradient boosting",
            sk.ensemble.GradientBoostingClassifier(n_estimators=50, random_state=seed),
        ),
    ]


def _params(estimator: Any) -> dict[str, Any]:
    """The hyperparameters of the estimator (of the last step of a pipeline), as scalars."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    params = {k: v for k, v in final.get_params().items() if isinstance(v, _SIMPLE)}
    return {"estimator": type(final).__name__, **params}


def _scores(sk: SimpleNamespace, model: Any, x: Any, y: Any) -> dict[str, float]:
    """AUC, accuracy, F1, log loss and Brier score of a fitted binary classifier."""
    proba = model.predict_proba(x)[:, 1]
    pred = model.predict(x)
    m = sk.metrics
    return {
        "auc": float(m.roc_auc_score(y, proba)),
        "accuracy": float(m.accuracy_score(y, pred)),
        "f1": float(m.f1_score(y, pred)),
        "log_loss": float(m.log_loss(y, proba)),
        "brier": float(m.brier_score_loss(y, proba)),
    }


def _log_metrics(client: Client, run_id: str, metrics: Mapping[str, float]) -> None:
    client.log_batch(run_id, metrics=[(k, v, None, 0) for k, v in metrics.items()])


def _check(ok: bool, name: str, constraint: str, value: object) -> None:
    if not ok or isinstance(value, bool):
        raise InvalidArgumentError(
            f"The {name!r} parameter of run_demo must be {constraint}; got {value!r}.", field=name
        )


def _fold_runs(
    client: Client, sk: SimpleNamespace, parent: Any, candidate: _Candidate, data: Any, folds: int
) -> Iterator[tuple[str, float]]:
    """Cross-validate on the training part, one child run per fold; yields (run id, AUC)."""
    x, y = data.x_train, data.y_train
    splitter = sk.selection.StratifiedKFold(n_splits=folds, shuffle=True, random_state=data.seed)
    for fold, (fit_rows, val_rows) in enumerate(splitter.split(x, y)):
        run = client.create_run(
            parent.info.experiment_id,
            run_name=f"{candidate.name} fold {fold}",
            tags={"fold": fold, BASELINE_TAG: str(candidate.is_baseline).lower()},
            parent_run_id=parent.id,
        )
        model = sk.base.clone(candidate.estimator).fit(x.iloc[fit_rows], y.iloc[fit_rows])
        scores = _scores(sk, model, x.iloc[val_rows], y.iloc[val_rows])
        _log_metrics(client, run.id, {f"val_{k}": v for k, v in scores.items()})
        client.set_terminated(run.id)
        yield run.id, scores["auc"]


def _track(
    client: Client, sk: SimpleNamespace, experiment_id: str, candidate: _Candidate,
    data: Any, folds: int, baseline_auc: float | None,
) -> tuple[ModelResult, Any]:  # fmt: skip
    """Train, cross-validate and evaluate one candidate as a run (failed if anything raises)."""
    tags = {BASELINE_TAG: str(candidate.is_baseline).lower(), "dataset": DATASET, "demo": "true"}
    run = client.create_run(experiment_id, run_name=candidate.name, tags=tags)
    try:
        client.log_batch(run.id, params=_params(candidate.estimator) | data.params)
        folded = list(_fold_runs(client, sk, run, candidate, data, folds))
        started = time.perf_counter()
        model = sk.base.clone(candidate.estimator).fit(data.x_train, data.y_train)
        fit_seconds = time.perf_counter() - started
        test = _scores(sk, model, data.x_test, data.y_test)
        aucs = [auc for _, auc in folded]
        metrics = {f"test_{k}": v for k, v in test.items()} | {
            "cv_auc_mean": statistics.fmean(aucs),
            "cv_auc_std": statistics.pstdev(aucs),
            "fit_seconds": fit_seconds,
            "auc_margin": test["auc"] - (test["auc"] if baseline_auc is None else baseline_auc),
        }
        _log_metrics(client, run.id, metrics)
        matrix = sk.metrics.confusion_matrix(data.y_test, model.predict(data.x_test)).tolist()
        report = {"labels": data.labels, "confusion_matrix": matrix, "test_metrics": test}
        client.log_text(run.id, json.dumps(report, indent=2), "evaluation/test_report.json")
        client.set_terminated(run.id)
    except BaseException:
        client.set_terminated(run.id, RunStatus.FAILED)
        raise
    fold_ids = tuple(run_id for run_id, _ in folded)
    return ModelResult(candidate.name, run.id, candidate.is_baseline, metrics, fold_ids), model


def _load_data(sk: SimpleNamespace, *, seed: int, test_size: float) -> SimpleNamespace:
    """The bundled breast-cancer table, split once into stratified train and test parts."""
    bunch = sk.datasets.load_breast_cancer(as_frame=True)
    x_train, x_test, y_train, y_test = sk.selection.train_test_split(
        bunch.data, bunch.target, test_size=test_size, stratify=bunch.target, random_state=seed
    )
    params = {"dataset": DATASET, "test_size": test_size, "seed": seed,
              "n_train": len(x_train), "n_test": len(x_test)}  # fmt: skip
    labels = [str(name) for name in bunch.target_names]
    return SimpleNamespace(x_train=x_train, x_test=x_test, y_train=y_train, y_test=y_test,
                           seed=seed, params=params, labels=labels)  # fmt: skip


def run_demo(
    client: Client,
    *,
    experiment: str = DEMO_EXPERIMENT,
    folds: int = 3,
    seed: int = 42,
    test_size: float = 0.25,
    progress: Callable[[str], None] | None = None,
    release: bool = True,
) -> DemoResult:
    """Train the baseline and three models, track each as a run in ``experiment``, compare them.

    With ``release`` (and a local store) the best model is then registered, evaluated, approved
    by :data:`DEMO_APPROVER` and promoted to ``champion`` of :data:`DEMO_MODEL`.
    ``progress`` is called with a short message before each step, for a spinner or a log.
    Raises MissingDependencyError without scikit-learn or pandas.
    """
    _check(isinstance(folds, int) and 2 <= folds <= 10, "folds", "an integer from 2 to 10", folds)
    _check(0.1 <= test_size <= 0.5, "test_size", "from 0.1 to 0.5", test_size)
    started = time.perf_counter()
    sk = _import_sklearn()
    data = _load_data(sk, seed=seed, test_size=test_size)
    experiment_id = client.get_or_create_experiment(experiment).experiment_id
    results: list[ModelResult] = []
    fitted: dict[str, Any] = {}
    for candidate in _candidates(sk, seed):
        if progress is not None:
            progress(f"training {candidate.name}")
        baseline_auc = results[0].auc if results else None
        result, model = _track(client, sk, experiment_id, candidate, data, folds, baseline_auc)
        results.append(result)
        fitted[result.run_id] = model
    models = tuple(sorted(results, key=lambda r: r.auc, reverse=True))
    remote = client.is_remote
    released = None
    if release and not remote:
        if progress is not None:
            progress(f"releasing {models[0].name}")
        released = _release(client, data, models[0], fitted[models[0].run_id])
    return DemoResult(
        experiment_id=experiment_id,
        experiment_name=experiment,
        models=models,
        database_url=client.uri if remote else client.settings.resolved_database_url(),
        artifact_root="(on the server)" if remote else client.settings.resolved_artifact_root(),
        seconds=time.perf_counter() - started,
        release=released,
    )


def _release(client: Client, data: Any, best: ModelResult, model: Any) -> DemoRelease:
    """Register the best model and take it through the gates and an approval to ``champion``."""
    from loopline.client.environment import os_user
    from loopline.errors import PermissionDeniedError
    from loopline.modeling.logged import log_model
    from loopline.tracking.service import TrackingService

    backend, registry, release = client.backend, client.registry, client.release
    assert isinstance(backend, TrackingService)
    me = os_user()
    approver = DEMO_APPROVER if me != DEMO_APPROVER else f"{DEMO_APPROVER}-2"
    info = log_model(
        backend, registry, best.run_id, model, "model", input_example=data.x_train.head(20),
        registered_model_name=DEMO_MODEL, actor=me,
    )  # fmt: skip
    assert info.model_version is not None
    name, number = DEMO_MODEL, info.model_version.version
    release.set_policy(name, {"baseline_margin": DEMO_MARGIN, "required_approvals": 1}, actor=me)
    evaluation = release.evaluate(
        info.model_version.uri, data.x_test.assign(target=data.y_test), target="target",
        train_data=data.x_train.assign(target=data.y_train), actor=me,
    )  # fmt: skip
    gates = release.gates(name, number)
    release.validate(name, number, actor=me, reason="the demo's best model")
    release.request_approval(name, number, actor=me, reason=f"beats the baseline: {best.name}")
    try:
        release.approve(name, number, actor=me, reason="my own model")
        refused = ""
    except PermissionDeniedError as exc:
        refused = exc.message
    release.approve(name, number, actor=approver, reason="evidence reviewed in the demo")
    release.promote(name, number, alias="champion", actor=me, reason="approved by a second person")
    metrics = evaluation.result["model"]["metrics"]
    baseline = evaluation.result["baseline"]["metrics"]
    return DemoRelease(
        model_uri=info.model_version.uri, version=number, registrant=me, approver=approver,
        auc=metrics["auc"], baseline_auc=baseline["auc"], margin=metrics["auc"] - baseline["auc"],
        gates_passed=gates.passed, self_approval_refused=refused,
        champion_uri=f"models:/{name}@champion",
    )  # fmt: skip
