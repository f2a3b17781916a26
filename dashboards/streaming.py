"""The "Real Time" tab: line plots of every city, fed from the shared history through Buffers."""

from __future__ import annotations

import html
import logging

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param

from dashboards.feed import WeatherFeed
from dashboards.plotting import CANVAS, PLOT_FONTS, drawn_plots
from dashboards.status import FeedStatus, clock_utc
from dashboards.viewer_settings import ViewerSettings
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
PLOT_COLUMNS = ["time", *QUANTITIES]

log = logging.getLogger(__name__)


class StreamingTab(pn.viewable.Viewer):
    """Temperature, humidity and wind speed over time, one line per city, for one viewer.

    Every ``check_period_ms`` the session's own periodic callback asks the shared history for
    rows it has not drawn yet and sends them into one ``hv.streams.Buffer`` per city, so the
    browser receives the new points only. Nothing here is shared with other sessions.
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
        self.param.cities.objects = feed_cities
        with param.parameterized.discard_events(self):
            self.cities = [c for c in self.cities if c in feed_cities] or feed_cities
        self._colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(feed_cities)}
        self._cursor = 0
        self._buffers: dict[str, hv.streams.Buffer] = {}
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
        self._buffers = {}
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
    def _display_rows(self, rows: pd.DataFrame) -> pd.DataFrame:
        return convert_frame(rows, self.settings.units)

    def _update_plots(self) -> None:
        """Send the rows added since the last look to this viewer's plots, and only those."""
        if not self._page_loaded:
            # Panel drops a page's updates until the browser reports it ready, though the
            # browser already holds the document: rows sent now would be lost for good.
            # They stay in the history and go out once the page has loaded.
            return
        rows, self._cursor = self.feed.history.since(self._cursor)
        if rows.empty:
            return
        rows = self._display_rows(rows)
        chunks = {}
        for city, group in rows.groupby("city", sort=False):
            buffer = self._buffers.get(city)
            if buffer is not None:
                chunk = group[PLOT_COLUMNS].reset_index(drop=True)
                # The Buffer keeps every row, for any full redraw HoloViews makes later.
                buffer.update(data=chunk)
                chunks[id(buffer)] = chunk
        with pn.io.hold():
            for quantity, pane in self.plots.items():
                for plot in drawn_plots(pane):
                    _stream_rows(plot, quantity, chunks)
            self._follow_data()
            self._apply_window()

    def _follow_data(self) -> None:
        """Stretch the axes over all the data, as HoloViews would, unless the viewer zoomed."""
        if not self._buffers or not all(b.following for b in self._buffers.values()):
            return
        frames = [b.data for b in self._buffers.values() if len(b.data)]
        if not frames:
            return
        # The plots share one time axis: its span is found once, not once per plot.
        start = _axis_time(min(f["time"].min() for f in frames))
        end = _axis_time(max(f["time"].max() for f in frames))
        for quantity, pane in self.plots.items():
            low = min(float(f[quantity].min()) for f in frames)
            high = max(float(f[quantity].max()) for f in frames)
            pad = (high - low) * 0.1 or 1.0
            for plot in drawn_plots(pane):
                plot.handles["x_range"].update(start=start, end=end)
                plot.handles["y_range"].update(start=low - pad, end=high + pad)

    def _rebuild(self) -> None:
        """Draw the retained history afresh (first paint, units, cities or window changed)."""
        history, self._cursor = self.feed.history.since(0)
        history = self._display_rows(history)
        self._buffers = {
            city: hv.streams.Buffer(
                history.loc[history["city"] == city, PLOT_COLUMNS].reset_index(drop=True),
                length=self.feed.history.max_rows, index=False,
            )
            for city in self.cities
        }
        with pn.io.hold():
            self.legend.object = _legend_html({c: self._colors[c] for c in self.cities})
            for quantity, pane in self.plots.items():
                pane.object = self._overlay(quantity)
            self._apply_window()

    def _overlay(self, quantity: str) -> hv.DynamicMap:
        label = quantity_label(quantity, self.settings.units)
        style = {
            "tools": ["hover"], "line_width": 2, "responsive": True, "show_grid": True,
            "height": self.plot_height_px, "ylabel": label,
            # The plots share one time axis: name it once, under the last plot.
            "xlabel": "Time (UTC)" if quantity == QUANTITIES[-1] else "",
            # One shared legend above the plots replaces a legend in each of them.
            "show_legend": False,
            "fontsize": PLOT_FONTS, "autohide_toolbar": True,
        }
        curves = [
            # Options on the DynamicMap, set once, rather than on each curve it makes.
            hv.DynamicMap(_CurveMaker(city, quantity, label), streams=[buffer]).opts(
                color=self._colors[city], **style
            )
            for city, buffer in self._buffers.items()
        ]
        if not curves:
            return hv.Curve([], "time", quantity).opts(**style, **CANVAS)
        return hv.Overlay(curves).collate().opts(**CANVAS)

    def _apply_window(self) -> None:
        """Show only the chosen span of time, ending now, on every plot of this viewer."""
        span_s = WINDOWS_S[self.window]
        # A viewer who panned or zoomed keeps their view (HoloViews stops following) until
        # they press the plot's reset button.
        if span_s is None or not all(b.following for b in self._buffers.values()):
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


class _CurveMaker:
    """Builds one city's curve from its Buffer's frame, keeping the frame as the curve's data.

    HoloViews streams only the new rows when the element's data *is* the Buffer's frame.
    A small class rather than a closure so each curve's label and columns are explicit.
    """

    def __init__(self, city: str, quantity: str, label: str) -> None:
        self.city, self.quantity, self.label = city, quantity, label

    def __call__(self, data: pd.DataFrame) -> hv.Curve:
        return hv.Curve(
            data, kdims=[hv.Dimension("time", label="Time (UTC)")],
            vdims=[hv.Dimension(self.quantity, label=self.label)], label=self.city,
        )


def _axis_time(moment: pd.Timestamp) -> np.datetime64:
    """A UTC time as a time axis holds it: naive ``datetime64``, as HoloViews sets it.

    A Bokeh range keeps the type it is given, and Panel's axis linking compares start and
    end: a ``Timestamp`` end beside HoloViews' ``datetime64`` start makes that raise.
    """
    return moment.tz_convert(None).to_datetime64()


def _stream_rows(plot, quantity: str, chunks: dict[int, pd.DataFrame]) -> None:
    """Append each city's new rows to its line's Bokeh data source: the browser gets those.

    This is the append HoloViews makes for a streaming ``Buffer``, done directly: letting
    HoloViews redraw 21 curves per update cost a few hundred milliseconds of server time
    per viewer. Each line is matched to its city through the Buffer that feeds it.
    """
    lines = plot.subplots.values() if plot.subplots else [plot]
    for line in lines:
        buffer = line.streaming[0] if line.streaming else None
        chunk = chunks.get(id(buffer)) if buffer is not None else None
        if chunk is None:
            continue
        line.handles["source"].stream(
            {"time": chunk["time"].dt.tz_convert(None).to_numpy(),
             quantity: chunk[quantity].to_numpy()},
            rollover=buffer.length,
        )


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
