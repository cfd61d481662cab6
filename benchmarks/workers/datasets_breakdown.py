"""loopline's ``datasets.create``, part by part: where the time of a version goes.

Two views of the same steps, each the median over the repeats after one warm-up round:

- **alone**: each function that ``DatasetService.create`` calls (``loopline.data.sources``,
  ``canonical``, ``profile``, Parquet, the blob and metadata stores), called on its own, one after
  another, on the same frame. Digest and profile are also split by column type (their private
  per-column helpers, timed directly when they exist).
- **in create**: one real ``create`` into a fresh store with those functions wrapped in timers
  (module globals of ``loopline.data.service``, ``pyarrow.parquet.write_table`` and the
  service's store methods, all restored afterwards). It shows what each step costs in place:
  ``create`` profiles while a thread writes the Parquet file, and on two cores they compete.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from workers.datasets_common import DATASET, median, scratch_dir, timed

READ = "read_source (pa.Table.from_pandas)"
CANON = "canonicalize"
DIGEST = "content_digest"
LOOKUP = "store.find_version_by_digest"
PROFILE = "profile_table"
WRITE = "pq.write_table (canonical table)"
PUT = "artifacts.put_file (sha256 of the file + rename)"
OVERLAP = "ParquetWriter.keep: wait for the background write, then store"
SAMPLE = "sample (take 1,000 rows, write + put_file)"
RECORD = "store.create_version"
TOTAL = "create, measured"
OTHER = "not in any part above"
ORDER = (READ, CANON, DIGEST, LOOKUP, PROFILE, WRITE, PUT, OVERLAP, SAMPLE, RECORD)

Timings = list[tuple[str, float, str]]  # (part, seconds, the part it belongs to or "")


@dataclass
class Part:
    """One step of create (or of its ``parent`` step): its times alone and in place."""

    name: str
    parent: str = ""
    alone: list[float] = field(default_factory=list)
    inside: list[float] = field(default_factory=list)

    @property
    def alone_seconds(self) -> float:
        return median(self.alone)

    @property
    def inside_seconds(self) -> float:
        return median(self.inside)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "parent": self.parent, "alone": self.alone, "inside": self.inside,
            "alone_median": _finite(self.alone_seconds),
            "inside_median": _finite(self.inside_seconds),
        }  # fmt: skip


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class Breakdown:
    """Runs both views ``repeats`` times (after a warm-up) and keeps every sample."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.parts: dict[str, Part] = {}

    def run(self, repeats: int) -> list[Part]:
        for round_ in range(repeats + 1):
            alone = alone_round(self.frame)
            inside = inside_round(self.frame)
            if round_:
                self._keep(alone, "alone")
                self._keep(inside, "inside")
        return self.ordered()

    def ordered(self) -> list[Part]:
        """Create's steps in its order, each followed by its sub-steps."""
        out: list[Part] = []
        for name in (*ORDER, TOTAL, OTHER):
            if name in self.parts:
                out.append(self.parts[name])
            out.extend(part for part in self.parts.values() if part.parent == name)
        return out

    def _keep(self, timings: Timings, view: str) -> None:
        for name, seconds, parent in timings:
            part = self.parts.setdefault(name, Part(name, parent=parent))
            getattr(part, view).append(seconds)


# -- alone --------------------------------------------------------------------------------------


def alone_round(frame: pd.DataFrame) -> Timings:
    """Each step on its own, in create's order, on the canonical table of ``frame``."""
    from loopline.data.canonical import canonicalize, content_digest
    from loopline.data.profile import profile_table
    from loopline.data.sources import read_source

    timings: Timings = []
    seconds, raw = timed(lambda: read_source(frame))
    timings.append((READ, seconds, ""))
    seconds, table = timed(lambda: canonicalize(raw))
    timings.append((CANON, seconds, ""))
    seconds, _ = timed(lambda: content_digest(table))
    timings.append((DIGEST, seconds, ""))
    timings.extend(_by_kind(table, DIGEST, _digest_steps()))
    seconds, profiled = timed(lambda: profile_table(table))
    timings.append((PROFILE, seconds, ""))
    timings.extend(_by_kind(table, PROFILE, _profile_steps()))
    timings.extend(_store_steps(table, profiled))
    return timings


