"""Open-Meteo's recent past (``past_days``): the query, and a pure parser of its hourly arrays."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from weather import errors
from weather.cities import City
from weather.models import Observation

SERVICE = "Open-Meteo"
#: The hourly variables a backfill asks for, in the order of ``Observation``'s quantities.
HOURLY_PAST = ("temperature_2m", "relative_humidity_2m", "wind_speed_10m")


def past_query(places: Sequence[City], days: int) -> dict[str, str]:
    """The ``/v1/forecast`` query for ``days`` of hourly past at ``places``, in one request.

    ``forecast_days=0``: a forecast is not an observation.
    """
    return {
        "latitude": ",".join(f"{p.lat:.4f}" for p in places),
        "longitude": ",".join(f"{p.lon:.4f}" for p in places),
        "hourly": ",".join(HOURLY_PAST),
        "past_days": str(days),
        "forecast_days": "0",
        "wind_speed_unit": "ms",
        "timeformat": "unixtime",
    }


def _hour_time(value: Any, offset_s: float, city: str) -> datetime:
    """One ``hourly.time`` entry: unix seconds, or ISO 8601 local to the answer's zone."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return datetime.fromtimestamp(int(value), tz=UTC)
    if isinstance(value, str):
        try:
            local = datetime.fromisoformat(value)
        except ValueError:
            local = None
        if local is not None:
            if local.tzinfo is not None:
                return local.astimezone(UTC)
            return (local - timedelta(seconds=offset_s)).replace(tzinfo=UTC)
    raise errors.ParseError(f"{SERVICE}'s hourly.time for {city!r} holds {value!r}, not a time",
                            city=city)


def _value(value: Any) -> float | None:
    """A finite number, or None for a missing hour (``null``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def parse_past_hourly(place: City, payload: Any, now: datetime) -> list[Observation]:
    """The observed hours of one location's ``hourly`` arrays (°C, %, m/s), oldest first.

    Hours at or after ``now`` are dropped (they are forecasts), and so are hours with a
    ``null`` in any of ``HOURLY_PAST``. A missing ``hourly`` object, a missing array, arrays
    of different lengths or a value that is neither a number nor ``null`` raise ``ParseError``.
    """
    city = place.name
    hourly = payload.get("hourly") if isinstance(payload, Mapping) else None
    if not isinstance(hourly, Mapping):
        raise errors.ParseError(f"{SERVICE}'s answer for {city!r} has no hourly data", city=city)
    columns = {}
    for name in ("time", *HOURLY_PAST):
        column = hourly.get(name)
        if not isinstance(column, list):
            raise errors.ParseError(f"{SERVICE}'s answer for {city!r} lacks hourly.{name}",
                                    city=city)
        columns[name] = column
    lengths = {len(c) for c in columns.values()}
    if len(lengths) != 1:
        raise errors.ParseError(f"{SERVICE}'s hourly arrays for {city!r} differ in length",
                                city=city)
    offset = payload.get("utc_offset_seconds", 0)
    offset_s = offset if isinstance(offset, int | float) and not isinstance(offset, bool) else 0
    observations = []
    for i, stamp in enumerate(columns["time"]):
        when = _hour_time(stamp, offset_s, city)
        if when >= now:
            continue
        raw_values = [columns[name][i] for name in HOURLY_PAST]
        values = [_value(v) for v in raw_values]
        for name, raw, value in zip(HOURLY_PAST, raw_values, values, strict=True):
            if value is None and raw is not None:
                raise errors.ParseError(f"{SERVICE}'s hourly.{name} for {city!r} holds "
                                        f"{raw!r}, not a number", city=city)
        if None in values:
            continue
        temperature_c, humidity_pct, wind_speed_ms = values
        observations.append(Observation(
            city=city, lat=place.lat, lon=place.lon, time=when, temperature_c=temperature_c,
            humidity_pct=humidity_pct, wind_speed_ms=wind_speed_ms, provider="open-meteo",
            raw={"time": stamp, **dict(zip(HOURLY_PAST, raw_values, strict=True))},
        ))
    observations.sort(key=lambda o: o.time)
    return observations
