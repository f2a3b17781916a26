"""Answers of the fake provider server, shaped like OpenWeather's and Open-Meteo's.

Values come from the demo provider's simulation, so the same city at the same observation
time has the same weather through every endpoint (and through ``DemoProvider``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np

from weather.cities import City
from weather.providers.demo import simulate, simulate_many

# Conversions written out here rather than imported from weather.units, so tests comparing
# the client's conversion with the server's answer compare two independent computations.
MS_PER_MPH = 0.44704  # exact: 1609.344 m / 3600 s
MS_PER_KNOT = 1852 / 3600


def c_to_f(celsius: float) -> float:
    return celsius * 1.8 + 32


def ms_to_mph(speed_ms: float) -> float:
    return speed_ms / MS_PER_MPH


#: Open-Meteo's wind speed unit parameter -> (factor from m/s, unit label in current_units).
WIND_UNITS = {"kmh": (3.6, "km/h"), "ms": (1.0, "m/s"), "mph": (1 / MS_PER_MPH, "mp/h"),
              "kn": (1 / MS_PER_KNOT, "kn")}
TEMPERATURE_UNITS = {"celsius": "°C", "fahrenheit": "°F"}
#: Open-Meteo current variables we can answer, with their unit labels (None: see above).
OPEN_METEO_VARIABLES = {
    "temperature_2m": None, "relative_humidity_2m": "%", "apparent_temperature": None,
    "is_day": "", "precipitation": "mm", "weather_code": "wmo code", "cloud_cover": "%",
    "pressure_msl": "hPa", "wind_speed_10m": None, "wind_direction_10m": "°",
    "wind_gusts_10m": None,
}

#: Open-Meteo's bounds on ``past_days`` and ``forecast_days``.
PAST_DAYS_MAX = 92
FORECAST_DAYS_MAX = 16

OPENWEATHER_ERRORS: dict[int, dict[str, Any]] = {
    400: {"cod": "400", "message": "Nothing to geocode"},
    401: {"cod": 401, "message": "Invalid API key. Please see "
          "https://openweathermap.org/faq#error401 for more info."},
    404: {"cod": "404", "message": "city not found"},
    429: {"cod": 429, "message": "Your account is temporary blocked due to exceeding of "
          "requests limitation of your subscription type. Please choose the proper "
          "subscription https://openweathermap.org/price"},
    500: {"cod": "500", "message": "Internal error"},
    502: {"cod": "502", "message": "Bad gateway"},
    503: {"cod": "503", "message": "Service unavailable"},
}
OPEN_METEO_ERRORS: dict[int, dict[str, Any]] = {
    400: {"error": True, "reason": "Cannot initialize WeatherVariable from invalid String "
          "value temperature_3m for key current"},
    401: {"error": True, "reason": "Invalid API key"},
    404: {"error": True, "reason": "Not Found"},
    429: {"error": True, "reason": "Minutely API request limit exceeded. Please try again "
          "in one minute."},
    500: {"error": True, "reason": "Internal Server Error"},
    502: {"error": True, "reason": "Bad Gateway"},
    503: {"error": True, "reason": "Service Unavailable"},
}


def _unit(name: str, salt: str) -> float:
    """A stable number in [0, 1) for ``name`` (not Python's per-process ``hash``)."""
    digest = hashlib.sha256(f"{salt}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


@lru_cache(maxsize=4_096)
def conditions(place: City, obs_t: int) -> dict[str, float]:
    """Metric weather at ``place`` at unix time ``obs_t``, with the extra fields we serve.

    Cached (callers read it, never change it): a forecast answer asks for many steps, and
    asks for the same ones again at the next poll.
    """
    temperature_c, humidity, wind_ms = simulate(place, obs_t)
    wobble = _unit(place.name, f"t{obs_t}")
    clouds = round(100 * _unit(place.name, f"c{obs_t // 600}"))
    noon_utc_h = 12 - place.lon / 15
    hour_utc = (obs_t % 86_400) / 3600
    return {
        "temperature_c": temperature_c, "humidity": humidity, "wind_ms": wind_ms,
        "feels_c": round(temperature_c - 0.3 * wind_ms, 2),
        "gust_ms": round(wind_ms * (1.3 + 0.4 * wobble), 2),
        "wind_deg": round(360 * _unit(place.name, f"d{obs_t // 300}")) % 360,
        "pressure": 1000 + round(30 * _unit(place.name, f"p{obs_t // 3600}")),
        "clouds": clouds,
        "is_day": int(abs((hour_utc - noon_utc_h + 12) % 24 - 12) < 6),
        "elevation": round(300 * _unit(place.name, "elevation")),
        "id": 1_000_000 + int(9_000_000 * _unit(place.name, "id")),
    }


def _sky(clouds: float, is_day: int) -> tuple[dict[str, Any], int]:
    """OpenWeather's ``weather`` entry and the WMO code for a cloud cover."""
    suffix = "d" if is_day else "n"
    if clouds < 20:
        return {"id": 800, "main": "Clear", "description": "clear sky", "icon": f"01{suffix}"}, 0
    if clouds < 60:
        return ({"id": 802, "main": "Clouds", "description": "scattered clouds",
                 "icon": f"03{suffix}"}, 2)
    return ({"id": 804, "main": "Clouds", "description": "overcast clouds",
             "icon": f"04{suffix}"}, 3)


def openweather_body(place: City, obs_t: int, units: str = "standard") -> dict[str, Any]:
    """A 200 answer of ``/data/2.5/weather`` in ``standard`` (K), ``metric`` or ``imperial``."""
    c = conditions(place, obs_t)

    def temp(celsius: float) -> float:
        if units == "metric":
            return round(celsius, 2)
        return round(c_to_f(celsius) if units == "imperial" else celsius + 273.15, 2)

    def speed(ms: float) -> float:
        return round(ms_to_mph(ms) if units == "imperial" else ms, 2)

    noon = obs_t - obs_t % 86_400 + round((12 - place.lon / 15) * 3600)
    return {
        "coord": {"lon": round(place.lon, 4), "lat": round(place.lat, 4)},
        "weather": [_sky(c["clouds"], c["is_day"])[0]],
        "base": "stations",
        "main": {"temp": temp(c["temperature_c"]), "feels_like": temp(c["feels_c"]),
                 "temp_min": temp(c["temperature_c"] - 1.1),
                 "temp_max": temp(c["temperature_c"] + 0.9), "pressure": c["pressure"],
                 "humidity": round(c["humidity"]), "sea_level": c["pressure"],
                 "grnd_level": c["pressure"] - round(c["elevation"] / 8.3)},
        "visibility": 10000,
        "wind": {"speed": speed(c["wind_ms"]), "deg": c["wind_deg"],
                 "gust": speed(c["gust_ms"])},
        "clouds": {"all": c["clouds"]},
        "dt": obs_t,
        "sys": {"type": 2, "id": 2000000 + c["id"] % 100000, "country": place.country,
                "sunrise": noon - 6 * 3600, "sunset": noon + 6 * 3600},
        "timezone": round(place.lon / 15) * 3600,
        "id": c["id"],
        "name": place.name,
        "cod": 200,
    }


def _snap(value: float, bound: float) -> float:
    """Open-Meteo answers for the nearest grid cell, slightly off the requested point."""
    snapped = round(value / 0.025) * 0.025 + 0.0125
    return round(max(-bound, min(bound, snapped)), 6)


@lru_cache(maxsize=4_096)
def _open_meteo_values(place: City, t: int, temperature_unit: str,
                       wind_speed_unit: str) -> dict[str, Any]:
    """Every Open-Meteo variable we serve at ``place`` at time ``t``, in the units asked.

    Cached (callers copy, never change it): like the real service, whose forecasts are
    computed once per model run, answering many hours for many places should cost little.
    """
    c = conditions(place, t)
    wind_factor = WIND_UNITS[wind_speed_unit][0]

    def temp(celsius: float) -> float:
        return round(c_to_f(celsius) if temperature_unit == "fahrenheit" else celsius, 1)

    return {
        "temperature_2m": temp(c["temperature_c"]), "apparent_temperature": temp(c["feels_c"]),
        "relative_humidity_2m": round(c["humidity"]), "is_day": c["is_day"],
        "precipitation": 0.0, "weather_code": _sky(c["clouds"], c["is_day"])[1],
        "cloud_cover": c["clouds"], "pressure_msl": float(c["pressure"]),
        "wind_speed_10m": round(c["wind_ms"] * wind_factor, 1),
        "wind_direction_10m": c["wind_deg"],
        "wind_gusts_10m": round(c["gust_ms"] * wind_factor, 1),
    }


def _open_meteo_label(name: str, temperature_unit: str, wind_speed_unit: str) -> str:
    label = OPEN_METEO_VARIABLES[name]
    if label is None:
        label = WIND_UNITS[wind_speed_unit][1] if "wind" in name else \
            TEMPERATURE_UNITS[temperature_unit]
    return label


def _open_meteo_time(t: int, timeformat: str) -> int | str:
    if timeformat == "unixtime":
        return t
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M")


def open_meteo_location(place: City, obs_t: int, variables: list[str], *,
                        temperature_unit: str = "celsius", wind_speed_unit: str = "kmh",
                        timeformat: str = "iso8601") -> dict[str, Any]:
    """One location of a ``/v1/forecast`` answer with the ``current`` ``variables``."""
    c = conditions(place, obs_t)
    values = _open_meteo_values(place, obs_t, temperature_unit, wind_speed_unit)
    body: dict[str, Any] = {
        "latitude": _snap(place.lat, 90), "longitude": _snap(place.lon, 180),
        "generationtime_ms": round(0.02 + 0.05 * _unit(place.name, f"g{obs_t}"), 6),
        "utc_offset_seconds": 0, "timezone": "GMT", "timezone_abbreviation": "GMT",
        "elevation": float(c["elevation"]),
    }
    if variables:
        units = {"time": "unixtime" if timeformat == "unixtime" else "iso8601",
                 "interval": "seconds"}
        current: dict[str, Any] = {"time": _open_meteo_time(obs_t, timeformat), "interval": 900}
        for name in variables:
            units[name] = _open_meteo_label(name, temperature_unit, wind_speed_unit)
            current[name] = values[name]
        body["current_units"] = units
        body["current"] = current
    return body


#: Days of hourly forecast Open-Meteo gives when ``forecast_days`` is not asked.
OPEN_METEO_FORECAST_DAYS = 7


def open_meteo_hourly(place: City, first_t: int, hours: int, variables: list[str], *,
                      nulls: Collection[tuple[int, str]] = (), temperature_unit: str = "celsius",
                      wind_speed_unit: str = "kmh", timeformat: str = "iso8601") -> dict[str, Any]:
    """``hourly_units`` and ``hourly`` (parallel arrays) for ``hours`` hours from ``first_t``.

    ``nulls`` holds the (unix time, variable) pairs answered with ``null``, as upstream does
    for hours its models lack.
    """
    times = [first_t + 3600 * i for i in range(hours)]
    basic = _basic_hourly(place, times, variables, temperature_unit, wind_speed_unit)
    rows = [] if set(variables) <= set(basic) else [
        _open_meteo_values(place, t, temperature_unit, wind_speed_unit) for t in times]
    units = {"time": "unixtime" if timeformat == "unixtime" else "iso8601"}
    hourly: dict[str, list[Any]] = {"time": [_open_meteo_time(t, timeformat) for t in times]}
    for name in variables:
        units[name] = _open_meteo_label(name, temperature_unit, wind_speed_unit)
        values = basic[name] if name in basic else [row[name] for row in rows]
        hourly[name] = [None if (t, name) in nulls else v
                        for t, v in zip(times, values, strict=True)]
    return {"hourly_units": units, "hourly": hourly}


def _basic_hourly(place: City, times: list[int], variables: list[str], temperature_unit: str,
                  wind_speed_unit: str) -> dict[str, list[Any]]:
    """Temperature, humidity and wind of many hours at once, as ``_open_meteo_values`` gives
    them one by one (92 days of 30 cities took seconds that way)."""
    wanted = {"temperature_2m", "relative_humidity_2m", "wind_speed_10m"} & set(variables)
    if not wanted or not times:
        return {}
    temperature, humidity, wind = (a.tolist() for a in simulate_many(place, np.array(times)))
    factor = WIND_UNITS[wind_speed_unit][0]
    fahrenheit = temperature_unit == "fahrenheit"
    return {
        "temperature_2m": [round(c_to_f(c) if fahrenheit else c, 1) for c in temperature],
        "relative_humidity_2m": [round(h) for h in humidity],
        "wind_speed_10m": [round(w * factor, 1) for w in wind],
    }


#: Steps of OpenWeather's free forecast (5 days of 3 hours), also the most ``cnt`` gives.
OPENWEATHER_FORECAST_STEPS = 40
STEP_S = 3 * 3600


def openweather_forecast_body(place: City, now_t: int, units: str = "standard",
                              steps: int = OPENWEATHER_FORECAST_STEPS) -> dict[str, Any]:
    """A 200 answer of ``/data/2.5/forecast``: ``steps`` 3-hour steps after ``now_t``."""
    first = now_t - now_t % STEP_S + STEP_S
    items = []
    for t in range(first, first + steps * STEP_S, STEP_S):
        current = openweather_body(place, t, units)
        main = dict(current["main"], temp_kf=0)
        item: dict[str, Any] = {
            "dt": t, "main": main, "weather": current["weather"],
            "clouds": current["clouds"], "wind": current["wind"], "visibility": 10000,
            "pop": round(current["clouds"]["all"] / 100 * _unit(place.name, f"pop{t}"), 2),
            "sys": {"pod": "d" if conditions(place, t)["is_day"] else "n"},
            "dt_txt": datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }
        if current["clouds"]["all"] > 85:
            item["rain"] = {"3h": round(3 * _unit(place.name, f"rain{t}"), 2)}
        items.append(item)
    now = openweather_body(place, now_t, units)
    return {
        "cod": "200", "message": 0, "cnt": len(items), "list": items,
        "city": {"id": now["id"], "name": place.name,
                 "coord": {"lat": round(place.lat, 4), "lon": round(place.lon, 4)},
                 "country": place.country, "population": 50_000 + int(
                     5_000_000 * _unit(place.name, "population")),
                 "timezone": now["timezone"], "sunrise": now["sys"]["sunrise"],
                 "sunset": now["sys"]["sunset"]},
    }


def geocoding_result(place: City) -> dict[str, Any]:
    """One entry of the geocoder's ``results``; empty fields are left out, as upstream."""
    result: dict[str, Any] = {
        "id": conditions(place, 0)["id"], "name": place.name,
        "latitude": round(place.lat, 5), "longitude": round(place.lon, 5),
        "elevation": float(conditions(place, 0)["elevation"]), "feature_code": "PPLA",
        "population": 50_000 + int(5_000_000 * _unit(place.name, "population")),
    }
    if place.country:
        result["country_code"] = place.country
    return result


def break_field(body: dict[str, Any], endpoint: str, kind: str) -> None:
    """Spoil a 200 body in place: drop (``missing_field``) or mistype (``wrong_type``) a value."""
    if endpoint == "openweather":
        target, key = body.get("main", {}), "temp"
    elif endpoint == "openweather_forecast":
        target, key = (body.get("list") or [{}])[0].get("main", {}), "temp"
    elif endpoint == "forecast" and "current" not in body and "hourly" in body:
        # An hourly answer: the first hour's temperature.
        values = body["hourly"].get("temperature_2m")
        if kind == "missing_field" or not values:
            body["hourly"].pop("temperature_2m", None)
        else:
            values[0] = "hot"
        return
    elif endpoint == "forecast":
        target, key = body.get("current", body), "temperature_2m"
    else:
        results = body.get("results") or [{}]
        target, key = results[0], "latitude"
    if kind == "missing_field":
        target.pop(key, None)
    else:
        target[key] = "hot" if key != "latitude" else "north"

