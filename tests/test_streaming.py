"""The Real Time tab without a browser: first paint, new rows only, units, pause, cities."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import holoviews as hv
import numpy as np
import panel as pn
import pytest
from bokeh.document import Document
from bokeh.document.events import ColumnDataChangedEvent, ColumnsStreamedEvent
from bokeh.models import Axis

from dashboards.page.shell import page_template
from dashboards.server.feed import WeatherFeed
from dashboards.server.history import History, observations_frame
from dashboards.views.plotting import drawn_plots
from dashboards.views.realtime.tab import StreamingTab
from dashboards.views.settings import ViewerSettings
from weather.models import Observation
from weather.providers.demo import DemoProvider

CITIES = ("San Francisco", "Fresno", "San Diego")
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def add_polls(history: History, first: int, count: int) -> None:
    """Add `count` polls of every city, one minute apart, starting at minute `first`."""
    for minute in range(first, first + count):
        history.add(observations_frame([
            Observation(city=c, lat=0.0, lon=0.0, time=T0 + timedelta(minutes=minute),
                        temperature_c=float(i * 10 + minute % 5), humidity_pct=50.0,
                        wind_speed_ms=10.0, provider="test")
            for i, c in enumerate(CITIES)
        ]))


@pytest.fixture
def feed():
    history = History(":memory:")
    add_polls(history, 0, 100)
    return WeatherFeed(DemoProvider(), CITIES, history)


@pytest.fixture
def rendered(feed):
    """A tab rendered into a Bokeh document that records every change sent to the browser."""
    settings = ViewerSettings(units="metric")
    tab = StreamingTab(feed=feed, settings=settings, check_period_ms=60_000)
    doc = Document()
    doc.add_root(tab.__panel__().get_root(doc))
    events = []
    doc.on_change(lambda event: events.append(event))
    yield tab, events
    tab._callback.stop()


def layers(tab: StreamingTab, quantity: str) -> tuple[dict, dict]:
    """The Bokeh data of one plot's lines (segments) and of its dots (newest readings)."""
    (plot,) = drawn_plots(tab.plots[quantity])
    lines, dots = (layer.handles["source"].data for layer in plot.subplots.values())
    return lines, dots


def plotted(tab: StreamingTab, quantity: str) -> dict[str, int]:
    """Readings of each city one plot draws, as the browser gets them: its segments' end
    points, and its dot at the first reading of the line (or the only one)."""
    lines, dots = layers(tab, quantity)
    counts = Counter(lines["city"])
    return {city: counts[city] + 1 for city, value in zip(dots["city"], dots[quantity],
                                                          strict=True) if value == value}


def test_first_paint_shows_the_whole_retained_history(rendered):
    """Test that a new viewer sees every row the history holds, before any update."""
    tab, _ = rendered
    assert plotted(tab, "temperature") == {c: 100 for c in CITIES}


def test_each_line_joins_a_citys_readings_one_to_the_next(rendered, feed):
    """Test that the segments drawn for a city run from each of its readings to the next."""
    tab, _ = rendered
    history, _ = feed.history.since(0)
    fresno = history[history["city"] == "Fresno"].sort_values("time")
    lines, _dots = layers(tab, "temperature")
    drawn = sorted((start, end, a, b) for city, start, end, a, b in zip(
        lines["city"], lines["start"], lines["time"], lines["temperature_start"],
        lines["temperature"], strict=True) if city == "Fresno")
    times = fresno["time"].dt.tz_convert(None).to_numpy()
    values = fresno["temperature"].to_numpy()
    assert drawn == list(zip(times[:-1], times[1:], values[:-1], values[1:], strict=True))


