"""loopline side of the serving benchmark; runs in loopline's interpreter.

Usage:

- ``python serving_loopline.py setup --store DIR``: fits the benchmark's model, logs and
  registers it (``loopline.log_model``), points the alias ``prod`` at it and creates the
  deployment ``gbc`` of ``models:/gbc@prod`` with ``logging="async"`` and a threshold
  ``DecisionPolicy``. ``loopline serve --uri DIR`` then serves it.
- ``python serving_loopline.py bulk --store DIR --rows N --repeats R``: writes ``N`` rows to
  Parquet, then times ``loopline.score`` (Parquet in, Parquet out, the deployment's policy and
  logging) against a bare in-process ``model.predict_proba`` of the same rows (taking turns,
  median of ``R``).

Prints one JSON object on the last stdout line.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving_common import COLUMNS, MODEL_NAME, bulk_frame, fit

DEPLOYMENT = "gbc"
ALIAS = "prod"
POLICY = {
    "name": "bench",
    "score": "proba[1]",
    "thresholds": {
        "bands": [{"min": 0.8, "action": "reject"}, {"min": 0.5, "action": "review"}],
        "default": "approve",
    },
}


def setup(store: Path) -> dict[str, Any]:
    import loopline
    from loopline import DecisionPolicy

    loopline.set_uri(str(store))
    model, frame = fit()
    with loopline.start_run():
        info = loopline.log_model(
            model, "model", input_example=frame.head(50), registered_model_name=MODEL_NAME
        )
    version = int(info.model_version.version)
    loopline.models.set_alias(MODEL_NAME, ALIAS, version)
    policy = DecisionPolicy.from_dict(POLICY) if hasattr(DecisionPolicy, "from_dict") else None
    loopline.deployments.create(
        DEPLOYMENT,
        f"models:/{MODEL_NAME}@{ALIAS}",
        policy=policy.to_dict() if policy is not None else POLICY,
        logging="async",
    )
    row = [float(v) for v in frame.iloc[0]]
    return {
        "version": version,
        "deployment": DEPLOYMENT,
        "row": row,
        "expected_label": int(model.predict(frame.iloc[:1])[0]),
        "expected_proba": [float(p) for p in model.predict_proba(frame.iloc[:1])[0]],
        "policy": POLICY,
    }


def _score_call(score: Any, source: Path, output: Path) -> tuple[dict[str, Any], str]:
    """The keyword arguments to give ``loopline.score`` (its signature decides)."""
    params = inspect.signature(score).parameters
    kwargs: dict[str, Any] = {}
    if "progress" in params:
        kwargs["progress"] = False  # no progress bar on stderr while timed
    if "deployment" in params:
        kwargs["deployment"] = DEPLOYMENT
    else:
        if "policy" in params:
            kwargs["policy"] = POLICY
        if "logging" in params:
            kwargs["logging"] = "async"
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k != "policy")
    if "deployment" in kwargs:
        shown += " (its policy, logged to the event log)"
    if "policy" in kwargs:
        shown += ", policy=<the deployment's>"
    text = f"loopline.score('models:/{MODEL_NAME}@{ALIAS}', {str(source)!r}, {str(output)!r}"
    return kwargs, text + (f", {shown})" if shown else ")")


def bulk(store: Path, rows: int, repeats: int) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    import loopline

    loopline.set_uri(str(store))
    score = getattr(loopline, "score", None)
    frame = bulk_frame(rows)
    source = store / "bulk-input.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), source)
    model = loopline.load_model(f"models:/{MODEL_NAME}@{ALIAS}").model
    X = np.ascontiguousarray(frame.to_numpy())
    expected = model.predict_proba(frame.iloc[:1000])
    bare: list[float] = []
    scored: list[float] = []
    result: dict[str, Any] = {"rows": rows, "repeats": repeats}
    kwargs: dict[str, Any] = {}
    if score is None:
        result["error"] = "loopline.score is not available in this build"
    else:
        kwargs, result["call"] = _score_call(score, source, store / "out-0.parquet")
    for i in range(repeats + 1):  # the first round is an untimed warm-up
        gc.collect()
        with warnings.catch_warnings():  # fitted on a DataFrame, given the bare array
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            started = time.perf_counter()
            model.predict_proba(X)
            elapsed = time.perf_counter() - started
        if i:
            bare.append(elapsed)
        if score is None:
            continue
        output = store / f"out-{i}.parquet"
        gc.collect()
        started = time.perf_counter()
        try:
            score(f"models:/{MODEL_NAME}@{ALIAS}", str(source), str(output), **kwargs)
        except Exception as exc:  # reported, not fatal: the serving figures still count
            result["error"] = f"{type(exc).__name__}: {exc}"
            score = None
            continue
        elapsed = time.perf_counter() - started
        if i:
            scored.append(elapsed)
        if i == 0:
            table = pq.read_table(output)
            result["output_columns"] = table.column_names
            result["output_rows"] = table.num_rows
            result["checked"] = _check(table, expected)
    result["bare_seconds"] = bare
    result["bare_rows_per_second"] = rows / statistics.median(bare)
    if scored:
        result["score_seconds"] = scored
        result["score_rows_per_second"] = rows / statistics.median(scored)
    return result


def _check(table: Any, expected: Any) -> str:
    """Compare the first rows' probabilities with the model's, where a column holds them."""
    import numpy as np

    names = table.column_names
    for candidate in ("proba_1", "score", "proba"):
        if candidate in names:
            values = table.column(candidate).slice(0, len(expected)).to_pylist()
            if values and isinstance(values[0], (list, dict)):
                return f"column {candidate!r} not compared (nested)"
            if np.allclose(np.asarray(values, dtype=float), expected[:, 1], atol=1e-9):
                return f"column {candidate!r} equals predict_proba[:, 1] on the first rows"
            return f"column {candidate!r} DIFFERS from predict_proba[:, 1]"
    return f"no probability column found among {names[:12]}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("setup", "bulk"))
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.mode == "setup":
        result = setup(args.store)
    else:
        result = bulk(args.store, args.rows, args.repeats)
    result["columns"] = COLUMNS
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
