"""The forecast table in the history's SQLite file, for a single process."""

from __future__ import annotations

import sqlite3

from dashboards.server.store.forecast_base import (
    FORECAST_DB_COLUMNS,
    ForecastRecord,
    ForecastTable,
)
from dashboards.server.store.sqlite import SQLiteFile

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
        self._file = SQLiteFile(location, 1.0, _prepare)

    def replace(self, keys: list[tuple[str, str]], records: list[ForecastRecord]) -> None:
        with self._file.using("cannot be written") as db, db:
            db.executemany("DELETE FROM forecasts WHERE provider = ? AND city = ?", keys)
            db.executemany(
                f"INSERT OR REPLACE INTO forecasts ({', '.join(FORECAST_DB_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(FORECAST_DB_COLUMNS))})", records)

    def read(self, provider: str | None) -> list[ForecastRecord]:
        where, args = ("provider = ?", (provider,)) if provider is not None else ("1", ())
        with self._file.using("cannot be read") as db:
            return db.execute(f"SELECT {', '.join(FORECAST_DB_COLUMNS)} FROM forecasts "
                              f"WHERE {where} ORDER BY provider, city, time_ms",
                              args).fetchall()

    def close(self) -> None:
        self._file.close()


def _prepare(db: sqlite3.Connection) -> None:
    db.execute(_SCHEMA)
    db.commit()