def test_update_streams_only_the_new_rows(rendered, feed):
    """Test that a poll's rows reach the browser as a stream of those rows, not the history."""
    tab, events = rendered
    add_polls(feed.history, 100, 2)
    tab._on_tick()
    streamed = [e for e in events if isinstance(e, ColumnsStreamedEvent)]
    replaced = [e for e in events if isinstance(e, ColumnDataChangedEvent)]
    assert len(streamed) == 3  # one stream of new segments per plot
    assert {len(e.data["time"]) for e in streamed} == {2 * len(CITIES)}
    # The only data sent whole is the dots: one per city, at its newest reading.
    assert len(replaced) == 3
    assert {len(e.model.data["time"]) for e in replaced} == {len(CITIES)}
    assert plotted(tab, "humidity") == {c: 102 for c in CITIES}


def test_units_switch_converts_what_is_drawn(rendered):
    """Test that switching a viewer to imperial redraws temperatures in Fahrenheit."""
    tab, _ = rendered
    def fresno(tab):
        lines, _dots = layers(tab, "temperature")
        return next(t for c, t in zip(lines["city"], lines["temperature"], strict=True)
                    if c == "Fresno")

    before = fresno(tab)
    tab.settings.units = "imperial"
    assert fresno(tab) == pytest.approx(before * 9 / 5 + 32)
    assert "°F" in tab.plots["temperature"].object.last.get(1).vdims[0].label


def test_pause_holds_this_viewer_and_resume_catches_up(rendered, feed):
    """Test that a paused viewer draws nothing new and gets every missed row on resume."""
    tab, _ = rendered
    tab.paused = True
    add_polls(feed.history, 100, 3)
    tab._on_tick()
    assert plotted(tab, "temperature")["Fresno"] == 100
    assert "paused" in tab.status_line.object
    tab.paused = False
    assert plotted(tab, "temperature")["Fresno"] == 103


def test_city_filter_draws_only_the_chosen_cities(rendered, feed):
    """Test that deselecting a city removes its line, and new rows for it are not drawn."""
    tab, _ = rendered
    tab.cities = ["Fresno"]
    lines, dots = layers(tab, "wind_speed")
    assert set(lines["city"]) == set(dots["city"]) == {"Fresno"}
    add_polls(feed.history, 100, 1)
    tab._on_tick()
    assert plotted(tab, "wind_speed") == {"Fresno": 101}


def test_status_line_names_failing_cities_in_words(rendered, feed):
    """Test that the status line says when the feed updated and which city fails."""
    tab, _ = rendered
    feed.provider = DemoProvider()
    feed.cities = ("San Francisco", "Atlantis")
    feed.poll_now()
    tab._on_tick()
    assert "updated" in tab.status_line.object and "Atlantis: not found" in tab.status_line.object


def test_html_in_a_city_name_is_shown_as_text(feed):
    """Test that a city name with markup is escaped in the legend and the status line."""
    feed.cities = ("<b>x</b>",)
    tab = StreamingTab(feed=feed, check_period_ms=60_000)
    try:
        assert "<b>x</b>" not in tab.legend.object
        assert "&lt;b&gt;x&lt;/b&gt;" in tab.legend.object
    finally:
        tab._callback.stop()


@pytest.mark.parametrize("window", ["All", "Last hour"])
def test_another_plot_redrawn_after_an_update_on_the_same_page(feed, window):
    """Test that a page whose time axes followed an update can still redraw another plot.

    Panel links the axes of every HoloViews pane on the page whenever one pane gets a new
    object (the Refresh map does, on load and on every refresh); it compares each range's
    start and end, which must therefore be of one type.
    """
    tab = StreamingTab(feed=feed, settings=ViewerSettings(), window=window,
                       check_period_ms=60_000)
    other = pn.pane.HoloViews(hv.Points([(0, 0)]))
    doc = Document()
    doc.add_root(pn.Column(tab, other).get_root(doc))
    try:
        add_polls(feed.history, 100, 2)
        tab._on_tick()
        other.object = hv.Points([(1, 1)])
        (plot,) = drawn_plots(tab.plots["temperature"])
        x_range = plot.handles["x_range"]
        assert x_range.start < x_range.end
        assert plotted(tab, "temperature") == {c: 102 for c in CITIES}
    finally:
        tab._callback.stop()


