"""A writer process for the multi-process and crash tests (run as a script, not collected).

``python eventlog_child.py ROOT MODE COUNT THREADS [--forever]``: THREADS threads append COUNT
predictions each, one per call, and print every id once ``append`` returned (acknowledged).
With ``--forever`` they keep going until the process is killed; journals rotate every few KB
so that sealing runs while the kill comes.
"""

from __future__ import annotations

import sys
import threading

from loopline.entities.eventlog import PredictionRecord
from loopline.eventlog import EventLog, new_prediction_id, now_ms


def main() -> None:
    root, mode, count, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    forever = "--forever" in sys.argv
    log = EventLog(root, rotate_bytes=16_384 if forever else 64 << 20, rotate_seconds=0.2)
    writer = log.writer(mode)  # type: ignore[arg-type]
    out = threading.Lock()

    def run(worker: int) -> None:
        i = 0
        while forever or i < count:
            pid = new_prediction_id()
            deployment = "churn" if i % 3 else "fraud"
            writer.append(
                [
                    PredictionRecord(
                        pid,
                        deployment,
                        "m",
                        1,
                        now_ms(),
                        {"i": i, "worker": worker},
                        {"score": 0.5},
                    )
                ]
            )
            with out:
                sys.stdout.write(pid + "\n")
                sys.stdout.flush()
            i += 1

    pool = [threading.Thread(target=run, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    writer.close()


if __name__ == "__main__":
    main()
