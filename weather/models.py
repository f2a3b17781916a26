"""The normalised observation every provider returns, and the units we show it in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
