"""Open-Meteo's recent past (``past_days``): the query, and its hourly arrays as observations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from weather.cities import City
from weather.models import Observation
from weather.providers.open_meteo_hourly import HOURLY, HOURLY_FIELDS, parse_hourly

#: The hourly variables a backfill asks for: those of the forecast, in the same order.
HOURLY_PAST = tuple(HOURLY_FIELDS)


def past_query(places: Sequence[City], days: int) -> dict[str, str]:
    """The ``/v1/forecast`` query for ``days`` of hourly past at ``places``, in one request.

    ``forecast_days=0``: a forecast is not an observation.
    """
    return {
        "latitude": ",".join(f"{p.lat:.4f}" for p in places),
        "longitude": ",".join(f"{p.lon:.4f}" for p in places),
        "hourly": HOURLY,
        "past_days": str(days),
        "forecast_days": "0",
        "wind_speed_unit": "ms",
        "timeformat": "unixtime",
    }


def parse_past_hourly(place: City, payload: Any, now: datetime) -> list[Observation]:
    """The observed hours of one location's ``hourly`` arrays (°C, %, m/s), oldest first.

    The arrays are read by ``parse_hourly`` (which raises ``ParseError`` for missing or
    broken ones); hours at or after ``now`` are dropped (they are forecasts), and so are hours
    with a ``null`` in any variable.
    """
    observations = []
    for point in parse_hourly(payload, place.name):
        values = (point.temperature_c, point.humidity_pct, point.wind_speed_ms)
        if point.time >= now or any(math.isnan(v) for v in values):
            continue
        observations.append(Observation(
            city=place.name, lat=place.lat, lon=place.lon, time=point.time,
            temperature_c=point.temperature_c, humidity_pct=point.humidity_pct,
            wind_speed_ms=point.wind_speed_ms, provider="open-meteo",
            raw={"time": int(point.time.timestamp()), **dict(zip(HOURLY_PAST, values,
                                                                 strict=True))},
        ))
    observations.sort(key=lambda o: o.time)
    return observations
