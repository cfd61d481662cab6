"""The automatic release gates of a model version, computed from its latest stored evaluation.

Four gates, always in this order: ``evaluation_present``, ``beats_baseline``,
``fairness_thresholds`` and ``signature_present``. They fail closed: a missing evaluation,
metric, fairness report or disparity fails its gate with the reason. The margin over the
baseline is recomputed from the stored metrics with the policy in force now, so tightening the
policy can fail a version evaluated earlier.

Examples:
    >>> from loopline.entities import ReleasePolicy
    >>> report = release_gates(None, None, ReleasePolicy())
    >>> report.passed, [gate.name for gate in report.failed]
    (False, ['evaluation_present', 'beats_baseline', 'signature_present'])
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from loopline.entities import Gate, GateReport, ReleasePolicy, StoredEvaluation
from loopline.entities.release import FAIRNESS_DIRECTIONS

__all__ = ["GATE_NAMES", "LOWER_IS_BETTER", "release_gates"]

GATE_NAMES = ("evaluation_present", "beats_baseline", "fairness_thresholds", "signature_present")

LOWER_IS_BETTER = frozenset({"log_loss", "brier_score", "rmse", "mae", "mape"})
"""As in :mod:`loopline.modeling.evaluation` (kept here so gates import no numerical library)."""

_OPS: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le}


def _n(value: float) -> str:
    return f"{value:.6g}"


def release_gates(
    signature: Mapping[str, Any] | None, evaluation: StoredEvaluation | None, policy: ReleasePolicy
) -> GateReport:
    """The gates of a version with this ``signature`` and latest ``evaluation`` under ``policy``."""
    result = evaluation.result if evaluation is not None else None
    gates = (
        _evaluation_present(result),
        _beats_baseline(result, policy),
        _fairness(result, policy),
        _signature(signature, policy),
    )
    return GateReport(gates, evaluation.id if evaluation is not None else None)


def _evaluation_present(result: Mapping[str, Any] | None) -> Gate:
    name = "evaluation_present"
    if result is None:
        return Gate(name, False, "no evaluation is stored on this version: run evaluate first")
    return Gate(name, True, f"a {result.get('task')} evaluation on {result.get('n_rows')} rows")


def _beats_baseline(result: Mapping[str, Any] | None, policy: ReleasePolicy) -> Gate:
    name = "beats_baseline"
    if result is None:
        return Gate(name, False, "no evaluation to compare with the baseline")
    task = str(result.get("task"))
    if task not in ("classification", "regression"):
        return Gate(name, False, f"the evaluation's task {task!r} is unknown")
    metric = policy.metric_for(task)
    values = []
    for side in ("model", "baseline"):
        value = (result.get(side) or {}).get("metrics", {}).get(metric)
        if value is None:
            return Gate(name, False, f"the {side}'s {metric} is missing or undefined")
        values.append(float(value))
    model, baseline = values
    margin = baseline - model if metric in LOWER_IS_BETTER else model - baseline
    required = policy.baseline_margin
    passed = margin > 0 and margin >= required
    verdict = "beats" if passed else "does not beat"
    return Gate(
        name, passed,
        f"{metric}: model {_n(model)} {verdict} baseline {_n(baseline)}: margin {_n(margin)}, "
        f"required > 0 and >= {_n(required)}",
    )  # fmt: skip


def _fairness(result: Mapping[str, Any] | None, policy: ReleasePolicy) -> Gate:
    name = "fairness_thresholds"
    if not policy.fairness_thresholds:
        return Gate(name, True, "the policy sets no fairness thresholds")
    reports = (result or {}).get("fairness")
    if not reports:
        return Gate(
            name, False, "the policy sets fairness thresholds but the evaluation has no "
            "fairness report: evaluate with sensitive_features",
        )  # fmt: skip
    findings, passed = [], True
    for feature, report in sorted(reports.items()):
        if report.get("min_group_size") != policy.min_group_size:
            passed = False
            findings.append(
                f"{feature}: scored with min_group_size {report.get('min_group_size')}, the "
                f"policy says {policy.min_group_size}: evaluate again"
            )
            continue
        for metric, limit in policy.fairness_thresholds.items():
            op = FAIRNESS_DIRECTIONS[metric]
            value = report.get(metric)
            if value is None:
                passed = False
                findings.append(f"{feature}: {metric} undefined (fewer than two scored groups)")
                continue
            ok = _OPS[op](float(value), limit)
            passed = passed and ok
            verdict = "ok" if ok else "fails"
            findings.append(f"{feature}: {metric} {_n(float(value))} {op} {_n(limit)} {verdict}")
    return Gate(name, passed, "; ".join(findings))


def _signature(signature: Mapping[str, Any] | None, policy: ReleasePolicy) -> Gate:
    name = "signature_present"
    if not policy.require_signature:
        return Gate(name, True, "the policy does not require a signature")
    if signature is None:
        return Gate(name, False, "the version has no signature: log it with an input_example")
    return Gate(name, True, "the version has a signature")
