"""Fixtures shared by every test: databases on both backends, the live service, API keys.

PostgreSQL tests start their own throwaway cluster. Without PostgreSQL binaries they are skipped
with a loud notice, unless DOM_REQUIRE_POSTGRES=1 or CI=true, where they fail instead.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from dom.adapters.database import make_engine
from dom.adapters.zip_directory import ZipDirectory, zip_directory
from dom.domain.access import Role
from dom.services.keys import create_key
from dom.services.schema import migrate
from tests.support.postgres import Cluster, start_cluster
from tests.support.server import running_server

BACKENDS = ["sqlite", "postgresql"]
_postgres_missing: list[str] = []


def postgres_required() -> bool:
    return os.environ.get("DOM_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    try:
        cluster = start_cluster()
    except (OSError, subprocess.CalledProcessError) as error:
        if postgres_required():
            pytest.fail(f"PostgreSQL is required here but could not start: {error}")
        _postgres_missing.append(str(error))
        warnings.warn(f"PostgreSQL tests SKIPPED: {error}", stacklevel=1)
        pytest.skip(f"PostgreSQL not available: {error}")
    try:
        yield cluster
    finally:
        cluster.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _postgres_missing:
        terminalreporter.section("POSTGRESQL TESTS WERE SKIPPED", sep="!", red=True, bold=True)
        terminalreporter.write_line(f"reason: {_postgres_missing[0]}")
        terminalreporter.write_line(
            "install PostgreSQL server binaries (Debian: postgresql) to run them"
        )


def _new_engine(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'dom.sqlite3'}")
        migrate(engine)
        yield engine
        engine.dispose()
        return
    cluster: Cluster = request.getfixturevalue("postgres_cluster")
    name = cluster.create_database()
    engine = make_engine(cluster.url(name))
    migrate(engine)
    yield engine
    engine.dispose()
    cluster.drop_database(name)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database on each backend."""
    yield from _new_engine(request.param, request, tmp_path)


@pytest.fixture
def sqlite_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty SQLite database, for tests whose subject is not storage."""
    yield from _new_engine("sqlite", request, tmp_path)


@pytest.fixture(scope="session")
def zips() -> ZipDirectory:
    return zip_directory()


@pytest.fixture
def server(engine: Engine) -> Iterator[str]:
    """Base URL of the real service over real HTTP, on each backend."""
    with running_server(engine) as base:
        yield base


def client_for(base: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base, headers=headers, timeout=30)


@pytest.fixture
def admin_token(engine: Engine) -> str:
    return create_key(engine, "test admin", Role.ADMIN).token


@pytest.fixture
def admin(server: str, admin_token: str) -> Iterator[httpx.Client]:
    """An HTTP client holding an admin key."""
    with client_for(server, admin_token) as client:
        yield client