def test_the_page_gets_no_glyph_variants_for_selecting_or_muting(rendered):
    """Test that the plots leave their selected, unselected and muted looks to Bokeh.

    Nothing on the tab selects or mutes; HoloViews' own variants were 18 of a page's models.
    """
    tab, _events = rendered
    for quantity in tab.plots:
        (plot,) = drawn_plots(tab.plots[quantity])
        renderers = [layer.handles["glyph_renderer"] for layer in plot.subplots.values()]
        assert [type(r.glyph).__name__ for r in renderers] == ["Segment", "Scatter"]
        for renderer in renderers:
            assert (renderer.selection_glyph, renderer.nonselection_glyph,
                    renderer.muted_glyph) == ("auto", "auto", "auto")
        # The dots keep the highlight HoloViews gives the one under the pointer.
        assert type(renderers[1].hover_glyph).__name__ == "Scatter"


def test_in_a_page_template_each_new_row_is_sent_once(feed):
    """Test that a tab in a Panel template, as the app serves it, streams a poll's rows once.

    Templates file each plot under two root ids; sending to every entry sent every row twice.
    """
    tab = StreamingTab(feed=feed, settings=ViewerSettings(), check_period_ms=60_000)
    doc = Document()
    page_template(main=[tab]).server_doc(doc)
    events = []
    doc.on_change(events.append)
    try:
        add_polls(feed.history, 100, 2)
        tab._on_tick()
        streamed = [e for e in events if isinstance(e, ColumnsStreamedEvent)]
        assert len(streamed) == 3  # one stream of new segments per plot
        assert {len(e.data["time"]) for e in streamed} == {2 * len(CITIES)}
        assert plotted(tab, "temperature") == {c: 102 for c in CITIES}
    finally:
        tab._callback.stop()


def axis_label_fonts(feed, theme: str) -> set[tuple[str, str]]:
    """The font sizes and styles of the Real Time plots' axis labels on a page in ``theme``."""
    with pn.config.set(theme=theme):
        tab = StreamingTab(feed=feed, settings=ViewerSettings(), check_period_ms=60_000)
        try:
            doc = Document()
            page_template(main=[tab]).server_doc(doc)
            return {(axis.axis_label_text_font_size, axis.axis_label_text_font_style)
                    for axis in doc.models if isinstance(axis, Axis) and axis.axis_label}
        finally:
            tab._callback.stop()


def test_axis_labels_are_upright_and_as_large_in_the_dark_theme_as_in_the_light_one(feed):
    """Test that the dark theme draws the axis labels at the light theme's size, in pixels, and
    that both draw them upright.

    Scaling the theme's sizes made the dark labels a third larger, and the wind speed label
    longer than its plot is high.
    """
    light, dark = axis_label_fonts(feed, "default"), axis_label_fonts(feed, "dark")
    assert len(light) == 1 and light == dark
    size, style = light.pop()
    assert size.endswith("px")
    # Upright: Bokeh's default italic is what the page's plain design leaves.
    assert style == "normal"


def test_a_page_opened_on_a_single_poll_spans_a_minute_either_side_of_it():
    """Test that a first paint with one moment of history (a new install) gives the time axis
    two minutes around it, the same span updates keep until a second poll, and not the
    second HoloViews gives a single point (ticks in milliseconds)."""
    history = History(":memory:")
    add_polls(history, 0, 1)
    feed = WeatherFeed(DemoProvider(), CITIES, history)
    tab = StreamingTab(feed=feed, settings=ViewerSettings(), check_period_ms=60_000)
    doc = Document()
    doc.add_root(tab.__panel__().get_root(doc))
    try:
        moment = np.datetime64(T0.replace(tzinfo=None))
        for pane in tab.plots.values():
            (plot,) = drawn_plots(pane)
            x_range = plot.handles["x_range"]
            assert (np.datetime64(x_range.start, "ms"), np.datetime64(x_range.end, "ms")) == (
                moment - np.timedelta64(60, "s"), moment + np.timedelta64(60, "s"))
    finally:
        tab._callback.stop()
