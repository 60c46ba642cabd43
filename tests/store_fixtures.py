"""Shared fixtures for the operations tests: stores and a throwaway PostgreSQL.

Test modules load this file with ``pytest_plugins = ["store_fixtures"]``.

PostgreSQL comes from the machine's Debian binaries (``initdb``, ``pg_ctl``,
``postgres``): one cluster per test session, under a fresh temporary folder, on
127.0.0.1 and a free port, with one new database per test. PostgreSQL refuses to
run as root, so under root (CI) the cluster runs as the ``postgres`` user.

PYTEST_DONT_REWRITE: test modules import helpers from here before pytest loads
it as a plugin, and it holds no test assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.ports import free_port

from bot.store.sqlite import SQLiteStore

SALT = b"test-salt-0123456789abcdef"
START = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


class FakeClock:
    """A clock the tests move forward by hand."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move forward by ``datetime.timedelta(**delta)``."""
        self.now += dt.timedelta(**delta)


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


class PostgresCluster:
    """A PostgreSQL cluster started for the test session.

    Args:
        base: An empty folder for the data, socket and log.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.initdb = _pg_binary("initdb")
        self.pg_ctl = _pg_binary("pg_ctl")
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(base, user.pw_uid, user.pw_gid)
            self._as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def _run(self, *args: str, timeout: float = 60) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        subprocess.run(
            args,
            check=True,
            cwd=self.base,
            env=env,
            timeout=timeout,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            **self._as,
        )

    def start(self) -> None:
        """initdb and start the server (raises CalledProcessError with its output)."""
        assert self.initdb and self.pg_ctl
        data = str(self.base / "data")
        self._run(
            self.initdb,
            "-D",
            data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            self.pg_ctl,
            "-D",
            data,
            "-l",
            str(self.base / "log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        """Stop the server at once."""
        assert self.pg_ctl
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run(self.pg_ctl, "-D", str(self.base / "data"), "-m", "immediate", "stop")

    def url(self, database: str = "postgres") -> str:
        """A connection URL to a database of this cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A running PostgreSQL cluster, or a skip that says why there is none."""
    pytest.importorskip("asyncpg", reason="asyncpg is not installed (pip install -e .[test])")
    if not (_pg_binary("initdb") and _pg_binary("pg_ctl") and _pg_binary("postgres")):
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or in "
            "/usr/lib/postgresql/*/bin: apt-get install postgresql"
        )
    base = Path(tempfile.mkdtemp(prefix="privacybot-pg-"))
    cluster = PostgresCluster(base)
    try:
        cluster.start()
    except subprocess.CalledProcessError as exc:
        log = base / "log"
        detail = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(
            f"could not start PostgreSQL: {exc.output!r}\n{detail}"
        ) from exc  # a real failure, not a skip
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
async def postgres_url(request: pytest.FixtureRequest) -> str:
    """A URL to a new, empty database of the session's cluster."""
    return await _pg_database(request)


StoreFactory = Callable[..., Any]


@pytest.fixture(params=["sqlite", "postgres"])
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """A factory ``make_store(clock=..., salt=...)`` of opened stores of each backend.

    ``make_store.backend`` names the backend; ``make_store.url`` is the PostgreSQL
    database's URL (empty for SQLite), for a second connection of a test's own.

    Every store a test makes shares the same database, so a test can close one
    and open another on the same data.
    """
    opened: list[Any] = []
    url = ""
    if request.param == "postgres":
        url = await _pg_database(request)

        def build(**kwargs: Any) -> Any:
            from bot.store.postgres import PostgresStore

            return PostgresStore(url, kwargs.pop("salt", SALT), **kwargs)
    else:
        path = tmp_path / "state" / "privacybot.sqlite3"

        def build(**kwargs: Any) -> Any:
            return SQLiteStore(path, kwargs.pop("salt", SALT), **kwargs)

    async def make(**kwargs: Any) -> Any:
        store = build(**kwargs)
        await store.open()
        opened.append(store)
        return store

    make.backend = request.param  # type: ignore[attr-defined]
    make.url = url  # type: ignore[attr-defined]  # PostgreSQL: the database's URL
    yield make
    for store in opened:
        await store.close()


async def _pg_database(request: pytest.FixtureRequest) -> str:
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    import asyncpg

    name = "t_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(cluster.url(), timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return cluster.url(name)


def run_async(coro: Any, timeout: float = 30) -> Any:
    """Run a coroutine to completion from synchronous test code."""
    return asyncio.run(asyncio.wait_for(coro, timeout))
