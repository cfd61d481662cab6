"""Datasets benchmark: creating and validating a version of a 1,000,000 x 20 frame.

Run from the repo root, with loopline (and its ``data`` extra) installed in this interpreter::

    python benchmarks/run_datasets.py            # 1,000,000 rows, median of 5 after a warm-up
    python benchmarks/run_datasets.py --quick    # 100,000 rows, median of 3, a smoke test

Two figures, timed in this one process, the two sides of each comparison taking turns:

1. ``create``: ``loopline.datasets.create(name, frame)`` into a fresh store (digest, profile,
   sample and Parquet) against ``pq.write_table(pa.Table.from_pandas(frame))``; target <= 2x.
2. ``validate``: loopline's inferred suite (``infer_checks``, then ``validate``) against pandera's
   ``schema.validate(frame, lazy=True)`` with an equivalent schema written by hand; <= 1.5x.

Then loopline's create is broken down part by part (``workers/datasets_breakdown.py``). Prints
the tables, writes ``benchmarks/results/datasets.json`` and exits 1 when a target is missed.
See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib.metadata
import json
import math
import os
import platform
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workers import datasets_breakdown as bd
from workers import datasets_validation as val
from workers.datasets_common import (
    DATASET,
    SEED,
    CpuSnapshot,
    alternate,
    cpu_snapshot,
    make_frame,
    median,
    others_share,
    scratch_dir,
    timed,
)

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_FILE = BENCH_DIR / "results" / "datasets.json"
CREATE_TARGET = 2.0
VALIDATE_TARGET = 1.5
VALIDATE_FIGURE = "validate (inferred suite)"


@dataclass(frozen=True)
class Sizes:
    rows: int = 1_000_000
    repeats: int = 5


QUICK = Sizes(rows=100_000, repeats=3)


# -- figure 1: create ---------------------------------------------------------------------------


def pyarrow_write(frame: pd.DataFrame) -> float:
    """pyarrow alone: the frame to an Arrow table, then to Parquet with default options."""
    with scratch_dir() as folder:
        path = folder / "frame.parquet"

        def write() -> None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            pq.write_table(table, path)

        seconds, _ = timed(write)
    return seconds


class LooplineCreate:
    """``loopline.datasets.create`` into a fresh store each time, so each makes a new version."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.last: Any = None  # the last DatasetVersion, to infer checks from

    def __call__(self) -> float:
        import loopline
        from loopline.client import datasets  # what loopline.datasets resolves to

        with scratch_dir() as folder:
            loopline.set_uri(str(folder))
            datasets.list()  # open the store (SQLite file, migrations) before the clock starts
            seconds, version = timed(lambda: datasets.create(DATASET, self.frame))
            loopline.set_uri(None)
        if version.version != 1:
            raise RuntimeError(f"a fresh store gave version {version.version}, not a new 1")
        self.last = version
        return seconds


# -- the summary --------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the summary; ``loopline`` None means not measured (see ``note``)."""

    figure: str
    loopline: float | None
    peer: float | None
    peer_name: str
    target: float
    note: str = ""
    valid: bool = True  # False: measured, but not what the target asks (see problems)

    @property
    def ratio(self) -> float | None:
        if self.loopline is None or not self.peer:
            return None
        return self.loopline / self.peer

    @property
    def met(self) -> bool:
        return self.valid and self.ratio is not None and self.ratio <= self.target

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ratio": self.ratio, "met": self.met}


def create_figure(frame: pd.DataFrame, repeats: int) -> tuple[Row, dict[str, Any], Any]:
    create = LooplineCreate(frame)
    samples = alternate({"pyarrow": lambda: pyarrow_write(frame), "loopline": create}, repeats)
    figure = f"create version ({len(frame):,} x {frame.shape[1]})"
    row = Row(figure, median(samples["loopline"]), median(samples["pyarrow"]), "pyarrow",
              CREATE_TARGET)  # fmt: skip
    version = create.last
    detail = {"samples": samples, "num_bytes": version.num_bytes, "digest": version.digest}
    return row, detail, version


def validation_figure(
    frame: pd.DataFrame, version: Any, repeats: int, problems: list[str]
) -> tuple[Row, dict[str, Any]]:
    api, why = val.find_api()
    if api is None:
        note = f"not available yet ({why})"
        return Row(VALIDATE_FIGURE, None, None, "pandera", VALIDATE_TARGET, note), {"error": note}
    result = val.run(frame, version, api, repeats)
    ours, inplace = median(result.loopline), median(result.pandera_inplace)
    note = (
        f"{result.suite_checks} checks, {result.where}; infer_checks "
        f"{result.infer_seconds * 1000:.1f} ms (not counted); against pandera with "
        f"inplace=True (no copy of the frame, as loopline does): {inplace:.3f} s, "
        f"{ours / inplace:.2f}x"
    )
    if result.findings:
        problems.append(f"the inferred suite fails on its own data: {result.findings} findings")
    problems.extend(f"the schemas differ: {difference}" for difference in result.differences)
    valid = not result.findings and not result.differences
    row = Row(VALIDATE_FIGURE, ours, median(result.pandera), "pandera", VALIDATE_TARGET, note,
              valid)  # fmt: skip
    return row, dataclasses.asdict(result)


def _seconds(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.3f} s"


