"""Where class data live, and the engine that reaches them.

- Default: a SQLite file, ``classroom.sqlite3`` in the data directory (``SHRINKAGE_DATA_DIR``,
  default ``~/.shrinkage-lab``), or the file named by ``SHRINKAGE_CLASS_DB``. Created on first
  use, in WAL mode (readers never wait for the writer), with a busy timeout; writes start with
  ``BEGIN IMMEDIATE`` so two threads (or processes) writing at once queue up instead of
  failing with "database is locked". Good for one server process with many threads.
- ``SHRINKAGE_DATABASE_URL`` set: that database instead, e.g.
  ``postgresql+psycopg://user:password@host/dbname`` (a plain ``postgresql://`` URL is read
  with psycopg 3). Every server replica pointing at it sees the same classes.

The schema is brought up to date with Alembic the first time a process opens a database
(``engine()``); concurrent starts are serialised by the database itself (an exclusive SQLite
transaction, a PostgreSQL advisory lock), so two replicas starting together are safe.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

URL_ENV = "SHRINKAGE_DATABASE_URL"
FILE_ENV = "SHRINKAGE_CLASS_DB"
DIR_ENV = "SHRINKAGE_DATA_DIR"
DB_FILE = "classroom.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
WRITE = "classroom_write"  # execution option: this transaction will write
_ADVISORY_LOCK = 7_412_093_551  # any constant: "class mode migrations are running"

_engines: dict[str, sa.Engine] = {}
_lock = threading.Lock()


def data_dir() -> Path:
    return Path(os.environ.get(DIR_ENV) or Path.home() / ".shrinkage-lab").expanduser()


def database_url() -> str:
    """The configured database, as an SQLAlchemy URL."""
    url = (os.environ.get(URL_ENV) or "").strip()
    if url:
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                return "postgresql+psycopg://" + url[len(plain):]
        return url
    path = Path(os.environ.get(FILE_ENV) or data_dir() / DB_FILE).expanduser()
    return f"sqlite:///{path}"


def describe(url: str) -> str:
    """The URL without its password, to show to an instructor or in a log."""
    return sa.make_url(url).render_as_string(hide_password=True)


def raw_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with class mode's connection settings, not migrated."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we say BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A write takes the write lock at its start: a transaction that read first and then
        # tried to write could otherwise fail at once (SQLITE_BUSY) instead of waiting.
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision (idempotent; safe from several processes)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


def engine(url: str | None = None) -> sa.Engine:
    """The migrated engine for ``url`` (default: the configured one), one per process."""
    url = url or database_url()
    with _lock:
        found = _engines.get(url)
        if found is None:
            found = raw_engine(url)
            migrate(found)
            _engines[url] = found
        return found


def forget(url: str) -> None:
    """Drop this process's engine for ``url`` (tests: a "restarted server" opens a new one)."""
    with _lock:
        found = _engines.pop(url, None)
    if found is not None:
        found.dispose()
