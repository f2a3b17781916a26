"""Open-Meteo's geocoder: a city name to coordinates, for names outside the built-in table."""

from __future__ import annotations

import threading
from typing import Any

from weather import errors
from weather.cities import City, lookup, normalise_name
from weather.http import HttpClient

_cache: dict[tuple[str, str], City] = {}
_cache_lock = threading.Lock()


def clear_geocode_cache() -> None:
    """Forget every place the geocoder found in this process."""
    with _cache_lock:
        _cache.clear()


class Geocoder:
    """City name -> coordinates: the built-in table first, then the Open-Meteo geocoder.

    Places the geocoder found are cached per process (per base URL); misses and failures are
    not, so a city added upstream or a network hiccup does not stick.
    """

    def __init__(self, http: HttpClient, base_url: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    def locate(self, name: str) -> City:
        """Return the place called ``name``; raise ``NotFoundError`` or a transport error."""
        name = name.strip()
        if not name:
            raise errors.NotFoundError("no city name given", city=name)
        known = lookup(name)
        if known is not None:
            return known
        key = (self.base_url, normalise_name(name))
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None:
            return cached
        payload = self.http.get_json(
            f"{self.base_url}/v1/search",
            {"name": name, "count": 1, "language": "en", "format": "json"},
            service="the Open-Meteo geocoder", city=name)
        city = parse_search(name, payload)
        with _cache_lock:
            _cache[key] = city
        return city


def parse_search(name: str, payload: Any) -> City:
    """The first place of a geocoding answer; ``results`` is absent when nothing matched."""
    if not isinstance(payload, dict):
        raise errors.ParseError("the geocoder's answer is not a JSON object", city=name)
    results = payload.get("results")
    if not results:
        raise errors.NotFoundError(f"no place called {name!r} was found", city=name)
    first = results[0] if isinstance(results, list) else None
    if not isinstance(first, dict):
        raise errors.ParseError("the geocoder's results are not a list of objects", city=name)
    coords = []
    for field, bound in (("latitude", 90), ("longitude", 180)):
        value = first.get(field)
        if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > bound:
            # Out of range would make Open-Meteo refuse the whole batch: fail this city only.
            raise errors.ParseError(f"the geocoder's {field} for {name!r} is missing or "
                                    f"invalid", city=name)
        coords.append(float(value))
    country = first.get("country_code") if isinstance(first.get("country_code"), str) else ""
    return City(name, coords[0], coords[1], country)

