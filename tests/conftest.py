"""Shared database fixtures: SQLite files and real PostgreSQL databases on 127.0.0.1:5432.

PostgreSQL is never mocked and never skipped: when the server cannot be reached, every test that
needs it fails with a message that says how to start it.

- ``pg_url``: one fresh database for the session (``loopline_test_<hex>``), dropped at the end.
- ``new_pg_database``: a factory of further fresh, empty databases, also dropped at the end.
- ``module_db_url``: an empty store per test module (a SQLite file or a new PostgreSQL database),
  for suites that only read one shared dataset.
- ``db_url``: a clean store per test, once on SQLite (a new file) and once on PostgreSQL (the
  session database with every loopline table emptied first: much faster than a new database).

A live REST API server (uvicorn in a thread) is not a fixture here but a class, ``ApiServer`` in
``api_server_support.py`` beside this file: suites subclass it and choose its scope (why: there).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# `pytest --doctest-modules` would import these conftests a second time as test modules named
# "conftest", which clashes with the other folders' conftest.py; they hold no doctests (nor does
# the support module).
collect_ignore = [
    "conftest.py",
    "store/conftest.py",
    "artifacts/conftest.py",
    "api_server_support.py",
]

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN_DATABASE = "test"
PG_ROLES = ("postgres", "root")


def _connect_admin() -> tuple[str, Any]:
    """An autocommit connection to the admin database, with the first role that works."""
    import psycopg

    problems = []
    for role in PG_ROLES:
        try:
            conn = psycopg.connect(
                host=PG_HOST,
                port=PG_PORT,
                user=role,
                dbname=PG_ADMIN_DATABASE,
                autocommit=True,
                connect_timeout=5,
            )
        except psycopg.OperationalError as exc:
            problems.append(f"  role {role!r}: {str(exc).strip()}")
            continue
        return role, conn
    pytest.fail(
        f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} (database {PG_ADMIN_DATABASE!r}, "
        f"roles {', '.join(PG_ROLES)}). The store tests run on PostgreSQL for real and are never "
        "skipped: start the server (`.ci/run` does, or `pg_ctlcluster <version> main start`) "
        "and run the tests again.\n" + "\n".join(problems),
        pytrace=False,
    )


def _forget_engines(url_end: str) -> None:
    """Dispose loopline's cached engines whose URL ends with ``url_end`` (closes their pools)."""
    from loopline.store import engine as store_engine

    with store_engine._engines_lock:
        for url in [u for u in store_engine._engines if u.endswith(url_end)]:
            store_engine._engines.pop(url).dispose()


class _PgDatabases:
    """Creates fresh databases and drops them all at the end of the session."""

    def __init__(self) -> None:
        self.role, self.admin = _connect_admin()
        self.names: list[str] = []

    def create(self, *, icu_locale: str | None = None) -> str:
        from psycopg import sql

        name = f"loopline_test_{secrets.token_hex(6)}"
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if icu_locale is not None:  # a linguistic default collation, as on many servers
            create += sql.SQL(
                " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE {} LOCALE 'C'"
            ).format(sql.Literal(icu_locale))
        self.admin.execute(create)
        self.names.append(name)
        # Tests never survive a server crash, so commits need not wait for the disk.
        self.admin.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name))
        )
        return f"postgresql+psycopg://{self.role}@{PG_HOST}:{PG_PORT}/{name}"

    def drop_all(self) -> None:
        from psycopg import sql

        for name in self.names:
            _forget_engines(f"/{name}")
            self.admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            self.admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        self.admin.close()


@pytest.fixture(scope="session")
def _pg_databases() -> Iterator[_PgDatabases]:
    databases = _PgDatabases()
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture(scope="session")
def new_pg_database(_pg_databases: _PgDatabases) -> Callable[..., str]:
    """A factory: each call creates an empty database and returns its SQLAlchemy URL.

    ``new_pg_database(icu_locale="en-US")`` gives the database that ICU default collation.
    """
    return _pg_databases.create


@pytest.fixture(scope="session")
def pg_url(_pg_databases: _PgDatabases) -> str:
    """``postgresql+psycopg://<role>@127.0.0.1:5432/loopline_test_<hex>``, one per session."""
    return _pg_databases.create()


def _empty_loopline_tables(url: str) -> None:
    from sqlalchemy import text

    from loopline.store.engine import open_engine
    from loopline.store.schema import Base

    engine = open_engine(url)  # migrates the database on first use
    with engine.begin() as conn:
        # A connection leaked by an earlier test would make this wait forever; fail instead.
        conn.execute(text("SET LOCAL lock_timeout = '10s'"))
        # DELETE, not TRUNCATE: on tables this small it is ten times faster.
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        sequences = conn.execute(text("SELECT relname FROM pg_class WHERE relkind = 'S'"))
        for (sequence,) in sequences.all():
            conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))


@pytest.fixture
def clean_pg_url(pg_url: str) -> str:
    """The session's PostgreSQL database with every loopline table emptied."""
    _empty_loopline_tables(pg_url)
    return pg_url


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty metadata store for this test: a new SQLite file, or a clean PostgreSQL database."""
    if request.param == "postgresql":
        yield str(request.getfixturevalue("clean_pg_url"))
        return
    url = f"sqlite:///{tmp_path}/t.db"
    yield url
    _forget_engines(url)  # close the file's pooled connections


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty metadata store shared by one test module: a SQLite file, or a new database."""
    if request.param == "postgresql":
        yield request.getfixturevalue("new_pg_database")()
        return
    url = f"sqlite:///{tmp_path_factory.mktemp('db')}/t.db"
    yield url
    _forget_engines(url)
