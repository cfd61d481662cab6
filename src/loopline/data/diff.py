"""Differences between two dataset versions, from their schemas and profiles alone.

Distribution changes are ranked by an effect size on one scale per kind of column: for numbers,
the mean absolute distance between matching quantiles divided by the first version's standard
deviation (an approximation of the normalised Wasserstein distance); for text, the Jensen-Shannon
distance between the two top-value distributions (values outside the top share one bucket).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from loopline.entities import DatasetVersion

__all__ = ["ColumnChange", "DatasetDiff", "diff_versions"]


@dataclass(frozen=True, slots=True)
class ColumnChange:
    column: str
    kind: str  # numeric | categorical
    effect_size: float
    measure: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DatasetDiff:
    a: str
    b: str
    added: list[str]
    removed: list[str]
    retyped: list[dict[str, str]]
    rows_a: int
    rows_b: int
    changes: list[ColumnChange]

    @property
    def row_change(self) -> int:
        return self.rows_b - self.rows_a

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["row_change"] = self.row_change
        return data


def _numeric_change(name: str, pa_: dict[str, Any], pb: dict[str, Any]) -> ColumnChange | None:
    qa, qb = pa_.get("quantiles"), pb.get("quantiles")
    if not qa or not qb:
        return None
    distance = sum(abs(qa[k] - qb[k]) for k in qa if k in qb) / max(len(qa), 1)
    scale = pa_.get("std") or 0.0
    effect = distance / scale if scale > 0 else (0.0 if distance == 0 else math.inf)
    details = {
        "mean_a": pa_.get("mean"), "mean_b": pb.get("mean"),
        "missing_rate_a": pa_["missing_rate"], "missing_rate_b": pb["missing_rate"],
    }  # fmt: skip
    return ColumnChange(name, "numeric", effect, "quantile_distance_over_std", details)


def _shares(profile: dict[str, Any]) -> dict[str, float]:
    shares = {str(t["value"]): float(t["frequency"]) for t in profile.get("top", [])}
    rest = 1.0 - sum(shares.values())
    if rest > 1e-12:
        shares["\x00other"] = rest
    return shares


def _jensen_shannon(p: dict[str, float], q: dict[str, float]) -> float:
    keys = set(p) | set(q)
    m = {k: (p.get(k, 0.0) + q.get(k, 0.0)) / 2 for k in keys}

    def kl(x: dict[str, float]) -> float:
        return sum(v * math.log2(v / m[k]) for k, v in x.items() if v > 0)

    return math.sqrt(max(0.0, (kl(p) + kl(q)) / 2))


def _text_change(name: str, pa_: dict[str, Any], pb: dict[str, Any]) -> ColumnChange:
    effect = _jensen_shannon(_shares(pa_), _shares(pb))
    details = {
        "distinct_a": pa_.get("distinct"), "distinct_b": pb.get("distinct"),
        "missing_rate_a": pa_["missing_rate"], "missing_rate_b": pb["missing_rate"],
    }  # fmt: skip
    return ColumnChange(name, "categorical", effect, "jensen_shannon_distance", details)


def diff_versions(a: DatasetVersion, b: DatasetVersion) -> DatasetDiff:
    """Schema changes, row count change and distribution changes ranked by effect size."""
    types_a = {c["name"]: c["type"] for c in a.schema}
    types_b = {c["name"]: c["type"] for c in b.schema}
    common = [n for n in types_a if n in types_b]
    retyped = [{"column": n, "from": types_a[n], "to": types_b[n]} for n in common
               if types_a[n] != types_b[n]]  # fmt: skip
    changes: list[ColumnChange] = []
    for name in common:
        if types_a[name] != types_b[name]:
            continue
        pa_, pb = a.profile[name], b.profile[name]
        if types_a[name] in ("integer", "float", "boolean"):
            change = _numeric_change(name, pa_, pb)
            if change is not None:
                changes.append(change)
        elif types_a[name] == "string":
            changes.append(_text_change(name, pa_, pb))
    changes.sort(key=lambda c: (-c.effect_size, c.column))
    return DatasetDiff(
        a=a.uri, b=b.uri,
        added=[n for n in types_b if n not in types_a],
        removed=[n for n in types_a if n not in types_b],
        retyped=retyped, rows_a=a.num_rows, rows_b=b.num_rows, changes=changes,
    )  # fmt: skip
