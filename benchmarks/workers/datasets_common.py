"""Shared pieces of the datasets benchmark: the deterministic frame and the timing helpers.

The frame is 12 float columns (normal, log-normal and uniform, some with NaN), 4 integer columns
(a shuffled unique id, two bounded counts, an int32 code), 3 low-cardinality text columns with
skewed frequencies and 1 timestamp column (to the second, over 2024). The same seed gives the same
frame on every machine.
"""

from __future__ import annotations

import gc
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SEED = 20_240_601
DATASET = "bench"
FLOAT_COLUMNS = 12
NAN_RATES = (0.0, 0.01, 0.05, 0.2)  # cycled over the float columns
CATEGORIES: dict[str, tuple[str, ...]] = {
    "country": ("DE", "FR", "US", "GB", "IT", "ES", "NL", "PL"),
    "segment": ("retail", "pro", "enterprise"),
    "channel": tuple(f"channel-{i:02d}" for i in range(20)),
}


# -- the frame ----------------------------------------------------------------------------------


def _float_columns(rng: np.random.Generator, rows: int) -> dict[str, np.ndarray]:
    """Normal, log-normal and uniform columns; some with missing values (NaN)."""
    columns: dict[str, np.ndarray] = {}
    for i in range(FLOAT_COLUMNS):
        shape = i % 3
        if shape == 0:
            values = rng.normal(loc=10.0 * i, scale=1.0 + i, size=rows)
        elif shape == 1:
            values = rng.lognormal(mean=3.0, sigma=0.8, size=rows)
        else:
            values = rng.uniform(-1.0, 1.0, size=rows)
        values[rng.random(rows) < NAN_RATES[i % len(NAN_RATES)]] = np.nan
        columns[f"f{i:02d}"] = values
    return columns


def _integer_columns(rng: np.random.Generator, rows: int) -> dict[str, np.ndarray]:
    """A shuffled unique id, two bounded counts and an int32 code."""
    return {
        "id": rng.permutation(rows).astype(np.int64) + 1_000_000,
        "quantity": rng.integers(0, 1_000, size=rows, dtype=np.int64),
        "code": rng.integers(-50, 50, size=rows, dtype=np.int32),
        "age": rng.integers(18, 90, size=rows, dtype=np.int64),
    }


def _string_columns(rng: np.random.Generator, rows: int) -> dict[str, pd.Series]:
    """Low-cardinality text with skewed (Zipf-like) frequencies, in pandas' default text dtype."""
    columns: dict[str, pd.Series] = {}
    for name, values in CATEGORIES.items():
        weights = 1.0 / np.arange(1, len(values) + 1)
        picks = rng.choice(len(values), size=rows, p=weights / weights.sum())
        columns[name] = pd.Series(np.asarray(values, dtype=object)[picks])
    return columns


def _timestamps(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Event times to the second over 2024 (some repeat, as real event times do)."""
    start = np.datetime64("2024-01-01T00:00:00", "ns")
    seconds = rng.integers(0, 366 * 86_400, size=rows).astype("timedelta64[s]")
    return start + seconds.astype("timedelta64[ns]")


def make_frame(rows: int, seed: int = SEED) -> pd.DataFrame:
    """The benchmark frame: 12 float, 4 integer, 3 text and 1 timestamp column."""
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    columns.update(_float_columns(rng, rows))
    columns.update(_integer_columns(rng, rows))
    columns.update(_string_columns(rng, rows))
    columns["event_time"] = _timestamps(rng, rows)
    return pd.DataFrame(columns)


# -- timing -------------------------------------------------------------------------------------


@contextmanager
def scratch_dir() -> Iterator[Path]:
    """A fresh temporary folder, removed afterwards (not timed)."""
    path = Path(tempfile.mkdtemp(prefix="loopline-bench-datasets-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """``(seconds, result)`` of one call, after a garbage collection (not timed)."""
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def alternate(tasks: Mapping[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Run the tasks in turn: one untimed warm-up round, then ``repeats`` timed rounds.

    Alternating spreads any drift of the machine's load over both sides of a comparison.
    """
    samples: dict[str, list[float]] = {name: [] for name in tasks}
    for round_ in range(repeats + 1):
        for name, task in tasks.items():
            seconds = task()
            if round_:
                samples[name].append(seconds)
    return samples


def median(samples: Sequence[float]) -> float:
    """The median, or NaN for no samples."""
    return float(statistics.median(samples)) if samples else float("nan")


# -- how busy the machine was -------------------------------------------------------------------


@dataclass(frozen=True)
class CpuSnapshot:
    """Wall clock, this process's CPU seconds, and the machine's busy CPU seconds (Linux)."""

    wall: float
    own: float
    busy: float | None


def _machine_busy_seconds() -> float | None:
    """Busy CPU seconds of all cores since boot, from ``/proc/stat`` (None where it is absent)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(value) for value in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    guests = sum(ticks[8:10])  # guest time is already counted in user time
    return (sum(ticks) - idle - guests) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot() -> CpuSnapshot:
    times = os.times()
    return CpuSnapshot(time.perf_counter(), times.user + times.system, _machine_busy_seconds())


def others_share(start: CpuSnapshot, end: CpuSnapshot) -> float | None:
    """The share of all cores that other processes used between two snapshots (0 to 1)."""
    if start.busy is None or end.busy is None:
        return None
    capacity = (end.wall - start.wall) * (os.cpu_count() or 1)
    others = (end.busy - start.busy) - (end.own - start.own)
    return max(0.0, others / capacity) if capacity > 0 else None
