"""The Refresh tab's map: a Bokeh figure it owns, each city a point coloured by one quantity."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import panel as pn
import xyzservices.providers as xyz
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    HoverTool,
    LinearColorMapper,
    Range1d,
    TileRenderer,
    WMTSTileSource,
)
from bokeh.palettes import RdYlBu11, Viridis256, YlGnBu9, interp_palette
from bokeh.plotting import figure

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
#: Earth's radius in Web Mercator (metres).
EARTH_RADIUS_M = 6378137.0
#: Colour palette per quantity, low to high: blue to red for temperature.
PALETTES = {"temperature": interp_palette(RdYlBu11, 256),
            "humidity": interp_palette(tuple(reversed(YlGnBu9)), 256), "wind_speed": Viridis256}
#: Extra room east of the cities for their names, as a fraction of the width.
LABEL_ROOM = 0.4
#: Gap between a point's centre and its name, in screen pixels.
LABEL_OFFSET_PX = 22
#: Point diameter in screen pixels.
POINT_SIZE_PX = 30
#: City names: font size in pixels, and the estimate of a character's width and a box's
#: height used to keep names from covering each other.
LABEL_FONT_PX = 17
LABEL_CHAR_WIDTH_PX = 11.0
LABEL_BOX_HEIGHT_PX = 28.0
#: The smallest frame the map is drawn in (pixels): names are placed to fit even there.
FRAME_WIDTH_PX = 280
FRAME_HEIGHT_PX = 520
#: Widest and narrowest shape (width / height) the shown extent is stretched to.
ASPECT_RANGE = (1.0, 1.8)
#: City name boxes, in each page theme: dark text on light, light text on dark.
LABEL_COLOURS = {
    "light": {"text_color": "#1b1b1b", "background_fill_color": "#ffffff"},
    "dark": {"text_color": "#f0f0f0", "background_fill_color": "#1e1e1e"},
}
#: The tiles' credit in the page's theme colours, large enough to read (BokehJS draws it
#: white at half opacity in 9 px, which the dark theme's white text made unreadable).
CREDIT_CSS = """
.bk-Panel {
  background-color: color-mix(in srgb, var(--panel-background-color, #fff) 85%, transparent)
    !important;
  color: var(--panel-on-background-color, #000) !important;
  font-size: 12px !important;
}
"""
#: Tile sources by the names ``WEATHER_TILES`` accepts (``dashboards.config.TILES``).
TILE_PROVIDERS = {
    "EsriImagery": xyz.Esri.WorldImagery,
    "OSM": xyz.OpenStreetMap.Mapnik,
    "CartoLight": xyz.CartoDB.Positron,
}
#: Where a name goes, tried in this order: (x offset, y offset, align, baseline) in pixels
#: (y down, as on screen).
LABEL_PLACES = (
    (LABEL_OFFSET_PX, 0, "left", "middle"),
    (-LABEL_OFFSET_PX, 0, "right", "middle"),
    (0, -LABEL_OFFSET_PX, "center", "bottom"),
    (0, LABEL_OFFSET_PX, "center", "top"),
    (LABEL_OFFSET_PX, -LABEL_OFFSET_PX, "left", "bottom"),
    (LABEL_OFFSET_PX, LABEL_OFFSET_PX, "left", "top"),
    (-LABEL_OFFSET_PX, -LABEL_OFFSET_PX, "right", "bottom"),
    (-LABEL_OFFSET_PX, LABEL_OFFSET_PX, "right", "top"),
)
POINT_COLUMNS = ("city", "x", "y", "lat", "lon", "value", "value_text", "time_text")
LABEL_COLUMNS = ("x", "y", "city", "dx", "dy", "align", "baseline")


def mercator(lon: np.ndarray | float, lat: np.ndarray | float) -> tuple:
    """Web Mercator metres (x, y) of longitudes and latitudes in degrees."""
    lon = np.asarray(lon, dtype="float64")
    lat = np.clip(np.asarray(lat, dtype="float64"), -MAX_LAT, MAX_LAT)
    x = np.radians(lon) * EARTH_RADIUS_M
    y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * EARTH_RADIUS_M
    return x, y


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


def view(frame: pd.DataFrame) -> tuple[float, float, float, float]:
    """``(x0, x1, y0, y1)`` in Web Mercator metres: ``extent`` widened to a map's shape."""
    lon0, lon1, lat0, lat1 = extent(frame)
    (x0, x1), (y0, y1) = mercator([lon0, lon1], [lat0, lat1])
    width, height = x1 - x0, y1 - y0
    low, high = ASPECT_RANGE
    if width < height * low:  # too tall: widen around the centre
        pad = (height * low - width) / 2
        x0, x1 = x0 - pad, x1 + pad
    elif width > height * high:  # too wide: heighten around the centre
        pad = (width / high - height) / 2
        y0, y1 = y0 - pad, y1 + pad
    return float(x0), float(x1), float(y0), float(y1)


def colour_limits(frame: pd.DataFrame) -> tuple[float, float]:
    """The span of the colour bar: the values' range, or one unit either side of one value."""
    if frame.empty:
        return 0.0, 1.0
    low, high = float(frame["value"].min()), float(frame["value"].max())
    # One value only: give the colour bar a span so it still reads as a scale.
    return (low - 1, high + 1) if low == high else (low, high)


def label_box(px: float, py: float, place: tuple, name: str) -> tuple[float, float, float, float]:
    """The screen box (left, top, right, bottom) of ``name`` drawn at ``place`` off a point."""
    dx, dy, align, baseline = place
    width = len(name) * LABEL_CHAR_WIDTH_PX + 8
    left = px + dx - {"left": 0, "center": width / 2, "right": width}[align]
    top = py + dy - {"top": 0, "middle": LABEL_BOX_HEIGHT_PX / 2,
                     "bottom": LABEL_BOX_HEIGHT_PX}[baseline]
    return left, top, left + width, top + LABEL_BOX_HEIGHT_PX


def overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(points: pd.DataFrame, bounds: tuple[float, float, float, float]) -> pd.DataFrame:
    """Names for ``points`` (x, y in metres) that cover no other name nor point.

    Each name goes to the first of ``LABEL_PLACES`` where its box stays inside the smallest
    frame the map is drawn in and clear of every name placed before and of every point; a
    name with no such place is left to the hover.
    """
    x0, x1, y0, y1 = bounds
    scale_x, scale_y = FRAME_WIDTH_PX / (x1 - x0), FRAME_HEIGHT_PX / (y1 - y0)
    screen = [((x - x0) * scale_x, (y1 - y) * scale_y)
              for x, y in zip(points["x"], points["y"], strict=True)]
    radius = POINT_SIZE_PX / 2
    taken = [(px - radius, py - radius, px + radius, py + radius) for px, py in screen]
    rows = []
    for (px, py), row in zip(screen, points.itertuples(), strict=True):
        for place in LABEL_PLACES:
            box = label_box(px, py, place, row.city)
            inside = box[0] >= 0 and box[2] <= FRAME_WIDTH_PX and box[1] >= 0 \
                and box[3] <= FRAME_HEIGHT_PX
            own = (px - radius, py - radius, px + radius, py + radius)
            if inside and not any(overlaps(box, t) for t in taken if t != own):
                taken.append(box)
                rows.append((row.x, row.y, row.city, *place))
                break
    return pd.DataFrame(rows, columns=list(LABEL_COLUMNS))


def _columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, list]:
    return {c: frame[c].tolist() for c in columns}


class CityMap:
    """The map of one Refresh tab: a Bokeh figure, its sources and colour mapper, kept.

    New values, cities, columns or units change the data of the sources, the mapper's span
    and the ranges (always showing every city, and what the reset tool returns to); the
    figure is never drawn again. Coordinates are Web Mercator with or without tiles, so the
    axes read in degrees either way.
    """

    def __init__(self, dark: bool = False, **pane_params: object) -> None:
        self.dark = dark
        self.points = ColumnDataSource({c: [] for c in POINT_COLUMNS})
        self.labels = ColumnDataSource({c: [] for c in LABEL_COLUMNS})
        self.mapper = LinearColorMapper(palette=PALETTES["temperature"], low=0, high=1)
        x0, x1, y0, y1 = view(pd.DataFrame())
        self.figure = fig = figure(
            x_axis_type="mercator", y_axis_type="mercator", output_backend="canvas",
            x_range=Range1d(x0, x1), y_range=Range1d(y0, y1),
            tools="pan,wheel_zoom,reset", toolbar_location="above",
            sizing_mode="stretch_width", height=MAP_HEIGHT_PX, min_width=FRAME_WIDTH_PX,
            x_axis_label="Longitude", y_axis_label="Latitude", stylesheets=[CREDIT_CSS],
        )
        for axis in (fig.xaxis[0], fig.yaxis[0]):
            axis.axis_label_text_font_style = "normal"
            axis.axis_label_text_font_size = "17px"
            axis.major_label_text_font_size = "14px"
        fig.grid.visible = False
        dots = fig.scatter(
            "x", "y", source=self.points, size=POINT_SIZE_PX, line_color="white",
            line_width=2.5, fill_alpha=0.95,
            fill_color={"field": "value", "transform": self.mapper})
        fig.text(
            "x", "y", text="city", source=self.labels, x_offset="dx", y_offset="dy",
            text_align="align", text_baseline="baseline", text_font_size=f"{LABEL_FONT_PX}px",
            text_font_style="bold", padding=4, border_radius=4, background_fill_alpha=0.85,
            **LABEL_COLOURS["dark" if dark else "light"],
        )
        self.hover = HoverTool(renderers=[dots])
        fig.add_tools(self.hover)
        self.colour_bar = ColorBar(
            color_mapper=self.mapper, title="", title_text_font_style="normal",
            title_text_font_size="17px", major_label_text_font_size="14px",
            orientation="horizontal", height=14, padding=8)
        fig.add_layout(self.colour_bar, "below")
        self.tiles: TileRenderer | None = None
        self.pane = pn.pane.Bokeh(fig, **pane_params)

    def show(self, frame: pd.DataFrame, column: str, label: str, tiles: str | None) -> None:
        """Draw ``frame`` (``data.MAP_COLUMNS``) coloured by ``column``; ``tiles`` names a
        source in ``TILE_PROVIDERS`` or is None for none."""
        x, y = mercator(frame["lon"].to_numpy(), frame["lat"].to_numpy())
        points = frame.assign(x=x, y=y)
        bounds = view(frame)
        low, high = colour_limits(frame)
        with pn.io.hold():
            self._show_tiles(tiles)
            if self.colour_bar.title != label:
                self.colour_bar.title = label
                self.mapper.palette = PALETTES[column]
                self.hover.tooltips = [
                    ("City", "@{city}"), (quantity_name(column), "@{value_text}"),
                    ("Observed", "@{time_text}"), ("Position", "@{lat}{0.00}°, @{lon}{0.00}°")]
            self.mapper.update(low=low, high=high)
            self.points.data = _columns(points, POINT_COLUMNS)
            labels = place_labels(points, bounds)
            if _columns(labels, LABEL_COLUMNS) != dict(self.labels.data):
                self.labels.data = _columns(labels, LABEL_COLUMNS)
            self._show_view(bounds)
        # In a notebook, changes to Bokeh models reach the page only when pushed (a served
        # page gets them from its session; there this does nothing).
        pn.io.push_notebook(self.pane)

    def _show_view(self, bounds: tuple[float, float, float, float]) -> None:
        # Set even when unchanged here: the browser may have zoomed, panned or snapped the
        # ranges to its tiles' zoom levels; the reset tool returns to the reset values.
        x0, x1, y0, y1 = bounds
        for rng, (start, end) in ((self.figure.x_range, (x0, x1)),
                                  (self.figure.y_range, (y0, y1))):
            rng.update(start=start, end=end, reset_start=start, reset_end=end)

    def _show_tiles(self, tiles: str | None) -> None:
        name = None if self.tiles is None else self.tiles.name
        if name == tiles:
            return
        renderers = [r for r in self.figure.renderers if r is not self.tiles]
        self.tiles = None
        if tiles is not None:
            provider = TILE_PROVIDERS[tiles]
            with warnings.catch_warnings():
                # xyzservices warns that CARTO may one day want a key; the tiles load today.
                warnings.simplefilter("ignore")
                url = provider.build_url()
            self.tiles = TileRenderer(name=tiles, tile_source=WMTSTileSource(
                url=url, attribution=provider.html_attribution,
                max_zoom=provider.get("max_zoom", 19)))
            renderers.insert(0, self.tiles)
        self.figure.renderers = renderers
