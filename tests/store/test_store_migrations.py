"""Schema migrations: the head revision, the migrated schema, first-use migration, pragmas."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

import loopline.store.engine as store_engine
from loopline.errors import StorageError
from loopline.store import SqlTrackingStore
from loopline.store.engine import SCHEMA_REVISION, open_engine
from loopline.store.schema import Base

MIGRATIONS = Path(store_engine.__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _forget(url: str) -> None:
    with store_engine._engines_lock:
        engine = store_engine._engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def test_head_is_the_schema_revision() -> None:
    script = ScriptDirectory.from_config(_config())
    assert script.get_heads() == [SCHEMA_REVISION]
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None  # one linear history
    assert all(len(r._all_down_revisions) <= 1 for r in revisions)


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = open_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, Base.metadata)
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert differences == []
    assert version == SCHEMA_REVISION


def test_every_table_and_index_exists(db_url: str) -> None:
    inspector = inspect(open_engine(db_url))
    tables = set(inspector.get_table_names())
    assert tables == {*Base.metadata.tables, "alembic_version"}
    indexes = {i["name"] for t in Base.metadata.tables for i in inspector.get_indexes(t)}
    assert {"ix_runs_experiment_start", "ix_metrics_run_key_step", "ix_tags_key"} <= indexes


def test_opening_an_existing_store_does_not_migrate_again(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service_store = SqlTrackingStore(db_url)
    experiment_id = service_store.create_experiment("kept", artifact_root="x", tags={}, now=1)
    _forget(db_url)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an up-to-date store was migrated again")

    monkeypatch.setattr("alembic.command.upgrade", refuse)
    reopened = SqlTrackingStore(db_url)
    assert reopened.get_experiment(experiment_id).name == "kept"
    assert open_engine(db_url) is reopened.engine  # one engine per URL per process


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    from alembic import command

    engine = open_engine(db_url)
    config = _config()
    with engine.connect() as conn, conn.begin():
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    _forget(db_url)
    store = SqlTrackingStore(db_url)  # migrates from scratch on first use
    assert store.create_experiment("again", artifact_root="x", tags={}, now=1) == "1"


def test_first_use_of_an_empty_postgresql_database(new_pg_database: Callable[..., str]) -> None:
    url = new_pg_database()
    store = SqlTrackingStore(url)
    with store.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == SCHEMA_REVISION


def test_sqlite_pragmas(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/nested/folder/t.db"
    engine = SqlTrackingStore(url).engine
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
        assert pragma["journal_mode"] == "wal"
        assert pragma["foreign_keys"] == 1
        assert pragma["busy_timeout"] >= 5_000
        assert pragma["synchronous"] >= 1  # NORMAL or FULL: committed means durable
        assert (tmp_path / "nested" / "folder" / "t.db").is_file()
    finally:
        _forget(url)


def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    store = SqlTrackingStore(url)
    try:
        with pytest.raises(IntegrityError, match="FOREIGN KEY"), store.engine.begin() as conn:
            conn.execute(text("INSERT INTO params VALUES ('nope', 'k', 'v')"))
    finally:
        _forget(url)


def test_in_memory_sqlite_store_works() -> None:
    url = "sqlite://"
    try:
        store = SqlTrackingStore(url)
        experiment_id = store.create_experiment("memory", artifact_root="x", tags={}, now=1)
        assert SqlTrackingStore(url).get_experiment(experiment_id).name == "memory"
    finally:
        _forget(url)


def _set_version(engine: Any, version: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": version})


def test_a_store_from_a_newer_loopline_is_refused_clearly(db_url: str) -> None:
    engine = open_engine(db_url)
    _set_version(engine, "9999")
    _forget(db_url)
    try:
        with pytest.raises(StorageError, match="9999"):
            SqlTrackingStore(db_url)
    finally:
        _set_version(engine, SCHEMA_REVISION)
        engine.dispose()
