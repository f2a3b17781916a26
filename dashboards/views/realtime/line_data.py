"""Whole lines for the Real Time plots: a window's overview and the forecast, one per city.

Each is drawn as one Bokeh ``MultiLine`` per plot, a line per city, so a window of weeks
reaches the browser as a few binary arrays per city. Made once per overview (or forecast)
and unit system for every city and shared read-only; a viewer selects its cities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dashboards.server.overview import Overview
from dashboards.server.status import clock, zone_name
from weather.models import QUANTITIES
from weather.units import convert_frame

#: Columns of an overview source (one per plot), and of the forecast's (one for three).
OVERVIEW_COLUMNS = ("xs", "ys", "city", "color")
FORECAST_COLUMNS = ("xs", *QUANTITIES, "city", "color", "label")
_EPOCH = pd.Timestamp(0, tz="UTC")

#: ``lines[quantity]`` is a source's columns, one entry per city.
Lines = dict[str, dict[str, list]]


def empty(columns: Sequence[str] = OVERVIEW_COLUMNS) -> Lines:
    return {q: {c: [] for c in columns} for q in QUANTITIES}


def overview_lines(overview: Overview, cities: Sequence[str], units: str,
                   colors: Mapping[str, str]) -> Lines:
    """The overview's lines of ``cities`` (those with readings) in ``units``."""
    lines = empty()
    for quantity in QUANTITIES:
        by_city = overview.lines.get(quantity, {})
        for city in cities:
            if city not in by_city:
                continue
            times, values = by_city[city]
            _append(lines[quantity], city, colors[city], times,
                    _converted(values, quantity, units))
    return lines


def forecast_lines(forecast: pd.DataFrame, cities: Sequence[str], units: str,
                   colors: Mapping[str, str], now_ms: float, hours: float,
                   zone: str | None = None) -> dict[str, list]:
    """Each city's forecast from ``now_ms`` to ``hours`` later, in ``units``: one source for
    the three plots, its times (``xs``) sent once and a column of values per quantity.

    Hover names it "forecast, fetched HH:MM" on the clock of ``zone`` (None: UTC): providers
    do not say when they issued it.
    """
    lines: dict[str, list] = {c: [] for c in FORECAST_COLUMNS}
    if forecast is None or not len(forecast):
        return lines
    frame = forecast.loc[forecast["city"].isin(list(cities))]
    frame = convert_frame(frame, units)
    times = _ms(frame["time"])
    keep = (times >= now_ms) & (times <= now_ms + hours * 3600_000)
    frame, times = frame.loc[keep], times[keep]
    fetched = _ms(frame["fetched_at"])
    for city in cities:
        at = (frame["city"] == city).to_numpy()
        if not at.any():
            continue
        order = np.argsort(times[at], kind="stable")
        fetched_s = np.nanmax(fetched[at]) / 1000
        lines["city"].append(city)
        lines["color"].append(colors[city])
        lines["label"].append(f"forecast, fetched {clock(fetched_s, zone)[:5]} "
                              f"{zone_name(zone, fetched_s)}")
        lines["xs"].append(_frozen(times[at][order]))
        for quantity in QUANTITIES:
            lines[quantity].append(_frozen(frame[quantity].to_numpy(dtype="float64")[at][order]))
    return lines


def select(lines: Lines, cities: Sequence[str]) -> Lines:
    """The part of ``lines`` for ``cities``, in their order."""
    out: Lines = {}
    for quantity, columns in lines.items():
        out[quantity] = select_columns(columns, cities)
    return out


def select_columns(columns: dict[str, list], cities: Sequence[str]) -> dict[str, list]:
    """The entries of one source's ``columns`` for ``cities``, in their order."""
    where = {c: i for i, c in enumerate(columns["city"])}
    picked = [where[c] for c in cities if c in where]
    return {k: [v[i] for i in picked] for k, v in columns.items()}


def joined(forecast: dict[str, list], dots: Mapping[str, np.ndarray]) -> dict[str, list]:
    """``forecast`` with each city's lines starting at its newest reading (``dots``), so the
    dashed lines continue the solid ones."""
    newest = {c: i for i, c in enumerate(dots["city"])}
    out = {k: list(v) for k, v in forecast.items()}
    for n, city in enumerate(forecast["city"]):
        i = newest.get(city)
        t = dots["time"][i] if i is not None else np.nan
        x = forecast["xs"][n]
        if t == t and (not len(x) or t < x[0]):
            out["xs"][n] = np.r_[t, x]
            for quantity in QUANTITIES:
                out[quantity][n] = np.r_[dots[quantity][i], forecast[quantity][n]]
    return out


def point_count(lines: Lines, quantity: str = QUANTITIES[0]) -> int:
    return sum(len(x) for x in lines[quantity]["xs"])


def _append(columns: dict[str, list], city: str, color: str, times: np.ndarray,
            values: np.ndarray, **extra: str) -> None:
    good = ~np.isnan(values)
    columns["xs"].append(_frozen(np.asarray(times, dtype="float64")[good]))
    columns["ys"].append(_frozen(np.asarray(values, dtype="float64")[good]))
    columns["city"].append(city)
    columns["color"].append(color)
    for key, value in extra.items():
        columns[key].append(value)


def _converted(values: np.ndarray, quantity: str, units: str) -> np.ndarray:
    frame = convert_frame(pd.DataFrame({quantity: values}), units)
    return frame[quantity].to_numpy(dtype="float64")


def _ms(times: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(times, utc=True)
    return ((stamps - _EPOCH) / pd.Timedelta(milliseconds=1)).to_numpy(dtype="float64")


def _frozen(values: np.ndarray) -> np.ndarray:
    values.flags.writeable = False
    return values
