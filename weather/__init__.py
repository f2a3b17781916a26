"""A small client for current weather and forecasts (OpenWeather, Open-Meteo or a simulation).

>>> from weather import weather_data
>>> weather_data(["San Francisco", "Fresno"], provider="demo").columns.tolist()[:4]
['city', 'lat', 'lon', 'time']
"""

from __future__ import annotations

from weather.api import (
    FORECAST_COLUMNS,
    FRAME_COLUMNS,
    current_weather,
    forecast_data,
    forecast_frame,
    resolve_provider,
    results_frame,
    weather_data,
)
from weather.cities import CALIFORNIA_CITIES, CITIES, City
from weather.config import PROVIDER_NAMES, ClientConfig
from weather.errors import (
    AuthError,
    BadRequestError,
    ConfigError,
    NoForecastError,
    NotFoundError,
    ParseError,
    RateLimitError,
    RequestTimeout,
    ServerError,
    TransportError,
    UnknownProviderError,
    UnreachableError,
    WeatherError,
)
from weather.models import (
    QUANTITIES,
    UNIT_SYMBOLS,
    Forecast,
    ForecastPoint,
    Observation,
    Units,
    quantity_label,
)
from weather.providers import PROVIDERS, Provider, get_provider

__all__ = [
    "CALIFORNIA_CITIES",
    "CITIES",
    "FORECAST_COLUMNS",
    "FRAME_COLUMNS",
    "PROVIDERS",
    "PROVIDER_NAMES",
    "QUANTITIES",
    "UNIT_SYMBOLS",
    "AuthError",
    "BadRequestError",
    "City",
    "ClientConfig",
    "ConfigError",
    "Forecast",
    "ForecastPoint",
    "NoForecastError",
    "NotFoundError",
    "Observation",
    "ParseError",
    "Provider",
    "RateLimitError",
    "RequestTimeout",
    "ServerError",
    "TransportError",
    "Units",
    "UnknownProviderError",
    "UnreachableError",
    "WeatherError",
    "current_weather",
    "forecast_data",
    "forecast_frame",
    "get_provider",
    "quantity_label",
    "resolve_provider",
    "results_frame",
    "weather_data",
]
