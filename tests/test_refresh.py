"""The Refresh tab without a browser: requests made, what is drawn, faults, guard and cities."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import pandas as pd
import panel as pn
import pytest
from bokeh.document import Document
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    GlyphRenderer,
    HoverTool,
    LinearColorMapper,
    Plot,
    Text,
    TileRenderer,
)
from panel.models import HTML
from panel.models.tabulator import DataTabulator

from dashboards.config import DEFAULT_CITIES
from dashboards.server.feed import NoDataYet
from dashboards.views.refresh import data as rd
from dashboards.views.refresh.map import (
    FRAME_HEIGHT_PX,
    FRAME_WIDTH_PX,
    LABEL_ROOM,
    CityMap,
    extent,
    label_box,
    mercator,
    overlaps,
    place_labels,
    view,
)
from dashboards.views.refresh.messages import literal_markdown
from dashboards.views.refresh.outlook import OUTLOOK_COLUMNS
from dashboards.views.refresh.tab import RefreshTab
from dashboards.views.settings import ViewerSettings
from testing.provider_server import ProviderServer
from testing.served import wait_until
from weather import errors
from weather.cache import CachedProvider
from weather.http import HttpClient
from weather.models import Observation
from weather.providers import OpenWeatherProvider
from weather.providers.base import CityResult, ForecastResult, Provider
from weather.providers.demo import DemoProvider
from weather.units import c_to_f, ms_to_mph

CITIES = ["San Francisco", "Fresno", "San Diego"]
INJECTIONS = ["<img src=x onerror=alert(1)>", "<b>x</b>"]
KEY = "SECRET-KEY-0123456789"


class CountingProvider(Provider):
    """Demo weather at a fixed time, with scripted faults, counting every city asked for."""

    name = "counting"

    def __init__(self, faults: dict[str, errors.WeatherError] | None = None) -> None:
        self.demo = DemoProvider(clock=lambda: 1_795_000_000)
        self.faults = dict(faults or {})
        self.raises: Exception | None = None
        self.gate: threading.Event | None = None
        self.calls: list[list[str]] = []
        self.forecast_calls: list[list[str]] = []
        self.forecast_faults: dict[str, errors.WeatherError] = {}
        self.places: dict[str, tuple[float, float]] = {}

    @property
    def requests(self) -> int:
        return sum(len(call) for call in self.calls)

    def current(self, cities: Sequence[str]) -> list[CityResult]:
        self.calls.append(list(cities))
        if self.gate is not None:
            self.gate.wait(10)
        if self.raises is not None:
            raise self.raises
        return [self.faults.get(c) or self._one(c) for c in cities]

    def forecast(self, cities: Sequence[str], hours: int = 48) -> list[ForecastResult]:
        """The demo's forecast from now (its current weather is at a fixed time)."""
        self.forecast_calls.append(list(cities))
        return [self.forecast_faults.get(c) or DemoProvider().forecast([c], hours)[0]
                for c in cities]

    def _one(self, city: str) -> CityResult:
        if city in self.places:  # a made-up place with any name, e.g. markup
            base = self.demo.current(["Fresno"])[0]
            lat, lon = self.places[city]
            return Observation(city, lat, lon, base.time, base.temperature_c,
                               base.humidity_pct, base.wind_speed_ms, self.name)
        return self.demo.current([city])[0]


def settle(tab: RefreshTab) -> RefreshTab:
    wait_until(lambda: not tab.busy, timeout_s=10, message="the fetch to finish")
    return tab


def make_tab(provider: Provider, cities=CITIES, units="imperial", **kwargs) -> RefreshTab:
    return settle(RefreshTab(provider=provider, cities=list(cities),
                             settings=ViewerSettings(units=units), **kwargs))


def rendered_map(tab: RefreshTab) -> tuple[pd.DataFrame, set]:
    """The points' data as a page newly showing the tab gets it, and all the page's models."""
    doc = Document()
    doc.add_root(tab.__panel__().get_root(doc))
    sources = [m for m in doc.models if isinstance(m, ColumnDataSource) and "value" in m.data]
    assert len(sources) == 1
    return pd.DataFrame(sources[0].data), set(doc.models)


