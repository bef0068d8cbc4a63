"""SQLite files: writers leave the write-ahead log to a thread of the process that copies it
back into the database, so a commit does not wait for the disk, and the log stays bounded."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from dom.adapters import sqlite_checkpoints
from dom.adapters.database import make_engine, reading, writing

MEBIBYTE = 1 << 20


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "checkpoints.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with writing(engine) as connection:
        connection.execute(text("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB)"))
    yield engine, path
    engine.dispose()


def _write_megabytes(engine: Engine, transactions: int) -> None:
    for _ in range(transactions):
        with writing(engine) as connection:
            rows = [{"body": os.urandom(4_000)} for _ in range(256)]  # 1 MiB a transaction
            connection.execute(text("INSERT INTO blobs (body) VALUES (:body)"), rows)


def _log_bytes(path: Path) -> int:
    log = Path(f"{path}-wal")
    return log.stat().st_size if log.exists() else 0


def test_the_service_connections_never_checkpoint_on_their_own(
    database: tuple[Engine, Path],
) -> None:
    engine, _ = database

    with reading(engine) as connection:
        automatic = connection.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()

    assert automatic == 0


def test_committed_pages_reach_the_database_file_without_a_writer_checkpointing(
    database: tuple[Engine, Path],
) -> None:
    engine, path = database
    before = path.stat().st_size

    _write_megabytes(engine, 12)  # three times the log size that asks for a checkpoint

    deadline = time.monotonic() + 10
    while path.stat().st_size < before + 8 * MEBIBYTE and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size >= before + 8 * MEBIBYTE


def test_the_log_stays_bounded_while_writers_follow_one_another_without_a_pause(
    database: tuple[Engine, Path],
) -> None:
    engine, path = database
    longest = 0

    for _ in range(24):
        _write_megabytes(engine, 5)
        longest = max(longest, _log_bytes(path))

    # 120 MiB written back to back: without checkpoints the log would hold all of it.
    bound = sqlite_checkpoints.LOG_LIMIT_PAGES * 4_096 + 12 * MEBIBYTE
    assert longest <= bound, f"the log reached {longest / MEBIBYTE:.0f} MiB"
    with reading(engine) as connection:
        assert connection.execute(text("SELECT count(*) FROM blobs")).scalar_one() == 120 * 256
