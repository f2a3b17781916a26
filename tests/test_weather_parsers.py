"""Tests of the pure parsers, fed with provider answers stored in tests/fixtures."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from weather.cities import City
from weather.errors import NotFoundError, ParseError
from weather.providers.open_meteo import parse_location
from weather.providers.open_meteo_geocoder import parse_search
from weather.providers.openweather import parse_current

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_openweather_parse_current_reads_metric_values_and_keeps_raw():
    """Test that an OpenWeather answer becomes an Observation with its time in UTC."""
    payload = load("openweather_current.json")
    obs = parse_current("San Francisco", payload)
    assert (obs.city, obs.lat, obs.lon) == ("San Francisco", 37.7749, -122.4194)
    assert obs.time == datetime.fromtimestamp(1795616400, tz=UTC)
    assert obs.time.tzinfo is not None and obs.time.utcoffset().total_seconds() == 0
    assert (obs.temperature_c, obs.humidity_pct, obs.wind_speed_ms) == (14.62, 72.0, 5.66)
    assert obs.provider == "openweather"
    assert obs.raw == payload


def test_openweather_parse_accepts_integers_and_optional_blocks():
    """Test that integer values and the optional rain block are fine."""
    obs = parse_current("London", load("openweather_current_rain.json"))
    assert (obs.temperature_c, obs.humidity_pct, obs.wind_speed_ms) == (7.0, 93.0, 4.0)
    assert isinstance(obs.temperature_c, float)


@pytest.mark.parametrize(("path", "value"), [
    (("main", "temp"), None), (("main", "humidity"), None), (("wind", "speed"), None),
    (("coord", "lat"), None), (("dt",), None), (("main",), None),
    (("main", "temp"), "hot"), (("main", "temp"), True), (("wind", "speed"), [3]),
    (("main", "humidity"), None), (("dt",), "yesterday"), (("main",), "warm"),
])
def test_openweather_parse_refuses_missing_or_mistyped_fields(path, value):
    """Test that a missing field or a value of the wrong type is a ParseError for that city."""
    payload = copy.deepcopy(load("openweather_current.json"))
    target = payload
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    with pytest.raises(ParseError) as caught:
        parse_current("San Francisco", payload)
    assert caught.value.city == "San Francisco"
    assert caught.value.status == "bad answer"
    assert path[-1] in str(caught.value) or "number" in str(caught.value)


@pytest.mark.parametrize("payload", [None, [], "ok", 42])
def test_openweather_parse_refuses_non_objects(payload):
    """Test that an answer that is not an object is a ParseError."""
    with pytest.raises(ParseError):
        parse_current("Paris", payload)


SF = City("San Francisco", 37.7749, -122.4194, "US")
FRESNO = City("Fresno", 36.7378, -119.7871, "US")


def test_open_meteo_parse_one_location_uses_the_requested_coordinates():
    """Test that one Open-Meteo location parses, with unix time, keeping the city's point."""
    payload = load("open_meteo_one.json")
    obs = parse_location(SF, payload)
    assert (obs.city, obs.lat, obs.lon) == ("San Francisco", SF.lat, SF.lon)
    assert obs.time == datetime.fromtimestamp(1795616100, tz=UTC)
    assert (obs.temperature_c, obs.humidity_pct, obs.wind_speed_ms) == (14.3, 74.0, 5.2)
    assert obs.provider == "open-meteo"
    assert obs.raw["latitude"] == 37.763283


def test_open_meteo_parse_each_item_of_an_array():
    """Test that the array answer for several locations parses item by item, in order."""
    first, second = load("open_meteo_many.json")
    assert parse_location(SF, first).temperature_c == 14.3
    assert parse_location(FRESNO, second).temperature_c == 17.8


def test_open_meteo_parse_iso8601_time_is_local_to_the_answer():
    """Test that an ISO time without offset is read in the answer's zone and made UTC."""
    obs = parse_location(City("Berlin", 52.52, 13.405), load("open_meteo_iso8601.json"))
    assert obs.time == datetime(2026, 11, 25, 14, 15, tzinfo=UTC)


@pytest.mark.parametrize(("field", "value"), [
    ("temperature_2m", None), ("relative_humidity_2m", None), ("wind_speed_10m", None),
    ("time", None), ("temperature_2m", "hot"), ("wind_speed_10m", False),
    ("time", "soon"), ("time", True),
])
def test_open_meteo_parse_refuses_missing_or_mistyped_fields(field, value):
    """Test that a missing or mistyped current value is a ParseError for that city."""
    payload = copy.deepcopy(load("open_meteo_one.json"))
    if value is None:
        del payload["current"][field]
    else:
        payload["current"][field] = value
    with pytest.raises(ParseError) as caught:
        parse_location(SF, payload)
    assert caught.value.city == "San Francisco"


def test_open_meteo_parse_refuses_an_answer_without_current():
    """Test that a location without ``current`` is a ParseError."""
    payload = load("open_meteo_one.json")
    del payload["current"]
    with pytest.raises(ParseError):
        parse_location(SF, payload)


def test_geocoding_parse_takes_the_first_result():
    """Test that the geocoder's first result gives the coordinates and country."""
    place = parse_search("tromso", load("geocoding_found.json"))
    assert place == City("tromso", 69.6489, 18.95508, "NO")


def test_geocoding_parse_absent_results_is_not_found():
    """Test that an answer without ``results`` (nothing matched) is NotFoundError."""
    with pytest.raises(NotFoundError) as caught:
        parse_search("Atlantis", load("geocoding_none.json"))
    assert caught.value.status == "not found"


@pytest.mark.parametrize("latitude", ["north", None, True, 95.0])
def test_geocoding_parse_refuses_bad_coordinates(latitude):
    """Test that a missing, mistyped or out-of-range latitude is a ParseError."""
    payload = load("geocoding_found.json")
    if latitude is None:
        del payload["results"][0]["latitude"]
    else:
        payload["results"][0]["latitude"] = latitude
    with pytest.raises(ParseError):
        parse_search("Tromsø", payload)
