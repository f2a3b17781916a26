"""The Real Time plots' layers: a zoom drawn from finer data, and the forecast after now."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from bokeh.models import GlyphRenderer, HoverTool

from dashboards.server.feed import WeatherFeed
from dashboards.server.forecast import ForecastPoll
from dashboards.server.forecast_store import ForecastStore
from dashboards.server.history import History
from dashboards.server.overview import BUCKETS
from dashboards.views.realtime.plot_data import city_colors
from dashboards.views.realtime.tab import FORECAST_HOURS, StreamingTab
from dashboards.views.settings import ViewerSettings
from weather.providers.demo import DemoProvider

from .test_overview import CITIES, SPIKE_AT, SPIKE_C, STEP_S, readings

DAYS = 3


@pytest.fixture
def long_feed(tmp_path):
    """A feed whose history holds three days of 30-second polls of two cities."""
    history = History(str(tmp_path / "h.sqlite3"), provider="demo")
    history.add(readings(DAYS * 86_400 // STEP_S))
    feed = WeatherFeed(DemoProvider(), CITIES, history)
    yield feed
    feed.overviews.close()
    history.close()


def line(tab: StreamingTab, city: str, quantity: str = "temperature"):
    data = tab.overview[quantity].data
    (at,) = [i for i, c in enumerate(data["city"]) if c == city]
    return np.asarray(data["xs"][at]), np.asarray(data["ys"][at])


def test_zooming_in_draws_every_reading_of_the_range_and_zooming_out_the_overview(long_feed):
    """Test that a zoom to two hours of a three-day window draws each reading there, keeps
    the coarse line outside it, and that zooming back out draws the shared overview again."""
    tab = StreamingTab(feed=long_feed, settings=ViewerSettings(units="metric"))
    try:
        coarse_times, _ = line(tab, "Fresno")
        assert len(coarse_times) <= 2 * BUCKETS
        frame = long_feed.history.frame()
        fresno = frame[frame["city"] == "Fresno"]
        middle = fresno["time"].iloc[len(fresno) // 2]
        start, end = middle - timedelta(hours=1), middle + timedelta(hours=1)
        start_ms, end_ms = start.timestamp() * 1000, end.timestamp() * 1000
        tab.refine(start_ms, end_ms)
        times, _ = line(tab, "Fresno")
        inside = (times >= start_ms) & (times <= end_ms)
        expected = fresno[(fresno["time"] >= start) & (fresno["time"] <= end)]
        assert list(times[inside]) == [t.timestamp() * 1000 for t in expected["time"]]
        assert times[0] == coarse_times[0] and times[-1] == coarse_times[-1]
        assert np.all(np.diff(times) >= 0)
        tab.refine(coarse_times[0], coarse_times[-1])
        times, _ = line(tab, "Fresno")
        assert list(times) == list(coarse_times)
    finally:
        tab.close()


def test_a_zoom_onto_the_spike_draws_it_at_its_time(long_feed):
    """Test that zooming in around the one-poll spike shows it at the reading's own time."""
    tab = StreamingTab(feed=long_feed, settings=ViewerSettings(units="metric"))
    try:
        frame = long_feed.history.frame()
        spike = frame[frame["city"] == "Fresno"]["time"].iloc[SPIKE_AT]
        spike_ms = spike.timestamp() * 1000
        tab.refine(spike_ms - 600_000, spike_ms + 600_000)
        times, values = line(tab, "Fresno")
        assert values[list(times).index(spike_ms)] == SPIKE_C
    finally:
        tab.close()


@pytest.fixture
def forecast():
    poll = ForecastPoll(DemoProvider(), CITIES, ForecastStore(":memory:"))
    poll.poll_now()
    yield poll
    poll.store.close()


