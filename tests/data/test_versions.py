"""Dataset versions on real data: content addressing, sources, loading, lineage to runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loopline.data.service import DatasetService
from loopline.data.sources import SqlQuery
from loopline.errors import InvalidArgumentError, NotFoundError
from loopline.tracking.service import TrackingService


def test_identical_content_gives_one_version(
    datasets: DatasetService, flights: pd.DataFrame
) -> None:
    first = datasets.create("flights", flights, description="NYC 2013")
    again = datasets.create("flights", flights.copy())

    assert again.version == first.version == 1
    assert again.digest == first.digest
    assert len(datasets.versions("flights")) == 1


def test_row_and_column_order_do_not_change_the_digest(
    datasets: DatasetService, flights: pd.DataFrame
) -> None:
    first = datasets.create("flights", flights)
    shuffled = flights.sample(frac=1, random_state=7)[list(reversed(flights.columns))]

    assert datasets.create("flights", shuffled).version == first.version


def test_a_changed_row_gives_a_new_version(datasets: DatasetService, flights: pd.DataFrame) -> None:
    first = datasets.create("flights", flights)
    changed = flights.copy()
    changed.loc[changed.index[123], "dep_delay"] = 999.0

    second = datasets.create("flights", changed)

    assert second.version == 2
    assert second.digest != first.digest
    assert datasets.get("flights").version == 2
    assert datasets.get("flights", 1).digest == first.digest


@pytest.mark.parametrize("kind", ["polars", "arrow", "parquet", "parquet-folder", "csv"])
def test_every_source_gives_the_same_version(
    datasets: DatasetService, weather: pd.DataFrame, tmp_path: Path, kind: str
) -> None:
    frame = weather[["origin", "year", "month", "day", "hour", "temp", "humid"]].dropna()
    frame = frame.astype({"temp": "float64", "humid": "float64"})
    reference = datasets.create("weather", frame)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if kind == "polars":
        source: object = pl.from_pandas(frame)
    elif kind == "arrow":
        source = table
    elif kind == "parquet":
        source = tmp_path / "w.parquet"
        pq.write_table(table, source)
    elif kind == "parquet-folder":
        folder = tmp_path / "parts"
        folder.mkdir()
        half = table.num_rows // 2
        pq.write_table(table.slice(0, half), folder / "a.parquet")
        pq.write_table(table.slice(half), folder / "b.parquet")
        source = folder
    else:
        source = tmp_path / "w.csv"
        frame.to_csv(source, index=False)

    assert datasets.create("weather", source).digest == reference.digest


def test_sql_source_on_postgresql(
    datasets: DatasetService, new_pg_database: Callable[..., str], weather: pd.DataFrame
) -> None:
    from sqlalchemy import create_engine

    pg_url = new_pg_database()  # its own database: the shared one holds loopline's tables only
    frame = weather[["origin", "year", "month", "day", "temp"]].dropna().head(2000)
    engine = create_engine(pg_url)
    frame.to_sql("weather_src", engine, index=False, if_exists="replace")
    engine.dispose()

    version = datasets.create("pg-weather", SqlQuery(pg_url, "SELECT * FROM weather_src"))

    assert version.num_rows == len(frame)
    assert version.digest == datasets.create("again", frame).digest
    assert "password" not in version.source


def test_schema_and_profile_match_pandas(datasets: DatasetService, flights: pd.DataFrame) -> None:
    version = datasets.create("flights", flights)
    columns = {c["name"]: c for c in version.schema}
    delay = version.profile["dep_delay"]

    assert columns["carrier"]["type"] == "string"
    assert columns["carrier"]["categories"] == sorted(flights["carrier"].unique())
    assert columns["dep_delay"]["nullable"] is True
    assert delay["missing"] == int(flights["dep_delay"].isna().sum())
    assert delay["mean"] == pytest.approx(flights["dep_delay"].mean())
    assert delay["std"] == pytest.approx(flights["dep_delay"].std())
    assert delay["quantiles"]["0.5"] == pytest.approx(flights["dep_delay"].median())
    assert sum(delay["histogram"]["counts"]) == flights["dep_delay"].notna().sum()
    assert version.profile["carrier"]["top"][0]["value"] == flights["carrier"].mode()[0]
    assert version.profile["dest"]["distinct"] == flights["dest"].nunique()


def test_load_in_every_format(datasets: DatasetService, weather: pd.DataFrame) -> None:
    datasets.create("weather", weather)

    loaded = datasets.load("weather")
    assert isinstance(loaded, pd.DataFrame)
    assert loaded.shape == weather.shape
    assert isinstance(datasets.load("weather", 1, format="polars"), pl.DataFrame)
    assert datasets.load("weather", format="arrow").num_rows == len(weather)
    assert len(datasets.load("weather", sample=True)) == 1000
    with pytest.raises(InvalidArgumentError, match="format"):
        datasets.load("weather", format="excel")


def test_diff_reports_schema_rows_and_ranked_changes(
    datasets: DatasetService, weather: pd.DataFrame
) -> None:
    base = weather[["origin", "temp", "humid", "wind_speed"]].dropna()
    first = datasets.create("w", base)
    shifted = base.assign(temp=base["temp"] + 30, extra=1).drop(columns=["wind_speed"])
    shifted = shifted.astype({"humid": "string"}).head(len(base) - 10)
    second = datasets.create("w", shifted)

    diff = datasets.diff(first, second)

    assert diff.added == ["extra"]
    assert diff.removed == ["wind_speed"]
    assert diff.retyped == [{"column": "humid", "from": "float", "to": "string"}]
    assert diff.row_change == -10
    assert diff.changes[0].column == "temp"
    assert diff.changes[0].effect_size > 1.0


def test_runs_record_inputs_and_versions_show_their_runs(
    datasets: DatasetService, tracking: TrackingService, weather: pd.DataFrame
) -> None:
    version = datasets.create("weather", weather)
    run = tracking.create_run(tracking.create_experiment("e"))

    datasets.log_input(run.id, version, "training")
    datasets.log_input(run.id, version, "training")  # idempotent

    inputs = datasets.run_inputs(run.id)
    assert [(i.dataset, i.version, i.context) for i in inputs] == [("weather", 1, "training")]
    assert [i.run_id for i in datasets.consumers("weather", 1)] == [run.id]
    with pytest.raises(NotFoundError):
        datasets.log_input("nope", version)


def test_unknown_names_and_versions_are_not_found(datasets: DatasetService) -> None:
    with pytest.raises(NotFoundError, match="No dataset named 'nope'"):
        datasets.get("nope")
    datasets.create("x", pd.DataFrame({"a": [1]}))
    with pytest.raises(NotFoundError, match="no version 9"):
        datasets.get("x", 9)


def test_create_reports_its_steps_in_order(datasets: DatasetService, weather: pd.DataFrame) -> None:
    seen: list[tuple[str, int, int]] = []

    datasets.create("weather", weather, progress=lambda *step: seen.append(step))

    assert [s for s, _, _ in seen] == [
        "reading", "canonicalizing", "hashing", "profiling", "writing", "recording"
    ]  # fmt: skip
    assert [done for _, done, _ in seen] == list(range(6))
    assert {total for _, _, total in seen} == {6}
