"""The one-call entry points: current weather or forecasts of some cities as pandas frames."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

import pandas as pd

from weather.config import ClientConfig, units_from_env
from weather.errors import WeatherError
from weather.models import Forecast, Observation, Units
from weather.providers import CityResult, Provider, get_provider
from weather.providers.base import DEFAULT_FORECAST_HOURS, ForecastResult, check_hours
from weather.units import check_units, convert_frame

#: Columns of every weather frame, in order.
FRAME_COLUMNS: tuple[str, ...] = (
    "city", "lat", "lon", "time", "temperature", "humidity", "wind_speed", "status", "error",
    "provider", "raw",
)
TIME_DTYPE = "datetime64[ns, UTC]"
#: Columns of every forecast frame, in order.
FORECAST_COLUMNS: tuple[str, ...] = (
    "city", "lat", "lon", "time", "temperature", "humidity", "wind_speed", "fetched_at",
    "status", "error", "provider",
)


@lru_cache(maxsize=8)
def _shared_provider(config: ClientConfig) -> Provider:
    # Reused between calls so the HTTP connections stay open; keyed by the (frozen) settings.
    return get_provider(config=config)


def resolve_provider(provider: str | Provider | None = None) -> Provider:
    """A ``Provider`` instance from an instance, a registered name, or the environment."""
    if isinstance(provider, Provider):
        return provider
    env = dict(os.environ)
    if provider:
        env["WEATHER_PROVIDER"] = provider
    return _shared_provider(ClientConfig.from_env(env))


def _names(cities: str | Sequence[str]) -> list[str]:
    return [cities.strip()] if isinstance(cities, str) else [str(c).strip() for c in cities]


def current_weather(cities: str | Sequence[str],
                    provider: str | Provider | None = None) -> list[CityResult]:
    """One ``Observation`` (metric) or ``WeatherError`` per city, in request order.

    ``AuthError`` and ``RateLimitError`` are raised: they concern the account, not a city.
    """
    return resolve_provider(provider).current(_names(cities))


def weather_data(cities: str | Sequence[str], provider: str | Provider | None = None,
                 units: Units | str | None = None) -> pd.DataFrame:
    """Current weather of ``cities`` as a frame with ``FRAME_COLUMNS``, one row per city.

    ``provider`` is a name (``"openweather"``, ``"open-meteo"``, ``"demo"``), a ``Provider``,
    or None for ``WEATHER_PROVIDER``/the key in the environment. ``units`` is ``"imperial"``
    (°F, mph) or ``"metric"`` (°C, m/s); None reads ``WEATHER_UNITS`` (default imperial).
    """
    chosen = units_from_env() if units is None else check_units(units)
    names = _names(cities)
    source = resolve_provider(provider)
    return results_frame(names, source.current(names), chosen, provider=source.name)


def results_frame(cities: Sequence[str], results: Sequence[CityResult],
                  units: Units | str = "imperial", provider: str = "") -> pd.DataFrame:
    """Build the frame for ``results`` (metric, one per city) and convert it to ``units``.

    Failed cities keep their row: NaN values, ``status`` the error's short reason, ``error``
    its message. ``provider`` names the source on rows whose result does not.
    """
    if len(cities) != len(results):
        raise ValueError(f"{len(cities)} cities but {len(results)} results")
    rows = []
    for city, result in zip(cities, results, strict=True):
        if isinstance(result, Observation):
            rows.append((city, result.lat, result.lon, result.time, result.temperature_c,
                         result.humidity_pct, result.wind_speed_ms, "ok", "", result.provider,
                         dict(result.raw)))
        else:
            error = result if isinstance(result, WeatherError) else WeatherError(str(result))
            rows.append((city, math.nan, math.nan, None, math.nan, math.nan, math.nan,
                         error.status, error.message, provider, {}))
    frame = pd.DataFrame.from_records(rows, columns=list(FRAME_COLUMNS))
    for column in ("lat", "lon", "temperature", "humidity", "wind_speed"):
        frame[column] = frame[column].astype("float64")
    frame["time"] = pd.to_datetime(frame["time"], utc=True).astype(TIME_DTYPE)
    for column in ("city", "status", "error", "provider"):
        frame[column] = frame[column].astype(str)
    return convert_frame(frame, check_units(units))


def forecast_data(cities: str | Sequence[str], provider: str | Provider | None = None,
                  hours: int = DEFAULT_FORECAST_HOURS,
                  units: Units | str | None = None) -> pd.DataFrame:
    """The forecast of ``cities`` for the next ``hours`` as a frame with ``FORECAST_COLUMNS``.

    One row per city and forecast time, cities in the order asked, times in UTC; every row
    has ``fetched_at``, when this call asked. A city without a forecast keeps one row with
    no time and no values, ``status`` the short reason and ``error`` the message.
    ``provider`` and ``units`` are read as ``weather_data`` reads them.
    """
    chosen = units_from_env() if units is None else check_units(units)
    hours = check_hours(hours)
    names = _names(cities)
    source = resolve_provider(provider)
    fetched_at = datetime.now(UTC)
    results = source.forecast(names, hours)
    return forecast_frame(names, results, fetched_at, chosen, provider=source.name)


def forecast_frame(cities: Sequence[str], results: Sequence[ForecastResult],
                   fetched_at: datetime, units: Units | str = "imperial",
                   provider: str = "") -> pd.DataFrame:
    """Build the forecast frame for ``results`` (metric, one per city) in ``units``."""
    if len(cities) != len(results):
        raise ValueError(f"{len(cities)} cities but {len(results)} results")
    rows = []
    for city, result in zip(cities, results, strict=True):
        if isinstance(result, Forecast) and result.points:
            rows.extend((city, result.lat, result.lon, p.time, p.temperature_c,
                         p.humidity_pct, p.wind_speed_ms, fetched_at, "ok", "",
                         result.provider) for p in result.points)
            continue
        if isinstance(result, Forecast):
            status, message = "no forecast", "the answer held no forecast for these hours"
        else:
            error = result if isinstance(result, WeatherError) else WeatherError(str(result))
            status, message = error.status, error.message
        rows.append((city, math.nan, math.nan, None, math.nan, math.nan, math.nan, fetched_at,
                     status, message, provider))
    frame = pd.DataFrame.from_records(rows, columns=list(FORECAST_COLUMNS))
    for column in ("lat", "lon", "temperature", "humidity", "wind_speed"):
        frame[column] = frame[column].astype("float64")
    for column in ("time", "fetched_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype(TIME_DTYPE)
    for column in ("city", "status", "error", "provider"):
        frame[column] = frame[column].astype(str)
    return convert_frame(frame, check_units(units))
