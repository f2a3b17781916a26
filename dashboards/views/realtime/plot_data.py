"""What the Real Time plots draw, made from history rows once for every viewer: segments and dots.

Each plot draws all its cities as one Bokeh ``Segment`` glyph, a segment from each reading of
a city to its next, coloured by city, and one dot per city at its newest reading. One glyph
per plot instead of one line per city keeps a page cheap to build, and an update sends only
what is new: one segment per city per poll. The three plots of a viewer share one source of
segments and one of dots, each with a column per quantity.

A ``Drawing`` is computed once per batch of rows and unit system for every city, and shared
read-only by every viewer, who only selects its cities. Times are milliseconds since the
epoch (UTC), as Bokeh's time axes hold them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from weather.models import QUANTITIES
from weather.units import convert_frame

#: One colour per city, the same in every plot (Bokeh's Category10, then Category20's light).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
)
_EPOCH = pd.Timestamp(0, tz="UTC")


def start_column(quantity: str) -> str:
    """The segment column of a quantity's value at its start (its end value: ``quantity``)."""
    return f"{quantity}_start"


#: The columns of the segments' source, and of the dots' source.
LINE_COLUMNS = ("city", "color", "start", "time",
                *(c for q in QUANTITIES for c in (start_column(q), q)))
DOT_COLUMNS = ("city", "color", "time", *QUANTITIES)


def city_colors(cities: Sequence[str]) -> dict[str, str]:
    """Each city's colour, by its place in ``cities``."""
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(cities)}


@dataclass(frozen=True)
class Drawing:
    """Segments to add to the plots and every city's newest reading, as source columns."""

    lines: Mapping[str, np.ndarray]
    dots: Mapping[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.lines["time"])

    def select(self, cities: Sequence[str]) -> Drawing:
        """The part of this drawing for ``cities``: their segments, and their dots in order."""
        if list(cities) == list(self.dots["city"]):
            return self
        keep = np.isin(self.lines["city"], list(cities))
        where = {c: i for i, c in enumerate(self.dots["city"])}
        order = [where[c] for c in cities if c in where]
        return Drawing(lines={k: v[keep] for k, v in self.lines.items()},
                       dots={k: v[order] for k, v in self.dots.items()})


def drawing(rows: pd.DataFrame, before: pd.DataFrame | None, cities: Sequence[str],
            units: str, colors: Mapping[str, str]) -> Drawing:
    """What history ``rows`` add to the plots of ``cities``, in ``units``.

    ``before`` holds each city's newest reading before ``rows`` (None or empty for a first
    paint), so a city's first new segment continues its line. The dots hold one row per city
    of ``cities``, in that order: its newest reading, or missing values before it has one.
    Every array is read-only: viewers share them.
    """
    new = _readings(rows, cities, units)
    drawn = _readings(before, cities, units) if before is not None and len(before) else None
    if drawn is not None:
        drawn = drawn.loc[drawn["city"].isin(new["city"].unique())]
        # A row older than its city's drawn line (backfilled meanwhile) would draw back in
        # time: it shows with the next overview instead.
        drawn_until = new["city"].map(drawn.groupby("city")["time"].max()).fillna(-np.inf)
        new = new.loc[new["time"] > drawn_until].reset_index(drop=True)
    points = pd.concat([drawn, new], ignore_index=True) if drawn is not None else new
    points = points.sort_values(["city", "time"], kind="stable")
    following = points.groupby("city", sort=False)[["time", *QUANTITIES]].shift(-1)
    joined = following["time"].notna().to_numpy()
    order = np.argsort(following["time"].to_numpy()[joined], kind="stable")
    city = points["city"].to_numpy(dtype=object)[joined][order]
    lines = {
        "city": city,
        "color": np.array([colors.get(c, PALETTE[0]) for c in city], dtype=object),
        "start": points["time"].to_numpy(dtype=float)[joined][order],
        "time": following["time"].to_numpy(dtype=float)[joined][order],
    }
    for quantity in QUANTITIES:
        lines[start_column(quantity)] = points[quantity].to_numpy(dtype=float)[joined][order]
        lines[quantity] = following[quantity].to_numpy(dtype=float)[joined][order]
    newest = pd.concat([f for f in (_readings(before, cities, units), new) if len(f)]
                       or [new], ignore_index=True)
    newest = newest.sort_values("time", kind="stable").groupby("city", sort=False).tail(1)
    table = newest.set_index("city").reindex(list(cities))
    dots = {
        "city": np.array(list(cities), dtype=object),
        "color": np.array([colors.get(c, PALETTE[0]) for c in cities], dtype=object),
        "time": table["time"].to_numpy(dtype=float),
        **{q: table[q].to_numpy(dtype=float) for q in QUANTITIES},
    }
    return Drawing(lines=_frozen(lines), dots=_frozen(dots))


def empty(cities: Sequence[str], colors: Mapping[str, str]) -> Drawing:
    """A drawing with no segment and no reading for any of ``cities``."""
    return drawing(pd.DataFrame(columns=["city", "time", *QUANTITIES]), None, cities,
                   "metric", colors)


def _readings(rows: pd.DataFrame | None, cities: Sequence[str], units: str) -> pd.DataFrame:
    """History rows as the plots take them: ``cities`` only, in ``units``, times in ms."""
    columns = ["city", "time", *QUANTITIES]
    if rows is None or not len(rows):
        return pd.DataFrame({c: pd.Series(dtype=object if c == "city" else float)
                             for c in columns})
    chosen = convert_frame(rows.loc[rows["city"].isin(list(cities)), columns], units)
    times = pd.to_datetime(chosen["time"], utc=True)
    chosen["time"] = ((times - _EPOCH) / pd.Timedelta(milliseconds=1)).astype(float)
    for quantity in QUANTITIES:
        chosen[quantity] = chosen[quantity].astype(float)
    return chosen.reset_index(drop=True)


def _frozen(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    for values in columns.values():
        values.flags.writeable = False
    return columns
