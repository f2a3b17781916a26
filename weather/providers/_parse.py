"""Small checks shared by the parsers: pull typed values out of provider JSON or fail clearly."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from weather.errors import ParseError


def number(payload: Any, *path: str, city: str, service: str) -> float:
    """The finite number at ``payload[path[0]][path[1]]...``; ``ParseError`` otherwise.

    ``bool`` is refused although Python counts it as an int: ``true`` is no temperature.
    """
    value = payload
    for i, key in enumerate(path):
        if not isinstance(value, Mapping) or key not in value:
            where = ".".join(path[: i + 1])
            raise ParseError(f"{service}'s answer for {city!r} lacks {where}", city=city)
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParseError(f"{service}'s answer for {city!r} has a {type(value).__name__} "
                         f"where {'.'.join(path)} should be a number", city=city)
    return float(value)


def local_time(value: Any, utc_offset_s: float, *, where: str, city: str,
               service: str) -> datetime:
    """A UTC time from unix seconds, or from ISO 8601 local to the answer's UTC offset."""
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
            return (local - timedelta(seconds=utc_offset_s)).replace(tzinfo=UTC)
    raise ParseError(f"{service}'s {where} for {city!r} is not a time", city=city)


def utc_offset_s(payload: Mapping[str, Any]) -> float:
    """An Open-Meteo answer's ``utc_offset_seconds``, 0 when absent or not a number."""
    offset = payload.get("utc_offset_seconds", 0)
    return offset if isinstance(offset, int | float) and not isinstance(offset, bool) else 0
