"""The Refresh tab's map: each city a point coloured by one quantity, on optional web tiles."""

from __future__ import annotations

import warnings

import holoviews as hv
import hvplot.pandas  # noqa: F401  (registers .hvplot on frames)
import pandas as pd
from holoviews.util.transform import lon_lat_to_easting_northing

from dashboards.refresh_data import quantity_name

MAP_HEIGHT_PX = 680
#: Fraction of the cities' extent added on each side, so no point sits on the edge.
PADDING = 0.2
#: Smallest extent shown (degrees), so one city alone is drawn with its surroundings.
MIN_SPAN_DEG = 4.0
#: Shown before any city has a position: California, home of the default cities.
DEFAULT_EXTENT = (-125.0, -113.0, 31.5, 42.5)
#: Web Mercator stops short of the poles.
MAX_LAT = 84.0
#: Colour map per quantity: a diverging one for temperature, sequential ones for the rest.
CMAPS = {"temperature": "RdYlBu_r", "humidity": "YlGnBu", "wind_speed": "viridis"}
#: Above this many cities the names are left to the hover, or they would cover each other.
MAX_LABELS = 25
#: Extra room east of the cities for their names, as a fraction of the width.
LABEL_ROOM = 0.4
#: Gap between a point's centre and its name, in screen pixels.
LABEL_OFFSET_PX = 22


def extent(frame: pd.DataFrame) -> tuple[float, float, float, float]:
    """``(lon_min, lon_max, lat_min, lat_max)`` around the cities of ``frame``, padded."""
    if frame.empty:
        return DEFAULT_EXTENT
    bounds = []
    for column, limit in (("lon", 180.0), ("lat", MAX_LAT)):
        low, high = float(frame[column].min()), float(frame[column].max())
        pad = max((high - low) * PADDING, (MIN_SPAN_DEG - (high - low)) / 2, 0.0)
        bounds += [max(low - pad, -limit), min(high + pad, limit)]
    # City names are written east of their points: leave them room on that side.
    east = min(bounds[1] + (bounds[1] - bounds[0]) * LABEL_ROOM, 180.0)
    return bounds[0], east, bounds[2], bounds[3]


def _offset_labels(plot: object, element: object) -> None:
    # HoloViews offsets labels in data units; Bokeh's glyph can offset them in pixels.
    plot.handles["glyph"].x_offset = LABEL_OFFSET_PX  # type: ignore[attr-defined]


def _labels(frame: pd.DataFrame, projected: bool) -> hv.Labels:
    """City names right of their points, clear of the markers."""
    x, y = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    dims = ["lon", "lat"]
    if projected:
        # hvPlot projects the points for the tiles itself; labels are placed to match.
        x, y = lon_lat_to_easting_northing(x, y)
        dims = ["x", "y"]
    data = pd.DataFrame({dims[0]: x, dims[1]: y, "city": frame["city"].to_numpy()})
    # On imagery, white with a dark outline reads best; on a blank map, plain dark text.
    colours = {"text_color": "white", "text_outline_color": "black"} if projected else {
        "text_color": "#222222"}
    return hv.Labels(data, dims, "city").opts(
        text_font_size="13pt", text_font_style="bold", text_align="left",
        text_baseline="middle", hooks=[_offset_labels], **colours,
    )


def city_map(frame: pd.DataFrame, column: str, label: str, tiles: str | None,
             title: str = "") -> hv.Overlay:
    """Points of ``frame`` (``refresh_data.MAP_COLUMNS``) coloured by ``value``.

    ``label`` (e.g. "Temperature (°F)") titles the colour bar; ``tiles`` names an hvPlot tile
    source or is None for a plain lon/lat map. The hover shows the city, the value with its
    unit, the observation time and the position in degrees (not Web Mercator metres).
    """
    lon0, lon1, lat0, lat1 = extent(frame)
    clim = None
    if not frame.empty and frame["value"].min() == frame["value"].max():
        # One value only: give the colour bar a span so it still reads as a scale.
        clim = (float(frame["value"].min()) - 1, float(frame["value"].max()) + 1)
    with warnings.catch_warnings():
        # hvPlot warns that it cannot find the bounds of an empty frame; the limits are given.
        warnings.filterwarnings("ignore", message="Could not determine")
        points = frame.hvplot.points(
            x="lon", y="lat", c="value", tiles=tiles or None,
            hover_cols=["city", "lat", "lon", "value_text", "time_text"],
            hover_tooltips=[
                ("City", "@{city}"),
                (quantity_name(column), "@{value_text}"),
                ("Observed", "@{time_text}"),
                ("Position", "@{lat}{0.00}°, @{lon}{0.00}°"),
            ],
            clabel=label, cmap=CMAPS[column], clim=clim, colorbar=True,
            size=900, line_color="white", line_width=2.5, alpha=0.95,
            xlim=(lon0, lon1), ylim=(lat0, lat1),
            responsive=True, height=MAP_HEIGHT_PX, title=title, fontscale=1.3,
            xlabel="Longitude", ylabel="Latitude",
        )
    if 0 < len(frame) <= MAX_LABELS:
        points = points * _labels(frame, projected=bool(tiles))
    return points.opts(active_tools=["wheel_zoom"]) if tiles else points