def plotted(tab: RefreshTab) -> tuple[pd.DataFrame, str, list]:
    """The points' data, the colour bar title and the hover tooltips the map would send."""
    data, models = rendered_map(tab)
    colour_bars = [m for m in models if isinstance(m, ColorBar)]
    hovers = [m for m in models if isinstance(m, HoverTool)]
    assert len(colour_bars) == len(hovers) == 1
    return data, colour_bars[0].title, hovers[0].tooltips


def test_first_data_is_fetched_once_in_the_background_without_a_click():
    """Test that a new tab fetches every city once, on another thread, and shows the result."""
    provider = CountingProvider()
    tab = make_tab(provider)
    assert provider.calls == [CITIES]
    assert tab.table_data()["city"].tolist() == CITIES
    assert tab.view.status.object.startswith("Refreshed ")


def test_a_passed_frame_is_shown_without_any_request():
    """Test that a tab given data (e.g. the feed's latest) asks the provider nothing."""
    provider = CountingProvider()
    results = DemoProvider().current(CITIES)
    results[1] = errors.NotFoundError("city not found", city="Fresno")
    tab = make_tab(provider, data=rd.fetched_frame(CITIES, results, "feed"))
    assert provider.requests == 0
    assert "Fresno (not found)" in tab.notice.text
    assert tab.map_data()["city"].tolist() == ["San Francisco", "San Diego"]
    assert tab.view.status.object.startswith("Observed up to ")


def test_a_passed_frame_with_nothing_to_draw_is_fetched_once_after_load():
    """Test that a frame whose cities all wait for data (feed not polled yet) starts a fetch."""
    provider = CountingProvider()
    waiting = [NoDataYet("no data yet", city=c) for c in CITIES]
    tab = RefreshTab(provider=provider, cities=CITIES,
                     data=rd.fetched_frame(CITIES, waiting, "feed"))
    assert tab.notice.text == ""  # waiting is not a failure
    settle(tab)
    assert provider.calls == [CITIES]
    assert tab.table_data()["status"].tolist() == ["ok"] * 3


def test_refresh_asks_once_per_city_and_the_selector_asks_nothing():
    """Test that Refresh costs one request per city; column and units redraw from memory."""
    provider = CountingProvider()
    tab = make_tab(provider)
    tab.param.trigger("refresh")
    settle(tab)
    assert provider.requests == 2 * len(CITIES)
    for column in ("humidity", "wind_speed", "temperature"):
        tab.column = column
    tab.settings.units = "metric"
    assert provider.requests == 2 * len(CITIES)


def test_two_viewers_through_the_shared_cache_cost_one_upstream_request_per_city():
    """Test that two viewers refreshing together reach the provider server once per city."""
    with ProviderServer(valid_keys={KEY}) as server:
        upstream = OpenWeatherProvider(KEY, base_url=server.url,
                                       http=HttpClient(read_timeout_s=2, backoff_s=0.01))
        shared = CachedProvider(upstream, ttl_s=60)
        first, second = make_tab(shared), make_tab(shared)
        first.param.trigger("refresh")
        second.param.trigger("refresh")
        settle(first), settle(second)
        assert server.count("/data/2.5/weather") == len(CITIES)
        assert second.table_data()["status"].tolist() == ["ok"] * 3


def test_the_map_gets_the_chosen_column_in_the_viewers_units():
    """Test that the plotted values, colour bar title and hover follow column and units."""
    provider = CountingProvider()
    tab = make_tab(provider, units="imperial")
    metric = {o.city: o for o in provider.demo.current(CITIES)}
    data, title, tooltips = plotted(tab)
    assert title == "Temperature (°F)"
    assert data["value"].tolist() == pytest.approx(
        [c_to_f(metric[c].temperature_c) for c in data["city"]], abs=0.01)
    assert data["value_text"].str.endswith(" °F").all()
    # Hover shows the city, the value with its unit, the time, and degrees (not projected x/y).
    fields = " ".join(value for _, value in tooltips)
    for field in ("@{city}", "@{value_text}", "@{time_text}", "@{lat}", "@{lon}"):
        assert field in fields
    assert "@{x}" not in fields and "@{y}" not in fields

    tab.settings.units = "metric"
    tab.column = "wind_speed"
    data, title, _ = plotted(tab)
    assert title == "Wind speed (m/s)"
    assert data["value"].tolist() == pytest.approx(
        [metric[c].wind_speed_ms for c in data["city"]], abs=0.01)
    assert tab.view.column_select.options == rd.column_choices("metric")
    assert tab.view.table.titles["wind_speed"] == "Wind (m/s)"
    tab.settings.units = "imperial"
    assert tab.map_data()["value"].tolist() == pytest.approx(
        [ms_to_mph(metric[c].wind_speed_ms) for c in tab.map_data()["city"]], abs=0.01)


