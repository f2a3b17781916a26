"""Tests that imperial and metric agree, and that all three providers agree on the same data."""

from __future__ import annotations

import pytest

from testing.provider_server import ProviderServer
from weather import results_frame
from weather.cities import CALIFORNIA_CITIES
from weather.errors import ConfigError
from weather.http import HttpClient
from weather.providers import DemoProvider, OpenMeteoProvider, OpenWeatherProvider
from weather.providers.open_meteo_geocoder import clear_geocode_cache
from weather.units import c_to_f, check_units, convert_frame, convert_value, f_to_c, ms_to_mph

T = 1_795_616_400  # a frozen clock: every provider describes the same instant
KEY = "SECRET-KEY-1234567890"
CITIES = [*CALIFORNIA_CITIES, "Tromsø"]


@pytest.mark.parametrize(("celsius", "fahrenheit"), [(0, 32), (100, 212), (-40, -40),
                                                      (37, 98.6)])
def test_temperature_conversion(celsius, fahrenheit):
    """Test °C -> °F on fixed points, and back."""
    assert c_to_f(celsius) == pytest.approx(fahrenheit)
    assert f_to_c(fahrenheit) == pytest.approx(celsius)


def test_wind_conversion():
    """Test m/s -> mph: a mile is 1609.344 m."""
    assert ms_to_mph(0.44704) == pytest.approx(1.0)
    assert ms_to_mph(10) == pytest.approx(22.369363, abs=1e-6)
    assert convert_value("wind_speed", 10, "metric") == 10
    assert convert_value("humidity", 55, "imperial") == 55


def test_check_units_lists_accepted_values():
    """Test that an unknown unit system is a ConfigError naming both choices."""
    assert check_units(" Metric ") == "metric"
    with pytest.raises(ConfigError, match="imperial, metric"):
        check_units("kelvin")


@pytest.fixture
def frozen_server():
    clear_geocode_cache()
    with ProviderServer(clock=lambda: T, valid_keys={KEY}) as srv:
        yield srv
    clear_geocode_cache()


def providers(server):
    http = HttpClient(read_timeout_s=2, backoff_s=0.01)
    return [
        OpenWeatherProvider(KEY, base_url=server.url, http=http),
        OpenMeteoProvider(base_url=server.url, geocoding_base_url=server.url, http=http),
        DemoProvider(clock=lambda: T),
    ]


def test_imperial_is_the_conversion_of_metric_for_every_provider(frozen_server):
    """Test that each provider's imperial frame is its metric frame converted."""
    for provider in providers(frozen_server):
        results = provider.current(CITIES)
        metric = results_frame(CITIES, results, "metric", provider.name)
        imperial = results_frame(CITIES, results, "imperial", provider.name)
        assert imperial["temperature"].tolist() == pytest.approx(
            (metric["temperature"] * 9 / 5 + 32).tolist(), nan_ok=True)
        assert imperial["wind_speed"].tolist() == pytest.approx(
            (metric["wind_speed"] * 2.2369362920544).tolist(), nan_ok=True)
        assert imperial["humidity"].equals(metric["humidity"])
        assert convert_frame(metric, "imperial").equals(imperial)
        assert imperial.drop(columns=["temperature", "wind_speed"]).equals(
            metric.drop(columns=["temperature", "wind_speed"]))


@pytest.mark.parametrize("units", ["metric", "imperial"])
def test_all_providers_report_the_same_weather_in_the_same_units(frozen_server, units):
    """Test that the same underlying data gives the same numbers through every provider."""
    built_in = list(CALIFORNIA_CITIES)  # the demo provider knows only built-in cities
    ow, om, demo = (results_frame(built_in, p.current(built_in), units, p.name)
                    for p in providers(frozen_server))
    for frame in (ow, om, demo):
        assert frame["status"].eq("ok").all(), frame
    # OpenWeather rounds to 0.01 like the simulation; Open-Meteo to 0.1; humidity to 1 %.
    wind_tolerance = 0.051 * (2.237 if units == "imperial" else 1)
    temp_tolerance = 0.051 * (1.8 if units == "imperial" else 1)
    assert ow["temperature"].tolist() == pytest.approx(demo["temperature"].tolist(), abs=1e-9)
    assert ow["wind_speed"].tolist() == pytest.approx(demo["wind_speed"].tolist(), abs=1e-9)
    assert om["temperature"].tolist() == pytest.approx(demo["temperature"].tolist(),
                                                       abs=temp_tolerance)
    assert om["wind_speed"].tolist() == pytest.approx(demo["wind_speed"].tolist(),
                                                      abs=wind_tolerance)
    for frame in (ow, om):
        assert frame["humidity"].tolist() == pytest.approx(demo["humidity"].tolist(), abs=0.51)
    assert (ow["time"] == demo["time"]).all() and (om["time"] == demo["time"]).all()


def test_the_servers_own_units_match_our_conversion(frozen_server):
    """Test our °F and mph against the server's imperial/fahrenheit answers."""
    http = HttpClient()
    url = frozen_server.url
    ow = {u: http.get_json(f"{url}/data/2.5/weather",
                           {"q": "Fresno", "appid": KEY, "units": u}, service="t")
          for u in ("standard", "metric", "imperial")}
    assert ow["standard"]["main"]["temp"] == pytest.approx(ow["metric"]["main"]["temp"] + 273.15)
    assert ow["standard"]["wind"]["speed"] == ow["metric"]["wind"]["speed"]
    assert ow["imperial"]["main"]["temp"] == pytest.approx(
        c_to_f(ow["metric"]["main"]["temp"]), abs=0.006)
    assert ow["imperial"]["wind"]["speed"] == pytest.approx(
        ms_to_mph(ow["metric"]["wind"]["speed"]), abs=0.006)
    base = {"latitude": "36.7378", "longitude": "-119.7871",
            "current": "temperature_2m,wind_speed_10m"}
    om = {(t, w): http.get_json(f"{url}/v1/forecast",
                                {**base, "temperature_unit": t, "wind_speed_unit": w},
                                service="t")["current"]
          for t, w in (("celsius", "ms"), ("fahrenheit", "mph"), ("celsius", "kmh"),
                       ("celsius", "kn"))}
    metric = om["celsius", "ms"]
    assert om["fahrenheit", "mph"]["temperature_2m"] == pytest.approx(
        c_to_f(metric["temperature_2m"]), abs=0.1)
    assert om["fahrenheit", "mph"]["wind_speed_10m"] == pytest.approx(
        ms_to_mph(metric["wind_speed_10m"]), abs=0.15)
    assert om["celsius", "kmh"]["wind_speed_10m"] == pytest.approx(
        metric["wind_speed_10m"] * 3.6, abs=0.2)
    assert om["celsius", "kn"]["wind_speed_10m"] == pytest.approx(
        metric["wind_speed_10m"] * 1.94384, abs=0.1)
