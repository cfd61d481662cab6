"""One worker process of the concurrency tests: ``python concurrency_worker.py <mode> <args>``.

Every worker waits at a file barrier first, so the workers of a test start their real work at the
same moment: opening (and maybe migrating) the store, creating the experiment, logging.
Results go to stdout as one JSON line; errors are left to surface on stderr with the exit code.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

BARRIER_TIMEOUT = 60.0


def barrier(folder: Path, index: int, parties: int) -> None:
    (folder / f"ready-{index}").touch()
    deadline = time.monotonic() + BARRIER_TIMEOUT
    while not (folder / "go").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"worker {index}: the other {parties - 1} workers never came")
        time.sleep(0.002)


def fluent(url: str, experiment: str, count: int, index: int) -> dict[str, object]:
    """The fluent SDK, one value per ``log_metric`` call, to a run of its own."""
    import loopline

    loopline.set_uri(url)
    loopline.set_experiment(experiment)
    with loopline.start_run(run_name=f"worker-{index}") as run:
        for step in range(count):
            loopline.log_metric("value", float(step), step=step)
    return {"run_id": run.id}


def client(experiment: str, count: int, index: int) -> dict[str, object]:
    """``loopline.Client`` from ``LOOPLINE_DATABASE_URL``: one transaction per value."""
    import loopline

    api = loopline.Client()
    experiment_id = api.get_or_create_experiment(experiment).experiment_id
    run_id = api.create_run(experiment_id, run_name=f"worker-{index}").info.run_id
    for step in range(count):
        api.log_metric(run_id, "value", float(step), step=step)
    api.set_terminated(run_id)
    return {"run_id": run_id}


def set_experiment(url: str, experiment: str) -> dict[str, object]:
    import loopline

    loopline.set_uri(url)
    return {"experiment_id": loopline.set_experiment(experiment).experiment_id}


def create_experiment(experiment: str) -> dict[str, object]:
    import loopline
    from loopline.errors import AlreadyExistsError

    try:
        return {"experiment_id": loopline.Client().create_experiment(experiment)}
    except AlreadyExistsError:
        return {"already_exists": True}


def main(argv: list[str]) -> None:
    mode, folder, index, parties, *args = argv
    barrier(Path(folder), int(index), int(parties))
    if mode == "fluent":
        result = fluent(args[0], args[1], int(args[2]), int(index))
    elif mode == "client":
        result = client(args[0], int(args[1]), int(index))
    elif mode == "set_experiment":
        result = set_experiment(args[0], args[1])
    elif mode == "create_experiment":
        result = create_experiment(args[0])
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
