"""Engines and units of work. SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE
for writers, so concurrent writers queue instead of failing half-way."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from dom.adapters import sqlite_checkpoints as checkpoints

SQLITE_BUSY_TIMEOUT_MS = 30_000
POOL_SIZE = 40
_WRITE = "dom_write"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # As many connections as request threads, like PostgreSQL below: a request waiting for
        # the write lock holds its connection, and others must still get one.
        in_file = parsed.database not in (None, "", ":memory:")
        pooling: dict[str, int] = {"pool_size": POOL_SIZE, "max_overflow": 10} if in_file else {}
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **pooling
        )
        _tune_sqlite(engine)
        return engine
    # As many pooled connections as the web server runs request threads (AnyIO's default 40):
    # connections opened beyond the pool are closed after each use, and under load that churn
    # cost PostgreSQL a session start per request.
    engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=10)
    _ping_when_idle(engine)
    return engine


#: a pooled connection that sat unused this long is pinged before it is handed out
PING_AFTER_IDLE_SECONDS = 2.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's `pool_pre_ping` pings on every checkout: a round trip per transaction (a
    reservation was one statement besides). A connection back from a request a moment ago is
    as good as a ping's answer; one that sat idle — the server may have restarted, a proxy may
    have dropped it — is pinged, and replaced if it does not answer. A drop in the moment
    between two uses still fails that request, and SQLAlchemy then renews the whole pool."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _mark(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("the pooled connection did not answer") from error


def _tune_sqlite(engine: Engine) -> None:
    database = engine.url.database
    in_file = database not in (None, "", ":memory:")
    checkpointer = checkpoints.Checkpointer(database) if database and in_file else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin() decide when a transaction starts (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if in_file:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            for pragma in checkpoints.WRITER_PRAGMAS:  # checkpoints are the Checkpointer's
                cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer takes the write lock up front: no deadlock upgrading a read lock later.
        immediate = connection.info.pop(_WRITE, False)
        if immediate and checkpointer is not None:
            checkpointer.before_writing()
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    if checkpointer is not None:
        # Back in the pool: whatever the connection wrote has landed (autocommit writes too).
        event.listen(engine, "checkin", lambda _dbapi, _record: checkpointer.used())


def database_key(connection: Connection) -> str:
    """The database a connection is to, as the key of what a process keeps per database."""
    return connection.engine.url.render_as_string(hide_password=True)


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A read-write transaction: committed if the block ends normally, rolled back otherwise."""
    with engine.connect() as connection:
        connection.info[_WRITE] = True
        with connection.begin():
            yield connection


@contextmanager
def one_statement_each(engine: Engine) -> Iterator[Connection]:
    """A connection in autocommit: each statement is a transaction of its own. Only for a write
    that one statement does whole (no BEGIN and COMMIT round trips around it)."""
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction: always rolled back."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()
