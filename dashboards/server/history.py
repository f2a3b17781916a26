"""Bounded observation history in memory, persisted to an embedded SQLite database."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from dashboards.server import sqlite_rows
from dashboards.server.sqlite_rows import SCHEMA as _SCHEMA
from weather.models import Observation

log = logging.getLogger(__name__)

#: Columns of the history frame; quantities are metric (°C, %, m/s) like ``Observation``.
COLUMNS = ("seq", "city", "time", "lat", "lon", "temperature", "humidity", "wind_speed",
           "provider")

def observations_frame(observations: Sequence[Observation]) -> pd.DataFrame:
    """Turn observations into history rows (without ``seq``), metric as they come."""
    frame = pd.DataFrame(
        {
            "city": pd.Series([o.city for o in observations], dtype=object),
            "time": pd.to_datetime([o.time for o in observations], utc=True),
            "lat": pd.Series([o.lat for o in observations], dtype="float64"),
            "lon": pd.Series([o.lon for o in observations], dtype="float64"),
            "temperature": pd.Series([o.temperature_c for o in observations], dtype="float64"),
            "humidity": pd.Series([o.humidity_pct for o in observations], dtype="float64"),
            "wind_speed": pd.Series([o.wind_speed_ms for o in observations], dtype="float64"),
            "provider": pd.Series([o.provider for o in observations], dtype=object),
        }
    )
    frame["time"] = frame["time"].astype("datetime64[ns, UTC]")
    return frame


def empty_frame() -> pd.DataFrame:
    """Return a history frame with no rows and the right dtypes."""
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in COLUMNS})
    frame["seq"] = frame["seq"].astype("int64")
    frame["city"] = frame["city"].astype(object)
    frame["provider"] = frame["provider"].astype(object)
    frame["time"] = pd.Series(dtype="datetime64[ns, UTC]")
    return frame


class History:
    """Every observation once, identified by (city, observation time).

    The newest ``max_rows`` rows stay in memory for the plots; all rows go to SQLite at
    ``db_path`` (``":memory:"`` keeps nothing on disk). A database that cannot be opened or
    written is logged and reported in ``db_error``; the history then carries on in memory and
    writes what it missed once the file is usable again. ``retention_days`` (None: keep
    everything) drops older rows at start and then about once a day, on a write.
    """

    def __init__(self, db_path: str = ":memory:", max_rows: int = 50_000,
                 retention_days: float | None = None) -> None:
        self.db_path = db_path
        self.max_rows = max_rows
        self.retention_days = retention_days
        self._retained_at_s: float | None = None
        self.db_error: str | None = None
        self._lock = threading.RLock()
        self._frame = empty_frame()
        self._keys: set[tuple[str, int]] = set()
        self._next_seq = 1
        self._unsaved: list[tuple] = []
        self._db: sqlite3.Connection | None = None
        self._open_db()
        self._retain()
        self._load()

    # -- reading ----------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """Return a copy of the rows held in memory, oldest first."""
        with self._lock:
            return self._frame.copy()

    def since(self, seq: int) -> tuple[pd.DataFrame, int]:
        """Return the rows added after ``seq`` and the sequence number to ask from next time."""
        with self._lock:
            last = self._next_seq - 1
            if seq >= last:
                return self._frame.iloc[0:0].copy(), last
            start = self._frame["seq"].searchsorted(seq, side="right")
            return self._frame.iloc[start:].copy(), last

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._next_seq - 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._frame)

    # -- writing ----------------------------------------------------------------------------
    def add(self, observations: pd.DataFrame) -> pd.DataFrame:
        """Store the rows of ``observations_frame(...)`` not seen before; return them."""
        with self._lock:
            keys = list(zip(observations["city"], _series_ms(observations["time"]), strict=True))
            fresh = [i for i, key in enumerate(keys) if key not in self._keys]
            self._keys.update(keys[i] for i in fresh)
            if not fresh:
                return self._frame.iloc[0:0].copy()
            rows = observations.iloc[fresh].reset_index(drop=True)
            rows.insert(0, "seq", range(self._next_seq, self._next_seq + len(rows)))
            rows["seq"] = rows["seq"].astype("int64")
            self._next_seq += len(rows)
            self._append(rows)
            self._unsaved.extend(_db_rows(rows))
            self._save()
            return rows

    def close(self) -> None:
        """Close the database; the in-memory rows stay readable."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- internals --------------------------------------------------------------------------
    def _append(self, rows: pd.DataFrame) -> None:
        frame = rows if self._frame.empty else pd.concat([self._frame, rows], ignore_index=True)
        # Trim in batches (10% headroom) so a full history is not copied on every poll.
        if len(frame) > self.max_rows * 1.1:
            frame = frame.iloc[-self.max_rows:].reset_index(drop=True)
            self._keys = set(zip(frame["city"], _series_ms(frame["time"]), strict=True))
        self._frame = frame

    @property
    def persistent(self) -> bool:
        """Whether observations are written to a database file."""
        return self.db_path != ":memory:"

    def _open_db(self) -> None:
        if not self.persistent:
            return
        try:
            Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._fail("cannot create its folder", exc)
            return
        try:
            # The feed writes from streamz's thread and sessions read from the server's.
            db = sqlite3.connect(self.db_path, timeout=1.0, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a committed poll survives a crash of the process.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            db.execute(sqlite_rows.TIME_INDEX)
            db.commit()
        except sqlite3.Error as exc:
            self._fail("cannot be opened", exc)
            return
        self._db = db

    def _load(self) -> None:
        if self._db is None:
            return
        try:
            cursor = self._db.execute(
                "SELECT city, time_ms, lat, lon, temperature, humidity, wind_speed, provider "
                "FROM (SELECT rowid AS r, * FROM observations "
                "      ORDER BY time_ms DESC, r DESC LIMIT ?) "
                "ORDER BY time_ms, r",
                (self.max_rows,),
            )
            records = cursor.fetchall()
        except sqlite3.Error as exc:
            self._fail("cannot be read", exc)
            return
        if not records:
            return
        rows = pd.DataFrame(records, columns=["city", "time_ms", *COLUMNS[3:]])
        rows.insert(0, "seq", range(1, len(rows) + 1))
        rows.insert(2, "time", pd.to_datetime(rows.pop("time_ms"), unit="ms", utc=True))
        rows["seq"] = rows["seq"].astype("int64")
        rows["time"] = rows["time"].astype("datetime64[ns, UTC]")
        self._next_seq = len(rows) + 1
        self._append(rows)
        self._keys = set(zip(rows["city"], _series_ms(rows["time"]), strict=True))
        log.info("history: loaded %d observations from %s", len(rows), self.db_path)

    def _save(self) -> None:
        if not self.persistent:
            self._unsaved = []
            return
        if self._db is not None and not os.path.exists(self.db_path):
            log.warning("history database %s was removed; creating it again", self.db_path)
            self._db.close()
            self._db = None
            self._unsaved = _db_rows(self._frame)
        if self._db is None:
            self._open_db()
            if self._db is None:
                self._unsaved = self._unsaved[-self.max_rows:]
                return
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR IGNORE INTO observations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    self._unsaved,
                )
        except sqlite3.Error as exc:
            self._fail("cannot be written", exc)
            self._unsaved = self._unsaved[-self.max_rows:]
            return
        self._unsaved = []
        if self.db_error is not None:
            log.warning("history database %s is writable again", self.db_path)
            self.db_error = None
        self._retain_daily()

    # -- long ranges and retention (raw rows from the database) ------------------------------
    def rows_between(self, start=None, end=None,
                     cities: Sequence[str] | None = None) -> pd.DataFrame:
        """Stored raw rows with ``start <= time < end`` of ``cities`` (None: all), oldest first.

        Reads the database, not only the rows in memory; without a database, the memory.
        """
        with self._lock:
            if self._db is not None:
                try:
                    return sqlite_rows.rows_between(self._db, start, end, cities)
                except sqlite3.Error as exc:
                    self._fail("cannot be read", exc)
            frame = self._frame.drop(columns="seq")
        keep = pd.Series(True, index=frame.index)
        if start is not None:
            keep &= frame["time"] >= pd.Timestamp(sqlite_rows.to_ms(start), unit="ms", tz="UTC")
        if end is not None:
            keep &= frame["time"] < pd.Timestamp(sqlite_rows.to_ms(end), unit="ms", tz="UTC")
        if cities is not None:
            keep &= frame["city"].isin(list(cities))
        return frame[keep].reset_index(drop=True)

    def apply_retention(self, days: float | None = None, now_s: float | None = None) -> int:
        """Drop rows older than ``days`` (default ``retention_days``); return rows deleted."""
        days = self.retention_days if days is None else days
        if days is None:
            return 0
        now_s = time.time() if now_s is None else now_s
        with self._lock:
            cutoff = pd.Timestamp((now_s - days * 86_400) * 1e9, unit="ns", tz="UTC")
            old = self._frame["time"] < cutoff
            if old.any():
                self._frame = self._frame[~old].reset_index(drop=True)
                self._keys = set(zip(self._frame["city"], _series_ms(self._frame["time"]),
                                     strict=True))
            if self._db is None:
                return int(old.sum())
            try:
                deleted = sqlite_rows.apply_retention(self._db, days, now_s=now_s)
            except sqlite3.Error as exc:
                self._fail("cannot be written", exc)
                return 0
        if deleted:
            log.info("history: retention of %g days deleted %d observations", days, deleted)
        return deleted

    def _retain(self) -> None:
        if self.retention_days is not None:
            self._retained_at_s = time.monotonic()
            self.apply_retention()

    def _retain_daily(self) -> None:
        if self._retained_at_s is not None and time.monotonic() - self._retained_at_s > 86_400:
            self._retain()

    def _fail(self, what: str, exc: Exception) -> None:
        message = f"history database {self.db_path} {what} ({exc}); keeping history in memory"
        if self.db_error is None:
            log.warning(message)
        self.db_error = f"history not saved: database {what} ({exc})"
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None


def _to_ms(time) -> int:
    return int(pd.Timestamp(time).value // 1_000_000)


def _series_ms(times: pd.Series) -> list[int]:
    return (times.astype("int64") // 1_000_000).tolist()


def _db_rows(rows: pd.DataFrame) -> list[tuple]:
    return list(
        zip(
            rows["city"],
            _series_ms(rows["time"]),
            rows["lat"].tolist(),
            rows["lon"].tolist(),
            rows["temperature"].tolist(),
            rows["humidity"].tolist(),
            rows["wind_speed"].tolist(),
            rows["provider"],
            strict=True,
        )
    )
