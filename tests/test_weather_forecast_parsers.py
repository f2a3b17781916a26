"""Tests of the pure forecast parsers, fed with provider answers stored in tests/fixtures."""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from weather.cities import City
from weather.errors import ConfigError, ParseError
from weather.models import Forecast
from weather.providers.base import check_hours, forecast_window
from weather.providers.open_meteo import forecast_days, parse_location_forecast
from weather.providers.open_meteo_hourly import parse_hourly
from weather.providers.openweather import forecast_steps, parse_forecast

FIXTURES = Path(__file__).parent / "fixtures"
SF = City("San Francisco", 37.7749, -122.4194, "US")
MIDNIGHT = datetime(2026, 12, 2, tzinfo=UTC)


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_hourly_arrays_become_points_in_order_with_nulls_as_nan():
    """Test that Open-Meteo's parallel arrays give one point per hour, a null hour as NaN."""
    payload = load("open_meteo_hourly.json")
    points = parse_hourly(payload, "San Francisco")
    hourly = payload["hourly"]
    assert [p.time for p in points] == [MIDNIGHT + timedelta(hours=h) for h in range(6)]
    assert [p.humidity_pct for p in points] == [float(v) for v in hourly["relative_humidity_2m"]]
    assert points[0].temperature_c == hourly["temperature_2m"][0]
    assert points[0].wind_speed_ms == hourly["wind_speed_10m"][0]
    assert math.isnan(points[4].temperature_c) and math.isnan(points[4].wind_speed_ms)
    assert points[4].humidity_pct == hourly["relative_humidity_2m"][4]


def test_hourly_iso8601_times_are_local_to_the_answer():
    """Test that ISO hours without offset are read in the answer's zone and made UTC."""
    points = parse_hourly(load("open_meteo_hourly_iso8601.json"), "Berlin")
    assert [p.time for p in points] == [MIDNIGHT - timedelta(hours=1) + timedelta(hours=h)
                                        for h in range(3)]


@pytest.mark.parametrize(("change", "words"), [
    (lambda h: h.pop("temperature_2m"), "hourly.temperature_2m"),
    (lambda h: h["wind_speed_10m"].pop(), "hourly.wind_speed_10m"),
    (lambda h: h.__setitem__("relative_humidity_2m", "many"), "hourly.relative_humidity_2m"),
    (lambda h: h["temperature_2m"].__setitem__(0, "hot"), "str"),
    (lambda h: h["temperature_2m"].__setitem__(1, True), "bool"),
    (lambda h: h.pop("time"), "hourly.time"),
    (lambda h: h["time"].__setitem__(2, "soon"), "not a time"),
])
def test_hourly_refuses_missing_mistyped_or_ragged_arrays(change, words):
    """Test that a missing array, one of another length or a bad value is a ParseError."""
    payload = copy.deepcopy(load("open_meteo_hourly.json"))
    change(payload["hourly"])
    with pytest.raises(ParseError) as caught:
        parse_hourly(payload, "San Francisco")
    assert caught.value.city == "San Francisco" and caught.value.status == "bad answer"
    assert words in str(caught.value)


@pytest.mark.parametrize("payload", [None, [], {"latitude": 1.0}, {"hourly": [1, 2]}])
def test_hourly_refuses_an_answer_without_hourly_values(payload):
    """Test that an answer without an ``hourly`` object is a ParseError."""
    with pytest.raises(ParseError, match="no hourly values"):
        parse_hourly(payload, "Fresno")


def test_open_meteo_location_forecast_keeps_the_requested_point_and_raw():
    """Test that a location's forecast carries the city's own coordinates and the answer."""
    payload = load("open_meteo_hourly.json")
    forecast = parse_location_forecast(SF, payload)
    assert (forecast.city, forecast.lat, forecast.lon) == (SF.name, SF.lat, SF.lon)
    assert forecast.provider == "open-meteo" and len(forecast.points) == 6
    assert forecast.raw["latitude"] == payload["latitude"] != SF.lat


