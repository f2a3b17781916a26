"""The "Real Time" tab: line plots of every city, fed from the shared history through Buffers."""

from __future__ import annotations

import html
import logging

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param

from dashboards.server.feed import WeatherFeed
from dashboards.server.status import FeedStatus, clock_utc
from dashboards.views.plotting import CANVAS, PLOT_FONTS, drawn_plots, without_unused_glyphs
from dashboards.views.realtime import plot_data
from dashboards.views.settings import ViewerSettings
from weather.models import QUANTITIES, quantity_label
from weather.units import convert_frame

#: Time windows a viewer can choose, in seconds (None: everything retained).
WINDOWS_S: dict[str, float | None] = {
    "Last hour": 3600.0,
    "Last 6 h": 6 * 3600.0,
    "Last 24 h": 24 * 3600.0,
    "All": None,
}
#: One colour per city, the same in every plot (Bokeh's Category10, then Category20's light).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
)
#: When a plot holds a single moment, the time axis spans this much either side of it.
LONE_MOMENT_PAD = np.timedelta64(60, "s")

log = logging.getLogger(__name__)


class StreamingTab(pn.viewable.Viewer):
    """Temperature, humidity and wind speed over time, one line per city, for one viewer.

    Each plot is a ``Segment`` glyph holding every city's line, fed by an ``hv.streams.Buffer``,
    with a dot per city at its newest reading, fed by an ``hv.streams.Pipe``
    (``plot_data``). Every ``check_period_ms`` the session's own periodic callback
    asks the shared history for rows it has not drawn yet; the browser receives the new
    segments and dots only. Nothing here is shared with other sessions.
    """

    feed = param.ClassSelector(class_=WeatherFeed, doc="The process-wide feed to draw.")
    settings = param.ClassSelector(class_=ViewerSettings, doc="This viewer's display choices.")
    cities = param.ListSelector(default=[], objects=[], doc="Cities drawn for this viewer.")
    window = param.Selector(default="All", objects=list(WINDOWS_S), doc="Time span shown.")
    paused = param.Boolean(default=False, doc="""
        Hold this viewer's plots still; the shared feed keeps polling and the plots catch up
        on resume.""")
    check_period_ms = param.Integer(default=1000, bounds=(50, None), doc="""
        Milliseconds between two looks at the shared history for rows not drawn yet.""")
    plot_height_px = param.Integer(default=230, bounds=(120, None), doc="""
        Height of each plot in pixels; three plots and the controls fit a 1080p screen.""")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        if self.settings is None:
            self.settings = ViewerSettings()
        feed_cities = list(self.feed.cities)
        # Named by their escaped text: the chooser (choices.js) puts labels into the page as
        # markup, and a city name is outside text.
        self.param.cities.objects = {html.escape(c): c for c in feed_cities}
        with param.parameterized.discard_events(self):
            self.cities = [c for c in self.cities if c in feed_cities] or feed_cities
        self._colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(feed_cities)}
        self._cursor = 0
        self._segments: dict[str, hv.streams.Buffer] = {}
        self._markers: dict[str, hv.streams.Pipe] = {}
        self._newest: pd.DataFrame | None = None  # each city's newest drawn reading
        self.plots = {
            # Linked: the plots share one time axis, so panning one pans all three.
            q: pn.pane.HoloViews(sizing_mode="stretch_width", height=self.plot_height_px,
                                 linked_axes=True)
            for q in QUANTITIES
        }
        self.status_line = pn.pane.HTML(sizing_mode="stretch_width", margin=(5, 10))
        self.feed_status = pn.pane.HTML(sizing_mode="stretch_width", margin=(0, 10))
        self.controls = pn.FlexBox(
            pn.widgets.MultiChoice.from_param(self.param.cities, name="Cities", width=460),
            pn.widgets.RadioButtonGroup.from_param(
                self.param.window, name="Window", color="primary", variant="outline",
                width=380, margin=(28, 10, 10, 10),
            ),
            pn.widgets.Toggle.from_param(self.param.paused, name="Pause", width=100,
                                         color="warning", margin=(28, 10, 10, 10)),
            sizing_mode="stretch_width",
        )
        self.legend = pn.pane.HTML(sizing_mode="stretch_width", margin=(0, 10))
        self._layout = pn.Column(
            self.controls, self.status_line, self.legend, *self.plots.values(),
            sizing_mode="stretch_width",
        )
        self._page_loaded = False
        self._rebuild()
        self._update_status()
        self.settings.param.watch(self._on_units, "units")
        pn.state.onload(self._on_page_loaded)
        # A background callback, as Panel's own housekeeping is: a foreground one marks the
        # session busy on every tick, which set the header's busy spinner blinking every
        # second on an idle page (and cost the browser a steady 7 % of a core redrawing it).
        # Not logged either: two log lines per viewer per second would bury the useful ones.
        self._callback = pn.io.PeriodicCallback(
            callback=self._on_tick, period=self.check_period_ms, background=True, log=False
        )
        self._callback.start()
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            # Registered on this session's document, so it goes away with the session.
            doc.on_session_destroyed(self._on_session_destroyed)

    def __panel__(self):
        return self._layout

    # -- handlers ---------------------------------------------------------------------------
    def _on_tick(self) -> None:
        self._update_status()
        if not self.paused:
            self._update_plots()

    def _on_page_loaded(self) -> None:
        self._page_loaded = True
        self._update_plots()

    def _on_session_destroyed(self, _session_context) -> None:
        """Stop this viewer's timer and let go of its plots when the browser tab closes."""
        self._callback.stop()
        self._segments, self._markers = {}, {}
        log.info("viewer session closed; its Real Time tab stopped")

    def _on_units(self, _event) -> None:
        self._rebuild()

    @param.depends("cities", "window", watch=True)
    def _on_view_change(self) -> None:
        self._rebuild()

    @param.depends("paused", watch=True)
    def _on_pause(self) -> None:
        self._update_status()
        if not self.paused:
            self._update_plots()

    # -- updates ----------------------------------------------------------------------------
    def _readings(self, rows: pd.DataFrame) -> pd.DataFrame:
        """History rows as this viewer's plots take them: chosen cities, chosen units."""
        return plot_data.readings(convert_frame(rows, self.settings.units), self.cities)

    def _update_plots(self) -> None:
        """Send the rows added since the last look to this viewer's plots, and only those."""
        if not self._page_loaded:
            # Panel drops a page's updates until the browser reports it ready, though the
            # browser already holds the document: rows sent now would be lost for good.
            # They stay in the history and go out once the page has loaded.
            return
        rows, self._cursor = self.feed.history.since(self._cursor)
        if rows.empty:  # most ticks: nothing new
            return
        new = self._readings(rows)
        if new.empty:
            return
        newest = plot_data.newest_readings(new, self._newest, self.cities)
        segments = plot_data.segments(new, self._newest, self._colors)
        with pn.io.hold():
            for quantity, pane in self.plots.items():
                added = segments[quantity]
                dots = plot_data.markers(newest, quantity, self._colors)
                # The streams keep what is drawn, for any full redraw HoloViews makes later;
                # ``update`` stores it without drawing, as the lines below do that.
                self._segments[quantity].update(data=added)
                self._markers[quantity].update(data=dots)
                for plot in drawn_plots(pane):
                    _draw_new(plot, self._segments[quantity], added, dots)
            self._newest = newest
            self._follow_data()
            self._apply_window()

    def _follow_data(self) -> None:
        """Stretch the axes over all the data, as HoloViews would, unless the viewer zoomed."""
        if not self._segments or not all(b.following for b in self._segments.values()):
            return
        times = self._time_span()
        if times is None:
            return
        start, end = _padded_if_lone(times)
        for quantity, pane in self.plots.items():
            values = plot_data.value_span([self._segments[quantity].data, self._newest], quantity)
            if values is None:
                continue
            low, high = values
            pad = (high - low) * 0.1 or 1.0
            for plot in drawn_plots(pane):
                plot.handles["x_range"].update(start=start, end=end)
                plot.handles["y_range"].update(start=low - pad, end=high + pad)

    def _time_span(self) -> tuple[np.datetime64, np.datetime64] | None:
        """The times drawn, earliest and latest (None before any reading).

        The plots share one time axis: its span is found once, not once per plot, and from
        one plot's segments, as every plot has its segments at the same times.
        """
        any_segments = next(iter(self._segments.values())).data
        return plot_data.time_span([any_segments, self._newest])

    def _rebuild(self) -> None:
        """Draw the retained history afresh (first paint, units, cities or window changed)."""
        history, self._cursor = self.feed.history.since(0)
        history = self._readings(history)
        self._newest = plot_data.newest_readings(history, None, self.cities)
        self._segments = {
            q: hv.streams.Buffer(frame, length=self.feed.history.max_rows, index=False)
            for q, frame in plot_data.segments(history, None, self._colors).items()
        }
        self._markers = {
            q: hv.streams.Pipe(data=plot_data.markers(self._newest, q, self._colors))
            for q in QUANTITIES
        }
        # A page opened on a single poll (a new install) spans that moment by the pad too:
        # HoloViews spans it by a second, labelled in milliseconds, until the next poll.
        times = self._time_span()
        lone = times is not None and times[0] == times[1]
        with pn.io.hold():
            self.legend.object = _legend_html({c: self._colors[c] for c in self.cities})
            for quantity, pane in self.plots.items():
                plot = self._plot(quantity)
                pane.object = plot.opts(xlim=_padded_if_lone(times)) if lone else plot
            self._apply_window()

    def _plot(self, quantity: str) -> hv.Overlay:
        label = quantity_label(quantity, self.settings.units)
        tooltips = [("City", "@city"), ("Time (UTC)", "@time{%F %H:%M}"),
                    (label, f"@{{{quantity}}}{{0.0}}")]
        shared = {
            "tools": ["hover"], "hover_tooltips": tooltips,
            "hover_formatters": {"@{time}": "datetime"}, "color": "color",
            "hooks": [without_unused_glyphs],
        }
        style = {
            "responsive": True, "show_grid": True, "height": self.plot_height_px,
            "ylabel": label,
            # The plots share one time axis: name it once, under the last plot.
            "xlabel": "Time (UTC)" if quantity == QUANTITIES[-1] else "",
            # One shared legend above the plots replaces a legend in each of them.
            "show_legend": False,
            "fontsize": PLOT_FONTS, "autohide_toolbar": True,
        }
        lines = hv.DynamicMap(_Segments(quantity, label), streams=[self._segments[quantity]])
        dots = hv.DynamicMap(_Markers(quantity, label), streams=[self._markers[quantity]])
        return (lines.opts(line_width=2, **shared, **style)
                * dots.opts(size=7, **shared)).opts(**CANVAS)

    def _apply_window(self) -> None:
        """Show only the chosen span of time, ending now, on every plot of this viewer."""
        span_s = WINDOWS_S[self.window]
        # A viewer who panned or zoomed keeps their view (HoloViews stops following) until
        # they press the plot's reset button.
        if span_s is None or not all(b.following for b in self._segments.values()):
            return
        now = pd.Timestamp.now(tz="UTC")
        start, end = _axis_time(now - pd.Timedelta(seconds=span_s)), _axis_time(now)
        for pane in self.plots.values():
            for plot in drawn_plots(pane):
                plot.handles["x_range"].update(start=start, end=end)

    def _update_status(self) -> None:
        status = self.feed.status()
        summary = status.summary()
        if self.paused:
            summary = "paused for this viewer · " + summary
        self.status_line.object = _status_html(summary, bool(status.problems()))
        self.feed_status.object = _cities_html(status)


