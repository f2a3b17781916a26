"""Open-Meteo's forecast API: current conditions of every city in one request, no key."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from weather import errors
from weather.cities import City
from weather.config import (
    DEFAULT_GEOCODING_BASE_URL,
    DEFAULT_OPEN_METEO_BASE_URL,
    ClientConfig,
)
from weather.http import HttpClient
from weather.models import Forecast, Observation
from weather.providers._parse import local_time, number, utc_offset_s
from weather.providers.base import (
    DEFAULT_FORECAST_HOURS,
    CityResult,
    ForecastResult,
    Provider,
    check_hours,
    check_past_days,
    forecast_window,
)
from weather.providers.open_meteo_geocoder import Geocoder
from weather.providers.open_meteo_hourly import HOURLY, parse_hourly
from weather.providers.open_meteo_past import parse_past_hourly, past_query

SERVICE = "Open-Meteo"
CURRENT = "temperature_2m,relative_humidity_2m,wind_speed_10m"


def parse_time(value: Any, utc_offset_s: float, city: str) -> datetime:
    """``current.time``: unix seconds, or ISO 8601 local to the answer's time zone."""
    return local_time(value, utc_offset_s, where="current.time", city=city, service=SERVICE)


def parse_location(place: City, payload: Any) -> Observation:
    """Turn one location of a ``/v1/forecast`` answer (°C, m/s) into an ``Observation``."""
    city = place.name
    if not isinstance(payload, Mapping) or not isinstance(payload.get("current"), Mapping):
        raise errors.ParseError(f"{SERVICE}'s answer for {city!r} has no current conditions",
                                city=city)
    offset_s = utc_offset_s(payload)
    current = payload["current"]
    if "time" not in current:
        raise errors.ParseError(f"{SERVICE}'s answer for {city!r} lacks current.time", city=city)

    def get(field: str) -> float:
        return number(current, field, city=city, service=SERVICE)

    return Observation(
        city=city,
        lat=place.lat,
        lon=place.lon,
        time=parse_time(current["time"], offset_s, city),
        temperature_c=get("temperature_2m"),
        humidity_pct=get("relative_humidity_2m"),
        wind_speed_ms=get("wind_speed_10m"),
        provider="open-meteo",
        raw=dict(payload),
    )


def parse_location_forecast(place: City, payload: Any) -> Forecast:
    """Turn one location of an ``hourly=`` answer (°C, %, m/s) into a ``Forecast``."""
    return Forecast(city=place.name, lat=place.lat, lon=place.lon,
                    points=tuple(parse_hourly(payload, place.name)), provider="open-meteo",
                    raw=dict(payload))


def forecast_days(hours: int) -> int:
    """``forecast_days`` that covers ``hours`` from any moment of today (hours start at 00:00)."""
    return min(16, math.ceil((hours + 24) / 24))


def _for_city(error: errors.WeatherError, city: str) -> errors.WeatherError:
    """A copy of a batch-wide error, labelled with one city."""
    # Not copy.copy: it re-calls __init__ with the message only, which some errors refuse.
    own = type(error).__new__(type(error), *error.args)
    own.__dict__.update(vars(error), city=city)
    own.args = error.args
    return own


