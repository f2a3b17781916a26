"""The Refresh tab's forecast columns against the provider test server, both providers."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd
import pytest

from dashboards.server.forecast import ForecastPoll
from dashboards.server.forecast_store import ForecastStore
from dashboards.views.refresh import data as rd
from dashboards.views.refresh.tab import RefreshTab
from dashboards.views.settings import ViewerSettings
from testing.provider_server import ProviderServer
from testing.served import wait_until
from weather.cache import CachedProvider
from weather.http import HttpClient
from weather.providers import OpenMeteoProvider, OpenWeatherProvider
from weather.providers.base import Provider
from weather.providers.open_meteo_geocoder import clear_geocode_cache
from weather.units import convert_frame

KEY = "FORECAST-TEST-KEY-0123"
CITIES = ["San Francisco", "Fresno", "San Diego"]
IMG = "<img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class Kind:
    """How one provider is built and where its forecast is asked and faulted."""

    name: str
    make: Callable[[ProviderServer], Provider]
    fault_endpoint: str
    path: str
    #: Faults spoiling one location of a batch; others spoil the whole answer.
    per_city_faults: tuple[str, ...]


def _http() -> HttpClient:
    return HttpClient(read_timeout_s=2.0, connect_timeout_s=2, backoff_s=0.01, retries=0)


KINDS = {
    "open-meteo": Kind(
        "open-meteo",
        lambda s: OpenMeteoProvider(base_url=s.url, geocoding_base_url=s.url, http=_http()),
        "forecast_hourly", "/v1/forecast", ("missing_field", "wrong_type")),
    "openweather": Kind(
        "openweather", lambda s: OpenWeatherProvider(KEY, base_url=s.url, http=_http()),
        "openweather_forecast", "/data/2.5/forecast",
        ("missing_field", "wrong_type", "malformed", "404", "503")),
}


@pytest.fixture(params=list(KINDS))
def kind(request) -> Kind:
    return KINDS[request.param]


@pytest.fixture
def server() -> Iterator[ProviderServer]:
    clear_geocode_cache()
    with ProviderServer(valid_keys={KEY}) as srv:
        srv.add_city(IMG, 36.5, -119.5, "US")
        yield srv
    clear_geocode_cache()


def forecast_requests(server: ProviderServer, kind: Kind) -> list[dict[str, str]]:
    """The queries of every forecast request the server got (not current weather)."""
    return [r.query for r in server.requests
            if r.path == kind.path and (kind.name != "open-meteo" or "hourly" in r.query)]


def settle(tab: RefreshTab) -> RefreshTab:
    wait_until(lambda: not tab.busy, timeout_s=20, message="the fetch to finish")
    return tab


def expected_high_low(poll_frame: pd.DataFrame, city: str, column: str, units: str,
                      now_s: float) -> tuple[float, float]:
    """The extremes of ``city``'s points from now to 24 h later, read straight from rows."""
    rows = convert_frame(poll_frame[poll_frame["city"] == city], units)
    now = pd.Timestamp(now_s, unit="s", tz="UTC")
    values = [v for t, v in zip(rows["time"], rows[column], strict=True)
              if now <= t <= now + pd.Timedelta(hours=24)]
    return round(max(values), 1), round(min(values), 1)


@pytest.mark.parametrize("fault", ["missing_field", "malformed", "503", "429"])
def test_the_server_cities_take_the_shared_poll_and_a_faulted_city_says_why(
        server, kind, fault, caplog):
    """Test that the server's cities get their high and low from the shared poll (the tab asks
    the provider for no forecast), and that a city the faulted forecast left out has empty
    cells, its current weather, and a plain-text line naming it and the reason."""
    provider = kind.make(server)
    poll = ForecastPoll(provider, CITIES, ForecastStore(":memory:"))
    server.set_fault(fault, city="Fresno", endpoint=kind.fault_endpoint)
    with caplog.at_level(logging.WARNING):
        poll.poll_now()
    server.clear_faults()
    current = rd.fetched_frame(CITIES, provider.current(CITIES), provider.name)
    asked = len(forecast_requests(server, kind))

    tab = settle(RefreshTab(provider=CachedProvider(provider), cities=CITIES, data=current,
                            forecast=poll, settings=ViewerSettings(units="imperial")))
    tab.param.trigger("refresh")
    settle(tab)
    assert len(forecast_requests(server, kind)) == asked  # all from the shared poll

    # A 429 concerns the account: the whole poll fails. Other faults spoil Fresno's answer
    # alone where the provider answers per city.
    per_city = fault in kind.per_city_faults
    missing = {"Fresno"} if per_city else set(CITIES)
    now_s = time.time()
    table = tab.table_data(now_s).set_index("city")
    for city in CITIES:
        row = table.loc[city]
        assert row["status"] == "ok" and not math.isnan(row["temperature"])
        if city in missing:
            assert math.isnan(row["high"]) and math.isnan(row["low"])
        else:
            assert (row["high"], row["low"]) == expected_high_low(
                poll.frame(), city, "temperature", "imperial", now_s)
    lines = tab.forecast_problems(now_s)
    assert [line.split(" (")[0] for line in lines] == [
        f"No forecast for {c}" for c in CITIES if c in missing]
    # A city's own failure gives its short reason; a failed poll its message.
    reason = {"429": "the forecast poll failed: ", "503": "(server error)"}.get(
        fault, "(bad answer)")
    assert all(reason in line for line in lines), lines
    if fault == "429":
        assert all("rate limit" in line for line in lines)
    assert tab.view.forecast_message.visible
    for city in missing:
        assert f"No forecast for {city} (" in tab.view.forecast_message.object
    assert tab.view.table.value["high"].isna().sum() == len(missing)


