"""A short-lived shared cache in front of a provider, so close-together lookups cost one call."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence

from weather.models import Forecast, Observation
from weather.providers.base import DEFAULT_FORECAST_HOURS, CityResult, ForecastResult, Provider


class CachedProvider(Provider):
    """Serve each city's result from the last ``ttl_s`` seconds, fetching only what is missing.

    Fetches are serialised: a second caller asking while a fetch is under way waits for it
    and then finds the cities it shares with the first already cached, so two viewers who
    refresh together cost one upstream request per city, not two.
    """

    def __init__(self, provider: Provider, ttl_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 forecast_ttl_s: float | None = None) -> None:
        self.provider = provider
        self.ttl_s = ttl_s
        #: Seconds a city's forecast is reused; None: ``ttl_s``.
        self.forecast_ttl_s = ttl_s if forecast_ttl_s is None else forecast_ttl_s
        self._clock = clock
        self._entries: dict[str, tuple[float, CityResult]] = {}
        self._forecasts: dict[tuple[str, int], tuple[float, ForecastResult]] = {}
        self._fetch_lock = threading.Lock()
        self._forecast_lock = threading.Lock()

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.provider.name

    def current(self, cities: Sequence[str]) -> list[CityResult]:
        with self._fetch_lock:
            now = self._clock()
            missing = [c for c in dict.fromkeys(cities) if not self._fresh(c, now)]
            if missing:
                results = self.provider.current(missing)
                fetched_at = self._clock()
                for city, result in zip(missing, results, strict=True):
                    self._entries[city] = (fetched_at, result)
            return [self._entries[c][1] for c in cities]

    def forecast(self, cities: Sequence[str],
                 hours: int = DEFAULT_FORECAST_HOURS) -> list[ForecastResult]:
        """Each city's forecast of ``hours`` from the last ``forecast_ttl_s`` seconds (a city's
        failure: ``ttl_s``), fetching only what is missing; a call that raises (rate limit,
        key) caches nothing."""
        with self._forecast_lock:
            now = self._clock()
            missing = [c for c in dict.fromkeys(cities)
                       if not self._fresh_forecast((c, hours), now)]
            if missing:
                results = self.provider.forecast(missing, hours)
                fetched_at = self._clock()
                for city, result in zip(missing, results, strict=True):
                    self._forecasts[(city, hours)] = (fetched_at, result)
            return [self._forecasts[(c, hours)][1] for c in cities]

    def _fresh_forecast(self, key: tuple[str, int], now: float) -> bool:
        entry = self._forecasts.get(key)
        if entry is None:
            return False
        # A city's failure is kept only as long as a current-weather answer: it may pass.
        ttl_s = self.forecast_ttl_s if isinstance(entry[1], Forecast) else self.ttl_s
        return now - entry[0] < ttl_s

    def past(self, cities: Sequence[str], days: int, *, step_s: float = 3600.0,
             now_s: float | None = None) -> Iterable[Observation]:
        """The wrapped provider's past, uncached (a backfill is a one-off)."""
        return self.provider.past(cities, days, step_s=step_s, now_s=now_s)

    def _fresh(self, city: str, now: float) -> bool:
        entry = self._entries.get(city)
        return entry is not None and now - entry[0] < self.ttl_s
