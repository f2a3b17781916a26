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
from bokeh.models import Axis, DataRange1d

from dashboards.page.shell import page_template
from dashboards.server.feed import WeatherFeed
from dashboards.server.history import History, observations_frame
from dashboards.views.realtime.tab import NO_CITY, StreamingTab
from dashboards.views.settings import ViewerSettings
from weather.models import Observation
from weather.providers.demo import DemoProvider

CITIES = ("San Francisco", "Fresno", "San Diego")
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def poll(minute: int) -> object:
    """History rows of one poll of every city at ``minute``."""
    return observations_frame([
        Observation(city=c, lat=0.0, lon=0.0, time=T0 + timedelta(minutes=minute),
                    temperature_c=float(i * 10 + minute % 5), humidity_pct=50.0,
                    wind_speed_ms=10.0, provider="test")
        for i, c in enumerate(CITIES)
    ])


def add_polls(history: History, first: int, count: int) -> None:
    """Add `count` polls of every city, one minute apart, starting at minute `first`."""
    for minute in range(first, first + count):
        history.add(poll(minute))


def feed_polls(feed: WeatherFeed, first: int, count: int) -> None:
    """Polls landing as the feed stores them: each batch of new rows is pushed to the viewers."""
    for minute in range(first, first + count):
        feed.fanout.publish(feed.history.add(poll(minute)))


@pytest.fixture
def feed():
    history = History(":memory:")
    add_polls(history, 0, 100)
    return WeatherFeed(DemoProvider(), CITIES, history)

@pytest.fixture
def rendered(feed):
    """A tab rendered into a Bokeh document that records every change sent to the browser."""
    settings = ViewerSettings(units="metric")
    tab = StreamingTab(feed=feed, settings=settings)
    doc = Document()
    doc.add_root(tab.__panel__().get_root(doc))
    events = []
    doc.on_change(lambda event: events.append(event))
    yield tab, events
    tab.close()


def plotted(tab: StreamingTab) -> dict[str, int]:
    """Readings of each city the plots draw, as the browser gets them: the points of its
    overview line, the end of each segment pushed since, and its dot when it has no
    overview line (a segment starts at the line's end, or at the dot)."""
    lines, dots = tab.lines.data, tab.dots.data
    overview = tab.overview["temperature"].data
    counts = Counter(lines["city"])
    for city, xs in zip(overview["city"], overview["xs"], strict=True):
        counts[city] += len(xs)
    return {city: counts[city] + (city not in overview["city"])
            for city, value in zip(dots["city"], dots["temperature"], strict=True)
            if value == value}


def ms(times) -> list[float]:
    """UTC times as the plots hold them: milliseconds since the epoch."""
    return [float(t) for t in (times.dt.tz_convert(None).astype("datetime64[ms]")
                               .astype("int64"))]


def test_first_paint_shows_the_whole_retained_history(rendered):
    """Test that a new viewer sees every row the history holds, before any update."""
    tab, _ = rendered
    assert plotted(tab) == {c: 100 for c in CITIES}


def test_each_line_joins_a_citys_readings_one_to_the_next(rendered, feed):
    """Test that a city's line runs through each of its readings in turn: the overview's
    points on a first paint, then a segment from each reading to the next pushed one."""
    tab, _ = rendered
    history, _ = feed.history.since(0)
    fresno = history[history["city"] == "Fresno"].sort_values("time")
    overview = tab.overview["temperature"].data
    (at,) = [i for i, c in enumerate(overview["city"]) if c == "Fresno"]
    assert list(overview["xs"][at]) == ms(fresno["time"])
    assert list(overview["ys"][at]) == fresno["temperature"].tolist()
    feed_polls(feed, 100, 2)
    lines = tab.lines.data
    drawn = sorted((start, end, a, b) for city, start, end, a, b in zip(
        lines["city"], lines["start"], lines["time"], lines["temperature_start"],
        lines["temperature"], strict=True) if city == "Fresno")
    history, _ = feed.history.since(0)
    fresno = history[history["city"] == "Fresno"].sort_values("time").tail(3)
    times, values = ms(fresno["time"]), fresno["temperature"].tolist()
    assert drawn == list(zip(times[:-1], times[1:], values[:-1], values[1:], strict=True))


