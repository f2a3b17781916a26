"""The providers, looked up by name: ``get_provider("open-meteo")``."""

from __future__ import annotations

import os

from weather.config import PROVIDER_NAMES, ClientConfig, canonical_provider
from weather.http import HttpClient
from weather.providers.base import CityResult, Provider
from weather.providers.demo import DemoProvider
from weather.providers.open_meteo import OpenMeteoProvider
from weather.providers.openweather import OpenWeatherProvider

#: Provider classes by registered name.
PROVIDERS: dict[str, type[Provider]] = {
    "openweather": OpenWeatherProvider,
    "open-meteo": OpenMeteoProvider,
    "demo": DemoProvider,
}
assert tuple(PROVIDERS) == PROVIDER_NAMES

__all__ = ["PROVIDERS", "PROVIDER_NAMES", "CityResult", "DemoProvider", "OpenMeteoProvider",
           "OpenWeatherProvider", "Provider", "get_provider"]


def get_provider(name: str | None = None, config: ClientConfig | None = None, *,
                 http: HttpClient | None = None) -> Provider:
    """Build the provider called ``name`` (default: ``config.provider``).

    ``config`` defaults to ``ClientConfig.from_env()``; an unknown name raises
    ``UnknownProviderError`` listing the valid ones, a missing key ``ConfigError``.
    Each provider builds itself from ``config`` (``Provider.from_config``).
    """
    key = canonical_provider(name, setting="provider") if name else None
    if config is None:
        env = dict(os.environ)
        if key:
            # An explicit name wins over WEATHER_PROVIDER, even an invalid one.
            env["WEATHER_PROVIDER"] = key
        config = ClientConfig.from_env(env)
    return PROVIDERS[key or config.provider].from_config(config, http)
