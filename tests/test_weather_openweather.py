"""Tests of the OpenWeather provider against the fake server: one row per city, whatever fails."""

from __future__ import annotations

import pytest

from testing.provider_server import ProviderServer
from weather import errors, weather_data
from weather.cities import CALIFORNIA_CITIES
from weather.http import HttpClient
from weather.models import Observation
from weather.providers import OpenWeatherProvider
from weather.providers.openweather import MAX_IN_FLIGHT

KEY = "SECRET-KEY-1234567890"
PATH = "/data/2.5/weather"
CITIES = list(CALIFORNIA_CITIES)

#: Short enough to keep the timeout tests quick, long enough that a normal answer on a
#: busy machine never trips it.
READ_TIMEOUT_S = 1.0


@pytest.fixture
def server():
    with ProviderServer(valid_keys={KEY}) as srv:
        yield srv


def make_provider(server, key=KEY, **kwargs):
    http = HttpClient(read_timeout_s=READ_TIMEOUT_S, connect_timeout_s=2, backoff_s=0.01)
    return OpenWeatherProvider(key, base_url=server.url, http=http, **kwargs)


def statuses(frame):
    return dict(zip(frame["city"], frame["status"], strict=True))


def test_every_city_arrives_in_request_order(server):
    """Test that seven cities give seven observations, in the order asked."""
    results = make_provider(server).current(CITIES)
    assert [r.city for r in results] == CITIES
    assert all(isinstance(r, Observation) for r in results)
    assert server.count(PATH) == len(CITIES)


def test_requests_are_concurrent(server):
    """Test that the cities are asked in parallel (the server sees several in flight)."""
    server.latency_s = 0.2
    make_provider(server).current(CITIES)
    assert server.max_in_flight > 1


def test_up_to_thirty_two_requests_are_in_flight_at_once(server):
    """Test that a long list is asked many cities at a time, and never more than the bound."""
    server.latency_s = 0.5
    cities = [f"City {i}" for i in range(40)]
    make_provider(server).current(cities)
    assert server.count(PATH) == 40
    assert 16 <= server.max_in_flight <= MAX_IN_FLIGHT == 32


def test_the_query_is_exactly_q_appid_units_metric(server):
    """Test that each request carries exactly q, appid and units=metric."""
    make_provider(server).current(["Fresno"])
    (record,) = server.requests
    assert record.path == PATH
    assert sorted(record.pairs) == [("appid", KEY), ("q", "Fresno"), ("units", "metric")]


ODD_NAMES = ["Washington, D.C.", "Tromsø", "Zürich", "Rock & Roll?", "Room #5",
             "a=b&units=imperial", "  Fresno  "]


def test_odd_city_names_arrive_intact_and_add_no_params(server):
    """Test that spaces, commas, accents, &, ? and # reach the server decoded and intact."""
    for name in ("Rock & Roll?", "Room #5", "a=b&units=imperial"):
        server.add_city(name, 10.0, 20.0)
    results = make_provider(server).current(ODD_NAMES)
    assert all(isinstance(r, Observation) for r in results), results
    seen = sorted(r.pairs for r in server.requests)
    expected = sorted((("q", n.strip()), ("appid", KEY), ("units", "metric"))
                      for n in ODD_NAMES)
    assert seen == expected


def test_unknown_city_is_not_found_and_others_are_fine(server):
    """Test that a 404 ({"cod": "404"}) marks that city "not found" only."""
    frame = weather_data(["Fresno", "Atlantis", "San Diego"], provider=make_provider(server))
    assert statuses(frame) == {"Fresno": "ok", "Atlantis": "not found", "San Diego": "ok"}
    assert "Atlantis" in frame.loc[1, "error"]


def test_empty_name_is_not_found_without_a_request(server):
    """Test that a blank city name is a "not found" row and costs no request."""
    frame = weather_data(["  ", "Fresno"], provider=make_provider(server))
    assert list(frame["status"]) == ["not found", "ok"]
    assert server.count(PATH) == 1


@pytest.mark.parametrize(("fault", "status"), [
    ("timeout", "timeout"), ("refuse", "unreachable"), ("500", "server error"),
    ("malformed", "bad answer"), ("missing_field", "bad answer"), ("wrong_type", "bad answer"),
    ("400", "bad request"),
])
def test_one_failing_city_does_not_stop_the_others(server, fault, status):
    """Test that a fault on one city shows in its row while every other city arrives."""
    server.set_fault(fault, city="Fresno")
    frame = weather_data(CITIES, provider=make_provider(server))
    expected = {c: ("ok" if c != "Fresno" else status) for c in CITIES}
    assert statuses(frame) == expected
    assert frame.loc[frame["city"] == "Fresno", "error"].item()


def test_unreachable_server_gives_a_row_per_city(server):
    """Test that a closed port makes every row "unreachable" rather than raising."""
    url = server.url
    server.stop()
    http = HttpClient(connect_timeout_s=0.5, retries=1, backoff_s=0.01)
    provider = OpenWeatherProvider(KEY, base_url=url, http=http)
    frame = weather_data(["Fresno", "San Diego"], provider=provider)
    assert list(frame["status"]) == ["unreachable", "unreachable"]


def test_rejected_key_raises_one_auth_error_without_retries(server):
    """Test that a 401 raises AuthError for the call and no city is asked twice."""
    server.latency_s = 0.05
    many = CITIES * 3
    provider = make_provider(server, key="WRONG-KEY", max_workers=4)
    with pytest.raises(errors.AuthError) as caught:
        provider.current(many)
    assert "OpenWeather API key was rejected" in str(caught.value)
    # The first answers stop the call: at most one round of requests, none repeated.
    assert 1 <= server.count(PATH) <= 4
    assert len({r.query["q"] for r in server.requests}) == server.count(PATH)


def test_rejected_key_propagates_out_of_weather_data(server):
    """Test that weather_data raises AuthError instead of a frame of failures."""
    with pytest.raises(errors.AuthError):
        weather_data(CITIES, provider=make_provider(server, key="WRONG-KEY"))


def test_rate_limit_raises_with_retry_after(server):
    """Test that a 429 raises RateLimitError carrying the Retry-After seconds."""
    server.set_fault("429", city="Sacramento", retry_after_s=42)
    with pytest.raises(errors.RateLimitError) as caught:
        weather_data(CITIES, provider=make_provider(server))
    assert caught.value.retry_after_s == 42


def test_5xx_twice_then_success_gives_ok_rows(server):
    """Test that a city whose first two answers are 503 still arrives."""
    server.set_fault("503", city="Fresno", times=2)
    frame = weather_data(["Fresno"], provider=make_provider(server))
    assert list(frame["status"]) == ["ok"]
    assert server.count(PATH) == 3


def test_repr_hides_the_key(server):
    """Test that the provider's repr shows where it asks, not with which key."""
    assert KEY not in repr(make_provider(server))