def test_the_three_plots_draw_their_own_quantity_from_the_shared_sources(rendered):
    """Test that each plot draws its quantity: its own overview and forecast lines, and the
    columns of the segments and dots shared by the three, so one stream per poll feeds all."""
    tab, _ = rendered
    for quantity, fig in tab.figures.items():
        overview, forecast, lines, dots = fig.renderers
        assert overview.data_source is tab.overview[quantity]
        assert forecast.data_source is tab.forecast_lines and forecast.glyph.ys == quantity
        assert forecast.glyph.line_dash == "dashed"
        assert (lines.glyph.y0, lines.glyph.y1) == (f"{quantity}_start", quantity)
        assert dots.glyph.y == quantity
        assert lines.data_source is tab.lines and dots.data_source is tab.dots


def test_update_streams_only_the_new_rows(rendered, feed):
    """Test that a poll's rows reach the browser as a stream of those rows, not the history."""
    tab, events = rendered
    feed_polls(feed, 100, 2)
    streamed = [e for e in events if isinstance(e, ColumnsStreamedEvent)]
    replaced = [e for e in events if isinstance(e, ColumnDataChangedEvent)]
    assert len(streamed) == 2  # one stream of new segments per poll, for the three plots
    assert {len(e.data["time"]) for e in streamed} == {len(CITIES)}
    # The only data sent whole is the dots: one per city, at its newest reading.
    assert len(replaced) == 2
    assert {len(e.model.data["time"]) for e in replaced} == {len(CITIES)}
    assert plotted(tab) == {c: 102 for c in CITIES}


def test_units_switch_converts_what_is_drawn(rendered):
    """Test that switching a viewer to imperial redraws temperatures in Fahrenheit."""
    tab, _ = rendered

    def fresno(tab):
        overview = tab.overview["temperature"].data
        return next(ys[-1] for c, ys in zip(overview["city"], overview["ys"], strict=True)
                    if c == "Fresno")

    before = fresno(tab)
    tab.settings.units = "imperial"
    assert fresno(tab) == pytest.approx(before * 9 / 5 + 32)
    assert "°F" in tab.figures["temperature"].yaxis[0].axis_label
    assert "°F" in str(tab.figures["temperature"].hover[0].tooltips)


def test_pause_holds_this_viewer_and_resume_catches_up(rendered, feed):
    """Test that a paused viewer draws nothing new and gets every missed row on resume."""
    tab, _ = rendered
    tab.paused = True
    feed_polls(feed, 100, 3)
    assert plotted(tab)["Fresno"] == 100
    assert "paused" in tab.status_line.object.text
    tab.paused = False
    assert plotted(tab)["Fresno"] == 103


def test_pause_button_reads_resume_and_looks_on_while_paused(rendered):
    """Test that the Pause toggle says what a click does, and stands out while paused."""
    tab, _ = rendered
    assert (tab.pause_button.name, tab.pause_button.variant) == ("Pause", "outline")
    tab.paused = True
    assert (tab.pause_button.name, tab.pause_button.variant) == ("Resume", "solid")
    assert tab.pause_button.value
    tab.pause_button.value = False
    assert not tab.paused and tab.pause_button.name == "Pause"


def test_a_viewer_opened_paused_sees_resume(feed):
    """Test that a tab made paused (from the page's address) offers Resume from the start."""
    tab = StreamingTab(feed=feed, settings=ViewerSettings(), paused=True)
    try:
        assert (tab.pause_button.name, tab.pause_button.variant) == ("Resume", "solid")
        assert "paused for this viewer" in tab.status_line.object.text
    finally:
        tab.close()


def test_city_filter_draws_only_the_chosen_cities(rendered, feed):
    """Test that deselecting a city removes its line, and new rows for it are not drawn."""
    tab, _ = rendered
    tab.cities = ["Fresno"]
    assert set(tab.overview["humidity"].data["city"]) == set(tab.dots.data["city"]) == {"Fresno"}
    feed_polls(feed, 100, 1)
    assert plotted(tab) == {"Fresno": 101}


