"""A provider that needs no network: plausible, smoothly changing weather for built-in cities."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np

from weather import errors
from weather.cities import City, lookup
from weather.config import ClientConfig
from weather.http import HttpClient
from weather.models import Forecast, ForecastPoint, Observation
from weather.providers.base import (
    DEFAULT_FORECAST_HOURS,
    CityResult,
    ForecastResult,
    Provider,
    check_hours,
    check_past_days,
)

HOUR_S = 3_600
DAY_S = 86_400.0
YEAR_S = 365.2422 * DAY_S
#: Periods (s) of the sines summed into each city's noise: minutes to hours, so values move
#: between two polls a few seconds apart yet never jump.
NOISE_PERIODS_S = (7_919.0, 3_301.0, 1_733.0, 787.0, 409.0)


@lru_cache(maxsize=1024)
def _phases(name: str, salt: str) -> tuple[float, ...]:
    """Phases in [0, 2π) that depend only on the city and ``salt`` (stable across runs)."""
    # Cached: a forecast simulates every hour of every city, each asking these five times.
    digest = hashlib.sha256(f"{salt}:{name}".encode()).digest()
    return tuple(digest[i] / 256 * 2 * math.pi for i in range(len(NOISE_PERIODS_S)))


def _noise(t: float, phases: tuple[float, ...]) -> float:
    """A smooth wiggle in about [-1, 1]: slower components weigh more."""
    total = sum(math.sin(2 * math.pi * t / p + ph) / (k + 1)
                for k, (p, ph) in enumerate(zip(NOISE_PERIODS_S, phases, strict=True)))
    return total / sum(1 / (k + 1) for k in range(len(NOISE_PERIODS_S)))


def simulate(place: City, t: float) -> tuple[float, float, float]:
    """Temperature (°C), relative humidity (%) and wind speed (m/s) at ``place``, time ``t``."""
    # Yearly mean falls from ~27 °C at the equator to ~5 °C at 60°; the season (warmest about
    # July 20 in the north, January 20 in the south) swings more towards the poles.
    day_of_year = (t % YEAR_S) / DAY_S
    season = math.cos(2 * math.pi * (day_of_year - 201) / 365.2422)
    abs_lat = abs(place.lat)
    base_c = 27 - 0.006 * abs_lat**2 + math.copysign(0.2 * abs_lat, place.lat) * season
    # Day: warmest about 15:00 local solar time, the lowest before dawn.
    solar_hour = (t / 3600 + place.lon / 15) % 24
    daily = math.cos(2 * math.pi * (solar_hour - 15) / 24)
    temperature_c = base_c + 5.5 * daily + 1.5 * _noise(t, _phases(place.name, "temperature"))
    # Relative humidity falls as the air warms through the day.
    humidity = 62 - 18 * daily + 12 * _noise(t, _phases(place.name, "humidity"))
    # Wind: a steady part plus gusts (sharp peaks of a sine), never negative.
    steady = 2.5 + 2 * (_phases(place.name, "wind")[0] / (2 * math.pi))
    gust = max(0.0, _noise(t, _phases(place.name, "gust"))) ** 2 * 9
    wind_ms = max(0.0, steady + 1.2 * _noise(t, _phases(place.name, "wind")) + gust)
    return round(temperature_c, 2), round(min(100.0, max(5.0, humidity)), 1), round(wind_ms, 2)


def _noise_many(t: np.ndarray, phases: list[float]) -> np.ndarray:
    """``_noise`` of many times at once."""
    total = sum(np.sin(2 * np.pi * t / p + ph) / (k + 1)
                for k, (p, ph) in enumerate(zip(NOISE_PERIODS_S, phases, strict=True)))
    return total / sum(1 / (k + 1) for k in range(len(NOISE_PERIODS_S)))


def simulate_many(place: City, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``simulate`` of many times at once (the same formulas, for a backfill of weeks)."""
    t = np.asarray(t, dtype="float64")
    day_of_year = (t % YEAR_S) / DAY_S
    season = np.cos(2 * np.pi * (day_of_year - 201) / 365.2422)
    abs_lat = abs(place.lat)
    base_c = 27 - 0.006 * abs_lat**2 + math.copysign(0.2 * abs_lat, place.lat) * season
    daily = np.cos(2 * np.pi * (((t / 3600 + place.lon / 15) % 24) - 15) / 24)
    temperature_c = base_c + 5.5 * daily + 1.5 * _noise_many(t, _phases(place.name, "temperature"))
    humidity = 62 - 18 * daily + 12 * _noise_many(t, _phases(place.name, "humidity"))
    wind_phases = _phases(place.name, "wind")
    steady = 2.5 + 2 * (wind_phases[0] / (2 * math.pi))
    gust = np.maximum(0.0, _noise_many(t, _phases(place.name, "gust"))) ** 2 * 9
    wind_ms = np.maximum(0.0, steady + 1.2 * _noise_many(t, wind_phases) + gust)
    return (np.round(temperature_c, 2), np.round(np.clip(humidity, 5.0, 100.0), 1),
            np.round(wind_ms, 2))