def test_switching_column_and_units_redraws_high_low_and_titles(server, kind):
    """Test that the high/low follow the chosen column and the viewer's units, headers too,
    without asking the provider."""
    provider = kind.make(server)
    poll = ForecastPoll(provider, CITIES, ForecastStore(":memory:"))
    poll.poll_now()
    current = rd.fetched_frame(CITIES, provider.current(CITIES), provider.name)
    tab = settle(RefreshTab(provider=provider, cities=CITIES, data=current, forecast=poll))
    asked = len(server.requests)
    for column in ("wind_speed", "humidity", "temperature"):
        for units in ("metric", "imperial"):
            tab.settings.units = units
            tab.column = column
            now_s = time.time()
            shown = tab.view.table.value.set_index("city")
            assert shown.loc["San Diego", "high"] == expected_high_low(
                poll.frame(), "San Diego", column, units, now_s)[0]
            table = tab.view.table
            assert (table.titles["high"], table.titles["low"]) == ("High", "Low")
            # The header over both names the quantity and its unit.
            (header,) = table.groups
            assert table.groups[header] == ["high", "low"]
            assert header == "Next 24 h " + {
                "temperature": {"metric": "temp (°C)", "imperial": "temp (°F)"},
                "wind_speed": {"metric": "wind (m/s)", "imperial": "wind (mph)"},
                "humidity": {"metric": "humidity (%)", "imperial": "humidity (%)"}}[column][units]
            assert table.css_classes == [f"by-{column}"]
    assert len(server.requests) == asked


def test_a_city_the_viewer_adds_gets_its_forecast_from_that_viewers_refresh(server, kind):
    """Test that an added city's forecast is asked of the provider, for that city only, when
    it is added and with each Refresh; a 429 on the forecast leaves its cells empty with a
    line saying so (the name shown as text) while its current weather shows, and the next
    Refresh fills them."""
    provider = kind.make(server)
    poll = ForecastPoll(provider, CITIES, ForecastStore(":memory:"))
    poll.poll_now()
    current = rd.fetched_frame(CITIES, provider.current(CITIES), provider.name)
    # No forecast cache here, so each Refresh is seen at the server.
    tab = settle(RefreshTab(provider=CachedProvider(provider, forecast_ttl_s=0), cities=CITIES,
                            data=current, forecast=poll))
    before = len(forecast_requests(server, kind))

    server.set_fault("429", city=IMG, endpoint=kind.fault_endpoint)
    tab.view.city_input.value = IMG
    tab.view.add_button.clicks += 1
    settle(tab)
    assert tab.cities == [*CITIES, IMG]
    row = tab.table_data().set_index("city").loc[IMG]
    assert row["status"] == "ok" and not math.isnan(row["temperature"])
    assert math.isnan(row["high"]) and math.isnan(row["low"])
    assert tab.forecast_problems() == [f"No forecast for {IMG} (rate limited)."]
    shown = tab.view.forecast_message.object
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown and "<img" not in shown
    assert len(forecast_requests(server, kind)) == before + 1

    server.clear_faults()
    tab.param.trigger("refresh")
    settle(tab)
    queries = forecast_requests(server, kind)
    assert len(queries) == before + 2  # the added city only: the others are the poll's
    if kind.name == "openweather":
        assert queries[-1]["q"] == IMG
    else:
        assert float(queries[-1]["latitude"]) == 36.5
    row = tab.table_data().set_index("city").loc[IMG]
    assert not math.isnan(row["high"]) and row["high"] >= row["low"]
    assert tab.forecast_problems() == []
    assert not tab.view.forecast_message.visible

    # A later failure keeps the forecast it had, and says it is an older one.
    server.set_fault("503" if kind.name == "openweather" else "missing_field", city=IMG,
                     endpoint=kind.fault_endpoint)
    tab.param.trigger("refresh")
    settle(tab)
    assert not math.isnan(tab.table_data().set_index("city").loc[IMG, "high"])
    (line,) = tab.forecast_problems()
    assert line.startswith(f"Forecast for {IMG} not updated (")


def test_without_a_shared_poll_every_city_is_asked_with_the_refresh(server, kind):
    """Test that a tab with no shared poll (a notebook) asks the forecast of all its cities
    with its Refresh, and fills every row."""
    provider = kind.make(server)
    tab = RefreshTab(provider=provider, cities=CITIES)
    tab.param.trigger("refresh")
    settle(tab)
    table = tab.table_data()
    assert table["high"].notna().all() and (table["high"] >= table["low"]).all()
    assert len(forecast_requests(server, kind)) == (1 if kind.name == "open-meteo" else 3)