def test_failed_cities_stay_in_the_table_leave_the_map_and_are_named(caplog):
    """Test that a not-found and a timed-out city are listed with their status, not drawn."""
    provider = CountingProvider(faults={
        "Fresno": errors.NotFoundError("city not found", city="Fresno"),
        "San Diego": errors.RequestTimeout("no answer within 1 s", city="San Diego"),
    })
    with caplog.at_level(logging.WARNING, logger="dashboards.views.refresh.tab"):
        tab = make_tab(provider)
    assert tab.map_data()["city"].tolist() == ["San Francisco"]
    assert plotted(tab)[0]["city"].tolist() == ["San Francisco"]
    table = tab.table_data()
    assert dict(zip(table["city"], table["status"], strict=True)) == {
        "San Francisco": "ok", "Fresno": "not found", "San Diego": "timeout"}
    assert tab.view.message.visible and tab.view.message.alert_type == "warning"
    assert "Fresno (not found)" in tab.notice.text and "San Diego (timeout)" in tab.notice.text
    assert tab.view.message.object == tab.notice.markdown()
    logged = [r.getMessage() for r in caplog.records if r.name == "dashboards.views.refresh.tab"]
    assert len(logged) == 2 and "Fresno" in logged[0] and "San Diego" in logged[1]


def test_a_rejected_key_keeps_the_last_map_and_table_and_never_shows_the_key(caplog):
    """Test that an AuthError from the real client keeps the data and says why, key-free."""
    with ProviderServer(valid_keys={KEY}) as server:
        provider = OpenWeatherProvider(KEY, base_url=server.url,
                                       http=HttpClient(read_timeout_s=2, backoff_s=0.01))
        tab = make_tab(provider)
        before, refreshed_at = tab.table_data(), tab.refreshed_at
        server.valid_keys = {"ANOTHER-KEY"}
        with caplog.at_level(logging.INFO):
            tab.param.trigger("refresh")
            settle(tab)
    assert_kept_and_stale(tab, before)
    assert len(tab.map_data()) == 3 and tab.refreshed_at == refreshed_at
    assert tab.view.message.alert_type == "danger"
    assert "rejected the API key" in tab.notice.text
    assert "Still showing the older values, observed up to" in tab.notice.text
    assert any(r.name == "dashboards.views.refresh.tab" and r.levelno == logging.ERROR
               for r in caplog.records)
    assert KEY not in caplog.text and KEY not in tab.view.message.object


def assert_kept_and_stale(tab: RefreshTab, before: pd.DataFrame) -> None:
    """The table holds the current values of ``before``, each city's status "stale, N ... old"
    (the forecast's high and low are the forecast's own matter)."""
    after = tab.table_data()
    pd.testing.assert_frame_equal(after.drop(columns=["status", *OUTLOOK_COLUMNS]),
                                  before.drop(columns=["status", *OUTLOOK_COLUMNS]))
    assert all(s.startswith("stale, ") and s.endswith(" old") for s in after["status"])


def test_a_provider_that_is_down_keeps_the_last_data_marked_stale():
    """Test that every city failing (provider unreachable) leaves the last data drawn, each
    row marked stale with its age, and the message says so."""
    provider = CountingProvider()
    tab = make_tab(provider)
    before = tab.table_data()
    provider.faults = {c: errors.UnreachableError("connection refused", city=c) for c in CITIES}
    tab.param.trigger("refresh")
    settle(tab)
    assert_kept_and_stale(tab, before)
    assert "did not answer for any city (unreachable)" in tab.notice.text
    assert "older values" in tab.notice.text and "marked stale" in tab.notice.text


