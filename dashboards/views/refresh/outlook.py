"""The Refresh table's forecast columns: each city's high and low of the next 24 hours."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import pandas as pd

from dashboards.server.forecast_store import empty_forecast
from weather.models import UNIT_SYMBOLS, Units
from weather.units import convert_frame

#: Hours ahead of now that the table's high and low cover.
OUTLOOK_HOURS = 24
#: The table's forecast columns, after the current values.
OUTLOOK_COLUMNS = ("high", "low")
#: The headers of the forecast columns, under ``outlook_header``.
OUTLOOK_TITLES = {"high": "High", "low": "Low"}
#: Quantity names in the forecast's header ("Next 24 h temp (°F)").
HEADER_NAMES = {"temperature": "temp", "humidity": "humidity", "wind_speed": "wind"}


def high_low(forecast: pd.DataFrame, cities: Sequence[str], column: str, units: Units,
             now_s: float | None = None, hours: int = OUTLOOK_HOURS) -> pd.DataFrame:
    """The highest and lowest forecast ``column`` of each city in ``units``, one row per city.

    Only points from ``now_s`` to ``hours`` later (both included) count; a city with none
    there (no forecast, a failed one, or one too old) gets NaN.
    """
    now = pd.Timestamp(time.time() if now_s is None else now_s, unit="s", tz="UTC")
    ok = forecast[(forecast["status"] == "ok") & forecast["time"].notna()]
    inside = ok[(ok["time"] >= now) & (ok["time"] <= now + pd.Timedelta(hours=hours))]
    values = convert_frame(inside[["city", column]], units)
    grouped = values.dropna(subset=[column]).groupby("city")[column]
    table = pd.DataFrame({"high": grouped.max(), "low": grouped.min()})
    table = table.reindex(list(cities)).astype("float64").round(1)
    return table.rename_axis("city").reset_index()


def with_outlook(table: pd.DataFrame, outlook: pd.DataFrame) -> pd.DataFrame:
    """``table`` (one row per city) with the ``outlook`` of its cities after the quantities."""
    by_city = outlook.drop_duplicates("city").set_index("city")
    out = table.copy()
    place = out.columns.get_loc("time")
    for offset, side in enumerate(OUTLOOK_COLUMNS):
        out.insert(place + offset, side, out["city"].map(by_city[side]).astype("float64"))
    return out


def outlook_header(column: str, units: Units) -> str:
    """The header over the high and low columns: ``"Next 24 h temp (°F)"``."""
    return f"Next {OUTLOOK_HOURS} h {HEADER_NAMES[column]} ({UNIT_SYMBOLS[units][column]})"


def merge_forecasts(older: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``older`` with each city that has a good forecast in ``new`` replaced by it; a city
    whose new forecast failed keeps its older one."""
    good = new[new["status"] == "ok"]
    kept = older[~older["city"].isin(good["city"]) & (older["status"] == "ok")]
    frames = [f for f in (kept, good) if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else empty_forecast()


def problem_lines(cities: Sequence[str], outlook: pd.DataFrame,
                  problems: Mapping[str, str]) -> list[str]:
    """One plain-text line per city whose forecast failed or gives no high and low.

    ``problems`` maps a city to why its last forecast failed; a city with a high and low
    and a problem shows an older forecast.
    """
    lines = []
    highs = dict(zip(outlook["city"], outlook["high"], strict=True))
    for city in cities:
        reason = problems.get(city)
        missing = pd.isna(highs.get(city))
        # Each line starts with our words: a city name could start like Markdown.
        if missing:
            why = reason or f"none for the next {OUTLOOK_HOURS} h yet"
            lines.append(f"No forecast for {city} ({why}).")
        elif reason:
            lines.append(f"Forecast for {city} not updated ({reason}); its high and low "
                         "are from an older one.")
    return lines
