"""The shared history store: PostgreSQL, with the poller's lock, wake-ups and shared status."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from dashboards.config import redact_db, redact_db_text
from dashboards.server.store.base import (
    BATCH_ROWS,
    SCHEMA_VERSION,
    TIME_INDEX,
    Row,
    Store,
    StoredRow,
    StoreUnavailable,
)
from weather.errors import ConfigError

try:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict
except ImportError:  # the optional extra is not installed
    psycopg = None

log = logging.getLogger(__name__)

#: The channel the poller's NOTIFY goes to; the payload is the newest row id, never the rows.
CHANNEL = "weather_observations"
#: Connection settings added unless the address sets them: a dead peer is noticed in about
#: 25 s (keepalives), and a server that does not answer fails a connection in 5 s.
CONNECT_DEFAULTS = {"connect_timeout": "5", "keepalives": "1", "keepalives_idle": "10",
                    "keepalives_interval": "5", "keepalives_count": "3",
                    "application_name": "weather-dashboard"}
#: Seconds between reconnection attempts: doubled after each failure, up to the maximum.
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 10.0
#: Connection failures that waiting will not fix: the setting itself is wrong.
_PERMANENT = re.compile(r"password authentication failed|no password supplied|does not exist|"
                        r"could not translate host name|name or service not known|"
                        r"authentication method|invalid (?:dsn|connection option|integer)|"
                        r"role .* is not permitted", re.IGNORECASE)

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)",
    """CREATE TABLE IF NOT EXISTS observations (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        provider text NOT NULL,
        city text NOT NULL,
        time_ms bigint NOT NULL,
        lat double precision, lon double precision,
        temperature double precision, humidity double precision,
        wind_speed double precision,
        UNIQUE (provider, city, time_ms)
    )""",
    f"CREATE INDEX IF NOT EXISTS {TIME_INDEX} ON observations (time_ms, city)",
    """CREATE TABLE IF NOT EXISTS feed_status (
        provider text PRIMARY KEY,
        status jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE IF NOT EXISTS forecasts (
        provider text NOT NULL,
        city text NOT NULL,
        time_ms bigint NOT NULL,
        lat double precision, lon double precision,
        temperature double precision, humidity double precision,
        wind_speed double precision,
        fetched_at_ms bigint NOT NULL,
        PRIMARY KEY (provider, city, time_ms)
    )""",
    """CREATE TABLE IF NOT EXISTS forecast_status (
        provider text PRIMARY KEY,
        status jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
]
_INSERT = (
    "INSERT INTO observations (provider, city, time_ms, lat, lon, temperature, humidity, "
    "wind_speed) SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::float8[], "
    "%s::float8[], %s::float8[], %s::float8[], %s::float8[]) "
    "ON CONFLICT DO NOTHING RETURNING id"
)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def leader_lock_key(provider: str) -> int:
    """The lock the poller of ``provider`` holds: one poller per provider per database."""
    return lock_key(f"weather-dashboard poller {provider}")


#: Held while the tables are created, so processes starting together do not race.
SCHEMA_LOCK_KEY = lock_key("weather-dashboard schema")


class _Connection:
    """One autocommit connection that reconnects on use, with backoff, after any failure."""

    def __init__(self, location: str, purpose: str) -> None:
        self.location = location
        self.purpose = purpose
        self.conn: Any = None
        self.ever_connected = False
        self._retry_at = 0.0
        self._retry_s = RETRY_FIRST_S
        self.error: str | None = None

    def get(self) -> Any:
        if self.conn is not None and not self.conn.closed:
            return self.conn
        self.conn = None
        if time.monotonic() < self._retry_at:
            raise StoreUnavailable(f"unreachable ({self.error})")
        try:
            params = {k: v for k, v in CONNECT_DEFAULTS.items()
                      if k not in conninfo_to_dict(self.location)}
            self.conn = psycopg.connect(self.location, autocommit=True, **params)
        except psycopg.Error as exc:
            self.fail(exc)
        self.ever_connected = True
        self._retry_s = RETRY_FIRST_S
        self.error = None
        return self.conn

    def fail(self, exc: BaseException) -> None:
        """Close after ``exc``, schedule the next attempt, and raise the error to report."""
        self.close()
        self._retry_at = time.monotonic() + self._retry_s
        self._retry_s = min(self._retry_s * 2, RETRY_MAX_S)
        text = " ".join(redact_db_text(str(exc), self.location).split()) or type(exc).__name__
        self.error = text
        if _PERMANENT.search(text) and not self.ever_connected:
            raise ConfigError("WEATHER_DB", f"cannot use the PostgreSQL database "
                                            f"{redact_db(self.location)}: {text}") from None
        raise StoreUnavailable(f"unreachable ({text})") from None

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


class Database:
    """One connection used under a lock: reconnected after a failure, the tables created on
    first use (and again after a failure: a restored or recreated server may lack them)."""

    def __init__(self, location: str, purpose: str) -> None:
        self.location = location
        self._lock = threading.Lock()
        self._main = _Connection(location, purpose)
        self._schema_ready = False

    def run(self, work: Callable[[Any], Any]) -> Any:
        """``work(connection)``'s result; ``StoreUnavailable`` (password scrubbed) when the
        database cannot be used, ``ConfigError`` when the setting can never work."""
        with self._lock:
            conn = self._main.get()
            try:
                if not self._schema_ready:
                    _create_schema(conn)
                    self._schema_ready = True
                return work(conn)
            except psycopg.OperationalError as exc:
                self._schema_ready = False
                self._main.fail(exc)
            except psycopg.Error as exc:
                self._schema_ready = False  # e.g. the tables were dropped: create them again
                raise StoreUnavailable(
                    " ".join(redact_db_text(str(exc), self.location).split())) from None

    def close(self) -> None:
        with self._lock:
            self._main.close()


class PostgresStore(Store):
    """Observations, feed status, the poller's lock and wake-ups in one PostgreSQL database.

    Several processes (on one host or many) use one database. The one holding the advisory
    lock ``leader_lock_key(provider)`` on its own connection polls the provider; it writes rows
    and sends ``NOTIFY weather_observations, '<newest id>'``; the others listen and read new
    rows by id.
    """

    shared = True
    placeholder = "%s"

    def __init__(self, location: str) -> None:
        if psycopg is None:
            raise ConfigError("WEATHER_DB", "PostgreSQL needs the psycopg driver: "
                                            "pip install '.[postgres]'")
        super().__init__(location)
        self._db = Database(location, "history")

    @property
    def description(self) -> str:
        return redact_db(self.location)

    # -- rows -------------------------------------------------------------------------------
    def insert(self, rows: list[Row]) -> list[int]:
        if not rows:
            return []
        columns = [list(c) for c in zip(*rows, strict=True)]

        def run(conn: Any) -> list[int]:
            with conn.transaction():
                ids = [r[0] for r in conn.execute(_INSERT, columns).fetchall()]
                if ids:
                    # Delivered when this transaction commits, so the rows are there to read.
                    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(max(ids))))
            return ids

        return self._run(run)

    def delete_older_than(self, cutoff_ms: int, batch_rows: int = BATCH_ROWS) -> int:
        deleted = 0
        while True:
            # Each statement is its own transaction (autocommit): short row locks only.
            done = self._run(lambda conn: conn.execute(
                "DELETE FROM observations WHERE id IN (SELECT id FROM observations "
                "WHERE time_ms < %s LIMIT %s)", (cutoff_ms, batch_rows)).rowcount)
            deleted += done
            if done < batch_rows:
                return deleted

    # -- shared status ----------------------------------------------------------------------
    def read_status(self, provider: str) -> dict[str, Any] | None:
        found = self._run(lambda conn: conn.execute(
            "SELECT status FROM feed_status WHERE provider = %s", (provider,)).fetchone())
        return None if found is None else found[0]

    def write_status(self, provider: str, status: dict[str, Any]) -> None:
        self._run(lambda conn: conn.execute(
            "INSERT INTO feed_status (provider, status) VALUES (%s, %s) ON CONFLICT (provider) "
            "DO UPDATE SET status = EXCLUDED.status, updated_at = now()",
            (provider, json.dumps(status))))

    # -- coordination -----------------------------------------------------------------------
    def leadership(self, provider: str) -> Leadership:
        """The poller's lock for ``provider``, on a connection of its own."""
        return Leadership(self.location, leader_lock_key(provider))

    def listen(self, on_wake: Callable[[], None]) -> Listener:
        """A started thread that calls ``on_wake`` on each NOTIFY and after each reconnect."""
        listener = Listener(self.location, on_wake)
        listener.start()
        return listener

    def close(self) -> None:
        self._db.close()

    # -- internals --------------------------------------------------------------------------
    def _query(self, query: str, args: tuple) -> list[StoredRow]:
        return self._run(lambda conn: [tuple(r) for r in conn.execute(query, args).fetchall()])

    def _run(self, work: Callable[[Any], Any]) -> Any:
        return self._db.run(work)


