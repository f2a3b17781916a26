"""The embedded history store: one SQLite file, for a single process."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from dashboards.server.store.base import (
    BATCH_ROWS,
    SCHEMA_VERSION,
    TIME_INDEX,
    Row,
    Store,
    StoredRow,
    StoreUnavailable,
)

log = logging.getLogger(__name__)

_TABLES = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS observations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    city TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    lat REAL, lon REAL,
    temperature REAL, humidity REAL, wind_speed REAL,
    UNIQUE (provider, city, time_ms)
);
"""
_INDEX = f"CREATE INDEX IF NOT EXISTS {TIME_INDEX} ON observations (time_ms, city)"


class SQLiteFile:
    """One connection to a SQLite file, used under a lock: opened on first use (``prepare``
    then readies it: pragmas, tables) and again after any failure, raised as
    ``StoreUnavailable``."""

    def __init__(self, location: str, timeout_s: float,
                 prepare: Callable[[sqlite3.Connection], None]) -> None:
        self.location = location
        self.timeout_s = timeout_s
        self._prepare = prepare
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    @contextlib.contextmanager
    def using(self, failing: str) -> Iterator[sqlite3.Connection]:
        """The open connection, alone; a SQLite error closes it and says ``failing``."""
        with self._lock:
            db = self._connect()
            try:
                yield db
            except sqlite3.Error as exc:
                self._drop()
                raise StoreUnavailable(f"{failing} ({exc})") from None

    def lost(self) -> bool:
        """Whether the file was removed while open."""
        with self._lock:
            return self._db is not None and not os.path.exists(self.location)

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _connect(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        try:
            Path(self.location).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create its folder ({exc})") from None
        try:
            # Written from one thread (the feed's, the forecast's), read from the server's.
            db = sqlite3.connect(self.location, timeout=self.timeout_s, check_same_thread=False)
            self._prepare(db)
        except sqlite3.Error as exc:
            with contextlib.suppress(UnboundLocalError, sqlite3.Error):
                db.close()
            raise StoreUnavailable(f"cannot be opened ({exc})") from None
        self._db = db
        return db

    def _drop(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None


class SQLiteStore(Store):
    """A SQLite file in WAL mode; opened on first use and again after any failure.

    ``busy_timeout_s`` is how long a write waits for another connection's transaction: short
    for the server (a poll retries), longer for a tool writing beside it.
    """

    def __init__(self, location: str, busy_timeout_s: float = 1.0) -> None:
        super().__init__(location)
        self.busy_timeout_s = busy_timeout_s
        self._file = SQLiteFile(location, busy_timeout_s, _prepare)

    def insert(self, rows: list[Row]) -> list[int]:
        with self._file.using("cannot be written") as db, db:
            ids = []
            for row in rows:
                found = db.execute(
                    "INSERT OR IGNORE INTO observations (provider, city, time_ms, lat, "
                    "lon, temperature, humidity, wind_speed) VALUES (?, ?, ?, ?, ?, ?, "
                    "?, ?) RETURNING id", row).fetchone()
                if found is not None:
                    ids.append(found[0])
            return ids

    def delete_older_than(self, cutoff_ms: int, batch_rows: int = BATCH_ROWS) -> int:
        deleted = 0
        while True:
            with self._file.using("cannot be written") as db, db:
                done = db.execute(
                    "DELETE FROM observations WHERE id IN (SELECT id FROM observations "
                    "WHERE time_ms < ? LIMIT ?)", (cutoff_ms, batch_rows)).rowcount
            deleted += done
            if done < batch_rows:
                return deleted

    def lost(self) -> bool:
        return self._file.lost()

    def close(self) -> None:
        self._file.close()

    # -- internals --------------------------------------------------------------------------
    def _query(self, query: str, args: tuple) -> list[StoredRow]:
        with self._file.using("cannot be read") as db:
            return db.execute(query, args).fetchall()


def _prepare(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a committed poll survives a crash of the process.
    db.execute("PRAGMA synchronous=NORMAL")
    _create_or_migrate(db)


def _create_or_migrate(db: sqlite3.Connection) -> None:
    """Create the tables, or bring a file of the first layout (keyed by city and time) up."""
    with db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(observations)")]
        if columns and "id" not in columns:
            # The first layout had no id and no provider in its key: a demo row and a live
            # row of the same city and minute could not both be kept.
            db.execute("ALTER TABLE observations RENAME TO observations_v0")
            _create(db)
            db.execute(
                "INSERT OR IGNORE INTO observations (provider, city, time_ms, lat, lon, "
                "temperature, humidity, wind_speed) SELECT COALESCE(provider, ''), city, "
                "time_ms, lat, lon, temperature, humidity, wind_speed FROM observations_v0 "
                "ORDER BY time_ms")
            db.execute("DROP TABLE observations_v0")
            log.info("history database: moved rows of the first layout to version %d",
                     SCHEMA_VERSION)
        else:
            _create(db)
        # After any migration: a renamed table of the first layout took its indexes along.
        db.execute(_INDEX)
        if db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:
            db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))


def _create(db: sqlite3.Connection) -> None:
    for statement in _TABLES.split(";"):
        if statement.strip():
            db.execute(statement)
