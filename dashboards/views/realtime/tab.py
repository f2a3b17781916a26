"""The "Real Time" tab: a viewer's own Bokeh plots of every city, fed by the feed's pushes."""

from __future__ import annotations

import contextlib
import html
import logging
import time
from functools import lru_cache, partial

import numpy as np
import panel as pn
import param
from bokeh.core.properties import field
from bokeh.events import RangesUpdate
from bokeh.models import (
    AllIndices,
    AllLabels,
    BasicTicker,
    BasicTickFormatter,
    BoxZoomTool,
    CDSView,
    ColumnDataSource,
    CustomJSTickFormatter,
    DataRange1d,
    DatetimeAxis,
    DatetimeTicker,
    Div,
    GlyphRenderer,
    Grid,
    HoverTool,
    LinearAxis,
    MultiLine,
    PanTool,
    Plot,
    ResetTool,
    SaveTool,
    Scatter,
    Segment,
    Span,
    Toolbar,
    UnionRenderers,
    WheelZoomTool,
)
from bokeh.models import Column as BokehColumn

from dashboards.server.feed import WeatherFeed
from dashboards.server.forecast import ForecastPoll, ForecastStatus
from dashboards.server.overview import WINDOWS_S, Overview, summarize
from dashboards.server.push import Batch
from dashboards.server.status import FeedStatus, clock, zone_name
from dashboards.views.realtime import line_data, plot_data, time_axis
from dashboards.views.realtime.export import ExportDownload
from dashboards.views.settings import ViewerSettings
from weather.models import QUANTITIES, quantity_label

#: When a plot holds a single moment, the time axis spans this much either side of it.
LONE_MOMENT_PAD_S = 60.0
#: Names of the plots' data sources, for whoever looks into a page (tests, benchmarks): the
#: segments pushed since the overview, the newest readings, per plot (``-<quantity>``)
#: the window's overview; and the forecast, one source for the three plots.
LINES_SOURCE, DOTS_SOURCE = "realtime-lines", "realtime-dots"
OVERVIEW_SOURCE, FORECAST_SOURCE = "realtime-overview", "realtime-forecast"
#: Hours of forecast drawn after now.
FORECAST_HOURS = 48
#: Milliseconds of quiet after a zoom or pan before finer data is asked for.
REFINE_AFTER_MS = 300
#: A zoomed view narrower than this share of the overview's span gets finer data.
REFINE_BELOW_SHARE = 0.5
NO_CITY = ("No city chosen. Pick one or more cities in <b>Cities</b> above to draw their "
           "temperature, humidity and wind speed.")
NO_READING = "Waiting for the first readings of the chosen cities…"

#: The status lines' text size: the page sets ``--weather-status-font-size`` where it needs
#: larger text (a phone, a wall screen). Set on the Divs' own elements: Panel replaces a
#: Bokeh model's stylesheets with its design's.
STATUS_STYLES = {"font-size": "var(--weather-status-font-size, 14px)"}

log = logging.getLogger(__name__)


