"""Bulk scoring's side of the event log: one Parquet segment per scored chunk.

The inference server appends records to a journal that is sealed into Parquet later; a bulk run
already holds its rows as columns, so it writes each chunk straight into the layout the event
log reads (``predictions/deployment=<name>/date=<day>/part-<id>.parquet``, the stored schema,
``variant`` = ``batch``), crash-safely: a hidden temporary file, fsync, rename, fsync of the
folder. A chunk is in the log whole or not at all; reads (``EventLog.read_predictions``,
``open_predictions``) see it as soon as its segment is renamed into place.

``inputs``, ``outputs`` and ``decision`` are JSON text as in records the server logs (same keys;
NaN and infinities as null). They are built by polars' JSON encoder when polars is installed
(``loopline[polars]``: columnar, no Python object per row) and row by row otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from loopline.scoring.columns import DECISION_FIELDS, Scored, decision_columns

__all__ = ["log_table", "write_segment"]

_DAY_MS = 86_400_000


def _polars() -> Any:
    try:
        import polars
    except ImportError:
        return None
    return polars


def json_columns(tables: dict[str, Any]) -> dict[str, Any]:
    """Per name, one JSON object per row of its Arrow table (keys in column order).

    With polars, all of them are encoded in one ``select``: polars runs the expressions on its
    own threads, outside the GIL.
    """
    import pyarrow as pa

    pl = _polars()
    if pl is None:
        return {name: _json_rows(table) for name, table in tables.items()}
    n = next(iter(tables.values())).num_rows
    structs = {}
    for name, table in tables.items():
        if table.num_columns:
            columns = [table.column(i) for i in range(table.num_columns)]
            structs[name] = pa.StructArray.from_arrays(
                [c.chunk(0) if c.num_chunks == 1 else c.combine_chunks() for c in columns],
                names=table.column_names,
            )
    out = {name: pa.repeat(pa.scalar("{}"), n) for name in tables if name not in structs}
    if structs:
        frame = pl.from_arrow(pa.table(structs), rechunk=False)
        assert isinstance(frame, pl.DataFrame)
        encoded = frame.select([pl.col(name).struct.json_encode() for name in structs])
        for name in structs:
            # string_view: no copy out of polars (segments are written without the Arrow
            # schema, so they read back as plain strings)
            out[name] = encoded.get_column(name).to_arrow(compat_level=pl.CompatLevel.newest())
    return out


def json_column(table: Any) -> Any:
    """One JSON object per row of ``table`` (an Arrow table), keys in column order."""
    return json_columns({"_": table})["_"]


def _json_rows(table: Any) -> Any:
    import pyarrow as pa

    from loopline.eventlog.encode import to_json_text

    n = table.num_rows
    if table.num_columns == 0:
        return pa.repeat(pa.scalar("{}"), n)
    names = table.column_names
    columns = [_plain(table.column(c)) for c in names]
    return pa.array(
        [to_json_text(dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)],
        pa.string(),
    )


def _plain(column: Any) -> list[Any]:
    import pyarrow as pa

    kind = column.type
    if pa.types.is_temporal(kind) or pa.types.is_decimal(kind):
        column = column.cast(pa.string())
    return list(column.to_pylist())


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
    The JSON columns may be ``string_view`` (polars' own strings, not copied); they are written
    as Parquet strings all the same.
    """
    import pyarrow as pa

    from loopline.eventlog.schema import stored

    n = len(scored.labels)
    text = pa.string()
    decision = scored.decision
    if decision is not None:
        columns = decided if decided is not None else decision_columns(decision)
        decision_table = pa.table({k: columns[k] for k in DECISION_FIELDS})
        action, rule, queue = columns["action"], columns["rule"], columns["queue"]
        control = columns["control"]
        policy_version = columns["policy_version"]
    else:
        decision_table = None
        action = rule = queue = policy_version = pa.nulls(n, text)
        control = pa.repeat(pa.scalar(False), n)
    keys = pa.nulls(n, text) if request_keys is None else request_keys.cast(text)
    parts = {"inputs": inputs, "outputs": _outputs(scored, outputs_extra or {})}
    if decision_table is not None:
        parts["decision"] = decision_table
    encoded = json_columns(parts)
    table = pa.table(
        {
            "prediction_id": scored.ids,
            "deployment": pa.repeat(pa.scalar(deployment), n),
            "model_name": pa.repeat(pa.scalar(model_name), n),
            "model_version": pa.repeat(pa.scalar(int(model_version), pa.int64()), n),
            "variant": pa.repeat(pa.scalar("batch"), n),
            "timestamp": pa.repeat(pa.scalar(scored.timestamp, pa.int64()), n),
            "inputs": encoded["inputs"],
            "outputs": encoded["outputs"],
            "action": action,
            "rule": rule,
            "queue": queue,
            "decision": encoded.get("decision", pa.nulls(n, text)),
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
        if not pa.types.is_string_view(column.type) or f.type != text:
            column = column.cast(f.type)
        arrays.append(column)
        fields.append(f.with_type(column.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_segment(root: str | Path, table: Any, *, deployment: str, timestamp: int) -> Path:
    """Write one chunk's log rows as a segment of the event log under ``root``; its path.

    The segment is named like the sealed journals (``part-<ms>-<pid>-<random>.parquet``) so it
    sorts by time and never collides with a journal's segment.
    """
    import pyarrow.parquet as pq

    from loopline.eventlog.encode import date_of

    folder = (
        Path(root)
        / "predictions"
        / f"deployment={quote(deployment, safe='')}"
        / f"date={date_of(timestamp)}"
    )
    created = [p for p in (folder.parent.parent, folder.parent, folder) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    name = f"part-{timestamp:013d}-{os.getpid()}-{os.urandom(6).hex()}.parquet"
    tmp = folder / f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        pq.write_table(
            table.drop_columns(["deployment"]),
            tmp,
            compression="zstd",
            use_dictionary=["model_name", "variant", "action", "rule", "queue", "policy_version"],
            write_statistics=["prediction_id", "timestamp", "model_version"],
            store_schema=False,
        )
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, folder / name)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(folder)
    for made in reversed(created):
        _fsync_dir(made.parent)
    return folder / name