def test_an_offline_refresh_of_the_feeds_data_keeps_it_stale_not_no_data():
    """Test that a tab opened on the feed's data (never refreshed) whose first Refresh gets
    nothing keeps those values, marked stale with their age, and does not say "No data"."""
    provider = CountingProvider()
    frame = rd.fetched_frame(CITIES, provider.current(CITIES), "demo")
    tab = make_tab(provider, data=frame)
    assert tab.refreshed_at is None
    before = tab.table_data()
    provider.faults = {c: errors.RequestTimeout("no answer", city=c) for c in CITIES}
    tab.param.trigger("refresh")
    settle(tab)
    assert_kept_and_stale(tab, before)
    assert "No data to show yet" not in tab.notice.text
    assert "Still showing the older values, observed up to" in tab.notice.text
    assert "days old" in tab.table_data()["status"][0]  # the fixed clock is weeks ago
    assert tab.map_data()["city"].tolist() == CITIES

    provider.faults = {"Fresno": errors.RequestTimeout("no answer", city="Fresno")}
    tab.param.trigger("refresh")
    settle(tab)
    assert tab.table_data()["status"].tolist()[:2] == ["ok", tab.table_data()["status"][1]]
    assert tab.table_data()["status"][1].startswith("stale, ")
    assert "Older values kept, marked stale: Fresno." in tab.notice.text


def test_the_demo_says_it_knows_only_its_cities_and_how_to_get_live_data():
    """Test that adding a city the demo does not know explains the demo and live data."""
    tab = make_tab(DemoProvider(), cities=["Fresno"])
    tab.view.city_input.value = "Boise"
    tab.view.add_button.clicks += 1
    settle(tab)
    assert "The demo knows only its built-in cities" in tab.notice.text
    assert "WEATHER_PROVIDER=open-meteo" in tab.notice.text
    assert tab.cities == ["Fresno"]


def test_the_status_counts_one_city_and_several_cities():
    """Test that the status line says "1 city" and "2 cities"."""
    provider = CountingProvider()
    assert "· 1 city" in make_tab(provider, cities=["Fresno"]).view.status.object
    assert "· 2 cities" in make_tab(provider, cities=["Fresno", "San Diego"]).view.status.object


def test_clicks_during_a_fetch_are_ignored_not_queued():
    """Test that ten clicks while a fetch runs start no second fetch, and the UI still redraws."""
    provider = CountingProvider()
    tab = make_tab(provider)
    provider.gate = threading.Event()
    for _ in range(10):
        tab.param.trigger("refresh")
    wait_until(lambda: len(provider.calls) == 2, timeout_s=10, message="the fetch to start")
    assert tab.busy and "Refreshing 3 cities" in tab.view.status.object
    tab.column = "humidity"  # the event loop is free: recolouring works meanwhile
    assert plotted(tab)[1] == "Humidity (%)"
    provider.gate.set()
    settle(tab)
    assert len(provider.calls) == 2 and tab.view.status.object.startswith("Refreshed ")
    tab.param.trigger("refresh")
    settle(tab)
    assert len(provider.calls) == 3


def test_adding_a_known_city_fetches_it_and_adds_it_everywhere():
    """Test that Add asks the provider for that city only and adds it to map, table, list."""
    provider = CountingProvider()
    tab = make_tab(provider)
    tab.view.city_input.value = "  Chicago "
    tab.view.add_button.clicks += 1
    settle(tab)
    assert provider.calls[-1] == ["Chicago"]
    assert tab.cities == [*CITIES, "Chicago"]
    assert "Chicago" in tab.map_data()["city"].tolist()
    assert tab.view.city_list.options == [*CITIES, "Chicago"]
    assert tab.view.city_input.value == ""


@pytest.mark.parametrize("name", ["Atlantis", *INJECTIONS])
def test_an_unknown_city_changes_nothing_and_is_named_literally(name):
    """Test that a name the provider does not know leaves the list alone, shown as text."""
    provider = CountingProvider(faults={name: errors.NotFoundError("city not found")})
    tab = make_tab(provider)
    tab.view.city_input.value = name
    tab.view.add_button.clicks += 1
    settle(tab)
    assert tab.cities == CITIES and len(tab.table_data()) == 3
    assert "No city called" in tab.notice.text and "The list is unchanged" in tab.notice.text
    assert name in tab.notice.text
    assert "<" not in tab.view.message.object
    assert literal_markdown(name) in tab.view.message.object


