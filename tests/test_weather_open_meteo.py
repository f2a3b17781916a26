"""Tests of the Open-Meteo provider against the fake server: one request, geocoding, errors."""

from __future__ import annotations

import pytest

from testing.provider_server import ProviderServer
from weather import errors, weather_data
from weather.cities import CALIFORNIA_CITIES, City
from weather.http import HttpClient
from weather.models import Observation
from weather.providers import OpenMeteoProvider
from weather.providers.open_meteo_geocoder import clear_geocode_cache

FORECAST, SEARCH = "/v1/forecast", "/v1/search"
CITIES = list(CALIFORNIA_CITIES)

#: Short enough to keep the timeout tests quick, long enough that a normal answer on a
#: busy machine never trips it.
READ_TIMEOUT_S = 1.0


@pytest.fixture
def server():
    clear_geocode_cache()
    with ProviderServer() as srv:
        yield srv
    clear_geocode_cache()


def make_provider(server):
    http = HttpClient(read_timeout_s=READ_TIMEOUT_S, connect_timeout_s=2, backoff_s=0.01)
    return OpenMeteoProvider(base_url=server.url, geocoding_base_url=server.url, http=http)


def statuses(frame):
    return dict(zip(frame["city"], frame["status"], strict=True))


def test_all_cities_in_one_request_with_the_documented_query(server):
    """Test that seven known cities cost one forecast request with every location in it."""
    results = make_provider(server).current(CITIES)
    assert [r.city for r in results] == CITIES
    assert all(isinstance(r, Observation) for r in results)
    assert server.count() == 1
    query = server.requests[0].query
    assert set(query) == {"latitude", "longitude", "current", "wind_speed_unit", "timeformat"}
    assert query["current"] == "temperature_2m,relative_humidity_2m,wind_speed_10m"
    assert (query["wind_speed_unit"], query["timeformat"]) == ("ms", "unixtime")
    assert len(query["latitude"].split(",")) == len(query["longitude"].split(",")) == 7


def test_one_city_is_an_object_answer(server):
    """Test that a single location (answered with an object, not an array) parses."""
    (obs,) = make_provider(server).current(["Fresno"])
    assert isinstance(obs, Observation) and obs.city == "Fresno"
    assert isinstance(obs.raw["current"], dict)


def test_unknown_names_are_geocoded_once_and_cached(server):
    """Test that names outside the table are geocoded (accents intact), then cached."""
    provider = make_provider(server)
    names = ["Tromsø", "Fresno", "Washington, D.C."]
    results = provider.current(names)
    assert all(isinstance(r, Observation) for r in results), results
    assert results[0].lat == pytest.approx(69.6492)
    searches = sorted(r.pairs for r in server.requests if r.path == SEARCH)
    assert searches == sorted((("name", n), ("count", "1"), ("language", "en"),
                               ("format", "json")) for n in ("Tromsø", "Washington, D.C."))
    provider.current(names)
    assert server.count(SEARCH) == 2
    assert server.count(FORECAST) == 2


def test_geocoder_unknown_city_is_not_found_and_others_are_fine(server):
    """Test that a name the geocoder lacks (results absent) is "not found" for that row only."""
    frame = weather_data(["Fresno", "Atlantis", "Tromsø"], provider=make_provider(server))
    assert statuses(frame) == {"Fresno": "ok", "Atlantis": "not found", "Tromsø": "ok"}


@pytest.mark.parametrize(("fault", "status"), [
    ("timeout", "timeout"), ("500", "server error"), ("wrong_type", "bad answer"),
    ("missing_field", "bad answer"), ("malformed", "bad answer"),
])
def test_a_geocoding_failure_affects_only_that_city(server, fault, status):
    """Test that a failed geocoding of one name leaves the other cities' rows intact."""
    server.set_fault(fault, city="Tromsø", endpoint="geocoding")
    frame = weather_data(["Fresno", "Tromsø", "San Diego"], provider=make_provider(server))
    assert statuses(frame) == {"Fresno": "ok", "Tromsø": status, "San Diego": "ok"}


@pytest.mark.parametrize("fault", ["missing_field", "wrong_type"])
def test_a_bad_location_in_the_array_affects_only_that_city(server, fault):
    """Test that one spoilt location of the array is "bad answer" for its city only."""
    server.set_fault(fault, city="Fresno", endpoint="forecast")
    frame = weather_data(CITIES, provider=make_provider(server))
    assert statuses(frame) == {c: ("bad answer" if c == "Fresno" else "ok") for c in CITIES}


@pytest.mark.parametrize(("fault", "status"), [
    ("timeout", "timeout"), ("refuse", "unreachable"), ("503", "server error"),
    ("malformed", "bad answer"),
])
def test_a_failed_forecast_request_marks_every_city_of_it(server, fault, status):
    """Test that when the one forecast request fails, each city's row says why."""
    server.set_fault(fault, endpoint="forecast")
    frame = weather_data(["Fresno", "San Diego", "Atlantis"], provider=make_provider(server))
    assert list(frame["status"]) == [status, status, "not found"]
    assert frame.loc[0, "error"]


def test_the_providers_400_reason_is_surfaced(server):
    """Test that Open-Meteo's 400 reason reaches the caller unchanged."""
    (result,) = make_provider(server).current_at([City("Nowhere", 95.0, 0.0)])
    assert isinstance(result, errors.BadRequestError)
    assert result.reason == "Latitude must be in range of -90 to 90°. Given: 95.0."
    assert result.city == "Nowhere"


def test_a_400_in_the_frame(server):
    """Test that a 400 shows as "bad request" with the reason in the error column."""
    server.set_fault("400", endpoint="forecast")
    frame = weather_data(["Fresno"], provider=make_provider(server))
    assert frame.loc[0, "status"] == "bad request"
    assert "temperature_3m" in frame.loc[0, "error"]


def test_rate_limit_raises(server):
    """Test that a 429 from the forecast raises RateLimitError with Retry-After."""
    server.set_fault("429", retry_after_s=60, endpoint="forecast")
    with pytest.raises(errors.RateLimitError) as caught:
        make_provider(server).current(CITIES)
    assert caught.value.retry_after_s == 60


def test_fail_twice_then_succeed(server):
    """Test that two 500s on the forecast are retried away."""
    server.set_fault("500", times=2, endpoint="forecast")
    results = make_provider(server).current(["Fresno", "Tromsø"])
    assert all(isinstance(r, Observation) for r in results)
    assert server.count(FORECAST) == 3


def test_empty_name_is_not_found_without_a_request(server):
    """Test that a blank name is a "not found" row and asks nobody."""
    frame = weather_data([""], provider=make_provider(server))
    assert list(frame["status"]) == ["not found"]
    assert server.count() == 0
