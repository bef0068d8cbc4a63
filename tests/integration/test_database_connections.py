"""Pooled PostgreSQL connections: pinged only after sitting idle, replaced when dropped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from dom.adapters import database
from dom.adapters.database import make_engine, reading
from tests.support.postgres import Cluster


@pytest.fixture
def pg_engine(postgres_cluster: Cluster) -> Iterator[Engine]:
    name = postgres_cluster.create_database()
    engine = make_engine(postgres_cluster.url(name))
    yield engine
    engine.dispose()
    postgres_cluster.drop_database(name)


def _backend_pid(engine: Engine) -> int:
    with reading(engine) as connection:
        pid: int = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


def _count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


def test_a_connection_back_from_a_request_a_moment_ago_is_used_without_a_ping(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _count_pings(pg_engine, monkeypatch)

    first, second = _backend_pid(pg_engine), _backend_pid(pg_engine)

    assert first == second  # the same pooled connection, twice
    assert pings == []


def test_a_connection_the_server_dropped_while_it_sat_idle_is_replaced_before_use(
    pg_engine: Engine, postgres_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = _backend_pid(pg_engine)
    admin = f"dbname=postgres user=postgres host={postgres_cluster.socket_dir}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute("SELECT pg_terminate_backend(%s)", [dropped])
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)  # as if it sat idle long
    pings = _count_pings(pg_engine, monkeypatch)

    replacement = _backend_pid(pg_engine)

    assert replacement != dropped
    assert pings  # found out by a ping, not by the request's own statement failing
