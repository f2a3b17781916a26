"""Open-Meteo's ``hourly`` block (parallel arrays, forecast or recent past) read into points."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from weather import errors
from weather.models import ForecastPoint
from weather.providers._parse import local_time, utc_offset_s

SERVICE = "Open-Meteo"
#: The ``hourly=`` variables asked for, and the ``ForecastPoint`` field each one fills.
HOURLY_FIELDS: dict[str, str] = {
    "temperature_2m": "temperature_c",
    "relative_humidity_2m": "humidity_pct",
    "wind_speed_10m": "wind_speed_ms",
}
HOURLY = ",".join(HOURLY_FIELDS)


def parse_hourly(payload: Any, city: str) -> list[ForecastPoint]:
    """The ``hourly`` arrays of one location (°C, %, m/s asked for) as points in time order.

    Times are unix seconds or ISO 8601 local to ``utc_offset_seconds``; a ``null`` value
    (a missing hour) becomes NaN. Arrays of unequal length, a missing variable or a value
    that is not a number raise ``ParseError`` for ``city``.
    """
    if not isinstance(payload, Mapping) or not isinstance(payload.get("hourly"), Mapping):
        raise errors.ParseError(f"{SERVICE}'s answer for {city!r} has no hourly values",
                                city=city)
    hourly = payload["hourly"]
    times = hourly.get("time")
    if not isinstance(times, list):
        raise errors.ParseError(f"{SERVICE}'s answer for {city!r} lacks hourly.time", city=city)
    offset_s = utc_offset_s(payload)
    columns: dict[str, list[float]] = {}
    for variable, field in HOURLY_FIELDS.items():
        values = hourly.get(variable)
        if not isinstance(values, list) or len(values) != len(times):
            raise errors.ParseError(f"{SERVICE}'s answer for {city!r} lacks hourly.{variable} "
                                    f"for each of its {len(times)} hours", city=city)
        columns[field] = [_value(v, variable, city) for v in values]
    return [
        ForecastPoint(
            time=local_time(t, offset_s, where="hourly.time", city=city, service=SERVICE),
            **{field: values[i] for field, values in columns.items()},
        )
        for i, t in enumerate(times)
    ]


def _value(value: Any, variable: str, city: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise errors.ParseError(f"{SERVICE}'s answer for {city!r} has a "
                                f"{type(value).__name__} in hourly.{variable} where a number "
                                f"should be", city=city)
    return float(value)
