"""MLflow side of the serving benchmark; runs only inside MLflow's pinned venv.

Usage: ``python serving_mlflow.py --store DIR``. Fits the benchmark's model (same seed, same
data as the loopline worker), logs and registers it with ``mlflow.sklearn.log_model`` in
``sqlite:///DIR/mlflow.db`` (artifacts in ``DIR/artifacts``) and prints one JSON object with
the model URI that ``mlflow models serve -m URI`` serves (with ``MLFLOW_TRACKING_URI`` set to
the same database).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlflow
import mlflow.sklearn
from serving_common import MODEL_NAME, fit

# MLflow 3.17.2 saves scikit-learn models with skops and refuses a tree model unless the caller
# trusts the tree type (its error says so).
SKOPS_TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, required=True)
    args = parser.parse_args()
    model, frame = fit()
    artifacts = args.store / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    tracking_uri = f"sqlite:///{args.store / 'mlflow.db'}"
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.create_experiment("serving-bench", artifact_location=artifacts.as_uri())
    mlflow.set_experiment("serving-bench")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=frame.head(50),
            registered_model_name=MODEL_NAME,
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
        )
    version = int(info.registered_model_version)
    result = {
        "model_uri": f"models:/{MODEL_NAME}/{version}",
        "tracking_uri": tracking_uri,
        "version": mlflow.__version__,
        "row": [float(v) for v in frame.iloc[0]],
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