class StreamingTab(pn.viewable.Viewer):
    """Temperature, humidity and wind speed over time, one line per city, for one viewer.

    Three Bokeh plots this view owns share one time axis. Each draws the chosen window's
    overview (``dashboards.server.overview``: made once per process, at screen resolution,
    shared by every viewer), then the segments of each reading pushed since
    (``plot_data``), a dot per city at its newest reading, and the forecast as dashed lines
    after a "now" marker. Zooming in asks for finer data of the range shown; zooming out
    goes back to the overview. A paused viewer, or a page still loading, catches up from the
    history afterwards.
    """

    feed = param.ClassSelector(class_=WeatherFeed, doc="The process-wide feed to draw.")
    forecast = param.ClassSelector(class_=ForecastPoll, default=None, allow_None=True, doc="""
        The process-wide forecast poll to draw after now (None: no forecast).""")
    settings = param.ClassSelector(class_=ViewerSettings, doc="This viewer's display choices.")
    cities = param.ListSelector(default=[], objects=[], doc="Cities drawn for this viewer.")
    window = param.Selector(default="All", objects=list(WINDOWS_S), doc="""
        Time span shown before now ("All": everything stored).""")
    show_forecast = param.Boolean(default=True, doc="""
        Draw the next hours' forecast after now, and widen the window to include it.""")
    show_export = param.Boolean(default=True, constant=True, doc="""
        Offer the download of the stored rows behind the plots (a wall screen has no one to
        click it).""")
    paused = param.Boolean(default=False, doc="""
        Hold this viewer's plots still; the shared feed keeps polling and the plots catch up
        on resume.""")
    plot_height_px = param.Integer(default=230, bounds=(120, None), doc="""
        Height of each plot in pixels; three plots and the controls fit a 1080p screen.""")
    tick_text_px = param.Integer(default=13, bounds=(8, None), doc="""
        Size of the plots' tick labels in pixels (axis titles 3 px larger below 16 px); a wall
        screen read from across a room takes 18.""")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        if self.settings is None:
            self.settings = ViewerSettings()
        self._feed_cities = list(self.feed.cities)
        # Named by their escaped text: the chooser (choices.js) puts labels into the page as
        # markup, and a city name is outside text.
        self.param.cities.objects = {html.escape(c): c for c in self._feed_cities}
        with param.parameterized.discard_events(self):
            self.cities = [c for c in self.cities if c in self._feed_cities] or self._feed_cities
        self._colors = plot_data.city_colors(self._feed_cities)
        self._cursor = 0  # the last history row drawn
        self._overview: Overview | None = None  # the shared overview drawn under the segments
        self._refined = False  # whether the overview sources hold finer data of a zoom
        self._zoom: tuple[float, float] | None = None
        self._refine_timer = None
        self._forecast_key: object = None
        self._page_loaded = False
        self._closed = False
        self._zone_shown = (self.settings.time_zone, self.settings.zone)
        doc = pn.state.curdoc
        served = doc is not None and doc.session_context is not None
        self._doc = doc if served else None  # None: a notebook, or no page at all
        blank = plot_data.empty(self._feed_cities, self._colors)
        # Parts the three plots share, each one model fewer to build, send and walk on every
        # push per viewer (a push's cost grows with the models of its page): the sources'
        # selection rule, the tickers, label rule and formatters, and a source's view.
        policy = UnionRenderers()
        self._shared_parts = {"time_ticker": DatetimeTicker(), "value_ticker": BasicTicker(),
                              "value_labels": BasicTickFormatter(), "labels": AllLabels(),
                              "time_labels": time_axis.tick_formatter(self.settings.time_zone)}
        self.lines = ColumnDataSource(data=dict(blank.lines), name=LINES_SOURCE,
                                      selection_policy=policy)
        self.dots = ColumnDataSource(data=dict(blank.dots), name=DOTS_SOURCE,
                                     selection_policy=policy)
        self.overview = {q: ColumnDataSource(data=line_data.empty()[q], selection_policy=policy,
                                             name=f"{OVERVIEW_SOURCE}-{q}") for q in QUANTITIES}
        self.forecast_lines = ColumnDataSource(
            data={c: [] for c in line_data.FORECAST_COLUMNS}, name=FORECAST_SOURCE,
            selection_policy=policy)
        every_row = AllIndices()
        self._views = {id(source): CDSView(filter=every_row) for source in (
            self.lines, self.dots, self.forecast_lines, *self.overview.values())}
        self.now_marks = {q: Span(location=time.time() * 1000, dimension="height",
                                  line_color="#888888", line_dash="dotted", line_width=1)
                          for q in QUANTITIES}
        self._hovers: dict[str, list[HoverTool]] = {}
        self._forecast_renderers: list[GlyphRenderer] = []
        self.figures = {q: self._figure(q) for q in QUANTITIES}
        # The three plots in one Bokeh column, one pane: a Panel pane per plot cost a page
        # three more components to build and three more walks of a plot's models.
        self.plot_column = BokehColumn(children=list(self.figures.values()),
                                       sizing_mode="stretch_width")
        self.plot_area = pn.pane.Bokeh(self.plot_column, sizing_mode="stretch_width")
        self._follow_window()
        self.empty_state = pn.pane.HTML(sizing_mode="stretch_width", margin=(20, 10),
                                        styles={"font-size": "1.1em"}, visible=False)
        # Bokeh Divs this view owns: a push sets one property of each. Panel's HTML pane sets
        # all its twenty-odd properties on every change, most of a push's cost per viewer.
        self.status_line = pn.pane.Bokeh(
            Div(sizing_mode="stretch_width", styles=STATUS_STYLES),
            sizing_mode="stretch_width", margin=(5, 10))
        self.feed_status = pn.pane.Bokeh(
            Div(sizing_mode="stretch_width", styles=STATUS_STYLES),
            sizing_mode="stretch_width", margin=(0, 10))
        self.pause_button = pn.widgets.Toggle.from_param(
            self.param.paused, name="Pause", width=100, color="warning", variant="outline",
            margin=(28, 10, 10, 10))
        self.forecast_toggle = pn.widgets.Checkbox.from_param(
            self.param.show_forecast, name="Forecast", width=100, margin=(34, 10, 10, 10),
            visible=self.forecast is not None)
        # The stored rows behind the plots, as a file: this viewer's cities, window and units.
        self.export = ExportDownload(history=self.feed.history, settings=self.settings,
                                     cities=list(self.cities), window_s=WINDOWS_S[self.window])
        self.param.watch(lambda _e: self.export.param.update(
            cities=list(self.cities), window_s=WINDOWS_S[self.window]), ["cities", "window"])
        self.controls = pn.FlexBox(
            # No help icon: its tooltip is two more models on every page for little.
            pn.widgets.MultiChoice.from_param(self.param.cities, name="Cities", width=460,
                                              description=None),
            # No help icon: its tooltip opened over the Pause button.
            pn.widgets.RadioButtonGroup.from_param(
                self.param.window, name="Window", color="primary", variant="outline",
                width=380, margin=(28, 10, 10, 10), description=None,
            ),
            self.pause_button,
            self.forecast_toggle,
            *([self.export] if self.show_export else []),
            sizing_mode="stretch_width",
        )
        self.legend = pn.pane.HTML(sizing_mode="stretch_width", margin=(0, 10))
        self._layout = pn.Column(
            self.controls, self.status_line, self.legend, self.empty_state, self.plot_area,
            sizing_mode="stretch_width",
        )
        # Subscribed before the first paint: a batch landing in between is then either in
        # the paint or pushed, never neither.
        self._subscription = self.feed.fanout.subscribe(self._on_push, doc=self._doc)
        self._redraw()
        self._on_pause()
        self.settings.param.watch(self._on_units, "units")
        self.settings.param.watch(self._on_zone, ["time_zone", "browser_zone"])
        pn.state.onload(self.page_loaded)
        if served:
            # Registered on this session's document, so it goes away with the session.
            doc.on_session_destroyed(self._on_session_destroyed)
            for fig in self.figures.values():
                fig.on_event(RangesUpdate, self._on_zoom)

    def __panel__(self):
        return self._layout

    # -- what the session and tests drive ---------------------------------------------------
    def page_loaded(self) -> None:
        """The browser holds the page: draw what came while it loaded, then every push."""
        self._page_loaded = True
        self._catch_up()

    def close(self) -> None:
        """Stop following the feed (the browser tab closed): nothing more is drawn here."""
        if not self._closed:
            self._closed = True
            self.feed.fanout.unsubscribe(self._subscription)
            log.info("viewer session closed; its Real Time tab stopped")

    def refine(self, start_ms: float, end_ms: float) -> None:
        """Draw ``start_ms..end_ms`` from finer data (the plots were zoomed to it), or the
        shared overview again when that range is most of the window (zoomed out)."""
        overview = self._overview
        finer = self._finer(overview, start_ms, end_ms)
        self._apply_zoom(overview, finer() if finer else None)

    # -- handlers ---------------------------------------------------------------------------
    def _on_push(self, batch: Batch) -> None:
        if self._closed:
            return
        # One message to the browser for the status and the new points.
        with pn.io.hold():
            if batch.status is not None:
                self._update_status(batch.status, batch)
            if not self.paused and self._page_loaded:
                self._catch_up(batch)

    def _on_session_destroyed(self, _session_context) -> None:
        self.close()

    def _on_units(self, _event) -> None:
        self._redraw()

    def _on_zone(self, _event) -> None:
        shown = (self.settings.time_zone, self.settings.zone)
        if shown == self._zone_shown:
            return  # e.g. the browser told its zone while the page shows UTC: nothing changes
        self._zone_shown = shown
        if self._doc is not None:
            # The browser's zone arrives with its page-info event: draw on the next tick,
            # as a push is, so the change goes out to the page.
            self._doc.add_next_tick_callback(self._show_zone)
        else:
            self._show_zone()

    def _show_zone(self) -> None:
        # Not under one hold: the axes' new formatters did not reach the page when held.
        self._label_axes()
        self._update_status(self.feed.status())
        self._forecast_key = None
        self._draw_forecast()
        self._push_to_notebook()

    def _on_zoom(self, event: RangesUpdate) -> None:
        """Ask for finer data once the zooming stops (a wheel sends an event per notch)."""
        if event.x0 is None or event.x1 is None or self._doc is None:
            return
        self._zoom = (float(event.x0), float(event.x1))
        if self._refine_timer is not None:
            with contextlib.suppress(ValueError):  # it ran meanwhile
                self._doc.remove_timeout_callback(self._refine_timer)
        self._refine_timer = self._doc.add_timeout_callback(self._refine_zoom, REFINE_AFTER_MS)

    def _refine_zoom(self) -> None:
        self._refine_timer = None
        if self._zoom is None or self._doc is None:
            return
        overview, doc = self._overview, self._doc
        finer = self._finer(overview, *self._zoom)
        if finer is None:
            self._apply_zoom(overview, None)
            return
        # Read off the event loop: a long range takes the database a moment.
        future = self.feed.overviews.executor.submit(finer)

        def apply(done) -> None:
            if done.exception() is None:
                doc.add_next_tick_callback(lambda: self._apply_zoom(overview, done.result()))

        future.add_done_callback(apply)

    def _finer(self, overview: Overview | None, start_ms: float, end_ms: float):
        """What reads finer lines of ``start_ms..end_ms`` (and as much either side), or None
        when that range is most of the overview's: its own points suffice."""
        if overview is None or self._closed:
            return None
        oldest_ms = overview.start_ms
        if oldest_ms is None:
            firsts = [t[0] for by_city in overview.lines.values() for t, _ in by_city.values()
                      if len(t)]
            oldest_ms = min(firsts, default=overview.end_ms)
        width_ms = end_ms - start_ms
        if width_ms <= 0 or width_ms >= REFINE_BELOW_SHARE * (overview.end_ms - oldest_ms):
            return None
        return partial(summarize, self.feed.history, start_ms - width_ms / 2,
                       end_ms + width_ms / 2, cities=tuple(self.cities))

    def _apply_zoom(self, overview: Overview | None, finer: Overview | None) -> None:
        if overview is None or overview is not self._overview or self._closed:
            return
        if finer is not None:
            self._draw_refined(overview, finer)
        elif self._refined:
            self._draw_overview(overview)
            self._push_to_notebook()

    @param.depends("cities", watch=True)
    def _on_cities(self) -> None:
        self._redraw()

    @param.depends("window", watch=True)
    def _on_window(self) -> None:
        self._redraw()
        self._follow_window()

    @param.depends("show_forecast", watch=True)
    def _on_show_forecast(self) -> None:
        for renderer in self._forecast_renderers:
            renderer.visible = self.show_forecast
        self._follow_window()

    @param.depends("paused", watch=True)
    def _on_pause(self) -> None:
        self.pause_button.param.update(name="Resume" if self.paused else "Pause",
                                       variant="solid" if self.paused else "outline")
        self._update_status(self.feed.status())
        if not self.paused:
            self._catch_up()

    # -- drawing ----------------------------------------------------------------------------
    def _catch_up(self, batch: Batch | None = None) -> None:
        """Draw the rows after the last one drawn: ``batch`` when it follows on, else the
        history's; a batch already drawn (during a catch-up) is left alone."""
        if self._closed or not self._page_loaded:
            # Panel drops a page's updates until the browser reports it ready, though the
            # browser already holds the document: rows are drawn once the page has loaded.
            return
        if batch is None or batch.first_seq != self._cursor + 1:
            if batch is not None and batch.last_seq <= self._cursor:
                return
            batch = self.feed.fanout.since(self._cursor)
        self._cursor = batch.last_seq
        if not len(batch.rows):
            self._draw_forecast()
            return
        if (len(self.lines.data["time"]) > self.feed.overviews.stale_rows * 2
                and self.feed.overviews.get(self.window) is not self._overview):
            self._redraw()  # a newer overview holds what was pushed since
            return
        drawing = self._drawing(batch)
        with pn.io.hold():
            if len(drawing):
                self.lines.stream(dict(drawing.lines), rollover=self.feed.history.max_rows)
            self.dots.data = dict(drawing.dots)
            self._draw_forecast()
            self._show_state()
        self._push_to_notebook()

    def _redraw(self) -> None:
        """Draw the window afresh: its overview, then the rows pushed since (first paint,
        window, units or cities changed)."""
        overview = self.feed.overviews.get(self.window)
        batch = self.feed.fanout.since(overview.last_seq)
        drawing = self._drawing(batch)
        self._cursor = batch.last_seq
        with pn.io.hold():
            self._draw_overview(overview)
            self.lines.data = dict(drawing.lines)
            self.dots.data = dict(drawing.dots)
            self._label_axes()
            self._forecast_key = None
            self._draw_forecast()
            self._show_state()
        self._push_to_notebook()

    def _label_axes(self) -> None:
        """Axis titles, tick labels and hover text in this viewer's units and clock."""
        settings = self.settings
        zone_title = _zone_title(settings)
        time_labels = self._shared_parts["time_labels"]
        if (settings.time_zone == "local") != isinstance(time_labels, CustomJSTickFormatter):
            time_labels = self._shared_parts["time_labels"] = time_axis.tick_formatter(
                settings.time_zone)
        hover_times = {field: time_axis.hover_time(field, settings.time_zone)
                       for field in ("@time", "$x")}
        for quantity, fig in self.figures.items():
            label = quantity_label(quantity, settings.units)
            fig.left[0].axis_label = label
            x_axis = fig.below[0]
            if x_axis.axis_label:
                x_axis.axis_label = f"Time ({zone_title})"
            x_axis.formatter = time_labels
            for tool in self._hovers[quantity]:
                field = "@time" if tool.name == "readings" else "$x"
                text, formatter = hover_times[field]
                tool.formatters = {field: formatter}
                tool.tooltips = _tooltips(quantity, label, tool.name, text, zone_title)
        self.legend.object = _legend_html({c: self._colors[c] for c in self.cities}, zone_title)

    def _draw_overview(self, overview: Overview) -> None:
        self._overview, self._refined = overview, False
        lines = self._overview_lines(overview)
        for quantity, source in self.overview.items():
            source.data = lines[quantity]

    def _draw_refined(self, overview: Overview, finer: Overview) -> None:
        """The overview with ``finer``'s lines in the range they cover."""
        coarse = self._overview_lines(overview)
        fine = line_data.overview_lines(finer, self.cities, self.settings.units, self._colors)
        start_ms = finer.start_ms if finer.start_ms is not None else -float("inf")
        with pn.io.hold():
            for quantity, source in self.overview.items():
                source.data = _spliced(coarse[quantity], fine[quantity], start_ms, finer.end_ms)
        self._refined = True
        self._push_to_notebook()

    def _overview_lines(self, overview: Overview) -> line_data.Lines:
        units = self.settings.units
        shared = overview.derived(
            ("lines", units), lambda o: line_data.overview_lines(
                o, self._feed_cities, units, self._colors))
        return line_data.select(shared, self.cities)

    def _draw_forecast(self) -> None:
        """The forecast after now, when a newer one came (or the plots were drawn afresh)."""
        now_ms = time.time() * 1000
        for mark in self.now_marks.values():
            mark.location = now_ms
        if self.forecast is None:
            return
        zone = self.settings.zone
        key = (self.forecast.fetched_at, self.settings.units, zone, tuple(self.cities),
               int(now_ms // 3_600_000))
        if key == self._forecast_key:
            return
        self._forecast_key = key
        lines = _forecast_lines(self.forecast, self.forecast.fetched_at, self.settings.units,
                                zone, tuple(self._feed_cities), int(now_ms // 3_600_000))
        self.forecast_lines.data = line_data.joined(
            line_data.select_columns(lines, self.cities), self.dots.data)

    def _drawing(self, batch: Batch) -> plot_data.Drawing:
        """What ``batch`` adds to this viewer's plots, made once for every viewer."""
        units, cities, colors = self.settings.units, self._feed_cities, self._colors
        shared = batch.derived(
            ("realtime", units, tuple(cities)),
            lambda b: plot_data.drawing(b.rows, b.before, cities, units, colors))
        return shared.select(self.cities)

    def _show_state(self) -> None:
        """The plots, or a line saying why there is nothing to draw and what to do."""
        drawn = len(self.lines.data["time"]) > 0 or any(
            t == t for t in self.dots.data["time"]) or any(
            len(x) for x in self.overview[QUANTITIES[0]].data["xs"])
        message = NO_CITY if not self.cities else None if drawn else NO_READING
        if (message or "") != self.empty_state.object:
            self.empty_state.param.update(object=message or "", visible=message is not None)
            # A Bokeh pane takes its visibility from its model.
            self.plot_column.visible = message is None

    def _follow_window(self) -> None:
        """Show the chosen span of time before now (and the forecast after it) on all three
        plots, sharing one time axis."""
        span_s = WINDOWS_S[self.window]
        if span_s and self.forecast is not None and self.show_forecast:
            span_s += FORECAST_HOURS * 3600
        follow = {"follow": "end" if span_s else None,
                  "follow_interval": span_s * 1000 if span_s else None}
        x_range = self.figures[QUANTITIES[0]].x_range
        if isinstance(x_range, DataRange1d) and x_range.range_padding == 0:
            # The same range, told to follow otherwise: a new one is drawn empty in BokehJS.
            x_range.update(**follow)
        else:
            x_range = DataRange1d(range_padding=0, default_span=2 * LONE_MOMENT_PAD_S * 1000,
                                  only_visible=True,
                                  **follow)
            for fig in self.figures.values():
                fig.x_range = x_range
        self._push_to_notebook()

    def _figure(self, quantity: str) -> Plot:
        """One plot, built from Bokeh's models: a third quicker than ``bokeh.plotting.figure``,
        and building the plots is most of building a page."""
        color, shared = field("color"), self._shared_parts

        def renderer(source: ColumnDataSource, glyph, **params) -> GlyphRenderer:
            return GlyphRenderer(data_source=source, glyph=glyph, view=self._views[id(source)],
                                 **params)

        overview = renderer(self.overview[quantity], MultiLine(
            xs="xs", ys="ys", line_color=color, line_width=2))
        forecast = renderer(self.forecast_lines, MultiLine(
            xs="xs", ys=quantity, line_color=color, line_width=2, line_dash="dashed"),
            name="forecast", visible=self.show_forecast)
        self._forecast_renderers.append(forecast)
        lines = renderer(self.lines, Segment(
            x0="start", y0=plot_data.start_column(quantity), x1="time", y1=quantity,
            line_color=color, line_width=2))
        dot = {"x": "time", "y": quantity, "fill_color": color, "line_color": color, "size": 7}
        # Nothing here selects or mutes: Bokeh derives those looks in the browser if ever
        # needed, and the page is spared their models. The dot under the pointer stands out.
        dots = renderer(self.dots, Scatter(**dot), hover_glyph=Scatter(**dot, line_width=3))
        hovers = self._hovers[quantity] = [
            HoverTool(renderers=[lines, dots], name="readings"),
            HoverTool(renderers=[overview], name="overview"),
            HoverTool(renderers=[forecast], name="forecast")]
        tools = [PanTool(), WheelZoomTool(), BoxZoomTool(), ResetTool(), SaveTool(), *hovers]
        # Titles a little larger than ticks, unless the ticks are already large (a wall
        # screen): there a larger title no longer fits beside a short plot.
        title_px = self.tick_text_px + 3 if self.tick_text_px < 16 else self.tick_text_px
        fonts = {"axis_label_text_font_size": f"{title_px}px",
                 "major_label_text_font_size": f"{self.tick_text_px}px",
                 "axis_label_text_font_style": "normal"}
        # The plots share one time axis: name it once, under the last plot.
        # On a wall screen the legend's "times in UTC" says it, and the room goes to the plot.
        named = quantity == QUANTITIES[-1] and self.tick_text_px < 16
        x_axis = DatetimeAxis(axis_label="Time" if named else None, ticker=shared["time_ticker"],
                              formatter=shared["time_labels"],
                              major_label_policy=shared["labels"], **fonts)
        y_axis = LinearAxis(ticker=shared["value_ticker"], formatter=shared["value_labels"],
                            major_label_policy=shared["labels"], **fonts)
        return Plot(
            x_range=DataRange1d(), y_range=DataRange1d(only_visible=True), title=None,
            height=self.plot_height_px,
            sizing_mode="stretch_width", output_backend="canvas", min_border_left=70,
            toolbar=Toolbar(tools=tools, autohide=True, logo=None),
            renderers=[overview, forecast, lines, dots], below=[x_axis], left=[y_axis],
            center=[Grid(dimension=0, ticker=x_axis.ticker),
                    Grid(dimension=1, ticker=y_axis.ticker), self.now_marks[quantity]],
        )

    def _push_to_notebook(self) -> None:
        """In a notebook, send the changed sources through the comm (a server sends them)."""
        if self._doc is None:
            pn.io.push_notebook(self.plot_area)

    def _update_status(self, status: FeedStatus, batch: Batch | None = None) -> None:
        """Show the feed's health; the words of a pushed batch's status are made once."""
        zone = self.settings.zone
        live, paused, cities = _status_words(status, zone) if batch is None else batch.derived(
            ("status-words", zone), lambda b: _status_words(b.status, zone))
        self.status_line.object.text = paused if self.paused else live
        forecast = (_forecast_html(self.forecast.status(), zone) if self.forecast is not None
                    else "")
        self.feed_status.object.text = cities + forecast


@lru_cache(maxsize=16)
def _forecast_lines(poll: ForecastPoll, fetched_at: float | None, units: str,
                    zone: str | None, cities: tuple[str, ...], hour: int) -> dict[str, list]:
    """Every city's forecast, made once per forecast, unit system, clock and hour for all
    viewers."""
    return line_data.forecast_lines(poll.frame(), cities, units,
                                    plot_data.city_colors(cities), hour * 3_600_000,
                                    FORECAST_HOURS + 1, zone=zone)


@lru_cache(maxsize=16)
def _forecast_html(status: ForecastStatus, zone: str | None) -> str:
    lines = [status.summary(zone).split(" · ")[0], *status.problems()]
    colour = "#b42318" if status.problems() else "inherit"
    return "".join(f'<div style="color:{colour if i else "inherit"}">{html.escape(line)}</div>'
                   for i, line in enumerate(lines))


def _spliced(coarse: dict[str, list], fine: dict[str, list], start_ms: float,
             end_ms: float) -> dict[str, list]:
    """Each city's coarse line with its part in ``start_ms..end_ms`` replaced by ``fine``."""
    finer = {c: i for i, c in enumerate(fine["city"])}
    xs, ys = [], []
    for city, x, y in zip(coarse["city"], coarse["xs"], coarse["ys"], strict=True):
        i = finer.get(city)
        if i is None:
            xs.append(x)
            ys.append(y)
            continue
        before, after = x < start_ms, x > end_ms
        xs.append(np.r_[x[before], fine["xs"][i], x[after]])
        ys.append(np.r_[y[before], fine["ys"][i], y[after]])
    return {**coarse, "xs": xs, "ys": ys}


def _status_words(status: FeedStatus, zone: str | None) -> tuple[str, str, str]:
    """The status line as HTML, live and paused, and the line of each city."""
    summary, problem = status.summary(zone), bool(status.problems())
    return (_status_html(summary, problem),
            _status_html("paused for this viewer · " + summary, problem),
            _cities_html(status, zone))


def _zone_title(settings: ViewerSettings) -> str:
    """The viewer's clock as a reader names it: "UTC", "CET", or "local time" (not told)."""
    if settings.time_zone == "local" and not settings.browser_zone:
        return "local time"
    return zone_name(settings.zone)


def _tooltips(quantity: str, label: str, layer: str, time_text: str,
              zone_title: str) -> list[tuple[str, str]]:
    """Hover text of a reading, an overview line or a forecast line (``layer``)."""
    # Bokeh shows field values as text, so a city name is never markup here.
    value = f"@{{{quantity}}}{{0.0}}" if layer == "readings" else "$y{0.0}"
    first = [("City", "@city"), *([("", "@label")] if layer == "forecast" else [])]
    return [*first, (f"Time ({zone_title})", time_text), (label, value)]


def _legend_html(colors: dict[str, str], zone_title: str) -> str:
    items = "".join(
        f'<span style="margin-right:1.2em;white-space:nowrap">'
        f'<span style="color:{color};font-size:1.4em">&#9644;</span> {html.escape(city)}</span>'
        for city, color in colors.items()
    )
    note = f'<span style="color:#666">times in {html.escape(zone_title)}</span>'
    return f'<div style="font-size:1.05em">{items}{note}</div>'


def _cities_html(status: FeedStatus, zone: str | None) -> str:
    """One line per city: when it last answered, or why it does not."""
    rows = []
    for city in status.cities:
        if city.error_status:
            state, colour = city.error_status, "#b42318"
        elif city.last_success_at is None:
            state, colour = "waiting", "inherit"
        else:
            stale = " (stale)" if city.stale else ""
            state = f"ok {clock(city.last_success_at, zone)}{stale}"
            colour = "#b54708" if city.stale else "inherit"
        rows.append(f'<tr><td>{html.escape(city.city)}</td>'
                    f'<td style="color:{colour};padding-left:1em">{html.escape(state)}</td></tr>')
    return f'<table style="font-size:0.95em">{"".join(rows)}</table>'


def _status_html(text: str, problem: bool) -> str:
    colour = "#b42318" if problem else "inherit"
    return f'<span style="color:{colour}">{html.escape(text)}</span>'
