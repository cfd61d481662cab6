"""Opening the metadata database: engine set-up, SQLite pragmas, and migrations on first use.

SQLite runs in WAL mode with foreign keys on. Writers take the write lock at the start of their
transaction (``BEGIN IMMEDIATE``) and wait up to the busy timeout for it, so several processes can
write to one file without "database is locked" surfacing: a deferred transaction that upgrades from
reading to writing would fail at once instead of waiting.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.pool import StaticPool

from loopline.errors import InvalidArgumentError, MissingDependencyError, StorageError

__all__ = ["SCHEMA_REVISION", "open_engine"]

# The Alembic head revision. A test checks it against the migrations folder, so opening an
# up-to-date store never has to import Alembic.
SCHEMA_REVISION = "0006"
SQLITE_BUSY_TIMEOUT_MS = 60_000
_MIGRATION_LOCK_KEY = 7_154_203_011  # pg_advisory_xact_lock key shared by all loopline processes

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def open_engine(url: str) -> Engine:
    """An engine for ``url`` with the schema at the current revision (one per URL per process)."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create(url)
            _migrate(engine)
            _engines[url] = engine
        return engine


def _create(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidArgumentError(
            f"The database URL {url!r} is not a valid SQLAlchemy URL: {exc}", field="database_url"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite(url, parsed.database)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(
            f"The database URL needs the driver {exc.name!r}: "
            "pip install 'loopline[postgres]' for PostgreSQL."
        ) from None


def _create_sqlite(url: str, database: str | None) -> Engine:
    if not database or database == ":memory:":
        # One shared connection, or every checkout would see a new, empty database.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # loopline issues BEGIN itself, below
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA case_sensitive_like = ON")
        cursor.close()
        # ILIKE compiles to lower(x) LIKE lower(y), and SQLite's own lower() folds ASCII only.
        dbapi_conn.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("loopline_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        return None


def _migrate(engine: Engine) -> None:
    if _current_revision(engine) == SCHEMA_REVISION:
        return
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    try:
        with engine.connect().execution_options(loopline_write=True) as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})"))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise StorageError(f"Could not open or migrate the metadata store: {exc.orig}") from None
    except CommandError as exc:  # a revision this loopline does not know: written by a newer one
        raise StorageError(
            f"The metadata store's schema is not one this loopline knows ({exc}); was it written "
            "by a newer loopline? Upgrade loopline to open it."
        ) from None