class OpenMeteoProvider(Provider):
    """Geocodes unknown names (in parallel, cached), then fetches all cities at once.

    ``clock`` (unix seconds, default ``time.time``) decides which forecast hours are kept.
    """

    name = "open-meteo"

    def __init__(self, *, base_url: str = DEFAULT_OPEN_METEO_BASE_URL,
                 geocoding_base_url: str = DEFAULT_GEOCODING_BASE_URL,
                 http: HttpClient | None = None, max_workers: int = 8,
                 clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http or HttpClient(pool_size=max(16, max_workers))
        self.geocoder = Geocoder(self.http, geocoding_base_url)
        self.max_workers = max_workers
        self.clock = clock

    @classmethod
    def from_config(cls, config: ClientConfig,
                    http: HttpClient | None = None) -> OpenMeteoProvider:
        return cls(base_url=config.open_meteo_base_url,
                   geocoding_base_url=config.geocoding_base_url, http=http)

    def __repr__(self) -> str:
        return f"OpenMeteoProvider(base_url={self.base_url!r})"

    def current(self, cities: Sequence[str]) -> list[CityResult]:
        return self._at_located(cities, self.current_at)

    def forecast(self, cities: Sequence[str],
                 hours: int = DEFAULT_FORECAST_HOURS) -> list[ForecastResult]:
        hours = check_hours(hours)
        return self._at_located(cities, lambda places: self.forecast_at(places, hours))

    def _at_located(self, cities: Sequence[str], fetch: Callable[[list[City]], list]) -> list:
        """Geocode ``cities``, ``fetch`` the places found; errors stand in for the rest."""
        names = [str(c).strip() for c in cities]
        if not names:
            return []
        with ThreadPoolExecutor(min(self.max_workers, len(names)),
                                thread_name_prefix="geocode") as pool:
            located = list(pool.map(self._locate, names))
        places = [p for p in located if isinstance(p, City)]
        fetched = iter(fetch(places))
        return [next(fetched) if isinstance(p, City) else p for p in located]

    def _locate(self, name: str) -> City | errors.WeatherError:
        try:
            return self.geocoder.locate(name)._replace(name=name)
        except (errors.AuthError, errors.RateLimitError):
            raise
        except errors.WeatherError as error:
            return error

    def current_at(self, places: Sequence[City]) -> list[CityResult]:
        """Current conditions at known coordinates, all in one request, in order."""
        return self._fetch(places, {"current": CURRENT}, parse_location)

    def forecast_at(self, places: Sequence[City],
                    hours: int = DEFAULT_FORECAST_HOURS) -> list[ForecastResult]:
        """Hourly forecasts at known coordinates, all in one request, in order.

        Each keeps the hours from the start of the current one to ``hours`` from now.
        """
        hours = check_hours(hours)
        start, end = forecast_window(self.clock(), hours)
        results = self._fetch(places, {"hourly": HOURLY, "forecast_days": forecast_days(hours)},
                              parse_location_forecast)
        return [r.between(start, end) if isinstance(r, Forecast) else r for r in results]

    def _fetch(self, places: Sequence[City], asked: Mapping[str, Any],
               parse: Callable[[City, Any], Any]) -> list:
        """One ``/v1/forecast`` request for all ``places``; each location parsed or an error."""
        if not places:
            return []
        params = {
            "latitude": ",".join(f"{p.lat:.4f}" for p in places),
            "longitude": ",".join(f"{p.lon:.4f}" for p in places),
            **asked,
            "wind_speed_unit": "ms",
            "timeformat": "unixtime",
        }
        label = places[0].name if len(places) == 1 else None
        try:
            body = self.http.get_json(f"{self.base_url}/v1/forecast", params,
                                      service=SERVICE, city=label)
        except (errors.AuthError, errors.RateLimitError):
            raise
        except errors.WeatherError as error:
            return [_for_city(error, p.name) for p in places]
        # One location answers with an object, several with an array in request order.
        items = [body] if len(places) == 1 and isinstance(body, Mapping) else body
        if not isinstance(items, list) or len(items) != len(places):
            return [errors.ParseError(f"{SERVICE} answered {len(places)} locations with "
                                      f"something else", city=p.name) for p in places]
        results = []
        for place, item in zip(places, items, strict=True):
            try:
                results.append(parse(place, item))
            except errors.WeatherError as error:
                results.append(error)
        return results

    # -- the recent past ---------------------------------------------------------------------
    def past(self, cities: Sequence[str], days: int, *, step_s: float = 3600.0,
             now_s: float | None = None) -> list[Observation]:
        """Hourly observations of the last ``days`` (1..92) of every city, in one request.

        Raises the first city's error (unknown name, bad answer) or the request's error:
        a backfill takes all of it or nothing. ``step_s`` is ignored: the past is hourly.
        """
        days = check_past_days(days)
        names = [str(c).strip() for c in cities]
        if not names:
            return []
        now = datetime.fromtimestamp(time.time() if now_s is None else now_s, tz=UTC)
        with ThreadPoolExecutor(min(self.max_workers, len(names)),
                                thread_name_prefix="geocode") as pool:
            located = list(pool.map(self._locate, names))
        for place in located:
            if not isinstance(place, City):
                raise place
        places: list[City] = located  # type: ignore[assignment]
        label = places[0].name if len(places) == 1 else None
        body = self.http.get_json(f"{self.base_url}/v1/forecast", past_query(places, days),
                                  service=SERVICE, city=label)
        items = [body] if len(places) == 1 and isinstance(body, Mapping) else body
        if not isinstance(items, list) or len(items) != len(places):
            raise errors.ParseError(f"{SERVICE} answered {len(places)} locations with "
                                    f"something else")
        return [obs for place, item in zip(places, items, strict=True)
                for obs in parse_past_hourly(place, item, now)]