def test_no_city_chosen_shows_what_to_do_instead_of_empty_plots(rendered, feed):
    """Test that removing every city hides the plots (no empty 1970 axis) behind a line
    saying how to get them back, and that choosing one brings them back."""
    tab, _ = rendered
    tab.cities = []
    assert tab.empty_state.visible and tab.empty_state.object == NO_CITY
    assert "Cities" in NO_CITY
    assert not tab.plot_column.visible
    feed_polls(feed, 100, 1)
    assert len(tab.lines.data["time"]) == 0
    tab.cities = ["Fresno"]
    assert not tab.empty_state.visible
    assert tab.plot_column.visible
    assert plotted(tab) == {"Fresno": 101}


def test_a_history_without_readings_says_it_waits_for_them():
    """Test that a new install shows a waiting line until the first poll, then the plots."""
    feed = WeatherFeed(DemoProvider(), CITIES, History(":memory:"))
    tab = StreamingTab(feed=feed, settings=ViewerSettings())
    try:
        assert tab.empty_state.visible and "Waiting" in tab.empty_state.object
        feed_polls(feed, 0, 1)
        assert not tab.empty_state.visible
        assert plotted(tab) == {c: 1 for c in CITIES}
    finally:
        tab.close()


def test_status_line_names_failing_cities_in_words(rendered, feed):
    """Test that the status line says when the feed updated and which city fails."""
    tab, _ = rendered
    feed.provider = DemoProvider()
    feed.cities = ("San Francisco", "Atlantis")
    feed.poll_now()
    status = tab.status_line.object.text
    assert "updated" in status and "Atlantis: not found" in status


def test_html_in_a_city_name_is_shown_as_text(feed):
    """Test that a city name with markup is escaped in the legend, the status line and the
    chooser's labels, and that tooltips show the name as a plain field."""
    feed.cities = ("<b>x</b>",)
    tab = StreamingTab(feed=feed)
    try:
        assert "<b>x</b>" not in tab.legend.object
        assert "&lt;b&gt;x&lt;/b&gt;" in tab.legend.object
        assert "&lt;b&gt;x&lt;/b&gt;" in tab.feed_status.object.text
        assert tab.param.cities.names == {"&lt;b&gt;x&lt;/b&gt;": "<b>x</b>"}
        for fig in tab.figures.values():
            for hover in fig.hover:
                assert ("City", "@city") in hover.tooltips  # not @{city}{safe}: escaped
    finally:
        tab.close()


@pytest.mark.parametrize(("window", "points"), [("All", 102), ("1 h", 61 + 2)])
def test_another_plot_redrawn_after_an_update_on_the_same_page(feed, window, points):
    """Test that a page whose plots followed an update can still redraw another plot.

    Panel links the axes of every HoloViews pane on the page whenever one pane gets a new
    object (the Refresh map does, on load and on every refresh).
    """
    tab = StreamingTab(feed=feed, settings=ViewerSettings(), window=window)
    other = pn.pane.HoloViews(hv.Points([(0, 0)]))
    doc = Document()
    doc.add_root(pn.Column(tab, other).get_root(doc))
    try:
        feed_polls(feed, 100, 2)
        other.object = hv.Points([(1, 1)])
        # The hour up to the newest reading (minutes 39 to 99), then the two new polls.
        assert plotted(tab) == {c: points for c in CITIES}
    finally:
        tab.close()


def test_window_follows_the_newest_readings_and_the_three_plots_share_it(rendered):
    """Test that a window shows its span ending at the newest reading on one time axis shared
    by the three plots, that "All" shows everything, and that a choice changes the range
    the page already draws (a new range object is drawn empty by BokehJS)."""
    tab, _ = rendered
    (x_range,) = {id(fig.x_range): fig.x_range for fig in tab.figures.values()}.values()
    assert isinstance(x_range, DataRange1d) and x_range.follow is None
    tab.window = "6 h"
    (followed,) = {id(fig.x_range): fig.x_range for fig in tab.figures.values()}.values()
    assert followed is x_range
    assert (followed.follow, followed.follow_interval) == ("end", 6 * 3600 * 1000)
    tab.window = "All"
    assert (x_range.follow, x_range.follow_interval) == (None, None)
    for fig in tab.figures.values():
        assert "reset" in {type(t).__name__.lower().removesuffix("tool") for t in fig.tools}


