"""The forecast table interface every backend follows, and the row it stores."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any

from dashboards.server.store.base import Located

#: One forecast point as stored: provider, city, forecast time in ms since the epoch, lat, lon,
#: temperature (°C), humidity (%), wind speed (m/s), then when it was fetched (ms).
ForecastRecord = tuple[str, str, int, float, float, float, float, float, int]
#: The stored columns, in ``ForecastRecord``'s order.
FORECAST_DB_COLUMNS = ("provider", "city", "time_ms", "lat", "lon", "temperature", "humidity",
                       "wind_speed", "fetched_at_ms")


class ForecastTable(Located):
    """The newest forecast of each (provider, city), kept beside the history.

    Methods raise ``StoreUnavailable`` when the database cannot be used now (the next call
    tries again) and, on PostgreSQL, ``ConfigError`` when the setting can never work.
    """

    @abstractmethod
    def replace(self, keys: list[tuple[str, str]], records: list[ForecastRecord]) -> None:
        """In one transaction, drop the forecast of each (provider, city) of ``keys`` and store
        ``records`` instead."""

    @abstractmethod
    def read(self, provider: str | None) -> list[ForecastRecord]:
        """Every stored point of ``provider`` (None: of all), by provider, city and time."""

    def read_status(self, provider: str) -> dict[str, Any] | None:
        """The forecast status the polling process shared last, or None (not shared here)."""
        return None

    def write_status(self, provider: str, status: dict[str, Any]) -> None:
        """Share the polling process's status and wake the others (no-op if not shared)."""
        return None

    def listen(self, on_wake: Callable[[], None]) -> Any:
        """A started listener calling ``on_wake`` when the shared status changes, with a
        ``stop()``; None when nothing is shared."""
        return None

    @abstractmethod
    def close(self) -> None:
        """Close every connection; a later call may open them again."""
