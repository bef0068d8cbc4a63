"""Write-ahead log checkpoints for a SQLite file, off the writers' path.

By default SQLite checkpoints inside the commit that takes the log past 1,000 pages: that
writer copies the log into the database file and waits for the disk to flush it (about 30 ms
of a 100 ms full count of 5,000 positions). Here writers never checkpoint; after a connection
is used, one thread per process and database copies the log back once it is past `LOG_BYTES`,
with a passive checkpoint that waits for no reader or writer. The log restarts from its
beginning at the first write after all of it is copied back.

Writers one after another may give it no such moment: past `LOG_LIMIT_PAGES` the thread holds
this process's next writers back (`before_writing`), waits for the writer of the moment, copies
the rest and restarts the log. Several processes on one file each run a thread; each holds
back its own writers. A process that exits leaves the rest of the log to the next checkpoint,
as SQLite does anyway.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

#: Log size past which the thread checkpoints: SQLite's own default of 1,000 pages of 4 KiB.
LOG_PAGES = 1_000
LOG_BYTES = LOG_PAGES * 4_096
#: Pages in the log past which the thread holds writers back to restart it (64 MiB: counts of
#: 5,000 positions one after another, 7 MiB each, were held back every eighth or so, each time
#: for 30-45 ms; at 16 MiB every second or third).
LOG_LIMIT_PAGES = 16 * LOG_PAGES
#: For every other connection to the file: no checkpoints of their own, and a log cut back to
#: `LOG_BYTES` as it restarts (the file keeps its size otherwise: a file no longer than that
#: needs no look).
WRITER_PRAGMAS = ("wal_autocheckpoint=0", f"journal_size_limit={LOG_BYTES}")
#: The longest a writer is held back, and the thread's busy timeout for the restart: a reader
#: that long at work makes the restart give up until the next look.
HOLD_SECONDS = 2.0
#: A thread with no connection used for this long ends (and closes its own); the next use
#: starts another. Test suites open thousands of databases.
IDLE_SECONDS = 30.0


class Checkpointer:
    """Checkpoints one database file's log from a thread of its own."""

    def __init__(self, database: str) -> None:
        self._database = database
        self._log = Path(f"{database}-wal")
        self._used = threading.Event()
        self._writers_go = threading.Event()
        self._writers_go.set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._copied: tuple[int, int] | None = None  # the log's (size, mtime) at the last look

    def used(self) -> None:
        """Called as a connection goes back to the pool, its writes landed: wakes the thread,
        starting it if none runs in this process."""
        self._used.set()
        thread, pid = self._thread, self._pid
        if thread is not None and thread.is_alive() and pid == os.getpid():
            return
        with self._lock:
            # A forked child inherits the attributes but not the thread.
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._writers_go.set()
                self._thread = threading.Thread(
                    target=self._run, name=f"checkpoints {self._database}", daemon=True
                )
                self._thread.start()

    def before_writing(self) -> None:
        """Called as a writer begins: waits while the thread restarts a log writers outran."""
        if not self._writers_go.is_set():
            self._writers_go.wait(HOLD_SECONDS)

    def _run(self) -> None:
        connection = sqlite3.connect(self._database, isolation_level=None)
        try:
            connection.execute(f"PRAGMA busy_timeout={int(HOLD_SECONDS * 1000)}")
            while True:
                if not self._used.wait(IDLE_SECONDS):
                    with self._lock:
                        if not self._used.is_set():
                            self._thread = None
                            return
                self._used.clear()
                self._checkpoint_if_long(connection)
        finally:
            connection.close()

    def _checkpoint_if_long(self, connection: sqlite3.Connection) -> None:
        try:
            found = self._log.stat()
        except FileNotFoundError:
            return
        now = (found.st_size, found.st_mtime_ns)
        if found.st_size <= LOG_BYTES or now == self._copied:
            return
        try:
            # Pages in the log since it last restarted, as many of them copied back as could be.
            _, pages, _ = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if pages > LOG_LIMIT_PAGES:
                self._writers_go.clear()
                try:
                    connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
                finally:
                    self._writers_go.set()
        except sqlite3.OperationalError:
            return  # busy past the hold, or the file went away: the next use looks again
        self._copied = now