def _kind(column: Any) -> str:
    from loopline.data.canonical import logical_type

    return str(logical_type(column.type))


Step = tuple[str, Callable[[Any], Any]]  # (label, function of a column)


def _by_kind(table: Any, parent: str, steps: dict[str, Step]) -> Timings:
    """Each column's step (``steps[logical type]``) timed, summed by logical type."""
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    labels: dict[str, str] = {}
    for column in table.columns:
        kind = _kind(column)
        if kind not in steps:
            continue
        labels[kind], step = steps[kind]
        seconds, _ = timed(functools.partial(step, column))
        totals[kind] = totals.get(kind, 0.0) + seconds
        counts[kind] = counts.get(kind, 0) + 1
    return [(f"{labels[k]}, {k} x{counts[k]}", totals[k], parent) for k in totals]


def _digest_steps() -> dict[str, Step]:
    """The per-column hash of ``content_digest``, for every type (none if it was renamed)."""
    from loopline.data import canonical

    hashes = getattr(canonical, "_column_hashes", None)
    if hashes is None:
        return {}
    kinds = ("float", "integer", "string", "datetime")
    return dict.fromkeys(kinds, ("_column_hashes", hashes))


def _profile_steps() -> dict[str, Step]:
    """The per-column helpers of ``profile_table`` (those that still exist)."""
    from loopline.data import profile

    numeric = getattr(profile, "_numeric", None)
    text = getattr(profile, "_text", None)
    temporal = getattr(profile, "_temporal", None)
    steps: dict[str, Step] = {}
    for kind in ("float", "integer"):
        if numeric is not None:
            steps[kind] = ("_numeric", _with_kind(numeric, kind))
    if text is not None:
        steps["string"] = ("_text", text)
    if temporal is not None:
        steps["datetime"] = ("_temporal", temporal)
    return steps


def _with_kind(numeric: Callable[[Any, str], Any], kind: str) -> Callable[[Any], Any]:
    def step(column: Any) -> Any:
        return numeric(column, kind)

    return step


def _store_steps(table: Any, profiled: tuple[Any, Any]) -> Timings:
    """Parquet write, blob store and metadata, in a fresh store."""
    import loopline

    with scratch_dir() as folder:
        service = loopline.Client(str(folder)).datasets
        service.list()  # open the store first: create() finds it open
        root = Path(service.artifacts.root)
        root.mkdir(parents=True, exist_ok=True)
        path = str(root / "data.parquet.part")
        lookup, _ = timed(lambda: service.store.find_version_by_digest(DATASET, _FAKE_DIGEST))
        write, _ = timed(lambda: pq.write_table(table, path))
        put, _ = timed(lambda: service.artifacts.put_file(path, move=True))
        sample, _ = timed(lambda: _write_sample(service, table, root))
        record, _ = timed(lambda: _record_version(service, table, profiled))
    return [(LOOKUP, lookup, ""), (WRITE, write, ""), (PUT, put, ""), (SAMPLE, sample, ""),
            (RECORD, record, "")]  # fmt: skip


_FAKE_DIGEST = "sha256:" + "0" * 64


def _write_sample(service: Any, table: Any, root: Path) -> None:
    from loopline.data.profile import sample_indices

    sample = table.take(sample_indices(table.num_rows))
    path = str(root / "sample.parquet.part")
    pq.write_table(sample, path)
    service.artifacts.put_file(path, move=True)