def _create_schema(conn: Any) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        for statement in _SCHEMA:
            conn.execute(statement)
        if conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 0:
            conn.execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION,))


class Leadership:
    """``pg_try_advisory_lock`` on a dedicated connection: held until that connection ends."""

    def __init__(self, location: str, key: int) -> None:
        self.key = key
        self._conn = _Connection(location, "poller lock")
        self.held = False

    def hold(self) -> bool | None:
        """Try to hold the lock (or check it is still held): True, False, or None if the
        database cannot be reached (then nobody can take the lock from this process either).
        """
        try:
            conn = self._conn.get()
        except (StoreUnavailable, ConfigError):
            self.held = False
            return None
        try:
            if self.held:
                conn.execute("SELECT 1")  # the lock lives as long as this connection
            else:
                self.held = bool(conn.execute("SELECT pg_try_advisory_lock(%s)",
                                              (self.key,)).fetchone()[0])
        except psycopg.Error:
            self.held = False
            self._conn.close()
            return None
        return self.held

    def end_stalled_holder(self, provider: str, stalled_after_s: float) -> bool:
        """End the database session holding the lock if the poller it belongs to has not
        shared its status for ``stalled_after_s`` (a hung process keeps its connection, and
        so its lock, open). True if a session was ended.
        """
        unsigned = self.key & 0xFFFF_FFFF_FFFF_FFFF
        try:
            conn = self._conn.get()
            stalled = conn.execute(
                "SELECT now() - updated_at > make_interval(secs => %s) FROM feed_status "
                "WHERE provider = %s", (stalled_after_s, provider)).fetchone()
            if not (stalled and stalled[0]):
                return False
            ended = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND granted AND classid = %s AND objid = %s AND objsubid = 1",
                (unsigned >> 32, unsigned & 0xFFFF_FFFF)).fetchall()
        except (StoreUnavailable, ConfigError):
            return False
        except psycopg.Error:
            self._conn.close()
            return False
        return any(row[0] for row in ended)

    @property
    def error(self) -> str | None:
        return self._conn.error

    def release(self) -> None:
        self.held = False
        self._conn.close()


class Listener(threading.Thread):
    """One LISTEN connection; wakes the feed (or, on its channel, the forecast poll) on every
    NOTIFY and after every (re)connect."""

    def __init__(self, location: str, on_wake: Callable[[], None],
                 channel: str = CHANNEL) -> None:
        super().__init__(name=f"listener-{channel}", daemon=True)
        self._conn = _Connection(location, "listener")
        self._on_wake = on_wake
        self.channel = channel
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                conn = self._conn.get()
                conn.execute(f"LISTEN {self.channel}")
                self._wake()  # notifications sent while we were away are lost: catch up
                while not self._stopping.is_set():
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        self._wake()
            except (StoreUnavailable, ConfigError):
                self._stopping.wait(RETRY_FIRST_S)
            except psycopg.Error:
                self._conn.close()
                self._stopping.wait(RETRY_FIRST_S)

    def _wake(self) -> None:
        try:
            self._on_wake()
        except Exception:
            log.exception("%s: reading after a wake-up failed", self.channel)

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)
        self._conn.close()