def test_the_forecast_is_a_dashed_line_per_city_from_its_newest_reading(forecast):
    """Test that each chosen city gets a dashed forecast line of its colour on each plot,
    starting at its newest reading and running about 48 hours after now, in the viewer's
    units, with hover naming it a forecast and when it was fetched."""
    history = History(":memory:")
    now = datetime.now(UTC).replace(microsecond=0)
    history.add(readings(10, start=now - timedelta(seconds=10 * STEP_S)))
    feed = WeatherFeed(DemoProvider(), CITIES, history)
    tab = StreamingTab(feed=feed, forecast=forecast, settings=ViewerSettings(units="metric"))
    try:
        data = tab.forecast_lines.data
        assert list(data["city"]) == list(CITIES)
        assert list(data["color"]) == list(city_colors(CITIES).values())
        dots = tab.dots.data
        for n, (city, xs) in enumerate(zip(data["city"], data["xs"], strict=True)):
            at = list(dots["city"]).index(city)
            assert xs[0] == dots["time"][at]
            for quantity in ("temperature", "humidity", "wind_speed"):
                assert len(data[quantity][n]) == len(xs)
                assert data[quantity][n][0] == dots[quantity][at]
            hours = (xs[-1] - time.time() * 1000) / 3_600_000
            assert FORECAST_HOURS - 1.5 <= hours <= FORECAST_HOURS + 1
        assert all(label.startswith("forecast, fetched ") for label in data["label"])
        for quantity, fig in tab.figures.items():
            renderer = fig.select_one({"type": GlyphRenderer, "name": "forecast"})
            assert renderer.data_source is tab.forecast_lines
            assert renderer.glyph.ys == quantity
            assert renderer.glyph.line_dash == "dashed" and renderer.visible
        hover = tab.figures["temperature"].select_one({"type": HoverTool, "name": "forecast"})
        assert ("", "@label") in hover.tooltips
        metric = tab.forecast_lines.data["temperature"][0][1:]
        tab.settings.units = "imperial"
        imperial = tab.forecast_lines.data["temperature"][0][1:]
        np.testing.assert_allclose(imperial, np.asarray(metric) * 9 / 5 + 32)
        assert "°F" in str(hover.tooltips)
    finally:
        tab.close()


def test_hiding_the_forecast_hides_its_lines_and_narrows_the_window(forecast):
    """Test that the forecast toggle hides the dashed lines and that a window then ends at
    the newest reading instead of 48 hours later."""
    feed = WeatherFeed(DemoProvider(), CITIES, History(":memory:"))
    tab = StreamingTab(feed=feed, forecast=forecast, window="24 h")
    try:
        x_range = tab.figures["temperature"].x_range
        assert x_range.follow_interval == (24 + FORECAST_HOURS) * 3600_000
        tab.show_forecast = False
        for fig in tab.figures.values():
            assert not fig.select_one({"type": GlyphRenderer, "name": "forecast"}).visible
            assert fig.x_range.follow_interval == 24 * 3600_000
            assert fig.x_range.only_visible
    finally:
        tab.close()


def test_the_forecast_status_shows_beside_the_cities(forecast):
    """Test that the side status says when the forecast was fetched, and names a city whose
    forecast failed, as text."""
    feed = WeatherFeed(DemoProvider(), CITIES, History(":memory:"))
    tab = StreamingTab(feed=feed, forecast=forecast)
    try:
        assert "forecast fetched" in tab.feed_status.object.text
    finally:
        tab.close()


def test_a_local_clock_names_the_zone_everywhere_and_the_browser_formats_the_axis(forecast):
    """Test that a viewer on the browser's clock gets the axis and hover formatted in the
    browser, and the status, legend and forecast label on that zone's clock."""
    from bokeh.models import CustomJSHover, CustomJSTickFormatter, DatetimeTickFormatter

    feed = WeatherFeed(DemoProvider(), CITIES, History(":memory:"))
    feed.poll_now()
    settings = ViewerSettings(time_zone="local", browser_zone="Asia/Kolkata")
    tab = StreamingTab(feed=feed, forecast=forecast, settings=settings)
    try:
        x_axis = tab.figures["wind_speed"].below[0]
        assert isinstance(x_axis.formatter, CustomJSTickFormatter)
        assert x_axis.axis_label == "Time (IST)"
        for tool in tab.figures["temperature"].select(type=HoverTool):
            assert all(isinstance(f, CustomJSHover) for f in tool.formatters.values())
            assert any(name == "Time (IST)" for name, _ in tool.tooltips)
        assert "IST" in tab.status_line.object.text and "times in IST" in tab.legend.object
        assert tab.forecast_lines.data["label"][0].endswith(" IST")
        settings.time_zone = "UTC"
        assert isinstance(x_axis.formatter, DatetimeTickFormatter)
        assert x_axis.axis_label == "Time (UTC)"
        assert "UTC" in tab.status_line.object.text and "IST" not in tab.feed_status.object.text
    finally:
        tab.close()