def test_openweather_forecast_reads_steps_and_city_with_a_string_cod():
    """Test that a 5-day answer (``cod`` the string "200") gives its steps in UTC."""
    payload = load("openweather_forecast.json")
    assert payload["cod"] == "200"
    forecast = parse_forecast("San Francisco", payload)
    steps = payload["list"]
    assert (forecast.lat, forecast.lon) == (payload["city"]["coord"]["lat"],
                                            payload["city"]["coord"]["lon"])
    assert [p.time for p in forecast.points] == [
        datetime.fromtimestamp(s["dt"], tz=UTC) for s in steps]
    assert [p.temperature_c for p in forecast.points] == [s["main"]["temp"] for s in steps]
    assert [p.humidity_pct for p in forecast.points] == [s["main"]["humidity"] for s in steps]
    assert [p.wind_speed_ms for p in forecast.points] == [s["wind"]["speed"] for s in steps]
    assert forecast.provider == "openweather" and forecast.raw == payload


def test_openweather_forecast_steps_out_of_order_are_sorted():
    """Test that the points come out in time order whatever the list's order."""
    payload = load("openweather_forecast.json")
    payload["list"].reverse()
    times = [p.time for p in parse_forecast("San Francisco", payload).points]
    assert times == sorted(times) and len(times) == 4


@pytest.mark.parametrize("change", [
    lambda b: b.pop("list"),
    lambda b: b.__setitem__("list", {"0": {}}),
    lambda b: b["list"][2]["main"].pop("temp"),
    lambda b: b["list"][0]["wind"].__setitem__("speed", "breezy"),
    lambda b: b["list"][1].pop("dt"),
    lambda b: b["city"].pop("coord"),
])
def test_openweather_forecast_refuses_missing_or_mistyped_fields(change):
    """Test that a broken step or a missing city block is a ParseError for that city."""
    payload = copy.deepcopy(load("openweather_forecast.json"))
    change(payload)
    with pytest.raises(ParseError) as caught:
        parse_forecast("San Francisco", payload)
    assert caught.value.city == "San Francisco"


@pytest.mark.parametrize("payload", [None, [], "ok"])
def test_openweather_forecast_refuses_non_objects(payload):
    """Test that a forecast answer that is not an object is a ParseError."""
    with pytest.raises(ParseError):
        parse_forecast("Paris", payload)


@pytest.mark.parametrize(("hours", "days", "steps"), [
    (1, 2, 2), (24, 2, 9), (48, 3, 17), (49, 4, 18), (120, 6, 40), (360, 16, 40)])
def test_days_and_steps_asked_cover_the_hours_wanted(hours, days, steps):
    """Test that forecast_days (from 00:00 today) and cnt (3-hour steps) reach ``hours``."""
    assert forecast_days(hours) == days
    assert forecast_steps(hours) == steps
    # The latest moment of a day still has its hours covered, up to Open-Meteo's 16 days.
    assert days * 24 >= 24 + hours or days == 16


@pytest.mark.parametrize("hours", [0, -1, 361, 2.5, "48", True])
def test_hours_out_of_range_are_refused(hours):
    """Test that hours must be a whole number from 1 to 360."""
    with pytest.raises(ConfigError, match="hours"):
        check_hours(hours)


def test_window_starts_at_the_hour_and_between_keeps_its_points():
    """Test that the window runs from the current hour to ``hours`` on, both ends kept."""
    now = MIDNIGHT + timedelta(hours=2, minutes=30)
    start, end = forecast_window(now.timestamp(), 3)
    assert (start, end) == (MIDNIGHT + timedelta(hours=2), now + timedelta(hours=3))
    forecast = parse_location_forecast(SF, load("open_meteo_hourly.json"))
    kept = forecast.between(start, end)
    assert isinstance(kept, Forecast)
    assert [p.time.hour for p in kept.points] == [2, 3, 4, 5]