def test_duplicate_and_empty_names_ask_nothing():
    """Test that a city already listed (any case) or a blank name is refused at once."""
    provider = CountingProvider()
    tab = make_tab(provider)
    for name in ("fresno", "   "):
        tab.view.city_input.value = name
        tab.view.add_button.clicks += 1
    assert provider.requests == len(CITIES) and tab.cities == CITIES
    assert "Type the name" in tab.notice.text


def test_removing_cities_redraws_without_a_request():
    """Test that removing the selected cities takes them off map, table and list."""
    provider = CountingProvider()
    tab = make_tab(provider)
    tab.view.city_list.value = ["Fresno", "San Diego"]
    tab.view.remove_button.clicks += 1
    assert tab.cities == ["San Francisco"] and provider.requests == len(CITIES)
    assert tab.map_data()["city"].tolist() == ["San Francisco"]
    assert tab.table_data()["city"].tolist() == ["San Francisco"]
    assert tab.view.city_list.options == ["San Francisco"]


def test_markup_in_city_names_is_text_in_table_hover_and_messages():
    """Test that names holding HTML are escaped in messages and plain text in table and hover."""
    provider = CountingProvider(faults={INJECTIONS[0]: errors.NotFoundError("city not found")})
    provider.places[INJECTIONS[1]] = (35.0, -119.0)
    tab = make_tab(provider, cities=[*CITIES, *INJECTIONS])
    assert "<" not in tab.view.message.object
    assert "&lt;img src=x onerror=alert(1)&gt;" in tab.view.message.object
    assert "&lt;b&gt;x&lt;/b&gt;" not in tab.view.message.object  # drawn: not a failure
    assert tab.view.table.value["city"].tolist()[-2:] == INJECTIONS
    assert tab.view.table.formatters["city"] == {"type": "plaintext"}
    data, _, tooltips = plotted(tab)
    assert INJECTIONS[1] in data["city"].tolist()
    assert all("{safe}" not in value for _, value in tooltips)


def test_extent_pads_the_cities_and_widens_a_single_one():
    """Test that the map shows every city off the edges (names east), one with surroundings."""
    frame = pd.DataFrame({"lon": [-122.0, -117.0], "lat": [32.0, 38.0]})
    lon0, lon1, lat0, lat1 = extent(frame)
    assert lon0 == pytest.approx(-123.0) and lon1 == pytest.approx(-116.0 + 7 * LABEL_ROOM)
    assert lat0 == pytest.approx(30.8) and lat1 == pytest.approx(39.2)
    lon0, lon1, lat0, lat1 = extent(frame.iloc[:1])
    assert lon1 - lon0 == pytest.approx(4.0 * (1 + LABEL_ROOM))
    assert lat1 - lat0 == pytest.approx(4.0)


def test_tiles_are_drawn_under_the_same_web_mercator_points_as_no_tiles():
    """Test that a tiled map and a tile-less one place the points in the same Web Mercator
    metres (axes in degrees either way), and only the first has a tile layer."""
    provider = CountingProvider()
    frame = rd.map_frame(rd.fetched_frame(CITIES, provider.current(CITIES), "demo"),
                         "temperature", "imperial")
    drawn = []
    for tiles in ("OSM", None):
        city_map = CityMap()
        city_map.show(frame, "temperature", "Temperature (°F)", tiles)
        doc = Document()
        doc.add_root(city_map.pane.get_root(doc))
        drawn.append((pd.DataFrame(city_map.points.data), set(doc.models)))
    (tiled, tiled_models), (plain, plain_models) = drawn
    assert any(isinstance(m, TileRenderer) for m in tiled_models)
    assert not any(isinstance(m, TileRenderer) for m in plain_models)
    assert abs(plain["x"]).max() > 1e6  # metres
    assert tiled["x"].tolist() == plain["x"].tolist()
    assert plain["lon"].tolist() == frame["lon"].tolist()  # for the hover


