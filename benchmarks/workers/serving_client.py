"""One closed-loop load client of the serving benchmark (stdlib only; one process per client).

Usage: ``python serving_client.py --port P --request FILE --start T --warmup W --duration D``.
Opens one kept-alive connection, sends the pre-built request bytes of ``FILE`` back to back
(each as soon as the previous answer is read) from monotonic time ``T`` on, counts nothing
for ``W`` seconds, then records each request's latency for ``D`` seconds. Every answer must
be a 200. Prints one JSON line: latencies (microseconds), completion second of each, errors
and the first answer's body (so the caller can check what was served).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving_common import Connection


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--request", type=Path, required=True)
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=8.0)
    args = parser.parse_args()
    request = args.request.read_bytes()
    connection = Connection(args.port)
    status, first = connection.call(request)  # connect and check before the clock
    if status != 200:
        sys.stdout.write(json.dumps({"error": f"status {status}: {first[:300]!r}"}) + "\n")
        return 1
    clock = time.monotonic
    while clock() < args.start:
        time.sleep(0.001)
    measure_from = args.start + args.warmup
    stop = measure_from + args.duration
    call = connection.call
    while clock() < measure_from:
        call(request)
    latencies = array("q")
    seconds = array("h")
    errors = 0
    perf = time.perf_counter_ns
    now = clock()
    while now < stop:
        started = perf()
        status, _ = call(request)
        latencies.append(perf() - started)
        now = clock()
        seconds.append(int(now - measure_from))
        if status != 200:
            errors += 1
    connection.close()
    result = {
        "latencies_us": [round(v / 1000, 1) for v in latencies],
        "seconds": list(seconds),
        "errors": errors,
        "duration": args.duration,
        "first_body": first[:300].decode(errors="replace"),
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
