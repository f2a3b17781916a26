"""The Refresh tab's map: each city a point coloured by one quantity, on optional web tiles."""

from __future__ import annotations

import warnings

import holoviews as hv
import hvplot.pandas  # noqa: F401  (registers .hvplot on frames)
import pandas as pd
import panel as pn
from bokeh.models import ColorBar
from holoviews.util.transform import lon_lat_to_easting_northing

from dashboards.views.plotting import CANVAS, MAP_FONTS, drawn_plots
from dashboards.views.refresh.data import quantity_name

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
#: City names on a map without tiles, in the text colour of each page theme.
LABEL_COLOURS = {"light": "#222222", "dark": "#e8e8e8"}


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


def colour_limits(frame: pd.DataFrame) -> tuple[float, float]:
    """The span of the colour bar: the values' range, or one unit either side of one value."""
    if frame.empty:
        return 0.0, 1.0
    low, high = float(frame["value"].min()), float(frame["value"].max())
    # One value only: give the colour bar a span so it still reads as a scale.
    return (low - 1, high + 1) if low == high else (low, high)


def _colorbar_title(label: str):
    """A hook that titles the colour bar (upright, like the axis labels); HoloViews sets
    ``clabel`` only on the first draw."""

    def hook(plot: object, element: object) -> None:
        for handle in plot.handles.values():  # type: ignore[attr-defined]
            if isinstance(handle, ColorBar):
                handle.title = label
                handle.title_text_font_style = "normal"

    return hook


def _labels(frame: pd.DataFrame, projected: bool, dark: bool) -> hv.Labels:
    """City names right of their points, clear of the markers (none past ``MAX_LABELS``)."""
    if len(frame) > MAX_LABELS:
        # Too many names would cover each other: an empty layer keeps the map's shape.
        frame = frame.iloc[0:0]
    x, y = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    dims = ["lon", "lat"]
    if projected:
        # hvPlot projects the points for the tiles itself; labels are placed to match.
        x, y = lon_lat_to_easting_northing(x, y)
        dims = ["x", "y"]
    data = pd.DataFrame({dims[0]: x, dims[1]: y, "city": frame["city"].to_numpy()})
    # On imagery, white with a dark outline reads best; on a blank map, plain text in the
    # page's foreground colour (dark grey was all but invisible in the dark theme).
    if projected:
        colours = {"text_color": "white", "text_outline_color": "black"}
    else:
        colours = {"text_color": LABEL_COLOURS["dark" if dark else "light"]}
    return hv.Labels(data, dims, "city").opts(
        text_font_size="13pt", text_font_style="bold", text_align="left",
        text_baseline="middle", hooks=[_offset_labels], **colours,
    )


def city_map(frame: pd.DataFrame, column: str, label: str, tiles: str | None,
             title: str = "", dark: bool = False) -> hv.Overlay:
    """Points of ``frame`` (``refresh_data.MAP_COLUMNS``) coloured by ``value``, with names.

    ``label`` (e.g. "Temperature (°F)") titles the colour bar; ``tiles`` names an hvPlot tile
    source or is None for a plain lon/lat map. The hover shows the city, the value with its
    unit, the observation time and the position in degrees (not Web Mercator metres).
    Whatever the frame, the layers are the same, so a ``DynamicMap`` can redraw the map in
    place from a new frame: only the data, colours and ranges go to the browser.
    """
    lon0, lon1, lat0, lat1 = extent(frame)
    low, high = colour_limits(frame)
    # HoloViews takes the span of the values itself, unless they are all one value.
    clim = (low, high) if len(frame) and frame["value"].nunique() == 1 else None
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
            responsive=True, height=MAP_HEIGHT_PX, title=title, fontsize=MAP_FONTS,
            xlabel="Longitude", ylabel="Latitude",
        )
    # The colour bar goes below the map, so the points get the width beside the table.
    points = points.opts(hv.opts.Points(hooks=[_colorbar_title(label)],
                                        colorbar_position="bottom"))
    drawn = (points * _labels(frame, projected=bool(tiles), dark=dark)).opts(**CANVAS)
    return drawn.opts(active_tools=["wheel_zoom"]) if tiles else drawn


class CityMapPane:
    """The map of one Refresh tab, redrawn in place as new values arrive.

    When only the values changed (the usual refresh: same cities, column, units and tiles),
    the points' colours, hover texts and colour bar span are written straight into each
    page's Bokeh models: a few hundred bytes, nothing laid out again. Another column or unit
    goes through HoloViews, which recolours and retitles the same figure; other cities or
    tiles get a new figure.
    """

    def __init__(self, dark: bool = False, **pane_params: object) -> None:
        self.dark = dark  # the page's theme: city names on a blank map take its text colour
        self.pane = pn.pane.HoloViews(None, **pane_params)
        self._frames: hv.streams.Pipe | None = None
        self._options: tuple[str, str, str | None] = ("temperature", "", None)
        self._places: tuple | None = None  # the cities drawn and their positions

    def show(self, frame: pd.DataFrame, column: str, label: str, tiles: str | None) -> None:
        """Draw ``frame`` (``refresh_data.MAP_COLUMNS``) coloured by ``column``."""
        options = (column, label, tiles)
        places = (tuple(frame["city"]), tuple(frame["lon"]), tuple(frame["lat"]))
        if self._frames is None or tiles != self._options[2] or places != self._places:
            # First drawing, tiles added or removed, or other cities: a new figure. Changing
            # the number of points of a shown figure in place made BokehJS fail ("Size
            # mismatch") when the points and their names changed together.
            self._options = options
            self._frames = hv.streams.Pipe(data=frame)
            self.pane.object = hv.DynamicMap(self._draw, streams=[self._frames])
        elif options == self._options and self._write_values(frame):
            self._frames.update(data=frame)  # for pages drawn later; shown ones are done
        else:
            self._options = options
            self._frames.send(frame)
        self._places = places
        # A page drawn from now on (the tab shown again in a notebook) must start from this
        # frame, not from the one HoloViews cached when the map was first drawn.
        self.pane.object.reset()

    def _draw(self, data: pd.DataFrame) -> hv.Overlay:
        return city_map(data, *self._options, dark=self.dark)

    def _write_values(self, frame: pd.DataFrame) -> bool:
        """Put ``frame``'s values into every shown copy of the map; False if one has none."""
        shown = [_points_plot(plot) for plot in drawn_plots(self.pane)]
        if not shown or any(points is None for points in shown):
            return False
        low, high = colour_limits(frame)
        values = frame["value"].to_numpy()
        new_data = {"value": values, "color": values,
                    "value_text": frame["value_text"].to_numpy(),
                    "time_text": frame["time_text"].to_numpy()}
        for points in shown:
            source = points.handles["source"]
            source.data = {**source.data, **new_data}
            points.handles["color_color_mapper"].update(low=low, high=high)
        return True


def _points_plot(plot: object) -> object | None:
    """The HoloViews plot of the points layer in a drawn map, if it has the handles we set."""
    for layer in (getattr(plot, "subplots", None) or {}).values():
        handles = getattr(layer, "handles", {})
        source = handles.get("source")
        if (handles.get("color_color_mapper") is not None and source is not None
                and {"value", "color", "value_text", "time_text"} <= set(source.data)):
            return layer
    return None
