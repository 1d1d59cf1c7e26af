"""Fixtures for class mode: a fresh SQLite file, and a throwaway PostgreSQL cluster.

The PostgreSQL cluster is started once per test session with the server binaries Debian
installs under /usr/lib/postgresql/*/bin (initdb, pg_ctl), in a temporary directory, on a
free loopback port, with trust authentication for local connections only. PostgreSQL
refuses to run as root, so as root it runs as the unprivileged user ``nobody``. Each test
gets a database of its own. Without the binaries, the PostgreSQL tests skip with a message
(.ci/run installs the ``postgresql`` package, so CI runs them).
"""
from __future__ import annotations

import os

import pytest

from benchmarks.pg_cluster import Cluster, pg_bin
from classroom import db

REQUIRED = os.environ.get("SHRINKAGE_PG_REQUIRED") == "1"


@pytest.fixture(scope="session")
def pg_cluster():
    bin_dir = pg_bin()
    if bin_dir is None:
        message = ("PostgreSQL server binaries (initdb, pg_ctl) not found, so the PostgreSQL tests are "
                   "skipped: install Debian's `postgresql` package to run them (.ci/run does).")
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    cluster = Cluster(bin_dir)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'class.sqlite3'}"


@pytest.fixture
def pg_url(pg_cluster) -> str:
    return pg_cluster.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request) -> str:
    """The same test on a fresh SQLite file and on a fresh PostgreSQL database."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    made = request.getfixturevalue(fixture)
    yield made
    db.forget(made)
