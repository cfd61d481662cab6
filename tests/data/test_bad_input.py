"""Bad sources get an error that names the problem and leave no version behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from loopline.data.service import DatasetService
from loopline.data.sources import SqlQuery
from loopline.errors import InvalidArgumentError, NotFoundError


def _latin1_csv(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,city\nJosé,Málaga\n".encode("latin-1"))
    return path


BAD: dict[str, tuple[Callable[[Path], Any], type[Exception], str]] = {
    "empty table": (
        lambda _: pd.DataFrame({"a": pd.Series([], dtype="int64")}), InvalidArgumentError, "empty"
    ),
    "no columns": (lambda _: pd.DataFrame(), InvalidArgumentError, "no columns"),
    "duplicate names": (
        lambda _: pd.DataFrame([[1, 2]], columns=["a", "a"]), InvalidArgumentError, "duplicate"
    ),
    "mixed types": (
        lambda _: pd.DataFrame({"m": [1, "two", 3.0]}), InvalidArgumentError, "Column 'm' mixes"
    ),
    "nested values": (
        lambda _: pa.table({"n": [[1, 2], [3]]}), InvalidArgumentError, "nested values"
    ),
    "non-UTF-8 CSV": (_latin1_csv, InvalidArgumentError, "not valid UTF-8"),
    "missing file": (lambda p: p / "nope.parquet", NotFoundError, "does not exist"),
    "folder without data": (lambda p: p, InvalidArgumentError, "no Parquet"),
    "failing query": (
        lambda p: SqlQuery(f"sqlite:///{p}/q.db", "SELECT * FROM missing_table"),
        InvalidArgumentError,
        "no such table",
    ),
    "unsupported object": (lambda _: {"a": [1]}, InvalidArgumentError, "must be a pandas"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_bad_source_is_refused_and_nothing_is_stored(
    datasets: DatasetService, tmp_path: Path, case: str
) -> None:
    make, error, message = BAD[case]
    source_dir = tmp_path / "src"
    source_dir.mkdir()

    with pytest.raises(error, match=message):
        datasets.create("bad", make(source_dir))

    assert list(datasets.list()) == []
    blobs = tmp_path / "artifacts" / "blobs"
    assert not blobs.exists() or not any(blobs.rglob("*"))
    leftovers = (
        list((tmp_path / "artifacts").glob("*.part")) if (tmp_path / "artifacts").exists() else []
    )
    assert leftovers == []


def test_bad_names_are_refused(datasets: DatasetService) -> None:
    with pytest.raises(InvalidArgumentError, match="dataset name"):
        datasets.create("", pd.DataFrame({"a": [1]}))
