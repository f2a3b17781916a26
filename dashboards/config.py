"""The dashboard's settings, read once from the environment and validated with clear messages."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from weather.cities import CALIFORNIA_CITIES
from weather.config import ClientConfig
from weather.errors import ConfigError

#: The article's seven California cities.
DEFAULT_CITIES: tuple[str, ...] = CALIFORNIA_CITIES
DEFAULT_INTERVAL_S = 30.0
#: Forecasts change hourly at most.
DEFAULT_FORECAST_INTERVAL_S = 3600.0
#: Map tile sources by the names ``WEATHER_TILES`` accepts; ``none`` draws no tiles.
TILES = ("EsriImagery", "OSM", "CartoLight", "none")
DEFAULT_TILES = "EsriImagery"


def default_db_path(environ: Mapping[str, str]) -> str:
    """Return the per-user history database, under ``$XDG_DATA_HOME`` or ``~/.local/share``."""
    data_home = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(data_home) / "weather-dashboard" / "history.sqlite3")


@dataclass(frozen=True)
class AppConfig:
    """Everything the dashboard can be told, with the provider settings in ``client``."""

    client: ClientConfig
    cities: tuple[str, ...] = DEFAULT_CITIES
    interval_s: float = DEFAULT_INTERVAL_S
    forecast_interval_s: float = DEFAULT_FORECAST_INTERVAL_S
    db_path: str = ":memory:"
    tiles: str = DEFAULT_TILES
    #: Days of history kept in the database; None keeps everything.
    retention_days: float | None = None

    @property
    def units(self) -> str:
        return self.client.units

    @property
    def provider(self) -> str:
        return self.client.provider

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AppConfig:
        """Read and validate every setting; raise ``ConfigError`` naming the first bad one."""
        env = os.environ if environ is None else environ
        return cls(
            client=ClientConfig.from_env(env),
            cities=parse_cities(env.get("WEATHER_CITIES")),
            interval_s=parse_interval_s(env.get("WEATHER_INTERVAL")),
            forecast_interval_s=parse_seconds(env.get("WEATHER_FORECAST_INTERVAL"),
                                              "WEATHER_FORECAST_INTERVAL",
                                              DEFAULT_FORECAST_INTERVAL_S),
            db_path=(env.get("WEATHER_DB") or "").strip() or default_db_path(env),
            tiles=parse_tiles(env.get("WEATHER_TILES")),
            retention_days=parse_retention_days(env.get("WEATHER_RETENTION_DAYS")),
        )


def parse_cities(value: str | None) -> tuple[str, ...]:
    """Split ``WEATHER_CITIES`` on ``;``, dropping blanks and repeats."""
    if value is None:
        return DEFAULT_CITIES
    cities = tuple(dict.fromkeys(c.strip() for c in value.split(";") if c.strip()))
    if not cities:
        raise ConfigError(
            "WEATHER_CITIES", "no city given; list city names separated by ';', "
            "e.g. 'San Francisco;Fresno'"
        )
    return cities


def parse_interval_s(value: str | None) -> float:
    """Read ``WEATHER_INTERVAL``: seconds between polls, a number greater than zero."""
    return parse_seconds(value, "WEATHER_INTERVAL", DEFAULT_INTERVAL_S)


def parse_seconds(value: str | None, setting: str, default: float) -> float:
    """Read a number of seconds greater than zero from ``setting``; blank gives ``default``."""
    if value is None or not value.strip():
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigError(
            setting,
            f"must be a number of seconds greater than 0, got {value!r}",
        )
    return seconds


def parse_retention_days(value: str | None) -> float | None:
    """Read ``WEATHER_RETENTION_DAYS``: days of history to keep, a number > 0; unset keeps all."""
    if value is None or not value.strip():
        return None
    try:
        days = float(value)
    except ValueError:
        days = float("nan")
    if not days > 0 or days == float("inf"):
        raise ConfigError(
            "WEATHER_RETENTION_DAYS",
            f"must be a number of days greater than 0 (unset keeps everything), got {value!r}",
        )
    return days


def parse_tiles(value: str | None) -> str:
    """Read ``WEATHER_TILES``, case-insensitively, as one of ``TILES``."""
    if value is None or not value.strip():
        return DEFAULT_TILES
    by_lower = {t.lower(): t for t in TILES}
    try:
        return by_lower[value.strip().lower()]
    except KeyError:
        raise ConfigError(
            "WEATHER_TILES", f"unknown tiles {value!r}; choose one of: {', '.join(TILES)}"
        ) from None
