"""The dashboard's settings, read once from the environment and validated with clear messages."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

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
#: ``WEATHER_DB`` values that select PostgreSQL; anything else is a SQLite file or ``:memory:``.
POSTGRES_SCHEMES = ("postgresql", "postgres")


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
            db_path=parse_db(env.get("WEATHER_DB")) or default_db_path(env),
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


def parse_db(value: str | None) -> str | None:
    """Read ``WEATHER_DB``: a PostgreSQL URL, a SQLite file path or ``:memory:`` (None if unset).

    Any other ``scheme://`` is refused: taken as a path it would make a folder named after it.
    """
    value = (value or "").strip()
    if not value:
        return None
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", value)
    if scheme is None:
        return value
    if scheme.group(1).lower() not in POSTGRES_SCHEMES:
        raise ConfigError(
            "WEATHER_DB", f"unsupported database {redact_db(value)!r}; give a SQLite file path, "
            "':memory:', or postgresql://user:password@host:port/dbname"
        )
    parts = urlsplit(value)
    if not parts.hostname and "host=" not in parts.query:
        raise ConfigError("WEATHER_DB", f"no host in {redact_db(value)!r}; "
                          "write postgresql://user:password@host:port/dbname")
    if not parts.path.strip("/"):
        raise ConfigError("WEATHER_DB", f"no database name in {redact_db(value)!r}; "
                          "write postgresql://user:password@host:port/dbname")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise ConfigError("WEATHER_DB", f"bad port in {redact_db(value)!r}") from None
    return value


def is_postgres(location: str) -> bool:
    """Whether a ``WEATHER_DB`` value selects PostgreSQL."""
    return location.split("://", 1)[0].lower() in POSTGRES_SCHEMES and "://" in location


def redact_db(location: str) -> str:
    """``location`` with any password (in the address or ``?password=``) replaced by ``***``.

    The one place a database address is made fit for a page, a log line or an error.
    """
    if "://" not in location:
        return location
    try:
        parts = urlsplit(location)
    except ValueError:
        return "<unreadable database address>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    query = re.sub(r"(?i)(^|&)(password)=[^&]*", r"\1\2=***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_db_text(text: str, location: str) -> str:
    """``text`` (e.g. a driver's error message) with the password of ``location`` scrubbed."""
    if "://" not in location:
        return text
    try:
        parts = urlsplit(location)
    except ValueError:
        return text
    text = text.replace(location, redact_db(location))
    found = re.search(r"(?i)(?:^|&)password=([^&]*)", parts.query)
    for secret in (parts.password, found.group(1) if found else None):
        if secret:
            for form in sorted({secret, unquote(secret)}, key=len, reverse=True):
                text = text.replace(form, "***")
    return text
