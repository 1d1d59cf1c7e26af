"""Fixtures for class mode: a fresh SQLite file, and a throwaway PostgreSQL cluster.

The PostgreSQL cluster is started once per test session with the server binaries Debian
installs under /usr/lib/postgresql/*/bin (initdb, pg_ctl), in a temporary directory, on a
free loopback port, with trust authentication for local connections only. PostgreSQL
refuses to run as root, so as root it runs as the unprivileged user ``nobody``. Each test
gets a database of its own. Without the binaries, the PostgreSQL tests skip with a message
(.ci/run installs the ``postgresql`` package, so CI runs them).
"""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from classroom import db

REQUIRED = os.environ.get("SHRINKAGE_PG_REQUIRED") == "1"


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="shrinkage-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:  # postgres will not run as root: hand the directory to nobody
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, user="nobody")

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "nobody", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.root)

    def start(self) -> None:
        done = self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                         "--no-sync")
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr[-2000:]}")
        options = (f"-c port={self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        done = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w",
                         "-t", "60", "start")
        if done.returncode:
            log = (self.root / "log").read_text(errors="replace")[-2000:] if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {done.stderr[-2000:]}\n{log}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import sqlalchemy as sa

        name = "t_" + secrets.token_hex(6)
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        admin.dispose()
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster():
    bin_dir = _pg_bin()
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