def _record_version(service: Any, table: Any, profiled: tuple[Any, Any]) -> None:
    """The version row with the table's real schema and profile (the store JSON-encodes them)."""
    from loopline.entities import DatasetVersion

    schema, profile = profiled
    version = DatasetVersion(
        name=DATASET, version=0, digest=_FAKE_DIGEST, data_digest=_FAKE_DIGEST,
        sample_digest=_FAKE_DIGEST, num_rows=table.num_rows, num_columns=table.num_columns,
        num_bytes=0, schema=schema, profile=profile, source="pandas.DataFrame",
        created_at=int(time.time() * 1000),
    )  # fmt: skip
    service.store.create_version(version, now=version.created_at)


# -- in create ----------------------------------------------------------------------------------


Calls = dict[str, list[float]]


@contextmanager
def _wrapped(owner: Any, attribute: str, label: str, calls: Calls) -> Iterator[None]:
    """Time every call of ``owner.attribute`` into ``calls[label]``; restore it afterwards."""
    original = getattr(owner, attribute)
    own = attribute in vars(owner)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            calls.setdefault(label, []).append(time.perf_counter() - start)

    setattr(owner, attribute, wrapper)
    try:
        yield
    finally:
        if own:
            setattr(owner, attribute, original)
        else:
            delattr(owner, attribute)


def inside_round(frame: pd.DataFrame) -> Timings:
    """One real create into a fresh store, its steps timed in place."""
    import loopline
    from loopline.data import service as service_module
    from loopline.data import writer as writer_module

    calls: Calls = {}
    with scratch_dir() as folder:
        service = loopline.Client(str(folder)).datasets
        service.list()
        targets = [
            (service_module, "read_source", READ), (service_module, "canonicalize", CANON),
            (service_module, "content_digest", DIGEST), (service_module, "profile_table", PROFILE),
            (pq, "write_table", WRITE), (service.artifacts, "put_file", PUT),
            (writer_module.ParquetWriter, "keep", OVERLAP),
            (service.store, "find_version_by_digest", LOOKUP),
            (service.store, "create_version", RECORD),
        ]  # fmt: skip
        with ExitStack() as stack:
            for owner, attribute, label in targets:
                if hasattr(owner, attribute):
                    stack.enter_context(_wrapped(owner, attribute, label, calls))
            total, _ = timed(lambda: service.create(DATASET, frame))
    return _inside_timings(calls, total)


def _nth(calls: Calls, label: str, index: int) -> float:
    values = calls.get(label, [])
    return values[index] if len(values) > index else math.nan


def _inside_timings(calls: Calls, total: float) -> Timings:
    """Map the wrapped calls to parts: the first write and put are the data, the second the sample.

    The sample row is the second ``ParquetWriter.keep`` (its ``table.take`` is not wrapped).
    """
    firsts = (READ, CANON, DIGEST, LOOKUP, PROFILE, WRITE, PUT, OVERLAP, RECORD)
    timings: Timings = [(name, _nth(calls, name, 0), "") for name in firsts]
    timings.append((SAMPLE, _nth(calls, OVERLAP, 1), ""))
    serial = (READ, CANON, DIGEST, LOOKUP, OVERLAP, SAMPLE, RECORD)
    known = sum(seconds for name, seconds, _ in timings if name in serial and seconds == seconds)
    return [*timings, (TOTAL, total, ""), (OTHER, total - known, "")]


def predicted_create(parts: list[Part]) -> float:
    """Create's time from the parts alone: profile and the Parquet write overlap in create."""
    alone = {part.name: part.alone_seconds for part in parts if not part.parent}
    serial = sum(alone.get(name, 0.0) for name in (READ, CANON, DIGEST, LOOKUP, SAMPLE, RECORD))
    return serial + max(alone.get(PROFILE, 0.0), alone.get(WRITE, 0.0)) + alone.get(PUT, 0.0)


def sum_alone(parts: list[Part]) -> float:
    names = (READ, CANON, DIGEST, LOOKUP, PROFILE, WRITE, PUT, SAMPLE, RECORD)
    return sum(part.alone_seconds for part in parts if part.name in names)