def test_the_page_gets_no_glyph_variants_for_selecting_or_muting(rendered):
    """Test that the plots leave their selected, unselected and muted looks to Bokeh."""
    tab, _events = rendered
    for fig in tab.figures.values():
        renderers = fig.renderers
        assert [type(r.glyph).__name__ for r in renderers] == ["MultiLine", "MultiLine",
                                                               "Segment", "Scatter"]
        for renderer in renderers:
            assert (renderer.selection_glyph, renderer.nonselection_glyph,
                    renderer.muted_glyph) == ("auto", "auto", "auto")
        # The dots are highlighted under the pointer.
        assert type(renderers[-1].hover_glyph).__name__ == "Scatter"


def test_in_a_page_template_each_new_row_is_sent_once(feed):
    """Test that a tab in a Panel template, as the app serves it, streams a poll's rows once."""
    tab = StreamingTab(feed=feed, settings=ViewerSettings())
    doc = Document()
    page_template(main=[tab]).server_doc(doc)
    events = []
    doc.on_change(events.append)
    try:
        feed_polls(feed, 100, 2)
        streamed = [e for e in events if isinstance(e, ColumnsStreamedEvent)]
        assert len(streamed) == 2  # one stream of new segments per poll
        assert {len(e.data["time"]) for e in streamed} == {len(CITIES)}
        assert plotted(tab) == {c: 102 for c in CITIES}
    finally:
        tab.close()


def axis_label_fonts(feed, theme: str) -> set[tuple[str, str]]:
    """The font sizes and styles of the Real Time plots' axis labels on a page in ``theme``."""
    with pn.config.set(theme=theme):
        tab = StreamingTab(feed=feed, settings=ViewerSettings())
        try:
            doc = Document()
            page_template(main=[tab]).server_doc(doc)
            return {(axis.axis_label_text_font_size, axis.axis_label_text_font_style)
                    for axis in doc.models if isinstance(axis, Axis) and axis.axis_label}
        finally:
            tab.close()


def test_axis_labels_are_upright_and_as_large_in_the_dark_theme_as_in_the_light_one(feed):
    """Test that the dark theme draws the axis labels at the light theme's size, in pixels, and
    that both draw them upright."""
    light, dark = axis_label_fonts(feed, "default"), axis_label_fonts(feed, "dark")
    assert len(light) == 1 and light == dark
    size, style = light.pop()
    assert size.endswith("px")
    # Upright: Bokeh's default italic is what the page's plain design leaves.
    assert style == "normal"


def test_the_dark_theme_draws_the_plots_dark(feed):
    """Test that on a dark page the plots' background is dark, not Bokeh's white."""
    with pn.config.set(theme="dark"):
        tab = StreamingTab(feed=feed, settings=ViewerSettings())
        try:
            doc = Document()
            page_template(main=[tab]).server_doc(doc)
            fills = {fig.background_fill_color for fig in tab.figures.values()}
        finally:
            tab.close()
    assert len(fills) == 1
    (fill,) = fills
    assert fill not in (None, "#ffffff", "white")
    rgb = [int(fill.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    assert sum(rgb) < 3 * 96


def test_a_page_opened_on_a_single_poll_spans_a_minute_either_side_of_it():
    """Test that a time axis holding one moment (a new install) spans two minutes around it,
    not Bokeh's default of a few milliseconds, and draws it without padding otherwise."""
    history = History(":memory:")
    add_polls(history, 0, 1)
    feed = WeatherFeed(DemoProvider(), CITIES, history)
    tab = StreamingTab(feed=feed, settings=ViewerSettings())
    try:
        for fig in tab.figures.values():
            assert fig.x_range.default_span == pytest.approx(120_000.0)  # ms
            assert fig.x_range.range_padding == 0
        assert np.isfinite(tab.dots.data["time"]).all()
    finally:
        tab.close()


def test_the_window_buttons_open_no_tooltip_over_the_pause_button(rendered):
    """Test that the window buttons carry no help icon: its tooltip opened over Pause."""
    tab, _ = rendered
    (window,) = [w for w in tab.controls.select(pn.widgets.RadioButtonGroup)
                 if "All" in w.options]
    assert window.description is None
    assert list(window.options) == ["1 h", "6 h", "24 h", "7 days",
                                    "30 days", "All"]
