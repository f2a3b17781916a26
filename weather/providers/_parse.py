"""Small checks shared by the parsers: pull typed values out of provider JSON or fail clearly."""

from __future__ import annotations

import math
from collections.abc import Mapping
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