class DemoPast:
    """Simulated observations of many cities at times ``times_s``, made as they are read.

    Sized, so a caller can show progress; weeks at a poll interval of seconds are millions of
    observations, too many to hold as objects at once.
    """

    def __init__(self, cities: Sequence[tuple[str, City]], times_s: np.ndarray,
                 chunk: int = 2_000) -> None:
        self.cities = list(cities)
        self.times_s = times_s
        self.chunk = chunk

    def __len__(self) -> int:
        return len(self.cities) * len(self.times_s)

    def __iter__(self) -> Iterator[Observation]:
        for start in range(0, len(self.times_s), self.chunk):
            times = self.times_s[start:start + self.chunk]
            stamps = [datetime.fromtimestamp(int(t), tz=UTC) for t in times]
            for name, place in self.cities:
                temperature, humidity, wind = (a.tolist() for a in simulate_many(place, times))
                for when, temp_c, hum, wind_ms in zip(stamps, temperature, humidity, wind,
                                                      strict=True):
                    yield Observation(city=name, lat=place.lat, lon=place.lon, time=when,
                                      temperature_c=temp_c, humidity_pct=hum,
                                      wind_speed_ms=wind_ms, provider="demo",
                                      raw={"source": "demo"})


class DemoProvider(Provider):
    """Simulated weather for the built-in cities; identical for identical times.

    ``clock`` returns unix seconds (default ``time.time``); observations are stamped with it,
    to the second, so two calls a second apart differ and two calls at one time agree.
    """

    name = "demo"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock

    @classmethod
    def from_config(cls, config: ClientConfig, http: HttpClient | None = None) -> DemoProvider:
        return cls()

    def current(self, cities: Sequence[str]) -> list[CityResult]:
        now = int(self.clock())
        return [self._one(str(name).strip(), now) for name in cities]

    def _one(self, name: str, now: int) -> CityResult:
        place = lookup(name) if name else None
        if place is None:
            return errors.NotFoundError(
                f"the demo provider only knows the built-in cities, not {name!r}", city=name)
        temperature_c, humidity, wind_ms = simulate(place, now)
        raw = {"source": "demo", "name": place.name, "lat": place.lat, "lon": place.lon,
               "time": now, "temperature_c": temperature_c, "humidity_pct": humidity,
               "wind_speed_ms": wind_ms}
        return Observation(city=name, lat=place.lat, lon=place.lon,
                           time=datetime.fromtimestamp(now, tz=UTC), temperature_c=temperature_c,
                           humidity_pct=humidity, wind_speed_ms=wind_ms, provider=self.name,
                           raw=raw)

    def forecast(self, cities: Sequence[str],
                 hours: int = DEFAULT_FORECAST_HOURS) -> list[ForecastResult]:
        """The simulation run on: now (the current observation), then every full hour.

        It is the same smooth function as ``current``, so the forecast starts exactly at the
        present value and the present later walks along what was forecast.
        """
        hours = check_hours(hours)
        now = int(self.clock())
        first_hour = now - now % HOUR_S + HOUR_S
        times = [now, *range(first_hour, now + hours * HOUR_S + 1, HOUR_S)]
        results: list[ForecastResult] = []
        for name in (str(c).strip() for c in cities):
            place = lookup(name) if name else None
            if place is None:
                results.append(errors.NotFoundError(
                    f"the demo provider only knows the built-in cities, not {name!r}",
                    city=name))
                continue
            points = tuple(ForecastPoint(datetime.fromtimestamp(t, tz=UTC), *simulate(place, t))
                           for t in times)
            results.append(Forecast(city=name, lat=place.lat, lon=place.lon, points=points,
                                    provider=self.name,
                                    raw={"source": "demo", "name": place.name, "time": now}))
        return results

    def past(self, cities: Sequence[str], days: int, *, step_s: float = 30.0,
             now_s: float | None = None) -> DemoPast:
        """The simulation every ``step_s`` seconds over the ``days`` before now, on a grid.

        Times are whole multiples of ``step_s`` (at least 1 s), so asking twice gives the
        same times; unknown cities raise ``NotFoundError`` before anything is made.
        """
        days = check_past_days(days)
        if not step_s >= 1 or not math.isfinite(step_s):
            raise errors.ConfigError("step_s", f"must be at least 1 second, got {step_s!r}")
        places = []
        for raw_name in cities:
            name = str(raw_name).strip()
            place = lookup(name) if name else None
            if place is None:
                raise errors.NotFoundError(
                    f"the demo provider only knows the built-in cities, not {name!r}", city=name)
            places.append((name, place))
        now = self.clock() if now_s is None else now_s
        step = round(step_s)
        # Grid times t with now - days <= t < now.
        last = math.ceil(now / step) * step - step
        first = math.ceil((now - days * DAY_S) / step) * step
        times = np.arange(first, last + step, step, dtype="int64").astype("float64")
        return DemoPast(places, times)