def test_clustered_names_never_cover_each_other_or_a_point():
    """Test that the names of the seven California cities beside Paris are offset or left
    out so that no two name boxes, nor a name and a point, overlap."""
    cities = [*DEFAULT_CITIES, "Paris"]
    frame = rd.map_frame(rd.fetched_frame(cities, DemoProvider().current(cities), "demo"),
                         "temperature", "metric")
    x, y = mercator(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    points = frame.assign(x=x, y=y)
    bounds = view(frame)
    labels = place_labels(points, bounds)
    assert "Paris" in labels["city"].tolist() and len(labels) >= 3
    x0, x1, y0, y1 = bounds
    scale = (FRAME_WIDTH_PX / (x1 - x0), FRAME_HEIGHT_PX / (y1 - y0))
    boxes = [label_box((r.x - x0) * scale[0], (y1 - r.y) * scale[1],
                  (r.dx, r.dy, r.align, r.baseline), r.city) for r in labels.itertuples()]
    for i, a in enumerate(boxes):
        assert not any(overlaps(a, b) for b in boxes[i + 1:])
    assert all(x0 < x < x1 and y0 < y < y1 for x, y in zip(x, y, strict=True))


def test_literal_markdown_leaves_no_markup():
    """Test that HTML and Markdown syntax in a message are shown as typed."""
    text = literal_markdown("<b>x</b> **bold** [link](javascript:alert(1)) `code` _u_")
    assert "<" not in text and ">" not in text
    for escaped in ("\\*\\*bold\\*\\*", "\\[link\\]", "\\`code\\`", "\\_u\\_"):
        assert escaped in text


def test_a_refresh_rewrites_the_shown_map_in_place_and_a_column_change_recolours_it():
    """Test that a page's map gets a refresh's new values as data only, no new figure, and
    that choosing another column recolours and retitles that same figure."""
    provider = CountingProvider()
    tab = make_tab(provider, tiles="none")
    doc = Document()
    doc.add_root(tab.__panel__().get_root(doc))
    figures = {m.id for m in doc.models if isinstance(m, Plot)}
    events = []
    doc.on_change(events.append)
    provider.demo = DemoProvider(clock=lambda: 1_795_000_000 + 3 * 3600)  # other values
    tab.param.trigger("refresh")
    settle(tab)

    (points,) = [m for m in doc.models if isinstance(m, ColumnDataSource) and "value" in m.data]
    (mapper,) = [m for m in doc.models if isinstance(m, LinearColorMapper)]
    expected = tab.map_data()["value"].tolist()
    assert list(points.data["value"]) == pytest.approx(expected)
    assert (mapper.low, mapper.high) == pytest.approx((min(expected), max(expected)))
    assert {m.id for m in doc.models if isinstance(m, Plot)} == figures
    changed = {type(e.model) for e in events if hasattr(e, "model")}
    assert changed <= {ColumnDataSource, LinearColorMapper, DataTabulator, HTML}

    tab.column = "humidity"
    (bar,) = [m for m in doc.models if isinstance(m, ColorBar)]
    assert bar.title == "Humidity (%)"
    assert list(points.data["value"]) == pytest.approx(tab.map_data()["value"].tolist())
    assert {m.id for m in doc.models if isinstance(m, Plot)} == figures


def label_brightness(tab: RefreshTab) -> float:
    """How light the city names on the tab's map are, 0 (black) to 1 (white)."""
    _data, models = rendered_map(tab)
    (text,) = [m.glyph for m in models
               if isinstance(m, GlyphRenderer) and isinstance(m.glyph, Text)]
    red, green, blue = (int(text.text_color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_city_names_on_a_blank_map_are_dark_on_a_light_page_and_light_on_a_dark_one():
    """Test that without tiles the names take the text colour of the page's theme."""
    provider = CountingProvider()
    frame = rd.fetched_frame(CITIES, provider.current(CITIES), "demo")
    assert label_brightness(make_tab(provider, data=frame, tiles="none")) < 0.3
    with pn.config.set(theme="dark"):
        dark_tab = make_tab(provider, data=frame, tiles="none")
    assert label_brightness(dark_tab) > 0.7
