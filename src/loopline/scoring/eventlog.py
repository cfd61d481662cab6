"""Bulk scoring's side of the event log: one Arrow IPC segment per scored chunk.

The inference server appends records to a journal that is sealed into Parquet later; a bulk run
already holds its rows as columns, so it writes each chunk straight into the layout the event
log reads (``predictions/deployment=<name>/date=<day>/part-<id>-typed.arrow``, the stored schema,
``variant`` = ``batch``), crash-safely: a hidden temporary file, fsync, rename, fsync of the
folder. The segment is an Arrow IPC file with LZ4-compressed buffers, not Parquet: writing it
costs about a fifth of Parquet's encoding, which was a third of a logged bulk run's CPU
(docs/decisions.md). A chunk is in the log whole or not at all; reads
(``EventLog.read_predictions``, ``open_predictions``) see it as soon as its segment is renamed
into place.

``inputs``, ``outputs`` and ``decision`` are written as *typed* struct columns (a field per input
column, per output, per decision field; :mod:`loopline.eventlog.typed`), not JSON text: no JSON
is encoded while scoring. Reads turn them into JSON text with the keys of a record the server
logs (NaN and infinities as null), so readers see one shape.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from loopline.scoring.columns import DECISION_FIELDS, Scored, decision_columns

__all__ = ["log_table", "write_segment"]

_DAY_MS = 86_400_000
_IPC_COMPRESSION = "lz4"


def _outputs(scored: Scored, extra: dict[str, Any]) -> Any:
    """``{"label", "score", "proba": {class: p}}`` as the server logs it (regressors: label)."""
    import numpy as np
    import pyarrow as pa

    n = len(scored.labels)
    labels = scored.labels
    label = pa.array(labels.tolist() if labels.dtype == object else labels)
    fields: dict[str, Any] = {"label": label}
    if scored.proba is None:
        fields["score"] = label
        fields["proba"] = pa.nulls(n)
    else:
        proba = scored.proba
        names = scored.classes if scored.classes and len(scored.classes) == proba.shape[1] else None
        keys = [str(names[j]) if names else str(j) for j in range(proba.shape[1])]
        fields["score"] = (
            pa.array(proba[:, 1]) if proba.shape[1] == 2 else pa.nulls(n, pa.float64())
        )
        fields["proba"] = pa.StructArray.from_arrays(
            [pa.array(np.ascontiguousarray(proba[:, j])) for j in range(proba.shape[1])],
            names=keys,
        )
    fields.update(extra)
    return pa.table(fields)


def log_table(
    scored: Scored,
    inputs: Any,
    *,
    deployment: str,
    model_name: str,
    model_version: int,
    request_keys: Any = None,
    outputs_extra: dict[str, Any] | None = None,
    decided: dict[str, Any] | None = None,
) -> Any:
    """The chunk's rows in the event log's stored schema (``deployment`` included).

    ``decided``: the decision's columns when already made (:func:`decision_columns`).
    ``inputs``, ``outputs`` and ``decision`` are struct columns (``inputs`` is the text ``{}``
    when the chunk logs no input column, ``decision`` null without a policy).
    """
    import pyarrow as pa

    from loopline.eventlog.schema import stored
    from loopline.eventlog.typed import PAYLOADS

    n = len(scored.labels)
    text = pa.string()
    decision = scored.decision
    if decision is not None:
        columns = decided if decided is not None else decision_columns(decision)
        decision_column = _struct({k: columns[k] for k in DECISION_FIELDS})
        action, rule, queue = columns["action"], columns["rule"], columns["queue"]
        control = columns["control"]
        policy_version = columns["policy_version"]
    else:
        decision_column = pa.nulls(n, text)
        action = rule = queue = policy_version = pa.nulls(n, text)
        control = pa.repeat(pa.scalar(False), n)
    keys = pa.nulls(n, text) if request_keys is None else request_keys.cast(text)
    outputs = _outputs(scored, outputs_extra or {})
    table = pa.table(
        {
            "prediction_id": scored.ids,
            "deployment": pa.repeat(pa.scalar(deployment), n),
            "model_name": _constant(model_name, n),
            "model_version": pa.repeat(pa.scalar(int(model_version), pa.int64()), n),
            "variant": _constant("batch", n),
            "timestamp": pa.repeat(pa.scalar(scored.timestamp, pa.int64()), n),
            "inputs": _struct(dict(zip(inputs.column_names, inputs.columns, strict=True)))
            if inputs.num_columns
            else pa.repeat(pa.scalar("{}"), n),
            "outputs": _struct(dict(zip(outputs.column_names, outputs.columns, strict=True))),
            "action": action,
            "rule": rule,
            "queue": queue,
            "decision": decision_column,
            "policy_version": policy_version,
            "control": control,
            "latency_ms": pa.nulls(n, pa.float64()),
            "request_key": keys,
        }
    )
    schema = stored("predictions")
    arrays: list[Any] = []
    fields: list[Any] = []
    for f in schema:
        column = table.column(f.name)
        if f.name not in PAYLOADS and not _coded_text(column.type, f.type):
            column = column.cast(f.type)
        arrays.append(column)
        fields.append(f.with_type(column.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _constant(value: str, n: int) -> Any:
    """``n`` times ``value`` as a dictionary array (one string, ``n`` zero codes)."""
    import numpy as np
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string())
    )


def _coded_text(actual: Any, stored: Any) -> bool:
    """A dictionary of strings where the stored schema says string: kept as it is in the
    segment (reads cast it to the stored schema), so repeated rule and version texts are not
    written out row by row."""
    import pyarrow as pa

    return bool(
        pa.types.is_dictionary(actual)
        and pa.types.is_string(actual.value_type)
        and pa.types.is_string(stored)
    )


def _struct(columns: dict[str, Any]) -> Any:
    """One struct array of the named columns (Arrow arrays or chunked arrays)."""
    import pyarrow as pa

    arrays = [
        c.chunk(0)
        if isinstance(c, pa.ChunkedArray) and c.num_chunks == 1
        else c.combine_chunks()
        if isinstance(c, pa.ChunkedArray)
        else c
        for c in columns.values()
    ]
    return pa.StructArray.from_arrays(arrays, names=list(columns))


def write_segment(root: str | Path, table: Any, *, deployment: str, timestamp: int) -> Path:
    """Write one chunk's log rows as a segment of the event log under ``root``; its path.

    The segment is named like the sealed journals (``part-<ms>-<pid>-<random>-typed.arrow``) so
    it sorts by time and never collides with a journal's segment.
    """
    import pyarrow as pa

    from loopline.eventlog.encode import date_of
    from loopline.eventlog.journal import fsync_dir, replace_durably
    from loopline.eventlog.typed import TYPED_SUFFIX

    folder = (
        Path(root)
        / "predictions"
        / f"deployment={quote(deployment, safe='')}"
        / f"date={date_of(timestamp)}"
    )
    created = [p for p in (folder.parent.parent, folder.parent, folder) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    name = f"part-{timestamp:013d}-{os.getpid()}-{os.urandom(6).hex()}{TYPED_SUFFIX}"
    data = table.drop_columns(["deployment"])
    options = pa.ipc.IpcWriteOptions(compression=_IPC_COMPRESSION)

    def write(tmp: Path) -> None:
        with (
            pa.OSFile(str(tmp), "wb") as sink,
            pa.ipc.new_file(sink, data.schema, options=options) as out,
        ):
            out.write_table(data)

    replace_durably(folder / name, write)
    for made in reversed(created):
        fsync_dir(made.parent)
    return folder / name
