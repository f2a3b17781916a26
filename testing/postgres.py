"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests and benchmarks (Debian's server)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from testing.served import free_port, wait_until

#: What a machine without the server needs (the reason a test skips).
INSTALL_HINT = "apt-get install postgresql (Debian's PostgreSQL server: initdb, pg_ctl)"
#: Test clusters trade durability against a power cut for speed; never for real data. (Not
#: ``synchronous_commit=off``: a crash of the server, as tests make, would lose commits.)
FAST_OPTIONS = "-c fsync=off -c full_page_writes=off"


def server_bin() -> Path | None:
    """The folder of Debian's ``initdb`` and ``pg_ctl`` (newest version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name)
                   if Path(p).parent.parent.name.isdigit() else 0)
    return Path(found[-1]).parent if found else None


class PostgresCluster:
    """``initdb`` + ``pg_ctl start`` in a fresh folder; as root, run as the ``postgres`` user.

    The folder comes from ``tempfile.mkdtemp`` (pytest's ``tmp_path`` is not reachable by
    another user) and is removed by ``stop()``. Trust authentication: ``url(db)`` has no
    password unless a role with one is made with ``create_role``.
    """

    def __init__(self, user: str = "weather") -> None:
        bin_dir = server_bin()
        if bin_dir is None:
            raise RuntimeError(f"PostgreSQL server not installed: {INSTALL_HINT}")
        self.bin = bin_dir
        self.user = user
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="weather-pg-"))
        self.data = self.folder / "data"
        self.log_path = self.folder / "server.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as, *args], capture_output=True, text=True, check=check,
                              cwd=self.folder, stdin=subprocess.DEVNULL)

    def init(self) -> PostgresCluster:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U",
                  self.user, "--no-sync")
        return self

    def start(self) -> PostgresCluster:
        """Start the server (again, after ``kill``/``stop``) and wait until it answers."""
        options = (f"-k {self.folder} -p {self.port} -c listen_addresses=127.0.0.1 "
                   f"{FAST_OPTIONS}")
        result = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                           str(self.log_path), "-w", "-t", "120", "-o", options, "start",
                           check=False)
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {result.stderr}\n{self.log_tail()}")
        wait_until(self.ready, timeout_s=60, interval_s=0.1, message="PostgreSQL to answer")
        return self

    def ready(self) -> bool:
        result = self._run(str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p",
                           str(self.port), check=False)
        return result.returncode == 0

    def crash(self) -> None:
        """Stop at once, as a crash would (``-m immediate``): every connection is cut."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                  "stop", check=False)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.data.exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                      "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def url(self, dbname: str = "postgres", user: str | None = None,
            password: str | None = None) -> str:
        auth = user or self.user
        if password is not None:
            auth += f":{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str, dbname: str = "postgres") -> None:
        """Run one statement as the cluster's owner (autocommit: CREATE DATABASE works)."""
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute(statement)

    def create_role(self, name: str, password: str) -> None:
        """A login role that must give ``password`` (scram) when it connects over TCP."""
        self.sql(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'")
        hba = self.data / "pg_hba.conf"
        line = f"host all {name} 127.0.0.1/32 scram-sha-256\n"
        hba.write_text(line + hba.read_text())  # the first matching line wins
        self.sql("SELECT pg_reload_conf()")

    def create_database(self, name: str) -> str:
        """Create an empty database; return its URL."""
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def __enter__(self) -> PostgresCluster:
        try:
            return self.init().start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for(predicate, timeout_s: float = 60.0, message: str = "condition") -> None:
    """``wait_until`` with a timeout fit for a slow machine running databases."""
    wait_until(predicate, timeout_s=timeout_s, interval_s=0.1, message=message)


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}_{os.getpid()}_{time.monotonic_ns()}"
