"""The normalised observation every provider returns, and the units we show it in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

Units = Literal["imperial", "metric"]
UNITS: tuple[Units, ...] = ("imperial", "metric")

#: The quantities a dashboard shows, in display order.
QUANTITIES: tuple[str, ...] = ("temperature", "humidity", "wind_speed")

#: Unit symbol of each quantity for each unit system.
UNIT_SYMBOLS: dict[str, dict[str, str]] = {
    "imperial": {"temperature": "°F", "humidity": "%", "wind_speed": "mph"},
    "metric": {"temperature": "°C", "humidity": "%", "wind_speed": "m/s"},
}

#: Human names of the quantities.
QUANTITY_NAMES: dict[str, str] = {
    "temperature": "Temperature",
    "humidity": "Humidity",
    "wind_speed": "Wind speed",
}


def quantity_label(quantity: str, units: Units) -> str:
    """Return e.g. ``"Temperature (°F)"`` for axis titles and column headers."""
    return f"{QUANTITY_NAMES[quantity]} ({UNIT_SYMBOLS[units][quantity]})"


@dataclass(frozen=True)
class Observation:
    """Current weather at one city, always in metric units (converted only for display).

    ``time`` is the provider's observation time, timezone-aware UTC; ``raw`` is the
    provider's answer for this city, for callers who need more fields.
    """

    city: str
    lat: float
    lon: float
    time: datetime
    temperature_c: float
    humidity_pct: float
    wind_speed_ms: float
    provider: str
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class ForecastPoint:
    """Forecast values at one time, metric like ``Observation``; a missing value is NaN.

    ``time`` is timezone-aware UTC: the hour (Open-Meteo), the 3-hour step (OpenWeather) or
    the simulated moment (demo) the values are for.
    """

    time: datetime
    temperature_c: float
    humidity_pct: float
    wind_speed_ms: float


@dataclass(frozen=True)
class Forecast:
    """The forecast of one city: its points in time order, and the provider's ``raw`` answer.

    Neither provider says when a forecast was issued, so a forecast carries no such time: the
    caller knows when it fetched it.
    """

    city: str
    lat: float
    lon: float
    points: tuple[ForecastPoint, ...]
    provider: str
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def between(self, start: datetime, end: datetime) -> Forecast:
        """This forecast with only the points from ``start`` to ``end`` (both included)."""
        return replace(self, points=tuple(p for p in self.points if start <= p.time <= end))
