"""The latest forecast of each city, kept in memory and in the history's database."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd

from dashboards.server.store import ForecastRecord, StoreUnavailable, open_forecast_table
from dashboards.server.store.forecast_base import FORECAST_DB_COLUMNS
from weather.api import FORECAST_COLUMNS, TIME_DTYPE
from weather.errors import ConfigError

log = logging.getLogger(__name__)

_Key = tuple[str, str]


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
    database (``db_path`` a SQLite file or a PostgreSQL URL, not ``":memory:"``) the forecasts
    are also written to its table ``forecasts`` beside the history, so a restarted server
    shows them at once. A database that cannot be used is reported in ``db_error``; the store
    carries on in memory and writes what it missed on a later ``save`` or ``flush``.

    On PostgreSQL (``shared``) one process polls for all: it also shares its status
    (``share_status``), and the others ``follow`` it, woken by ``listen``.
    """

    def __init__(self, db_path: str = ":memory:") -> None:
        self.db_path = db_path
        self.db_error: str | None = None
        self._lock = threading.Lock()
        self._memory: dict[_Key, pd.DataFrame] = {}
        self._unsaved: set[_Key] = set()
        self._unshared: tuple[str, dict[str, Any]] | None = None
        self._table = open_forecast_table(db_path)
        self.shared = self._table is not None and self._table.shared
        #: Where the forecasts go, fit for a log line (no password).
        self.description = db_path if self._table is None else self._table.description
        self._load()

    # -- the poller's side ------------------------------------------------------------------
    def save(self, frame: pd.DataFrame) -> None:
        """Keep the ``ok`` rows of ``frame`` as the newest forecast of their cities."""
        ok = frame[frame["status"] == "ok"]
        if ok.empty:
            return
        groups = {key: rows.reset_index(drop=True)
                  for key, rows in ok.groupby(["provider", "city"], sort=False)}
        with self._lock:
            self._memory.update(groups)
            self._unsaved.update(groups)
        self.flush()

    def share_status(self, provider: str, status: dict[str, Any]) -> None:
        """Share the polling process's forecast status with the others (PostgreSQL only)."""
        if not self.shared:
            return
        with self._lock:
            self._unshared = (provider, status)
        self.flush()

    def flush(self) -> bool:
        """Write what the database missed (forecasts, then the status); True when all is."""
        if self._table is None:
            with self._lock:
                self._unsaved.clear()
            return True
        with self._lock:
            keys = sorted(self._unsaved)
            records = [r for key in keys for r in _records(self._memory[key])]
            status = self._unshared
        try:
            if keys:
                self._table.replace(keys, records)
            with self._lock:
                self._unsaved.difference_update(keys)
            if status is not None:
                self._table.write_status(*status)
                with self._lock:
                    if self._unshared is status:
                        self._unshared = None
        except (StoreUnavailable, ConfigError) as exc:
            self._fail("not saved", exc)
            return False
        self._recovered()
        return True

    # -- the followers' side ----------------------------------------------------------------
    def follow(self, provider: str) -> dict[str, Any] | None:
        """The status the polling process shared last (None: none, or not shared), after
        reading ``provider``'s forecasts if the status names a fetch newer than those held.
        """
        if not self.shared:
            return None
        try:
            status = self._table.read_status(provider)
            fetched_at_ms = (status or {}).get("fetched_at_ms")
            if fetched_at_ms is not None and fetched_at_ms > self.fetched_at_ms(provider):
                records = self._table.read(provider)
                with self._lock:
                    for key in [k for k in self._memory if k[0] == provider]:
                        del self._memory[key]
                    self._memory.update(_groups(records))
        except (StoreUnavailable, ConfigError) as exc:
            self._fail("not read", exc)
            return None
        self._recovered()
        return status

    def listen(self, on_wake: Callable[[], None]) -> Any:
        """A started listener that calls ``on_wake`` when another process shared a status
        (and after each reconnect); None when nothing is shared. Stop it with ``stop()``."""
        return self._table.listen(on_wake) if self.shared else None

    # -- reading ----------------------------------------------------------------------------
    def latest(self, provider: str) -> pd.DataFrame:
        """The newest forecast of every city ``provider`` answered, by city, oldest time first."""
        with self._lock:
            parts = [rows for (name, _), rows in self._memory.items() if name == provider]
        if not parts:
            return empty_forecast()
        return pd.concat(parts, ignore_index=True)

    def fetched_at_ms(self, provider: str) -> int:
        """When the newest forecast held of ``provider`` was fetched (epoch ms), 0 if none."""
        with self._lock:
            return max((newest_ms(rows) for (name, _), rows in self._memory.items()
                        if name == provider), default=0)

    def close(self) -> None:
        if self._table is not None:
            self._table.close()

    # -- the database -----------------------------------------------------------------------
    def _load(self) -> None:
        if self._table is None:
            return
        try:
            records = self._table.read(None)
        except (StoreUnavailable, ConfigError) as exc:
            self._fail("not read", exc)
            return
        if not records:
            return
        groups = _groups(records)
        with self._lock:
            self._memory.update(groups)
        log.info("forecast: loaded %d points of %d cities from %s", len(records), len(groups),
                 self.description)

    def _fail(self, what: str, exc: Exception) -> None:
        # StoreUnavailable and ConfigError texts never hold the password.
        reason = str(exc).removeprefix("WEATHER_DB: ")
        if self.db_error is None:
            log.warning("forecast database %s: forecast %s (%s); keeping the forecast in "
                        "memory", self.description, what, reason)
        if reason.startswith("unreachable"):
            self.db_error = f"forecast database {reason}"
        else:
            self.db_error = f"forecast {what}: database {reason}"

    def _recovered(self) -> None:
        if self.db_error is not None:
            log.warning("forecast database %s is usable again", self.description)
            self.db_error = None


def newest_ms(frame: pd.DataFrame) -> int:
    """The newest ``fetched_at`` of a forecast frame in epoch ms (as stored), 0 when empty."""
    return int(frame["fetched_at"].max().value // 1_000_000) if len(frame) else 0


def _records(rows: pd.DataFrame) -> list[ForecastRecord]:
    return [(row.provider, row.city, int(row.time.value // 1_000_000), row.lat, row.lon,
             row.temperature, row.humidity, row.wind_speed,
             int(row.fetched_at.value // 1_000_000)) for row in rows.itertuples()]


def _groups(records: list[ForecastRecord]) -> dict[_Key, pd.DataFrame]:
    """Stored points as forecast frames, one per (provider, city), by time."""
    rows = pd.DataFrame.from_records(records, columns=list(FORECAST_DB_COLUMNS))
    rows["time"] = pd.to_datetime(rows.pop("time_ms"), unit="ms", utc=True)
    rows["fetched_at"] = pd.to_datetime(rows.pop("fetched_at_ms"), unit="ms", utc=True)
    rows["status"], rows["error"] = "ok", ""
    frame = pd.concat([empty_forecast(), rows[list(FORECAST_COLUMNS)]], ignore_index=True)
    frame = frame.astype(empty_forecast().dtypes.to_dict())
    return {key: group.sort_values("time").reset_index(drop=True)
            for key, group in frame.groupby(["provider", "city"], sort=False)}