def print_summary(rows: Sequence[Row]) -> None:
    header = f"{'figure':<32}{'loopline':>10}{'peer':>20}{'ratio':>8}{'target':>10}  met"
    print(header)
    print("-" * len(header))
    for row in rows:
        target = f"<= {row.target}x"
        if row.loopline is None:
            print(f"{row.figure:<32}{'not available yet':>38}{'':>8}{target:>10}  no")
            continue
        ratio = "n/a" if row.ratio is None else f"{row.ratio:.2f}x"
        ours, peer = _seconds(row.loopline), f"{_seconds(row.peer)} {row.peer_name}"
        met = "yes" if row.met else ("no (!)" if not row.valid else "no")
        print(f"{row.figure:<32}{ours:>10}{peer:>20}{ratio:>8}{target:>10}  {met}")
    for row in rows:
        if row.note:
            print(f"  {row.figure}: {row.note}")


def print_breakdown(parts: list[bd.Part], repeats: int) -> None:
    measured = next((p.inside_seconds for p in parts if p.name == bd.TOTAL), math.nan)
    print(f"\nloopline create, part by part (median of {repeats}; share of the measured create):")
    print(f"  {'':<56}{'alone':>9}{'in create':>11}{'share':>8}")
    for part in parts:
        indent = "    " if part.parent else "  "
        share = part.inside_seconds / measured * 100
        shown = f"{share:7.1f}%" if math.isfinite(share) and part.name != bd.TOTAL else ""
        name = f"{indent}{part.name}"
        print(f"{name:<58}{_cell(part.alone_seconds)}{_cell(part.inside_seconds, 11)}{shown}")
    serial, predicted = _cell(bd.sum_alone(parts)), _cell(bd.predicted_create(parts))
    print(f"  {'sum of the parts alone, one after another':<56}{serial}")
    print(f"  {'create as predicted from the parts alone (*)':<56}{predicted}")
    print("  (*) profile_table || pq.write_table, as create runs them at once")


def _cell(value: float, width: int = 9) -> str:
    text = f"{value:.3f} s" if math.isfinite(value) else "-"
    return f"{text:>{width}}"


def print_noise(cpu_start: CpuSnapshot) -> None:
    share = others_share(cpu_start, cpu_snapshot())
    if share is None:
        return
    cores = os.cpu_count() or 1
    print(f"\nother processes used {share:.0%} of the {cores} cores during the run", end="")
    print(" (high: rerun on an idle machine)" if share > 0.1 else "")


# -- results ------------------------------------------------------------------------------------


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def meta(
    sizes: Sizes, frame: pd.DataFrame, load_start: tuple[float, ...], cpu_start: CpuSnapshot
) -> dict[str, Any]:
    packages = ("loopline", "pandas", "pyarrow", "numpy", "pandera")
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {name: _version(name) for name in packages},
        "cpu_count": os.cpu_count(),
        "load_average_start": list(load_start),
        "load_average_end": list(os.getloadavg()),
        "others_cpu_share": others_share(cpu_start, cpu_snapshot()),
        "rows": len(frame),
        "columns": frame.shape[1],
        "dtypes": {str(name): str(dtype) for name, dtype in frame.dtypes.items()},
        "frame_bytes": int(frame.memory_usage(deep=True).sum()),
        "repeats": sizes.repeats,
        "warmups": 1,
        "seed": SEED,
    }


def write_results(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> tuple[Sizes, Path]:
    parser = argparse.ArgumentParser(description="Datasets benchmark: create and validate.")
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 3 repeats")
    parser.add_argument("--rows", type=int, help="rows of the frame (default 1,000,000)")
    parser.add_argument("--repeats", type=int, help="timed repeats, at least 3 (default 5)")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="the JSON results")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else Sizes()
    sizes = Sizes(rows=args.rows or base.rows, repeats=max(3, args.repeats or base.repeats))
    return sizes, args.output


def guarded_validation(
    frame: pd.DataFrame, version: Any, repeats: int, problems: list[str]
) -> tuple[Row, dict[str, Any]]:
    """The validation figure; a crash of the new API is reported, and the run goes on."""
    try:
        return validation_figure(frame, version, repeats, problems)
    except Exception as exc:
        note = f"FAILED: {type(exc).__name__}: {exc}"
        problems.append(note)
        row = Row(VALIDATE_FIGURE, None, None, "pandera", VALIDATE_TARGET, note)
        return row, {"error": note, "traceback": traceback.format_exc()}


def main(argv: Sequence[str]) -> int:
    sizes, output = parse_args(argv)
    load_start, cpu_start = os.getloadavg(), cpu_snapshot()
    problems: list[str] = []
    frame = make_frame(sizes.rows)
    print(f"frame: {len(frame):,} rows x {frame.shape[1]} columns; median of {sizes.repeats} "
          f"after 1 warm-up; load average {load_start[0]:.2f}\n")  # fmt: skip
    create_row, create_detail, version = create_figure(frame, sizes.repeats)
    validation_row, validation_detail = guarded_validation(frame, version, sizes.repeats, problems)
    parts = bd.Breakdown(frame).run(sizes.repeats)
    rows = [create_row, validation_row]
    print_summary(rows)
    print_breakdown(parts, sizes.repeats)
    for problem in problems:
        print(f"problem: {problem}")
    print_noise(cpu_start)
    payload = {
        "meta": meta(sizes, frame, load_start, cpu_start),
        "figures": [row.to_dict() for row in rows],
        "create": create_detail,
        "validation": validation_detail,
        "breakdown": [part.to_dict() for part in parts],
        "problems": problems,
    }
    write_results(output, payload)
    print(f"\nwrote {output}")
    return 0 if all(row.met for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
