"""The tables an evaluation reads: DataFrames or dataset versions, and the training data.

Each table comes with a description of where it came from (``source``: ``dataframe`` or
``datasets:/name/3``, its ``digest`` and ``rows``), stored in the evaluation and handed to
lineage. The baseline is fitted on the version's recorded training datasets when there are
any, so the comparison is made "on the same training data" as the model; ``train_data`` is the
fallback for versions that record none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopline.entities import DatasetVersion, ModelVersion
from loopline.errors import InvalidArgumentError, InvalidStateError
from loopline.store import SqlTrackingStore

if TYPE_CHECKING:
    from loopline.data.service import DatasetService

__all__ = ["read_table", "training_table"]

Table = tuple[Any, dict[str, Any]]


def read_table(datasets: DatasetService | None, data: Any, argument: str) -> Table:
    """A DataFrame and its source, for a DataFrame, a DatasetVersion or ``datasets:/name/3``."""
    if isinstance(data, str) and data.startswith("datasets:/"):
        head, _, tail = data.removeprefix("datasets:/").rpartition("/")
        if not head or not (tail == "latest" or tail.isdecimal()):
            raise InvalidArgumentError(
                f"The {argument!r} reference must be datasets:/<name>/<version> or "
                f"datasets:/<name>/latest. Got {data[:120]!r}.",
                field=argument,
            )
        return _load(datasets, head, None if tail == "latest" else int(tail), argument)
    if isinstance(data, DatasetVersion):
        return _load(datasets, data.name, data.version, argument)
    if type(data).__name__ == "DataFrame" and hasattr(data, "columns"):
        return data, {"source": "dataframe", "rows": len(data)}
    raise InvalidArgumentError(
        f"The {argument!r} parameter must be a pandas DataFrame, a DatasetVersion or a "
        f"datasets:/<name>/<version> reference. Got {type(data).__name__} instead.",
        field=argument,
    )


def _load(datasets: DatasetService | None, name: str, number: int | None, argument: str) -> Table:
    if datasets is None:
        raise InvalidStateError(
            f"The {argument!r} parameter names a dataset version, but this release service "
            "has no datasets service; pass a DataFrame.",
            field=argument,
        )
    found = datasets.get(name, number)
    frame = datasets.load(found.name, found.version)
    return frame, {"source": found.uri, "digest": found.digest, "rows": len(frame)}


def training_table(
    store: SqlTrackingStore,
    datasets: DatasetService | None,
    version: ModelVersion,
    train_data: Any,
) -> Table:
    """The rows the version was trained on: its recorded training datasets, else ``train_data``.

    A recorded dataset whose digest changed since registration raises InvalidStateError; no
    recorded dataset and no ``train_data`` raises InvalidArgumentError asking for it.
    """
    recorded = [
        d for d in store.model_version_training_datasets(version.name, version.version)
        if d.get("context", "training") == "training"
    ]  # fmt: skip
    if recorded and datasets is not None:
        frames, sources = [], []
        for ref in recorded:
            frame, source = _load(datasets, ref["name"], int(ref["version"]), "training")
            if ref.get("digest") and ref["digest"] != source["digest"]:
                raise InvalidStateError(
                    f"The training dataset {source['source']} of {version.uri} changed since "
                    "registration (digest mismatch).",
                    model=version.name, version=version.version,
                )  # fmt: skip
            frames.append(frame)
            sources.append(source)
        if len(frames) == 1:
            train = frames[0]
        else:
            import pandas as pd

            train = pd.concat(frames, ignore_index=True)
        info: dict[str, Any] = {
            "source": sources[0]["source"] if len(sources) == 1 else "recorded datasets",
            "rows": len(train), "recorded": True, "datasets": sources,
        }  # fmt: skip
        if train_data is not None:
            info["note"] = "train_data was ignored: the version records its training data"
        return train, info
    if train_data is None:
        raise InvalidArgumentError(
            f"{version.uri} records no training dataset, so the baseline cannot be fitted on "
            "the model's training data: pass train_data= (the rows the model was trained on, "
            "with the target column).",
            field="train_data",
        )
    frame, source = read_table(datasets, train_data, "train_data")
    return frame, {**source, "recorded": False}
