"""The "Real Time" tab: a viewer's own Bokeh plots of every city, fed by the feed's pushes."""

from __future__ import annotations

import html
import logging

import panel as pn
import param
from bokeh.core.properties import field
from bokeh.models import (
    BoxZoomTool,
    ColumnDataSource,
    DataRange1d,
    DatetimeAxis,
    Div,
    GlyphRenderer,
    Grid,
    HoverTool,
    LinearAxis,
    PanTool,
    Plot,
    ResetTool,
    SaveTool,
    Scatter,
    Segment,
    Toolbar,
    WheelZoomTool,
)

from dashboards.server.feed import WeatherFeed
from dashboards.server.push import Batch
from dashboards.server.status import FeedStatus, clock_utc
from dashboards.views.realtime import plot_data
from dashboards.views.realtime.export import ExportDownload
from dashboards.views.settings import ViewerSettings
from weather.models import QUANTITIES, quantity_label

#: Time windows a viewer can choose, in seconds (None: everything retained).
WINDOWS_S: dict[str, float | None] = {
    "Last hour": 3600.0,
    "Last 6 h": 6 * 3600.0,
    "Last 24 h": 24 * 3600.0,
    "All": None,
}
#: When a plot holds a single moment, the time axis spans this much either side of it.
LONE_MOMENT_PAD_S = 60.0
#: Names of the plots' two data sources, for whoever looks into a page (tests, benchmarks).
LINES_SOURCE, DOTS_SOURCE = "realtime-lines", "realtime-dots"
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

    Three Bokeh figures this view owns share one time axis and two sources: the segments
    joining each city's readings, and a dot per city at its newest one (``plot_data``). The
    feed pushes each batch of new rows (``dashboards.server.push``); the plot data of a batch
    is made once for every viewer, and this view only selects its cities and streams them.
    A paused viewer, or a page still loading, catches up from the history afterwards.
    """

    feed = param.ClassSelector(class_=WeatherFeed, doc="The process-wide feed to draw.")
    settings = param.ClassSelector(class_=ViewerSettings, doc="This viewer's display choices.")
    cities = param.ListSelector(default=[], objects=[], doc="Cities drawn for this viewer.")
    window = param.Selector(default="All", objects=list(WINDOWS_S), doc="Time span shown.")
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
        self._page_loaded = False
        self._closed = False
        doc = pn.state.curdoc
        served = doc is not None and doc.session_context is not None
        self._doc = doc if served else None  # None: a notebook, or no page at all
        blank = plot_data.empty(self._feed_cities, self._colors)
        self.lines = ColumnDataSource(data=dict(blank.lines), name=LINES_SOURCE)
        self.dots = ColumnDataSource(data=dict(blank.dots), name=DOTS_SOURCE)
        self.figures = {q: self._figure(q) for q in QUANTITIES}
        self.plots = {
            q: pn.pane.Bokeh(fig, sizing_mode="stretch_width", height=self.plot_height_px)
            for q, fig in self.figures.items()
        }
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
        # The stored rows behind the plots, as a file: this viewer's cities, window and units.
        self.export = ExportDownload(history=self.feed.history, settings=self.settings,
                                     cities=list(self.cities), window_s=WINDOWS_S[self.window])
        self.param.watch(lambda _e: self.export.param.update(
            cities=list(self.cities), window_s=WINDOWS_S[self.window]), ["cities", "window"])
        self.controls = pn.FlexBox(
            pn.widgets.MultiChoice.from_param(self.param.cities, name="Cities", width=460),
            # No help icon: its tooltip opened over the Pause button.
            pn.widgets.RadioButtonGroup.from_param(
                self.param.window, name="Window", color="primary", variant="outline",
                width=380, margin=(28, 10, 10, 10), description=None,
            ),
            self.pause_button,
            self.export,
            sizing_mode="stretch_width",
        )
        self.legend = pn.pane.HTML(sizing_mode="stretch_width", margin=(0, 10))
        # Shown or hidden as one: a Bokeh pane takes its visibility from its figure.
        self.plot_area = pn.Column(*self.plots.values(), sizing_mode="stretch_width")
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
        pn.state.onload(self.page_loaded)
        if served:
            # Registered on this session's document, so it goes away with the session.
            doc.on_session_destroyed(self._on_session_destroyed)

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

    @param.depends("cities", watch=True)
    def _on_cities(self) -> None:
        self._redraw()

    @param.depends("window", watch=True)
    def _on_window(self) -> None:
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
            return
        drawing = self._drawing(batch)
        with pn.io.hold():
            if len(drawing):
                self.lines.stream(dict(drawing.lines), rollover=self.feed.history.max_rows)
            self.dots.data = dict(drawing.dots)
            self._show_state()
        self._push_to_notebook()

    def _redraw(self) -> None:
        """Draw the retained history afresh (first paint, units or cities changed)."""
        batch = self.feed.fanout.since(0)
        drawing = self._drawing(batch)
        self._cursor = batch.last_seq
        units = self.settings.units
        with pn.io.hold():
            self.lines.data = dict(drawing.lines)
            self.dots.data = dict(drawing.dots)
            for quantity, fig in self.figures.items():
                label = quantity_label(quantity, units)
                fig.left[0].axis_label = label
                fig.select_one(HoverTool).tooltips = _tooltips(quantity, label)
            self.legend.object = _legend_html({c: self._colors[c] for c in self.cities})
            self._show_state()
        self._push_to_notebook()

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
            t == t for t in self.dots.data["time"])
        message = NO_CITY if not self.cities else None if drawn else NO_READING
        if (message or "") != self.empty_state.object:
            self.empty_state.param.update(object=message or "", visible=message is not None)
            self.plot_area.visible = message is None

    def _follow_window(self) -> None:
        """Show the chosen span of time, ending at the newest reading, on all three plots.

        A new range each time: Bokeh keeps a zoomed view (until the reset tool) by marking the
        range, and choosing a window should show it even after a zoom.
        """
        span_s = WINDOWS_S[self.window]
        x_range = DataRange1d(
            range_padding=0, default_span=2 * LONE_MOMENT_PAD_S * 1000,
            follow="end" if span_s else None,
            follow_interval=span_s * 1000 if span_s else None,
        )
        for fig in self.figures.values():
            fig.x_range = x_range
        self._push_to_notebook()

    def _figure(self, quantity: str) -> Plot:
        """One plot, built from Bokeh's models: a third quicker than ``bokeh.plotting.figure``,
        and building the plots is most of building a page."""
        color = field("color")
        lines = GlyphRenderer(data_source=self.lines, glyph=Segment(
            x0="start", y0=plot_data.start_column(quantity), x1="time", y1=quantity,
            line_color=color, line_width=2))
        dot = {"x": "time", "y": quantity, "fill_color": color, "line_color": color, "size": 7}
        # Nothing here selects or mutes: Bokeh derives those looks in the browser if ever
        # needed, and the page is spared their models. The dot under the pointer stands out.
        dots = GlyphRenderer(data_source=self.dots, glyph=Scatter(**dot),
                             hover_glyph=Scatter(**dot, line_width=3))
        tools = [PanTool(), WheelZoomTool(), BoxZoomTool(), ResetTool(), SaveTool(),
                 HoverTool(renderers=[lines, dots], formatters={"@time": "datetime"})]
        # Titles a little larger than ticks, unless the ticks are already large (a wall
        # screen): there a larger title no longer fits beside a short plot.
        title_px = self.tick_text_px + 3 if self.tick_text_px < 16 else self.tick_text_px
        fonts = {"axis_label_text_font_size": f"{title_px}px",
                 "major_label_text_font_size": f"{self.tick_text_px}px",
                 "axis_label_text_font_style": "normal"}
        # The plots share one time axis: name it once, under the last plot.
        # On a wall screen the legend's "times in UTC" says it, and the room goes to the plot.
        named = quantity == QUANTITIES[-1] and self.tick_text_px < 16
        x_axis = DatetimeAxis(axis_label="Time (UTC)" if named else None,
                              **fonts)
        y_axis = LinearAxis(**fonts)
        return Plot(
            x_range=DataRange1d(), y_range=DataRange1d(), height=self.plot_height_px,
            sizing_mode="stretch_width", output_backend="canvas", min_border_left=70,
            toolbar=Toolbar(tools=tools, autohide=True, logo=None),
            renderers=[lines, dots], below=[x_axis], left=[y_axis],
            center=[Grid(dimension=0, ticker=x_axis.ticker),
                    Grid(dimension=1, ticker=y_axis.ticker)],
        )

    def _push_to_notebook(self) -> None:
        """In a notebook, send the changed sources through the comm (a server sends them)."""
        if self._doc is None:
            pn.io.push_notebook(*self.plots.values())

    def _update_status(self, status: FeedStatus, batch: Batch | None = None) -> None:
        """Show the feed's health; the words of a pushed batch's status are made once."""
        live, paused, cities = _status_words(status) if batch is None else batch.derived(
            "status-words", lambda b: _status_words(b.status))
        self.status_line.object.text = paused if self.paused else live
        self.feed_status.object.text = cities


def _status_words(status: FeedStatus) -> tuple[str, str, str]:
    """The status line as HTML, live and paused, and the line of each city."""
    summary, problem = status.summary(), bool(status.problems())
    return (_status_html(summary, problem),
            _status_html("paused for this viewer · " + summary, problem),
            _cities_html(status))


def _tooltips(quantity: str, label: str) -> list[tuple[str, str]]:
    # Bokeh shows field values as text, so a city name is never markup here.
    return [("City", "@city"), ("Time (UTC)", "@time{%F %H:%M}"),
            (label, f"@{{{quantity}}}{{0.0}}")]


def _legend_html(colors: dict[str, str]) -> str:
    items = "".join(
        f'<span style="margin-right:1.2em;white-space:nowrap">'
        f'<span style="color:{color};font-size:1.4em">&#9644;</span> {html.escape(city)}</span>'
        for city, color in colors.items()
    )
    note = '<span style="color:#666">times in UTC</span>'
    return f'<div style="font-size:1.05em">{items}{note}</div>'


def _cities_html(status: FeedStatus) -> str:
    """One line per city: when it last answered, or why it does not."""
    rows = []
    for city in status.cities:
        if city.error_status:
            state, colour = city.error_status, "#b42318"
        elif city.last_success_at is None:
            state, colour = "waiting", "inherit"
        else:
            stale = " (stale)" if city.stale else ""
            state = f"ok {clock_utc(city.last_success_at)}{stale}"
            colour = "#b54708" if city.stale else "inherit"
        rows.append(f'<tr><td>{html.escape(city.city)}</td>'
                    f'<td style="color:{colour};padding-left:1em">{html.escape(state)}</td></tr>')
    return f'<table style="font-size:0.95em">{"".join(rows)}</table>'


def _status_html(text: str, problem: bool) -> str:
    colour = "#b42318" if problem else "inherit"
    return f'<span style="color:{colour}">{html.escape(text)}</span>'
