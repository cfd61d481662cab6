"""loopline side of the models benchmark; runs in the interpreter loopline is installed in.

Usage: ``python models_loopline.py --store DIR --cycles N``. Fits the benchmark's
GradientBoostingClassifier itself (same seed, same data as the MLflow worker), does one
untimed warm-up cycle, then times ``N`` cycles of log_model with registration (in a run,
ended) + load_model + predict. Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.ensemble import GradientBoostingClassifier  # noqa: E402

import loopline  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - T0
MODEL_NAME = "gbc"


def fit() -> tuple[Any, Any, Any]:
    """The benchmark's model: the same in both workers (same data, same seed)."""
    data = load_breast_cancer(as_frame=True)
    X, y = data.data, data.target
    model = GradientBoostingClassifier(n_estimators=100, random_state=0).fit(X, y)
    return model, X, model.predict(X)


def cycle(model: Any, X: Any, expected: Any) -> tuple[float, int]:
    """One timed cycle; returns its seconds and the registered version."""
    start = time.perf_counter()
    with loopline.start_run():
        info = loopline.log_model(
            model, "model", input_example=X.head(50), registered_model_name=MODEL_NAME
        )
    version = int(info.model_version.version)
    predicted = loopline.load_model(f"models:/{MODEL_NAME}/{version}").predict(X)
    seconds = time.perf_counter() - start
    if not np.array_equal(np.asarray(predicted), expected):
        raise AssertionError(f"version {version}: predictions differ from the fitted model's")
    return seconds, version


def store_size(root: Path) -> dict[str, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--cycles", type=int, default=5)
    args = parser.parse_args()
    model, X, expected = fit()
    loopline.set_uri(str(args.store))
    warmup, _ = cycle(model, X, expected)
    before = store_size(args.store)
    samples, versions = [], []
    for _ in range(args.cycles):
        seconds, version = cycle(model, X, expected)
        samples.append(seconds)
        versions.append(version)
    after = store_size(args.store)
    result = {
        "median_seconds": statistics.median(samples),
        "samples": samples,
        "warmup_seconds": warmup,
        "import_seconds": IMPORT_SECONDS,
        "versions": versions,
        "predictions_equal": True,
        "rows": len(X),
        "per_cycle_store_growth": {
            k: (after[k] - before[k]) / args.cycles for k in ("files", "bytes")
        },
        "capture_environment": os.environ.get("LOOPLINE_CAPTURE_ENVIRONMENT", "default (on)"),
        "version": loopline.__version__ if hasattr(loopline, "__version__") else "unknown",
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
