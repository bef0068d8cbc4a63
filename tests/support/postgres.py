"""A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, a Unix socket, no password.

When the tests run as root (CI does), the server runs as the `postgres` system user, since
PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path


def find_bindir() -> Path | None:
    for candidate in [
        shutil.which("initdb"),
        *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")),
    ]:
        if candidate and Path(candidate).exists():
            return Path(candidate).resolve().parent
    return None


@dataclass
class Cluster:
    bindir: Path
    folder: Path
    user: str | None  # the system user that runs the server, when we are root

    @property
    def socket_dir(self) -> Path:
        return self.folder

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> None:
        data = self.folder / "data"
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )
        options = (
            f"-k {self.folder} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        try:
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "immediate",
                "stop",
            )
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def create_database(self, template: str | None = None) -> str:
        """A new empty database, or a copy of `template` (which nobody may be connected to)."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(
            f"dbname=postgres user=postgres host={self.socket_dir}", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"{copy}')
        return name

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(
            f"dbname=postgres user=postgres host={self.socket_dir}", autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_cluster() -> Cluster:
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb) found")
    folder = Path(tempfile.mkdtemp(prefix="dom-pg-"))
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        shutil.chown(folder, user=user)
        folder.chmod(0o700)
    cluster = Cluster(bindir, folder, user)
    cluster.start()
    return cluster
