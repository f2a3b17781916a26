"""The one-call entry point: current weather of some cities as a pandas frame."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import lru_cache

import pandas as pd

from weather.config import ClientConfig, units_from_env
from weather.errors import WeatherError
from weather.models import Observation, Units
from weather.providers import CityResult, Provider, get_provider
from weather.units import check_units, convert_frame

#: Columns of every weather frame, in order.
FRAME_COLUMNS: tuple[str, ...] = (
    "city", "lat", "lon", "time", "temperature", "humidity", "wind_speed", "status", "error",
    "provider", "raw",
)
TIME_DTYPE = "datetime64[ns, UTC]"


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
