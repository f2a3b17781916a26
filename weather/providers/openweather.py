"""OpenWeather's current weather API (v2.5): one request per city, made concurrently."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

from weather import errors
from weather.config import DEFAULT_OPENWEATHER_BASE_URL, ClientConfig, require_api_key
from weather.http import HttpClient
from weather.models import Observation
from weather.providers._parse import number
from weather.providers.base import CityResult, Provider

SERVICE = "OpenWeather"
#: Requests in flight at once. OpenWeather limits calls per minute, not connections, so 30
#: cities cost about one round trip; the bound keeps a very long list from opening hundreds.
MAX_IN_FLIGHT = 32


def parse_current(city: str, payload: Any) -> Observation:
    """Turn a ``/data/2.5/weather`` answer (metric units) into an ``Observation``."""
    if not isinstance(payload, Mapping):
        raise errors.ParseError(f"{SERVICE}'s answer for {city!r} is not a JSON object",
                                city=city)

    def get(*path: str) -> float:
        return number(payload, *path, city=city, service=SERVICE)

    return Observation(
        city=city,
        lat=get("coord", "lat"),
        lon=get("coord", "lon"),
        time=datetime.fromtimestamp(int(get("dt")), tz=UTC),
        temperature_c=get("main", "temp"),
        humidity_pct=get("main", "humidity"),
        wind_speed_ms=get("wind", "speed"),
        provider="openweather",
        raw=dict(payload),
    )


class OpenWeatherProvider(Provider):
    """Asks OpenWeather for each city in parallel (the multi-city endpoints are retired).

    A rejected key or a rate limit stops the whole call: requests not yet sent are dropped
    and the ``AuthError``/``RateLimitError`` is raised.
    """

    name = "openweather"

    def __init__(self, api_key: str, *, base_url: str = DEFAULT_OPENWEATHER_BASE_URL,
                 http: HttpClient | None = None, max_workers: int = MAX_IN_FLIGHT) -> None:
        self._api_key = require_api_key(api_key)
        self.base_url = base_url.rstrip("/")
        self.http = http or HttpClient(pool_size=max(16, max_workers))
        self.http.add_secret(api_key)
        self.max_workers = max_workers

    @classmethod
    def from_config(cls, config: ClientConfig,
                    http: HttpClient | None = None) -> OpenWeatherProvider:
        return cls(config.api_key or "", base_url=config.openweather_base_url, http=http)

    def __repr__(self) -> str:
        return f"OpenWeatherProvider(base_url={self.base_url!r})"

    def current(self, cities: Sequence[str]) -> list[CityResult]:
        names = [str(c).strip() for c in cities]
        if not names:
            return []
        stop = threading.Event()
        pool = ThreadPoolExecutor(min(self.max_workers, len(names)),
                                  thread_name_prefix="openweather")
        try:
            futures = [pool.submit(self._one, name, stop) for name in names]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in futures if f in done and f.exception() is not None]
            if failed:
                stop.set()
                # Only account-wide errors escape _one: report the first one in request order.
                raise failed[0].exception()  # type: ignore[misc]
            return [f.result() for f in futures]
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _one(self, city: str, stop: threading.Event) -> CityResult:
        if not city:
            return errors.NotFoundError("no city name given", city=city)
        if stop.is_set():
            return errors.WeatherError("not asked: the call was stopped", city=city)
        try:
            payload = self.http.get_json(
                f"{self.base_url}/data/2.5/weather",
                {"q": city, "appid": self._api_key, "units": "metric"},
                service=SERVICE, city=city)
            return parse_current(city, payload)
        except (errors.AuthError, errors.RateLimitError):
            stop.set()
            raise
        except errors.WeatherError as error:
            return error

    def past(self, cities: Sequence[str], days: int, *, step_s: float = 3600.0,
             now_s: float | None = None) -> list[Observation]:
        """Always ``NoHistoryError``: OpenWeather sells its history, the free tier has none."""
        raise errors.NoHistoryError(
            "OpenWeather's free tier has no past observations (its history API is a paid "
            "plan); backfill from WEATHER_PROVIDER=open-meteo (no key) instead")
