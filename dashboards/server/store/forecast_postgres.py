"""The forecast table on PostgreSQL, shared by every process, with the poller's status."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from dashboards.config import redact_db
from dashboards.server.store.forecast_base import (
    FORECAST_DB_COLUMNS,
    ForecastRecord,
    ForecastTable,
)
from dashboards.server.store.postgres import Database, Listener, psycopg
from weather.errors import ConfigError

#: The channel the polling process's NOTIFY goes to; the payload is the provider's name.
FORECAST_CHANNEL = "weather_forecasts"

_INSERT = (
    f"INSERT INTO forecasts ({', '.join(FORECAST_DB_COLUMNS)}) SELECT * FROM unnest("
    "%s::text[], %s::text[], %s::bigint[], %s::float8[], %s::float8[], %s::float8[], "
    "%s::float8[], %s::float8[], %s::bigint[]) ON CONFLICT DO NOTHING"
)


class PostgresForecastTable(ForecastTable):
    """Tables ``forecasts`` and ``forecast_status`` (created with the history's tables).

    The process that polls the forecast replaces the points and then shares its status
    (when it fetched, its errors, its next poll) with ``NOTIFY weather_forecasts``; the
    others read the status on that wake-up and the points only when it names a newer fetch.
    """

    shared = True

    def __init__(self, location: str) -> None:
        if psycopg is None:
            raise ConfigError("WEATHER_DB", "PostgreSQL needs the psycopg driver: "
                                            "pip install '.[postgres]'")
        super().__init__(location)
        self._db = Database(location, "forecast")

    @property
    def description(self) -> str:
        return redact_db(self.location)

    def replace(self, keys: list[tuple[str, str]], records: list[ForecastRecord]) -> None:
        providers = sorted({p for p, _ in keys})

        def run(conn: Any) -> None:
            with conn.transaction():
                for provider in providers:
                    conn.execute("DELETE FROM forecasts WHERE provider = %s AND city = ANY(%s)",
                                 (provider, [c for p, c in keys if p == provider]))
                if records:
                    conn.execute(_INSERT, [list(c) for c in zip(*records, strict=True)])

        self._db.run(run)

    def read(self, provider: str | None) -> list[ForecastRecord]:
        where, args = ("provider = %s", (provider,)) if provider is not None else ("TRUE", ())
        return self._db.run(lambda conn: [tuple(r) for r in conn.execute(
            f"SELECT {', '.join(FORECAST_DB_COLUMNS)} FROM forecasts WHERE {where} "
            "ORDER BY provider, city, time_ms", args).fetchall()])

    def read_status(self, provider: str) -> dict[str, Any] | None:
        found = self._db.run(lambda conn: conn.execute(
            "SELECT status FROM forecast_status WHERE provider = %s", (provider,)).fetchone())
        return None if found is None else found[0]

    def write_status(self, provider: str, status: dict[str, Any]) -> None:
        def run(conn: Any) -> None:
            with conn.transaction():
                conn.execute(
                    "INSERT INTO forecast_status (provider, status) VALUES (%s, %s) "
                    "ON CONFLICT (provider) DO UPDATE SET status = EXCLUDED.status, "
                    "updated_at = now()", (provider, json.dumps(status)))
                conn.execute("SELECT pg_notify(%s, %s)", (FORECAST_CHANNEL, provider))

        self._db.run(run)

    def listen(self, on_wake: Callable[[], None]) -> Listener:
        listener = Listener(self.location, on_wake, channel=FORECAST_CHANNEL)
        listener.start()
        return listener

    def close(self) -> None:
        self._db.close()
