"""Alembic environment for class mode. Run programmatically by ``classroom.db.migrate`` with
an open connection (``config.attributes["connection"]``); the command line works too:
``alembic -c classroom/migrations/alembic.ini upgrade head`` with SHRINKAGE_DATABASE_URL set."""
from __future__ import annotations

from alembic import context

from classroom import db, schema

VERSION_TABLE = "classroom_alembic_version"  # our own, so we can share a database with others


def run() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:  # from the command line
        engine = db.raw_engine(db.database_url())
        with engine.begin() as connection:
            _configure_and_run(connection)
        engine.dispose()
    else:
        _configure_and_run(connection)


def _configure_and_run(connection) -> None:
    context.configure(connection=connection, target_metadata=schema.metadata,
                      version_table=VERSION_TABLE, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run()
