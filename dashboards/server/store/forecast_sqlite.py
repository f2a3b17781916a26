"""The forecast table in the history's SQLite file, for a single process."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from dashboards.server.store.base import StoreUnavailable
from dashboards.server.store.forecast_base import (
    FORECAST_DB_COLUMNS,
    ForecastRecord,
    ForecastTable,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS forecasts (
    provider TEXT NOT NULL,
    city TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    lat REAL, lon REAL,
    temperature REAL, humidity REAL, wind_speed REAL,
    fetched_at_ms INTEGER NOT NULL,
    PRIMARY KEY (provider, city, time_ms)
)
"""


class SQLiteForecastTable(ForecastTable):
    """Table ``forecasts`` of a SQLite file; opened on first use and again after a failure."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def replace(self, keys: list[tuple[str, str]], records: list[ForecastRecord]) -> None:
        with self._lock:
            db = self._connect()
            try:
                with db:
                    db.executemany("DELETE FROM forecasts WHERE provider = ? AND city = ?", keys)
                    db.executemany(
                        f"INSERT OR REPLACE INTO forecasts ({', '.join(FORECAST_DB_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(FORECAST_DB_COLUMNS))})", records)
            except sqlite3.Error as exc:
                self._drop()
                raise StoreUnavailable(f"cannot be written ({exc})") from None

    def read(self, provider: str | None) -> list[ForecastRecord]:
        where, args = ("provider = ?", (provider,)) if provider is not None else ("1", ())
        with self._lock:
            db = self._connect()
            try:
                return db.execute(f"SELECT {', '.join(FORECAST_DB_COLUMNS)} FROM forecasts "
                                  f"WHERE {where} ORDER BY provider, city, time_ms",
                                  args).fetchall()
            except sqlite3.Error as exc:
                self._drop()
                raise StoreUnavailable(f"cannot be read ({exc})") from None

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _connect(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        try:
            Path(self.location).parent.mkdir(parents=True, exist_ok=True)
            # Written from the forecast thread, read when a server starts.
            db = sqlite3.connect(self.location, timeout=1.0, check_same_thread=False)
            db.execute(_SCHEMA)
            db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot be opened ({exc})") from None
        self._db = db
        return db

    def _drop(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
