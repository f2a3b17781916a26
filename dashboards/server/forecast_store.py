"""The latest forecast of each city, kept in memory and in the history's SQLite file."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from pathlib import Path

import pandas as pd

from weather.api import FORECAST_COLUMNS, TIME_DTYPE

log = logging.getLogger(__name__)

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
_DB_COLUMNS = ("provider", "city", "time_ms", "lat", "lon", "temperature", "humidity",
               "wind_speed", "fetched_at_ms")


def empty_forecast() -> pd.DataFrame:
    """A forecast frame (``FORECAST_COLUMNS``) with no rows and the right dtypes."""
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in FORECAST_COLUMNS})
    for column in ("time", "fetched_at"):
        frame[column] = pd.Series(dtype=TIME_DTYPE)
    for column in ("city", "status", "error", "provider"):
        frame[column] = frame[column].astype(str)
    return frame


class ForecastStore:
    """Each provider's newest forecast per city; ``save(frame)`` and ``latest(provider)``.

    ``save`` takes a metric frame of ``weather.forecast_frame`` and replaces the forecast of
    each city it holds with status ``ok``; a city that failed keeps the one it had. With a
    file (``db_path`` not ``":memory:"``) the forecasts are also written to the table
    ``forecasts`` beside the history, so a restarted server shows them at once. A file that
    cannot be used is reported in ``db_error`` and the store carries on in memory.
    """

    def __init__(self, db_path: str = ":memory:") -> None:
        self.db_path = db_path
        self.db_error: str | None = None
        self._lock = threading.Lock()
        self._memory: dict[tuple[str, str], pd.DataFrame] = {}
        self._db: sqlite3.Connection | None = None
        if db_path != ":memory:":
            self._open()
            self._load()

    def save(self, frame: pd.DataFrame) -> None:
        """Keep the ``ok`` rows of ``frame`` as the newest forecast of their cities."""
        ok = frame[frame["status"] == "ok"]
        if ok.empty:
            return
        groups = {key: rows.reset_index(drop=True)
                  for key, rows in ok.groupby(["provider", "city"], sort=False)}
        with self._lock:
            self._memory.update(groups)
            self._write(groups)

    def latest(self, provider: str) -> pd.DataFrame:
        """The newest forecast of every city ``provider`` answered, by city, oldest time first."""
        with self._lock:
            parts = [rows for (name, _), rows in self._memory.items() if name == provider]
        if not parts:
            return empty_forecast()
        return pd.concat(parts, ignore_index=True)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None

    # -- the file ---------------------------------------------------------------------------
    def _open(self) -> None:
        try:
            Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
            # Written from the forecast thread, read when a server starts.
            db = sqlite3.connect(self.db_path, timeout=1.0, check_same_thread=False)
            db.execute(_SCHEMA)
            db.commit()
        except (OSError, sqlite3.Error) as exc:
            self._fail("cannot be opened", exc)
            return
        self._db = db

    def _load(self) -> None:
        if self._db is None:
            return
        try:
            records = self._db.execute(
                f"SELECT {', '.join(_DB_COLUMNS)} FROM forecasts "
                "ORDER BY provider, rowid").fetchall()
        except sqlite3.Error as exc:
            self._fail("cannot be read", exc)
            return
        if not records:
            return
        rows = pd.DataFrame.from_records(records, columns=list(_DB_COLUMNS))
        rows["time"] = pd.to_datetime(rows.pop("time_ms"), unit="ms", utc=True)
        rows["fetched_at"] = pd.to_datetime(rows.pop("fetched_at_ms"), unit="ms", utc=True)
        rows["status"], rows["error"] = "ok", ""
        frame = pd.concat([empty_forecast(), rows[list(FORECAST_COLUMNS)]], ignore_index=True)
        frame = frame.astype(empty_forecast().dtypes.to_dict())
        for key, group in frame.groupby(["provider", "city"], sort=False):
            self._memory[key] = group.sort_values("time").reset_index(drop=True)
        log.info("forecast: loaded %d points of %d cities from %s", len(frame),
                 len(self._memory), self.db_path)

    def _write(self, groups: dict[tuple[str, str], pd.DataFrame]) -> None:
        if self.db_path == ":memory:":
            return
        if self._db is None:
            self._open()
            if self._db is None:
                return
        records = [
            (provider, city, int(row.time.value // 1_000_000), row.lat, row.lon,
             row.temperature, row.humidity, row.wind_speed,
             int(row.fetched_at.value // 1_000_000))
            for (provider, city), rows in groups.items() for row in rows.itertuples()
        ]
        try:
            with self._db:
                self._db.executemany("DELETE FROM forecasts WHERE provider = ? AND city = ?",
                                     list(groups))
                self._db.executemany(
                    f"INSERT OR REPLACE INTO forecasts VALUES "
                    f"({', '.join('?' * len(_DB_COLUMNS))})", records)
        except sqlite3.Error as exc:
            self._fail("cannot be written", exc)
            return
        if self.db_error is not None:
            log.warning("forecast database %s is writable again", self.db_path)
            self.db_error = None

    def _fail(self, what: str, exc: Exception) -> None:
        if self.db_error is None:
            log.warning("forecast database %s %s (%s); keeping the forecast in memory",
                        self.db_path, what, exc)
        self.db_error = f"forecast not saved: database {what} ({exc})"
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