class _Segments:
    """Builds a plot's lines from its Buffer's frame, keeping the frame as the element's data.

    HoloViews streams only the new rows when the element's data *is* the Buffer's frame.
    A small class rather than a closure so each plot's columns and labels are explicit.
    """

    def __init__(self, quantity: str, label: str) -> None:
        self.quantity, self.label = quantity, label

    def __call__(self, data: pd.DataFrame) -> hv.Segments:
        return hv.Segments(
            data,
            # Labels must differ: HoloViews finds a dimension by its label too, and two alike
            # drew every segment from its start to its start.
            kdims=["start", plot_data.start_column(self.quantity),
                   hv.Dimension("time", label="Time (UTC)"),
                   hv.Dimension(self.quantity, label=self.label)],
            vdims=["city", "color"],
        )


class _Markers:
    """Builds a plot's dots, one per city at its newest reading, from its Pipe's frame."""

    def __init__(self, quantity: str, label: str) -> None:
        self.quantity, self.label = quantity, label

    def __call__(self, data: pd.DataFrame) -> hv.Scatter:
        return hv.Scatter(
            data, kdims=[hv.Dimension("time", label="Time (UTC)")],
            vdims=[hv.Dimension(self.quantity, label=self.label), "city", "color"],
        )


def _padded_if_lone(times: tuple[np.datetime64, np.datetime64]
                    ) -> tuple[np.datetime64, np.datetime64]:
    """A time axis's span: ``times``, or ``LONE_MOMENT_PAD`` either side of a lone moment."""
    start, end = times
    if start == end:
        return start - LONE_MOMENT_PAD, end + LONE_MOMENT_PAD
    return start, end


def _axis_time(moment: pd.Timestamp) -> np.datetime64:
    """A UTC time as a time axis holds it: naive ``datetime64``, as HoloViews sets it.

    A Bokeh range keeps the type it is given, and Panel's axis linking compares start and
    end: a ``Timestamp`` end beside HoloViews' ``datetime64`` start makes that raise.
    """
    return moment.tz_convert(None).to_datetime64()


def _draw_new(plot, buffer: hv.streams.Buffer, added: pd.DataFrame,
              dots: pd.DataFrame) -> None:
    """Append the new segments to a plot's lines and move its dots: the browser gets those.

    This is the append HoloViews makes for a streaming ``Buffer``, done directly: letting
    HoloViews redraw the plots on every update cost a few hundred milliseconds of server time
    per viewer. The dots are one row per city, so they are replaced whole.
    """
    for layer in plot.subplots.values():
        source = layer.handles["source"]
        if layer.streaming and layer.streaming[0] is buffer:
            if len(added):
                source.stream({c: added[c].to_numpy() for c in source.data},
                              rollover=buffer.length)
        else:
            source.data = {c: dots[c].to_numpy() for c in source.data}


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
