"""The weather client's settings, read from the environment and validated with clear messages."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from weather.errors import ConfigError, UnknownProviderError
from weather.models import Units
from weather.units import check_units

#: The registered providers, in the order error messages list them.
PROVIDER_NAMES: tuple[str, ...] = ("openweather", "open-meteo", "demo")
#: Other spellings people type for the same providers.
PROVIDER_ALIASES: dict[str, str] = {"open_meteo": "open-meteo", "openmeteo": "open-meteo"}

DEFAULT_OPENWEATHER_BASE_URL = "https://api.openweathermap.org"
DEFAULT_OPEN_METEO_BASE_URL = "https://api.open-meteo.com"
DEFAULT_GEOCODING_BASE_URL = "https://geocoding-api.open-meteo.com"
DEFAULT_UNITS: Units = "imperial"


def require_api_key(api_key: str | None) -> str:
    """Return ``api_key``, or raise the one error that says OpenWeather needs one."""
    if not api_key:
        raise ConfigError(
            "OPENWEATHER_API_KEY", "the openweather provider needs an API key; set "
            "OPENWEATHER_API_KEY or choose WEATHER_PROVIDER=open-meteo or demo (no key)"
        )
    return api_key


def canonical_provider(name: str, setting: str = "WEATHER_PROVIDER") -> str:
    """Return the registered name for ``name`` (case-insensitive, aliases accepted)."""
    key = str(name).strip().lower()
    key = PROVIDER_ALIASES.get(key, key)
    if key not in PROVIDER_NAMES:
        raise UnknownProviderError(str(name), list(PROVIDER_NAMES), setting=setting)
    return key


def check_base_url(url: str, setting: str) -> str:
    """Return ``url`` without a trailing slash, or raise if it is not an http(s) URL."""
    value = str(url).strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ConfigError(
            setting, f"expected an http:// or https:// base URL such as "
            f"'https://example.org', got {url!r}"
        )
    return value


@dataclass(frozen=True)
class ClientConfig:
    """Which provider to ask, where it lives, with which key, and the units to show.

    Values are validated (and normalised) when the object is built, so a ``ClientConfig``
    that exists is usable. ``api_key`` never shows in ``repr``.
    """

    provider: str = "demo"
    api_key: str | None = field(default=None, repr=False)
    openweather_base_url: str = DEFAULT_OPENWEATHER_BASE_URL
    open_meteo_base_url: str = DEFAULT_OPEN_METEO_BASE_URL
    geocoding_base_url: str = DEFAULT_GEOCODING_BASE_URL
    units: Units = DEFAULT_UNITS

    def __post_init__(self) -> None:
        # Frozen dataclass: normalised values are written with object.__setattr__.
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        put("provider", canonical_provider(self.provider))
        put("api_key", (self.api_key or "").strip() or None)
        put("openweather_base_url",
            check_base_url(self.openweather_base_url, "OPENWEATHER_BASE_URL"))
        put("open_meteo_base_url", check_base_url(self.open_meteo_base_url, "OPEN_METEO_BASE_URL"))
        put("geocoding_base_url", check_base_url(self.geocoding_base_url, "GEOCODING_BASE_URL"))
        put("units", check_units(self.units, "WEATHER_UNITS"))
        if self.provider == "openweather":
            require_api_key(self.api_key)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ClientConfig:
        """Read the settings from ``environ`` (default ``os.environ``); blank means unset.

        ``WEATHER_PROVIDER`` defaults to ``openweather`` when ``OPENWEATHER_API_KEY`` is set,
        else to ``demo``. Raises ``ConfigError`` naming the first bad setting.
        """
        env = os.environ if environ is None else environ

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(name)
            return value.strip() if value and value.strip() else default

        api_key = get("OPENWEATHER_API_KEY")
        return cls(
            provider=get("WEATHER_PROVIDER") or ("openweather" if api_key else "demo"),
            api_key=api_key,
            openweather_base_url=get("OPENWEATHER_BASE_URL", DEFAULT_OPENWEATHER_BASE_URL),
            open_meteo_base_url=get("OPEN_METEO_BASE_URL", DEFAULT_OPEN_METEO_BASE_URL),
            geocoding_base_url=get("GEOCODING_BASE_URL", DEFAULT_GEOCODING_BASE_URL),
            units=get("WEATHER_UNITS", DEFAULT_UNITS),
        )


def units_from_env(environ: Mapping[str, str] | None = None) -> Units:
    """Return ``WEATHER_UNITS`` validated, ``imperial`` when unset."""
    env = os.environ if environ is None else environ
    value = (env.get("WEATHER_UNITS") or "").strip()
    return check_units(value, "WEATHER_UNITS") if value else DEFAULT_UNITS
