"""Conversion of metric observations (°C, m/s) to the units a viewer asked for."""

from __future__ import annotations

import pandas as pd

from weather.errors import ConfigError
from weather.models import UNITS, Units

#: Miles per hour in one metre per second (a mile is exactly 1609.344 m).
MPH_PER_MS = 3600 / 1609.344


def c_to_f(celsius: float) -> float:
    """Degrees Celsius to degrees Fahrenheit."""
    return celsius * 9 / 5 + 32


def f_to_c(fahrenheit: float) -> float:
    """Degrees Fahrenheit to degrees Celsius."""
    return (fahrenheit - 32) * 5 / 9


def ms_to_mph(speed_ms: float) -> float:
    """Metres per second to miles per hour."""
    return speed_ms * MPH_PER_MS


def mph_to_ms(speed_mph: float) -> float:
    """Miles per hour to metres per second."""
    return speed_mph / MPH_PER_MS


def check_units(units: str, setting: str = "units") -> Units:
    """Return ``units`` normalised, or raise ``ConfigError`` listing the accepted values."""
    value = str(units).strip().lower()
    if value not in UNITS:
        raise ConfigError(setting, f"unknown units {units!r}; choose one of: {', '.join(UNITS)}")
    return value  # type: ignore[return-value]


def convert_value(quantity: str, metric_value: float, units: Units) -> float:
    """Convert one metric value of ``quantity`` (a name in ``QUANTITIES``) to ``units``."""
    if units == "imperial":
        if quantity == "temperature":
            return c_to_f(metric_value)
        if quantity == "wind_speed":
            return ms_to_mph(metric_value)
    return metric_value


def convert_frame(frame: pd.DataFrame, units: Units) -> pd.DataFrame:
    """Return a copy of a metric frame with ``temperature`` and ``wind_speed`` in ``units``.

    Humidity is a percentage in both systems; other columns are left alone.
    """
    units = check_units(units)
    out = frame.copy()
    if units == "imperial":
        if "temperature" in out:
            out["temperature"] = c_to_f(out["temperature"].astype("float64"))
        if "wind_speed" in out:
            out["wind_speed"] = ms_to_mph(out["wind_speed"].astype("float64"))
    return out
