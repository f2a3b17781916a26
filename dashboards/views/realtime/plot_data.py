"""What the Real Time plots draw, made from history rows: line segments and newest readings.

Each plot draws all its cities as one Bokeh ``Segment`` glyph, a segment from each reading of
a city to its next, coloured by city, and one dot per city at its newest reading. One glyph
per plot instead of one line per city makes a page much cheaper to build, on the server and
in the browser, and an update still sends only what is new: one segment per city per poll.

Times here are naive UTC ``datetime64``, as Bokeh's time axes hold them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from weather.models import QUANTITIES

#: The columns of a reading as the plots take it.
READING_COLUMNS = ["city", "time", *QUANTITIES]


def start_column(quantity: str) -> str:
    """The column holding a segment's value at its start (its end value is ``quantity``)."""
    return f"{quantity}_start"


def readings(rows: pd.DataFrame, cities: Sequence[str]) -> pd.DataFrame:
    """The rows of ``cities``, with naive UTC times, in time order."""
    chosen = rows.loc[rows["city"].isin(list(cities)), READING_COLUMNS]
    if isinstance(chosen["time"].dtype, pd.DatetimeTZDtype):
        chosen = chosen.assign(time=chosen["time"].dt.tz_convert(None))
    return chosen.sort_values("time", kind="stable").reset_index(drop=True)


def segments(new: pd.DataFrame, newest: pd.DataFrame | None,
             colors: Mapping[str, str]) -> dict[str, pd.DataFrame]:
    """Each plot's segments joining each city's ``new`` readings, from its ``newest`` one on.

    ``newest`` holds the reading each city's drawing ends at so far (see ``newest_readings``;
    None before anything is drawn), so the first new segment of a city continues its line.
    The readings are paired once for all the plots. Sorted by end time: when a plot rolls
    over, it drops its oldest segments first.
    """
    drawn = newest.dropna(subset=["time"]) if newest is not None else new.iloc[0:0]
    drawn = drawn.loc[drawn["city"].isin(new["city"].unique()), READING_COLUMNS]
    points = pd.concat([drawn, new[READING_COLUMNS]], ignore_index=True) if len(drawn) else new
    points = points.sort_values(["city", "time"], kind="stable")
    following = points.groupby("city", sort=False)[["time", *QUANTITIES]].shift(-1)
    joined = following["time"].notna().to_numpy()
    order = np.argsort(following["time"].to_numpy()[joined], kind="stable")
    shared = {
        "city": points["city"].to_numpy()[joined][order],
        "color": points["city"].map(colors).to_numpy()[joined][order],
        "start": points["time"].to_numpy()[joined][order],
        "time": following["time"].to_numpy()[joined][order],
    }
    return {
        quantity: pd.DataFrame({
            **shared,
            start_column(quantity): points[quantity].to_numpy(dtype=float)[joined][order],
            quantity: following[quantity].to_numpy(dtype=float)[joined][order],
        })
        for quantity in QUANTITIES
    }


def newest_readings(new: pd.DataFrame, newest: pd.DataFrame | None,
                    cities: Sequence[str]) -> pd.DataFrame:
    """Each of ``cities``' newest reading, one row per city in that order.

    A city with no reading yet has a row of missing values, so the dots' data keeps one row
    per city from the first paint on.
    """
    frames = [f for f in (newest, new) if f is not None and len(f)]
    if frames:
        points = pd.concat([f[READING_COLUMNS] for f in frames], ignore_index=True)
        points = points.dropna(subset=["time"]).sort_values("time", kind="stable")
        last = points.groupby("city", sort=False).tail(1).set_index("city")
    else:
        last = pd.DataFrame(columns=READING_COLUMNS).set_index("city")
    table = last.reindex(list(cities))
    table["time"] = pd.to_datetime(table["time"])
    for quantity in QUANTITIES:
        table[quantity] = table[quantity].astype(float)
    return table.rename_axis("city").reset_index()


def markers(newest: pd.DataFrame, quantity: str, colors: Mapping[str, str]) -> pd.DataFrame:
    """The dots of one plot: each city's newest value of ``quantity``."""
    return pd.DataFrame({
        "city": newest["city"].to_numpy(),
        "color": newest["city"].map(colors).to_numpy(),
        "time": newest["time"].to_numpy(),
        quantity: newest[quantity].to_numpy(dtype=float),
    })


def time_span(frames: Sequence[pd.DataFrame]) -> tuple[np.datetime64, np.datetime64] | None:
    """The earliest and latest time drawn in any of ``frames`` (None when nothing is)."""
    times = [f[c].dropna() for f in frames for c in ("start", "time") if c in f]
    times = [t for t in times if len(t)]
    if not times:
        return None
    return min(t.min() for t in times).to_datetime64(), max(t.max() for t in times).to_datetime64()


def value_span(frames: Sequence[pd.DataFrame], quantity: str) -> tuple[float, float] | None:
    """The least and greatest value of ``quantity`` drawn in any of ``frames``."""
    values = [f[c].dropna() for f in frames for c in (start_column(quantity), quantity) if c in f]
    values = [v for v in values if len(v)]
    if not values:
        return None
    return float(min(v.min() for v in values)), float(max(v.max() for v in values))
