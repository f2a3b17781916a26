"""What the Refresh tab shows, computed from fetched results: map rows, table rows and messages."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from dashboards.server.status import zone_name
from dashboards.views.refresh.outlook import OUTLOOK_COLUMNS
from weather.api import FRAME_COLUMNS, results_frame
from weather.models import QUANTITIES, QUANTITY_NAMES, UNIT_SYMBOLS, Units, quantity_label
from weather.providers.base import CityResult
from weather.units import convert_frame

#: Columns of the frame drawn on the map; ``value`` is the chosen quantity in display units.
MAP_COLUMNS = ("city", "lat", "lon", "value", "value_text", "time_text")
#: Columns of the table, in order; their titles come from ``table_titles``.
TABLE_COLUMNS = ("city", *QUANTITIES, *OUTLOOK_COLUMNS, "time", "status")
TIME_FORMAT = "%Y-%m-%d %H:%M"
#: The table's shorter form, so every column fits beside the map; it still sorts as time.
TABLE_TIME_FORMAT = "%m-%d %H:%M"
#: Longest city name a viewer may type: longer is surely not a city.
MAX_NAME_LENGTH = 100


def count_text(count: int) -> str:
    """``"1 city"``, ``"7 cities"``."""
    return f"{count} {'city' if count == 1 else 'cities'}"


def column_choices(units: Units) -> dict[str, str]:
    """Selector choices: ``{"Temperature (°F)": "temperature", ...}`` in display order."""
    return {quantity_label(q, units): q for q in QUANTITIES}


def empty_results() -> pd.DataFrame:
    """A metric results frame with no rows."""
    return results_frame([], [], "metric")


def fetched_frame(cities: Sequence[str], results: Sequence[CityResult],
                  provider: str = "") -> pd.DataFrame:
    """The metric frame of one fetch: a row per city, failures included."""
    return results_frame(list(cities), list(results), "metric", provider=provider)


def _clock_text(times: pd.Series, form: str = TIME_FORMAT, zone: str | None = None) -> pd.Series:
    if zone:
        times = times.dt.tz_convert(zone)
    return times.dt.strftime(form).fillna("")


def map_frame(results: pd.DataFrame, column: str, units: Units,
              zone: str | None = None) -> pd.DataFrame:
    """Rows to draw: cities with a position and a value of ``column``, in ``units``, times
    on the clock of ``zone`` (an IANA name; None: UTC).

    Failed cities (any status but "ok") and rows without coordinates are left out.
    """
    shown = convert_frame(results, units)
    ok = shown[(shown["status"] == "ok")
               & shown[["lat", "lon", column]].notna().all(axis=1)]
    symbol = UNIT_SYMBOLS[units][column]
    values = ok[column].astype("float64")
    return pd.DataFrame({
        "city": ok["city"].astype(str),
        "lat": ok["lat"].astype("float64"),
        "lon": ok["lon"].astype("float64"),
        "value": values.round(2),
        "value_text": [f"{v:.1f} {symbol}" for v in values],
        "time_text": _clock_text(ok["time"], zone=zone) + " " + zone_name(zone),
    }, columns=list(MAP_COLUMNS)).reset_index(drop=True)


def age_text(age_s: float) -> str:
    """``"12 min old"``, ``"3 h old"`` or ``"2 days old"``."""
    minutes = max(int(age_s // 60), 0)
    if minutes < 120:
        return f"{minutes} min old"
    hours = minutes // 60
    return f"{hours} h old" if hours < 48 else f"{hours // 24} days old"


def table_frame(results: pd.DataFrame, units: Units, stale: Sequence[str] = (),
                now_s: float | None = None, zone: str | None = None) -> pd.DataFrame:
    """One row per city, failed ones included, values rounded for reading.

    Cities in ``stale`` (their last fetch failed, older values kept) read "stale, N min old"
    in the status column, their age counted from their observation time to ``now_s``.
    """
    shown = convert_frame(results, units)
    table = pd.DataFrame({"city": shown["city"].astype(str)})
    for quantity in QUANTITIES:
        table[quantity] = shown[quantity].astype("float64").round(1)
    # Text in ISO order sorts like the times it shows, and needs no time zone guessing in the
    # browser.
    table["time"] = _clock_text(shown["time"], TABLE_TIME_FORMAT, zone)
    table["status"] = shown["status"].astype(str)
    if len(stale):
        now = pd.Timestamp(time.time() if now_s is None else now_s, unit="s", tz="UTC")
        for i in np.flatnonzero(shown["city"].isin(stale).to_numpy()):
            observed = shown["time"].iloc[i]
            if not pd.isna(observed):
                age = (now - observed).total_seconds()
                table.loc[i, "status"] = f"stale, {age_text(age)}"
    return table.reset_index(drop=True)


#: Short quantity names for the table's headers, so every column fits beside the map.
#: Short enough for every header and its sort arrow in wide fonts too (DejaVu Sans).
SHORT_NAMES = {"temperature": "Temp", "humidity": "Hum.", "wind_speed": "Wind"}


def table_titles(units: Units, zone: str | None = None) -> dict[str, str]:
    """Column headers of the table, with the units of ``units``: ``"Temp (°F)"``, and the
    name of the clock the times are on: ``"Time (UTC)"``."""
    titles = {"city": "City", "time": f"Time ({zone_name(zone)})", "status": "Status"}
    titles.update({q: f"{SHORT_NAMES[q]} ({UNIT_SYMBOLS[units][q]})" for q in QUANTITIES})
    return titles


def failed_rows(results: pd.DataFrame) -> pd.DataFrame:
    """The rows of cities that could not be fetched."""
    return results[results["status"] != "ok"]


def failure_text(results: pd.DataFrame) -> str:
    """A plain-text sentence naming each failed city and why, or "" when none failed."""
    failed = failed_rows(results)
    if failed.empty:
        return ""
    parts = [f"{row.city} ({row.status})" for row in failed.itertuples()]
    noun = "city" if len(parts) == 1 else "cities"
    return f"No data for {len(parts)} {noun}, left off the map: {'; '.join(parts)}."


def keep_older(previous: pd.DataFrame | None, new: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """``new`` with the older good row of each city that failed for a passing reason
    (unreachable, timeout, ...) kept instead, and those cities."""
    if previous is None:
        return new, []
    good = previous[previous["status"] == "ok"].drop_duplicates("city", keep="last")
    # A city the provider says does not exist has no older values worth showing.
    replace = ~new["status"].isin(("ok", "not found")) & new["city"].isin(good["city"])
    kept = new.loc[replace, "city"].tolist()
    if not kept:
        return new, []
    merged = merge_rows(new, good[good["city"].isin(kept)])
    return select_cities(merged, new["city"].tolist()), kept


def merge_rows(results: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``results`` with the rows of ``new`` replacing or following those of the same cities."""
    keep = results[~results["city"].isin(new["city"])]
    frames = [f for f in (keep, new) if not f.empty]
    if not frames:
        return empty_results()
    return pd.concat(frames, ignore_index=True)[list(FRAME_COLUMNS)]


def select_cities(results: pd.DataFrame, cities: Sequence[str]) -> pd.DataFrame:
    """The rows of ``cities`` only, in that order."""
    order = {city: i for i, city in enumerate(cities)}
    rows = results[results["city"].isin(order)]
    return rows.iloc[np.argsort(rows["city"].map(order).to_numpy(), kind="stable")].reset_index(
        drop=True)


def same_city(name: str, cities: Sequence[str]) -> str | None:
    """The city of ``cities`` that ``name`` names, ignoring case and spacing, or None."""
    key = " ".join(name.casefold().split())
    return next((c for c in cities if " ".join(c.casefold().split()) == key), None)


def quantity_name(column: str) -> str:
    """``"Wind speed"`` for ``"wind_speed"``."""
    return QUANTITY_NAMES[column]
