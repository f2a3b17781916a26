"""Where the history and the newest forecasts are kept: one interface each, a SQLite and a
PostgreSQL backend."""

from __future__ import annotations

from dashboards.config import is_postgres
from dashboards.server.store.base import Row, Store, StoredRow, StoreUnavailable
from dashboards.server.store.forecast_base import ForecastRecord, ForecastTable


def open_store(location: str, *, busy_timeout_s: float = 1.0) -> Store | None:
    """The backend for a ``WEATHER_DB`` value; None for ``:memory:`` (nothing kept on disk).

    ``busy_timeout_s``: how long a SQLite write waits for another process's transaction.

    Raises ``ConfigError`` naming ``WEATHER_DB`` when the value cannot work (no driver, wrong
    password, unknown host or database); an unreachable server is retried later instead.
    """
    if location == ":memory:":
        return None
    if is_postgres(location):
        from dashboards.server.store.postgres import PostgresStore

        return PostgresStore(location)
    from dashboards.server.store.sqlite import SQLiteStore

    return SQLiteStore(location, busy_timeout_s=busy_timeout_s)


def open_forecast_table(location: str) -> ForecastTable | None:
    """The forecast table of a ``WEATHER_DB`` value, beside the history; None for
    ``:memory:``. Raises ``ConfigError`` like ``open_store``."""
    if location == ":memory:":
        return None
    if is_postgres(location):
        from dashboards.server.store.forecast_postgres import PostgresForecastTable

        return PostgresForecastTable(location)
    from dashboards.server.store.forecast_sqlite import SQLiteForecastTable

    return SQLiteForecastTable(location)


__all__ = ["ForecastRecord", "ForecastTable", "Row", "Store", "StoreUnavailable", "StoredRow",
           "open_forecast_table", "open_store"]
